"""The runner: chunks of draws, sharded over devices, saved to a checkpoint.

Draw i is a pure function of (seed, i, priors): its unit point comes from the
sampler by index, so results are bit-identical whatever the chunk size, the
number of devices, or an interruption and resumption in between (even on
other devices or with another chunk size: see ``_checkpoint``).

Each chunk is one call of a jit-compiled ``shard_map`` over a 1-D mesh of all
devices (axis ``draws``): every device runs the vmapped model on its slice of
the chunk, and its ``while_loop``s stop once its own draws are done. Chunks are
sized to keep the working set in cache; the next chunk is dispatched before
the previous one is copied back, so the host work overlaps the compute.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from ._checkpoint import NPZ_OVERHEAD, Checkpoint, manifest_of
from .._errors import RunError
from ..models._schema import KEPT_TRAJECTORIES, Model
from ..priors._priors import (Priors, PriorsError, check_float_width, load_priors, shared_random_names,
                              transform_data)
from ..models._registry import DEFAULT_CHUNK_SIZE, get_model
from ..priors._sampling import SAMPLERS, Sampler
from ._conditioning import condition
from ..priors._observations import TABLE_COLUMNS, load_observations, log_likelihood, observable_series
from .._version import __version__
from ..priors._scenarios import scenario_model
from ._guards import (as_path, check_nonfinite_mode, check_space, check_writable, checkpoint_bytes, nonfinite_excess,
                      nonfinite_gate, nonfinite_limit, save_or_rescue)
from ._redraw import check_redraw, redrawn_parameters, redraws
from ._runtime import ensure_configured

LOOP_GROUP_SIZES = {"cpu": 128}
"""Draws stepped together in a model's loops, by platform. On CPU, small groups
of draws sorted by work take similar numbers of steps (measured best at 64-128
on a 2-core x86 CPU). An accelerator wants wide groups to fill its cores
(the default below; not measured, as no GPU was at hand)."""
ACCELERATOR_LOOP_GROUP_SIZE = 2**14
DRAW_BLOCK = 64
"""Draws per device in a compiled chunk are a multiple of this: four AVX-512 vectors of float32, so no
draw falls in the scalar code XLA emits for a batch's remainder, whatever the chunk size or device count."""


PRIORS_TEXT_LIMIT = 2**16
"""Bytes of the user's priors text kept in the results (a larger file is named by its hash; the
resolved priors, which reproduce the run, are always kept whole)."""


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise RunError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class SampledDraws:
    """Draws made from priors: draw i's unit point from the sampler, through the priors'
    copula and inverse CDFs. ``sampler`` is a :class:`Sampler` or a design with its
    interface (the Saltelli design of :func:`overhang_jax.sobol_indices`); ``random_names``
    are the parameters it gives a coordinate (default: those the priors leave uncertain).

    The priors enter the compiled program as data (:meth:`Priors.program_data`), so every
    scenario of a model with the same structure shares one program."""

    def __init__(self, priors: Priors, sampler, random_names: Sequence[str] | None = None):
        self.priors, self.sampler = priors, sampler
        self.structure = priors.program_structure(random_names)
        self.varying = priors.random_names
        """Parameters with a value per draw, in the model's order."""
        self.returned = self.structure.names
        """Parameters the compiled program returns per draw: ``varying`` and any it computes but
        these priors fix (left out on the host)."""
        self.fixed = {name: priors.distributions[name].point_value for name in priors.point_names}
        """The others, one value each."""

    def cache_key(self) -> tuple:
        return ("sampled", self.structure, self.sampler.cache_key())

    def data(self, dtype) -> Any:
        return self.priors.program_data(self.structure, dtype)

    def host_part(self, start: int, count: int) -> np.ndarray:
        return self.sampler.host_part(start, count)

    def key(self) -> jax.Array:
        return self.sampler.key()

    def parameters(self, key, index, host, data, dtype) -> dict[str, jax.Array]:
        return self.transform(self.unit_points(key, index, host, dtype), data, dtype)

    # What a redraw of rejected parameter sets needs (engine/_redraw.py).
    @property
    def can_redraw(self) -> bool:
        """The sampler makes more points than its draws' own (a Saltelli design does not)."""
        return hasattr(self.sampler, "redrawn_points")

    def unit_points(self, key, index, host, dtype) -> jax.Array:
        return self.sampler.unit_points(key, index, host, dtype)

    def redraw_points(self, key, index, attempt, dtype) -> jax.Array:
        return self.sampler.redrawn_points(key, index, attempt, dtype)

    def transform(self, points, data, dtype) -> dict[str, jax.Array]:
        return transform_data(self.priors.model, self.structure, data, points)

    def smallest(self, data, dtype) -> dict[str, jax.Array]:
        """Every parameter at the smallest value the sampler can give it (its own marginal's, without
        the copula; the fixed value of a fixed one), as a batch of one draw."""
        independent = dataclasses.replace(self.structure, copula=False)
        return transform_data(self.priors.model, independent, data, jnp.zeros((1, len(self.returned)), dtype))


