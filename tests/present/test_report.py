"""The HTML report (opened in a real browser), the comparison's plain sentences, and CSV summaries."""

import io
import os
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import overhang_jax as oj
from overhang_jax.cli import main

import browser


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
        assert f"<td>{name}</td><td>{table.loc[name, 'units']}</td><td>{oj.format_number(table.loc[name, 'mean'], table.loc[name, 'units'])}</td>" in page
    # Rows that tell nothing are named, with why, instead of shown: checked against the draws.
    data = oj.outputs(run)
    speed, start = (np.asarray(data[n].values).ravel() for n in ("max_speed", "speed_at_start"))
    if np.array_equal(speed, start):
        assert "<li>speed_at_start: equal to max_speed in every draw</li>" in page
        assert "<td>speed_at_start</td>" not in page.split('id="section-1"')[0]  # the run's own table
    multiplier = np.asarray(data["asymmetry_multiplier"].values).ravel()
    if np.all(multiplier == multiplier[0]):
        assert f"<li>asymmetry_multiplier: {multiplier[0]:g} in every draw</li>" in page
    # The comparison's sentences, computed from it, and its paired table.
    for sentence in oj.comparison_findings(comparison):
        assert sentence.replace("'", "&#x27;") in page
    assert "B worse" in page and "takeoff_software_pause (B) against takeoff_baseline (A)" in page
    for note in oj.comparison_notes(oj.compare_summary(comparison)):  # the rows left out, and why
        assert note in page
    assert "what drives max_speed" in page
    # Self-contained: a policy that forbids outside requests, no outside address anywhere.
    from overhang_jax.present._report import CSP

    assert f'http-equiv="Content-Security-Policy" content="{CSP}"' in page and "default-src 'none'" in CSP
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("<img ") >= 5 and page.count('src="data:image/png;base64,') == page.count("<img ")


def test_report_command_prints_the_path_and_refuses_bad_files(files, tmp_path, run_cli):
    out = tmp_path / "r.html"
    code, stdout, _ = run_cli("report", str(files["run"]), "--out", str(out))
    assert code == 0 and stdout.strip() == f"wrote {out.resolve()}"
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    code, _, stderr = run_cli("report", str(junk), "--out", str(out))
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


def comparison_of(differences: dict[str, np.ndarray], model: str = "trajectory"):
    """A comparison DataTree of ``model`` holding only the given differences (what the sentences read;
    each output's direction, units and tolerance are the model's)."""
    declared = {o.name: o for o in oj.get_model(model).outputs}
    variables = {name: xr.Variable(("chain", "draw"), values[None, :], {
        "worse": declared[name].worse or "", "units": declared[name].units, "tolerance": declared[name].tolerance,
        "without_policy": int(declared[name].without_policy)}) for name, values in differences.items()}
    return xr.DataTree.from_dict({"/": xr.Dataset(attrs={"kind": "comparison", "model": model}),
                                  "prior_predictive": xr.Dataset(variables)})


def test_comparison_sentences_count_and_measure_each_side_beyond_the_tolerance():
    # 20 draws: 3 earlier TAI (by 0.5, 1.9 and 0.2 years), 12 later (by 1..12), 2 within the 0.05-year
    # tolerance (0.03, -0.04) and 3 the same.
    delay = np.concatenate([[-0.5, -1.9, -0.2], np.arange(1.0, 13.0), [0.03, -0.04], np.zeros(3)])
    growth = np.concatenate([np.full(10, 0.5), np.full(10, 0.005)])  # faster in half, the rest within 0.01
    sentences = oj.comparison_findings(comparison_of({"tai_year_policy": delay, "max_growth_after_end": growth}))
    # Sizes: the median and the 95th percentile (linear between order statistics) of each side's moves:
    # earlier 0.2, 0.5, 1.9 -> 0.5 and 0.5 + 0.9 (1.9 - 0.5) = 1.76; later 1..12 -> 6.5 and 11.45.
    # The median over all 20 draws, zeros included: the 10th and 11th of the sorted delays, 2 and 3.
    assert sentences[0] == ("B delays TAI in 60.0% of all 20 draws (by a median 6.5 years, 95% of them by at most "
                            "11 years); it brings TAI earlier in 15.0% (by a median 0.5 years, 95% of them by at "
                            "most 1.8 years); A and B are within 0.05 years of each other in 25.0%. The median "
                            "change in tai_year_policy over all 20 draws (the table's median) is +2.5 years, with no "
                            "change (within the tolerance) in 25.0% of them.")
    # Backfire: earlier TAI in draws 0-2; faster growth (draws 0-9) is not a backfire, on its own line.
    assert sentences[1] == ("Backfire (the policy makes the world worse on a headline outcome: B brings TAI "
                            "earlier): in 15.0% of all 20 draws, B does one or more of these; it brings TAI earlier "
                            "in 15.0% (by a median 0.5 years, 95% of them by at most 1.8 years). Not counted as a "
                            "backfire, each on its own line: B makes growth in the five years after the cap faster.")
    assert sentences[2].startswith("B makes growth in the five years after the cap faster in 50.0% of all 20 draws "
                                   "(by a median 0.5 OOM/yr, 95% of them by at most 0.5 OOM/yr); A and B are within "
                                   "0.01 OOM/yr of each other in 50.0%.")
    assert len(sentences) == 3


