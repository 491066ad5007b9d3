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

    # Coordinates along chain and draw, as ArviZ's trace plots need (8 bytes a draw, compressed to
    # almost nothing); a planned run's is a broadcast zero, so planning 1e10 draws takes no memory.
    coords = sample_coords(columns[model.outputs[0].name])
    outputs = xr.Dataset({o.name: per_draw(o, columns[o.name]) for o in model.outputs}, coords=coords)
    varying = [p for p in model.parameters if p.name in columns]
    fixed = {p.name: xr.Variable((), np.asarray(constants[p.name], outputs[model.outputs[0].name].dtype),
                                 {"units": p.units, "long_name": p.doc})
             for p in model.parameters if p.name in constants}
    counts = {name: outputs[name].attrs["nonfinite_count"] for name in model.output_names}
    # A parameter neither per draw nor fixed was left out: the run keeps outputs only.
    outputs_only = any(p.name not in columns and p.name not in constants for p in model.parameters)
    root_attrs = {**software_versions(), **attrs, "kind": "run", "layout_version": LAYOUT_VERSION, "nonfinite_counts": json.dumps(counts),
                  "outputs_only": int(outputs_only)}
    groups = {"/": xr.Dataset(attrs=root_attrs)}
    if varying:
        groups[PARAMETERS_GROUP] = xr.Dataset({p.name: per_draw(p, columns[p.name]) for p in varying}, coords=coords)
    groups[OUTPUTS_GROUP] = outputs
    groups[CONSTANTS_GROUP] = xr.Dataset(fixed)
    if model.trajectories is not None and series:
        groups[TRAJECTORIES_GROUP] = _trajectories_dataset(model.trajectories, series)
    groups[NONFINITE_GROUP] = _nonfinite_draws(model, columns, nonfinite)
    return xr.DataTree.from_dict(groups)


VERSION_ATTRS = ("jax_version", "jaxlib_version", "numpy_version", "scipy_version", "cpu")
"""Root attributes naming what a draw's last bits depend on (README: Versions and bits)."""


def software_versions() -> dict[str, str]:
    """The versions of the libraries a draw's bits depend on, and the CPU's vector instruction set."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("jax", "jaxlib", "numpy", "scipy"):
        try:
            found[f"{name}_version"] = version(name)
        except PackageNotFoundError:
            found[f"{name}_version"] = "not installed"
    found["cpu"] = _cpu_vector_isa()
    return found


def _cpu_vector_isa() -> str:
    """'x86_64 AVX-512', 'x86_64 AVX2', ... and XLA's limit when XLA_FLAGS sets one (it changes the code)."""
    import platform
    import re

    machine = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:
        flags = []
    isa = next((label for flag, label in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"),
                                          ("sse4_2", "SSE4.2")) if flag in flags), "")
    limit = re.search(r"--xla_cpu_max_isa=(\S+)", os.environ.get("XLA_FLAGS", ""))
    return " ".join(filter(None, [machine, isa, f"(XLA limited to {limit.group(1)})" if limit else ""]))


def written_with(attrs: Mapping[str, Any]) -> str:
    """One line saying which versions, on which CPU, wrote results (files before versions were kept say less)."""
    libraries = ", ".join(f"{name} {attrs[f'{name}_version']}" for name in ("jax", "jaxlib", "numpy", "scipy")
                          if f"{name}_version" in attrs)
    where = f" on {attrs['cpu']}" if "cpu" in attrs else ""
    return f"written by overhang_jax {attrs.get('version', '(unknown)')}" + (f" with {libraries}" if libraries
                                                                             else "") + where
POSTERIOR_GROUP = "posterior"
POSTERIOR_OUTPUTS_GROUP = "posterior_predictive"
LOG_LIKELIHOOD_GROUP = "log_likelihood"
SAMPLE_STATS_GROUP = "sample_stats"
OBSERVED_GROUP = "observed_data"
WEIGHT_VARIABLE = "importance_weight"
RESAMPLED_COORD = "prior_draw"


