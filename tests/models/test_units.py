"""Every model spells the unit of time one way, "yr", in its tables and on the documentation pages
that list them, so a reader never wonders whether "year" and "yr" differ."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from overhang_jax.models._registry import MODEL_MODULES, get_model

ROOT = Path(__file__).resolve().parents[2]
LONG_SPELLINGS = {"year", "years"}


def _words(units: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]+", units))


@pytest.mark.parametrize("name", sorted(MODEL_MODULES))
def test_model_tables_spell_time_yr(name):
    model = get_model(name)
    fields = [*model.parameters, *model.outputs, *model.observables]
    if model.trajectories is not None:
        fields.append(model.trajectories)
    found = {f.name if hasattr(f, "name") else repr(f): f.units for f in fields
             if LONG_SPELLINGS & _words(str(getattr(f, "units", "")))}
    assert not found, found


def test_documented_unit_columns_spell_time_yr():
    # A units cell after a name ("| `x` | year |"; a first column headed "year" names the calendar year,
    # not a unit) or a unit in brackets after a name ("`x` (year)").
    pattern = re.compile(r".\| years? \||`\w+` \(years?\)")
    offenders = [f"{page.name}:{i}" for page in sorted((ROOT / "docs").glob("*.md")) if page.name != "findings.md"
                 for i, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders
