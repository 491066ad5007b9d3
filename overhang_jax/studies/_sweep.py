"""Sweeps: one parameter fixed to each of several values in turn, on the same draws.

``sweep`` answers "how does the answer change with this lever?" (a cap's
duration, its level): at every value the same seed gives every other
parameter the same random numbers (common random numbers), so the change from
one value to the next is the lever's effect alone, draw by draw. The fixed
values enter the compiled chunk function as arguments, so every value runs the
same compiled function: a sweep costs about (number of values) x one run.

The results are one DataTree (docs/results.md): the outputs along (chain,
draw, value), the parameters that vary once (they are the same at every
value), the swept parameter as the coordinate ``value``. ``sweep_run`` gives
the run at one value in the ordinary layout, on which every function of a run
works.

A sweep conditioned on observations (``observe=``) conditions the run at each
value: each has its draws' log likelihoods, weights, k-hat, ESS and posterior
resample, stored along ``value``. Where the swept parameter cannot change the
years observed (a policy that starts after them), the log likelihoods, and so
the weights and the resample, are the same at every value, bit for bit, and
the paired differences between values are reweighted, not broken.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import numbers
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import xarray as xr

from .._errors import RunError
from ..models._schema import Model
from ..priors._priors import Priors, check_float_width, load_priors
from .._results import (CHAIN_DIM, CONSTANTS_GROUP, DRAW_DIM, LAYOUT_VERSION, LOG_LIKELIHOOD_GROUP, NONFINITE_GROUP,
                       OBSERVED_GROUP, OUTPUTS_GROUP, PARAMETERS_GROUP, POSTERIOR_GROUP, POSTERIOR_OUTPUTS_GROUP,
                       RESAMPLED_COORD, SAMPLE_STATS_GROUP, TRAJECTORIES_GROUP, WEIGHT_VARIABLE, ResultsError,
                       posterior_outputs)

SWEEP_DIM = "value"
"""The dimension (and coordinate) of the swept parameter's values."""
PER_RUN_ATTRS = ("priors_toml", "priors_sha256", "draws_from_checkpoint", "nonfinite_counts", "kind")
"""Root attributes of each value's run that the sweep's root replaces."""
PER_VALUE_POSTERIOR = ("pareto_khat", "ess", "reliable", "excluded_draws", "verdict")
"""Attributes of a conditioned run (``posterior_`` + these) that a conditioned sweep keeps per value, in
the JSON of its root attribute ``posterior_by_value``; the others (the observations, the methods, the
limits) are the same at every value and kept once, as a run keeps them."""
SWEEP_POSTERIOR_ATTRS = ("posterior_by_value", "posterior_reliable", "posterior_same_weights")
"""Root attributes of a conditioned sweep that are not a run's."""


