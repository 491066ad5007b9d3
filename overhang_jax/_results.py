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
from arviz_stats.base import array_stats

from ._model import Model

PARAMETERS_GROUP = "prior"
OUTPUTS_GROUP = "prior_predictive"
SAMPLE_DIM = "draw"
SUMMARY_PROB = 0.9


def to_datatree(model: Model, columns: dict[str, np.ndarray], attrs: dict[str, Any]) -> xr.DataTree:
    """Assemble a run's columns into the results DataTree."""
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
    return xr.DataTree.from_dict(
        {"/": xr.Dataset(attrs=root_attrs), PARAMETERS_GROUP: dataset(model.parameters), OUTPUTS_GROUP: outputs}
    )


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
    finite = values[np.isfinite(values)]
    row = {"mean": np.nan, "sd": np.nan, "q5": np.nan, "q50": np.nan, "q95": np.nan,
           "hdi90_lower": np.nan, "hdi90_upper": np.nan}
    if finite.size:
        q5, q50, q95 = np.quantile(finite, [0.05, 0.5, 0.95])
        lower, upper = hdi(finite, SUMMARY_PROB)
        row.update(mean=finite.mean(dtype=np.float64),
                   sd=finite.std(dtype=np.float64, ddof=1) if finite.size > 1 else 0.0,
                   q5=q5, q50=q50, q95=q95, hdi90_lower=lower, hdi90_upper=upper)
    row["nonfinite"] = int(values.size - finite.size)
    return row


def hdi(values: np.ndarray, prob: float) -> tuple[float, float]:
    """Highest-density interval: the narrowest interval holding ``prob`` of the draws.

    The same answer as ArviZ's ``hdi(method="nearest")``, which sorts all
    draws; only the lowest and highest (1 - prob) shares can hold its ends, so
    this partitions once (linear time) and sorts just those two tails: about
    4x faster at 1e7 draws.
    """
    n = values.size
    span = min(int(np.floor(prob * n)), n - 1)  # draws between the two ends
    count = n - span  # candidate intervals
    if 2 * count >= n:
        return tuple(float(x) for x in array_stats.hdi(values, prob, axis=0))
    parts = np.partition(values, [count - 1, span])
    lows, highs = np.sort(parts[:count]), np.sort(parts[span:])
    best = int(np.argmin(np.subtract(highs, lows, dtype=np.float64)))
    return float(lows[best]), float(highs[best])


def format_summary(table: pd.DataFrame) -> str:
    """The summary as text, five significant figures (2038.4 stays 2038.4)."""
    return table.to_string(float_format=lambda x: f"{x:.5g}")


def save(results: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write results to netCDF atomically (a temporary file renamed into place)."""
    from ._runner import write_atomic

    path = Path(path)
    write_atomic(path, lambda temp: results.to_netcdf(temp, engine="h5netcdf"))
    return path


def load(path: str | os.PathLike) -> xr.DataTree:
    """Read results written by :func:`save` fully into memory."""
    with xr.open_datatree(path, engine="h5netcdf") as tree:
        return tree.load()
