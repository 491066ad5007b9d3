"""Results files: the DataTree of a run or a comparison, written to and read from netCDF.

The layout (docs/results.md) uses ArviZ's names for forward simulation from
priors, so ArviZ reads the files with its defaults:

* ``prior``: the parameters that vary, one value per draw, dims (chain, draw)
  with a single chain (the draws are independent);
* ``prior_predictive``: the outputs, dims (chain, draw), each with its units
  and its count of NaN or infinite draws (``nonfinite_count``);
* ``constant_data``: parameters fixed to one value, stored once;
* ``trajectories`` (models with time series): per-time histograms over all
  draws and the first draws' series in full;
* ``nonfinite_draws``: for each output, the draws where it is NaN or infinite.

A comparison holds both runs under ``a`` and ``b`` and, as its own
``prior_predictive``, the paired differences B - A of every output. A run
kept with ``outputs_only`` has no ``prior`` group.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .models._schema import KEPT_TRAJECTORIES, Model

LAYOUT_VERSION = 2
"""Version of the file layout; files of layout 1 (overhang_jax 0.1.0) are refused on load."""
PARAMETERS_GROUP = "prior"
OUTPUTS_GROUP = "prior_predictive"
CONSTANTS_GROUP = "constant_data"
TRAJECTORIES_GROUP = "trajectories"
NONFINITE_GROUP = "nonfinite_draws"
CHAIN_DIM, DRAW_DIM = "chain", "draw"
SAMPLE_DIMS = (CHAIN_DIM, DRAW_DIM)

COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
"""Per-draw columns and histograms are compressed: byte shuffling puts the
exponent bytes together, and gzip's fastest level takes most of the gain
(benchmarks/RESULTS.md gives the sizes and the time it costs)."""
COMPRESSED_CHUNK = 2**18
"""Values per compressed chunk along the draws (1 MB of float32)."""
FILE_OVERHEAD = 16_384
"""Bytes of a netCDF file besides its groups: the HDF5 superblock and root structures."""
VARIABLE_OVERHEAD = 2048
"""Bytes a netCDF variable takes besides its values: HDF5's headers, dimension
scales and attributes (measured about 1.1 kB per variable; rounded up)."""


class ResultsError(ValueError):
    """A file that is not overhang_jax results, or results without what was asked of them."""


def to_datatree(model: Model, columns: Mapping[str, np.ndarray], constants: Mapping[str, float],
                attrs: Mapping[str, Any], series: Mapping[str, np.ndarray] | None = None) -> xr.DataTree:
    """Assemble a run into its DataTree.

    ``columns`` holds one array per draw for each output and for each
    parameter that varies (none of them when the run keeps outputs only);
    ``constants`` the parameters fixed to one value; ``series`` a model's
    trajectory summaries.
    """
    nonfinite = {o.name: _nonfinite_index(columns[o.name]) for o in model.outputs}

    def per_draw(entry, values):
        var_attrs = {"units": entry.units, "long_name": entry.doc}
        if entry.name in nonfinite:
            var_attrs["nonfinite_count"] = int(nonfinite[entry.name].size)
        return xr.Variable(SAMPLE_DIMS, values[np.newaxis], var_attrs)

    # No coordinate along chain or draw: a draw's index is its position (8 bytes a draw saved).
    outputs = xr.Dataset({o.name: per_draw(o, columns[o.name]) for o in model.outputs})
    varying = [p for p in model.parameters if p.name in columns]
    fixed = {p.name: xr.Variable((), np.asarray(constants[p.name], outputs[model.outputs[0].name].dtype),
                                 {"units": p.units, "long_name": p.doc})
             for p in model.parameters if p.name in constants}
    counts = {name: outputs[name].attrs["nonfinite_count"] for name in model.output_names}
    # A parameter neither per draw nor fixed was left out: the run keeps outputs only.
    outputs_only = any(p.name not in columns and p.name not in constants for p in model.parameters)
    root_attrs = {**attrs, "kind": "run", "layout_version": LAYOUT_VERSION, "nonfinite_counts": json.dumps(counts),
                  "outputs_only": int(outputs_only)}
    groups = {"/": xr.Dataset(attrs=root_attrs)}
    if varying:
        groups[PARAMETERS_GROUP] = xr.Dataset({p.name: per_draw(p, columns[p.name]) for p in varying})
    groups[OUTPUTS_GROUP] = outputs
    groups[CONSTANTS_GROUP] = xr.Dataset(fixed)
    if model.trajectories is not None and series:
        groups[TRAJECTORIES_GROUP] = _trajectories_dataset(model.trajectories, series)
    groups[NONFINITE_GROUP] = _nonfinite_draws(model, columns, nonfinite)
    return xr.DataTree.from_dict(groups)


def _nonfinite_index(values: np.ndarray) -> np.ndarray:
    """Indices of the draws where ``values`` is NaN or infinite.

    A broadcast column (one value for every draw, as :func:`planned_results`
    makes) is checked once, so planning a run of 1e10 draws takes no memory.
    """
    if values.ndim == 1 and values.strides == (0,) and values.size:
        return np.arange(values.size) if not np.isfinite(values[0]) else np.empty(0, np.int64)
    return np.flatnonzero(~np.isfinite(values))


def _nonfinite_draws(model: Model, columns: Mapping[str, np.ndarray],
                     nonfinite: Mapping[str, np.ndarray]) -> xr.Dataset:
    """For each output, the indices of the draws where it is NaN or infinite (and which it is)."""
    variables = {}
    for output in model.outputs:
        values = columns[output.name]
        index = nonfinite[output.name]
        dim = f"{output.name}_nonfinite"
        variables[f"{output.name}_draw"] = xr.Variable((dim,), index.astype(np.int64),
                                                       {"long_name": f"draws where {output.name} is not finite"})
        variables[f"{output.name}_value"] = xr.Variable((dim,), values[index],
                                                        {"long_name": f"{output.name} there (NaN, +inf or -inf)"})
    return xr.Dataset(variables)


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
            (spec.dim, bin_dim), series[f"{name}/counts"].astype(np.int32),
            {"long_name": f"draws per bin of {name}; bin 0 is below {bin_dim}_lower[1], the last bin is at or "
                          "above upper; NaN values are not counted", **_range_attrs(each)})
    coords["kept_draw"] = np.arange(len(series[f"{spec.names[0]}/kept"]))
    return xr.Dataset(variables, coords=coords, attrs=_range_attrs(spec.series[0]) if shared else {})


def _range_attrs(series) -> dict[str, Any]:
    return {"lower": series.lower, "upper": series.upper, "bin_width": series.bin_width, "units": series.units,
            "band_error": f"quantiles read from the counts are within {series.bin_width / 2:g} {series.units} "
                          "(half a bin) of the exact quantile of all draws, inside [lower, upper)"}


def paired_differences(model: Model, a: xr.DataTree, b: xr.DataTree) -> xr.DataTree:
    """Both runs (under ``a`` and ``b``) and the per-draw differences B - A of every output."""
    differences = {}
    for output in model.outputs:
        left, right = a[OUTPUTS_GROUP][output.name], b[OUTPUTS_GROUP][output.name]
        with np.errstate(invalid="ignore"):  # inf - inf, set to 0 or kept as NaN just below
            values = np.asarray(right.values, np.float64) - np.asarray(left.values, np.float64)
        # inf - inf is NaN; an equal pair of +inf (neither scenario reaches TAI) is no difference at all
        values = np.where(left.values == right.values, 0.0, values).astype(left.dtype)
        differences[output.name] = xr.Variable(
            SAMPLE_DIMS, values, {"units": output.units, "long_name": f"B - A: {output.doc}",
                                  "worse": output.worse or "", "tolerance": float(output.tolerance),
                                  "without_policy": int(output.without_policy),
                                  "nonfinite_count": int(np.count_nonzero(~np.isfinite(values)))})
    return _comparison_tree(model, a, b, xr.Dataset(differences))


def _label(attrs: Mapping[str, Any]) -> str:
    """What a run's scenario is called: its name (a shipped scenario's, a file's stem), never a path."""
    return scenario_name(attrs.get("scenario", attrs.get("priors_source", "")))


