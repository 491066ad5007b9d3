"""Tests of the priors: distributions against scipy, the Gaussian copula, float32,
validation errors, merging with the shipped defaults, and the unit-hypercube samplers.

Expected values come from scipy.stats or from the definitions (the priors
file format in the README), never from the package's own output.
Sampling tolerances are derived from the sample size (5 standard errors);
every random input is seeded, so the tests are deterministic.
"""

from __future__ import annotations

import functools
import math
import tomllib
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import overhang_jax
from overhang_jax import INFERENCE, TAKEOFF, TRAJECTORY, PriorsError, load_priors
from overhang_jax.priors._sampling import Sampler

Z90 = float(scipy.stats.norm.ppf(0.95))  # a 90% interval is mean +- Z90 sd
N_SAMPLES = 100_000
SMALL_N = 1024  # batch of the small transforms (JAX compiles each op per shape: reuse one)
SIGMAS = 5.0  # tolerance of sampled statistics, in standard errors
KS_MIN_P = 1e-3
PKG_DIR = Path(overhang_jax.__file__).parent / "models"


# --------------------------------------------------------------------------
# Helpers


@functools.lru_cache(maxsize=None)
def load_text(text: str):
    return load_priors(TAKEOFF, text=text)


def load_param(name: str, spec: str):
    """Priors of the takeoff model with one parameter set to ``spec`` (TOML)."""
    return load_text(f'model = "takeoff"\n[params]\n{name} = {spec}\n')


@functools.lru_cache(maxsize=None)
def uniform_points(n: int, dim: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, dim))


@functools.lru_cache(maxsize=None)
def sample64(name: str, spec: str, n: int = N_SAMPLES) -> np.ndarray:
    """``n`` float64 draws of parameter ``name`` through ``Priors.transform``."""
    priors = load_param(name, spec)
    u = uniform_points(n, priors.dimension)
    with jax.enable_x64(True):
        values = priors.transform(jnp.asarray(u, jnp.float64))
        assert values[name].dtype == jnp.float64
        return np.asarray(values[name])


def allowed_mask(param, x: np.ndarray) -> np.ndarray:
    """Vectorised ``Parameter.contains``, and finite."""
    x = np.asarray(x, np.float64)
    if param.values is not None:
        return np.isin(x, param.values)
    above = x > param.lower if param.lower_open else x >= param.lower
    below = x < param.upper if param.upper_open else x <= param.upper
    return above & below & np.isfinite(x)


class Ref:
    """Reference law X = g(Y) from a frozen scipy distribution of Y (g = identity or exp)."""

    def __init__(self, frozen, log: bool = False):
        self.frozen, self.log = frozen, log

    def ppf(self, q):
        y = self.frozen.ppf(q)
        return np.exp(y) if self.log else y

    def cdf(self, x):
        x = np.asarray(x, np.float64)
        if not self.log:
            return self.frozen.cdf(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, self.frozen.cdf(np.log(np.where(x > 0, x, 1.0))), 0.0)

    def pdf(self, x):
        x = np.asarray(x, np.float64)
        return self.frozen.pdf(np.log(x)) / x if self.log else self.frozen.pdf(x)

    @functools.cached_property
    def mean_var(self):
        if not self.log:
            return float(self.frozen.mean()), float(self.frozen.var())
        m1 = self.frozen.expect(np.exp)
        m2 = self.frozen.expect(lambda y: np.exp(2 * y))
        return m1, m2 - m1**2


class MixtureRef:
    """Reference mixture of frozen scipy distributions."""

    def __init__(self, components, weights):
        self.components, self.weights = components, weights

    def cdf(self, x):
        return sum(w * c.cdf(x) for c, w in zip(self.components, self.weights))

    def pdf(self, x):
        return sum(w * c.pdf(x) for c, w in zip(self.components, self.weights))

    def ppf(self, q):
        def one(p):
            lo = min(c.ppf(p) for c in self.components)
            hi = max(c.ppf(p) for c in self.components)
            if lo == hi:
                return lo
            return scipy.optimize.brentq(lambda x: self.cdf(x) - p, lo, hi, xtol=1e-13, rtol=1e-13)
        return np.array([one(p) for p in np.atleast_1d(q)])

    @functools.cached_property
    def mean_var(self):
        m1 = sum(w * c.mean() for c, w in zip(self.components, self.weights))
        m2 = sum(w * (c.var() + c.mean() ** 2) for c, w in zip(self.components, self.weights))
        return float(m1), float(m2 - m1**2)


def lognormal_ref(lo, hi):
    """scipy log-normal with 5% quantile lo and 95% quantile hi (from the definition)."""
    return scipy.stats.lognorm(s=math.log(hi / lo) / (2 * Z90), scale=math.sqrt(lo * hi))


def truncated_lognormal_ref(lo, hi, tmin=0.0, tmax=math.inf):
    """Truncated log-normal as exp of a scipy truncated normal on the log scale."""
    mu, sigma = 0.5 * (math.log(lo) + math.log(hi)), math.log(hi / lo) / (2 * Z90)
    a = (math.log(tmin) - mu) / sigma if tmin > 0 else -math.inf
    b = (math.log(tmax) - mu) / sigma
    return Ref(scipy.stats.truncnorm(a, b, loc=mu, scale=sigma), log=True)


# --------------------------------------------------------------------------
# 1. Every distribution against scipy

CONTINUOUS = [
    pytest.param("capability_start", '{ dist = "normal", mean = 9, sd = 1 }',
                 Ref(scipy.stats.norm(9, 1)), id="normal_mean_sd"),
    pytest.param("capability_start", '{ dist = "normal", lo = 2, hi = 6 }',
                 Ref(scipy.stats.norm(4, 2 / Z90)), id="normal_lo_hi"),
    pytest.param("capability_start", '{ dist = "uniform", lo = -2, hi = 3 }',
                 Ref(scipy.stats.uniform(-2, 5)), id="uniform"),
    pytest.param("size_software", '{ dist = "loguniform", lo = 0.1, hi = 100 }',
                 Ref(scipy.stats.loguniform(0.1, 100)), id="loguniform"),
    pytest.param("delay_software", '{ dist = "lognormal", lo = 0.4, hi = 2.5 }',
                 Ref(lognormal_ref(0.4, 2.5)), id="lognormal"),
    pytest.param("c1_over_c0", '{ dist = "lognormal", lo = 33, hi = 300 }',
                 Ref(lognormal_ref(33, 300)), id="lognormal_wide"),
    pytest.param("c0", '{ dist = "beta", a = 2, b = 5 }',
                 Ref(scipy.stats.beta(2, 5)), id="beta"),
    pytest.param("c0", '{ dist = "beta", a = 0.5, b = 0.7 }',
                 Ref(scipy.stats.beta(0.5, 0.7)), id="beta_u_shaped"),
    pytest.param("capability_start", '{ dist = "beta", a = 2.5, b = 1.5, lo = -1, hi = 4 }',
                 Ref(scipy.stats.beta(2.5, 1.5, loc=-1, scale=5)), id="beta_stretched"),
    pytest.param("size_hardware", '{ dist = "normal", mean = 1, sd = 1, min = 0 }',
                 Ref(scipy.stats.truncnorm(-1, np.inf, loc=1, scale=1)), id="truncnorm_min"),
    pytest.param("capability_start", '{ dist = "normal", mean = 0, sd = 2, min = -1, max = 3 }',
                 Ref(scipy.stats.truncnorm(-0.5, 1.5, loc=0, scale=2)), id="truncnorm_min_max"),
    pytest.param("capability_start", '{ dist = "normal", mean = 0, sd = 1, min = 1.5 }',
                 Ref(scipy.stats.truncnorm(1.5, np.inf)), id="truncnorm_upper_tail"),
    pytest.param("delay_hardware", '{ dist = "lognormal", lo = 5, hi = 20, max = 15 }',
                 truncated_lognormal_ref(5, 20, tmax=15), id="trunclognormal_max"),
    pytest.param("delay_hardware", '{ dist = "lognormal", lo = 5, hi = 20, min = 4, max = 30 }',
                 truncated_lognormal_ref(5, 20, tmin=4, tmax=30), id="trunclognormal_min_max"),
    pytest.param("capability_start", '{ dist = "uniform", lo = 0, hi = 10, min = 2, max = 5 }',
                 Ref(scipy.stats.uniform(2, 3)), id="truncuniform"),
]

