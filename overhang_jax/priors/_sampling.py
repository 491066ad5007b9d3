"""Unit-hypercube samplers: Monte Carlo, scrambled Sobol and Latin hypercube.

Every draw starts as a point ``u`` of the unit hypercube with one coordinate
per parameter of the model, in the model's order; the parameters that vary
take theirs (``columns``), and :meth:`overhang_jax.Priors.transform` applies
the copula and the inverse CDFs. A parameter's coordinate depends on the
parameter alone, not on which other parameters vary, so two runs of
scenarios with the same seed give a parameter both leave uncertain the same
random numbers draw for draw: separate runs are paired. The samplers differ
only in how ``u`` is made, so they share everything downstream.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from typing import Any

import jax
import jax.extend.random
import jax.numpy as jnp
import numpy as np

# --------------------------------------------------------------------------
# Unit-hypercube samplers. Draw i always gets the same point, whatever the
# chunking or the devices: Monte Carlo keys are hashed from the draw index and
# the parameter's index; Sobol points are taken by index from one scrambled
# sequence whose dimensions are the model's parameters; a Latin hypercube uses
# one fixed permutation per parameter.

SAMPLERS = ("mc", "sobol", "lhs")


@dataclasses.dataclass(frozen=True)
class Sampler:
    """How unit points are made: a host part (per chunk) and a JAX part (per draw).

    ``columns`` are the indices, in the model's parameter list, of the
    coordinates drawn (the varying parameters, in that order); ``dimension``
    is the design's whole dimension, the number of the model's parameters
    (default: just enough for ``columns``).
    """

    kind: str
    seed: int
    columns: tuple[int, ...]
    draws: int
    dimension: int | None = None

    def __post_init__(self):
        if self.kind not in SAMPLERS:
            raise ValueError(f"unknown sampler '{self.kind}'; choose one of {', '.join(SAMPLERS)}")
        columns = tuple(int(c) for c in self.columns)
        if len(set(columns)) != len(columns) or any(c < 0 for c in columns):
            raise ValueError(f"columns must be distinct indices >= 0, got {columns}")
        object.__setattr__(self, "columns", columns)
        if self.dimension is None:
            object.__setattr__(self, "dimension", max(columns, default=-1) + 1)
        elif columns and max(columns) >= self.dimension:
            raise ValueError(f"column {max(columns)} is outside the design's {self.dimension} dimensions")

    @property
    def width(self) -> int:
        """Coordinates per draw: one per column."""
        return len(self.columns)

    def cache_key(self) -> tuple:
        """What the compiled chunk function depends on (a Latin hypercube's points depend on the draw count)."""
        return (self.kind, self.columns, self.dimension, self.draws if self.kind == "lhs" else None)

    @functools.cached_property
    def _strata(self) -> np.ndarray:
        # One permutation per parameter, from a generator seeded by (seed, the parameter's index),
        # made whole then sliced, so each draw's stratum depends neither on the chunk it falls in
        # nor on which other parameters vary. Costs 4 * draws * len(columns) bytes of host memory.
        return np.stack([np.random.default_rng([self.seed, column]).permutation(self.draws).astype(np.int32)
                         for column in self.columns], axis=1)

    def host_part(self, start: int, count: int) -> np.ndarray:
        """Host-made data for draws [start, start + count) (an empty array for Monte Carlo)."""
        if self.kind == "sobol" and self.width:
            from scipy.stats import qmc  # imported here: scipy.stats takes about a second

            # The whole design, one dimension per model parameter, of which the varying ones are
            # read: a projection of a scrambled Sobol sequence is still one (each coordinate keeps
            # its balance), whichever parameters vary.
            engine = qmc.Sobol(self.dimension, scramble=True, rng=np.random.default_rng(self.seed))
            if start:
                engine.fast_forward(start)
            with warnings.catch_warnings():
                # Balance holds for the whole run of `draws` points, not per chunk.
                warnings.simplefilter("ignore", UserWarning)
                return engine.random(count)[:, list(self.columns)]
        if self.kind == "lhs" and self.width:
            part = np.zeros((count, self.width), np.int32)
            stop = min(start + count, self.draws)
            part[: max(stop - start, 0)] = self._strata[start:stop]
            return part
        return np.zeros((count, 0), np.float32)

    def key(self) -> jax.Array:
        """The raw Threefry key (two uint32 words) of the seed."""
        return jax.random.key_data(jax.random.key(self.seed, impl="threefry2x32"))

    def unit_points(self, key: jax.Array, index: jax.Array, host: jax.Array, dtype: Any) -> jax.Array:
        """Unit points (index.shape + (width,)) of draws ``index``, from ``key`` (see
        :meth:`key`) and their rows ``host`` of the host part."""
        if self.kind == "sobol":
            return host.astype(dtype)
        uniform = hashed_unit_points(key, index, self.columns, dtype)
        if self.kind == "lhs":
            return (host.astype(dtype) + uniform) / self.draws
        return uniform

    def redrawn_points(self, key: jax.Array, index: jax.Array, attempt: jax.Array, dtype: Any) -> jax.Array:
        """Unit points of attempt ``attempt`` (>= 1, one per draw) of draws ``index``: parameter sets
        that replace rejected ones (``Model.redraw``). Monte Carlo points whatever the sampler, from the
        hash of (seed, draw, attempt) (see :func:`hashed_unit_points`)."""
        return hashed_unit_points(key, index, self.columns, dtype, attempt)


ATTEMPT_SHIFT = 16
"""A redrawn set's attempt number enters the hash's second word above its pair index (bits 16 and up)."""
MAX_ATTEMPTS = 2**15
"""Attempts per draw the hash can tell apart (the first included)."""


def hashed_unit_points(key: jax.Array, index: jax.Array, columns: tuple[int, ...], dtype: Any,
                       attempt: jax.Array | None = None) -> jax.Array:
    """Monte Carlo unit points (index.shape + (len(columns),)) of draws ``index`` from the raw Threefry
    ``key``. Counter-based: the hash of the pair (draw index, j + attempt * 2**16) gives the
    coordinates of parameters 2j and 2j + 1 (one word each), so a point depends on the seed, the draw,
    the attempt (0, the default: the draw's first set) and the parameter alone."""
    if not columns:
        return jnp.zeros((*index.shape, 0), dtype)
    # Only the pairs holding a varying parameter are hashed, in one flat call: ~10x cheaper than
    # fold_in + bits per draw.
    pairs = sorted({column // 2 for column in columns})
    if pairs[-1] >= 2**ATTEMPT_SHIFT:
        raise ValueError(f"at most {2 ** (ATTEMPT_SHIFT + 1)} parameters can be hashed")
    draw = jnp.broadcast_to(index.astype(jnp.uint32)[..., None], (*index.shape, len(pairs)))
    pair = jnp.broadcast_to(jnp.asarray(pairs, jnp.uint32), draw.shape)
    if attempt is not None:
        pair = pair + (attempt.astype(jnp.uint32) << ATTEMPT_SHIFT)[..., None]
    words = jax.extend.random.threefry_2x32(key, jnp.concatenate([draw.ravel(), pair.ravel()]))
    first, second = words[: draw.size].reshape(draw.shape), words[draw.size:].reshape(draw.shape)
    bits = jnp.stack([first, second], axis=-1).reshape(*index.shape, 2 * len(pairs))
    word = [2 * pairs.index(column // 2) + column % 2 for column in columns]
    # (a slice when the columns are the first words, as when every parameter varies)
    bits = bits[..., : len(word)] if word == list(range(len(word))) else bits[..., np.asarray(word)]
    # 32 random bits per coordinate in either precision, so a float64 run
    # uses the same random numbers as a float32 one (to float32 rounding).
    return (bits.astype(dtype) + 0.5) * 2.0**-32
