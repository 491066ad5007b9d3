"""What the results say: summaries (computed with ArviZ), paired comparisons, rank
correlations, trajectory bands, and plain sentences about a comparison."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import xarray as xr

from .._results import OUTPUTS_GROUP, TRAJECTORIES_GROUP, outputs, parameters, refuse_sweep

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


def redraw_sentence(results: xr.DataTree, model=None) -> str | None:
    """How many draws of a run had their parameter set redrawn (``Model.redraw``), in words; None when
    the run redrew none by design (the model declares no redraw, its switch is off, or the sets were
    given). ``model``: the run's Model (default: the shipped model it names)."""
    from ..models._registry import MODEL_MODULES, get_model

    attrs = results.attrs
    if model is None:
        model = get_model(attrs["model"]) if attrs.get("model") in MODEL_MODULES else None
    spec = model.redraw if model is not None else None
    data = outputs(results)
    if spec is None or not int(attrs.get("redrawn", 0)) or spec.count_output not in data:
        return None
    rejected = np.asarray(data[spec.count_output].values, np.float64).ravel()
    draws = rejected.size
    left = int(np.sum(rejected >= spec.max_attempts))
    redrawn = int(np.sum(rejected > 0))
    total = int(np.sum(rejected))
    most = int(rejected.max()) if draws else 0
    left_words = ("none left inadmissible" if left == 0 else
                  f"{left:,} left inadmissible after {spec.max_attempts} sets each (their outputs are NaN)")
    return (f"{redrawn:,} of {draws:,} draws ({100 * redrawn / draws:.1f}%) were redrawn because {spec.reason} "
            f"rejected their first parameter set; {total:,} redraws in all ({total / draws:.3g} per draw, at most "
            f"{most:,} for one draw); {left_words}.")


def horizon_note(results: xr.DataTree) -> str:
    """The model's sentence on how its outputs count what is not reached by the end of its horizon."""
    from ..models._registry import MODEL_MODULES, get_model

    model = results.attrs.get("model")
    return get_model(model).horizon_note if model in MODEL_MODULES else ""


TIME_UNITS = ("yr", "year")
"""How outputs spell a time in years, calendar years and durations alike ("year": files written before
the models spelled it one way)."""


def format_number(x: float, units: str = "") -> str:
    """A value as a reader quotes it: a calendar year to one decimal (2038.4), anything else to three
    significant figures (89.8 %/yr, 0.612 OOM/yr, 1.62 yr) -- the one rule every summary, report and
    findings page uses, so one number reads the same wherever it is printed."""
    x = float(x)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    # A year on the calendar needs its decimal (2038.4); three significant figures would round it to 2.04e+03.
    if units in TIME_UNITS and abs(x) >= 1000:
        return f"{x:.1f}"
    return f"{x:.3g}"


def format_summary(table: pd.DataFrame) -> str:
    """The summary as text, each number by :func:`format_number` for its row's units."""
    shown = table.astype(object).copy()
    for name, row in table.iterrows():
        for column, value in row.items():
            if column not in ("units", "nonfinite") and isinstance(value, (float, np.floating)):
                shown.at[name, column] = format_number(value, str(row.get("units", "")))
    if "nonfinite" in shown:
        shown["nonfinite"] = [f"{int(v):,}" for v in table["nonfinite"]]
    return shown.to_string()


CAP_OUTPUTS = {
    "trajectory": ("overhang_at_end", "catchable_overhang_at_end", "cap_ends_before_tai", "cap_starts_before_tai",
                   "cap_binds", "cap_withheld", "max_growth_after_end", "max_growth_regulated",
                   "max_run_growth_after_end", "max_growth_default", "tai_delay"),
}
"""Per model, the outputs defined by a cap (its start, its end, the five years after it ends, the delay
it causes): in a scenario with no cap they are numbers about a cap that does not exist."""
NO_CAP = "no cap in this scenario"


def outputs_without_a_cap(attrs) -> tuple[str, ...]:
    """The outputs of a cap that a run's scenario does not have (``attrs``: the run's attributes): its
    model's :data:`CAP_OUTPUTS` when its priors set no cap, else none."""
    from ._comparison import policy_in_words

    model = attrs.get("model")
    return CAP_OUTPUTS[model] if model in CAP_OUTPUTS and policy_in_words(attrs) == "no cap" else ()


def outputs_left_out(results: xr.DataTree, names: list[str] | None = None) -> dict[str, str]:
    """The outputs a run's summary leaves out, each with why: about a cap the scenario does not have,
    the same value in every draw, or equal in every draw to an output already shown (the model's
    headline outputs are kept first). In the order of ``names`` (all outputs by default)."""
    from ..models._registry import MODEL_MODULES, get_model

    data = outputs(results)
    names = list(data.data_vars) if names is None else names
    model = results.attrs.get("model")
    headline = [h.output for h in get_model(model).headlines] if model in MODEL_MODULES else []
    order = [n for n in headline if n in names] + [n for n in names if n not in headline]
    values = {n: np.asarray(data[n].values, np.float64).ravel() for n in order if n in data}
    no_cap = outputs_without_a_cap(results.attrs)
    if no_cap:  # with no policy, its twins are the world without one: name that world's outputs
        order = sorted(order, key=lambda n: not n.endswith("_default"))
    kept, left_out = [], {}
    for name in (n for n in order if n in values):
        v = values[name]
        twin = next((k for k in kept if np.array_equal(v, values[k], equal_nan=True)), None)
        if name in no_cap:
            left_out[name] = NO_CAP
        elif v.size > 1 and np.all(v == v[0]):
            left_out[name] = f"{v[0]:g} in every draw"
        elif twin is not None:
            left_out[name] = f"equal to {twin} in every draw"
        else:
            kept.append(name)
    return {n: left_out[n] for n in names if n in left_out}  # in the table's order


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
