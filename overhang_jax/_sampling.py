"""Unit-hypercube samplers: Monte Carlo, scrambled Sobol and Latin hypercube.

Every draw starts as a point ``u`` of the unit hypercube, one coordinate per
uncertain parameter; :meth:`overhang_jax.Priors.transform` then applies the
copula and the inverse CDFs. The samplers differ only in how ``u`` is made,
so they share everything downstream.
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
# chunking or the devices: Monte Carlo keys are folded from the draw index;
# Sobol points are taken by index from one scrambled sequence; a Latin
# hypercube uses one fixed permutation per dimension.

SAMPLERS = ("mc", "sobol", "lhs")


@dataclasses.dataclass(frozen=True)
class Sampler:
    """How unit points are made: a host part (per chunk) and a JAX part (per draw)."""

    kind: str
    seed: int
    dimension: int
    draws: int

    def __post_init__(self):
        if self.kind not in SAMPLERS:
            raise ValueError(f"unknown sampler '{self.kind}'; choose one of {', '.join(SAMPLERS)}")

    @functools.cached_property
    def _strata(self) -> np.ndarray:
        # One permutation per dimension, made whole then sliced, so each
        # draw's stratum never depends on the chunk it falls in. Costs
        # 4 * draws * dimension bytes of host memory.
        rng = np.random.default_rng(self.seed)
        return np.stack([rng.permutation(self.draws).astype(np.int32) for _ in range(self.dimension)], axis=1)

    def host_part(self, start: int, count: int) -> np.ndarray:
        """Host-made data for draws [start, start + count) (an empty array for Monte Carlo)."""
        if self.kind == "sobol" and self.dimension:
            from scipy.stats import qmc  # imported here: scipy.stats takes about a second

            engine = qmc.Sobol(self.dimension, scramble=True, rng=np.random.default_rng(self.seed))
            if start:
                engine.fast_forward(start)
            with warnings.catch_warnings():
                # Balance holds for the whole run of `draws` points, not per chunk.
                warnings.simplefilter("ignore", UserWarning)
                return engine.random(count)
        if self.kind == "lhs" and self.dimension:
            part = np.zeros((count, self.dimension), np.int32)
            stop = min(start + count, self.draws)
            part[: max(stop - start, 0)] = self._strata[start:stop]
            return part
        return np.zeros((count, 0), np.float32)

    def key(self) -> jax.Array:
        """The raw Threefry key (two uint32 words) of the seed."""
        return jax.random.key_data(jax.random.key(self.seed, impl="threefry2x32"))

    def unit_points(self, key: jax.Array, index: jax.Array, host: jax.Array, dtype: Any) -> jax.Array:
        """Unit points (index.shape + (dimension,)) of draws ``index``, from ``key`` (see
        :meth:`key`) and their rows ``host`` of the host part."""
        if self.kind == "sobol":
            return host.astype(dtype)
        # Counter-based: the Threefry hash of the pair (draw index, j) gives
        # coordinates 2j and 2j + 1. Hashing a whole batch in one flat call is
        # ~10x cheaper than fold_in + bits per draw.
        pairs = (self.dimension + 1) // 2
        draw = jnp.broadcast_to(index.astype(jnp.uint32)[..., None], (*index.shape, pairs))
        pair = jnp.broadcast_to(jnp.arange(pairs, dtype=jnp.uint32), draw.shape)
        words = jax.extend.random.threefry_2x32(key, jnp.concatenate([draw.ravel(), pair.ravel()]))
        first, second = words[: draw.size].reshape(draw.shape), words[draw.size:].reshape(draw.shape)
        bits = jnp.stack([first, second], axis=-1).reshape(*index.shape, 2 * pairs)[..., : self.dimension]
        # 32 random bits per coordinate in either precision, so a float64 run
        # uses the same random numbers as a float32 one (to float32 rounding).
        uniform = (bits.astype(dtype) + 0.5) * 2.0**-32
        if self.kind == "lhs":
            return (host.astype(dtype) + uniform) / self.draws
        return uniform