def test_comparison_sentences_say_when_the_world_without_policy_differs_and_leave_out_nonfinite_draws():
    default = np.array([0.0, 0.0, 1.0, 0.0])  # B's default world reaches TAI a year later in one draw
    delay = np.array([1.0, np.nan, 2.0, -1.0])
    sentences = oj.comparison_findings(comparison_of({"tai_year_default": default, "tai_year_policy": delay}))
    assert sentences[0].startswith("A and B differ in the world without the policy too (tai_year_default in 25.0% "
                                   "of draws)")
    # (the 95th percentile of the delays 1 and 2 is 1.95, shown to two figures)
    assert sentences[1] == ("B delays TAI in 66.7% of the 3 draws compared (by a median 1.5 years, 95% of them by at "
                            "most 1.9 years); it brings TAI earlier in 33.3% (by a median 1 year, 95% of them by at "
                            "most 1 year). The median change in tai_year_policy over the 3 draws with a difference (the "
                            "table's median) is +1 year, with no change (within the tolerance) in 0% of them. (1 draw "
                            "without a difference to compare is left out.)")
    assert sentences[2].startswith("Backfire (the policy makes the world worse on a headline outcome: B brings TAI "
                                   "earlier): in 33.3% of the 3 draws compared")
    assert sentences[2].endswith("(1 draw without a difference to compare in one or more of these outcomes is left "
                                 "out.)")


def test_comparison_sentences_of_a_model_without_headlines():
    speed = np.array([1.0, 2.0, -1.0, np.nan, 0.0])
    (sentence,) = oj.comparison_findings(comparison_of({"copies_multiplier": speed}, "inference"))
    assert sentence == ("copies_multiplier: higher with B than with A in 50.0% of draws, lower in 25.0%, equal in "
                        "25.0%; the median change is 0.5. (1 draw without a difference to compare is left out.)")


def test_summary_csv_matches_the_summary(files, tmp_path, run_cli):
    for kind, table_of in (("run", oj.summary), ("comparison", oj.compare_summary)):
        out = tmp_path / f"{kind}.csv"
        code, stdout, _ = run_cli("summary", str(files[kind]), "--csv", str(out))
        assert code == 0 and stdout.strip() == f"wrote {out}"
        written = pd.read_csv(out, index_col="variable")
        expected = table_of(oj.load(files[kind]))
        assert list(written.index) == list(expected.index) and list(written.columns) == list(expected.columns)
        numeric = expected.select_dtypes("number").columns
        np.testing.assert_allclose(written[numeric].to_numpy(float), expected[numeric].to_numpy(float),
                                   rtol=1e-12, equal_nan=True)
        assert list(written["units"].fillna("")) == list(expected["units"])
    code, stdout, _ = run_cli("summary", str(files["run"]), "--csv", "-")
    assert code == 0 and pd.read_csv(io.StringIO(stdout), index_col="variable").shape[0] == len(oj.TAKEOFF.outputs)


@pytest.fixture(scope="module")
def policy_report(tmp_path_factory):
    """A trajectory comparison and its paired sweeps over the cap's length and alpha, in one report."""
    directory = tmp_path_factory.mktemp("policy_report")
    comparison = oj.compare("trajectory", "no_policy", "hard_cap_sudden_end", draws=400, seed=5)
    with np.errstate(invalid="ignore"):
        by_length = oj.sweep("trajectory", "hard_cap_sudden_end", param="D", values=[2, 10], draws=400, seed=5)
        by_alpha = oj.sweep("trajectory", "hard_cap_sudden_end", param="alpha", values=[0, 0.5, 1], draws=400,
                            seed=5)
    out = oj.write_report([comparison, by_length, by_alpha], directory / "policy.html")
    return out.read_text(encoding="utf-8"), comparison, by_length, by_alpha