class GivenDraws:
    """Parameter sets given as a table (:func:`evaluate`): draw i is row i.

    ``table`` holds the values of ``varying`` (rows, len(varying)), float64;
    ``fixed`` the value of every other parameter.
    """

    def __init__(self, varying: tuple[str, ...], table: np.ndarray, fixed: Mapping[str, float]):
        self.varying, self.table, self.fixed = tuple(varying), table, dict(fixed)
        self.returned = self.varying

    def cache_key(self) -> tuple:
        return ("given", self.varying, tuple(self.fixed))

    def data(self, dtype) -> np.ndarray:
        return np.asarray(list(self.fixed.values()), np.float64).astype(jnp.dtype(dtype))

    def host_part(self, start: int, count: int) -> np.ndarray:
        # Past the last set (a chunk's padding, never kept): that set again, a valid one.
        rows = np.minimum(np.arange(start, start + count), len(self.table) - 1)
        return self.table[rows]

    def key(self) -> jax.Array:
        return np.zeros(2, np.uint32)  # nothing is random

    def parameters(self, key, index, host, fixed_values, dtype) -> dict[str, jax.Array]:
        values = {name: host[..., k].astype(dtype) for k, name in enumerate(self.varying)}
        values.update({name: jnp.broadcast_to(fixed_values[j].astype(dtype), index.shape)
                       for j, name in enumerate(self.fixed)})
        return values


_COMPILED: dict[tuple, Callable] = {}
COMPILED_CACHE_SIZE = 16
"""Compiled chunk functions kept (least recently used dropped): enough for a
notebook or a comparison going back and forth between scenarios."""


def _chunk_function(model: Model, method: str, source, dtype: Any, mesh: jax.sharding.Mesh) -> Callable:
    """The jitted function of one chunk, reused across runs with the same set-up."""
    # The seed and the fixed parameter values enter as arguments, so they are not part of
    # the key (scenarios that differ only in fixed values share one compilation), except
    # static ones, which are constants of the compiled function.
    static = tuple((name, source.fixed[name]) for name in model.static_names)
    cache_key = (model.name, method, source.cache_key(), static, jnp.dtype(dtype).name, tuple(mesh.devices.flat))
    if cache_key in _COMPILED:
        _COMPILED[cache_key] = _COMPILED.pop(cache_key)  # now the most recently used
    else:
        while len(_COMPILED) >= COMPILED_CACHE_SIZE:
            del _COMPILED[next(iter(_COMPILED))]  # the least recently used
        _COMPILED[cache_key] = _build_chunk_function(model, method, source, dtype, mesh)
    return _COMPILED[cache_key]


