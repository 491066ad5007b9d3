"""Global sensitivity analysis: Sobol first-order and total-order indices.

The Saltelli design with N base samples and d analysed parameters evaluates
the model at N (d + 2) points. Base sample j takes two independent unit
points A_j and B_j (one scrambled Sobol point of twice the dimension, by
default) and gives the rows

    A_j, AB_j^(1), ..., AB_j^(d), B_j      (AB^(i): A with column i from B)

in that order, SALib's order, so draw index i is row i % (d + 2) of base
sample i // (d + 2). The rows are made on the host by index, like every other
sampler's points, so the model runs on the ordinary runner: chunked,
sharded over devices and bit-reproducible.

Estimators (Saltelli et al. 2010, Table 2, as SALib's ``sobol.analyze``), on
outputs f centred on their mean over the whole design:

    V     = Var([f(A), f(B)])
    S1_i  = mean(f(B) (f(AB^(i)) - f(A))) / V          (Saltelli 2010)
    ST_i  = mean((f(A) - f(AB^(i)))^2) / (2 V)         (Jansen 1999)

with bootstrap percentile intervals over base samples. Base samples where
any of the d + 2 evaluations is not finite are left out and counted.

Sobol indices assume independent inputs: they are computed on the
independent unit inputs, with the priors' rank correlations removed, and
the results say so. Parameters outside the analysed subset still vary
(with the A rows); their effect is in no index of the subset.

A model whose own Monte Carlo redraws rejected parameter sets (``Model.redraw``, ftm) is not redrawn
here: a row must differ from A in one column only, so a rejected row has NaN outputs and its base
sample is left out and counted, as the original's sensitivity analysis keeps only accepted sets
(its ``resample_all``); the indices are those of the base samples whose every row is accepted.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats
import xarray as xr

from .. import _results
from ..models._schema import Model
from ..priors._priors import Priors, load_priors
from .._errors import RunError
from ..engine._run import run
from ..models._registry import get_model

DEFAULT_BOOTSTRAP = 1000
DEFAULT_CONFIDENCE = 0.95
REJECTED_SETS_NOTE = ("no parameter set of the design is redrawn (each row must differ from A in one column "
                      "only): a row the model rejects has NaN outputs, so its base sample is left out and counted "
                      "in dropped_base_samples, and the indices are those of the base samples whose every row "
                      "is accepted")
"""What a Saltelli design does with the sets a model's own Monte Carlo redraws (``Model.redraw``)."""
INDEPENDENCE_NOTE = ("Sobol indices assume independent inputs: they were computed with the priors' rank "
                     "correlations removed")


@dataclasses.dataclass(frozen=True)
class SaltelliDesign:
    """The runner's sampler for a Saltelli design: draw i -> row i % (d + 2) of base sample i // (d + 2).

    ``dimension`` is the number of varying parameters (unit coordinates per
    row); ``analysed`` the coordinates whose A and B columns are swapped.
    """

    seed: int
    dimension: int
    analysed: tuple[int, ...]
    base_samples: int

    kind = "saltelli"

    @property
    def rows_per_base(self) -> int:
        return len(self.analysed) + 2

    @property
    def draws(self) -> int:
        return self.base_samples * self.rows_per_base

    @property
    def width(self) -> int:
        """Unit coordinates per draw: one per varying parameter, in the priors' order."""
        return self.dimension

    def cache_key(self) -> tuple:
        """The compiled chunk function reads the points from the host: only their width matters."""
        return (self.kind, self.dimension)

    def key(self) -> jax.Array:
        return jax.random.key_data(jax.random.key(self.seed, impl="threefry2x32"))

    def host_part(self, start: int, count: int) -> np.ndarray:
        rows = self.rows_per_base
        first, last = start // rows, (start + count - 1) // rows
        engine = scipy.stats.qmc.Sobol(2 * self.dimension, scramble=True, rng=np.random.default_rng(self.seed))
        if first:
            engine.fast_forward(first)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balance holds for the whole design
            points = engine.random(last - first + 1)
        index = np.arange(start, start + count)
        base, row = index // rows - first, index % rows
        a, b = points[base, : self.dimension], points[base, self.dimension:]
        out = a.copy()
        out[row == rows - 1] = b[row == rows - 1]
        for k, column in enumerate(self.analysed):
            swap = row == k + 1
            out[swap, column] = b[swap, column]
        return out

    def unit_points(self, key, index, host, dtype):
        return host.astype(dtype)

    # No ``redrawn_points``: the runner never redraws a row of the design (REJECTED_SETS_NOTE).


