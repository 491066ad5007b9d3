"""Results: an ArviZ DataTree per run, its summary, and netCDF files.

A run is forward Monte Carlo from the priors, so it uses ArviZ's names for
that: group ``prior`` holds the parameters and ``prior_predictive`` the
model outputs, each a variable along the single sample dimension ``draw``.
Non-finite outputs are kept, counted per output in the variable's
``nonfinite_count`` attribute, and reported by :func:`summary`.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._model import Model

PARAMETERS_GROUP = "prior"
OUTPUTS_GROUP = "prior_predictive"
SAMPLE_DIM = "draw"
SUMMARY_PROB = 0.9


TRAJECTORIES_GROUP = "trajectories"
NONFINITE_GROUP = "nonfinite_draws"
BAND_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)


def to_datatree(model: Model, columns: dict[str, np.ndarray], attrs: dict[str, Any],
                series: dict[str, np.ndarray] | None = None) -> xr.DataTree:
    """Assemble a run's columns (and a model's trajectory summaries) into the results DataTree."""
    def dataset(entries):
        variables = {}
        for entry in entries:
            values = columns[entry.name]
            var_attrs = {"units": entry.units, "long_name": entry.doc}
            if entry in model.outputs:
                var_attrs["nonfinite_count"] = int(np.count_nonzero(~np.isfinite(values)))
            variables[entry.name] = xr.Variable((SAMPLE_DIM,), values, var_attrs)
        return xr.Dataset(variables, coords={SAMPLE_DIM: np.arange(len(values))})

    outputs = dataset(model.outputs)
    counts = {name: outputs[name].attrs["nonfinite_count"] for name in model.output_names}
    root_attrs = {**attrs, "nonfinite_counts": json.dumps(counts), "sample_dims": SAMPLE_DIM,
                  "parameters_group": PARAMETERS_GROUP, "outputs_group": OUTPUTS_GROUP}
    groups = {"/": xr.Dataset(attrs=root_attrs), PARAMETERS_GROUP: dataset(model.parameters), OUTPUTS_GROUP: outputs}
    if model.trajectories is not None and series:
        groups[TRAJECTORIES_GROUP] = _trajectories_dataset(model.trajectories, series)
    groups[NONFINITE_GROUP] = _nonfinite_draws(model, columns)
    return xr.DataTree.from_dict(groups)


def _nonfinite_draws(model: Model, columns: dict[str, np.ndarray]) -> xr.Dataset:
    """For each output, the indices of the draws where it is NaN or infinite (and which it is)."""
    variables = {}
    for output in model.outputs:
        values = columns[output.name]
        index = np.flatnonzero(~np.isfinite(values))
        dim = f"{output.name}_nonfinite"
        variables[f"{output.name}_draw"] = xr.Variable((dim,), index.astype(np.int64),
                                                       {"long_name": f"draws where {output.name} is not finite"})
        variables[f"{output.name}_value"] = xr.Variable((dim,), values[index],
                                                        {"long_name": f"{output.name} there (NaN, +inf or -inf)"})
    return xr.Dataset(variables)


def nonfinite_draws(results: xr.DataTree, output: str) -> np.ndarray:
    """Indices of the draws where ``output`` is NaN or infinite."""
    return np.asarray(results[NONFINITE_GROUP][f"{output}_draw"].values)


def _trajectories_dataset(spec, series: dict[str, np.ndarray]) -> xr.Dataset:
    """Histogram counts per time (all draws) and the full series of the first draws.

    Series sharing one range share the bin dimension ``bin`` (and the range is in the
    dataset's attributes); otherwise each has its own ``<name>_bin``. Every counts variable
    carries its range in its attributes.
    """
    shared = spec.shared_range
    variables, coords = {}, {spec.dim: np.asarray(spec.coords)}
    for each in spec.series:
        name = each.name
        bin_dim = "bin" if shared else f"{name}_bin"
        edges = each.lower + each.bin_width * np.arange(each.bins + 1)
        coords[f"{bin_dim}_lower"] = (bin_dim, np.concatenate([[-np.inf], edges]))
        variables[name] = xr.Variable(("kept_draw", spec.dim), series[f"{name}/kept"],
                                      {"units": each.units, "long_name": f"{each.doc} (first draws, in full)"})
        variables[f"{name}_counts"] = xr.Variable(
            (spec.dim, bin_dim), series[f"{name}/counts"],
            {"long_name": f"draws per bin of {name}; bin 0 is below {bin_dim}_lower[1], the last bin is at or "
                          "above upper; NaN values are not counted", **_range_attrs(each)})
    coords["kept_draw"] = np.arange(len(series[f"{spec.names[0]}/kept"]))
    return xr.Dataset(variables, coords=coords, attrs=_range_attrs(spec.series[0]) if shared else {})


def _range_attrs(series) -> dict[str, Any]:
    return {"lower": series.lower, "upper": series.upper, "bin_width": series.bin_width, "units": series.units,
            "band_error": f"quantiles read from the counts are within {series.bin_width / 2:g} {series.units} "
                          "(half a bin) of the exact quantile of all draws, inside [lower, upper)"}


def trajectory_bands(results: xr.DataTree, probs: tuple[float, ...] = BAND_PROBS) -> xr.Dataset:
    """Quantiles of each trajectory at each time, over all draws, from the streamed histograms.

    Each quantile is the midpoint of the bin holding it: within half a bin
    width (0.005 OOM for the trajectory model) of the exact sample quantile.
    A quantile below the histogram's range is -inf, above it +inf.
    """
    data = results[TRAJECTORIES_GROUP].to_dataset()
    out = {}
    for name in data.data_vars:
        if not name.endswith("_counts"):
            continue
        # The range is the variable's own (or, in files written before, the dataset's).
        attrs = {**data.attrs, **data[name].attrs}
        width, lower = float(attrs["bin_width"]), float(attrs["lower"])
        counts = np.asarray(data[name].values)
        cumulative = np.cumsum(counts, axis=1)
        total = cumulative[:, -1:]
        # The k-th smallest draw (k = ceil(q n), at least 1) sits in the first bin whose cumulative count reaches k.
        ranks = np.maximum(np.ceil(np.asarray(probs)[None, :] * total), 1)
        index = np.stack([np.searchsorted(row, r) for row, r in zip(cumulative, ranks)])
        mid = lower + (index - 1 + 0.5) * width
        mid = np.where(index == 0, -np.inf, np.where(index == counts.shape[1] - 1, np.inf, mid))
        base = name[: -len("_counts")]
        out[base] = xr.Variable((data[name].dims[0], "quantile"), mid, {"units": attrs["units"]})
    dim = next(iter(out.values())).dims[0]
    return xr.Dataset(out, coords={dim: data[dim].values, "quantile": np.asarray(probs)})


def nonfinite_counts(results: xr.DataTree) -> dict[str, int]:
    """Number of NaN or infinite values of each output."""
    return json.loads(results.attrs["nonfinite_counts"])


def summary(results: xr.DataTree, var_names: list[str] | None = None, group: str = OUTPUTS_GROUP) -> pd.DataFrame:
    """Mean, sd, 5/50/95% quantiles and 90% HDI of each output over its finite draws.

    ``nonfinite`` counts the draws that were NaN or infinite (a takeoff that
    never happens, say); the statistics exclude them. There is no r_hat or
    ESS: the draws are independent.
    """
    data = results[group].to_dataset()
    names = var_names or list(data.data_vars)
    # numpy's sorts release the GIL: one thread per output uses every core.
    with ThreadPoolExecutor() as pool:
        rows = list(pool.map(lambda name: _summary_row(np.asarray(data[name].values)), names))
    return pd.DataFrame(rows, index=names)


def _summary_row(values: np.ndarray) -> dict[str, float]:
    finite = values[np.isfinite(values)]  # a copy, partitioned in place below
    n = finite.size
    row = {"mean": np.nan, "sd": np.nan, "q5": np.nan, "q50": np.nan, "q95": np.nan,
           "hdi90_lower": np.nan, "hdi90_upper": np.nan, "nonfinite": int(values.size - n)}
    if n == 0:
        return row
    row["mean"] = finite.mean(dtype=np.float64)
    row["sd"] = finite.std(dtype=np.float64, ddof=1) if n > 1 else 0.0
    # One partition serves the quantiles and the HDI: every order statistic
    # they read is put in its sorted place, each in linear time.
    positions = np.array(SUMMARY_QUANTILES) * (n - 1)
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    span, count = _hdi_span(n, SUMMARY_PROB)
    finite.partition(sorted({*below.tolist(), *above.tolist(), count - 1, span}))
    for name, low, high, h in zip(("q5", "q50", "q95"), below, above, positions):
        row[name] = _lerp(float(finite[low]), float(finite[high]), float(h - low))
    row["hdi90_lower"], row["hdi90_upper"] = _hdi_partitioned(finite, span, count)
    return row


SUMMARY_QUANTILES = (0.05, 0.5, 0.95)


def _lerp(a: float, b: float, t: float) -> float:
    """Linear interpolation as numpy's quantile does it (its 'linear' method)."""
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def _hdi_span(n: int, prob: float) -> tuple[int, int]:
    """Draws between an HDI's two ends, and the number of candidate intervals (as ArviZ)."""
    span = min(int(np.floor(prob * n)), n - 1)
    return span, n - span


def _hdi_partitioned(values: np.ndarray, span: int, count: int) -> tuple[float, float]:
    """HDI ends from ``values`` partitioned at ``count - 1`` and ``span``: the narrowest
    interval must start among the ``count`` smallest draws and end among the ``count`` largest."""
    if 2 * count >= values.size:
        values = np.sort(values)
        lows, highs = values[:count], values[span:]
    else:
        lows, highs = np.sort(values[:count]), np.sort(values[span:])
    best = int(np.argmin(np.subtract(highs, lows, dtype=np.float64)))
    return float(lows[best]), float(highs[best])


def hdi(values: np.ndarray, prob: float) -> tuple[float, float]:
    """Highest-density interval: the narrowest interval holding ``prob`` of the draws.

    The same answer as ArviZ's ``hdi(method="nearest")``, which sorts all
    draws; only the lowest and highest (1 - prob) shares can hold its ends, so
    this partitions once (linear time) and sorts just those two tails.
    """
    span, count = _hdi_span(values.size, prob)
    parts = np.partition(values, [count - 1, span])
    return _hdi_partitioned(parts, span, count)


def rank_correlations(results: xr.DataTree, outputs: list[str] | None = None,
                      max_draws: int = 200_000) -> pd.DataFrame:
    """Spearman rank correlation of each uncertain parameter with each output.

    A cheap screen of which inputs drive an output (monotone effects only;
    Sobol indices are the full answer). Rows are the parameters that vary,
    columns the outputs; each output uses the draws where it is finite. Only
    the first ``max_draws`` draws are used: they are a random sample of the
    run, and the correlations' sampling error is then below 0.003.
    """
    import scipy.stats

    params = results[PARAMETERS_GROUP].to_dataset()
    data = results[OUTPUTS_GROUP].to_dataset()
    varying = [n for n in params.data_vars if np.ptp(params[n].values[:max_draws]) > 0]
    table = {}
    for name in outputs or list(data.data_vars):
        values = np.asarray(data[name].values[:max_draws], dtype=np.float64)
        finite = np.isfinite(values)
        column = {}
        for param in varying:
            x = np.asarray(params[param].values[:max_draws], dtype=np.float64)[finite]
            y = values[finite]
            constant = y.size < 3 or np.ptp(y) == 0
            column[param] = np.nan if constant else scipy.stats.spearmanr(x, y).statistic
        table[name] = column
    return pd.DataFrame(table)


DIFFERENCE_GROUP = "difference"


def paired_differences(model: Model, a: xr.DataTree, b: xr.DataTree) -> xr.DataTree:
    """Both runs (groups ``a`` and ``b``) and the per-draw differences B - A of every output."""
    differences = {}
    counts = {}
    for output in model.outputs:
        with np.errstate(invalid="ignore"):  # inf - inf, set to 0 or kept as NaN just below
            values = (np.asarray(b[OUTPUTS_GROUP][output.name].values, np.float64)
                      - np.asarray(a[OUTPUTS_GROUP][output.name].values, np.float64))
        # inf - inf is NaN; an equal pair of +inf (neither scenario reaches TAI) is no difference at all
        both_same = np.asarray(a[OUTPUTS_GROUP][output.name].values) == np.asarray(b[OUTPUTS_GROUP][output.name].values)
        values = np.where(both_same, 0.0, values)
        counts[output.name] = int(np.count_nonzero(~np.isfinite(values)))
        differences[output.name] = xr.Variable(
            (SAMPLE_DIM,), values.astype(a[OUTPUTS_GROUP][output.name].dtype),
            {"units": output.units, "long_name": f"B - A: {output.doc}", "worse": output.worse or "",
             "nonfinite_count": counts[output.name]})
    attrs = {"model": model.name, "kind": "comparison", "seed": a.attrs["seed"], "draws": a.attrs["draws"],
             "sampler": a.attrs["sampler"], "dtype": a.attrs["dtype"], "version": a.attrs["version"],
             "scenario_a": a.attrs["priors_source"], "scenario_b": b.attrs["priors_source"],
             "nonfinite_counts": json.dumps(counts),
             "note": "draw i of a and b share its random numbers (common random numbers), so differences are paired"}
    tree = {"/": xr.Dataset(attrs=attrs),
            DIFFERENCE_GROUP: xr.Dataset(differences, coords={SAMPLE_DIM: np.arange(int(a.attrs["draws"]))})}
    for label, run in (("a", a), ("b", b)):
        tree[label] = xr.Dataset(attrs=run.attrs)
        for group, node in run.children.items():
            tree[f"{label}/{group}"] = node.to_dataset()
    return xr.DataTree.from_dict(tree)


def compare_summary(comparison: xr.DataTree) -> pd.DataFrame:
    """Distribution of each paired difference B - A and the probability that B is worse.

    ``p_b_worse`` is the share of draws (where the difference is finite)
    with B worse than A in the output's "worse" direction (its ``worse``
    attribute: a shorter danger band, faster growth after the cap, ...);
    ``p_equal`` the share where they are equal. Outputs without a direction
    get NaN there.
    """
    data = comparison[DIFFERENCE_GROUP].to_dataset()
    table = summary(comparison, group=DIFFERENCE_GROUP)[["mean", "q5", "q50", "q95", "nonfinite"]]
    worse, equal = [], []
    for name in table.index:
        values = np.asarray(data[name].values)
        finite = values[np.isfinite(values)]
        direction = data[name].attrs.get("worse", "")
        n = max(finite.size, 1)
        equal.append(np.count_nonzero(finite == 0) / n)
        if direction == "higher":
            worse.append(np.count_nonzero(finite > 0) / n)
        elif direction == "lower":
            worse.append(np.count_nonzero(finite < 0) / n)
        else:
            worse.append(np.nan)
    table.insert(4, "p_b_worse", worse)
    table.insert(5, "p_equal", equal)
    return table


def format_summary(table: pd.DataFrame) -> str:
    """The summary as text, five significant figures (2038.4 stays 2038.4)."""
    return table.to_string(float_format=lambda x: f"{x:.5g}")


def save(results: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write results to netCDF atomically (a temporary file renamed into place)."""
    from ._io import write_atomic

    path = Path(path)
    write_atomic(path, lambda temp: results.to_netcdf(temp, engine="h5netcdf"))
    return path


def load(path: str | os.PathLike) -> xr.DataTree:
    """Read results written by :func:`save` fully into memory."""
    with xr.open_datatree(path, engine="h5netcdf") as tree:
        return tree.load()