MIXTURES = [
    pytest.param("capability_start",
                 '{ dist = "mixture", components = [{ dist = "normal", mean = 0, sd = 1 }, '
                 '{ dist = "normal", mean = 5, sd = 2 }], weights = [0.3, 0.7] }',
                 [scipy.stats.norm(0, 1), scipy.stats.norm(5, 2)], [0.3, 0.7], id="two_normals"),
    pytest.param("delay_software",
                 '{ dist = "mixture", components = [{ dist = "lognormal", lo = 0.4, hi = 2.5 }, '
                 '{ dist = "uniform", lo = 3, hi = 4 }, { dist = "normal", mean = 1, sd = 0.2, min = 0.5 }], '
                 'weights = [0.5, 0.2, 0.3] }',
                 [lognormal_ref(0.4, 2.5), scipy.stats.uniform(3, 1),
                  scipy.stats.truncnorm(-2.5, np.inf, loc=1, scale=0.2)], [0.5, 0.2, 0.3],
                 id="lognormal_uniform_truncnorm"),
]

U_GRID = np.concatenate([[1e-6, 1e-4], np.linspace(0.001, 0.999, 999), [1 - 1e-4, 1 - 1e-6]])
QUANTILES = np.array([0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])


def jax_ppf64(dist, u: np.ndarray) -> np.ndarray:
    """``dist.ppf`` in float64; short inputs are padded to the grid's shape (one compile per op)."""
    u = np.asarray(u, np.float64)
    padded = np.full(max(u.size, U_GRID.size), 0.5)
    padded[: u.size] = u
    with jax.enable_x64(True):
        out = dist.ppf(jnp.asarray(padded, jnp.float64))
        assert out.dtype == jnp.float64
        return np.asarray(out)[: u.size]


@pytest.mark.parametrize(("name", "spec", "ref"), CONTINUOUS)
def test_ppf_matches_scipy(name, spec, ref):
    dist = load_param(name, spec).distributions[name]
    got = jax_ppf64(dist, U_GRID)
    expected = ref.ppf(U_GRID)
    scale = ref.ppf(0.9) - ref.ppf(0.1)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10 * scale)
    # Its scipy twin (used by the package for truncation and range checks) agrees too.
    np.testing.assert_allclose(dist.scipy().ppf(U_GRID), expected, rtol=1e-9, atol=1e-10 * scale)
    np.testing.assert_allclose(dist.scipy().cdf(expected), U_GRID, rtol=1e-9, atol=1e-12)


SKEWED = [pytest.param("capability_start", f'{{ dist = "skewed_loguniform", lo = {lo}, median = {median}, '
                        f'hi = {hi}, transform = "{transform}" }}', None, id=f"skewed_{transform}")
          for lo, median, hi, transform in [(1, 3, 9, "pos"), (-9, -3, -1, "neg"), (0.1, 0.3, 0.9, "frac"),
                                            (1.1, 2, 9, "inv_frac")]]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize(("name", "spec", "ref"), [*CONTINUOUS, *[pytest.param(*p.values[:3], id=p.id) for p in MIXTURES], *SKEWED])
def test_quantile_from_data_is_bit_identical_to_the_compiled_in_ppf(name, spec, ref, dtype):
    # A run passes each distribution's numbers to its compiled program as data, one program for all
    # numbers; the inverse CDF with the numbers compiled in as constants is the reference: the two
    # must agree to the bit, in either precision, so no draw changed when priors became data.
    from overhang_jax.priors._distributions import quantile

    dist = load_param(name, spec).distributions[name]
    with jax.enable_x64(dtype == jnp.float64):
        u = jnp.asarray(U_GRID, dtype)
        structure = dist.structure()
        data = jax.tree.map(lambda c: np.asarray(c, np.float64).astype(dtype), dist.constants())
        from_data = jax.jit(lambda data, u: quantile(structure, data, u))(data, u)
        compiled_in = jax.jit(dist.ppf)(u)
        assert from_data.dtype == compiled_in.dtype == dtype
        np.testing.assert_array_equal(np.asarray(from_data), np.asarray(compiled_in))


@pytest.mark.parametrize(("name", "spec", "lo", "hi"), [
    ("delay_software", '{ dist = "lognormal", lo = 0.4, hi = 2.5 }', 0.4, 2.5),
    ("c1_over_c0", '{ dist = "lognormal", lo = 33, hi = 300 }', 33, 300),
    ("capability_start", '{ dist = "normal", lo = 2, hi = 6 }', 2, 6),
])
def test_ninety_percent_interval(name, spec, lo, hi):
    dist = load_param(name, spec).distributions[name]
    np.testing.assert_allclose(jax_ppf64(dist, np.array([0.05, 0.95])), [lo, hi], rtol=1e-12)
    # And the sampled 5% / 95% quantiles.
    x = sample64(name, spec)
    ref = Ref(lognormal_ref(lo, hi) if "lognormal" in spec else scipy.stats.norm((lo + hi) / 2, (hi - lo) / (2 * Z90)))
    for q, target in ((0.05, lo), (0.95, hi)):
        tol = SIGMAS * math.sqrt(q * (1 - q) / x.size) / ref.pdf(target)
        assert abs(np.quantile(x, q) - target) < tol


def check_sample(x: np.ndarray, ref) -> None:
    n = x.size
    assert np.all(np.isfinite(x))
    expected_q = ref.ppf(QUANTILES)
    tol_q = SIGMAS * np.sqrt(QUANTILES * (1 - QUANTILES) / n) / ref.pdf(expected_q)
    np.testing.assert_array_less(np.abs(np.quantile(x, QUANTILES) - expected_q), tol_q)
    mean, var = ref.mean_var
    assert abs(x.mean() - mean) < SIGMAS * math.sqrt(var / n)
    centred = x - x.mean()
    mu4 = np.mean(centred**4)
    assert abs(x.var() - var) < SIGMAS * math.sqrt((mu4 - x.var() ** 2) / n)
    ks = scipy.stats.kstest(x, ref.cdf)
    assert ks.pvalue > KS_MIN_P, ks


@pytest.mark.parametrize(("name", "spec", "ref"), CONTINUOUS)
def test_sampled_distribution_matches_scipy(name, spec, ref):
    x = sample64(name, spec)
    # Support: truncation bounds and ranges are respected.
    lo, hi = ref.ppf(0.0), ref.ppf(1.0)
    assert np.all((x >= lo) & (x <= hi))
    check_sample(x, ref)


@pytest.mark.parametrize(("name", "spec", "components", "weights"), MIXTURES)
def test_mixture_sampled_cdf(name, spec, components, weights):
    ref = MixtureRef(components, weights)
    x = sample64(name, spec)
    check_sample(x, ref)
    # The share of draws in each component's range (where they do not overlap).
    if name == "delay_software":
        share = np.mean((x >= 3) & (x <= 4))
        expected = ref.cdf(4.0) - ref.cdf(3.0)
        assert abs(share - expected) < SIGMAS * math.sqrt(expected * (1 - expected) / x.size)


