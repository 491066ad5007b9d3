"""Write a findings page from the results `make run` wrote: every number on that page comes from here.

    python docs/make_findings.py [RESULTS_DIR] [OUT]      # defaults: results results/findings.md

`make run` runs it last, writing results/findings.md (the checkout stays
clean); `make findings` writes the committed docs/findings.md from the same
results. It reads results/takeoff.nc, results/trajectory.nc,
results/compare_no_policy_vs_hard_cap_sudden_end.nc, the conditioned run
results/trajectory_observed.nc and the sweeps
results/sweep_trajectory_D.nc and results/sweep_trajectory_alpha.nc, and
writes Markdown; a file that is missing is named on the page, not guessed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

import overhang_jax as oj
from overhang_jax.present._report import LIMITATIONS, how_to_cite
from overhang_jax.studies._comparison import percent

RUNS = {
    "comparison": "compare_no_policy_vs_hard_cap_sudden_end.nc",
    "takeoff": "takeoff.nc",
    "trajectory": "trajectory.nc",
    "observed": "trajectory_observed.nc",
}
SWEEPS = {"D": "sweep_trajectory_D.nc", "alpha": "sweep_trajectory_alpha.nc"}
DOCS = Path(__file__).resolve().parent
LINK = ""
"""The docs folder as a link from the page being written (set by :func:`main`)."""


def number(x: float, units: str = "yr") -> str:
    """A value as a reader quotes it: the package's one rule (:func:`overhang_jax.format_number`)."""
    if not np.isfinite(x):
        return "not finite"
    return oj.format_number(x, units)


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
        f"Default priors ([takeoff.md]({LINK}takeoff.md)); {provenance(results)}.",
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
    shares = oj.policy_shares(results)
    with np.errstate(invalid="ignore"):
        policy, default = (np.asarray(data[n].values, np.float64).ravel() for n in ("tai_year_policy", "tai_year_default"))
        delay = np.where(policy == default, 0.0, policy - default)  # inf and inf: neither reaches TAI, no change
    compared = delay[~np.isnan(delay)]
    rampup = np.asarray(data["tai_in_rampup_default"].values, np.float64)
    no_tai = int(table.loc["tai_year_default", "nonfinite"])
    return [
        "## Trajectory: a cap under the default priors",
        "",
        f"Default priors ([trajectory.md]({LINK}trajectory.md)), whose policy world has "
        f"{oj.policy_in_words(results.attrs)}; {provenance(results)}.",
        "",
        f"- **TAI year without policy**: {interval(table, 'tai_year_default')}"
        + (f"; {share(no_tai, draws)} draws do not reach TAI by 2100." if no_tai else "."),
        f"- **Overhang when the cap ends**: {interval(table, 'overhang_at_end', 'OOM')}.",
        f"- **Delay of TAI by this cap** (the default priors' cap, repealed at once or lifted gradually: not the "
        f"headline's cap above): a median {number(float(np.median(compared)))} years over all "
        f"{compared.size:,} draws, zeros included (no change, within 0.05 years, in "
        f"{percent(float(np.mean(np.abs(compared) <= 0.05)))} of them); 90% of draws between "
        f"{number(float(np.quantile(compared, 0.05)))} and {number(float(np.quantile(compared, 0.95)))} years.",
        f"- **Backfire** ([outcomes.md]({LINK}outcomes.md)): the cap brings TAI earlier or shortens the time in the "
        f"danger band in {100 * shares['backfire']:.2g}% of the {int(shares['draws_compared']):,} draws where both "
        f"can be compared (TAI earlier: {100 * shares['tai_earlier']:.2g}%; less time in the danger band: "
        f"{100 * shares['danger_band_shorter']:.2g}%). Not a backfire but the mechanism: growth in the five years "
        f"after the cap is faster than without it in {100 * shares['faster_growth_after']:.2g}% of all draws.",
        f"- **Time in the danger band**: without policy {interval(table, 'danger_band_years_default', 'years')}; "
        f"with the cap {interval(table, 'danger_band_years_policy', 'years')}.",
        f"- **TAI reached while spending is still ramping up** (no policy): in "
        f"{100 * np.mean(rampup[np.isfinite(rampup)] == 1):.2g}% of draws.",
        "",
    ]