def sweep(model: str | Model, priors: Priors | str | os.PathLike | None = None, *, param: str,
          values: Sequence[float], draws: int = 100_000, seed: int = 0, checkpoint: str | os.PathLike | None = None,
          out: str | os.PathLike | None = None, nonfinite: str = "warn", max_nonfinite_share: float | None = None,
          reserve: Sequence[tuple[str | os.PathLike, int]] = (), observe=None, **run_options) -> xr.DataTree:
    """Run ``model`` with parameter ``param`` fixed to each of ``values`` in turn, on the same draws.

    Every other parameter is drawn from ``priors`` (a :class:`Priors`, a priors
    file, or None for the defaults) with the same random numbers at every
    value: value k of the sweep is, bit for bit, the run of ``priors`` with
    ``param = values[k]`` and the same seed. Values are sorted; each must be a
    finite number in the parameter's allowed range, two at least, all
    different. A parameter that fixes the shape of the computation (a static
    one, such as the trajectory model's step) cannot be swept. All of it is
    checked before any compute. ``checkpoint`` names a directory holding one
    checkpoint per value; ``run_options`` (``sampler``, ``chunk_size``,
    ``float64``, ``method``, ``outputs_only``, ...) go to :func:`run`; ``out``, ``nonfinite``,
    ``max_nonfinite_share`` and ``reserve`` are :func:`run`'s (the gate reads each value's run).

    ``observe`` (as :func:`run` takes it) conditions the run at each value on the observations: each
    value has its own log likelihoods, weights, k-hat, ESS and posterior (``sweep_run`` gives each as
    the conditioned run at that value). A parameter that acts only after the years observed (a policy
    starting later) leaves them the same at every value, bit for bit (root attribute
    ``posterior_same_weights``); one that changes the series observed gives each value its own.

    Returns a DataTree with a ``value`` dimension (docs/results.md); see
    :func:`sweep_summary`, :func:`sweep_shares`, :func:`sweep_run` and
    ``oj.plots.plot_sweep``.
    """
    from .._results import estimated_bytes, planned_results
    from ..engine._guards import (as_path, check_nonfinite_mode, check_space, check_writable, checkpoint_bytes,
                                  nonfinite_excess, nonfinite_gate, nonfinite_limit, save_or_rescue)
    from ..engine._run import positive_int, priors_path, run
    from ..models._registry import DEFAULT_CHUNK_SIZE, get_model

    from ..priors._observations import load_observations

    model = get_model(model)
    base = priors if isinstance(priors, Priors) else load_priors(model, priors)
    values, fixed = sweep_priors(model, base, param, values)
    # Checked against the model once, before any compute; every value's run reads the same ones.
    observations = None if observe is None else load_observations(observe, model)
    check_nonfinite_mode(nonfinite, max_nonfinite_share)
    limit = nonfinite_limit(model, max_nonfinite_share)
    out, checkpoint = as_path(out), as_path(checkpoint)
    draws = positive_int("draws", draws)
    if out is not None or checkpoint is not None or reserve:
        check_writable([("out", out)] if out is not None else [], checkpoint, [priors_path(base)])
        float64, chunk_size = bool(run_options.get("float64")), run_options.get("chunk_size", DEFAULT_CHUNK_SIZE)
        # Each value's run is a file of its own size (the parameters they share counted each time: a bound).
        planned = planned_results(model, fixed[0], draws, float64=float64,
                                  outputs_only=bool(run_options.get("outputs_only")))
        per_value = estimated_bytes(planned, limit)
        if observations is not None:  # the posterior resample holds the parameters and outputs again
            per_value = 2 * per_value + draws * 8 * (2 + len(observations.entries))
        check_space([*((Path(path), int(size)) for path, size in reserve),
                     *([(out, len(values) * per_value)] if out is not None else []),
                     *([(checkpoint, sum(checkpoint_bytes(model, p, draws, positive_int("chunk_size", chunk_size),
                                                          float64, checkpoint / checkpoint_name(param, v))
                                         for v, p in zip(values, fixed)))] if checkpoint is not None else [])])
    dtype = jnp.float64 if run_options.get("float64") or model.requires_float64 else jnp.float32
    rounded = np.asarray(values, jnp.dtype(dtype))
    for k in np.flatnonzero(rounded[1:] == rounded[:-1]):  # (values are sorted: equal ones are neighbours)
        first, second, same = (np.format_float_positional(v, trim="-") for v in (values[k], values[k + 1],
                                                                                   float(rounded[k])))
        raise RunError(f"values {first} and {second} of '{param}' are the same number in "
                       f"{jnp.dtype(dtype).name} ({same}), so both runs would be identical: give values "
                       "further apart" + (", or compute in double precision (--float64, or float64=True)"
                                          if dtype == jnp.float32 else ""))
    with jax.enable_x64(dtype == jnp.float64):
        for each in fixed:  # every value now: each run would check only its own, after the others computed
            check_float_width(each, dtype)
    if checkpoint is not None:
        try:
            Path(checkpoint).mkdir(exist_ok=True)
        except OSError as err:
            raise RunError(f"cannot create checkpoint directory '{checkpoint}': {err.strerror}") from None

    def runs():  # one at a time: sweep_tree keeps only their outputs
        for value, p in zip(values, fixed):
            yield run(model, p, draws=draws, seed=seed, **run_options, max_nonfinite_share=1.0,  # gate below
                      observe=observations,
                      checkpoint=None if checkpoint is None else checkpoint / checkpoint_name(param, value))

    results = sweep_tree(model, base, param, values, runs())
    if out is not None and jax.process_index() == 0:
        save_or_rescue(results, out, {checkpoint_name(param, v): (sweep_run(results, v), p)
                                      for v, p in zip(values, fixed)}, checkpoint)
    nonfinite_gate([nonfinite_excess(sweep_run(results, v), limit, f"{param} = {v:g}: ", model) for v in values],
                   nonfinite)
    return results


def checkpoint_name(param: str, value: float) -> str:
    """The checkpoint directory of one value (inside a sweep's checkpoint): a sweep with more values
    reuses those already computed."""
    return f"{param}={value!r}"


