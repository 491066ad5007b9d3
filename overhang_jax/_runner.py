"""The runner: chunks of draws, sharded over devices, with checkpoints.

Draw i is a pure function of (seed, i, priors): its unit point comes from the
sampler by index, so results are bit-identical whatever the chunk size, the
number of devices, or an interruption and resumption in between.

Each chunk is one call of a jit-compiled ``shard_map`` over a 1-D mesh of all
devices (axis ``draws``): every device runs the vmapped model on its slice of
the chunk, and its ``while_loop``s stop once its own draws are done. Chunks are
sized to keep the working set in cache; the next chunk is dispatched before
the previous one is copied back, so the host work overlaps the compute.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from ._model import Model
from ._io import write_atomic
from ._priors import Priors, PriorsError, load_priors
from ._sampling import SAMPLERS, Sampler
from ._version import __version__

DEFAULT_CHUNK_SIZE = 2**16
"""Draws per chunk: large enough to amortise dispatch and host copies."""

KEPT_TRAJECTORIES = 100
"""A model's time series are kept in full for draws 0 .. KEPT_TRAJECTORIES - 1
(for spaghetti plots); every draw goes into the per-time histograms."""

LOOP_GROUP_SIZES = {"cpu": 128}
"""Draws stepped together in a model's loops, by platform. On CPU, small groups
of draws sorted by work take similar numbers of steps (measured best at 64-128
on a 2-core x86 CPU). An accelerator wants wide groups to fill its cores
(the default below; not measured, as no GPU was at hand)."""
ACCELERATOR_LOOP_GROUP_SIZE = 2**14


class RunError(ValueError):
    """Arguments of a run that cannot work; raised before any compute."""


def _models() -> dict[str, Model]:
    from ._ftm import FTM
    from ._inference import INFERENCE
    from ._takeoff import TAKEOFF
    from ._trajectory import TRAJECTORY

    return {m.name: m for m in (TAKEOFF, TRAJECTORY, INFERENCE, FTM)}


def get_model(model: str | Model) -> Model:
    """The model called ``model`` (or ``model`` itself)."""
    if isinstance(model, Model):
        return model
    models = _models()
    if model not in models:
        raise RunError(f"unknown model '{model}'; choose one of {', '.join(models)}")
    return models[model]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise RunError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class _Checkpoint:
    """A directory of finished chunks plus a manifest of what they belong to."""

    def __init__(self, directory: Path, manifest: dict[str, Any]):
        self.directory = Path(directory)
        self.manifest = manifest
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest_path = self.directory / "manifest.json"
        if manifest_path.exists():
            found = json.loads(manifest_path.read_text())
            if found != manifest:
                differ = sorted(k for k in manifest.keys() | found.keys() if found.get(k) != manifest.get(k))
                raise RunError(f"checkpoint {self.directory} belongs to a different run (differs in: "
                               f"{', '.join(differ)}); use another directory or delete it")
        else:
            write_atomic(manifest_path, lambda p: p.write_text(json.dumps(manifest, indent=1)))

    def _path(self, start: int) -> Path:
        return self.directory / f"chunk_{start:012d}.npz"

    def has(self, start: int) -> bool:
        return self._path(start).exists()

    def load(self, start: int) -> dict[str, np.ndarray] | None:
        path = self._path(start)
        if not path.exists():
            return None
        try:  # allow_pickle stays False: a checkpoint never runs code
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, zipfile.BadZipFile) as err:
            raise RunError(f"checkpoint chunk {path} is unreadable ({err}); delete it to compute it again") from None

    def save(self, start: int, arrays: dict[str, np.ndarray]) -> None:
        def write(temp: Path):
            with open(temp, "wb") as f:
                np.savez(f, **arrays)
        write_atomic(self._path(start), write)


_COMPILED: dict[tuple, Callable] = {}
COMPILED_CACHE_SIZE = 16
"""Compiled chunk functions kept (least recently used dropped): enough for a
notebook or a comparison going back and forth between scenarios."""


def _chunk_function(model: Model, method: str, priors: Priors, coordinates: tuple[str, ...], sampler: Sampler,
                    dtype: Any, mesh: jax.sharding.Mesh) -> Callable:
    """The jitted function of one chunk, reused across runs with the same set-up."""
    # The seed and the fixed parameter values enter as arguments, so they are not part of
    # the key (scenarios that differ only in fixed values share one compilation); only a
    # Latin hypercube's points depend on the draw count.
    sampler_key = (sampler.kind, sampler.dimension, sampler.draws if sampler.kind == "lhs" else None)
    cache_key = (model.name, method, priors.structure_key(), coordinates, sampler_key, jnp.dtype(dtype).name,
                 tuple(mesh.devices.flat))
    if cache_key in _COMPILED:
        _COMPILED[cache_key] = _COMPILED.pop(cache_key)  # now the most recently used
    else:
        while len(_COMPILED) >= COMPILED_CACHE_SIZE:
            del _COMPILED[next(iter(_COMPILED))]  # the least recently used
        _COMPILED[cache_key] = _build_chunk_function(model, method, priors, coordinates, sampler, dtype, mesh)
    return _COMPILED[cache_key]


def _build_chunk_function(model: Model, method: str, priors: Priors, coordinates: tuple[str, ...],
                          sampler: Sampler, dtype: Any, mesh: jax.sharding.Mesh) -> Callable:
    simulate = model.methods[method]
    work_estimate = model.work_estimates.get(method)
    group_size = LOOP_GROUP_SIZES.get(mesh.devices.flat[0].platform, ACCELERATOR_LOOP_GROUP_SIZE)

    def batched(key, index, host, draws, points):
        uncertain, outputs = simulated(key, index, host, points)
        series = {n: outputs.pop(n) for n in model.trajectories.names} if model.trajectories else {}
        return uncertain, outputs, _trajectory_summaries(model.trajectories, series, index, draws)

    def simulated(key, index, host, points):
        # The barrier makes every parameter an array of the model's own, fixed ones included: XLA
        # would otherwise compute on a broadcast fixed value once, in scalar code that can round
        # differently, and a draw's bits would depend on the chunk and on how it is evaluated.
        params = jax.lax.optimization_barrier(
            priors.transform(sampler.unit_points(key, index, host, dtype), coordinates, points))
        count = index.shape[0]
        groups = -(-count // group_size)
        # Only uncertain parameters come back; point values are filled in on the host.
        uncertain = {n: params[n] for n in priors.random_names}
        if groups < 2 or (work_estimate is None and not model.fixed_length_loops):
            return uncertain, jax.vmap(simulate)(params)

        def in_groups(params, order):
            # Run the draws in groups, in ``order`` (the last group padded with copies of its
            # last draw), one group after another, and put the outputs back in order.
            padded = jnp.concatenate([order, jnp.full(groups * group_size - count, order[-1])])
            grouped = jax.tree.map(lambda a: a[padded].reshape(groups, group_size), params)
            outputs = jax.lax.map(jax.vmap(simulate), grouped)
            return jax.tree.map(lambda a: jnp.zeros((count, *a.shape[2:]), a.dtype).at[order].set(
                a.reshape(groups * group_size, *a.shape[2:])[:count]), outputs)

        if work_estimate is None:  # every draw takes the same steps: groups in draw order
            return uncertain, in_groups(params, jnp.arange(count))
        # Step draws of similar length together, sorted by the estimated work; with no loop
        # work on this device (say, every draw in closed form), skip the sorting.
        work = jax.vmap(work_estimate)(params)
        return uncertain, jax.lax.cond(jnp.all(work == 0), jax.vmap(simulate),
                                       lambda params: in_groups(params, jnp.argsort(work)), params)

    draws = PartitionSpec("draws")
    # check_vma=False: point parameters are the same on every device, so loop
    # carries built from them are not "varying". The only collective is the
    # psum of the trajectory histograms, replicated on every device.
    sharded = jax.shard_map(batched, mesh=mesh,
                            in_specs=(PartitionSpec(), draws, draws, PartitionSpec(), PartitionSpec()),
                            out_specs=(draws, draws, PartitionSpec()), check_vma=False)
    return jax.jit(sharded)


def _trajectory_summaries(spec, series: dict[str, jax.Array], index: jax.Array, draws: jax.Array
                          ) -> dict[str, jax.Array]:
    """Per-time histogram counts and the series of the kept draws, summed over devices.

    Counts are integers and the kept series are added to zeros, so the sums
    are exact whatever the number of devices.
    """
    if not series:
        return {}
    valid = index < draws  # the last chunk is padded
    kept = (index < KEPT_TRAJECTORIES) & valid
    slot = jnp.where(kept, index, 0)
    summaries = {}
    for each in spec.series:
        name, values = each.name, series[each.name]  # values: (draws, times)
        times = values.shape[1]
        # Bin 0 is underflow, bins 1 .. n the grid, bin n + 1 overflow. A NaN (a draw the
        # model gives no value, such as a parameter set it leaves out) is not counted.
        position = jnp.floor((values - each.lower) * (1 / each.bin_width))
        position = jnp.where(jnp.isnan(position), each.bins, jnp.clip(position, -1, each.bins))
        bins = position.astype(jnp.int32) + 1
        counted = valid[:, None] & ~jnp.isnan(values)
        # One flat scatter-add over (time, bin) cells: ~3x faster on CPU than a 2-D one.
        cells = jnp.arange(times, dtype=jnp.int32)[None, :] * (each.bins + 2) + bins
        counts = jnp.zeros(times * (each.bins + 2), jnp.int32).at[cells.ravel()].add(
            counted.astype(jnp.int32).ravel()).reshape(times, -1)
        series_kept = jnp.zeros((KEPT_TRAJECTORIES, times), values.dtype).at[slot].add(
            jnp.where(kept[:, None], values, 0))
        summaries[f"{name}/counts"] = jax.lax.psum(counts, "draws")
        summaries[f"{name}/kept"] = jax.lax.psum(series_kept, "draws")
    return summaries


def run(model: str | Model, priors: Priors | str | os.PathLike | None = None, *, draws: int, seed: int,
        sampler: str = "mc", chunk_size: int = DEFAULT_CHUNK_SIZE, checkpoint: str | os.PathLike | None = None,
        float64: bool = False, method: str | None = None, devices: Sequence[jax.Device] | None = None,
        progress: bool | None = None, coordinates: Sequence[str] | None = None):
    """Sweep ``model`` over ``draws`` parameter draws from ``priors``.

    Returns an :class:`xarray.DataTree` with every parameter (group ``prior``)
    and every output (group ``prior_predictive``) of every draw, along one
    dimension ``draw``; see :func:`overhang_jax.summary`.

    ``priors`` is a :class:`Priors`, a path to a priors TOML file, or None
    for the shipped defaults. ``sampler`` is ``mc`` (Monte Carlo), ``sobol``
    (scrambled Sobol) or ``lhs`` (Latin hypercube). ``checkpoint`` names a
    directory where each finished chunk is saved; the same call resumes from
    it. ``float64`` computes in double precision (always, for a model that
    ``requires_float64``). ``method`` picks one of the
    model's methods (default: its first). ``devices`` defaults to all of
    ``jax.devices()``. ``progress`` shows a bar (default: when stderr is a
    terminal). ``coordinates`` names the parameter of each unit-hypercube
    coordinate (default: the parameters that vary, in the model's order);
    :func:`compare` passes the same list to both scenarios.
    """
    from ._results import to_datatree

    model = get_model(model)
    if not isinstance(priors, Priors):
        priors = load_priors(model, priors)
    elif priors.model.name != model.name:
        raise PriorsError(f"priors are for model '{priors.model.name}', not '{model.name}'")
    draws = _positive_int("draws", draws)
    chunk_size = _positive_int("chunk_size", chunk_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise RunError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    method = method or model.default_method
    if method not in model.methods:
        raise RunError(f"model '{model.name}' has no method '{method}'; choose one of {', '.join(model.methods)}")
    if coordinates is None:
        coordinates = priors.random_names
    coordinates = tuple(coordinates)
    missing = [n for n in priors.random_names if n not in coordinates]
    unknown = [n for n in coordinates if n not in model.parameter_names]
    if missing or unknown or len(set(coordinates)) != len(coordinates):
        raise RunError(f"coordinates must name each varying parameter once (missing: {missing}, unknown: "
                       f"{unknown})")
    if isinstance(sampler, str):
        if sampler not in SAMPLERS:
            raise RunError(f"unknown sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")
        sampler_ = Sampler(sampler, int(seed), len(coordinates), draws)
    else:  # a design object with Sampler's interface (the Saltelli design of sobol_indices)
        sampler_ = sampler
        if sampler_.dimension != len(coordinates) or sampler_.draws != draws:
            raise RunError(f"the design has {sampler_.dimension} coordinates and {sampler_.draws} draws; the "
                           f"run has {len(coordinates)} and {draws}")
        sampler = repr(sampler)
    devices = list(devices) if devices is not None else jax.devices()
    # Every device gets an equal share of a chunk, and a chunk is no longer than needed.
    chunk_size = min(chunk_size, draws)
    chunk_size = math.ceil(chunk_size / len(devices)) * len(devices)
    if draws + chunk_size > 2**31:  # draw indices, padding included, are int32 on every device
        raise RunError(f"draws plus one chunk must stay within 2**31 = {2**31:,} per run, got {draws:,} "
                       f"+ {chunk_size:,}")
    dtype = jnp.float64 if float64 or model.requires_float64 else jnp.float32

    manifest = {
        "model": model.name, "method": method, "version": __version__, "seed": int(seed), "draws": draws,
        "sampler": sampler, "chunk_size": chunk_size, "dtype": jnp.dtype(dtype).name,
        "priors_sha256": hashlib.sha256(priors.to_toml().encode()).hexdigest(),
    }
    if coordinates != priors.random_names:
        manifest["unit_coordinates"] = ", ".join(coordinates)
    store = _Checkpoint(Path(checkpoint), manifest) if checkpoint is not None else None

    names = (*priors.random_names, *model.output_names)
    with jax.enable_x64(dtype == jnp.float64):
        mesh = jax.make_mesh((len(devices),), ("draws",), devices=devices,
                             axis_types=(jax.sharding.AxisType.Auto,))
        columns = {n: np.empty(draws, jnp.dtype(dtype)) for n in names}
        series = _empty_series(model, dtype, draws)
        _sweep(model, method, priors, coordinates, sampler_, dtype, mesh, chunk_size, draws, columns, series, store,
               progress if progress is not None else sys.stderr.isatty())
    # A point value is the same in every draw: a read-only broadcast, no memory per draw.
    for name, dist in priors.distributions.items():
        if name not in columns:
            columns[name] = np.broadcast_to(np.asarray(dist.point_value, jnp.dtype(dtype)), (draws,))
    attrs = {**manifest, "priors_toml": priors.to_toml(), "priors_source": priors.source,
             "priors_text": priors.text, "jax_version": jax.__version__,
             "devices": ", ".join(str(d) for d in devices), "processes": jax.process_count(),
             "process": jax.process_index()}
    del attrs["priors_sha256"]
    return to_datatree(model, columns, attrs, series)


def simulate_sets(model: str | Model, table: Mapping[str, Any], *, method: str | None = None,
                  float64: bool = False) -> dict[str, np.ndarray]:
    """The model's outputs (and trajectories) for given parameter sets, set i in row i.

    ``table`` maps parameter names to equal-length sequences, one value per set;
    parameters it leaves out take their defaults. No priors and no sampling: the
    values are used as given, after the same checks as a priors file's (a known
    name, a number in the parameter's allowed range).
    """
    model = get_model(model)
    method = method or model.default_method
    if method not in model.methods:
        raise RunError(f"model '{model.name}' has no method '{method}'; choose one of {', '.join(model.methods)}")
    columns = {}
    for name, values in table.items():
        if name not in model.parameter_names:
            hint = difflib.get_close_matches(name, model.parameter_names, n=1)
            raise RunError(f"unknown parameter '{name}' for model '{model.name}'"
                           + (f"; did you mean '{hint[0]}'?" if hint else ""))
        try:
            columns[name] = np.asarray(values, np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise RunError(f"parameter '{name}' must be numbers") from None
    sizes = {len(v) for v in columns.values()}
    if len(sizes) > 1 or not sizes or 0 in sizes:
        raise RunError(f"the parameter sets must be one or more and all the same length, got lengths {sorted(sizes)}")
    count = sizes.pop()
    for name, values in columns.items():
        param = model.parameter(name)
        bad = [v for v in values if not param.contains(float(v))]
        if bad:
            raise RunError(f"parameter '{name}' must be {param.allowed()}, got {bad[0]:g}")
    dtype = jnp.float64 if float64 or model.requires_float64 else jnp.float32
    key = (model.name, method)
    if key not in _SET_FUNCTIONS:
        _SET_FUNCTIONS[key] = jax.jit(jax.vmap(model.methods[method]))
    # Blocks of one size (the last padded with copies of the last set): one compilation
    # serves every table, and memory does not grow with the table.
    padded = -(-count // SET_BLOCK) * SET_BLOCK
    table = {p.name: np.resize(columns.get(p.name, np.full(count, p.default)), padded) for p in model.parameters}
    blocks = []
    with jax.enable_x64(dtype == jnp.float64):
        for start in range(0, padded, SET_BLOCK):
            params = {name: jnp.asarray(values[start:start + SET_BLOCK], dtype) for name, values in table.items()}
            blocks.append(jax.device_get(_SET_FUNCTIONS[key](params)))
    return {name: np.concatenate([block[name] for block in blocks])[:count] for name in blocks[0]}


SET_BLOCK = 128
"""Parameter sets :func:`simulate_sets` evaluates per call of the compiled model."""
_SET_FUNCTIONS: dict[tuple[str, str], Callable] = {}


def _empty_series(model: Model, dtype: Any, draws: int) -> dict[str, np.ndarray]:
    """Accumulators of the trajectory histograms (int64) and kept series."""
    spec = model.trajectories
    if spec is None:
        return {}
    times = len(spec.coords)
    series = {}
    for each in spec.series:
        series[f"{each.name}/counts"] = np.zeros((times, each.bins + 2), np.int64)
        series[f"{each.name}/kept"] = np.zeros((min(KEPT_TRAJECTORIES, draws), times), jnp.dtype(dtype))
    return series


def _sweep(model, method, priors, coordinates, sampler, dtype, mesh, chunk_size, draws, columns, series, store,
           progress):
    from tqdm import tqdm  # the plain bar: it writes to stderr only when that is a terminal

    chunk_fn = _chunk_function(model, method, priors, coordinates, sampler, dtype, mesh)
    points = priors.point_values().astype(jnp.dtype(dtype))
    key = sampler.key()
    draws_sharding = NamedSharding(mesh, PartitionSpec("draws"))

    multi_process = jax.process_count() > 1

    def dispatch(start):
        index = np.arange(start, start + chunk_size, dtype=np.int32)
        host = sampler.host_part(start, chunk_size)
        # Each process places only the slices its own devices hold (all of them, in one process).
        index = jax.make_array_from_callback(index.shape, draws_sharding, lambda where: index[where])
        host = jax.make_array_from_callback(host.shape, draws_sharding, lambda where: host[where])
        return chunk_fn(key, index, host, np.int32(draws), points)

    def gathered(arrays):
        """Every process's part of a chunk, on every process (jax.distributed runs only)."""
        from jax.experimental import multihost_utils

        return {name: (np.asarray(values.addressable_shards[0].data) if name in series
                       else multihost_utils.process_allgather(values, tiled=True))
                for name, values in arrays.items()}

    def collect(start, arrays):
        """Copy a chunk's arrays (numpy, or jax arrays sharded over draws) into the columns."""
        stop = min(start + chunk_size, draws)
        for name, values in arrays.items():
            if name in series:  # replicated on every device: one copy is enough
                part = np.asarray(values.addressable_shards[0].data if isinstance(values, jax.Array) else values)
                series[name] += part[: len(series[name])]
                continue
            # Shard by shard: each device's buffer is copied once, straight into place.
            shards = ([(s.index[0].start or 0, np.asarray(s.data)) for s in values.addressable_shards]
                      if isinstance(values, jax.Array) else [(0, values)])
            for offset, part in shards:
                first, last = start + offset, min(start + offset + len(part), stop)
                if first < last:
                    columns[name][first:last] = part[: last - first]

    starts = list(range(0, draws, chunk_size))
    # Which chunks are done is decided once, before any compute: in a jax.distributed run every
    # process must dispatch the same chunks, while process 0 writes new ones.
    saved_starts = {start for start in starts if store and store.has(start)}
    if multi_process:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("overhang_jax: checkpoint listed")
    bar = tqdm(total=draws, unit="draw", disable=not progress or jax.process_index() > 0, smoothing=0.1)
    pending = None  # (start, device arrays) dispatched but not yet copied back
    try:
        for start in [*starts, None]:
            finished = pending
            pending = None
            if start is not None:
                saved = store.load(start) if start in saved_starts else None
                if saved is not None and set(saved) != {*columns, *series}:
                    raise RunError(f"checkpoint chunk {store._path(start)} does not hold this run's variables; "
                                   "delete it to compute it again")
                if saved is not None:
                    collect(start, saved)
                    bar.update(min(chunk_size, draws - start))
                else:
                    pending = (start, dispatch(start))
            if finished is not None:
                done_start, (params, outputs, summaries) = finished
                arrays = {**params, **outputs, **summaries}
                if multi_process:
                    arrays = gathered(arrays)
                if store and jax.process_index() == 0:  # one writer; every process may read to resume
                    store.save(done_start, {n: np.asarray(v) for n, v in arrays.items()})
                collect(done_start, arrays)
                bar.update(min(chunk_size, draws - done_start))
    finally:
        bar.close()


def compare(model: str | Model, priors_a: Priors | str | os.PathLike | None,
            priors_b: Priors | str | os.PathLike | None, *, draws: int, seed: int, **run_options):
    """Run two scenarios on the same draws and take their per-draw differences.

    Common random numbers: both runs use the same seed and give every
    parameter the same unit-hypercube coordinate, so a parameter both
    scenarios leave uncertain takes the same value in draw i of each, and
    each difference B - A is paired. Returns a DataTree with the two runs
    under ``a`` and ``b`` and the differences in ``difference``; see
    :func:`overhang_jax.compare_summary`. ``run_options`` go to :func:`run`.
    """
    from ._results import paired_differences

    model = get_model(model)
    loaded = [p if isinstance(p, Priors) else load_priors(model, p) for p in (priors_a, priors_b)]
    varying = {n for p in loaded for n in p.random_names}
    coordinates = tuple(n for n in model.parameter_names if n in varying)
    runs = [run(model, p, draws=draws, seed=seed, coordinates=coordinates, **run_options) for p in loaded]
    return paired_differences(model, *runs)