def with_observations(tree: xr.DataTree, model: Model, log_likelihoods: Mapping[str, np.ndarray], observation_attrs: Mapping[str, Mapping[str, Any]],
                      weights: np.ndarray, resample: np.ndarray, attrs: Mapping[str, Any]) -> xr.DataTree:
    """A run's DataTree with what its observations made of it (docs/observations.md).

    * ``log_likelihood``: each observation's log likelihood of every draw (ArviZ's group);
    * ``sample_stats``: ``importance_weight``, every draw's normalised weight;
    * ``posterior`` and ``posterior_predictive``: the draws resampled by weight (``resample``: the
      prior draw behind each posterior draw, kept as the coordinate ``prior_draw``), their varying
      parameters and their outputs, as ``prior`` and ``prior_predictive`` hold the prior's (a run
      that keeps outputs only has its outputs in ``posterior``);
    * ``observed_data``: each observation's numbers, and its source in the attributes;
    * ``attrs`` (k-hat, ESS, methods, the verdict) in the root's attributes, prefixed ``posterior_``.
    """
    sample = {CHAIN_DIM: [0], DRAW_DIM: np.arange(len(weights))}
    log_likelihood = xr.Dataset(
        {name: xr.Variable(SAMPLE_DIMS, np.asarray(values)[np.newaxis], dict(observation_attrs[name]))
         for name, values in log_likelihoods.items()}, coords=sample)
    stats = xr.Dataset({WEIGHT_VARIABLE: xr.Variable(SAMPLE_DIMS, weights[np.newaxis], {
        "units": "1", "long_name": "normalised importance weight of the draw given the observations",
        "method": str(attrs.get("weights_method", ""))})}, coords=sample)

    def resampled(group, entry):
        return xr.Variable(SAMPLE_DIMS, tree[group][entry.name].values[0][resample][np.newaxis],
                           {"units": entry.units, "long_name": entry.doc})

    varying = tree[PARAMETERS_GROUP].data_vars if PARAMETERS_GROUP in tree.children else {}
    coords = {CHAIN_DIM: [0], DRAW_DIM: np.arange(len(resample)), RESAMPLED_COORD: (DRAW_DIM, resample)}
    method = {"method": str(attrs.get("resampling_method", ""))}
    resampled_outputs = xr.Dataset({o.name: resampled(OUTPUTS_GROUP, o) for o in model.outputs}, coords=coords,
                                   attrs=method)
    resampled_groups = {POSTERIOR_GROUP: resampled_outputs}
    if varying:
        resampled_groups = {POSTERIOR_GROUP: xr.Dataset(
            {p.name: resampled(PARAMETERS_GROUP, p) for p in model.parameters if p.name in varying},
            coords=coords, attrs=method), POSTERIOR_OUTPUTS_GROUP: resampled_outputs}
    observed = xr.Dataset({name: xr.Variable((), np.float64(spec.get("value", np.nan)), dict(spec))
                           for name, spec in observation_attrs.items()})
    groups = {node.path if node.path != "/" else "/": node.to_dataset(inherit=False) for node in tree.subtree}
    groups["/"] = groups["/"].assign_attrs({f"posterior_{k}": v for k, v in attrs.items()})
    groups.update({f"/{name}": dataset for name, dataset in resampled_groups.items()})
    groups.update({f"/{LOG_LIKELIHOOD_GROUP}": log_likelihood, f"/{SAMPLE_STATS_GROUP}": stats,
                   f"/{OBSERVED_GROUP}": observed})
    return xr.DataTree.from_dict(groups)


CONDITIONING_GROUPS = (POSTERIOR_GROUP, POSTERIOR_OUTPUTS_GROUP, LOG_LIKELIHOOD_GROUP, SAMPLE_STATS_GROUP,
                       OBSERVED_GROUP)


def posterior_outputs(results: xr.DataTree) -> xr.Dataset:
    """The resampled outputs of a conditioned run (the paired differences, for a comparison), along
    (chain, draw)."""
    group = POSTERIOR_OUTPUTS_GROUP if POSTERIOR_OUTPUTS_GROUP in results.children else POSTERIOR_GROUP
    return results[group].to_dataset()


def without_observations(tree: xr.DataTree) -> xr.DataTree:
    """A conditioned run as it was before conditioning (its prior groups and attributes)."""
    groups = {node.path: node.to_dataset(inherit=False) for node in tree.subtree
              if node.name not in CONDITIONING_GROUPS or node.parent is None}
    groups["/"].attrs = {k: v for k, v in tree.attrs.items() if not k.startswith("posterior_")}
    return xr.DataTree.from_dict(groups)


def weights_and_resample(tree: xr.DataTree) -> tuple[np.ndarray, np.ndarray]:
    """A conditioned run's importance weights and the prior draw behind each posterior draw."""
    return (np.asarray(tree[SAMPLE_STATS_GROUP][WEIGHT_VARIABLE].values).ravel(),
            np.asarray(tree[POSTERIOR_GROUP][RESAMPLED_COORD].values))