@pytest.mark.parametrize(("name", "spec", "components", "weights"), MIXTURES)
def test_mixture_ppf_maps_coordinate_to_component(name, spec, components, weights):
    # One coordinate picks the component (by the cumulative weights) and places
    # the draw in it: u in [e_k, e_k + w_k) -> component_k.ppf((u - e_k) / w_k).
    dist = load_param(name, spec).distributions[name]
    edges = np.concatenate([[0.0], np.cumsum(weights)])
    u = U_GRID
    k = np.searchsorted(edges[1:-1], u, side="right")
    inner = (u - edges[k]) / np.asarray(weights)[k]
    expected = np.choose(k, [c.ppf(inner) for c in components])
    assert set(k) == set(range(len(components)))
    np.testing.assert_allclose(jax_ppf64(dist, u), expected, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize(("name", "spec", "values", "weights"), [
    pytest.param("asymmetry", '{ dist = "mixture", components = [0, 1], weights = [0.25, 0.75] }',
                 [0.0, 1.0], [0.25, 0.75], id="switch"),
    pytest.param("capability_start",
                 '{ dist = "mixture", components = [20, { dist = "point", value = 24 }, 30.5], '
                 'weights = [0.2, 0.5, 0.3] }',
                 [20.0, 24.0, 30.5], [0.2, 0.5, 0.3], id="three_points"),
])
def test_mixture_of_points(name, spec, values, weights):
    priors = load_param(name, spec)
    assert name in priors.random_names
    x = sample64(name, spec)
    assert set(np.unique(x)) == set(values)
    for value, weight in zip(values, weights):
        share = np.mean(x == value)
        assert abs(share - weight) < SIGMAS * math.sqrt(weight * (1 - weight) / x.size)


def test_scipy_twin_of_points():
    # Distribution.scipy() is documented as "the same distribution as a frozen
    # scipy.stats object": a point's CDF is a step at the value, and a mixture
    # of points has a step CDF with the weights.
    point = load_param("capability_start", "23.5").distributions["capability_start"]
    np.testing.assert_array_equal(point.scipy().cdf(np.array([23.0, 23.5, 24.0])), [0.0, 1.0, 1.0])
    mixture = load_param("asymmetry", '{ dist = "mixture", components = [0, 1], weights = [0.25, 0.75] }'
                         ).distributions["asymmetry"]
    np.testing.assert_allclose(mixture.scipy().cdf(np.array([-0.5, 0.5, 1.5])), [0.0, 0.25, 1.0], atol=1e-12)


def test_point_values_fill_the_batch():
    priors = load_text('[params]\ncapability_start = 23.5\nasymmetry = 1\n')
    assert "capability_start" not in priors.random_names
    u = jnp.asarray(uniform_points(SMALL_N, priors.dimension), jnp.float32)
    values = priors.transform(u)
    assert set(values) == set(TAKEOFF.parameter_names)
    for v in values.values():
        assert v.shape == (SMALL_N,) and v.dtype == jnp.float32
    np.testing.assert_array_equal(values["capability_start"], np.float32(23.5))
    np.testing.assert_array_equal(values["asymmetry"], np.float32(1))


# --------------------------------------------------------------------------
# 1b. The skewed log-uniform of epoch-research/ftm's Monte Carlo. Reference: ln t(X) is an
# equal mixture of a uniform between the transformed smallest value and median and one
# between the median and the largest value (scipy.stats.uniform), for each transform t.

SKEW_TRANSFORMS = {  # t, and whether it increases with x
    "pos": (lambda x: x, True),
    "neg": (lambda x: -x, False),
    "frac": (lambda x: x / (1 - x), True),
    "inv_frac": (lambda x: (1 / x) / (1 - 1 / x), False),  # the original's form
}
SKEWED = [  # (takeoff parameter, lo, median, hi, transform)
    ("delay_software", 0.3, 1.0, 6.0, "pos"),
    ("investment_base", -3.0, -1.0, -0.2, "neg"),
    ("c0", 0.001, 0.004, 0.02, "frac"),
    ("c1_over_c0", 1.5, 10.0, 300.0, "inv_frac"),
]


class SkewedRef:
    def __init__(self, lo, median, hi, transform):
        self.t, self.increasing = SKEW_TRANSFORMS[transform]
        self.lo, self.hi = lo, hi
        z = [math.log(self.t(v)) for v in (lo, median, hi)]
        self.halves = [scipy.stats.uniform(min(a, b), abs(b - a)) for a, b in ((z[0], z[1]), (z[1], z[2]))]

    def cdf(self, x):
        x = np.clip(np.asarray(x, np.float64), self.lo, self.hi)
        z = np.log(self.t(x))
        below = 0.5 * self.halves[0].cdf(z) + 0.5 * self.halves[1].cdf(z)  # P(ln t(X) <= z)
        return below if self.increasing else 1 - below


def skewed_spec(lo, median, hi, transform):
    return f'{{ dist = "skewed_loguniform", lo = {lo!r}, median = {median!r}, hi = {hi!r}, transform = "{transform}" }}'


@pytest.mark.parametrize(("name", "lo", "median", "hi", "transform"), SKEWED, ids=[s[-1] for s in SKEWED])
def test_skewed_loguniform_inverts_the_reference_cdf(name, lo, median, hi, transform):
    dist = load_param(name, skewed_spec(lo, median, hi, transform)).distributions[name]
    ref = SkewedRef(lo, median, hi, transform)
    x = jax_ppf64(dist, U_GRID)
    np.testing.assert_allclose(ref.cdf(x), U_GRID, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(jax_ppf64(dist, np.array([0.5])), [median], rtol=1e-14)
    assert np.all(np.diff(x) > 0) and lo < x[0] and x[-1] < hi
    np.testing.assert_allclose(dist.scipy().cdf(x), U_GRID, rtol=1e-9, atol=1e-12)  # the package's twin
    x = sample64(name, skewed_spec(lo, median, hi, transform))
    assert scipy.stats.kstest(x, ref.cdf).pvalue > KS_MIN_P
    assert abs(np.mean(x <= median) - 0.5) < SIGMAS * math.sqrt(0.25 / x.size)


def test_skewed_loguniform_reproduces_the_original_monte_carlo_draws():
    """The oracle drew sets from the original's marginals at recorded unit points; the shipped ftm
    priors give the same values there (the same marginals, with the transforms of docs/ftm.md)."""
    import gzip
    import json

    from overhang_jax.models import ftm

    oracle = json.loads(gzip.open(Path(__file__).parents[1] / "models" / "fixtures" / "ftm" / "sets.json.gz", "rt").read())
    priors = load_priors(ftm.FTM)
    names = oracle["uncertain_parameters"]
    assert set(names) == set(priors.random_names)
    joint = [s for s in oracle["sets"] if "unit_point" in s]
    assert len(joint) == 48
    for name, column in zip(names, np.array([s["unit_point"] for s in joint]).T):
        dist = priors.distributions[name]
        expected = np.array([s["params"][name] for s in joint])
        # Within 2 ulp, not equal: the oracle's values were recorded with numpy on an AVX2 CPU, and numpy's
        # log and exp take other SIMD code on an AVX-512 CPU (correctly rounded to within 1 ulp on both),
        # so the same formula gives values one ulp apart there (2 of 48 on an AVX-512 machine).
        np.testing.assert_array_max_ulp(dist.scipy().ppf(column), expected, maxulp=2)
        np.testing.assert_array_max_ulp(jax_ppf64(dist, column), expected, maxulp=2)


# --------------------------------------------------------------------------
# 2. The Gaussian copula

N_COPULA = 50_000
DEFAULT_SIZE_HARDWARE = Ref(scipy.stats.truncnorm(-9 / (2 / Z90), np.inf, loc=9, scale=2 / Z90))
DEFAULT_SIZE_SOFTWARE = Ref(scipy.stats.truncnorm(-12 / (3 / Z90), np.inf, loc=12, scale=3 / Z90))


@functools.lru_cache(maxsize=None)
def correlated_sample(text: str, n: int = N_COPULA, dtype=jnp.float64) -> dict[str, np.ndarray]:
    priors = load_text(text)
    u = uniform_points(n, priors.dimension, seed=1)
    with jax.enable_x64(dtype == jnp.float64):
        values = priors.transform(jnp.asarray(u, dtype))
        return {k: np.asarray(v) for k, v in values.items()}


def assert_spearman(x, y, rank):
    """Spearman's rho within 5 standard errors (Fisher z, Bonett-Wright variance)."""
    rho = scipy.stats.spearmanr(x, y).statistic
    se = math.sqrt((1 + rank**2 / 2) / (x.size - 3))
    assert abs(math.atanh(rho) - math.atanh(rank)) < SIGMAS * se, (rho, rank)


@pytest.mark.parametrize("rank", [0.5, -0.5, 0.9])
def test_copula_rank_correlation(rank):
    text = ('[[correlations]]\nparams = ["size_hardware", "size_software"]\n'
            f"rank = {rank}\n")
    values = correlated_sample(text)
    assert_spearman(values["size_hardware"], values["size_software"], rank)
    # Marginals are unchanged by the correlation.
    for name, ref in (("size_hardware", DEFAULT_SIZE_HARDWARE), ("size_software", DEFAULT_SIZE_SOFTWARE)):
        assert scipy.stats.kstest(values[name], ref.cdf).pvalue > KS_MIN_P
    # Other parameters stay independent of the pair.
    assert_spearman(values["size_hardware"], values["takeoff_threshold"], 0.0)
    assert_spearman(values["size_software"], values["c0"], 0.0)


def test_copula_three_parameters_and_reversed_order():
    text = ('[params]\ntakeoff_threshold = { dist = "uniform", lo = 33, hi = 39 }\n'
            '[[correlations]]\nparams = ["size_software", "size_hardware"]\nrank = 0.5\n'
            '[[correlations]]\nparams = ["takeoff_threshold", "size_hardware"]\nrank = -0.3\n')
    values = correlated_sample(text)
    assert_spearman(values["size_hardware"], values["size_software"], 0.5)
    assert_spearman(values["takeoff_threshold"], values["size_hardware"], -0.3)
    # The copula's correlation matrix has 0 between these two: independent.
    assert_spearman(values["takeoff_threshold"], values["size_software"], 0.0)
    assert scipy.stats.kstest(values["takeoff_threshold"], scipy.stats.uniform(33, 6).cdf).pvalue > KS_MIN_P
    assert scipy.stats.kstest(values["size_hardware"], DEFAULT_SIZE_HARDWARE.cdf).pvalue > KS_MIN_P


def test_copula_float32_matches_float64():
    text = '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = 0.5\n'
    priors = load_text(text)
    v64 = correlated_sample(text)  # transform is row-wise: the first rows are those of a smaller batch
    u32 = jnp.asarray(uniform_points(N_COPULA, priors.dimension, seed=1)[:SMALL_N], jnp.float32)
    v32 = priors.transform(u32)
    for name in ("size_hardware", "size_software"):
        assert v32[name].dtype == jnp.float32
        # The float32 draws use u rounded to float32: compare loosely.
        np.testing.assert_allclose(v32[name], v64[name][:SMALL_N], rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------
# 3. Float32 (and float64): clipping keeps every value allowed; float32 close to float64

EDGE_ROWS = np.array([0.0, 1.0, 2.0**-24, 2.0**-23, 1 - 2.0**-24, 1 - 2.0**-23, 0.5])

FLOAT32_PRIORS = {
    "defaults": None,
    "defaults_correlated": '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = 0.7\n',
    "at_bounds": (
        "[params]\n"
        'c0 = { dist = "beta", a = 0.5, b = 0.5 }\n'
        'size_software = { dist = "uniform", lo = 0, hi = 20 }\n'
        'size_investment = { dist = "uniform", lo = 0, hi = 8 }\n'
        'delay_investment = { dist = "loguniform", lo = 0.001, hi = 100 }\n'
        'end_remaining = { dist = "uniform", lo = 0, hi = 0.5 }\n'
        'asymmetry = { dist = "mixture", components = [0, 1], weights = [0.5, 0.5] }\n'
        'capability_start = { dist = "mixture", components = [{ dist = "normal", mean = 24, sd = 1 }, 22], '
        "weights = [0.6, 0.4] }\n"
    ),
    # Truncation at a bound of the allowed range ("add min = 0" fixes the prior).
    "truncated_at_closed_bound": '[params]\nsize_hardware = { dist = "normal", mean = 1, sd = 1, min = 0 }\n',
    "truncated_at_open_bound": '[params]\ndelay_software = { dist = "normal", mean = 0, sd = 1, min = 0 }\n',
    "truncated_upper_tail": '[params]\ntakeoff_threshold = { dist = "normal", mean = 34, sd = 1, min = 35 }\n',
}


def load_case(key):
    text = FLOAT32_PRIORS[key]
    return load_priors(TAKEOFF) if text is None else load_text(text)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("key", list(FLOAT32_PRIORS))
def test_values_always_allowed(key, dtype):
    # Unit coordinates at 0 and 1 (and the extreme float32 values a sampler can
    # give) are clipped, so every value is finite and within the parameter's range.
    priors = load_case(key)
    d = priors.dimension
    rows = [np.full((len(EDGE_ROWS), d), EDGE_ROWS[:, None])]  # every coordinate at an edge
    rows.append(np.random.default_rng(2).choice(EDGE_ROWS, size=(217, d)))  # mixed edges
    rows.append(uniform_points(SMALL_N - 217 - len(EDGE_ROWS), d, seed=3))
    u_host = np.concatenate(rows)
    with jax.enable_x64(dtype == jnp.float64):
        u = jnp.asarray(u_host, dtype)
        values = {k: np.asarray(v) for k, v in priors.transform(u).items()}
    bad = {}
    for param in TAKEOFF.parameters:
        x = values[param.name]
        assert x.dtype == np.dtype(dtype) and x.shape == (SMALL_N,)
        ok = allowed_mask(param, x)
        if not ok.all():
            where = ""
            if param.name in priors.random_names:
                coordinate = priors.random_names.index(param.name)
                where = f" at u = {sorted(set(u_host[~ok, coordinate].tolist()))}"
            bad[param.name] = f"{sorted(set(x[~ok].tolist()))} not {param.allowed()}{where}"
    assert not bad, f"{np.dtype(dtype).name} values outside the allowed range (or not finite): {bad}"
    start, end = values["software_pause_start"], values["software_pause_end"]
    assert np.all(end >= start)


@pytest.mark.parametrize("key", ["defaults", "at_bounds", "truncated_at_closed_bound"])
def test_float32_close_to_float64(key):
    priors = load_case(key)
    # Interior points, exactly representable in float32 (both runs see the same u).
    u32 = (0.001 + 0.998 * uniform_points(SMALL_N, priors.dimension, seed=4)).astype(np.float32)
    v32 = priors.transform(jnp.asarray(u32))
    with jax.enable_x64(True):
        v64 = {k: np.asarray(v) for k, v in priors.transform(jnp.asarray(u32, jnp.float64)).items()}
    for name in TAKEOFF.parameter_names:
        a, b = np.asarray(v32[name], np.float64), v64[name]
        spread = float(np.ptp(b)) or 1.0
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-4 * spread, err_msg=name)


# --------------------------------------------------------------------------
# 4. Validation errors

ERRORS = [
    # (id, TOML text, substrings the message must contain)
    ("unknown_param", "[params]\nsize_sofware = 3\n",
     ["<priors text>", "unknown parameter 'size_sofware'", "did you mean 'size_software'", "takeoff"]),
    ("unknown_top_level_key", 'parms = 3\n',
     ["<priors text>", "unknown top-level key 'parms'", "did you mean 'params'"]),
    ("unknown_dist", '[params]\nsize_hardware = { dist = "norml", mean = 9, sd = 1 }\n',
     ["size_hardware", "unknown dist 'norml'", "did you mean 'normal'", "lognormal"]),
    ("missing_dist", '[params]\nsize_hardware = { mean = 9, sd = 1 }\n',
     ["size_hardware", "unknown dist None"]),
    ("non_string_dist", '[params]\nsize_hardware = { dist = ["normal"], mean = 9, sd = 1 }\n',
     ["size_hardware", "unknown dist"]),
    ("uniform_lo_eq_hi", '[params]\ncapability_start = { dist = "uniform", lo = 3, hi = 3 }\n',
     ["capability_start", "lo < hi", "lo = 3, hi = 3"]),
    ("lognormal_lo_gt_hi", '[params]\ndelay_software = { dist = "lognormal", lo = 5, hi = 2 }\n',
     ["delay_software", "lo < hi"]),
    ("normal_interval_lo_gt_hi", '[params]\ncapability_start = { dist = "normal", lo = 5, hi = 2 }\n',
     ["capability_start", "lo < hi"]),
    ("beta_lo_ge_hi", '[params]\ncapability_start = { dist = "beta", a = 2, b = 2, lo = 5, hi = 5 }\n',
     ["capability_start", "lo < hi"]),
    ("loguniform_lo_zero", '[params]\nsize_software = { dist = "loguniform", lo = 0, hi = 5 }\n',
     ["size_software", "lo > 0"]),
    ("sd_zero", '[params]\ncapability_start = { dist = "normal", mean = 9, sd = 0 }\n',
     ["capability_start", "sd > 0", "sd = 0"]),
    ("sd_negative", '[params]\ncapability_start = { dist = "normal", mean = 9, sd = -1 }\n',
     ["capability_start", "sd > 0", "sd = -1"]),
    ("beta_a_zero", '[params]\nc0 = { dist = "beta", a = 0, b = 2 }\n', ["'c0'", "'a' must be > 0"]),
    ("missing_key", '[params]\ncapability_start = { dist = "normal", mean = 9 }\n',
     ["capability_start", "needs sd"]),
    ("extra_key", '[params]\ncapability_start = { dist = "normal", mean = 9, sd = 1, scale = 2 }\n',
     ["capability_start", "unknown key(s) scale"]),
    ("mixture_weights_sum", '[params]\ncapability_start = { dist = "mixture", components = [1, 2], '
     "weights = [0.5, 0.6] }\n", ["capability_start", "sum to 1", "1.1"]),
    ("mixture_weight_negative", '[params]\ncapability_start = { dist = "mixture", components = [1, 2], '
     "weights = [1.5, -0.5] }\n", ["capability_start", "> 0"]),
    ("mixture_weight_count", '[params]\ncapability_start = { dist = "mixture", components = [1, 2], '
     "weights = [1.0] }\n", ["capability_start", "one weight per component"]),
    ("mixture_of_mixture", '[params]\ncapability_start = { dist = "mixture", weights = [0.5, 0.5], components = '
     '[1, { dist = "mixture", components = [1], weights = [1] }] }\n', ["capability_start", "cannot itself be a mixture"]),
    ("normal_allows_negative_size", '[params]\nsize_hardware = { dist = "normal", mean = 1, sd = 1 }\n',
     ["size_hardware", "outside the allowed range", "[0, inf)", "min/max"]),
    ("uniform_allows_c0_above_one", '[params]\nc0 = { dist = "uniform", lo = 0.5, hi = 1.5 }\n',
     ["'c0'", "outside the allowed range", "(0, 1]"]),
    ("point_zero_delay", "[params]\ndelay_software = 0\n",
     ["delay_software", "value 0 is not allowed", "(0, inf)"]),
    ("point_c0_above_one", "[params]\nc0 = 1.5\n", ["'c0'", "1.5", "(0, 1]"]),
    ("mixture_point_outside", '[params]\nsize_hardware = { dist = "mixture", components = [3, -1], '
     "weights = [0.5, 0.5] }\n", ["size_hardware", "outside the allowed range", "[0, inf)"]),
    ("truncation_min_ge_max", '[params]\ncapability_start = { dist = "normal", mean = 0, sd = 1, min = 2, max = 1 }\n',
     ["capability_start", "min < max"]),
    ("truncation_keeps_nothing", '[params]\ncapability_start = { dist = "normal", mean = 0, sd = 1, min = 10 }\n',
     ["capability_start", "keeps only"]),
    ("truncated_point", '[params]\ncapability_start = { dist = "point", value = 3, min = 0 }\n',
     ["capability_start", "min"]),
    ("string_value", '[params]\nsize_hardware = "nine"\n', ["size_hardware", "'nine'"]),
    ("string_field", '[params]\nsize_hardware = { dist = "normal", mean = "9", sd = 1 }\n',
     ["size_hardware", "'mean' must be a number", "'9'"]),
    ("boolean_value", "[params]\nsize_hardware = true\n", ["size_hardware", "True"]),
    ("boolean_field", '[params]\nsize_hardware = { dist = "normal", mean = 9, sd = true }\n',
     ["size_hardware", "'sd' must be a number", "True"]),
    ("nan_value", "[params]\ncapability_start = nan\n", ["capability_start", "finite"]),
    ("inf_field", '[params]\ncapability_start = { dist = "normal", mean = inf, sd = 1 }\n',
     ["capability_start", "finite"]),
    ("wrong_model", 'model = "caps"\n[params]\nsize_hardware = 9\n', ["<priors text>", "'caps'", "'takeoff'"]),
    ("invalid_toml", '[params]\nsize_hardware = { dist = "normal", mean = 9\n', ["<priors text>", "not valid TOML"]),
    ("params_not_table", "params = 3\n", ["<priors text>", "[params]"]),
    ("switch_half", "[params]\nasymmetry = 0.5\n", ["asymmetry", "switch", "one of 0, 1"]),
    ("switch_distribution", '[params]\nasymmetry = { dist = "uniform", lo = 0, hi = 1 }\n',
     ["asymmetry", "switch", "one of 0, 1"]),
    ("pause_end_before_start", "[params]\nsoftware_pause_start = 2030\nsoftware_pause_end = 2025\n",
     ["software_pause_end", "software_pause_start", "2025", "2030"]),
    ("pause_end_below_default_start", "[params]\nsoftware_pause_end = 2021\n",
     ["software_pause_end", "software_pause_start"]),
    ("pause_overlapping_priors", '[params]\nsoftware_pause_start = { dist = "uniform", lo = 2025, hi = 2030 }\n'
     'software_pause_end = { dist = "uniform", lo = 2028, hi = 2035 }\n',
     ["software_pause_end", "software_pause_start"]),
    ("correlation_not_positive_definite",
     '[params]\ncapability_start = { dist = "normal", mean = 24, sd = 1 }\n'
     '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = 0.9\n'
     '[[correlations]]\nparams = ["size_hardware", "capability_start"]\nrank = 0.9\n'
     '[[correlations]]\nparams = ["size_software", "capability_start"]\nrank = -0.9\n',
     ["<priors text>", "positive-definite"]),
    ("correlation_rank_one", '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = 1\n',
     ["<priors text>", "(-1, 1)"]),
    ("correlation_rank_below", '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = -1.5\n',
     ["<priors text>", "(-1, 1)", "-1.5"]),
    ("correlation_rank_string", '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = "0.5"\n',
     ["<priors text>", "'rank' must be a number"]),
    ("correlation_rank_bool", '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = true\n',
     ["<priors text>", "'rank' must be a number"]),
    ("correlation_unknown_param", '[[correlations]]\nparams = ["size_hardware", "size_sofware"]\nrank = 0.5\n',
     ["<priors text>", "size_sofware"]),
    ("correlation_same_param", '[[correlations]]\nparams = ["size_hardware", "size_hardware"]\nrank = 0.5\n',
     ["<priors text>", "two different parameters"]),
    ("correlation_missing_rank", '[[correlations]]\nparams = ["size_hardware", "size_software"]\n',
     ["<priors text>", "rank"]),
    ("correlations_not_tables", "correlations = 3\n", ["<priors text>", "correlations"]),
    ("skewed_unordered", '[params]\nc0 = { dist = "skewed_loguniform", lo = 0.01, median = 0.001, hi = 0.1 }\n',
     ["c0", "lo < median < hi", "0.001"]),
    ("skewed_transform", '[params]\nc0 = { dist = "skewed_loguniform", lo = 0.001, median = 0.01, hi = 0.1, '
     'transform = "log" }\n', ["c0", "'log'", "pos, neg, frac, inv_frac"]),
    ("skewed_frac_domain", '[params]\nc1_over_c0 = { dist = "skewed_loguniform", lo = 0.5, median = 2, hi = 3, '
     'transform = "frac" }\n', ["c1_over_c0", "0 < lo, hi < 1"]),
    ("skewed_neg_domain", '[params]\ninvestment_base = { dist = "skewed_loguniform", lo = -1, median = 1, hi = 2, '
     'transform = "neg" }\n', ["investment_base", "hi < 0"]),
    ("skewed_inv_frac_domain", '[params]\nc1_over_c0 = { dist = "skewed_loguniform", lo = 1, median = 2, hi = 3, '
     'transform = "inv_frac" }\n', ["c1_over_c0", "lo > 1"]),
    ("skewed_outside_range", '[params]\nc0 = { dist = "skewed_loguniform", lo = 0.5, median = 2, hi = 3 }\n',
     ["c0", "outside the allowed range", "(0, 1]"]),
    ("skewed_missing_median", '[params]\nc0 = { dist = "skewed_loguniform", lo = 0.1, hi = 0.3 }\n',
     ["c0", "needs median"]),
    ("integer_beyond_float_range", "[params]\nsize_hardware = " + "9" * 401 + "\n",
     ["size_hardware", "'value'", "beyond the float range"]),
    ("integer_beyond_float_range_in_a_field", '[params]\ncapability_start = { dist = "normal", mean = 1'
     + "0" * 400 + ", sd = 1 }\n", ["capability_start", "'mean'", "beyond the float range"]),
    ("uniform_overflows", '[params]\ncapability_start = { dist = "uniform", lo = -1e308, hi = 1e308 }\n',
     ["capability_start", "overflow"]),
    ("normal_interval_overflows", '[params]\ncapability_start = { dist = "normal", lo = 1e308, hi = 1.7e308 }\n',
     ["capability_start", "overflow"]),
    ("normal_sd_overflows", '[params]\ncapability_start = { dist = "normal", mean = 0, sd = 1e308 }\n',
     ["capability_start", "overflow"]),
    ("lognormal_overflows", '[params]\nsize_hardware = { dist = "lognormal", lo = 1e300, hi = 1e307 }\n',
     ["size_hardware", "overflow"]),
    ("correlation_pair_twice", '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = 0.8\n'
     '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = -0.8\n',
     ["correlation 2", "size_hardware", "size_software", "correlation 1"]),
    ("correlation_pair_twice_reversed", '[[correlations]]\nparams = ["size_hardware", "size_software"]\n'
     'rank = 0.5\n[[correlations]]\nparams = ["size_software", "size_hardware"]\nrank = 0.5\n',
     ["correlation 2", "size_hardware", "size_software", "correlation 1"]),
]


@pytest.mark.parametrize(("text", "needles"), [pytest.param(t, n, id=i) for i, t, n in ERRORS])
def test_validation_error(text, needles):
    with pytest.raises(PriorsError) as info:
        load_priors(TAKEOFF, text=text)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_error_names_the_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("[params]\nsize_hardware = -2\n", encoding="utf-8")
    with pytest.raises(PriorsError, match=r"mine\.toml: parameter 'size_hardware'.*\[0, inf\)"):
        load_priors(TAKEOFF, path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('model = "takeoff"\n# d\xe9lai\n[params]\nsize_hardware = 9\n'.encode("latin-1"))
    with pytest.raises(PriorsError) as info:
        load_priors(TAKEOFF, path)
    assert str(path) in str(info.value) and "UTF-8" in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.toml"
    with pytest.raises(PriorsError) as info:
        load_priors(TAKEOFF, path)
    assert str(path) in str(info.value) and "not found, nor a shipped scenario" in str(info.value)
    with pytest.raises(PriorsError, match=f"{tmp_path}: cannot read"):  # there, but not a file
        load_priors(TAKEOFF, tmp_path)


@pytest.mark.parametrize("spec", [
    '{ dist = "normal", mean = 1, sd = 1, min = 0 }',
    '{ dist = "normal", mean = 1, sd = 1, min = 0, max = 20 }',
    '{ dist = "uniform", lo = 0, hi = 20 }',
])
def test_truncation_makes_prior_acceptable(spec):
    priors = load_param("size_hardware", spec)
    x = sample64("size_hardware", spec)
    assert "size_hardware" in priors.random_names
    assert x.min() >= 0


def test_accepted_edge_cases():
    # A switch may be a mixture of its allowed values; a pause window with end = start's upper end.
    priors = load_text('[params]\nasymmetry = { dist = "mixture", components = [0, 1], weights = [0.3, 0.7] }\n'
                       'software_pause_start = { dist = "uniform", lo = 2025, hi = 2030 }\n'
                       "software_pause_end = 2030\n")
    assert {"asymmetry", "software_pause_start"} <= set(priors.random_names)
    u = jnp.asarray(uniform_points(SMALL_N, priors.dimension, seed=5), jnp.float32)
    values = priors.transform(u)
    assert np.all(np.asarray(values["software_pause_end"]) >= np.asarray(values["software_pause_start"]))


DOCUMENTED_PRIORS_EXAMPLE = """\
model = "takeoff"
[params]
size_software = 12                                      # a point value
size_hardware = { dist = "normal", mean = 9, sd = 1 }
delay_software = { dist = "lognormal", lo = 0.5, hi = 4 }  # 90% interval
c0 = { dist = "loguniform", lo = 0.002, hi = 0.006 }
[[correlations]]
params = ["size_hardware", "size_software"]
rank = 0.5
"""


def test_the_documented_priors_example_loads(tmp_path):
    # The priors file format in the README: "at least this form must work".
    path = tmp_path / "example.toml"
    path.write_text(DOCUMENTED_PRIORS_EXAMPLE, encoding="utf-8")
    # The example correlates size_software, which it sets to a point: loaded, with a warning.
    with pytest.warns(overhang_jax.PriorsWarning, match="size_software"):
        priors = load_priors(TAKEOFF, path)
    assert priors.correlations == ()
    d = priors.distributions
    assert d["size_software"].is_point
    assert d["size_hardware"] == load_param("size_hardware", '{ dist = "normal", mean = 9, sd = 1 }'
                                            ).distributions["size_hardware"]
    np.testing.assert_allclose(jax_ppf64(d["delay_software"], np.array([0.05, 0.95])), [0.5, 4], rtol=1e-12)
    np.testing.assert_allclose(jax_ppf64(d["c0"], np.array([0.0, 1.0])), [0.002, 0.006], rtol=1e-12)


@pytest.mark.parametrize("model", [TAKEOFF, TRAJECTORY, INFERENCE], ids=lambda m: m.name)
def test_shipped_defaults_and_scenarios_load(model):
    defaults = load_priors(model)
    assert list(defaults.distributions) == list(model.parameter_names)
    for param in model.parameters:
        dist = defaults.distributions[param.name]
        assert dist.mass_outside(param) <= 1e-12, param.name
    scenarios = [p for p in sorted((PKG_DIR / "scenarios").glob("*.toml"))
                 if tomllib.loads(p.read_text())["model"] == model.name]
    assert scenarios or model is INFERENCE
    for path in scenarios:
        load_priors(model, path)


# --------------------------------------------------------------------------
# 5. Merging with the shipped defaults; to_toml round trip


def test_file_keeps_defaults_for_other_parameters():
    defaults = load_priors(TAKEOFF)
    priors = load_text('model = "takeoff"\n[params]\nsize_hardware = { dist = "normal", mean = 9, sd = 1 }\n')
    assert priors.source == "<priors text>"
    assert list(priors.distributions) == list(TAKEOFF.parameter_names)
    for name in TAKEOFF.parameter_names:
        if name == "size_hardware":
            assert priors.distributions[name] != defaults.distributions[name]
            np.testing.assert_allclose(jax_ppf64(priors.distributions[name], U_GRID),
                                       scipy.stats.norm(9, 1).ppf(U_GRID), rtol=1e-12)
        else:
            assert priors.distributions[name] == defaults.distributions[name], name
    assert priors.random_names == defaults.random_names
    # An empty file is the defaults.
    assert load_text("").distributions == defaults.distributions


ROUND_TRIP_TEXT = """\
model = "takeoff"
description = "every kind of distribution"
[params]
size_investment = { dist = "uniform", lo = 1, hi = 6 }
size_hardware = { dist = "normal", mean = 9, sd = 1, min = 0 }
size_software = { dist = "normal", lo = 9, hi = 15, min = 0, max = 30 }
delay_investment = { dist = "loguniform", lo = 3, hi = 30 }
delay_hardware = { dist = "lognormal", lo = 5, hi = 20, max = 40 }
c0 = { dist = "beta", a = 2, b = 300 }
capability_start = { dist = "beta", a = 2, b = 3, lo = 23, hi = 25 }
takeoff_threshold = { dist = "mixture", components = [{ dist = "normal", mean = 35, sd = 1 }, 38, { dist = "point", value = 33 }], weights = [0.5, 0.3, 0.2] }
asymmetry = { dist = "mixture", components = [0, 1], weights = [0.4, 0.6] }
scaffolding_factor = { dist = "mixture", components = [0.5], weights = [1] }
step_years = 0.1
delay_software = { dist = "skewed_loguniform", lo = 0.3, median = 1.0, hi = 6.0, transform = "pos" }
c1_over_c0 = { dist = "skewed_loguniform", lo = 1.5, median = 10.0, hi = 300.0, transform = "inv_frac", max = 200.0 }
[[correlations]]
params = ["size_hardware", "size_software"]
rank = 0.5
[[correlations]]
params = ["delay_hardware", "delay_investment"]
rank = -0.25
"""


@pytest.mark.parametrize("text", [None, ROUND_TRIP_TEXT], ids=["defaults", "every_kind"])
def test_to_toml_round_trip(text):
    priors = load_priors(TAKEOFF) if text is None else load_text(text)
    again = load_priors(TAKEOFF, text=priors.to_toml())
    assert again.distributions == priors.distributions
    assert {frozenset((c.first, c.second)): c.rank for c in again.correlations} == \
        {frozenset((c.first, c.second)): c.rank for c in priors.correlations}
    assert again.to_toml() == priors.to_toml()
    assert again.random_names == priors.random_names
    if text is None:
        u = jnp.asarray(uniform_points(SMALL_N, priors.dimension, seed=6), jnp.float32)
        first, second = priors.transform(u), again.transform(u)
        for name in TAKEOFF.parameter_names:
            np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_round_trip_text_is_what_was_asked():
    priors = load_text(ROUND_TRIP_TEXT)
    assert priors.text == ROUND_TRIP_TEXT
    assert len(priors.correlations) == 2
    assert priors.distributions["scaffolding_factor"].is_point  # a one-point mixture is a point
    assert "scaffolding_factor" not in priors.random_names


# --------------------------------------------------------------------------
# 6. Samplers


@pytest.mark.parametrize("seed", [0, 12345])
def test_sobol_chunk_invariance(seed):
    draws, dim = 1000, 6
    sampler = Sampler("sobol", seed, tuple(range(dim)), draws)
    whole = sampler.host_part(0, draws)
    assert whole.shape == (draws, dim)
    assert np.all((whole > 0) & (whole < 1))
    for start, count in [(0, 100), (100, 156), (256, 1), (257, 300), (37, 500), (900, 100)]:
        np.testing.assert_array_equal(sampler.host_part(start, count), whole[start:start + count])
    # Sobol balance: each coordinate's 512 first points fill 512 equal bins once each.
    for j in range(dim):
        assert np.array_equal(np.sort(np.floor(whole[:512, j] * 512)), np.arange(512))
    # unit_points is the host row in the requested dtype.
    with jax.enable_x64(True):
        point = Sampler("sobol", seed, tuple(range(dim)), draws).unit_points(Sampler("mc", 0, (), 1).key(), jnp.int32(3),
                                                                jnp.asarray(whole[3]), jnp.float64)
        np.testing.assert_array_equal(np.asarray(point), whole[3])
    other = Sampler("sobol", seed + 1, tuple(range(dim)), draws).host_part(0, 10)
    assert not np.array_equal(other, whole[:10])


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_lhs_strata(dtype):
    draws, dim = 500, 4
    sampler = Sampler("lhs", 7, tuple(range(dim)), draws)
    host = sampler.host_part(0, draws)
    assert host.shape == (draws, dim)
    for j in range(dim):
        assert np.array_equal(np.sort(host[:, j]), np.arange(draws))
    # Chunks of the host part are slices of the whole, padded with zeros past the end.
    parts = [sampler.host_part(start, 128) for start in range(0, draws, 128)]
    np.testing.assert_array_equal(np.concatenate(parts)[:draws], host)
    assert np.all(np.concatenate(parts)[draws:] == 0)
    key = Sampler("mc", 11, (), 1).key()
    with jax.enable_x64(dtype == jnp.float64):
        f = jax.jit(jax.vmap(lambda i, h: sampler.unit_points(key, i, h, dtype)))
        points = np.asarray(f(jnp.arange(draws, dtype=jnp.int32), jnp.asarray(host)))
    assert points.dtype == np.dtype(dtype)
    assert np.all((points > 0) & (points < 1))
    lower, upper = host / draws, (host + 1) / draws
    if dtype == jnp.float64:
        # Draw i lands in stratum host[i] of each dimension, so every dimension
        # has exactly one point per stratum.
        assert np.all((points >= lower) & (points < upper))
        assert np.array_equal(np.floor(points * draws).astype(int), host)
        for j in range(dim):
            assert np.all(np.bincount(np.floor(points[:, j] * draws).astype(int), minlength=draws) == 1)
    else:  # float32: (host + uniform) / draws is only exact to an ulp at the stratum edges
        eps = float(np.finfo(np.float32).eps)
        assert np.all((points >= lower - eps) & (points <= upper + eps))


@pytest.mark.parametrize("kind", ["mc", "lhs"])
def test_unit_points_same_alone_or_batched(kind):
    draws, dim = 256, 5
    sampler = Sampler(kind, 3, tuple(range(dim)), draws)
    host = jnp.asarray(sampler.host_part(0, draws))
    key = Sampler("mc", 3, (), 1).key()
    index = jnp.arange(draws, dtype=jnp.int32)
    batched = np.asarray(jax.jit(jax.vmap(lambda i, h: sampler.unit_points(key, i, h, jnp.float32)))(index, host))
    assert batched.shape == (draws, dim)
    assert np.all((batched > 0) & (batched < 1))
    # The runner calls it on a whole batch at once: the same points.
    flat = np.asarray(jax.jit(lambda i, h: sampler.unit_points(key, i, h, jnp.float32))(index, host))
    np.testing.assert_array_equal(flat, batched)
    for i in (0, 1, 77, 255):
        alone = np.asarray(sampler.unit_points(key, jnp.int32(i), host[i], jnp.float32))
        np.testing.assert_array_equal(alone, batched[i])
    # A batch starting elsewhere (another chunk) gives the same points for the same indices.
    tail = np.asarray(jax.vmap(lambda i, h: sampler.unit_points(key, i, h, jnp.float32))(index[100:164], host[100:164]))
    np.testing.assert_array_equal(tail, batched[100:164])
    if kind == "mc":
        assert len(np.unique(batched[:, 0])) == draws  # different draws, different points
        # Uniform marginals.
        assert scipy.stats.kstest(batched.ravel(), "uniform").pvalue > KS_MIN_P
        assert sampler.host_part(0, 10).shape == (10, 0)


def test_unknown_sampler():
    with pytest.raises(ValueError, match="unknown sampler 'halton'.*mc, sobol, lhs"):
        Sampler("halton", 0, (0, 1, 2), 10)
    with pytest.raises(overhang_jax.RunError, match="unknown sampler 'halton'.*mc, sobol, lhs"):
        overhang_jax.run("takeoff", draws=10, seed=0, sampler="halton")


def test_sampler_dimension_matches_priors():
    priors = load_priors(TAKEOFF)
    sampler = Sampler("sobol", 0, tuple(range(priors.dimension)), SMALL_N)
    u = jnp.asarray(sampler.host_part(0, SMALL_N), jnp.float32)
    values = priors.transform(u)
    assert all(v.shape == (SMALL_N,) for v in values.values())


def test_correlation_with_a_point_warns_and_has_no_effect():
    # The priors example correlates a parameter it sets to a point: that
    # loads, with a warning, and the draws are those without the correlation.
    text = '[[correlations]]\nparams = ["size_hardware", "capability_start"]\nrank = 0.3\n'
    with pytest.warns(overhang_jax.PriorsWarning, match="capability_start.*point value.*no effect"):
        priors = load_text(text)
    assert priors.correlations == ()
    assert priors.to_toml() == load_text("").to_toml()


@pytest.mark.parametrize("name,spec", [
    ("size_hardware", "1e39"),
    ("size_hardware", '{ dist = "loguniform", lo = 1, hi = 1e39 }'),
    ("capability_start", '{ dist = "uniform", lo = -3e38, hi = 3e38 }'),  # values fit, hi - lo does not
    ("size_hardware", '{ dist = "mixture", components = [1, 1e39, 2], weights = [0.45, 0.1, 0.45] }'),
])
def test_values_beyond_float32_are_refused_in_a_float32_run_only(name, spec):
    priors = load_priors(TAKEOFF, text=f"[params]\n{name} = {spec}\n")  # fine in float64
    with pytest.raises(PriorsError, match=rf"'{name}'.*float32.*--float64"):
        overhang_jax.run("takeoff", priors, draws=16, seed=0)
    results = overhang_jax.run("takeoff", priors, draws=16, seed=0, float64=True)
    assert np.all(np.isfinite(overhang_jax.parameters(results)[name].values))


@pytest.mark.parametrize("spec,field", [
    ("1e-50", "value 1e-50"),
    ('{ dist = "loguniform", lo = 1e-50, hi = 0.1 }', "lo 1e-50"),
    ('{ dist = "uniform", lo = 0.01, hi = 0.1, min = 1e-45 }', "min 1e-45"),  # a bound (float32 subnormal)
    ('{ dist = "mixture", components = [0.1, 1e-40], weights = [0.5, 0.5] }', "component 2's value 1e-40"),
])
def test_values_that_vanish_in_float32_are_refused_like_overflow(spec, field):
    # c0 = 1e-50 rounded to 0 in float32 and every output came out NaN, with no word about c0.
    priors = load_priors(TAKEOFF, text=f"[params]\nc0 = {spec}\n")
    with pytest.raises(PriorsError, match=rf"parameter 'c0': {field} is below the smallest normal float32.*--float64"):
        overhang_jax.run("takeoff", priors, draws=16, seed=0)
    # float64 holds these values (the model's outputs at such a c0 are another matter: often not finite).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", overhang_jax.NonfiniteWarning)
        results = overhang_jax.run("takeoff", priors, draws=16, seed=0, float64=True)
    assert np.all(overhang_jax.parameters(results)["c0"].values > 0)


def test_the_largest_float32_values_still_run_in_float32():
    priors = load_priors(TAKEOFF, text='[params]\nsize_hardware = { dist = "uniform", lo = 0, hi = 3e38 }\n')
    results = overhang_jax.run("takeoff", priors, draws=64, seed=0)
    assert np.all(np.isfinite(results["prior"]["size_hardware"].values))


def test_with_point_is_the_priors_file_with_that_line():
    text = ('[params]\nsize_hardware = { dist = "normal", mean = 9, sd = 1, min = 0 }\n'
            '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = 0.5\n'
            '[[correlations]]\nparams = ["c0", "size_software"]\nrank = 0.3\n')
    priors = load_priors(TAKEOFF, text=text)
    fixed = priors.with_point("size_hardware", 7.5)
    written = load_priors(TAKEOFF, text=(
        '[params]\nsize_hardware = 7.5\n[[correlations]]\nparams = ["c0", "size_software"]\nrank = 0.3\n'))
    assert fixed.to_toml() == written.to_toml()
    assert [(c.first, c.second) for c in fixed.correlations] == [("c0", "size_software")]  # its own one dropped
    assert not priors.distributions["size_hardware"].is_point  # the original is unchanged
    with pytest.raises(PriorsError, match="parameter 'size_hardware': value -1 is not allowed; must be in"):
        priors.with_point("size_hardware", -1)
    with pytest.raises(PriorsError, match="unknown parameter 'size_hardwar' .*did you mean 'size_hardware'"):
        priors.with_point("size_hardwar", 1)
    with pytest.raises(PriorsError, match="'software_pause_end' must be >= 'software_pause_start'"):
        load_priors(TAKEOFF, text="[params]\nsoftware_pause_start = 2025\nsoftware_pause_end = 2030\n").with_point(
            "software_pause_end", 2020)