def sweep_priors(model: Model, priors: Priors, param: str, values: Sequence[float]
                 ) -> tuple[list[float], list[Priors]]:
    """The sorted values and, for each, ``priors`` with ``param`` fixed to it; every check of a sweep's
    arguments, before any compute."""
    if param not in model.parameter_names:
        hint = difflib.get_close_matches(param, model.parameter_names, n=1)
        raise RunError(f"unknown parameter '{param}' for model '{model.name}'"
                       + (f"; did you mean '{hint[0]}'?" if hint else "")
                       + f" (`overhang-jax priors {model.name}` lists them)")
    parameter = model.parameter(param)
    if parameter.static:
        raise RunError(f"parameter '{param}' cannot be swept: it fixes the shape of the computation "
                       f"({parameter.doc}), so each value compiles its own function; run each value separately")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
        raise RunError(f"values must be a list of numbers, got {values!r}")
    checked = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise RunError(f"values of '{param}' must be numbers, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise RunError(f"values of '{param}' must be finite numbers, got {value}")
        if not parameter.contains(value):
            raise RunError(f"value {value:g} of '{param}' is not allowed: it must be {parameter.allowed()} "
                           f"({parameter.doc})")
        checked.append(value)
    if len(checked) < 2:
        raise RunError(f"a sweep needs at least 2 values of '{param}', got {len(checked)}")
    repeated = sorted({v for v in checked if checked.count(v) > 1})
    if repeated:
        raise RunError(f"values of '{param}' must all differ; {', '.join(f'{v:g}' for v in repeated)} is given "
                       "more than once")
    checked.sort()
    return checked, [priors.with_point(param, value) for value in checked]


def sweep_tree(model: Model, base: Priors, param: str, values: list[float], runs: Iterable[xr.DataTree]
               ) -> xr.DataTree:
    """Assemble the runs of a sweep (one per value, the same draws, given one after another) into one
    DataTree. Each run is dropped once its outputs are copied in, so a sweep holds one run at a time
    besides its outputs."""
    parameter = model.parameter(param)
    value_coord = xr.Variable((SWEEP_DIM,), np.asarray(values, np.float64),
                              {"units": parameter.units, "long_name": f"{param}: {parameter.doc}"})
    columns: dict[str, np.ndarray] = {}
    counts: dict[str, list[int]] = {name: [] for name in model.output_names}
    trajectories, nonfinite, resumed = [], [], 0
    conditioning: dict[str, list] = {"log_likelihood": [], "weights": [], "resample": [], "attrs": []}
    for k, run in enumerate(runs):
        if k == 0:  # what every value shares: the parameters that vary, the fixed ones, the attributes
            first = {"attrs": run.attrs, **{group: run[group].to_dataset() for group in
                                            (PARAMETERS_GROUP, CONSTANTS_GROUP, LOG_LIKELIHOOD_GROUP,
                                             OBSERVED_GROUP, SAMPLE_STATS_GROUP) if group in run.children}}
        if LOG_LIKELIHOOD_GROUP in run.children:  # conditioned on observations: each value's own
            from .._results import weights_and_resample

            conditioning["log_likelihood"].append({name: np.asarray(var.values)[0] for name, var in
                                                   run[LOG_LIKELIHOOD_GROUP].data_vars.items()})
            weights, resample = weights_and_resample(run)
            conditioning["weights"].append(weights)
            conditioning["resample"].append(resample)
            conditioning["attrs"].append({key: run.attrs[f"posterior_{key}"] for key in PER_VALUE_POSTERIOR})
        for name in model.output_names:
            column = np.asarray(run[OUTPUTS_GROUP][name].values)[0]
            if k == 0:
                columns[name] = np.empty((1, column.size, len(values)), column.dtype)
            columns[name][0, :, k] = column
            counts[name].append(int(run[OUTPUTS_GROUP][name].attrs["nonfinite_count"]))
        if TRAJECTORIES_GROUP in run.children:
            trajectories.append(run[TRAJECTORIES_GROUP].to_dataset())
        nonfinite.append(run[NONFINITE_GROUP].to_dataset())
        resumed += int(run.attrs["draws_from_checkpoint"])
    outputs = {o.name: xr.Variable((CHAIN_DIM, DRAW_DIM, SWEEP_DIM), columns.pop(o.name),
                                   {"units": o.units, "long_name": o.doc, "nonfinite_count": counts[o.name]})
               for o in model.outputs}
    attrs = {k: v for k, v in first["attrs"].items() if k not in PER_RUN_ATTRS
             and k[len("posterior_"):] not in PER_VALUE_POSTERIOR}
    attrs.update({
        "kind": "sweep", "layout_version": LAYOUT_VERSION, "param": param,
        "priors_toml": base.to_toml(), "nonfinite_counts": json.dumps(counts), "draws_from_checkpoint": resumed,
        "note": f"the same draws at every value of {param} (common random numbers): value k is the run of "
                f"priors_toml with {param} fixed to value[k]; the parameters that vary are in prior, once",
    })
    tree = {"/": xr.Dataset(attrs=attrs)}
    if PARAMETERS_GROUP in first:  # (not kept by a run of outputs only)
        tree[PARAMETERS_GROUP] = first[PARAMETERS_GROUP]
    tree[OUTPUTS_GROUP] = xr.Dataset(outputs, coords={SWEEP_DIM: value_coord})
    tree[CONSTANTS_GROUP] = first[CONSTANTS_GROUP].drop_vars(param)
    if trajectories:
        tree[TRAJECTORIES_GROUP] = xr.concat(trajectories, dim=xr.Variable((SWEEP_DIM,), value_coord.values,
                                                                           value_coord.attrs),
                                             data_vars="all", coords="minimal", compat="override",
                                             combine_attrs="override")
    tree[NONFINITE_GROUP] = _stacked_nonfinite(model, param, values, nonfinite)
    if conditioning["weights"]:
        tree.update(_stacked_conditioning(model, param, value_coord, first, tree, conditioning))
        # The same past at every value: every draw's log likelihoods equal, bit for bit (so are its weights).
        same = all(np.array_equal(ll[name], conditioning["log_likelihood"][0][name], equal_nan=True)
                   for ll in conditioning["log_likelihood"] for name in ll) and all(
            np.array_equal(w, conditioning["weights"][0]) for w in conditioning["weights"])
        per_value = {key: [each[key] for each in conditioning["attrs"]] for key in PER_VALUE_POSTERIOR}
        tree["/"].attrs.update({
            "posterior_by_value": json.dumps({key: [v.item() if isinstance(v, np.generic) else v for v in column]
                                              for key, column in per_value.items()}),
            "posterior_reliable": int(all(int(r) for r in per_value["reliable"])),
            "posterior_same_weights": int(same)})
        tree["/"].attrs["note"] += ("; conditioned on observations at each value (log_likelihood, sample_stats, "
                                    "posterior along value; posterior_by_value: each value's k-hat, ESS and "
                                    "verdict)")
    return xr.DataTree.from_dict(tree)


def _stacked_conditioning(model: Model, param: str, value_coord: xr.Variable, first: dict, tree: dict,
                          conditioning: dict) -> dict[str, xr.Dataset]:
    """The groups of a conditioned sweep: each value's log likelihoods and weights, and its posterior
    resample of the parameters and outputs, along ``value`` (the prior draw behind each posterior draw
    in the coordinate ``prior_draw``, dims (draw, value))."""
    values = {SWEEP_DIM: value_coord}
    draws = len(conditioning["weights"][0])
    sample = {CHAIN_DIM: [0], DRAW_DIM: np.arange(draws), **values}

    def stacked(columns: list[np.ndarray]) -> np.ndarray:
        return np.stack(columns, axis=-1)[np.newaxis]  # (chain, draw, value)

    log_likelihood = xr.Dataset({name: xr.Variable((CHAIN_DIM, DRAW_DIM, SWEEP_DIM),
                                                   stacked([ll[name] for ll in conditioning["log_likelihood"]]),
                                                   var.attrs)
                                 for name, var in first[LOG_LIKELIHOOD_GROUP].data_vars.items()}, coords=sample)
    weight = first[SAMPLE_STATS_GROUP][WEIGHT_VARIABLE]
    stats = xr.Dataset({WEIGHT_VARIABLE: xr.Variable((CHAIN_DIM, DRAW_DIM, SWEEP_DIM),
                                                     stacked(conditioning["weights"]), weight.attrs)}, coords=sample)
    index = np.stack(conditioning["resample"], axis=-1)  # (draw, value)
    method = {"method": str(first["attrs"].get("posterior_resampling_method", ""))}
    coords = {CHAIN_DIM: [0], DRAW_DIM: np.arange(draws), **values,
              RESAMPLED_COORD: ((DRAW_DIM, SWEEP_DIM), index, {
                  "long_name": "the prior draw behind each posterior draw, at each value"})}
    outputs = tree[OUTPUTS_GROUP]
    resampled_outputs = xr.Dataset(
        {o.name: xr.Variable((CHAIN_DIM, DRAW_DIM, SWEEP_DIM),
                             np.take_along_axis(outputs[o.name].values[0], index, axis=0)[np.newaxis],
                             {"units": o.units, "long_name": o.doc}) for o in model.outputs},
        coords=coords, attrs=method)
    groups = {LOG_LIKELIHOOD_GROUP: log_likelihood, SAMPLE_STATS_GROUP: stats,
              OBSERVED_GROUP: first[OBSERVED_GROUP]}
    if PARAMETERS_GROUP in tree:
        varying = tree[PARAMETERS_GROUP]
        groups[POSTERIOR_GROUP] = xr.Dataset(
            {p.name: xr.Variable((CHAIN_DIM, DRAW_DIM, SWEEP_DIM), varying[p.name].values[0][index][np.newaxis],
                                 {"units": p.units, "long_name": p.doc})
             for p in model.parameters if p.name in varying.data_vars}, coords=coords, attrs=method)
        groups[POSTERIOR_OUTPUTS_GROUP] = resampled_outputs
    else:  # a run that keeps outputs only has its outputs in posterior
        groups[POSTERIOR_GROUP] = resampled_outputs
    return groups


def is_conditioned_sweep(results: xr.DataTree) -> bool:
    """Whether a sweep was conditioned on observations (``observe=``)."""
    return is_sweep(results) and LOG_LIKELIHOOD_GROUP in results.children


def sweep_conditioning(results: xr.DataTree) -> pd.DataFrame:
    """Each value's conditioning of a conditioned sweep (rows: value): ``pareto_khat``, ``ess``,
    ``reliable`` (0/1), ``excluded_draws`` and ``verdict``, as the conditioned run at that value has them."""
    if not is_conditioned_sweep(results):
        raise ResultsError("these results are not a sweep conditioned on observations: sweep with observe= "
                           "(--observe) to get one")
    table = pd.DataFrame(json.loads(results.attrs["posterior_by_value"]),
                         index=pd.Index([float(v) for v in sweep_values(results)], name=results.attrs["param"]))
    return table


def _stacked_nonfinite(model: Model, param: str, values: list[float], parts: list[xr.Dataset]) -> xr.Dataset:
    """Each run's non-finite draws one after another, with the value of ``param`` each belongs to."""
    variables = {}
    for output in model.outputs:
        dim = f"{output.name}_nonfinite"
        for suffix in ("draw", "value"):
            name = f"{output.name}_{suffix}"
            variables[name] = xr.Variable((dim,), np.concatenate([p[name].values for p in parts]),
                                          parts[0][name].attrs)
        swept = np.concatenate([np.full(p.sizes.get(dim, 0), v) for p, v in zip(parts, values)])
        variables[f"{output.name}_swept"] = xr.Variable(
            (dim,), swept, {"long_name": f"value of {param} in whose run the draw is not finite"})
    return xr.Dataset(variables)


# --------------------------------------------------------------------------
# Reading a sweep.


def is_sweep(results: xr.DataTree) -> bool:
    return results.attrs.get("kind") == "sweep"


def _require_sweep(results: xr.DataTree) -> None:
    if not is_sweep(results):
        raise ResultsError(f"these results are a {results.attrs.get('kind', 'run')}, not a sweep")


def sweep_values(results: xr.DataTree) -> np.ndarray:
    """The swept parameter's values, in order."""
    _require_sweep(results)
    return np.asarray(results[OUTPUTS_GROUP][SWEEP_DIM].values)


def sweep_run(results: xr.DataTree, value: float) -> xr.DataTree:
    """The run at one value of a sweep, in the layout of an ordinary run (docs/results.md).

    Equal, draw for draw and bit for bit, to :func:`run` of the sweep's priors
    with the parameter fixed to ``value``; ``priors_toml`` in its attributes
    reproduces it. Every function of a run (``summary``, ``policy_shares``, the
    plots) works on it.
    """
    from ..models._registry import get_model

    values = sweep_values(results)
    where = np.flatnonzero(values == value)
    param = results.attrs["param"]
    if not where.size:
        raise ResultsError(f"the sweep has no run at {param} = {value!r}; its values are "
                           f"{', '.join(f'{v:g}' for v in values)}")
    k = int(where[0])
    value = float(values[k])
    model = get_model(results.attrs["model"])
    counts = {name: int(c[k]) for name, c in json.loads(results.attrs["nonfinite_counts"]).items()}
    priors_toml = _value_priors(model.name, results.attrs["priors_toml"], param, value)
    # (a conditioned sweep's posterior_ attributes: the run's are made again at this value, below)
    attrs = {key: v for key, v in results.attrs.items()
             if key not in ("param", "note") and not key.startswith("posterior_")}
    attrs.update({"kind": "run", "priors_toml": priors_toml, "nonfinite_counts": json.dumps(counts),
                  "priors_sha256": hashlib.sha256(priors_toml.encode()).hexdigest(),
                  "sweep_param": param, "sweep_value": value})
    outputs = results[OUTPUTS_GROUP].to_dataset().isel({SWEEP_DIM: k}, drop=True)
    for name, variable in outputs.data_vars.items():
        variable.attrs["nonfinite_count"] = counts[name]
    constants = results[CONSTANTS_GROUP].to_dataset()
    dtype = outputs[model.output_names[0]].dtype
    parameter = model.parameter(param)
    constants[param] = xr.Variable((), np.asarray(value, dtype), {"units": parameter.units,
                                                                   "long_name": parameter.doc})
    tree = {"/": xr.Dataset(attrs=attrs), OUTPUTS_GROUP: outputs, CONSTANTS_GROUP: constants}
    if PARAMETERS_GROUP in results.children:
        tree[PARAMETERS_GROUP] = results[PARAMETERS_GROUP].to_dataset()
    if TRAJECTORIES_GROUP in results.children:
        tree[TRAJECTORIES_GROUP] = results[TRAJECTORIES_GROUP].to_dataset().isel({SWEEP_DIM: k}, drop=True)
    nonfinite = results[NONFINITE_GROUP].to_dataset()
    kept = {}
    for output in model.output_names:
        here = nonfinite[f"{output}_swept"].values == value
        dim = f"{output}_nonfinite"
        kept.update({f"{output}_{suffix}": nonfinite[f"{output}_{suffix}"].isel({dim: here})
                     for suffix in ("draw", "value")})
    tree[NONFINITE_GROUP] = xr.Dataset(kept)
    tree = xr.DataTree.from_dict(tree)
    if is_conditioned_sweep(results):  # the conditioned run at this value, as run(observe=...) gives it
        tree = _with_value_conditioning(model, results, tree, k)
    return tree


def _with_value_conditioning(model, results: xr.DataTree, tree: xr.DataTree, k: int) -> xr.DataTree:
    """The run at value k of a conditioned sweep with its log likelihoods, weights and posterior."""
    from .._results import with_observations

    log_likelihoods = {name: np.asarray(var.values)[0, :, k]
                       for name, var in results[LOG_LIKELIHOOD_GROUP].data_vars.items()}
    observation_attrs = {name: dict(var.attrs) for name, var in results[LOG_LIKELIHOOD_GROUP].data_vars.items()}
    weights = np.asarray(results[SAMPLE_STATS_GROUP][WEIGHT_VARIABLE].values)[0, :, k]
    resample = np.asarray(results[POSTERIOR_GROUP][RESAMPLED_COORD].values)[:, k]
    shared = {key[len("posterior_"):]: v for key, v in results.attrs.items()
              if key.startswith("posterior_") and key not in SWEEP_POSTERIOR_ATTRS}
    at_value = {key: column[k] for key, column in json.loads(results.attrs["posterior_by_value"]).items()}
    return with_observations(tree, model, log_likelihoods, observation_attrs, weights, resample,
                             {**shared, **at_value})


@functools.lru_cache(maxsize=64)
def _value_priors(model: str, priors_toml: str, param: str, value: float) -> str:
    """The resolved priors of one value of a sweep (loading priors takes a while: each is made once)."""
    from ..models._registry import get_model

    return load_priors(get_model(model), text=priors_toml).with_point(param, value).to_toml()


def _posterior_run(results: xr.DataTree, value: float) -> xr.DataTree:
    """The posterior at one value of a conditioned sweep as a run's outputs: its ``prior_predictive``
    holds the draws resampled by weight at that value (what :func:`sweep_run`'s posterior holds), so
    every function of a run's outputs gives its figure over the posterior."""
    values = sweep_values(results)
    k = int(np.flatnonzero(values == value)[0])
    resampled = posterior_outputs(results).isel({SWEEP_DIM: k}, drop=True).drop_vars(RESAMPLED_COORD)
    attrs = {key: results.attrs[key] for key in ("model", "seed", "draws", "dtype") if key in results.attrs}
    return xr.DataTree.from_dict({"/": xr.Dataset(attrs={**attrs, "kind": "run"}), OUTPUTS_GROUP: resampled})


def _runs(results: xr.DataTree, posterior: bool):
    """(value, the run at it) of each value: the prior's, or with ``posterior`` the draws resampled by
    weight at that value."""
    if posterior and not is_conditioned_sweep(results):
        raise ResultsError("posterior=True needs a sweep conditioned on observations (observe=, --observe); "
                           "these results were not")
    for value in (float(v) for v in sweep_values(results)):
        yield value, (_posterior_run(results, value) if posterior else sweep_run(results, value))


def sweep_summary(results: xr.DataTree, posterior: bool = False) -> pd.DataFrame:
    """The summary of each output at each value (rows: output, value), as :func:`summary` gives it
    for a run: units, mean, sd, 5/50/95% quantiles, 90% HDI and the non-finite count. Over every draw
    (the prior), or with ``posterior`` (a conditioned sweep) over each value's posterior, its draws
    resampled by weight."""
    from ._summaries import summary

    values = [float(v) for v in sweep_values(results)]
    tables = dict((v, summary(run)) for v, run in _runs(results, posterior))
    table = pd.concat(tables, names=[results.attrs["param"], "output"]).swaplevel()
    return table.reindex(pd.MultiIndex.from_product([tables[values[0]].index, values], names=table.index.names))


def sweep_shares(results: xr.DataTree, posterior: bool = False) -> pd.DataFrame | None:
    """:func:`policy_shares` at each value (rows), or None for a model without a policy world. With
    ``posterior`` (a conditioned sweep), over each value's posterior draws (resampled by weight: a
    prior draw counts as often as it was drawn, and ``draws`` is the resample's size)."""
    from ._comparison import POLICY_MODELS, policy_shares

    if results.attrs.get("model") not in POLICY_MODELS:
        return None
    table = pd.DataFrame({v: policy_shares(run) for v, run in _runs(results, posterior)}).T
    table.index.name = results.attrs["param"]
    return table


def sweep_headline(results: xr.DataTree, posterior: bool = False) -> pd.DataFrame | None:
    """The headline of a trajectory comparison at each value of a sweep (rows): the change in the TAI
    year the cap makes, as the median over every draw with a TAI change (zeros included, the number
    to quote, docs/outcomes.md) with the share of those draws where it does not change (within the
    declared tolerance), and the backfire share with its denominator (:func:`policy_shares`). None
    for a model without a policy world. With ``posterior`` (a conditioned sweep), over each value's
    posterior draws (resampled by weight)."""
    from ._comparison import POLICY_MODELS, moves, policy_outcomes, policy_shares

    if results.attrs.get("model") not in POLICY_MODELS:
        return None
    (tai,) = [o for o in policy_outcomes(str(results.attrs["model"])) if o.output == "tai_year_policy"]
    rows = {}
    for value, run in _runs(results, posterior):
        data = run[OUTPUTS_GROUP].to_dataset()
        policy, default = (np.asarray(data[name].values, np.float64).ravel()
                           for name in ("tai_year_policy", "tai_year_default"))
        with np.errstate(invalid="ignore"):  # neither world reaching TAI (inf, inf): no change, as in compare
            delay = np.where(policy == default, 0.0, policy - default)
        move = moves(delay, tai.direction, tai.tolerance)
        shares = policy_shares(run)
        rows[value] = {"median_delay_years": float(np.median(delay[move.defined])),
                       "no_change": np.count_nonzero(move.same) / max(int(move.defined.sum()), 1),
                       "delay_draws": int(move.defined.sum()), "backfire": shares["backfire"],
                       "backfire_draws": shares["draws_compared"]}
    table = pd.DataFrame(rows).T
    table.index.name = results.attrs["param"]
    return table


def format_sweep(results: xr.DataTree, names: Sequence[str] | None = None) -> str:
    """What `overhang-jax sweep` prints: each output's median and 90% interval at each value, and the
    policy world's headline shares at each value (trajectory model). A conditioned sweep's prior
    figures are labelled as such and followed by the conditioning: the observations, the verdict on
    the weights (once if they are the same at every value, else at each value) and the posterior's
    headline outputs and shares at each value, a value whose posterior is not reliable marked."""
    attrs = results.attrs
    param = attrs["param"]
    every_value = sweep_values(results)
    values = every_value[shown_values(len(every_value))]
    conditioned = is_conditioned_sweep(results)
    prior = "Prior (every draw): " if conditioned else ""
    heading = _heading(results, values)
    table = sweep_summary(results)
    given = list(names) if names else None
    names = given or list(dict.fromkeys(table.index.get_level_values(0)))
    lines = [f"sweep of {param} in model {attrs['model']}: {len(every_value)} values x {int(attrs['draws']):,} draws "
             f"(the same draws at every value), seed {attrs['seed']}, {attrs['dtype']}, priors: "
             f"{_scenario(attrs['priors_source'])}",
             f"{prior}median [5%, 95%] of each output at each value of {param}, over its finite draws (a yes/no "
             "output: the share of draws where it is 1); `overhang-jax summary FILE --csv` writes every "
             "statistic:",
             *_output_lines(results[OUTPUTS_GROUP].to_dataset(), table, names, values, heading,
                            len(values) == len(every_value), param)]
    if len(values) < len(every_value):
        lines.insert(2, f"{len(values)} of the {len(every_value)} values shown, evenly spaced from the first to the "
                        "last (the table fits a screen); `summary FILE --csv` writes them all")
    shares = sweep_shares(results)
    if shares is not None:
        lines.append(f"{prior}the policy world against the world without the cap at each value of {param}, draw by "
                     "draw (docs/outcomes.md):")
        lines.append(_shares_table(shares, values, heading))
        lines.append(share_denominators(shares))
    if conditioned:
        lines += ["", *_conditioning_lines(results, values, given, len(values) == len(every_value))]
    return "\n".join(lines)


def _heading(results: xr.DataTree, values: np.ndarray, marked: Sequence[float] = ()) -> list[str]:
    """The first row of a sweep's table: the swept parameter with its units, then each value (a value in
    ``marked`` with an asterisk)."""
    param = results.attrs["param"]
    units = results[OUTPUTS_GROUP][SWEEP_DIM].attrs.get("units", "")
    return ([f"at {param}" + (f" ({units})" if units and units != "1" else "") + " ="]
            + [_g(v) + ("*" if float(v) in marked else "") for v in values])


def _output_lines(data: xr.Dataset, table: pd.DataFrame, names: list[str], values: np.ndarray,
                  heading: list[str], every: bool, param: str) -> list[str]:
    """The table of each output's median [5%, 95%] at each value (a yes/no output: the share of 1s),
    and the count of non-finite draws of each output that has them."""
    from ._comparison import percent

    rows = []
    for name in names:
        unit = table.loc[(name, float(values[0])), "units"]
        label = f"{name} ({unit})" if unit and unit != "1" else name
        finite = np.asarray(data[name].values)
        finite = finite[np.isfinite(finite)]
        indicator = finite.size and np.all((finite == 0) | (finite == 1))
        cells = []
        for v in values:
            row = table.loc[(name, float(v))]
            if np.isnan(row["q50"]):
                cells.append("no finite draw")
            elif indicator:  # a yes/no output: the share of draws where it is 1
                cells.append(f"{percent(row['mean'])} yes")
            else:
                cells.append(f"{_g(row['q50'])} [{_g(row['q5'])}, {_g(row['q95'])}]")
        rows.append([label, *cells])
    lines = [_columns([heading, *rows])]
    nonfinite = {name: table.loc[name, "nonfinite"].loc[values] for name in names
                 if table.loc[name, "nonfinite"].loc[values].any()}
    if nonfinite:
        shown = "each value" if every else "each value shown"
        lines.append(f"non-finite draws at {shown} of {param} (left out above, kept in the file):")
        lines += [f"  {name}: {', '.join(f'{int(c):,}' for c in counts)}" for name, counts in nonfinite.items()]
    return lines


def _conditioning_lines(results: xr.DataTree, values: np.ndarray, names: list[str] | None, every: bool
                        ) -> list[str]:
    """The printout of a conditioned sweep's conditioning: the observations, the verdict on the weights
    (once when they are the same at every value), and each value's posterior headline outputs and
    shares, a value whose posterior is not reliable marked with an asterisk."""
    from ..models._registry import get_model
    from ._conditioning import headline_outputs, observation_lines

    attrs = results.attrs
    param = attrs["param"]
    draws = int(attrs["draws"])
    count = len(results[LOG_LIKELIHOOD_GROUP].data_vars)
    by_value = sweep_conditioning(results)
    lines = [f"Conditioned on observations '{attrs['posterior_observations']}' ({count} observation"
             f"{'s' if count != 1 else ''}; docs/observations.md gives the method and sources) at each value of "
             f"{param}:"]
    lines += [f"  - {line}" for line in observation_lines(results)]
    if int(attrs["posterior_same_weights"]):
        lines.append(f"The same weights at every value of {param}: each draw's log likelihood is the same, bit for "
                     f"bit, at every value ({param} does not change what was observed), so one verdict holds for "
                     "all:")
        lines.append(str(by_value["verdict"].iloc[0]))
    else:
        lines.append(f"Each value of {param} has its own weights ({param} changes what the model says of the years "
                     "observed), and its own verdict:")
        lines += [f"  {param} = {_g(v)}: {row['verdict']}" for v, row in by_value.iterrows()]
    excluded = by_value["excluded_draws"].to_numpy()
    if excluded.any():
        lines.append(f"  draws excluded by the observations (likelihood 0) at each value of {param}: "
                     + ", ".join(f"{int(e):,} of {draws:,}" for e in excluded))
    unreliable = [float(v) for v, row in by_value.iterrows() if not int(row["reliable"])]
    marked = [float(v) for v in values if float(v) in unreliable]
    heading = _heading(results, values, marked)
    model = get_model(attrs["model"])
    shown = [n for n in (names or headline_outputs(model)) if n in results[OUTPUTS_GROUP].data_vars]
    lines.append(f"Posterior (at each value, its {draws:,} draws resampled by weight): median [5%, 95%] of the "
                 f"headline outputs at each value of {param}, over the finite draws (a yes/no output: the share of "
                 "draws where it is 1):")
    if marked:
        lines.append(f"  * POSTERIOR NOT RELIABLE at {param} = {', '.join(_g(v) for v in marked)} (the verdict "
                     "above): its figures are shown for inspection only, not as a forecast.")
    lines += _output_lines(posterior_outputs(results), sweep_summary(results, posterior=True), shown, values,
                           heading, every, param)
    shares = sweep_shares(results, posterior=True)
    if shares is not None:
        lines.append(f"Posterior: the policy world against the world without the cap at each value of {param}, draw "
                     "by draw (docs/outcomes.md):")
        lines.append(_shares_table(shares, values, heading))
        lines.append("posterior shares, of each value's draws resampled by weight (a prior draw counted as often as "
                     "it was resampled): " + share_denominators(shares)[len("shares of draws: "):])
    return lines


SHOWN_VALUES = 6
"""Values of a sweep the printed table shows at most (one column each; about 25 characters a column)."""


def shown_values(count: int, most: int = SHOWN_VALUES) -> np.ndarray:
    """Indices of at most ``most`` of ``count`` sorted values, evenly spaced, the first and last included."""
    return np.unique(np.round(np.linspace(0, count - 1, min(count, most))).astype(int))


def _scenario(source: str) -> str:
    """Priors as a reader names them: a scenario's or file's name, not its path."""
    return Path(source).stem if str(source).endswith(".toml") else str(source)


def share_denominators(shares: pd.DataFrame) -> str:
    """The denominators of :func:`sweep_shares`' shares, in one sentence."""
    compared = shares["draws_compared"].to_numpy()
    draws = int(shares["draws"].iloc[0])
    counted = (f"{int(compared[0]):,}" if np.all(compared == compared[0])
               else f"{int(compared.min()):,} to {int(compared.max()):,}")
    return (f"shares of draws: the backfire and its two parts of the same {counted} draws where the cap starts "
            f"before TAI without it and TAI year and time in the danger band can be compared in both worlds (of "
            f"{draws:,}); the other shares of all {draws:,}.")


def share_cell(column: str, row: pd.Series) -> str:
    """One of :func:`policy_shares` as text: a share as a percentage, a size with three figures."""
    from ._comparison import percent

    value = row[column]
    if column.endswith("_years") or column.endswith("_oom_per_year") or column.startswith("draws"):
        return "-" if np.isnan(value) else _g(value)
    return percent(value)


def _shares_table(shares: pd.DataFrame, values, heading: list[str]) -> str:
    """The shares of :func:`sweep_shares` at ``values``, a row per share under ``heading``."""
    from ._comparison import SHARE_LABELS

    return _columns([heading, *([SHARE_LABELS[column], *(share_cell(column, shares.loc[float(v)]) for v in values)]
                                for column in SHARE_LABELS)])


def _g(x: float) -> str:
    """Three significant figures, years as whole numbers with one decimal: 0.412, 2.5, 2041.3."""
    if not np.isfinite(x):
        return str(x)
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.3g}"


def _columns(rows: list[list[str]]) -> str:
    """Rows of cells as text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:]))])
                     for row in rows)