def scenario_name(label: str) -> str:
    """A scenario's name as a reader sees it; a path (in results written before runs kept their
    scenario's name) becomes its file's stem."""
    label = str(label)
    return {"": "defaults", "<priors text>": "priors text"}.get(label, Path(label).stem if label.endswith(".toml")
                                                             else label)


def _comparison_tree(model: Model, a: xr.DataTree, b: xr.DataTree, differences: xr.Dataset) -> xr.DataTree:
    counts = {name: int(differences[name].attrs.get("nonfinite_count", 0)) for name in differences.data_vars}
    attrs = {"model": model.name, "kind": "comparison", "layout_version": LAYOUT_VERSION,
             "seed": a.attrs["seed"], "draws": a.attrs["draws"], "sampler": a.attrs["sampler"],
             "dtype": a.attrs["dtype"], "version": a.attrs["version"],
             "scenario_a": _label(a.attrs), "scenario_b": _label(b.attrs),
             "nonfinite_counts": json.dumps(counts),
             "note": "draw i of a and b share its random numbers (common random numbers), so differences are "
                     "paired; prior_predictive holds the differences B - A"}
    tree = {"/": xr.Dataset(attrs=attrs), OUTPUTS_GROUP: differences}
    for label, run in (("a", a), ("b", b)):
        tree[label] = xr.Dataset(attrs=run.attrs)
        for group, node in run.children.items():
            tree[f"{label}/{group}"] = node.to_dataset()
    return xr.DataTree.from_dict(tree)