def missing(file_name: str, directory: Path) -> list[str]:
    """The lines standing in for a results file `make run` did not write."""
    return [f"*{file_name} was not found in `{directory}`: `make run` writes it.*", ""]


def load_all(directory: Path, names: dict[str, str]) -> dict[str, object]:
    """Each results file of ``names`` (key -> file name) that is in ``directory``, loaded once."""
    return {key: oj.load(directory / name) for key, name in names.items() if (directory / name).is_file()}


def conditional_lines(sweeps: dict[str, object], directory: Path) -> list[str]:
    """The comparison's headline at fixed cap lengths and at alpha = 0, 0.5, 1 (paired sweeps)."""
    words = {"D": ("By the cap's length", "a cap lasting {v:g} years"),
             "alpha": ("By catch-up", "catch-up closing {v:.0%} of the overhang (alpha = {v:g})")}
    lines = []
    for param, file_name in SWEEPS.items():
        if param not in sweeps:
            lines += missing(file_name, directory)
            continue
        swept = sweeps[param]
        table = oj.sweep_headline(swept)
        heading, phrase = words[param]
        lines.append(f"**{heading}** (a paired sweep, {int(swept.attrs['draws']):,} draws at each value, seed "
                     f"{swept.attrs['seed']}, the rest of the policy as above):")
        lines.append("")
        for value, row in table.iterrows():
            lines.append(f"- with {phrase.format(v=value)}, TAI comes a median {row['median_delay_years']:.2g} years "
                         f"later over all {int(row['delay_draws']):,} draws (no change in "
                         f"{percent(row['no_change'])}); backfire (TAI earlier or less time in the danger band) in "
                         f"{percent(row['backfire'])} of the {int(row['backfire_draws']):,} draws compared (those where the cap "
                         "starts before TAI without it).")
        lines.append("")
    return lines