def saltelli_estimates(values: jax.Array) -> tuple[jax.Array, jax.Array]:
    """First-order and total-order indices from outputs arranged (base samples, d + 2).

    The outputs are centred on their mean over all evaluations first, as
    SALib does: the first-order estimator is not shift-invariant, and its
    variance grows with the square of the mean.
    """
    values = values - jnp.mean(values)
    f_a, f_ab, f_b = values[:, 0], values[:, 1:-1], values[:, -1]
    both = jnp.concatenate([f_a, f_b])
    variance = jnp.mean((both - jnp.mean(both)) ** 2)
    first = jnp.mean(f_b[:, None] * (f_ab - f_a[:, None]), axis=0) / variance
    total = 0.5 * jnp.mean((f_a[:, None] - f_ab) ** 2, axis=0) / variance
    return first, total


def weighted_estimates(values: jax.Array, weights: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The estimates of :func:`saltelli_estimates` with base sample j counted weights[..., j] times.

    Every estimator is a mean over base samples, so a batch of resamples is
    one matrix product of their counts with per-sample terms: no copy of the
    outputs per resample. Equal weights give saltelli_estimates' values.
    """
    f_a, f_ab, f_b = values[:, :1], values[:, 1:-1], values[:, -1:]
    rows = values.shape[1]
    terms = jnp.concatenate([
        f_b * (f_ab - f_a),            # first-order numerator, before centring
        f_ab - f_a,                    # its centring correction
        (f_a - f_ab) ** 2,             # total-order numerator
        f_a + f_b, f_a**2 + f_b**2,    # variance of [f(A), f(B)]
        jnp.sum(values, axis=1, keepdims=True),  # the mean all outputs are centred on
    ], axis=1)
    d = f_ab.shape[1]
    means = (weights @ terms) / jnp.sum(weights, axis=-1, keepdims=True)
    centre = means[..., -1:] / rows
    variance = means[..., 3 * d + 1: 3 * d + 2] / 2 - (means[..., 3 * d: 3 * d + 1] / 2) ** 2
    first = (means[..., :d] - centre * means[..., d: 2 * d]) / variance
    total = 0.5 * means[..., 2 * d: 3 * d] / variance
    return first, total


@functools.partial(jax.jit, static_argnames=("resamples", "batch"))
def _bootstrap(key: jax.Array, values: jax.Array, resamples: int, batch: int = 50) -> tuple[jax.Array, jax.Array]:
    """Indices of ``resamples`` bootstrap resamples (base samples drawn with replacement)."""
    n = values.shape[0]

    def one_batch(index):
        picked = jax.random.randint(jax.random.fold_in(key, index), (batch, n), 0, n)
        counts = jnp.zeros((batch, n), values.dtype).at[jnp.arange(batch)[:, None], picked].add(1.0)
        return weighted_estimates(values, counts)

    first, total = jax.lax.map(one_batch, jnp.arange(-(-resamples // batch)))
    d = values.shape[1] - 2
    return first.reshape(-1, d)[:resamples], total.reshape(-1, d)[:resamples]


def sobol_indices(model: str | Model, priors: Priors | str | os.PathLike | None = None, *,
                  outputs: Sequence[str] | None = None, parameters: Sequence[str] | None = None,
                  base_samples: int = 2**14, seed: int = 0, bootstrap: int = DEFAULT_BOOTSTRAP,
                  confidence: float = DEFAULT_CONFIDENCE, out: str | os.PathLike | None = None,
                  nonfinite: str = "warn", max_nonfinite_share: float | None = None, **run_options: Any) -> xr.Dataset:
    """Sobol first-order (S1) and total-order (ST) indices of ``outputs`` for ``parameters``.

    Runs the Saltelli design of ``base_samples`` base samples on the runner
    (``run_options`` go to :func:`overhang_jax.run`: chunk_size, float64,
    devices, progress) and returns a Dataset over (output, parameter) with
    S1, ST and their bootstrap intervals (S1_low, S1_high, ST_low, ST_high at
    ``confidence``). ``parameters`` defaults to every parameter that varies;
    ``outputs`` to every output. ``base_samples`` should be a power of two
    (Sobol points are balanced then).

    ``out`` names a file to write the indices to (netCDF, atomically; checked before any compute as
    :func:`overhang_jax.run` checks its ``out``). ``nonfinite`` (``"warn"`` or ``"raise"``) acts when
    more than ``max_nonfinite_share`` (default: the model's) of the base samples had a non-finite
    output and were left out.
    """
    from ..engine._guards import (as_path, check_nonfinite_mode, check_space, check_writable, nonfinite_gate,
                                  nonfinite_limit, write_or_fail)
    from ..engine._run import priors_path

    model = get_model(model)
    if not isinstance(priors, Priors):
        priors = load_priors(model, priors)
    check_nonfinite_mode(nonfinite, max_nonfinite_share)
    if isinstance(base_samples, bool) or not isinstance(base_samples, (int, np.integer)) or base_samples < 2:
        raise RunError(f"base_samples must be an integer >= 2, got {base_samples!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 1:
        raise RunError(f"bootstrap must be a positive integer, got {bootstrap!r}")
    if not 0 < confidence < 1:
        raise RunError(f"confidence must be in (0, 1), got {confidence!r}")
    outputs = list(outputs or model.output_names)
    for name in outputs:
        if name not in model.output_names:
            raise RunError(f"model '{model.name}' has no output '{name}'; choose from {', '.join(model.output_names)}")
    varying = priors.random_names
    parameters = list(parameters or varying)
    for name in parameters:
        if name not in model.parameter_names:
            raise RunError(f"model '{model.name}' has no parameter '{name}'")
        if name not in varying:
            raise RunError(f"parameter '{name}' is a point value in these priors: it has no Sobol index "
                           "(give it a distribution)")
    if len(set(parameters)) != len(parameters):
        raise RunError("parameters must not repeat")
    out = as_path(out)
    if out is not None:
        check_writable([("out", out)], None, [priors_path(priors)])
        check_space([(out, estimated_indices_bytes(priors, outputs, parameters))])
    ignored = [f"{c.first}~{c.second} ({c.rank:g})" for c in priors.correlations]
    independent = dataclasses.replace(priors, correlations=())
    design = SaltelliDesign(int(seed), independent.dimension, tuple(varying.index(n) for n in parameters),
                            int(base_samples))
    # Only the outputs are needed: the design's parameters are known by index.
    results = run(model, independent, draws=design.draws, seed=int(seed), sampler=design, outputs_only=True,
                  max_nonfinite_share=1.0, **run_options)  # the gate below counts base samples
    evaluated = _results.outputs(results)

    rows = design.rows_per_base
    key = jax.random.key(int(seed) + 1)  # bootstrap resamples: a key of their own
    z = (1 - confidence) / 2
    data = {name: np.full((len(outputs), len(parameters)), np.nan) for name in
            ("S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high")}
    dropped = []
    for k, output in enumerate(outputs):
        values = np.asarray(evaluated[output].values, np.float64).reshape(base_samples, rows)
        finite = np.all(np.isfinite(values), axis=1)
        dropped.append(int(base_samples - finite.sum()))
        values = values[finite]
        if values.shape[0] < 2 or np.ptp(values) == 0:
            continue  # no variance among finite draws: indices undefined
        with jax.enable_x64(True):
            first, total = saltelli_estimates(jnp.asarray(values))
            boot_first, boot_total = _bootstrap(key, jnp.asarray(values), int(bootstrap))
        data["S1"][k], data["ST"][k] = np.asarray(first), np.asarray(total)
        data["S1_low"][k], data["S1_high"][k] = np.quantile(np.asarray(boot_first), [z, 1 - z], axis=0)
        data["ST_low"][k], data["ST_high"][k] = np.quantile(np.asarray(boot_total), [z, 1 - z], axis=0)
    docs = {"S1": "first-order Sobol index", "ST": "total-order Sobol index"}
    variables = {}
    for name, values in data.items():
        kind = name[:2]
        bound = {"": "", "_low": f" (lower end of the {confidence:.0%} bootstrap interval)",
                 "_high": f" (upper end of the {confidence:.0%} bootstrap interval)"}[name[2:]]
        variables[name] = xr.Variable(("output", "parameter"), values, {"long_name": docs[kind] + bound})
    variables["dropped_base_samples"] = xr.Variable(("output",), np.asarray(dropped),
                                                    {"long_name": "base samples left out: a non-finite output"})
    attrs = {
        "model": model.name, "kind": "sobol_indices", "layout_version": _results.LAYOUT_VERSION, "base_samples": int(base_samples),
        "evaluations": design.draws, "seed": int(seed), "design": "Saltelli, scrambled Sobol base points",
        "estimators": "S1: Saltelli 2010; ST: Jansen 1999", "bootstrap": int(bootstrap),
        "confidence": float(confidence), "independence": INDEPENDENCE_NOTE
        + (f" (ignored: {', '.join(ignored)})" if ignored else " (these priors had none)"),
        "priors_toml": priors.to_toml(), "priors_source": priors.source, "dtype": results.attrs["dtype"],
        **({"rejected_sets": REJECTED_SETS_NOTE} if model.redraw is not None else {}),
        "devices": results.attrs["devices"], "version": results.attrs["version"],
    }
    indices = xr.Dataset(variables, coords={"output": outputs, "parameter": parameters}, attrs=attrs)
    if out is not None and jax.process_index() == 0:
        from .._io import write_netcdf

        write_or_fail(f"'{out}'", lambda: write_netcdf(out, indices), "the indices are not saved")
    limit = nonfinite_limit(model, max_nonfinite_share)
    nonfinite_gate([f"{n:,} of the {int(base_samples):,} base samples ({100 * n / base_samples:.3g}%) gave a "
                    f"non-finite {o} and were left out of its indices (more than the {100 * limit:g}% allowed)"
                    if n > limit * base_samples else None for o, n in zip(outputs, dropped)], nonfinite)
    return indices


def estimated_indices_bytes(priors: Priors, outputs: Sequence[str], parameters: Sequence[str]) -> int:
    """Bytes of the file of :func:`sobol_indices`: six float64 tables (output x parameter), the
    dropped counts, the names, the priors in the attributes and netCDF's headers (as a run's)."""
    from .._results import FILE_OVERHEAD, VARIABLE_OVERHEAD

    names = sum(len(n) for n in (*outputs, *parameters)) * 4  # fixed-width unicode
    return (FILE_OVERHEAD + 9 * VARIABLE_OVERHEAD + 6 * 8 * len(outputs) * len(parameters)
            + 8 * len(outputs) + names + len(priors.to_toml().encode()) + 4096)


def ranked(indices: xr.Dataset, output: str):
    """One output's indices as a table, largest total-order index first."""
    table = indices.sel(output=output)[["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]].to_dataframe()
    return table.drop(columns="output", errors="ignore").sort_values("ST", ascending=False)
