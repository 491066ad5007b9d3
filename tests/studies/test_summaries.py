"""How summary numbers are printed: one rule for the CLI, the report and the findings page."""

import re

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import overhang_jax as oj
from overhang_jax.present._report import _table


def _table_of(rows: dict[str, tuple[str, float]]) -> pd.DataFrame:
    table = pd.DataFrame({"units": [u for u, _ in rows.values()], "q50": [x for _, x in rows.values()],
                          "nonfinite": [0] * len(rows)}, index=list(rows))
    return table


@given(st.floats(min_value=1e-6, max_value=999, allow_nan=False))
def test_rates_keep_three_significant_figures(x):
    shown = oj.format_number(x, "%/yr")
    # Three significant figures: the printed value is within half a unit in the third figure.
    assert abs(float(shown) - x) <= 0.5 * 10 ** (np.floor(np.log10(x)) - 2) * (1 + 1e-9)
    assert len(re.sub(r"e[+-]\d+$", "", shown).replace(".", "").lstrip("0")) <= 3


@given(st.floats(min_value=1000, max_value=3000, allow_nan=False))
def test_calendar_years_keep_one_decimal(x):
    shown = oj.format_number(x, "yr")
    assert re.fullmatch(r"\d{4}\.\d", shown), shown
    assert abs(float(shown) - x) <= 0.05 + 1e-9


def test_the_cli_summary_and_the_report_print_the_same_figures():
    table = _table_of({"peak_gwp_growth": ("%/yr", 89.758), "tai_year": ("yr", 2038.43),
                       "max_speed": ("OOM/yr", 0.61234)})
    text = oj.format_summary(table)
    html = _table(table, draws=10)
    for shown in ("89.8", "2038.4", "0.612"):
        assert shown in text and f"<td>{shown}</td>" in html
    for unrounded in ("89.758", "2038.43", "0.6123"):
        assert unrounded not in text and unrounded not in html


def test_a_scenario_without_a_cap_reports_no_cap_outputs(tmp_path, capsys):
    from overhang_jax.cli import main
    from overhang_jax.present._figures import default_figures as _default_figures
    from overhang_jax.studies._summaries import CAP_OUTPUTS, NO_CAP, outputs_left_out

    none = oj.run("trajectory", "no_policy", draws=256, seed=1, progress=False)
    capped = oj.run("trajectory", "hard_cap_sudden_end", draws=256, seed=1, progress=False)
    left_out = outputs_left_out(none)
    assert {n for n, why in left_out.items() if why == NO_CAP} == set(CAP_OUTPUTS["trajectory"])
    assert NO_CAP not in outputs_left_out(capped).values()
    # With no cap the policy world is the world without one: the table names the latter.
    assert left_out["tai_year_policy"] == "equal to tai_year_default in every draw"
    # Without the reason these outputs would be shown: some vary from draw to draw in the no-cap run.
    varying = [n for n in CAP_OUTPUTS["trajectory"] if np.unique(oj.outputs(none)[n].values).size > 1]
    assert varying
    # The command line's summary and the report leave them out, saying why.
    out = tmp_path / "none.nc"
    assert main(["run", "trajectory", "--priors", "no_policy", "--draws", "256", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # It says it wrote exactly the figures it wrote, none of them of the cap.
    said = {line.removeprefix("wrote ") for line in printed.splitlines() if line.endswith(".png")}
    assert said == {str(p) for p in tmp_path.glob("*.png")} and said
    assert not any(name in path for path in said for name in CAP_OUTPUTS["trajectory"])
    table_rows = printed.split("not in the table")[0].splitlines()[1:]
    assert not {line.split()[0] for line in table_rows if line.split()} & set(CAP_OUTPUTS["trajectory"])
    reason = next(line for line in printed.splitlines() if line.strip().startswith(NO_CAP))
    assert set(reason.split(": ", 1)[1].split(", ")) == set(CAP_OUTPUTS["trajectory"])
    report = tmp_path / "report.html"
    assert main(["report", str(out), "--out", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    # Nor does a figure of a cap that does not exist: the capped run draws them, the no-cap run does not.
    assert not {name for name, _ in _default_figures(none)} & set(CAP_OUTPUTS["trajectory"])
    assert {"overhang_at_end", "tai_delay"} <= {name for name, _ in _default_figures(capped)}
    assert f"<td>{varying[0]}</td>" not in page and f"<li>{varying[0]}: {NO_CAP}</li>" in page


def test_the_comparison_table_prints_by_the_same_rule():
    comparison = oj.compare("no_policy", "hard_cap_sudden_end", draws=512, seed=2, progress=False)
    table = oj.compare_summary(comparison)
    from overhang_jax.studies._comparison import comparison_display

    display = comparison_display(table)
    for name, row in display.iterrows():
        assert row["median"] == oj.format_number(table.loc[name, "q50"], table.loc[name, "units"]), name