def comparison_section(comparison, sweeps: dict[str, object], directory: Path) -> list[str]:
    attrs = comparison.attrs
    table = oj.compare_summary(comparison)
    shown = table[table["left_out"] == ""]
    lines = [
        "## Headline: does a hard cap, suddenly repealed, delay TAI, or backfire?",
        "",
        f"**The policy**: {oj.policy_in_words({'model': attrs['model'], **comparison['b'].attrs})}.",
        "",
        f"`compare no_policy hard_cap_sudden_end`: A = {attrs['scenario_a']}, B = {attrs['scenario_b']}, "
        f"{int(attrs['draws']):,} paired draws (seed {attrs['seed']}); each difference B − A is the effect of the cap "
        "alone in that draw. A difference within an output's tolerance counts as none.",
        "",
        *[f"- {sentence}" for sentence in oj.comparison_findings(comparison)],
        "",
        *conditional_lines(sweeps, directory),
        "| output | units | worse if | same within | median B − A | 5% | 95% | P(B worse) | P(same) | P(B better) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in shown.iterrows():
        scored = bool(row["worse"])
        lines.append(f"| `{name}` | {row['units']} | {row['worse'] or 'n/a'} | {row['tolerance']:g} | "
                     f"{number(row['q50'], row['units'])} | {number(row['q5'], row['units'])} | "
                     f"{number(row['q95'], row['units'])} | "
                     f"{row['p_b_worse']:.3f} | {row['p_equal']:.3f} | {row['p_b_better']:.3f} |" if scored else
                     f"| `{name}` | {row['units']} | n/a | {row['tolerance']:g} | {number(row['q50'], row['units'])} | "
                     f"{number(row['q5'], row['units'])} | {number(row['q95'], row['units'])} | n/a | {row['p_equal']:.3f} | n/a |")
    lines += ["", "Not in the table: " + "; ".join(f"`{note.split(':', 1)[0]}` ({note.split(': ', 1)[1]})"
                                                    for note in oj.comparison_notes(table)) + ".", ""]
    return lines


def bound(x: float, units: str) -> str:
    """A quantile that may be +inf: a year or time not reached by the model's horizon."""
    return "not reached" if np.isposinf(x) else number(x, units)


def observed_section(results) -> list[str]:
    """Prior against posterior for the headline outputs of a run conditioned on observations."""
    table = oj.prior_posterior(results)
    attrs = table.attrs
    verdict = ("reliable by both limits (k-hat <= 0.7, ESS >= 1,000)" if attrs["reliable"] else
               "**not reliable** by the limits (k-hat <= 0.7, ESS >= 1,000): read the posterior column as a hint only")
    lines = [
        "## What the data since 2023 changed",
        "",
        f"The trajectory model's default priors, each draw weighted by how well it matches the observations "
        f"`{results.attrs.get('posterior_observations')}` (frontier training compute 2023-2025, with their sources in "
        f"[observations.md]({LINK}observations.md)); {provenance(results)}. Importance weights: effective sample "
        f"size {float(attrs['ess']):,.0f} of {int(attrs['draws']):,} draws, Pareto k-hat "
        f"{float(attrs['pareto_khat']):.2f}; {verdict}. Medians over the draws where each output is defined (those not reaching it by 2100 "
        "included), 90% of them between the "
        "bracketed values; the posterior is the draws resampled by weight.",
        "",
        "| output | units | prior median [90%] | posterior median [90%] | not reached by 2100 (prior -> posterior) |",
        "|---|---|---|---|---|",
    ]
    for name, row in table.iterrows():
        u = row["units"]
        cells = [f"{bound(row[f'{k}_median'], u)} [{bound(row[f'{k}_q5'], u)}, {bound(row[f'{k}_q95'], u)}]"
                 for k in ("prior", "posterior")]
        lines.append(f"| `{name}` | {u} | {cells[0]} | {cells[1]} | {100 * row['prior_not_reached']:.1f}% -> "
                     f"{100 * row['posterior_not_reached']:.1f}% |")
    return [*lines, ""]


def findings(directory: Path) -> str:
    sweeps = load_all(directory, SWEEPS)
    sections = {"takeoff": takeoff_section, "trajectory": trajectory_section, "observed": observed_section,
                "comparison": lambda tree: comparison_section(tree, sweeps, directory)}
    lines = [
        "# Findings",
        "",
        "The headline numbers of the latest `make run` (default priors, the seed and draw count given in each "
        "section). This page is written by `docs/make_findings.py` from the results files; do not edit it by "
        "hand: `make run`, then `make findings`. Words are explained in the [glossary]"
        f"({LINK}glossary.md) and the outcomes, the backfire and each share's denominator in [outcomes.md]"
        f"({LINK}outcomes.md); the number quoted for each quantity is its median over all draws, zeros "
        "included, with the share of draws where it does not change beside it.",
        "",
    ]
    runs = load_all(directory, RUNS)
    for key, file_name in RUNS.items():
        lines += sections[key](runs[key]) if key in runs else missing(file_name, directory)
    loaded = [*runs.values(), *sweeps.values()]
    lines += ["## Limitations", "", *[f"- {item}" for item in LIMITATIONS], ""]
    if loaded:
        lines += ["## How to cite", "", how_to_cite(loaded), ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    global LINK
    directory = Path(argv[0]) if argv else Path("results")
    out = Path(argv[1]) if len(argv) > 1 else directory / "findings.md"
    relative = os.path.relpath(DOCS, out.resolve().parent)
    LINK = "" if relative == "." else relative + "/"
    out.write_text(findings(directory), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