def _build_chunk_function(model: Model, method: str, source, dtype: Any, mesh: jax.sharding.Mesh) -> Callable:
    # Static parameters (point values, checked when the priors loaded) enter as Python floats:
    # constants of this compiled function, whose cache key holds their values.
    static = {name: source.fixed[name] for name in model.static_names}

    def with_static(fn):
        return None if fn is None else (lambda params: fn({**params, **static}))

    simulate = with_static(model.methods[method])
    work_estimate = with_static(model.work_estimates.get(method))
    group_size = LOOP_GROUP_SIZES.get(mesh.devices.flat[0].platform, ACCELERATOR_LOOP_GROUP_SIZE)

    def batched(key, index, host, draws, data, observed):
        varying, outputs = simulated(key, index, host, data)
        observable = {n: outputs.pop(n) for n in observable_series(model)}
        series = {n: outputs.pop(n) for n in model.trajectories.names} if model.trajectories else {}
        outputs.update(_log_likelihood_columns(model, {**outputs, **series, **observable}, observed))
        return varying, outputs, _trajectory_summaries(model.trajectories, series, index, draws)

    redraw = model.redraw if redraws(model, source) else None
    admissible = with_static(redraw.admissible) if redraw else None

    def simulated(key, index, host, data):
        if redraw is None:
            params, rejected = source.parameters(key, index, host, data, dtype), None
        else:
            params, rejected = redrawn_parameters(model, source, admissible, key, index, host, data, dtype)
        # The barrier makes every parameter an array of the model's own, fixed ones included: XLA
        # would otherwise compute on a broadcast fixed value once, in scalar code that can round
        # differently, and a draw's bits would depend on the chunk and on how it is evaluated.
        params = jax.lax.optimization_barrier(params)
        # Only the parameters that vary come back; fixed values are filled in on the host.
        varying = {n: params[n] for n in source.returned}
        outputs = simulated_outputs(params, index.shape[0])
        if rejected is not None:
            outputs[redraw.count_output] = rejected.astype(outputs[redraw.count_output].dtype)
        return varying, outputs

    def simulated_outputs(params, count):
        if work_estimate is None and not model.fixed_length_loops:
            return jax.vmap(simulate)(params)
        # Two groups at least, whatever the chunk: XLA compiles a loop of one trip (or no loop) as
        # straight code with other fusions, where a multiply and an add can become one fused
        # multiply-add or not, so a draw's last bits would depend on how many draws its device
        # holds. The groups' width does not matter (the same code runs on each lane).
        groups = max(2, -(-count // group_size))
        width = -(-count // groups)

        def in_groups(params, order):
            # Run the draws in groups, in ``order`` (the last group padded with copies of its
            # last draw), one group after another, and put the outputs back in order.
            padded = jnp.concatenate([order, jnp.full(groups * width - count, order[-1])])
            grouped = jax.tree.map(lambda a: a[padded].reshape(groups, width), params)
            outputs = jax.lax.map(jax.vmap(simulate), grouped)
            return jax.tree.map(lambda a: jnp.zeros((count, *a.shape[2:]), a.dtype).at[order].set(
                a.reshape(groups * width, *a.shape[2:])[:count]), outputs)

        if work_estimate is None:  # every draw takes the same steps: groups in draw order
            return in_groups(params, jnp.arange(count))
        # Step draws of similar length together, sorted by the estimated work; with no loop
        # work on this device (say, every draw in closed form), skip the sorting.
        work = jax.vmap(work_estimate)(params)
        return jax.lax.cond(jnp.all(work == 0), lambda params: in_groups(params, jnp.arange(count)),
                            lambda params: in_groups(params, jnp.argsort(work)), params)

    draws = PartitionSpec("draws")
    # check_vma=False: point parameters are the same on every device, so loop
    # carries built from them are not "varying". The only collective is the
    # psum of the trajectory histograms, replicated on every device.
    sharded = jax.shard_map(batched, mesh=mesh,
                            in_specs=(PartitionSpec(), draws, draws, PartitionSpec(), PartitionSpec(),
                                      PartitionSpec()),
                            out_specs=(draws, draws, PartitionSpec()), check_vma=False)
    return jax.jit(sharded)


LOG_LIKELIHOOD_COLUMN = "log_likelihood/{}"
"""A run's per-draw column of its j-th observation's log likelihood (see ``observe`` of :func:`run`)."""


def _log_likelihood_columns(model: Model, results, observed) -> dict[str, jax.Array]:
    """The hook of conditioning: each observation's log likelihood of every draw, as extra per-draw
    columns. ``observed`` is the observations' table (no rows: nothing is computed); the model's
    series are read here, inside the compiled chunk, and never leave it."""
    if observed.shape[0] == 0:
        return {}
    per_observation = log_likelihood(model, results, observed)
    return {LOG_LIKELIHOOD_COLUMN.format(j): per_observation[j] for j in range(observed.shape[0])}


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


UNIT_COORDINATES = "one per model parameter, by its index in the model's list"
"""How draws take their unit points (kept in a run's attributes and in its checkpoint's manifest, so a
checkpoint of draws made another way is refused)."""


DEFAULT_DRAWS = 100_000
"""Draws of a run unless asked otherwise (the command line's default too)."""


def run(model: str | Model, priors: Priors | str | os.PathLike | None = None, *, draws: int = DEFAULT_DRAWS,
        seed: int = 0, sampler: str = "mc", chunk_size: int = DEFAULT_CHUNK_SIZE,
        checkpoint: str | os.PathLike | None = None, float64: bool = False, method: str | None = None,
        devices: Sequence[jax.Device] | None = None, progress: bool | None = None, outputs_only: bool = False,
        observe=None, out: str | os.PathLike | None = None, nonfinite: str = "warn",
        max_nonfinite_share: float | None = None, reserve: Sequence[tuple[str | os.PathLike, int]] = ()):
    """Sweep ``model`` over ``draws`` parameter draws from ``priors`` (default 100,000).

    Returns an :class:`xarray.DataTree` laid out for ArviZ (docs/results.md):
    the parameters that vary (group ``prior``) and the outputs (group
    ``prior_predictive``) of every draw along dims (chain, draw), one chain;
    point-valued parameters once (group ``constant_data``). See
    :func:`overhang_jax.summary`.

    ``priors`` is a :class:`Priors`, a path to a priors TOML file, the name
    of a shipped scenario (:func:`overhang_jax.scenarios`), or None for the
    shipped defaults. ``seed`` picks the random numbers: each parameter's are
    a function of the seed, the draw and the parameter alone, so runs with
    the same seed are paired draw for draw (a parameter two scenarios both
    leave uncertain with the same prior takes the same value in draw i of
    each). ``sampler`` is ``mc`` (Monte Carlo), ``sobol`` (scrambled Sobol)
    or ``lhs`` (Latin hypercube). ``chunk_size`` larger than ``draws`` is
    clamped. ``checkpoint`` names a directory (its parent must exist) where
    each finished chunk is saved; the same call resumes from it, whatever the
    devices or the chunk size, and attribute ``draws_from_checkpoint`` says
    how many draws were read rather than computed. ``float64`` computes in
    double precision (always, for a model that ``requires_float64``); priors
    whose draws overflow float32 need it. ``method`` picks one of the model's
    methods (default: its first). ``devices`` defaults to all of
    ``jax.devices()``. ``progress`` shows a bar (default: when stderr is a
    terminal). ``outputs_only`` keeps no parameter per draw (for sweeps too
    large to keep them; the seed and priors draw them again). ``observe`` (a path to an observations
    file, a shipped set's name, or :class:`Observations`) conditions the run on data: each draw's log
    likelihood is computed with it, and the results gain ``log_likelihood``, ``sample_stats``
    (importance weights) and a resampled ``posterior`` (docs/observations.md).

    ``out`` names a results file to write (netCDF, atomically; :func:`overhang_jax.load` reads it)
    with the command line's guarantees: before any compute, the path (and the checkpoint's) must be
    writable, must not be the priors file, and its disk must have room; if the write fails after
    the compute (a full disk), the computed draws are kept as a checkpoint beside it
    (``OUT.checkpoint``, or in ``checkpoint``) and :class:`StorageError` says how to resume. In a
    ``jax.distributed`` run only process 0 writes. ``nonfinite``: if more than
    ``max_nonfinite_share`` (default: the model's ``nonfinite_share_limit``) of the draws of an
    output are NaN or infinite, ``"warn"`` (default) warns with :class:`NonfiniteWarning` and
    ``"raise"`` raises :class:`NonfiniteError`, after the results are written. ``reserve`` lists
    (path, bytes) of other files the caller writes after the run (the command line's figures),
    counted with the results in the space check.

    Runs use every CPU core (one XLA CPU device per core) and the persistent compilation cache:
    :func:`overhang_jax.configure` sets both, and is called with its defaults if it was not.
    """
    model = get_model(model)
    if not isinstance(priors, Priors):
        priors = load_priors(model, priors)
    elif priors.model.name != model.name:
        raise PriorsError(f"priors are for model '{priors.model.name}', not '{model.name}'")
    from .._results import planned_results

    check_nonfinite_mode(nonfinite, max_nonfinite_share)
    out, checkpoint = as_path(out), as_path(checkpoint)
    draws_ = positive_int("draws", draws)
    _check_destination(model, [priors], draws_, chunk_size, float64, outputs_only, out, checkpoint,
                       max_nonfinite_share, reserve=reserve, planned=lambda: planned_results(
                           model, priors, draws_, float64=float64, outputs_only=outputs_only))
    results = _draws(model, priors, draws=draws, seed=seed, sampler=sampler, chunk_size=chunk_size,
                     checkpoint=checkpoint, float64=float64, method=method, devices=devices, progress=progress,
                     outputs_only=outputs_only, observe=observe)
    if out is not None and jax.process_index() == 0:
        save_or_rescue(results, out, {".": (results, priors)}, checkpoint)
    limit = nonfinite_limit(model, max_nonfinite_share)
    nonfinite_gate([nonfinite_excess(results, limit, model=model)], nonfinite)
    return results


def priors_path(priors: Priors) -> Path | None:
    """The file priors were read from, if any (never to be overwritten)."""
    path = Path(priors.source)
    return path if priors.source not in ("defaults", "<priors text>") and path.is_file() else None


def _check_destination(model: Model, priors: Sequence[Priors], draws: int, chunk_size: int, float64: bool,
                       outputs_only: bool, out: Path | None, checkpoint: Path | None,
                       max_nonfinite_share: float | None, planned: Callable[[], Any],
                       checkpoint_parts: Sequence[str] = (".",),
                       reserve: Sequence[tuple[str | os.PathLike, int]] = ()) -> None:
    """Every check of the files a run writes, before any compute: paths, inputs, space."""
    from .._results import estimated_bytes

    if out is None and checkpoint is None and not reserve:
        return
    check_writable([("out", out)] if out is not None else [], checkpoint, [priors_path(p) for p in priors])
    needs = [(Path(path), int(size)) for path, size in reserve]
    if out is not None:
        needs.append((out, estimated_bytes(planned(), nonfinite_limit(model, max_nonfinite_share))))
    if checkpoint is not None:
        chunk = positive_int("chunk_size", chunk_size)
        needs.append((checkpoint, sum(checkpoint_bytes(model, p, draws, chunk, float64, checkpoint / part)
                                      for p, part in zip(priors, checkpoint_parts))))
    check_space(needs)


def _draws(model: Model, priors: Priors, *, draws: int, seed: int, sampler, chunk_size: int,
           checkpoint: Path | None, float64: bool, method: str | None, devices, progress: bool | None,
           outputs_only: bool, observe=None):
    """The draws of a run, in memory: :func:`run` without its files."""
    from .._results import to_datatree

    draws = positive_int("draws", draws)
    chunk_size = min(positive_int("chunk_size", chunk_size), draws)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise RunError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    method = method_of(model, method)
    if isinstance(sampler, str):
        if sampler not in SAMPLERS:
            raise RunError(f"unknown sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")
        # Every parameter the defaults leave uncertain takes a coordinate, also where these priors
        # fix it: then every scenario of the model shares one compiled program.
        random_names = shared_random_names(priors)
        columns = tuple(model.parameter_names.index(name) for name in random_names)
        sampler_ = Sampler(sampler, int(seed), columns, draws, len(model.parameters))
    else:  # a design object with Sampler's interface (the Saltelli design of sobol_indices)
        sampler_ = sampler
        if sampler_.width != priors.dimension or sampler_.draws != draws:
            raise RunError(f"the design has {sampler_.width} coordinates and {sampler_.draws} draws; the "
                           f"run has {priors.dimension} and {draws}")
        sampler = repr(sampler)
        random_names = priors.random_names
    source = SampledDraws(priors, sampler_, random_names)
    check_redraw(model, source)
    ensure_configured()
    devices = list(devices) if devices is not None else jax.devices()
    dtype = jnp.float64 if float64 or model.requires_float64 else jnp.float32

    attrs = {
        "model": model.name, "method": method, "version": __version__, "seed": int(seed), "draws": draws,
        "sampler": sampler, "unit_coordinates": UNIT_COORDINATES, "chunk_size": chunk_size,
        "dtype": jnp.dtype(dtype).name, "priors_sha256": hashlib.sha256(priors.to_toml().encode()).hexdigest(),
        "redrawn": int(redraws(model, source)),
    }
    observations = None if observe is None else load_observations(observe, model)
    if observations is not None:
        attrs["observations_sha256"] = observations.sha256
    with jax.enable_x64(dtype == jnp.float64):
        check_float_width(priors, dtype)
    store = Checkpoint(checkpoint, manifest_of(attrs)) if checkpoint is not None else None
    columns, series, resumed = compute_draws(model, method, source, draws, chunk_size, dtype, devices, store, progress,
                                        outputs_only, None if observations is None else observations.table(model))
    attrs.update({"scenario": priors.name, "priors_toml": priors.to_toml(), "priors_source": priors.source,
                  "priors_text": _kept_priors_text(priors.text), "jax_version": jax.__version__,
                  "devices": ", ".join(str(d) for d in devices), "processes": jax.process_count(),
                  "process": jax.process_index(), "draws_from_checkpoint": resumed})
    log_likelihoods = {} if observations is None else {
        entry.name: columns.pop(LOG_LIKELIHOOD_COLUMN.format(j)) for j, entry in enumerate(observations.entries)}
    results = to_datatree(model, columns, source.fixed, attrs, series)
    if observations is not None:
        results = conditioned(model, results, log_likelihoods, observations, condition(log_likelihoods, int(seed)))
    return results


def conditioned(model: Model, results, log_likelihoods: Mapping[str, np.ndarray], observations, made):
    """``results`` with what its observations make of it (``made``, a :class:`Conditioning`): log
    likelihoods, weights, the posterior."""
    from .._results import with_observations

    units = {o.name: o.units for o in model.observables}
    observation_attrs = {entry.name: observation_attrs_of(entry, units[entry.quantity])
                         for entry in observations.entries}
    attrs = {**made.attrs(), "observations": observations.name, "observations_source": observations.source,
             "observations_text": observations.text}
    return with_observations(results, model, log_likelihoods, observation_attrs, made.weights, made.resample, attrs)


def observation_attrs_of(entry, units: str) -> dict[str, Any]:
    """An observation's description as netCDF attributes (numbers and text)."""
    a, b, c = entry.numbers
    numbers = ({"value": a, "sd": b} if entry.likelihood == "normal" else
               {"value": a, "scale": b, "df": c} if entry.likelihood == "student_t" else
               {"lower": a, "upper": b, "edge": c})
    return {"quantity": entry.quantity, "units": f"{units}/yr" if entry.growth else units,
            "likelihood": entry.likelihood, "year_start": entry.years[0], "year_end": entry.years[1],
            "growth": int(entry.growth), **numbers, "long_name": entry.describe(units), "source": entry.source,
            "uncertainty": entry.uncertainty}


def method_of(model: Model, method: str | None) -> str:
    method = method or model.default_method
    if method not in model.methods:
        raise RunError(f"model '{model.name}' has no method '{method}'; choose one of {', '.join(model.methods)}")
    return method


def compute_draws(model: Model, method: str, source, draws: int, chunk_size: int, dtype: Any, devices: list,
             store: Checkpoint | None, progress: bool | None, outputs_only: bool, observed: np.ndarray | None = None
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Every draw of ``source``, computed in chunks sharded over ``devices`` or read from ``store``:
    the columns kept (per draw), the trajectory summaries, and the number of draws read. ``observed``
    (an observations' table) adds each observation's log likelihood as a column."""
    observed = np.zeros((0, len(TABLE_COLUMNS))) if observed is None else np.asarray(observed, np.float64)
    # Chunks start every chunk_size draws; each is padded to an equal share per device, and the
    # padding is never kept, so neither the chunk size nor the devices change the draws.
    # Each device's share is also a whole number of DRAW_BLOCKs, so every draw is computed by the vector
    # code of a full block: XLA's code for a short remainder rounds otherwise (AVX-512: in the last bits).
    share = len(devices) * DRAW_BLOCK
    padded = math.ceil(compiled_chunk(draws, chunk_size) / share) * share
    if draws + padded > 2**31:  # draw indices, padding included, are int32 on every device
        raise RunError(f"draws plus one chunk must stay within 2**31 = {2**31:,} per run, got {draws:,} "
                       f"+ {padded:,}")
    saved = store.saved(draws) if store else {}
    kept = (*([] if outputs_only else source.varying), *model.output_names,
            *(LOG_LIKELIHOOD_COLUMN.format(j) for j in range(len(observed))))
    with jax.enable_x64(dtype == jnp.float64):
        mesh = jax.make_mesh((len(devices),), ("draws",), devices=devices,
                             axis_types=(jax.sharding.AxisType.Auto,))
        columns = {n: np.empty(draws, jnp.dtype(dtype)) for n in kept}
        series = _empty_series(model, dtype, draws)
        resumed = _run_chunks(model, method, source, dtype, mesh, _plan(draws, chunk_size, saved), padded, draws,
                         columns, series, store, progress if progress is not None else sys.stderr.isatty(),
                         observed)
    return columns, series, resumed


def compiled_chunk(draws: int, chunk_size: int) -> int:
    """The draws each chunk's compiled program computes: ``chunk_size``, except for a run of at most
    DEFAULT_CHUNK_SIZE draws in one chunk, padded to the next of 256 or 4, 5, 6 or 7 times a power of
    two (at most 25% more draws). Runs of nearby sizes then share one compiled program (compiling
    takes seconds, and each new size would compile again) at a cost of at most a quarter more work."""
    if chunk_size < draws or draws > DEFAULT_CHUNK_SIZE:
        return chunk_size
    if draws <= 256:
        return 256
    step = 2 ** max(0, (draws - 1).bit_length() - 3)
    return math.ceil(draws / step) * step


def _kept_priors_text(text: str) -> str:
    """The user's priors text, or, beyond PRIORS_TEXT_LIMIT bytes, a note of its size and hash."""
    data = text.encode()
    if len(data) <= PRIORS_TEXT_LIMIT:
        return text
    return (f"# The priors file ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}) is larger than "
            f"the {PRIORS_TEXT_LIMIT:,} bytes kept in results; the resolved priors in the attribute priors_toml "
            "reproduce the run.\n")


def _plan(draws: int, chunk_size: int, saved: dict[int, int]) -> list[tuple[int, int, bool]]:
    """(start, stop, saved) of each chunk: the saved chunks that tile the run from draw 0, and chunks of
    at most ``chunk_size`` computed between them."""
    starts = sorted(saved)
    plan, position = [], 0
    while position < draws:
        if position in saved:
            stop, from_store = position + saved[position], True
        else:
            later = bisect.bisect_right(starts, position)
            stop = min(position + chunk_size, starts[later] if later < len(starts) else draws)
            from_store = False
        plan.append((position, stop, from_store))
        position = stop
    return plan


def chunk_layout(model: Model, varying: Sequence[str], dtype: Any, observations: int = 0
                 ) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The arrays one chunk gives: per-draw columns (shape ``()``) of the ``varying`` parameters, the
    outputs and the log likelihood of each of ``observations``, and its share of the trajectory
    summaries (their full shape), with their dtypes."""
    layout = {name: ((), jnp.dtype(dtype)) for name in (*varying, *model.output_names,
                                                        *(LOG_LIKELIHOOD_COLUMN.format(j) for j in range(observations)))}
    spec = model.trajectories
    if spec is not None:
        times = len(spec.coords)
        for each in spec.series:
            layout[f"{each.name}/counts"] = ((times, each.bins + 2), np.dtype(np.int32))
            layout[f"{each.name}/kept"] = ((KEPT_TRAJECTORIES, times), jnp.dtype(dtype))
    return layout


def estimated_checkpoint_bytes(model: Model, priors: Priors, draws: int, chunk_size: int, float64: bool) -> int:
    """Bytes of a run's whole checkpoint: every chunk's columns, summaries and file overhead."""
    layout = chunk_layout(model, priors.random_names, np.float64 if float64 or model.requires_float64 else np.float32)
    per_draw = sum(dtype.itemsize for shape, dtype in layout.values() if not shape)
    per_chunk = sum(dtype.itemsize * math.prod(shape) for shape, dtype in layout.values() if shape)
    chunks = math.ceil(draws / min(chunk_size, draws))
    return draws * per_draw + chunks * (per_chunk + NPZ_OVERHEAD + 128 * len(layout))


def save_checkpoint(results, priors: Priors, directory: str | os.PathLike) -> None:
    """Save a finished run as a checkpoint of one chunk, from which the same run (with this
    checkpoint) gives its results without computing again."""
    from .._results import LOG_LIKELIHOOD_GROUP, TRAJECTORIES_GROUP, outputs, parameters

    if results.attrs.get("outputs_only"):
        raise ValueError("a run that keeps outputs only cannot be saved as a checkpoint: its parameters are gone")
    model = get_model(results.attrs["model"])
    columns = {**parameters(results).data_vars, **outputs(results).data_vars}
    # A conditioned run's chunks hold each observation's log likelihood too (in the observations' order).
    observed = list(results[LOG_LIKELIHOOD_GROUP].data_vars) if LOG_LIKELIHOOD_GROUP in results.children else []
    columns.update({LOG_LIKELIHOOD_COLUMN.format(j): results[LOG_LIKELIHOOD_GROUP][name].isel(chain=0)
                    for j, name in enumerate(observed)})
    arrays = {}
    for name, (shape, dtype) in chunk_layout(model, priors.random_names, results.attrs["dtype"],
                                             len(observed)).items():
        if not shape:
            arrays[name] = np.asarray(columns[name].values, dtype)
        elif name.endswith("/counts"):  # a chunk's counts are int32, as the devices give them
            arrays[name] = np.asarray(results[TRAJECTORIES_GROUP][f"{name[:-len('/counts')]}_counts"].values, dtype)
        else:  # the kept series, padded to KEPT_TRAJECTORIES rows as a chunk's are
            kept = np.asarray(results[TRAJECTORIES_GROUP][name[:-len("/kept")]].values, dtype)
            arrays[name] = np.zeros(shape, dtype)
            arrays[name][: len(kept)] = kept
    Checkpoint(directory, manifest_of(results.attrs)).save(0, arrays)


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


def _run_chunks(model, method, source, dtype, mesh, plan, padded, draws, columns, series, store, progress,
                observed) -> int:
    """Compute or load every chunk of ``plan`` into ``columns`` and ``series``; return the number of
    draws loaded from the checkpoint."""
    from tqdm import tqdm  # the plain bar: it writes to stderr only when that is a terminal

    computed = any(not from_store for _, _, from_store in plan)
    chunk_fn = _chunk_function(model, method, source, dtype, mesh) if computed else None
    data = source.data(dtype)
    key = source.key()
    draws_sharding = NamedSharding(mesh, PartitionSpec("draws"))
    layout = chunk_layout(model, source.varying, dtype, len(observed))

    multi_process = jax.process_count() > 1

    def dispatch(start, stop):
        index = np.arange(start, start + padded, dtype=np.int32)
        host = source.host_part(start, padded)
        # Each process places only the slices its own devices hold (all of them, in one process).
        index = jax.make_array_from_callback(index.shape, draws_sharding, lambda where: index[where])
        host = jax.make_array_from_callback(host.shape, draws_sharding, lambda where: host[where])
        # Summaries count draws below `stop` only: the draws after it belong to the next chunk.
        return chunk_fn(key, index, host, np.int32(stop), data, observed.astype(jnp.dtype(dtype)))

    def gathered(arrays):
        """Every process's part of a chunk, on every process (jax.distributed runs only)."""
        from jax.experimental import multihost_utils

        return {name: (np.asarray(values.addressable_shards[0].data) if name in series
                       else multihost_utils.process_allgather(values, tiled=True))
                for name, values in arrays.items()}

    def collect(start, stop, arrays):
        """Copy a chunk's arrays (numpy, or jax arrays sharded over draws) into the columns kept."""
        for name, values in arrays.items():
            if name not in columns and name not in series:
                continue  # a parameter of a run that keeps outputs only
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

    # Which chunks are done was decided once, before any compute: in a jax.distributed run every
    # process must dispatch the same chunks, while process 0 writes new ones.
    if multi_process:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("overhang_jax: checkpoint listed")
    bar = tqdm(total=draws, unit="draw", disable=not progress or jax.process_index() > 0, smoothing=0.1)
    pending = None  # (start, stop, device arrays) dispatched but not yet copied back
    loaded = 0
    try:
        for chunk in [*plan, None]:
            finished = pending
            pending = None
            if chunk is not None:
                start, stop, from_store = chunk
                if from_store:
                    collect(start, stop, store.load(start, stop - start, layout))
                    loaded += stop - start
                    bar.update(stop - start)
                else:
                    pending = (start, stop, dispatch(start, stop))
            if finished is not None:
                start, stop, (params, outputs, summaries) = finished
                arrays = {**params, **outputs, **summaries}
                if multi_process:
                    arrays = gathered(arrays)
                if store and jax.process_index() == 0:  # one writer; every process may read to resume
                    store.save(start, {n: np.asarray(v)[: None if n in series else stop - start]
                                       for n, v in arrays.items() if n in layout})
                collect(start, stop, arrays)
                bar.update(stop - start)
    finally:
        bar.close()
    return loaded


def compare(*scenarios: Priors | str | os.PathLike | None, model: str | Model | None = None,
            draws: int = DEFAULT_DRAWS, seed: int = 0, checkpoint: str | os.PathLike | None = None,
            out: str | os.PathLike | None = None, nonfinite: str = "warn", max_nonfinite_share: float | None = None,
            reserve: Sequence[tuple[str | os.PathLike, int]] = (), **run_options):
    """Run two scenarios on the same draws and take their per-draw differences.

    ``compare(A, B)`` infers the model from the scenarios (a shipped scenario's name, a priors
    file's ``model = "..."``, or :class:`Priors`); ``compare(MODEL, A, B)`` or ``model=`` names it.
    Common random numbers: both runs use the same seed, and a parameter's
    random numbers depend on the seed, the draw and the parameter alone, so
    a parameter both scenarios leave uncertain with the same prior takes the
    same value in draw i of each, and each difference B - A is paired (as it
    is between any two runs with the same seed). Each of A and B is what :func:`run` takes:
    :class:`Priors`, a path, a shipped scenario's name or None (the defaults). Returns a DataTree
    with the two runs under ``a`` and ``b`` and the differences B - A in ``prior_predictive``; see
    :func:`overhang_jax.compare_summary`. ``checkpoint`` names a directory
    holding the checkpoints of both runs (``a`` and ``b`` in it); ``out``, ``nonfinite`` and
    ``max_nonfinite_share`` and ``reserve`` are :func:`run`'s (the gate reads each scenario); ``run_options`` go
    to :func:`run`.
    """
    from .._results import planned_comparison

    if len(scenarios) == 3 and model is None:
        model, *scenarios = scenarios
    if len(scenarios) != 2:
        raise RunError("compare takes two scenarios, A and B (and the model first, or as model=, when "
                       "neither scenario names it)")
    model = get_model(model if model is not None else _model_of(scenarios))
    loaded = [p if isinstance(p, Priors) else load_priors(model, p) for p in scenarios]
    check_nonfinite_mode(nonfinite, max_nonfinite_share)
    out, checkpoint = as_path(out), as_path(checkpoint)
    options = {"sampler": "mc", "chunk_size": DEFAULT_CHUNK_SIZE, "float64": False, "method": None, "devices": None,
               "progress": None, "outputs_only": False, "observe": None}
    unknown = sorted(set(run_options) - set(options))
    if unknown:
        raise TypeError(f"compare() got unexpected keyword argument(s) {', '.join(unknown)}")
    options.update(run_options)
    draws_ = positive_int("draws", draws)
    _check_destination(model, loaded, draws_, options["chunk_size"], options["float64"], options["outputs_only"],
                       out, checkpoint, max_nonfinite_share, checkpoint_parts=("a", "b"), reserve=reserve,
                       planned=lambda: planned_comparison(model, *loaded, draws_, float64=options["float64"],
                                                          outputs_only=options["outputs_only"]))
    if checkpoint is not None:
        try:
            checkpoint.mkdir(exist_ok=True)
        except OSError as err:
            raise RunError(f"cannot create checkpoint directory '{checkpoint}': {err.strerror}") from None
    runs = [_draws(model, p, draws=draws, seed=seed, **options,
                   checkpoint=None if checkpoint is None else checkpoint / label)
            for label, p in zip("ab", loaded)]
    comparison = _paired(model, runs, options["observe"])
    if out is not None and jax.process_index() == 0:
        save_or_rescue(comparison, out, {label: (comparison[label], p) for label, p in zip("ab", loaded)},
                       checkpoint)
    limit = nonfinite_limit(model, max_nonfinite_share)
    nonfinite_gate([nonfinite_excess(comparison[label], limit, f"scenario {label.upper()}: ", model) for label in "ab"],
                   nonfinite)
    return comparison


def _model_of(scenarios: Sequence[Any]) -> str:
    """The model the scenarios are for: the one each names (a Priors' model, a file's ``model =``)."""
    names = set()
    for scenario in scenarios:
        if isinstance(scenario, Priors):
            names.add(scenario.model.name)
        elif scenario is not None:
            names.add(scenario_model(scenario))
    if len(names) > 1:
        raise RunError(f"the two scenarios are for different models ({', '.join(sorted(names))})")
    if not names:
        raise RunError("neither scenario names its model (both are the defaults): give the model, "
                       "compare(MODEL, A, B)")
    return names.pop()


def _paired(model: Model, runs, observe):
    """The comparison of runs A and B: their paired differences, and with observations the pair's
    shared weights and posterior."""
    from .._results import (paired_differences, weights_and_resample, with_observations, with_paired_posterior,
                            without_observations)

    if observe is None:
        return paired_differences(model, *runs)
    # The observations are of the past, before any policy: a pair of draws is one world with one
    # weight, A's (B's own log likelihoods are kept; they differ only if B changes the past).
    a, b = runs
    weights, resample = weights_and_resample(a)
    attrs = {k[len("posterior_"):]: v for k, v in a.attrs.items() if k.startswith("posterior_")}
    from .._results import LOG_LIKELIHOOD_GROUP, OBSERVED_GROUP

    own = {name: var.values.ravel() for name, var in b[LOG_LIKELIHOOD_GROUP].data_vars.items()}
    change = max(float(np.nanmax(np.abs(np.where(np.isinf(own[n]) & np.isinf(a[LOG_LIKELIHOOD_GROUP][n].values.ravel()),
                                                 0.0, own[n] - a[LOG_LIKELIHOOD_GROUP][n].values.ravel()))))
                 for n in own)
    observation_attrs = {name: dict(var.attrs) for name, var in b[OBSERVED_GROUP].data_vars.items()}
    b = with_observations(without_observations(b), model, own, observation_attrs, weights, resample,
                          {**attrs, "weights_from": "scenario A (the pair shares its draw's weight)",
                           "own_log_likelihood_max_change": change})
    return with_paired_posterior(paired_differences(model, a, b), weights, resample,
                                 {**attrs, "weights_from": "scenario A (the pair shares its draw's weight)",
                                  "own_log_likelihood_max_change": change})