# --------------------------------------------------------------------------
# Reading: every draw of a variable as one 1-D array.


def outputs(results: xr.DataTree) -> xr.Dataset:
    """Every output of every draw, along ``draw`` (the differences B - A, for a comparison)."""
    return results[OUTPUTS_GROUP].to_dataset().isel({CHAIN_DIM: 0}, drop=True)


def parameters(results: xr.DataTree) -> xr.Dataset:
    """Every parameter of every draw, along ``draw``: point values broadcast without copies."""
    if results.attrs.get("kind") == "comparison":
        raise ResultsError("a comparison holds the parameters of each run: use parameters(comparison['a']) "
                           "or parameters(comparison['b'])")
    if results.attrs.get("outputs_only"):
        raise ResultsError("these results keep outputs only (outputs_only): the parameters of each draw were not "
                           "saved; the same run with the same seed and priors draws them again")
    varying = (results[PARAMETERS_GROUP].to_dataset().isel({CHAIN_DIM: 0}, drop=True)
               if PARAMETERS_GROUP in results.children else xr.Dataset())  # (every parameter fixed)
    draws = results[OUTPUTS_GROUP].sizes[DRAW_DIM]
    fixed = {name: xr.Variable((DRAW_DIM,), np.broadcast_to(var.values, (draws,)), var.attrs)
             for name, var in results[CONSTANTS_GROUP].to_dataset().data_vars.items()}
    return varying.assign(fixed)


def nonfinite_draws(results: xr.DataTree, output: str) -> np.ndarray:
    """Indices of the draws where ``output`` is NaN or infinite."""
    refuse_sweep(results, "nonfinite_draws")
    return np.asarray(results[NONFINITE_GROUP][f"{output}_draw"].values)


def nonfinite_counts(results: xr.DataTree) -> dict[str, int]:
    """Number of NaN or infinite values of each output."""
    return json.loads(results.attrs["nonfinite_counts"])


def refuse_sweep(results: xr.DataTree, what: str, instead: str = "") -> None:
    """Refuse a sweep where a function reads one run: say how to get the run at one value."""
    if results.attrs.get("kind") == "sweep":
        instead = f"{instead}, or " if instead else ""
        raise ResultsError(f"{what} reads one run, and these results are a sweep of {results.attrs.get('param')}: "
                           f"use {instead}{what}(sweep_run(results, value)) for the run at one value")


# --------------------------------------------------------------------------
# Files.


def save(results: xr.DataTree, path: str | os.PathLike, compress: bool = True) -> Path:
    """Write results to netCDF atomically (a temporary file renamed into place).

    Per-draw columns and histograms are compressed losslessly unless
    ``compress`` is False. Any result of the API: a run, comparison, sweep or evaluation
    (DataTree), or Sobol indices (Dataset).
    """
    from ._io import write_netcdf

    if isinstance(results, xr.Dataset):  # Sobol indices: one group
        results = xr.DataTree(results)
    path = Path(path)
    encoding = _encoding(results) if compress else None
    write_netcdf(path, results, encoding=encoding)
    return path


