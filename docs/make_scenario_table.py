"""Re-run the intended comparisons of docs/scenarios.md and write their directions into that page.

    python docs/make_scenario_table.py [--draws 20000] [--seed 0]

For every row of the page's "Intended comparisons" table it runs
``oj.compare(model, A, B)`` (common random numbers) and, for a few outputs,
reports the median of the paired difference B - A and the shares of draws
where B is higher or lower than A by more than a tolerance. Each row is set
against the direction the source posts' reasoning expects (as the original
specification and the scenario's question state it); "agrees" says whether
the draws that moved moved that way. The table replaces the text between the
page's ``<!-- comparisons:begin -->`` and ``<!-- comparisons:end -->`` lines.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import overhang_jax as oj

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "scenarios.md"
BEGIN, END = "<!-- comparisons:begin -->", "<!-- comparisons:end -->"

# The outputs each comparison is read on, and the direction of B - A the source posts' reasoning
# expects: "+" (B higher), "-" (B lower), "0" (no change by construction), with the claim in words.
EXPECTED = {
    ("defaults", "hard_cap_sudden_end"): (
        {"overhang_at_end": "0", "max_growth_after_end": "+"},
        "how a cap ends cannot change the gap when it ends; a sudden end releases the catch-up at once"),
    ("no_policy", "hard_cap_sudden_end"): (
        {"overhang_at_end": "+", "tai_delay": "+", "max_growth_after_end": "+", "lead_at_tai": "-"},
        "a cap delays TAI and leaves an overhang whose catch-up makes growth after it faster; it burns the "
        "regulated actors' lead over those outside it (seed post 000)"),
    ("hard_cap_sudden_end", "gradual_lift"): (
        {"overhang_at_end": "0", "max_growth_after_end": "-", "danger_band_years_policy": "+"},
        "a gradual lift spreads the catch-up out: slower growth after the cap, a longer danger band"),
    ("hard_cap_sudden_end", "moving_bright_line"): (
        {"overhang_at_end": "-", "tai_delay": "-"},
        "a line rising while in force leaves a smaller overhang, and delays less (seed post 001)"),
    ("hard_cap_sudden_end", "absolute_cap"): (
        {"overhang_at_end": "+", "cap_withheld": "+"},
        "a 1e26 FLOP level lies below the largest run by 2026-2030: a freeze there, tighter than the default"),
    ("hard_cap_sudden_end", "evaded_cap"): (
        {"tai_delay": "-", "lead_at_tai": "-"},
        "evaders keep the frontier close to the default world: less delay, and a smaller lead over them"),
    ("hard_cap_sudden_end", "efficiency_focus"): (
        {"overhang_at_end": "-", "tai_delay": "-"},
        "effort redirected to efficiency while capped shrinks the overhang and the delay"),
    ("hard_cap_sudden_end", "compute_driven_algorithms"): (
        {"overhang_at_end": "+", "tai_delay": "+"},
        "if algorithms need compute, a cap slows them too: a larger overhang and delay"),
    ("hard_cap_sudden_end", "full_catch_up"): (
        {"tai_delay": "-", "max_growth_after_end": "+"},
        "full catch-up takes the delay back, with faster growth after the cap"),
    ("hard_cap_sudden_end", "no_catch_up"): (
        {"tai_delay": "+", "max_growth_after_end": "-"},
        "without catch-up the delay is permanent and growth resumes at the old pace"),
    ("no_catch_up", "full_catch_up"): (
        {"tai_delay": "-", "max_growth_after_end": "+", "danger_band_years_policy": "-"},
        "catch-up takes the delay back and shortens the danger band"),
    ("takeoff_baseline", "takeoff_investment_3x"): (
        {"takeoff_year": "-", "remaining_investment": "-", "max_speed": "+"},
        "investment burnt faster before takeoff: earlier, with less investment overhang left but more hardware "
        "and software overhang, so faster (the source post: 25.5 -> 28 OOM/yr at the reference values)"),
    ("takeoff_baseline", "takeoff_software_pause"): (
        {"takeoff_year": "+", "remaining_software": "+", "max_speed": "+"},
        "a software pause delays takeoff and leaves more software overhang: a faster takeoff"),
    ("takeoff_baseline", "takeoff_long_timelines"): (
        {"takeoff_year": "+", "remaining_investment": "-", "max_speed": "-"},
        "long timelines saturate investment before takeoff: later, and slower"),
    ("takeoff_baseline", "takeoff_asymmetry"): (
        {"takeoff_year": "0", "max_speed": "-"},
        "with the normalisation c2 = 1/33 the copies multiplier is below 1 when takeoff starts in most draws: "
        "a slower start (the source post: 25.5 -> 24 OOM/yr at the reference values)"),
    ("takeoff_asymmetry", "takeoff_scaffolding"): (
        {"takeoff_year": "0", "max_speed": "-"},
        "copies less useful than assumed: a slower takeoff than with the full asymmetry"),
    ("takeoff_baseline", "takeoff_growing_investment"): (
        {"takeoff_year": "-", "remaining_investment": "+"},
        "a growing investment pool: more capability sooner and more overhang left"),
}


def rows() -> list[tuple[str, str]]:
    """The (A, B) pairs of the page's intended comparisons that state an expected direction, in order
    (the ftm comparisons have none yet: notebooks/ftm_pause.ipynb answers them)."""
    sys.path.insert(0, str(DOCS.parent / "tests" / "models"))
    from test_scenarios import comparisons

    return [(a, b) for a, b, _ in comparisons() if (a, b) in EXPECTED]


def priors(model: oj.Model, name: str) -> oj.Priors:
    return oj.load_priors(model, None if name == "defaults" else name)


def model_of(name: str) -> oj.Model:
    return oj.get_model(oj.scenarios().loc[name, "model"])


MOVED = 0.05
"""A comparison moves an output when at least this share of draws changes by more than the tolerance."""


def direction(higher: float, lower: float) -> str:
    """The way most changed draws moved: a comparison often leaves most draws alone (a coin both share),
    so the median of all differences can be 0 while every changed draw moves the same way."""
    if max(higher, lower) < MOVED:
        return "0"
    return "+" if higher > lower else "-"


def table(draws: int, seed: int) -> str:
    lines = ["| A → B | output | median B − A | B higher / lower | found | expected | agrees |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    claims = []
    for a, b in rows():
        model = model_of(b)
        start = time.perf_counter()
        comparison = oj.compare(model, priors(model, a), priors(model, b), draws=draws, seed=seed, float64=True)
        expected, claim = EXPECTED[(a, b)]
        claims.append(f"- `{a}` → `{b}`: {claim}.")
        for name, sign in expected.items():
            output = model.outputs[model.output_names.index(name)]
            units, tolerance = output.units, output.tolerance  # "the same" within the model's tolerance
            diff = np.asarray(oj.outputs(comparison)[name].values, np.float64)
            finite = diff[np.isfinite(diff)]
            median = float(np.median(finite)) if finite.size else np.nan
            higher, lower = np.mean(finite > tolerance), np.mean(finite < -tolerance)
            found = direction(higher, lower)
            lines.append(f"| `{a}` → `{b}` | `{name}` ({units}) | {median:+.3g} | {higher:.0%} / {lower:.0%} | "
                         f"{found} | {sign} | {'yes' if found == sign else '**no**'} |")
        print(f"{a} -> {b}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    note = (f"{draws:,} paired draws per comparison (seed {seed}, float64); differences within each "
            "output's tolerance (0.01 OOM, 0.01 OOM/yr or 0.05 yr, declared with the output in its model) count as "
            "equal; draws where an output is not finite in A or B (no TAI by 2100, a cap not ended, no "
            "evaders) are left out of that output's row. Found: + if more draws are higher in B than lower, "
            f"- the other way, 0 if fewer than {MOVED:.0%} moved either way; expected: the direction the "
            "reasoning below expects. \"agrees\" compares the two.")
    return "\n".join([note, "", *lines, "", "The reasoning each row is checked against:", "", *claims])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    text = PAGE.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    PAGE.write_text(f"{before}{BEGIN}\n{table(args.draws, args.seed)}\n{END}{after}", encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
