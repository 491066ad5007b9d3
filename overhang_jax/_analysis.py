"""What the results say: summaries (computed with ArviZ), paired comparisons, rank
correlations, trajectory bands, and plain sentences about a comparison."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import xarray as xr

from ._results import OUTPUTS_GROUP, TRAJECTORIES_GROUP, outputs, parameters, refuse_sweep

SUMMARY_PROB = 0.9
SUMMARY_QUANTILES = (0.05, 0.5, 0.95)
BAND_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)


def summary(results: xr.DataTree, var_names: list[str] | None = None, group: str = OUTPUTS_GROUP) -> pd.DataFrame:
    """Units, mean, sd, 5/50/95% quantiles and 90% HDI of each variable over its finite draws.

    The statistics are ArviZ's (``arviz_stats``), computed on the finite
    draws of each variable; ``nonfinite`` counts the draws that were NaN or
    infinite (a takeoff that never happens, say). There is no r_hat or ESS:
    the draws are independent.
    """
    refuse_sweep(results, "summary", "sweep_summary(results)")
    data = results[group].to_dataset()
    names = var_names or list(data.data_vars)
    # numpy's sorts and partitions release the GIL: one thread per variable uses every core.
    with ThreadPoolExecutor() as pool:
        rows = list(pool.map(lambda name: _summary_row(np.asarray(data[name].values).ravel()), names))
    table = pd.DataFrame(rows, index=names)
    table.insert(0, "units", [data[name].attrs.get("units", "") for name in names])
    return table


def _summary_row(values: np.ndarray) -> dict[str, float]:
    from arviz_stats.base import array_stats

    finite = values[np.isfinite(values)]
    row = dict.fromkeys(("mean", "sd", "q5", "q50", "q95", "hdi90_lower", "hdi90_upper"), np.nan)
    row["nonfinite"] = int(values.size - finite.size)
    if finite.size == 0:
        return row
    # Moments accumulate in float64 (a float32 sum of 1e7 years drifts); order statistics are exact in any width.
    wide = finite.astype(np.float64)
    row["mean"] = float(array_stats.mean(wide))
    row["sd"] = float(array_stats.std(wide)) if finite.size > 1 else 0.0
    row["q5"], row["q50"], row["q95"] = (float(q) for q in array_stats.quantile(wide, list(SUMMARY_QUANTILES)))
    row["hdi90_lower"], row["hdi90_upper"] = (float(x) for x in array_stats.hdi(finite, SUMMARY_PROB))
    return row


def format_summary(table: pd.DataFrame) -> str:
    """The summary as text, five significant figures (2038.4 stays 2038.4)."""
    return table.to_string(float_format=lambda x: f"{x:.5g}")


def compare_summary(comparison: xr.DataTree) -> pd.DataFrame:
    """Distribution of each paired difference B - A and the probability that B is worse.

    ``p_b_worse`` is the share of draws (where the difference is finite)
    with B worse than A in the output's "worse" direction (its ``worse``
    attribute: a shorter danger band, faster growth after the cap, ...);
    ``p_equal`` the share where they are equal. Outputs without a direction
    get NaN there.
    """
    differences = outputs(comparison)
    table = summary(comparison)[["units", "mean", "q5", "q50", "q95", "nonfinite"]]
    worse, equal = [], []
    for name in table.index:
        shares = _shares(differences[name])
        equal.append(shares["equal"])
        worse.append(shares.get("worse", np.nan))
    table.insert(5, "p_b_worse", worse)
    table.insert(6, "p_equal", equal)
    return table


def _shares(difference: xr.DataArray) -> dict[str, float]:
    """Shares of the finite draws where B - A is above, below or at zero, and which of them is worse."""
    values = np.asarray(difference.values)
    finite = values[np.isfinite(values)]
    n = max(finite.size, 1)
    shares = {"higher": np.count_nonzero(finite > 0) / n, "lower": np.count_nonzero(finite < 0) / n,
              "equal": np.count_nonzero(finite == 0) / n}
    direction = difference.attrs.get("worse", "")
    if direction in ("higher", "lower"):
        shares["worse"] = shares[direction]
    return shares


# What "B worse" and "B better" than A mean for an output, as verb phrases with B as the subject.
# Outputs not listed get a plain sentence from their name and direction.
COMPARISON_PHRASES = {
    "tai_delay": ("brings TAI earlier (a backfire)", "delays TAI"),
    "overhang_at_end": ("leaves a bigger overhang when the cap ends", "leaves a smaller one"),
    "max_growth_after_end": ("makes growth in the five years after the cap faster", "makes it slower"),
    "danger_band_years_policy": ("shortens the time spent in the danger band", "lengthens it"),
    "lead_at_tai": ("shrinks the leader's lead over evaders at TAI", "widens it"),
}
UNIT_WORDS = {"yr": "years", "year": "years", "1": ""}


def comparison_findings(comparison: xr.DataTree, names: list[str] | None = None) -> list[str]:
    """Plain sentences on what B does relative to A, draw by draw, computed from a comparison.

    One sentence per output in ``names`` (default: the outputs of
    :data:`COMPARISON_PHRASES` when the model has any, otherwise every
    output): how often B is worse and better, and by how much. Outputs equal
    in every draw are named together in a last sentence.
    """
    differences = outputs(comparison)
    if names is None:
        names = [n for n in COMPARISON_PHRASES if n in differences] or list(differences.data_vars)
    sentences, unchanged = [], []
    for name in names:
        difference = differences[name]
        values = np.asarray(difference.values, np.float64).ravel()
        finite = values[np.isfinite(values)]
        if finite.size and np.all(finite == 0):
            unchanged.append(name)
            continue
        sentences.append(_finding(name, difference, finite, values.size))
    if unchanged:
        sentences.append(f"B and A give the same {', '.join(unchanged)} in every draw.")
    return sentences


def _finding(name: str, difference: xr.DataArray, finite: np.ndarray, draws: int) -> str:
    units = difference.attrs.get("units", "")
    units = UNIT_WORDS.get(units, units)
    shares = _shares(difference)
    nonfinite = draws - finite.size
    tail = f" ({nonfinite:,} draws without a finite difference are left out.)" if nonfinite else ""
    direction = difference.attrs.get("worse", "")
    if direction not in ("higher", "lower"):
        label = name.replace("_", " ")
        return (f"{label[0].upper()}{label[1:]} is higher with B than with A in {_percent(shares['higher'])} of "
                f"draws and lower in {_percent(shares['lower'])}; the median change is "
                f"{_quantity(float(np.median(finite)), units)}.{tail}")

    def by_how_much(values: np.ndarray) -> str:
        if not values.size:
            return ""
        magnitude = np.abs(values)
        return (f", by up to {_quantity(magnitude.max(), units)} "
                f"(median {_quantity(float(np.median(magnitude)), units)})")

    worse_phrase, better_phrase = COMPARISON_PHRASES.get(
        name, (f"makes {name.replace('_', ' ')} worse ({direction} is worse)", "makes it better"))
    worse = finite > 0 if direction == "higher" else finite < 0
    better = (finite != 0) & ~worse
    n = max(finite.size, 1)
    parts = [f"{phrase} in {_percent(np.count_nonzero(chosen) / n)} of draws{by_how_much(finite[chosen])}"
             for phrase, chosen in ((worse_phrase, worse), (better_phrase, better)) if chosen.any()]
    if shares["equal"]:
        parts.append(f"changes nothing in {_percent(shares['equal'])}")
    if not worse.any():
        parts.insert(0, f"never {worse_phrase}")
    return f"Compared with A, B {'; it '.join(parts)}.{tail}"


def _percent(share: float) -> str:
    """A share as a percentage a reader can quote: 1.3%, 0.04%, 100%."""
    percent = 100 * share
    if percent in (0, 100):
        return f"{percent:.0f}%"
    if percent < 0.1:
        return f"{percent:.1g}%"
    if percent > 99.9:
        return "over 99.9%"
    return f"{percent:.1f}%"


def _quantity(x: float, units: str) -> str:
    """Two or three significant figures and the units: 1.9 years, 0.42 OOM, 2040 years."""
    number = f"{x:.2g}" if abs(x) < 10 else f"{x:.0f}"
    return f"{number} {units}".strip()


def rank_correlations(results: xr.DataTree, output_names: list[str] | None = None,
                      max_draws: int = 200_000) -> pd.DataFrame:
    """Spearman rank correlation of each uncertain parameter with each output.

    A cheap screen of which inputs drive an output (monotone effects only;
    Sobol indices are the full answer). Rows are the parameters that vary,
    columns the outputs; each output uses the draws where it is finite. Only
    the first ``max_draws`` draws are used: they are a random sample of the
    run, and the correlations' sampling error is then below 0.003.
    """
    import scipy.stats

    refuse_sweep(results, "rank_correlations")
    params = parameters(results).isel(draw=slice(0, max_draws))
    data = outputs(results).isel(draw=slice(0, max_draws))
    varying = [n for n in params.data_vars if np.ptp(params[n].values) > 0]
    table = {}
    for name in output_names or list(data.data_vars):
        values = np.asarray(data[name].values, dtype=np.float64)
        finite = np.isfinite(values)
        column = {}
        for param in varying:
            x = np.asarray(params[param].values, dtype=np.float64)[finite]
            y = values[finite]
            constant = y.size < 3 or np.ptp(y) == 0
            column[param] = np.nan if constant else scipy.stats.spearmanr(x, y).statistic
        table[name] = column
    return pd.DataFrame(table)


def trajectory_bands(results: xr.DataTree, probs: tuple[float, ...] = BAND_PROBS) -> xr.Dataset:
    """Quantiles of each trajectory at each time, over all draws, from the streamed histograms.

    Each quantile is the midpoint of the bin holding it: within half a bin
    width (0.005 OOM for the trajectory model) of the exact sample quantile.
    A quantile below the histogram's range is -inf, above it +inf.
    """
    refuse_sweep(results, "trajectory_bands")
    data = results[TRAJECTORIES_GROUP].to_dataset()
    out = {}
    for name in data.data_vars:
        if not name.endswith("_counts"):
            continue
        # The range is the variable's own (or, when every series shares one, the dataset's).
        attrs = {**data.attrs, **data[name].attrs}
        width, lower = float(attrs["bin_width"]), float(attrs["lower"])
        counts = np.asarray(data[name].values)
        cumulative = np.cumsum(counts, axis=1, dtype=np.int64)
        total = cumulative[:, -1:]
        # The k-th smallest draw (k = ceil(q n), at least 1) sits in the first bin whose cumulative count reaches k.
        ranks = np.maximum(np.ceil(np.asarray(probs)[None, :] * total), 1)
        index = np.stack([np.searchsorted(row, r) for row, r in zip(cumulative, ranks)])
        mid = lower + (index - 1 + 0.5) * width
        mid = np.where(index == 0, -np.inf, np.where(index == counts.shape[1] - 1, np.inf, mid))
        mid = np.where(total == 0, np.nan, mid)  # a time where no draw has a value (NaN is not counted)
        base = name[: -len("_counts")]
        out[base] = xr.Variable((data[name].dims[0], "quantile"), mid, {"units": attrs["units"]})
    dim = next(iter(out.values())).dims[0]
    return xr.Dataset(out, coords={dim: data[dim].values, "quantile": np.asarray(probs)})


# --------------------------------------------------------------------------
# The policy world of one trajectory run: its headline shares.

POLICY_MODELS = ("trajectory",)
"""Models whose runs hold a default and a policy world (:func:`policy_shares`)."""
BACKFIRE_TOLERANCE = 0.05
"""Years by which TAI must come earlier with the cap to count as a backfire (tai_delay below minus this):
a twentieth of a year, half the model's time step, so that float rounding is never a backfire."""
FASTER_TOLERANCE = 0.01
"""OOM/yr by which growth after the cap must exceed the default world's, in the same years, to count as
faster."""
SHARE_LABELS = {
    "cap_binds": "the cap binds (withholds growth at some step)",
    "cap_ends_before_tai": "the cap ends before the default world reaches TAI",
    "backfire": f"backfire: TAI earlier than without the cap (by > {BACKFIRE_TOLERANCE:g} yr)",
    "backfire_median_years": "  backfire, median size (yr)",
    "backfire_q95_years": "  backfire, 95th percentile of its size (yr)",
    "faster_growth_after": f"growth after the cap faster than without it (by > {FASTER_TOLERANCE:g} OOM/yr)",
    "faster_growth_median_oom_per_year": "  faster growth, median excess (OOM/yr)",
}
"""The columns of :func:`policy_shares`, as a reader names them."""