def _encoding(tree: xr.DataTree) -> dict[str, dict[str, dict]]:
    encoding = {}
    for node in tree.subtree:
        variables = {}
        for name, variable in node.to_dataset(inherit=False).variables.items():
            if variable.size < 4096:  # small: compression would cost more than it saves
                continue
            chunks = tuple(min(size, COMPRESSED_CHUNK) if dim == DRAW_DIM else size
                           for dim, size in zip(variable.dims, variable.shape))
            if np.prod(chunks) > 4 * COMPRESSED_CHUNK:  # a big 2-D array (histograms): chunk by rows
                chunks = (max(1, 4 * COMPRESSED_CHUNK // int(np.prod(chunks[1:]))), *chunks[1:])
            variables[name] = {**COMPRESSION, "chunksizes": chunks}
        encoding[node.path] = variables
    return encoding


def load(path: str | os.PathLike) -> xr.DataTree:
    """Read results written by :func:`save` fully into memory.

    Files of an older layout (overhang_jax 0.1.0) are refused with an error
    naming the version that wrote them.
    """
    path = Path(path)
    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            _check_layout(path, tree.attrs)
            return tree.load()
    except (OSError, ValueError) as err:
        if isinstance(err, ResultsError):
            raise
        raise ResultsError(f"'{path}' is not an overhang-jax results file ({err})") from None


def _check_layout(path: Path, attrs: Mapping[str, Any]) -> None:
    from ._version import __version__

    if "model" not in attrs:
        raise ResultsError(f"'{path}' is not an overhang-jax results file (no 'model' attribute)")
    layout = int(attrs.get("layout_version", 1))
    if layout < LAYOUT_VERSION:
        raise ResultsError(f"'{path}' was written by overhang_jax {attrs.get('version', '0.1.0')}, whose file "
                           f"layout this version ({__version__}) does not read; run it again (its attributes "
                           "seed and priors_toml reproduce it)")
    if layout > LAYOUT_VERSION:
        raise ResultsError(f"'{path}' was written by overhang_jax {attrs.get('version')}, newer than this version "
                           f"({__version__}); upgrade overhang_jax to read it")


# --------------------------------------------------------------------------
# Sizes: what a file will take before it is written.


def planned_results(model: Model, priors, draws: int, *, float64: bool = False,
                    outputs_only: bool = False) -> xr.DataTree:
    """The DataTree a run will return, with every value zero and no memory per draw.

    Built by the same code as the real results, so :func:`estimated_bytes`
    of it counts what the file will really hold.
    """
    dtype = np.dtype(np.float64 if float64 or model.requires_float64 else np.float32)
    constants = {name: dist.point_value for name, dist in priors.distributions.items()
                 if name not in priors.random_names}
    attrs = {"seed": 0, "draws": draws, "sampler": "", "dtype": dtype.name, "version": "", "scenario": priors.name,
             "priors_source": priors.source, "priors_toml": priors.to_toml(), "priors_text": priors.text}
    return _planned(model, [] if outputs_only else priors.random_names, constants, draws, dtype, attrs)


def planned_evaluation(model: Model, sets, *, float64: bool = False) -> xr.DataTree:
    """The DataTree :func:`overhang_jax.evaluate` will return for checked parameter ``sets``
    (``_runner.GivenDraws``), as :func:`planned_results` does for a run."""
    dtype = np.dtype(np.float64 if float64 or model.requires_float64 else np.float32)
    draws = len(sets.table)
    attrs = {"draws": draws, "sampler": "given", "dtype": dtype.name, "version": "", "scenario": "",
             "priors_source": "", "parameter_sets": ""}
    return _planned(model, sets.varying, sets.fixed, draws, dtype, attrs)


def _planned(model: Model, varying, constants, draws: int, dtype: np.dtype, attrs) -> xr.DataTree:
    zeros = np.broadcast_to(np.zeros((), dtype), (draws,))
    series = {}
    if model.trajectories is not None:

        spec = model.trajectories
        for each in spec.series:
            series[f"{each.name}/counts"] = np.broadcast_to(np.zeros((), np.int32),
                                                            (len(spec.coords), each.bins + 2))
            series[f"{each.name}/kept"] = np.broadcast_to(np.zeros((), dtype),
                                                          (min(KEPT_TRAJECTORIES, draws), len(spec.coords)))
    return to_datatree(model, {name: zeros for name in (*varying, *model.output_names)}, constants, attrs, series)


def planned_comparison(model: Model, priors_a, priors_b, draws: int, **options) -> xr.DataTree:
    """The DataTree :func:`overhang_jax.compare` will return, as :func:`planned_results` does for a run."""
    a, b = (planned_results(model, p, draws, **options) for p in (priors_a, priors_b))
    return _comparison_tree(model, a, b, a[OUTPUTS_GROUP].to_dataset())


def estimated_bytes(results: xr.DataTree, nonfinite_share: float = 0.0) -> int:
    """Bytes the netCDF file of ``results`` takes, uncompressed: an upper bound of the compressed file.

    Counts every variable and coordinate of every group, the attributes, and
    HDF5's own data (VARIABLE_OVERHEAD per variable). ``nonfinite_share`` adds room
    for that share of each output's draws to be listed in ``nonfinite_draws``.
    """
    total = FILE_OVERHEAD
    for node in results.subtree:
        dataset = node.to_dataset(inherit=False)
        total += sum(variable.nbytes + VARIABLE_OVERHEAD for variable in dataset.variables.values())
        total += sum(len(str(value)) + 64 for value in dataset.attrs.items())
        if node.name == NONFINITE_GROUP and node.parent is not None:
            outputs_node = node.parent[OUTPUTS_GROUP]
            for variable in outputs_node.data_vars.values():
                total += int(nonfinite_share * variable.size) * (8 + variable.dtype.itemsize)
    return int(total)
