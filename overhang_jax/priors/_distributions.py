"""Prior distributions: each a JAX inverse CDF with a scipy twin.

The inverse CDFs run in JAX (normal via ``ndtri``); host-side constants such
as a truncation's CDF bounds are computed once with scipy, which also serves
the checks of a parameter's allowed range and the test suite.
``jax.random.gamma`` and ``beta`` are kept out of the hot path (they are
~100x slower than ``normal`` on CPU): the beta inverse CDF is a bisection on
``betainc``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ..models._schema import Parameter

TAIL_TOLERANCE = 1e-12
"""A prior may put at most this much probability outside a parameter's range.

The unit coordinates are clipped to [UNIT_MARGIN, 1 - UNIT_MARGIN] with a
margin at least this large, so such a prior never yields an impossible value.
"""

Z_90 = 1.6448536269514722
"""A 90% interval spans mean +- Z_90 sd: scipy.stats.norm.ppf(0.95), written out so that
importing the package does not import scipy.stats (the tests check the two are equal)."""


def _stats():
    """scipy.stats, imported on first use (it takes about a second)."""
    import scipy.stats

    return scipy.stats


def unit_margin(dtype: Any) -> float:
    """Smallest distance of a unit coordinate from 0 and 1 in ``dtype``."""
    return max(TAIL_TOLERANCE, float(jnp.finfo(dtype).epsneg))


# --------------------------------------------------------------------------
# Distributions. Each has a JAX inverse CDF and a scipy twin for host-side
# checks (truncation bounds, the allowed-range test, and the test suite).


@dataclasses.dataclass(frozen=True)
class Distribution:
    kind: ClassVar[str]
    keys: ClassVar[tuple[str, ...]]

    def ppf(self, u: jax.Array) -> jax.Array:
        """The inverse CDF at unit points ``u``: :func:`quantile` of this distribution's
        :meth:`structure` and :meth:`constants` (rounded to ``u``'s dtype), so a distribution and the
        priors' data computed from it give one arithmetic."""
        u = jnp.asarray(u)
        return quantile(self.structure(), jax.tree.map(lambda c: jnp.asarray(c, u.dtype), self.constants()), u)

    def scipy(self) -> Any:
        """The same distribution as a frozen ``scipy.stats`` object."""
        raise NotImplementedError

    def structure(self) -> tuple:
        """What the compiled inverse CDF depends on besides numbers: the kind (a mixture's components'
        kinds, a skewed log-uniform's transform). Priors with the same structure share one program."""
        return (self.kind,)

    def constants(self) -> tuple:
        """The numbers the inverse CDF computes with (float64, nested for mixtures and truncations),
        in the order :func:`quantile` reads them: the data passed to the compiled program."""
        raise NotImplementedError

    def mass_outside(self, param: Parameter) -> float:
        """Probability of values the parameter does not allow."""
        dist = self.scipy()
        return float(dist.cdf(param.lower) + dist.sf(param.upper))

    def to_toml(self) -> str:
        fields = ", ".join(f"{k} = {_toml_value(getattr(self, k))}" for k in self.keys)
        return f'{{ dist = "{self.kind}", {fields} }}'

    @property
    def is_point(self) -> bool:
        return False

    @property
    def point_value(self) -> float:
        """The value of a distribution that ``is_point``."""
        raise ValueError(f"a {self.kind} distribution is not a point value")


@dataclasses.dataclass(frozen=True)
class Point(Distribution):
    value: float
    kind: ClassVar[str] = "point"
    keys: ClassVar[tuple[str, ...]] = ("value",)

    def constants(self):
        return (self.value,)

    def scipy(self):
        return _PointScipy(self.value)

    def mass_outside(self, param):
        return 0.0 if param.contains(self.value) else 1.0

    def to_toml(self):
        return _toml_value(self.value)

    @property
    def is_point(self):
        return True

    @property
    def point_value(self):
        return self.value


@dataclasses.dataclass(frozen=True)
class Uniform(Distribution):
    lo: float
    hi: float
    kind: ClassVar[str] = "uniform"
    keys: ClassVar[tuple[str, ...]] = ("lo", "hi")

    def constants(self):
        return (self.lo, self.hi - self.lo)

    def scipy(self):
        return _stats().uniform(loc=self.lo, scale=self.hi - self.lo)


@dataclasses.dataclass(frozen=True)
class LogUniform(Distribution):
    lo: float
    hi: float
    kind: ClassVar[str] = "loguniform"
    keys: ClassVar[tuple[str, ...]] = ("lo", "hi")

    def constants(self):
        log_lo, log_hi = math.log(self.lo), math.log(self.hi)
        return (log_lo, log_hi - log_lo)

    def scipy(self):
        return _stats().loguniform(self.lo, self.hi)


@dataclasses.dataclass(frozen=True)
class Normal(Distribution):
    mean: float
    sd: float
    kind: ClassVar[str] = "normal"
    keys: ClassVar[tuple[str, ...]] = ("mean", "sd")

    def constants(self):
        return (self.mean, self.sd)

    def scipy(self):
        return _stats().norm(self.mean, self.sd)


@dataclasses.dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal given by the 5% and 95% quantiles (a 90% interval)."""

    lo: float
    hi: float
    kind: ClassVar[str] = "lognormal"
    keys: ClassVar[tuple[str, ...]] = ("lo", "hi")

    @property
    def mu(self) -> float:
        return 0.5 * (math.log(self.lo) + math.log(self.hi))

    @property
    def sigma(self) -> float:
        return (math.log(self.hi) - math.log(self.lo)) / (2 * Z_90)

    def constants(self):
        return (self.mu, self.sigma)

    def scipy(self):
        return _stats().lognorm(s=self.sigma, scale=math.exp(self.mu))


@dataclasses.dataclass(frozen=True)
class Beta(Distribution):
    """Beta(a, b) stretched to [lo, hi] (default [0, 1])."""

    a: float
    b: float
    lo: float = 0.0
    hi: float = 1.0
    kind: ClassVar[str] = "beta"
    keys: ClassVar[tuple[str, ...]] = ("a", "b", "lo", "hi")

    def constants(self):
        return (self.a, self.b, self.lo, self.hi - self.lo)

    def scipy(self):
        return _stats().beta(self.a, self.b, loc=self.lo, scale=self.hi - self.lo)


@dataclasses.dataclass(frozen=True)
class Truncated(Distribution):
    """Any continuous distribution restricted to [min, max]."""

    base: Distribution
    min: float
    max: float
    kind: ClassVar[str] = "truncated"
    keys: ClassVar[tuple[str, ...]] = ()

    @property
    def cdf_bounds(self) -> tuple[float, float]:
        dist = self.base.scipy()
        return float(dist.cdf(self.min)), float(dist.cdf(self.max))

    def structure(self):
        return (self.kind, self.base.structure())

    def constants(self):
        cdf_min, cdf_max = self.cdf_bounds
        return (cdf_min, cdf_max - cdf_min, self.min, self.max, self.base.constants())

    def scipy(self):
        return _TruncatedScipy(self.base.scipy(), self.min, self.max)

    def to_toml(self):
        inner = self.base.to_toml()[:-2]
        bounds = []
        if self.min > -math.inf:
            bounds.append(f"min = {_toml_value(self.min)}")
        if self.max < math.inf:
            bounds.append(f"max = {_toml_value(self.max)}")
        return inner + ", " + ", ".join(bounds) + " }"


@dataclasses.dataclass(frozen=True)
class Mixture(Distribution):
    """A weighted mixture; one unit coordinate picks the component and places the draw in it."""

    components: tuple[Distribution, ...]
    weights: tuple[float, ...]
    kind: ClassVar[str] = "mixture"
    keys: ClassVar[tuple[str, ...]] = ()

    def _edges(self) -> np.ndarray:
        edges = np.concatenate([[0.0], np.cumsum(self.weights)])
        edges[-1] = 1.0
        return edges

    def structure(self):
        return (self.kind, tuple(c.structure() for c in self.components))

    def constants(self):
        return (tuple(float(e) for e in self._edges()), tuple(self.weights),
                tuple(c.constants() for c in self.components))

    def scipy(self):
        return _MixtureScipy([c.scipy() for c in self.components], self.weights)

    def mass_outside(self, param):
        return sum(w * c.mass_outside(param) for c, w in zip(self.components, self.weights))

    def to_toml(self):
        parts = ", ".join(c.to_toml() if not c.is_point else f'{{ dist = "point", value = {c.to_toml()} }}'
                          for c in self.components)
        weights = ", ".join(_toml_value(w) for w in self.weights)
        return f'{{ dist = "mixture", components = [{parts}], weights = [{weights}] }}'

    @property
    def is_point(self):
        return len(self.components) == 1 and self.components[0].is_point

    @property
    def point_value(self):
        if not self.is_point:
            return super().point_value
        return self.components[0].point_value


SKEW_TRANSFORMS = ("pos", "neg", "frac", "inv_frac")


@dataclasses.dataclass(frozen=True)
class SkewedLogUniform(Distribution):
    """Half the probability on each side of the median, each half uniform in z = ln t(x).

    The marginal of epoch-research/ftm's Monte Carlo (its ``SkewedLogUniform``), given
    by the smallest, the median and the largest value. The transform t makes z
    unbounded: ``pos`` t(x) = x (x > 0), ``neg`` -x (x < 0), ``frac`` x / (1 - x)
    (0 < x < 1), ``inv_frac`` 1 / (x - 1) (x > 1, the original's (1/x) / (1 - 1/x)).
    """

    lo: float
    median: float
    hi: float
    transform: str = "pos"
    kind: ClassVar[str] = "skewed_loguniform"
    keys: ClassVar[tuple[str, ...]] = ("lo", "median", "hi", "transform")

    def _z(self, x):
        t = {"pos": lambda v: v, "neg": lambda v: -v, "frac": lambda v: v / (1 - v),
             "inv_frac": lambda v: 1 / (v - 1)}[self.transform]
        return np.log(t(np.asarray(x, np.float64)))

    def _anchors(self) -> tuple[float, float, float]:
        return tuple(float(self._z(v)) for v in (self.lo, self.median, self.hi))

    def structure(self):
        return (self.kind, self.transform)

    def constants(self):
        low, mid, high = self._anchors()
        return (low, mid - low, mid, high - mid)

    def scipy(self):
        return _SkewedLogUniformScipy(self)


def _untransform(transform: str, y):
    """x from y = t(x), t a :class:`SkewedLogUniform` transform (numpy or JAX arrays alike)."""
    return {"pos": lambda: y, "neg": lambda: -y, "frac": lambda: y / (1 + y),
            "inv_frac": lambda: 1 / (y / (1 + y))}[transform]()


class _SkewedLogUniformScipy:
    """CDF and inverse CDF of a :class:`SkewedLogUniform` in numpy."""

    def __init__(self, dist: SkewedLogUniform):
        self.dist = dist
        self.low, self.mid, self.high = dist._anchors()

    def cdf(self, x):
        x = np.asarray(x, np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = self.dist._z(np.clip(x, self.dist.lo, self.dist.hi))
        # z runs from low to high as x runs from lo to hi (decreasing for neg and inv_frac).
        below = 0.5 * (z - self.low) / (self.mid - self.low)
        above = 0.5 + 0.5 * (z - self.mid) / (self.high - self.mid)
        inside = np.where((z - self.mid) * (self.high - self.mid) <= 0, below, above)
        return np.where(x < self.dist.lo, 0.0, np.where(x >= self.dist.hi, 1.0, np.clip(inside, 0.0, 1.0)))

    def sf(self, x):
        return 1.0 - self.cdf(x)

    def ppf(self, q):
        q = np.asarray(q, np.float64)
        z = np.where(q <= 0.5, self.low + 2 * q * (self.mid - self.low),
                     self.mid + 2 * (q - 0.5) * (self.high - self.mid))
        return _untransform(self.dist.transform, np.exp(z))


class _TruncatedScipy:
    """The few scipy methods the checks and tests use, for a truncated law."""

    def __init__(self, base, lo, hi):
        self.base, self.lo, self.hi = base, lo, hi
        self.cdf_lo, self.cdf_hi = base.cdf(lo), base.cdf(hi)

    def cdf(self, x):
        inside = (self.base.cdf(np.clip(x, self.lo, self.hi)) - self.cdf_lo) / (self.cdf_hi - self.cdf_lo)
        return np.where(np.asarray(x) < self.lo, 0.0, inside)

    def sf(self, x):
        return 1.0 - self.cdf(x)

    def ppf(self, q):
        return self.base.ppf(self.cdf_lo + np.asarray(q) * (self.cdf_hi - self.cdf_lo))


class _PointScipy:
    """A point mass, which scipy.stats has no continuous form of."""

    def __init__(self, value):
        self.value = value

    def cdf(self, x):
        return np.where(np.asarray(x) >= self.value, 1.0, 0.0)

    def sf(self, x):
        return 1.0 - self.cdf(x)

    def ppf(self, q):
        return np.full_like(np.asarray(q, dtype=float), self.value)


class _MixtureScipy:
    def __init__(self, components, weights):
        self.components, self.weights = components, weights

    def cdf(self, x):
        return sum(w * c.cdf(x) for c, w in zip(self.components, self.weights))

    def sf(self, x):
        return sum(w * c.sf(x) for c, w in zip(self.components, self.weights))


def quantile(structure: tuple, constants, u: jax.Array) -> jax.Array:
    """The inverse CDF of a distribution given as data: its :meth:`~Distribution.structure` (static)
    and its :meth:`~Distribution.constants` (arrays of ``u``'s dtype, arguments of the compiled
    program rather than constants of it). A distribution's own ``ppf`` is this function of its
    numbers, so a run's draws and the distribution's quantiles are one computation."""
    kind = structure[0]
    c = constants
    if kind == "point":
        return jnp.broadcast_to(c[0], u.shape)
    if kind == "uniform":
        return c[0] + u * c[1]
    if kind == "loguniform":
        return jnp.exp(c[0] + u * c[1])
    if kind == "normal":
        return c[0] + c[1] * jax.scipy.special.ndtri(u)
    if kind == "lognormal":
        return jnp.exp(c[0] + c[1] * jax.scipy.special.ndtri(u))
    if kind == "beta":
        # No betaincinv in JAX: bisection on the regularised incomplete beta
        # function, one halving per mantissa bit of the dtype.
        a, b, lo, width = c
        bits = jnp.finfo(u.dtype).nmant + 2

        def halve(_, bracket):
            left, right = bracket
            mid = 0.5 * (left + right)
            below = jax.scipy.special.betainc(a, b, mid) < u
            return jnp.where(below, mid, left), jnp.where(below, right, mid)

        left, right = jax.lax.fori_loop(0, bits, halve, (jnp.zeros_like(u), jnp.ones_like(u)))
        return lo + 0.5 * (left + right) * width
    if kind == "truncated":
        cdf_min, cdf_width, low, high, base = c
        # In float32, cdf_min + u * cdf_width can round to exactly 0 or 1 (an infinite
        # quantile): keep it inside the unit margin like u itself.
        margin = unit_margin(u.dtype)
        inner = jnp.clip(cdf_min + u * cdf_width, margin, 1 - margin)
        return jnp.clip(quantile(structure[1], base, inner), low, high)
    if kind == "skewed_loguniform":
        low, mid_minus_low, mid, high_minus_mid = c
        z = jnp.where(u <= 0.5, low + 2 * u * mid_minus_low, mid + 2 * (u - 0.5) * high_minus_mid)
        return _untransform(structure[1], jnp.exp(z))
    if kind == "mixture":
        edges, weights, components = c
        values = []
        for k, component in enumerate(structure[1]):
            inner = (u - edges[k]) / weights[k]
            values.append(quantile(component, components[k], jnp.clip(inner, 0.0, 1.0)))
        index = jnp.searchsorted(jnp.stack(edges[1:-1]) if len(edges) > 2 else jnp.zeros(0, u.dtype), u,
                                 side="right")
        return jnp.choose(index, values, mode="clip")
    raise ValueError(f"unknown distribution kind {kind!r}")


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.kind: cls for cls in (Point, Uniform, LogUniform, Normal, LogNormal, Beta, SkewedLogUniform, Mixture)
}


def _toml_value(x: Any) -> str:
    if isinstance(x, str):
        return f'"{x}"'
    if isinstance(x, float):
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    return str(x)
