"""Write docs/findings.md from the results `make run` wrote: every number on that page comes from here.

    python docs/make_findings.py [RESULTS_DIR] [OUT]      # defaults: results docs/findings.md

`make run` runs it after its sweeps. It reads results/takeoff.nc,
results/trajectory.nc and results/compare_no_policy_vs_hard_cap_sudden_end.nc
and writes Markdown; a file that is missing is named on the page, not
guessed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import overhang_jax as oj

RUNS = {
    "takeoff": "takeoff.nc",
    "trajectory": "trajectory.nc",
    "comparison": "compare_no_policy_vs_hard_cap_sudden_end.nc",
}


def number(x: float, digits: int = 3) -> str:
    """A value as a reader quotes it: years to one decimal, the rest to ``digits`` significant figures."""
    if not np.isfinite(x):
        return "not finite"
    return f"{x:.1f}" if abs(x) >= 1000 else f"{x:.{digits}g}"


def share(count: int, total: int) -> str:
    return f"{count:,} of {total:,} ({100 * count / total:.2g}%)"


def interval(table, name: str, units: str = "") -> str:
    row = table.loc[name]
    units = f" {units}" if units else ""
    return (f"median {number(row['q50'])}{units}, 90% of draws between {number(row['q5'])} and "
            f"{number(row['q95'])}{units}")


def provenance(results) -> str:
    attrs = results.attrs
    return (f"{int(attrs['draws']):,} draws, seed {attrs['seed']}, sampler {attrs['sampler']}, {attrs['dtype']}, "
            f"overhang_jax {attrs['version']}")


def takeoff_section(results) -> list[str]:
    table = oj.summary(results)
    draws = int(results.attrs["draws"])
    never = int(table.loc["takeoff_year", "nonfinite"])
    return [
        "## Takeoff: when it starts and how fast it goes",
        "",
        f"Default priors ([takeoff.md](takeoff.md)); {provenance(results)}.",
        "",
        f"- **Takeoff year**: {interval(table, 'takeoff_year')}"
        + (f"; {share(never, draws)} draws never take off within the horizon." if never else "."),
        f"- **Maximum takeoff speed**: {interval(table, 'max_speed', 'OOM/yr')}.",
        f"- **Takeoff duration**: {interval(table, 'takeoff_duration', 'years')}.",
        "- **Overhang left when takeoff starts** (medians): "
        + ", ".join(f"{pool} {number(table.loc[f'remaining_{pool}', 'q50'])} OOM"
                    for pool in ("investment", "hardware", "software")) + ".",
        "",
    ]


def trajectory_section(results) -> list[str]:
    table = oj.summary(results)
    data = oj.outputs(results)
    draws = int(results.attrs["draws"])
    delay = np.asarray(data["tai_delay"].values, np.float64)
    finite = delay[np.isfinite(delay)]
    rampup = np.asarray(data["tai_in_rampup_default"].values, np.float64)
    no_tai = int(table.loc["tai_year_default", "nonfinite"])
    return [
        "## Trajectory: a cap under the default priors",
        "",
        f"Default priors ([trajectory.md](trajectory.md)), whose policy world has a cap of uncertain height, "
        f"start and length; {provenance(results)}.",
        "",
        f"- **TAI year without policy**: {interval(table, 'tai_year_default')}"
        + (f"; {share(no_tai, draws)} draws do not reach TAI by 2100." if no_tai else "."),
        f"- **Overhang when the cap ends**: {interval(table, 'overhang_at_end', 'OOM')}.",
        f"- **Delay of TAI by the cap**: {interval(table, 'tai_delay', 'years')}; TAI comes earlier with the "
        f"cap in {100 * np.mean(finite < 0):.2g}% of the draws where both worlds reach it.",
        f"- **Time in the danger band**: without policy {interval(table, 'danger_band_years_default', 'years')}; "
        f"with the cap {interval(table, 'danger_band_years_policy', 'years')}.",
        f"- **TAI reached while spending is still ramping up** (no policy): in "
        f"{100 * np.mean(rampup[np.isfinite(rampup)] == 1):.2g}% of draws.",
        "",
    ]


def comparison_section(comparison) -> list[str]:
    attrs = comparison.attrs
    table = oj.compare_summary(comparison)
    shown = table[table["left_out"] == ""]
    lines = [
        "## Does a hard cap, suddenly repealed, cause faster progress later?",
        "",
        f"`compare no_policy hard_cap_sudden_end`: A = {attrs['scenario_a']}, B = {attrs['scenario_b']}, "
        f"{int(attrs['draws']):,} paired draws (seed {attrs['seed']}); each difference B − A is the effect of the cap "
        "alone in that draw. A difference within an output's tolerance counts as none.",
        "",
        *[f"- {sentence}" for sentence in oj.comparison_findings(comparison)],
        "",
        "| output | units | worse if | same within | median B − A | 5% | 95% | P(B worse) | P(same) | P(B better) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in shown.iterrows():
        scored = bool(row["worse"])
        lines.append(f"| `{name}` | {row['units']} | {row['worse'] or 'n/a'} | {row['tolerance']:g} | "
                     f"{number(row['q50'])} | {number(row['q5'])} | {number(row['q95'])} | "
                     f"{row['p_b_worse']:.3f} | {row['p_equal']:.3f} | {row['p_b_better']:.3f} |" if scored else
                     f"| `{name}` | {row['units']} | n/a | {row['tolerance']:g} | {number(row['q50'])} | "
                     f"{number(row['q5'])} | {number(row['q95'])} | n/a | {row['p_equal']:.3f} | n/a |")
    lines += ["", "Not in the table: " + "; ".join(f"`{note.split(':', 1)[0]}` ({note.split(': ', 1)[1]})"
                                                    for note in oj.comparison_notes(table)) + ".", ""]
    return lines


def findings(directory: Path) -> str:
    sections = {"takeoff": takeoff_section, "trajectory": trajectory_section, "comparison": comparison_section}
    lines = [
        "# Findings",
        "",
        "The headline numbers of the latest `make run` (default priors, the seed and draw count given in each "
        "section). This page is written by `docs/make_findings.py` from the results files; do not edit it by "
        "hand, run `make run` again. Words are explained in the [glossary](glossary.md); every number has a "
        "sampling error, which shrinks with more draws (`make run DRAWS=10000000`).",
        "",
    ]
    for key, file_name in RUNS.items():
        path = directory / file_name
        if not path.is_file():
            lines += [f"*{file_name} was not found in `{directory}`: `make run` writes it.*", ""]
            continue
        lines += sections[key](oj.load(path))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else Path("results")
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("findings.md")
    out.write_text(findings(directory), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