def test_policy_report_first_screen_names_the_cap_and_gives_conditional_figures(policy_report):
    page, comparison, by_length, by_alpha = policy_report
    first = page[:page.index("<ul><li>")]  # before the table of contents: the first screen
    assert ("<b>The policy:</b> a cap at the largest run already trained plus 0-1 OOM (a freeze in 50% of draws), "
            "starting 2026-2030, lasting 2-15 years (90% of draws), repealed at once.") in first
    # The quoted numbers are the comparison's own sentences.
    findings = oj.comparison_findings(comparison)
    (backfire,) = [s for s in findings if s.startswith("Backfire")]
    assert backfire.replace("'", "&#x27;") in first
    # By the cap's length and by alpha: the median change in the TAI year over all draws, counted here
    # from the sweep's draws, zeros included.
    medians = {}
    for swept, value in ((by_length, 2.0), (by_length, 10.0), (by_alpha, 0.0), (by_alpha, 1.0)):
        data = oj.outputs(oj.sweep_run(swept, value))
        with np.errstate(invalid="ignore"):
            delay = np.asarray(data["tai_year_policy"].values, np.float64) - np.asarray(
                data["tai_year_default"].values, np.float64)
        delay = np.where(np.isnan(delay), 0.0, delay).ravel()  # inf - inf: neither world reaches TAI, no change
        medians[swept.attrs["param"], value] = np.median(delay)
        assert oj.sweep_headline(swept).loc[value, "median_delay_years"] == pytest.approx(np.median(delay))
    assert (f"With a cap lasting 2 years, TAI comes a median {medians['D', 2.0]:.2g} years later than without a cap "
            "(over all 400 draws, no change in") in first
    assert f"with a cap lasting 10 years, {medians['D', 10.0]:.2g} years (no change in" in first
    assert f"<tr><td>1</td><td>{medians['alpha', 1.0]:.2g}</td>" in first
    assert "With catch-up closing 0% of the overhang (alpha = 0), TAI comes a median" in first
    # The policy's priors are open on the page, the assumptions marked.
    assert "<details" not in first and "<code>alpha</code>" in first
    assert first.count("assumption: no empirical source") >= 5
    # How to cite, limitations and the glossary are on the page itself, not in a folder the reader lacks.
    assert "<b>How to cite:</b>" in page and f"version {oj.__version__} (commit " in page and "seed 5" in page
    assert 'id="limitations"' in page and "no empirical source" in page.split('id="limitations"')[1]
    glossary = page.split('id="glossary"')[1]
    assert all(f"<b>{word}</b>" in glossary for word in ("backfire", "danger band", "overhang", "TAI"))
    assert "docs/ folder" not in page and "<code>docs/</code>" not in page


def test_citation_file_names_this_version():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(r"^cff-version: 1\.2\.0$", text, re.MULTILINE)
    assert re.search(rf"^version: {re.escape(oj.__version__)}$", text, re.MULTILINE)
    assert re.search(r"^title: ", text, re.MULTILINE) and re.search(r"^authors:", text, re.MULTILINE)
def test_a_conditioned_run_shows_what_the_data_changed_prior_beside_posterior(tmp_path):
    conditioned = oj.run("trajectory", draws=2000, seed=4, observe="frontier_compute_2023_2025")
    page = tmp_path / "report.html"
    oj.write_report([conditioned], page)
    text = page.read_text(encoding="utf-8")
    assert "What the data since 2023 changed" in text and "frontier_compute_2023_2025" in text
    assert conditioned.attrs["posterior_verdict"].split(":")[0] in text
    table = oj.prior_posterior(conditioned)
    median = f"{table.loc['tai_year_default', 'posterior_median']:.1f}"
    row = re.search(r"<td>tai_year_default</td>(.*?)</tr>", text).group(1)
    assert median in row and 'alt="prior and posterior"' in text
    # A run without observations has no such section.
    oj.write_report([oj.run("takeoff", draws=300, seed=1)], tmp_path / "plain.html")
    assert "What the data since 2023 changed" not in (tmp_path / "plain.html").read_text(encoding="utf-8")