def policy_shares(results: xr.DataTree, backfire_tolerance: float = BACKFIRE_TOLERANCE,
                  faster_tolerance: float = FASTER_TOLERANCE) -> pd.Series:
    """The policy world's headline shares in one trajectory run, each over all its draws.

    Both worlds of a draw share its random numbers, so each share compares the
    policy world with the default world draw by draw:

    * ``cap_binds``: the cap withheld growth at some step;
    * ``cap_ends_before_tai``: it ended before the default world reached TAI;
    * ``backfire``: the policy world reaches TAI earlier than the default world,
      by more than ``backfire_tolerance`` years (``tai_delay`` below minus it; a
      policy world reaching TAI by 2100 when the default world does not counts
      too), with the size of the backfire in years (median and 95th
      percentile over the backfire draws with a finite delay; NaN when none);
    * ``faster_growth_after``: the frontier grows faster in the five years after
      the cap than the default world in the same years, by more than
      ``faster_tolerance`` OOM/yr, with the median excess.

    :func:`overhang_jax.sweep_shares` gives them at each value of a sweep.
    """
    from ._results import ResultsError

    if results.attrs.get("model") not in POLICY_MODELS or results.attrs.get("kind", "run") != "run":
        raise ResultsError(f"policy_shares reads one run of the {', '.join(POLICY_MODELS)} model, not a "
                           f"{results.attrs.get('kind', 'run')} of '{results.attrs.get('model')}'"
                           + ("; for a sweep, use sweep_shares" if results.attrs.get("kind") == "sweep" else ""))
    data = outputs(results)

    def column(name: str) -> np.ndarray:
        return np.asarray(data[name].values, np.float64)

    delay = column("tai_delay")
    backfire = delay < -backfire_tolerance  # NaN (neither world reaches TAI) is no backfire
    size = -delay[backfire & np.isfinite(delay)]
    with np.errstate(invalid="ignore"):
        excess = column("max_growth_after_end") - column("max_growth_default")
    faster = excess > faster_tolerance
    draws = delay.size

    def quantile(values: np.ndarray, q: float) -> float:
        return float(np.quantile(values, q)) if values.size else np.nan

    return pd.Series({
        "cap_binds": np.count_nonzero(column("cap_binds") == 1) / draws,
        "cap_ends_before_tai": np.count_nonzero(column("cap_ends_before_tai") == 1) / draws,
        "backfire": np.count_nonzero(backfire) / draws,
        "backfire_median_years": quantile(size, 0.5),
        "backfire_q95_years": quantile(size, 0.95),
        "faster_growth_after": np.count_nonzero(faster) / draws,
        "faster_growth_median_oom_per_year": quantile(excess[faster], 0.5),
    })
