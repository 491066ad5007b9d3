"""docs/make_findings.py: the section on what the data since 2023 changed, read back against the run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import overhang_jax as oj

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def make_findings():
    spec = importlib.util.spec_from_file_location("make_findings", ROOT / "docs" / "make_findings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_findings_show_prior_and_posterior_with_ess_and_khat(make_findings, tmp_path):
    results = oj.run("trajectory", observe="frontier_compute_2023_2025", draws=4000, seed=3, progress=False,
                     out=tmp_path / make_findings.RUNS["observed"])
    page = make_findings.findings(tmp_path)
    section = page.split("## What the data since 2023 changed", 1)[1].split("\n## ", 1)[0]
    assert f"effective sample size {float(results.attrs['posterior_ess']):,.0f} of 4,000 draws" in section
    assert f"Pareto k-hat {float(results.attrs['posterior_pareto_khat']):.2f}" in section
    # Each headline output's row: the prior median computed here from the draws, the posterior median from
    # the resample, both printed by the package's one rule.
    posterior = results["posterior_predictive"]
    for name in ("tai_year_default", "tai_delay"):
        units = results["prior_predictive"][name].attrs["units"]
        row = next(line for line in section.splitlines() if line.startswith(f"| `{name}` |"))
        for data, cell in ((results["prior_predictive"], 3), (posterior, 4)):
            values = np.asarray(data[name].values, np.float64).ravel()
            median = np.quantile(values[~np.isnan(values)], 0.5, method="inverted_cdf")
            assert row.split(" | ")[cell - 1].startswith(oj.format_number(median, units) + " ["), row