def with_paired_posterior(comparison: xr.DataTree, weights: np.ndarray, resample: np.ndarray,
                          attrs: Mapping[str, Any]) -> xr.DataTree:
    """A comparison of two conditioned runs with the posterior of its paired differences: the
    differences of the draws ``resample`` picks (the pair shares its draw's weight)."""
    differences = comparison[OUTPUTS_GROUP].to_dataset()
    posterior = xr.Dataset({name: xr.Variable(SAMPLE_DIMS, var.values[0][resample][np.newaxis], var.attrs)
                            for name, var in differences.data_vars.items()},
                           coords={CHAIN_DIM: [0], DRAW_DIM: np.arange(len(resample)),
                                   RESAMPLED_COORD: (DRAW_DIM, resample)},
                           attrs={"method": str(attrs.get("resampling_method", ""))})
    stats = xr.Dataset({WEIGHT_VARIABLE: xr.Variable(SAMPLE_DIMS, weights[np.newaxis], {
        "units": "1", "long_name": "normalised importance weight of the pair of draws given the observations"})},
        coords={CHAIN_DIM: [0], DRAW_DIM: np.arange(len(weights))})
    groups = {node.path: node.to_dataset(inherit=False) for node in comparison.subtree}
    groups["/"] = groups["/"].assign_attrs({f"posterior_{k}": v for k, v in attrs.items()})
    groups.update({f"/{POSTERIOR_GROUP}": posterior, f"/{SAMPLE_STATS_GROUP}": stats})
    return xr.DataTree.from_dict(groups)


def sample_coords(column: np.ndarray) -> dict[str, np.ndarray]:
    """The chain and draw coordinates of per-draw ``column`` (a broadcast one gets a broadcast zero)."""
    count = len(column)
    planned = column.ndim == 1 and column.strides == (0,) and count > 1
    draw = np.broadcast_to(np.int64(0), (count,)) if planned else np.arange(count, dtype=np.int64)
    return {CHAIN_DIM: np.zeros(1, np.int64), DRAW_DIM: draw}


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
    return _comparison_tree(model, a, b, xr.Dataset(differences, coords=sample_coords(
        np.asarray(a[OUTPUTS_GROUP][model.outputs[0].name].values[0]))))


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
             **{name: a.attrs[name] for name in VERSION_ATTRS if name in a.attrs},
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
    ``compress`` is False.
    """
    from ._io import write_netcdf

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
    """Read results written by :func:`save` fully into memory, checking them first.

    Every failure is one :class:`ResultsError` naming the file: a file whose
    bytes do not match the checksum written with them (one changed bit
    anywhere), a file cut short, a foreign netCDF file, a file of an older
    layout (naming the version that wrote it), or contents that do not match
    the model the file declares. A file without a checksum (written by
    another tool, or before files had one) is first read in a child process
    with a time limit, since libhdf5 loops forever on some damaged files.
    """
    from ._io import verify_checksum

    path = Path(path)
    try:
        checksum = verify_checksum(path)
    except OSError as err:
        raise ResultsError(f"cannot read '{path}': {err.strerror or err}") from None
    if checksum is False:
        raise ResultsError(f"'{path}' is damaged: its bytes do not match the checksum written with them (a byte "
                           "changed or lost since it was written); use another copy, or run it again")
    if checksum is None:
        _read_in_child(path)
    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            _check_layout(path, tree.attrs, checksum)
            tree = tree.load()
    except ResultsError:
        raise
    except Exception as err:  # libhdf5 and h5netcdf raise OSError, KeyError, ValueError, RuntimeError, ...
        raise ResultsError(f"'{path}' is not a readable overhang-jax results file ({_one_line(err)})") from None
    _check_contents(path, tree)
    from ._io import CHECKSUM_ATTR

    # Checked: a copy written by another tool (ArviZ, xarray) has no footer, and must not claim one.
    tree.attrs.pop(CHECKSUM_ATTR, None)
    return tree


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:300]}" if text else type(err).__name__


READ_SECONDS_MIN = 20.0
READ_BYTES_PER_SECOND = 20e6
"""Time limit of reading a file without a checksum: 20 s, plus a second per 20 MB (a slow disk reads 100 MB/s)."""

_READ_EVERYTHING = """
import sys, h5py
def visit(name, obj):
    dict(obj.attrs)
    if isinstance(obj, h5py.Dataset):
        obj[()]
try:
    with h5py.File(sys.argv[1], "r") as f:
        dict(f.attrs)
        f.visititems(visit)
except Exception as err:
    print(" ".join(f"{type(err).__name__}: {err}".split())[:300])
    sys.exit(1)
