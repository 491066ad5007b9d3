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
