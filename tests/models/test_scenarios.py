"""The shipped scenarios differ from their references only in what their descriptions name.

The intended comparisons are the table of docs/scenarios.md, read here: for
each row, the two priors files (resolved on top of the model's defaults) must
differ in exactly the named parameters, with the same correlations, and the
description of the scenario that makes the change must name each of them. Every shipped scenario must be
in the table, so a new one cannot be shipped without its reference.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import overhang_jax as oj

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(oj.__file__).parent / "models" / "scenarios"
TABLE_HEADING = "## Intended comparisons"


def comparisons() -> list[tuple[str, str, tuple[str, ...]]]:
    """(reference, scenario, named parameters) for each row of the table in docs/scenarios.md."""
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue  # the header, its rule, prose
        reference, scenario = (cell.strip("`") for cell in cells[:2])
        rows.append((reference, scenario, tuple(re.findall(r"`([^`]+)`", cells[2]))))
    return rows


def scenario_file(name: str) -> Path:
    return SCENARIOS / f"{name}.toml"


def model_of(name: str) -> str:
    return tomllib.loads(scenario_file(name).read_text(encoding="utf-8"))["model"]


def priors_of(name: str, model: str) -> oj.Priors:
    return oj.load_priors(oj.get_model(model), None if name == "defaults" else scenario_file(name))


ROWS = comparisons()


def test_the_table_is_read_and_covers_every_shipped_scenario():
    assert len(ROWS) >= 15
    shipped = {path.stem for path in SCENARIOS.glob("*.toml")}
    in_table = {name for reference, scenario, _ in ROWS for name in (reference, scenario)} - {"defaults"}
    assert in_table <= shipped, in_table - shipped
    assert shipped == in_table, f"scenarios without an intended comparison: {sorted(shipped - in_table)}"


@pytest.mark.parametrize("reference,scenario,named", ROWS, ids=[f"{a}-{b}" for a, b, _ in ROWS])
def test_scenario_differs_from_its_reference_only_in_what_it_names(reference, scenario, named):
    model = model_of(scenario)
    if reference != "defaults":
        assert model_of(reference) == model
    a, b = priors_of(reference, model), priors_of(scenario, model)
    differ = {name for name in a.distributions if a.distributions[name] != b.distributions[name]}
    assert differ == set(named), f"{reference} -> {scenario} differ in {sorted(differ)}, the table names {named}"
    assert a.correlations == b.correlations
    # The side that makes the change names it: usually B; A where B is A's reference (no_policy is
    # hard_cap_sudden_end without the cap, and says so).
    descriptions = " / ".join(tomllib.loads(scenario_file(name).read_text(encoding="utf-8"))["description"]
                              for name in (reference, scenario) if name != "defaults")
    for name in named:
        assert re.search(rf"\b{re.escape(name)}\b", descriptions), f"neither description names {name}"