"""


def _read_in_child(path: Path) -> None:
    """Read every attribute and value of ``path`` with libhdf5 in a child process, within a time limit."""
    import subprocess
    import sys

    limit = READ_SECONDS_MIN + path.stat().st_size / READ_BYTES_PER_SECOND
    try:
        child = subprocess.run([sys.executable, "-c", _READ_EVERYTHING, str(path)], capture_output=True, text=True,
                               timeout=limit, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ResultsError(f"'{path}' is damaged: reading it did not finish in {limit:.0f} s (libhdf5 loops on some "
                           "damaged files); use another copy, or run it again") from None
    if child.returncode != 0:
        why = child.stdout.strip() or f"the reader ended with status {child.returncode}"
        raise ResultsError(f"'{path}' is damaged or not an overhang-jax results file ({why})")


def _check_layout(path: Path, attrs: Mapping[str, Any], checksum: bool | None) -> None:
    from ._io import CHECKSUM_ATTR
    from ._version import __version__
    from .models._registry import MODEL_MODULES

    model = attrs.get("model")
    if model is None:
        raise ResultsError(f"'{path}' is not an overhang-jax results file (no 'model' attribute)")
    if "version" not in attrs or str(model) not in MODEL_MODULES:
        raise ResultsError(f"'{path}' is a netCDF file from another tool, not overhang-jax results (its model "
                           f"attribute is {str(model)[:40]!r}; overhang-jax writes {', '.join(MODEL_MODULES)})")
    if checksum is None and CHECKSUM_ATTR in attrs:
        raise ResultsError(f"'{path}' is damaged: the checksum written at its end is cut off or overwritten (the "
                           "file was cut short or changed by another tool); use another copy, or run it again")
    try:
        layout = int(attrs.get("layout_version", 1))
    except (TypeError, ValueError):
        raise ResultsError(f"'{path}' is damaged: its layout_version attribute is "
                           f"{str(attrs.get('layout_version'))[:40]!r}") from None
    if layout < LAYOUT_VERSION:
        raise ResultsError(f"'{path}' was written by overhang_jax {attrs.get('version', '0.1.0')}, whose file "
                           f"layout this version ({__version__}) does not read; run it again (its attributes "
                           "seed and priors_toml reproduce it)")
    if layout > LAYOUT_VERSION:
        raise ResultsError(f"'{path}' was written by overhang_jax {attrs.get('version')}, newer than this version "
                           f"({__version__}); upgrade overhang_jax to read it")


def _check_contents(path: Path, tree: xr.DataTree) -> None:
    """Refuse results whose groups do not hold what their declared model and kind say."""
    from .models._registry import get_model

    kind = tree.attrs.get("kind", "run")
    if kind == "sobol_indices":
        return
    model = get_model(str(tree.attrs["model"]))
    problems = []

    def check_run(node: xr.DataTree, where: str, per_draw: bool) -> None:
        if OUTPUTS_GROUP not in node.children:
            problems.append(f"no group '{where}{OUTPUTS_GROUP}'")
            return
        stored = node[OUTPUTS_GROUP]
        missing = [name for name in model.output_names if name not in stored.data_vars]
        if missing:
            problems.append(f"'{where}{OUTPUTS_GROUP}' lacks {', '.join(missing[:3])}")
        extra = [name for name in stored.data_vars if name not in model.output_names]
        if extra:
            problems.append(f"'{where}{OUTPUTS_GROUP}' has {', '.join(map(str, extra[:3]))}, not an output")
        if per_draw:
            draws = node.attrs.get("draws", tree.attrs.get("draws"))
            for name in model.output_names:
                if name in stored.data_vars and stored[name].sizes.get(DRAW_DIM) != _int_or_none(draws):
                    problems.append(f"'{where}{OUTPUTS_GROUP}/{name}' has {stored[name].sizes.get(DRAW_DIM)} draws, "
                                    f"not the {draws} its attributes declare")
                    break
        parameters_ = set(model.parameter_names)
        for group in (PARAMETERS_GROUP, CONSTANTS_GROUP):
            if group in node.children:
                unknown = [str(n) for n in node[group].data_vars if n not in parameters_]
                if unknown:
                    problems.append(f"'{where}{group}' has {', '.join(unknown[:3])}, not a parameter")

    if kind == "comparison":
        check_run(tree, "", True)
        for label in ("a", "b"):
            if label not in tree.children:
                problems.append(f"no group '{label}'")
            else:
                check_run(tree[label], f"{label}/", True)
    else:
        check_run(tree, "", kind != "sweep")
    if problems:
        raise ResultsError(f"'{path}' does not hold {model.name} results as it declares: {problems[0]}")


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
