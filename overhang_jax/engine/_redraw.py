"""Redrawing the parameter sets a model's own Monte Carlo rejects (``Model.redraw``), inside the
compiled chunk function of a sampled run.

Draw i tries parameter sets r = 0, 1, 2, ...: set 0 is the sampler's point of draw i, set r >= 1 the
Monte Carlo point hashed from (seed, draw i, attempt r) (``Sampler.redrawn_points``), whatever the
sampler. Set r is judged in two stages, as the original ftm's Monte Carlo does: until a set's kept
parameters (ftm: the training requirement) pass the model's test with every other parameter at its
smallest value under the priors, only they are tried (the first stage); from the first set whose kept
parameters pass, their coordinates stay, and the others come from each later set (the second stage),
until the whole set passes. A draw's accepted set therefore depends on the seed, its index and the
priors alone, never on the chunk, the devices, or the other draws of its batch.

With a Gaussian copula, the kept coordinates stay as independent normal variables and the others are
new ones, so the others are drawn from their distribution given the kept values exactly when each kept
parameter's row of the copula's Cholesky factor is zero in the columns of the parameters redrawn
before it (in the model's order): always when the kept parameters come first (ftm's requirement is
its first parameter). Other priors are refused before any compute (:func:`check_redraw`).

The loop works on a window of the pending draws (a quarter of a device's draws): after the first set
about a fifth of ftm's draws are pending, and each pass over the window moves each of them one set on,
so the loop costs a few percent of a run, not a pass over every draw per attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import RunError
from ..models._schema import Model

WINDOW_BLOCK = 64
"""The window of pending draws is a whole number of these (the runner's DRAW_BLOCK)."""


def redraws(model: Model, source) -> bool:
    """Whether a run of ``source`` redraws rejected sets: the model declares how, its switch is 1, and
    the draws are sampled by a sampler that can make more points (not given sets, nor a Saltelli
    design, whose rows must differ in one column only)."""
    spec = model.redraw
    return (spec is not None and getattr(source, "can_redraw", False)
            and float(source.fixed.get(spec.switch, 0.0)) == 1.0)


def check_redraw(model: Model, source) -> None:
    """Refuse, before any compute, priors whose copula would make a redraw of the other parameters
    change the kept ones (or not follow their distribution given the kept ones)."""
    if not redraws(model, source) or not source.priors.correlations:
        return
    names = source.returned
    factor = source.priors.program_data(source.structure, np.float64)["cholesky"]
    kept = model.redraw.kept
    for name in kept:
        if name not in names:
            continue
        row = names.index(name)
        linked = [names[j] for j in range(row) if names[j] not in kept and factor[row, j] != 0]
        if linked:
            raise RunError(
                f"{source.priors.source}: the rank correlations tie '{name}' to '{linked[0]}', which comes "
                f"before it in the model's order, so redrawing the other parameters (while keeping "
                f"'{name}', {model.redraw.switch} = 1) cannot keep its value; correlate it only with "
                f"parameters after it, or set {model.redraw.switch} = 0 or 2")


def redrawn_parameters(model: Model, source, admissible: Callable, key: jax.Array, index: jax.Array, host: jax.Array,
                       data: Any, dtype: Any) -> tuple[dict[str, jax.Array], jax.Array]:
    """Each draw's accepted parameter set (its first one when none is accepted within the attempts) and
    its number of rejected sets (``max_attempts`` when none is accepted). ``admissible`` is the model's
    test of one draw, static parameters included; ``index`` the draws of this device."""
    spec = model.redraw
    limit = int(spec.max_attempts)
    count = index.shape[0]
    names = source.returned
    keep = np.asarray([name in spec.kept for name in names], bool)
    test = jax.vmap(admissible)
    smallest = source.smallest(data, dtype)  # every parameter at its smallest value, batch of one

    def favourable(values):
        """The first stage's set: the kept values of ``values``, every other parameter at its smallest."""
        batch = next(iter(values.values())).shape
        return {name: values[name] if name in spec.kept else jnp.broadcast_to(smallest[name][0], batch)
                for name in values}

    first = source.unit_points(key, index, host, dtype)
    values = source.transform(first, data, dtype)
    stage1 = test(favourable(values))
    accepted = stage1 & test(values)
    attempt = jnp.zeros(count, jnp.int32)
    window = min(count, max(WINDOW_BLOCK, -(-count // 4 // WINDOW_BLOCK) * WINDOW_BLOCK))

    def pending(state):
        attempt, _, accepted, _, _ = state
        return ~accepted & (attempt < limit - 1)

    def step(state):
        attempt, stage1, accepted, kept_points, points = state
        (slots,) = jnp.nonzero(pending(state), size=window, fill_value=count)  # count: dropped below
        at = jnp.minimum(slots, count - 1)
        tried = attempt[at] + 1
        new = source.redraw_points(key, index[at], tried, dtype)
        passed = stage1[at]
        candidate = jnp.where(keep & passed[:, None], kept_points[at], new)
        values = source.transform(candidate, data, dtype)
        passed = passed | test(favourable(values))
        good = passed & test(values)
        return (attempt.at[slots].set(tried, mode="drop"), stage1.at[slots].set(passed, mode="drop"),
                accepted.at[slots].set(good, mode="drop"), kept_points.at[slots].set(candidate, mode="drop"),
                points.at[slots].set(jnp.where(good[:, None], candidate, points[at]), mode="drop"))

    state = jax.lax.while_loop(lambda state: jnp.any(pending(state)), step,
                               (attempt, stage1, accepted, first, first))
    attempt, _, accepted, _, points = state
    rejected = jnp.where(accepted, attempt, attempt + 1)
    return source.transform(points, data, dtype), rejected
