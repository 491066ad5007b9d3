"""The HTML report (opened in a real browser), the comparison's plain sentences, and CSV summaries."""

import io
import os
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import overhang_jax as oj
from overhang_jax._cli import main

import browser


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A run, a comparison and a sensitivity file, small, written by the command line."""
    directory = tmp_path_factory.mktemp("report")
    paths = {"run": directory / "takeoff.nc", "comparison": directory / "cmp.nc",
             "sensitivity": directory / "sens.nc"}
    commands = [
        ["run", "takeoff", "--draws", "3000", "--seed", "4", "--out", str(paths["run"]), "--no-plots"],
        ["compare", "takeoff_baseline", "takeoff_software_pause", "--draws", "3000", "--seed", "2", "--out",
         str(paths["comparison"]), "--no-plots"],
        ["sensitivity", "takeoff", "--output", "max_speed", "--base-samples", "64", "--bootstrap", "20",
         "--out", str(paths["sensitivity"]), "--no-plots"],
    ]
    for command in commands:
        assert main(command) == 0, command
    return paths


@pytest.fixture(scope="module")
def report(files):
    out = files["run"].parent / "report.html"
    assert main(["report", *(str(p) for p in files.values()), "--out", str(out)]) == 0
    return out


def test_report_holds_provenance_priors_tables_and_sentences(files, report):
    page = report.read_text(encoding="utf-8")
    run = oj.load(files["run"])
    comparison = oj.load(files["comparison"])
    # Provenance and the full priors of the run, as run.
    assert "3,000" in page and "float32" in page and f"overhang_jax {oj.__version__}" in page
    priors_line = next(line for line in run.attrs["priors_toml"].splitlines() if line.startswith("c0 "))
    assert priors_line.replace('"', "&quot;") in page
    # The summary table with units, and each output's median as the summary computes it.
    table = oj.summary(run)
    for name in ("takeoff_year", "max_speed"):
        assert f"<td>{name}</td><td>{table.loc[name, 'units']}</td><td>{table.loc[name, 'mean']:.5g}</td>" in page
    # The comparison's sentences, computed from it, and its paired table.
    for sentence in oj.comparison_findings(comparison):
        assert sentence.replace("'", "&#x27;") in page
    assert "p_b_worse" in page and "takeoff_software_pause (B) against takeoff_baseline (A)" in page
    assert "what drives max_speed" in page
    # Self-contained: a policy that forbids outside requests, no outside address anywhere.
    from overhang_jax._report import CSP

    assert f'http-equiv="Content-Security-Policy" content="{CSP}"' in page and "default-src 'none'" in CSP
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("<img ") >= 5 and page.count('src="data:image/png;base64,') == page.count("<img ")


def test_report_command_prints_the_path_and_refuses_bad_files(files, tmp_path, capsys):
    out = tmp_path / "r.html"
    code, stdout, _ = run_cli(capsys, "report", str(files["run"]), "--out", str(out))
    assert code == 0 and stdout.strip() == f"wrote {out.resolve()}"
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    code, _, stderr = run_cli(capsys, "report", str(junk), "--out", str(out))
    assert code == 2 and stderr.count("\n") == 1 and "not an overhang-jax results file" in stderr


def browser_or_skip():
    if browser.chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (Debian package `chromium`); CI installs it and runs this test")


def test_report_opens_in_a_browser_with_every_image_and_no_outside_request(report, tmp_path):
    browser_or_skip()
    screenshot = tmp_path / "report.png"
    seen = browser.open_page(report, tmp_path / "profile", screenshot)
    assert len(seen["images"]) == report.read_text(encoding="utf-8").count("<img ") >= 5
    assert all(complete and width > 0 for _, complete, width in seen["images"]), seen["images"]
    page = report.resolve().as_uri()
    assert [url for url in seen["requests"] if url != page and not url.startswith("data:")] == []
    assert seen["console"] == []
    assert all(link.startswith(("data:", "#")) for link in seen["links"]), seen["links"]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 50_000


def test_the_browser_check_sees_outside_requests_and_broken_images(tmp_path):
    # The same checks on a page that breaks both rules must fail: they can tell.
    browser_or_skip()
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                   '<img src="data:image/png;base64,AAAA"></body></html>')
    seen = browser.open_page(bad, tmp_path / "profile")
    assert "http://127.0.0.1:9/x.png" in seen["requests"]
    assert [width for _, _, width in seen["images"]] == [0, 0]


def comparison_of(differences: dict[str, np.ndarray], worse: dict[str, str], units: dict[str, str]):
    """A comparison DataTree holding only the given differences (what the sentences read)."""
    variables = {name: xr.Variable(("chain", "draw"), values[None, :], {"worse": worse.get(name, ""),
                                                                         "units": units[name]})
                 for name, values in differences.items()}
    return xr.DataTree.from_dict({"/": xr.Dataset(attrs={"kind": "comparison"}),
                                  "prior_predictive": xr.Dataset(variables)})


def test_comparison_sentences_count_and_measure_each_side():
    # 20 draws: 3 earlier TAI (by 0.5, 1.9 and 0.2 years), 12 later (by 1..12), 5 the same.
    delay = np.concatenate([[-0.5, -1.9, -0.2], np.arange(1.0, 13.0), np.zeros(5)])
    overhang = np.full(20, 2.0)
    same = np.zeros(20)
    sentences = oj.comparison_findings(comparison_of(
        {"tai_delay": delay, "overhang_at_end": overhang, "tai_year_default": same},
        {"tai_delay": "lower", "overhang_at_end": "higher", "tai_year_default": "lower"},
        {"tai_delay": "yr", "overhang_at_end": "OOM", "tai_year_default": "yr"}),
        names=["tai_delay", "overhang_at_end", "tai_year_default"])
    assert sentences[0] == ("Compared with A, B brings TAI earlier (a backfire) in 15.0% of draws, by up to "
                            "1.9 years (median 0.5 years); it delays TAI in 60.0% of draws, by up to 12 years "
                            "(median 6.5 years); it changes nothing in 25.0%.")
    assert sentences[1] == ("Compared with A, B leaves a bigger overhang when the cap ends in 100% of draws, by up "
                            "to 2 OOM (median 2 OOM).")
    assert sentences[2] == "B and A give the same tai_year_default in every draw."


def test_comparison_sentences_without_a_direction_and_with_nonfinite_draws():
    speed = np.array([1.0, 2.0, -1.0, np.nan, 0.0])
    (sentence,) = oj.comparison_findings(comparison_of({"max_speed": speed}, {}, {"max_speed": "OOM/yr"}))
    assert sentence == ("Max speed is higher with B than with A in 50.0% of draws and lower in 25.0%; the median "
                        "change is 0.5 OOM/yr. (1 draws without a finite difference are left out.)")


def test_summary_csv_matches_the_summary(files, tmp_path, capsys):
    for kind, table_of in (("run", oj.summary), ("comparison", oj.compare_summary)):
        out = tmp_path / f"{kind}.csv"
        code, stdout, _ = run_cli(capsys, "summary", str(files[kind]), "--csv", str(out))
        assert code == 0 and stdout.strip() == f"wrote {out}"
        written = pd.read_csv(out, index_col="variable")
        expected = table_of(oj.load(files[kind]))
        assert list(written.index) == list(expected.index) and list(written.columns) == list(expected.columns)
        numeric = expected.select_dtypes("number").columns
        np.testing.assert_allclose(written[numeric].to_numpy(float), expected[numeric].to_numpy(float),
                                   rtol=1e-12, equal_nan=True)
        assert list(written["units"].fillna("")) == list(expected["units"])
    code, stdout, _ = run_cli(capsys, "summary", str(files["run"]), "--csv", "-")
    assert code == 0 and pd.read_csv(io.StringIO(stdout), index_col="variable").shape[0] == len(oj.TAKEOFF.outputs)
