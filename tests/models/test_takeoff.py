"""The takeoff model against an independent plain-Python reference.

``takeoff_reference`` below is written from the equations (T1)-(T10) of
docs/takeoff.md, which the docstring of ``overhang_jax/models/_takeoff.py`` repeats
(not from the JAX code): it steps n = 0, 1, ... with Python floats (float64).

What is compared with it, draw by draw, in both methods ("closed_form" and
"stepped", float64):
* runner runs of the shipped default priors and of a "mixed" priors file that
  has every scenario as mixture components (asymmetry, pauses, 3x / 25x
  investment, pool growth, scaffolding) plus clipped rates, short horizons and
  pools too small to reach the threshold;
* scenario variations written as priors text (point values only), evaluated
  on the defaults' draws by one jitted vmap per method (checked to be exactly
  what the runner draws and returns for them);
* deterministic sweeps around the reference case that hit the grid's edges.
Then the two methods with each other on every draw, float32 with float64, and
properties that follow from the model (pauses, faster investment, growing
pools, asymmetry, scaffolding, pools that cannot reach the threshold).

Compilation dominates the run time (the runner compiles once per priors/
method/dtype/seed/draws), so every run is made once and cached for the module.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.models import _takeoff
from overhang_jax.engine._run import run

OUTPUTS = oj.TAKEOFF.output_names
STEP_OUTPUTS = ("takeoff_year", "max_speed_year", "takeoff_duration")
FLAG_OUTPUTS = ("rate_clipped",)
CONTINUOUS_OUTPUTS = tuple(name for name in OUTPUTS if name not in STEP_OUTPUTS + FLAG_OUTPUTS)
TAKEOFF_ONLY_OUTPUTS = ("speed_at_start", "max_speed", "remaining_investment", "remaining_hardware",
                        "remaining_software", "asymmetry_multiplier")
POOLS = ("investment", "hardware", "software")
RTOL64 = 1e-9


# --------------------------------------------------------------------------
# The reference: one draw, every step, plain Python floats.


def takeoff_reference(params: dict[str, float]) -> dict[str, float]:
    """One draw of the takeoff model, written from (T1)-(T10) of docs/takeoff.md."""
    p = {name: float(value) for name, value in params.items()}
    t0, dt = p["start_year"], p["step_years"]
    last = math.floor(p["horizon_years"] / dt + 1e-3)  # N, the last step simulated
    tenths = dt / 0.1  # c0 and c1 are rates per tenth of a year

    def kept(rate):  # share of a pool kept over one step: the rate's decay compounded over the step
        return (1.0 - min(1.0, rate)) ** tenths

    def grid_step(year):
        # A year snapped to the step grid: the first step k at or after it.
        return math.ceil((year - t0) / dt - 1e-3)

    pause_first, pause_stop = grid_step(p["software_pause_start"]), grid_step(p["software_pause_end"])

    def sizes(n):
        return [p["size_investment"] + p["investment_pool_growth"] * n * dt, p["size_hardware"],
                p["size_software"]]

    def year(n):
        return t0 + n * dt

    # Pre-takeoff: R_i(n+1) = R_i(n) (1 - min(1, c0 m_i(n))) ** (dt / 0.1), until K_n >= K_star.
    multipliers = [p["pre_multiplier_investment"], p["pre_multiplier_hardware"], p["pre_multiplier_software"]]
    remaining = [1.0, 1.0, 1.0]
    takeoff = None
    clipped = False  # a rate of 1 or more per tenth of a year in a step whose result is used
    for n in range(last + 1):
        s = sizes(n)
        k = p["capability_start"] + sum(s[i] * (1.0 - remaining[i]) for i in range(3))
        if k >= p["takeoff_threshold"]:
            takeoff = n
            break
        if n == last:
            break
        m = list(multipliers)
        if pause_first <= n < pause_stop:
            m[2] = 0.0
        clipped |= any(p["c0"] * mi >= 1 and mi > 0 for mi in m)
        remaining = [remaining[i] * kept(p["c0"] * m[i]) for i in range(3)]

    nan, inf = math.nan, math.inf
    if takeoff is None:
        return {"takeoff_year": inf, "speed_at_start": nan, "max_speed": nan, "max_speed_year": inf,
                "takeoff_duration": inf, "remaining_investment": nan, "remaining_hardware": nan,
                "remaining_software": nan, "asymmetry_multiplier": nan, "rate_clipped": float(clipped)}

    s_start = sizes(takeoff)
    out = {f"remaining_{pool}": s_start[i] * remaining[i] for i, pool in enumerate(POOLS)}

    # Explosive phase: rates r_i = min(1, c1 / d_i * M_i), the asymmetry multiplier on software.
    c1 = p["c0"] * p["c1_over_c0"]
    delays = [p["delay_investment"], p["delay_hardware"], p["delay_software"]]
    assert p["asymmetry"] in (0.0, 1.0)
    exponent = p["asymmetry_scaling"] * p["asymmetry_returns"]
    max_speed, max_step, end = -inf, None, None
    for n in range(takeoff, last + 1):
        s = sizes(n)
        if n > takeoff and sum(s[i] * remaining[i] for i in range(3)) < p["end_remaining"]:
            end = n
            break
        if p["asymmetry"] == 1.0:
            log10_investment = p["investment_base"] + s[0] * (1.0 - remaining[0])
            multiplier = p["scaffolding_factor"] * p["c2"] * 10.0 ** (exponent * log10_investment)
        else:
            multiplier = 1.0
        rates = [c1 / delays[i] * (multiplier if i == 2 else 1.0) for i in range(3)]  # per tenth of a year
        clipped |= max(rates) >= 1
        shares = [1.0 - kept(r) for r in rates]  # consumed in this step
        # OOM given up over a tenth of a year at this step's rates, per year
        speed = sum(s[i] * remaining[i] * min(1.0, rates[i]) for i in range(3)) / 0.1
        if n == takeoff:
            out["speed_at_start"] = speed
            out["asymmetry_multiplier"] = multiplier
        if speed > max_speed:  # the first step the maximum is reached
            max_speed, max_step = speed, n
        remaining = [remaining[i] * (1.0 - shares[i]) for i in range(3)]

    out.update(takeoff_year=year(takeoff), max_speed=max_speed, max_speed_year=year(max_step),
               takeoff_duration=inf if end is None else (end - takeoff) * dt, rate_clipped=float(clipped))
    return out


# --------------------------------------------------------------------------
# Priors variations and cached runs.
#
# Runner runs compile once per (priors, method, dtype, seed, draws), and a
# compile costs seconds, so: the shipped defaults and a "mixed" priors file
# (every scenario as mixture components, plus clipped rates, short horizons,
# tiny pools) go through the runner in both methods; the point-value
# scenario variations reuse the defaults' draws with the changed point values
# put in (exactly what the runner draws for them: point values take no
# coordinate of the unit hypercube, checked in test_runner_draws_variations_
# as_paired_draws) and are evaluated by one jitted vmap of each method.

SEED = 20240611
DRAWS = 300
MIXED_DRAWS = 2000
REFERENCE_DRAWS = 300

MIXED = """
asymmetry = { dist = "mixture", components = [{ dist = "point", value = 0 }, { dist = "point", value = 1 }], weights = [0.5, 0.5] }
scaffolding_factor = { dist = "mixture", components = [{ dist = "point", value = 1 }, { dist = "point", value = 0.3 }, { dist = "loguniform", lo = 0.1, hi = 1 }], weights = [0.4, 0.3, 0.3] }
pre_multiplier_investment = { dist = "mixture", components = [{ dist = "point", value = 1 }, { dist = "point", value = 3 }, { dist = "point", value = 25 }], weights = [0.4, 0.3, 0.3] }
pre_multiplier_hardware = { dist = "mixture", components = [{ dist = "point", value = 1 }, { dist = "uniform", lo = 100, hi = 300 }], weights = [0.8, 0.2] }
pre_multiplier_software = { dist = "mixture", components = [{ dist = "point", value = 1 }, { dist = "uniform", lo = 0, hi = 2 }], weights = [0.7, 0.3] }
investment_pool_growth = { dist = "mixture", components = [{ dist = "point", value = 0 }, { dist = "point", value = 0.15 }], weights = [0.5, 0.5] }
investment_base = { dist = "mixture", components = [{ dist = "point", value = 4 }, { dist = "point", value = 0 }], weights = [0.5, 0.5] }
asymmetry_scaling = { dist = "mixture", components = [{ dist = "point", value = 0.5 }, { dist = "uniform", lo = 0.5, hi = 1 }], weights = [0.5, 0.5] }
software_pause_start = { dist = "mixture", components = [{ dist = "point", value = 2025 }, { dist = "uniform", lo = 2022, hi = 2028 }], weights = [0.5, 0.5] }
software_pause_end = { dist = "mixture", components = [{ dist = "point", value = 2030 }, { dist = "uniform", lo = 2028, hi = 2040 }], weights = [0.5, 0.5] }
c1_over_c0 = { dist = "loguniform", lo = 10, hi = 3000 }
takeoff_threshold = { dist = "normal", lo = 33, hi = 40 }
size_software = { dist = "mixture", components = [{ dist = "point", value = 0.5 }, { dist = "normal", lo = 9, hi = 15, min = 0 }], weights = [0.1, 0.9] }
horizon_years = { dist = "mixture", components = [{ dist = "point", value = 300 }, { dist = "point", value = 20 }, { dist = "uniform", lo = 15, hi = 40 }], weights = [0.5, 0.25, 0.25] }
"""

# Point-value changes to the shipped defaults, as a user writes them.
VARIATIONS = {
    "defaults": "",
    "asymmetry": "asymmetry = 1",
    "software_pause": "software_pause_start = 2025\nsoftware_pause_end = 2030",
    "investment_3x": "pre_multiplier_investment = 3",
    "growing_investment": "investment_pool_growth = 0.15",
    "scaffolding": "asymmetry = 1\nscaffolding_factor = 0.3",
    "asymmetry_3x_growing": "asymmetry = 1\npre_multiplier_investment = 3\ninvestment_pool_growth = 0.15",
    # A multiplier small at takeoff that grows fast: the speed peaks after takeoff.
    "asymmetry_rising": ("asymmetry = 1\nasymmetry_scaling = 1\nasymmetry_returns = 1\ninvestment_base = 0\n"
                         "scaffolding_factor = 0.1"),
    # A pause window that opens before start_year (2020-2026: steps 0..39 paused),
    # and the same window on the simulated grid.
    "pause_from_2020": "software_pause_start = 2020\nsoftware_pause_end = 2026",
    "pause_from_2022": "software_pause_start = 2022\nsoftware_pause_end = 2026",
}
METHODS = ("closed_form", "stepped")
RUNS = ("defaults", "mixed")


@functools.cache
def priors(name: str) -> oj.Priors:
    text = MIXED if name == "mixed" else VARIATIONS[name]
    if not text:
        return oj.load_priors(oj.TAKEOFF)
    return oj.load_priors(oj.TAKEOFF, text=f'model = "takeoff"\n[params]\n{text}\n')


@functools.cache
def run_of(name: str, method: str, float64: bool = True):
    """(parameters, outputs, results) of one cached runner run; arrays by name."""
    draws = MIXED_DRAWS if name == "mixed" else DRAWS
    res = run("takeoff", priors(name), draws=draws, seed=SEED, float64=float64, method=method,
              chunk_size=min(draws, 512))
    params = {n: oj.parameters(res)[n].values for n in oj.TAKEOFF.parameter_names}
    outputs = {n: oj.outputs(res)[n].values for n in OUTPUTS}
    return params, outputs, res


@functools.cache
def variation_params(variation: str) -> dict[str, np.ndarray]:
    """The defaults' draws with the variation's point values put in."""
    params = dict(run_of("defaults", "closed_form")[0])
    base, varied = priors("defaults").distributions, priors(variation).distributions
    for name, dist in varied.items():
        if dist != base[name]:
            # Point for point: the unit hypercube, hence every other column, is unchanged.
            assert dist.is_point and base[name].is_point, name
            params[name] = np.full(DRAWS, dist.value, np.float64)
    return params


_JITTED = {}


def evaluate(method: str, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One jitted vmap of a method in float64 (compiled once per method for DRAWS draws)."""
    fn = _JITTED.setdefault(method, jax.jit(jax.vmap(oj.TAKEOFF.methods[method])))
    with jax.enable_x64(True):
        out = fn({n: jnp.asarray(v, jnp.float64) for n, v in params.items()})
        return {n: np.asarray(v) for n, v in out.items()}


@functools.cache
def variation_outputs(variation: str, method: str) -> dict[str, np.ndarray]:
    return evaluate(method, variation_params(variation))


_K = np.arange(DRAWS, dtype=np.float64)
# Deterministic sweeps of one or two parameters around the reference case, to
# hit the edges of the grid: takeoff at step 0 or at the last step, a horizon
# that ends mid-takeoff, pause boundaries on and off grid points and across
# the takeoff step, an end at the first step after takeoff, other step sizes.
SWEEPS = {
    "sweep_horizon": {"horizon_years": 15.0 + 0.05 * _K},
    "sweep_threshold": {"takeoff_threshold": (220.0 + _K) / 10},  # 24.0 exactly: K_0 >= K_star at step 0
    "sweep_pause": {"software_pause_start": 2022.0 + 0.06 * _K, "software_pause_end": 2025.33 + 0.06 * _K},
    "sweep_end_remaining": {"end_remaining": 10.0 ** (-3.0 + 4.5 * _K / DRAWS)},
    "sweep_step_years": {"step_years": 0.02 + 0.5 * _K / DRAWS, "software_pause_start": np.full(DRAWS, 2024.0),
                         "software_pause_end": np.full(DRAWS, 2031.0)},
    "sweep_growth_asymmetry": {"asymmetry": np.ones(DRAWS), "investment_pool_growth": 1.5 * _K / DRAWS,
                               "takeoff_threshold": 30.0 + 12.0 * (_K % 7) / 7},
    "sweep_multipliers": {"pre_multiplier_investment": 300.0 * (_K % 10) / 9, "pre_multiplier_hardware": _K % 3,
                          "pre_multiplier_software": (_K % 4) / 2, "c1_over_c0": 10.0 ** (1 + 3 * _K / DRAWS)},
}


@functools.cache
def sweep_params(name: str) -> dict[str, np.ndarray]:
    params = {n: np.full(DRAWS, v, np.float64) for n, v in oj.TAKEOFF.reference_draw().items()}
    params.update(SWEEPS[name])
    return params


def outputs_of(name: str, method: str):
    """(parameters, outputs) of a runner run, a variation or a sweep."""
    if name in RUNS:
        return run_of(name, method)[:2]
    if name in SWEEPS:
        return sweep_params(name), sweep_outputs(name, method)
    return variation_params(name), variation_outputs(name, method)


@functools.cache
def sweep_outputs(name: str, method: str) -> dict[str, np.ndarray]:
    return evaluate(method, sweep_params(name))


def draw(params: dict[str, np.ndarray], i: int) -> dict[str, float]:
    return {n: float(v[i]) for n, v in params.items()}


@functools.cache
def reference_of(name: str) -> dict[str, np.ndarray]:
    params, _ = outputs_of(name, "closed_form")
    n = min(REFERENCE_DRAWS, len(params["c0"]))
    refs = [takeoff_reference(draw(params, i)) for i in range(n)]
    return {name: np.array([r[name] for r in refs]) for name in OUTPUTS}


def steps_of(years: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """Grid step of a year output (+inf stays +inf)."""
    with np.errstate(invalid="ignore"):
        steps = (np.asarray(years, np.float64) - params["start_year"]) / params["step_years"]
    return np.where(np.isfinite(steps), np.round(steps), steps)


def horizon_steps(params) -> np.ndarray:
    return np.floor(params["horizon_years"] / params["step_years"] + 1e-3)


def describe(params, i, *outputs) -> str:
    shown = {n: float(params[n][i]) for n in params if np.unique(params[n]).size > 1}
    points = {n: float(params[n][i]) for n in params if np.unique(params[n]).size == 1 and
              params[n][i] != oj.TAKEOFF.parameter(n).default}
    parts = [f"draw {i}: params {shown}" + (f", point values {points}" if points else "")]
    for label, out in outputs:
        parts.append(f"  {label}: " + ", ".join(f"{n}={float(out[n][i])!r}" for n in OUTPUTS))
    return "\n".join(parts)


def mismatches(a: dict, b: dict, indices, rtol: float) -> dict[str, list[int]]:
    """Draws (among ``indices``) where step outputs differ or continuous outputs differ beyond rtol."""
    indices = np.asarray(indices)
    bad = {}
    for name in OUTPUTS:
        x, y = np.asarray(a[name], np.float64)[indices], np.asarray(b[name], np.float64)[indices]
        if name in FLAG_OUTPUTS:
            wrong = x != y
        elif name in STEP_OUTPUTS:  # the same grid step, the same +inf (and NaN) pattern
            # t0 + n dt up to its last bit: XLA fuses it into one FMA in vectorised loops only.
            with np.errstate(invalid="ignore"):
                wrong = ~((x == y) | (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-14, atol=0.0))
        else:  # NaN where the other is NaN, else within rtol
            with np.errstate(invalid="ignore"):
                wrong = ~np.isclose(x, y, rtol=rtol, atol=0.0, equal_nan=True)
        if wrong.any():
            bad[name] = [int(i) for i in indices[wrong]]
    return bad


def report(bad: dict[str, list[int]], params, labelled_outputs, limit: int = 3) -> str:
    lines = [f"{name}: {len(idx)} draws differ (first {idx[:8]})" for name, idx in bad.items()]
    first = sorted({i for idx in bad.values() for i in idx})[:limit]
    lines += [describe(params, i, *labelled_outputs) for i in first]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# 0. The reference itself, on numbers worked out by hand.


def test_reference_by_hand_reference_case():
    # All pools consumed at c0 per step: R(n) = (1 - c0)^n, K = 24 + 25 (1 - R) >= 36
    # first at n = ceil(ln(13/25) / ln(1 - c0)) = 177, i.e. 2039.7.
    p = oj.TAKEOFF.reference_draw()
    out = takeoff_reference(p)
    c0 = p["c0"]
    n = math.ceil(math.log(13 / 25) / math.log1p(-c0))
    assert n == 177
    assert out["takeoff_year"] == 2022 + 177 * 0.1
    r = (1 - c0) ** n
    rates = [c0 * 100 / 10, c0 * 100 / 10, c0 * 100 / 1]
    assert math.isclose(out["speed_at_start"], (4 * r * rates[0] + 9 * r * rates[1] + 12 * r * rates[2]) / 0.1,
                        rel_tol=1e-12)
    # Constant rates, shrinking pools: the fastest step is the first.
    assert out["max_speed"] == out["speed_at_start"] and out["max_speed_year"] == out["takeoff_year"]
    for size, pool in zip((4, 9, 12), POOLS):
        assert math.isclose(out[f"remaining_{pool}"], size * r, rel_tol=1e-12)
    assert out["asymmetry_multiplier"] == 1.0
    # End: first k >= 1 with 13 r 0.963^k + 12 r 0.63^k < 0.1.
    k = next(k for k in range(1, 10_000) if 13 * r * (1 - rates[0]) ** k + 12 * r * (1 - rates[2]) ** k < 0.1)
    assert math.isclose(out["takeoff_duration"], k * 0.1, rel_tol=1e-12)


def test_reference_by_hand_asymmetry_and_edge_cases():
    p = oj.TAKEOFF.reference_draw()
    on = takeoff_reference({**p, "asymmetry": 1.0})
    r = (1 - p["c0"]) ** 177
    # A_T = c2 * 10 ** ((I0 + S_inv (1 - R_inv)) / 4)
    assert math.isclose(on["asymmetry_multiplier"], (1 / 33) * 10 ** ((4 + 4 * (1 - r)) / 4), rel_tol=1e-12)
    assert on["takeoff_year"] == takeoff_reference(p)["takeoff_year"]
    # Threshold already met at step 0: takeoff in start_year.
    assert takeoff_reference({**p, "takeoff_threshold": 24.0})["takeoff_year"] == 2022.0
    # Unreachable threshold: +inf and NaN.
    never = takeoff_reference({**p, "takeoff_threshold": 50.0})
    assert never["takeoff_year"] == math.inf and math.isnan(never["max_speed"])
    # A horizon that ends mid-takeoff: a takeoff year but no end.
    cut = takeoff_reference({**p, "horizon_years": 18.0})
    assert cut["takeoff_year"] == 2039.7 and cut["takeoff_duration"] == math.inf
    assert cut["max_speed"] == cut["speed_at_start"]


# --------------------------------------------------------------------------
# 1. JAX vs reference.


def test_reference_case_stepped_jit_matches_reference():
    ref = takeoff_reference(oj.TAKEOFF.reference_draw())
    with jax.enable_x64(True):
        p = {n: jnp.asarray(v, jnp.float64) for n, v in oj.TAKEOFF.reference_draw().items()}
        out = jax.jit(_takeoff.takeoff_stepped)(p)
        got = {n: float(v) for n, v in out.items()}
        assert all(v.dtype == jnp.float64 for v in out.values())
    assert set(got) == set(OUTPUTS)
    assert got["takeoff_year"] == ref["takeoff_year"] == 2039.7
    for name in STEP_OUTPUTS:
        assert got[name] == ref[name], name
    for name in CONTINUOUS_OUTPUTS:
        assert math.isclose(got[name], ref[name], rel_tol=RTOL64), (name, got[name], ref[name])


ALL = (*RUNS, *(v for v in VARIATIONS if v != "defaults"), *SWEEPS)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ALL)
def test_jax_matches_reference(name, method):
    params, outputs = outputs_of(name, method)
    ref = reference_of(name)
    n = len(ref["takeoff_year"])
    bad = mismatches(outputs, ref, np.arange(n), RTOL64)
    assert not bad, f"{name}/{method} vs reference:\n" + report(
        bad, params, [(method, outputs), ("reference", ref)])
    # The comparison exercised what it should.
    took_off = np.isfinite(ref["takeoff_year"])
    assert took_off.sum() > n // 2
    if name in ("sweep_horizon", "sweep_threshold"):
        assert (~took_off).sum() > 10
    if name == "sweep_horizon":
        assert (took_off & ~np.isfinite(ref["takeoff_duration"])).sum() > 5
    if name == "sweep_threshold":
        assert (ref["takeoff_year"] == 2022.0).sum() > 5
    if name == "sweep_end_remaining":
        assert (ref["takeoff_duration"] == 0.1).sum() > 5
    peaks_later = ref["max_speed_year"][took_off] > ref["takeoff_year"][took_off]
    if name == "mixed":
        assert (~took_off).sum() >= 10  # short horizons and a tiny software pool
        assert (took_off & ~np.isfinite(ref["takeoff_duration"])).sum() >= 10  # horizon mid-takeoff
        assert peaks_later.sum() >= 5
    if name == "asymmetry_rising":
        assert peaks_later.mean() > 0.3


def test_runner_draws_variations_as_paired_draws():
    # A variation of point values through the runner: the same draws as the
    # defaults with those values put in, and the same outputs as the jitted vmap.
    params, outputs, _ = run_of("pause_from_2020", "closed_form")
    expected = variation_params("pause_from_2020")
    for name in oj.TAKEOFF.parameter_names:
        assert np.array_equal(params[name], expected[name]), name
    bad = mismatches(outputs, variation_outputs("pause_from_2020", "closed_form"), np.arange(DRAWS), 1e-12)
    assert not bad, bad
    # And the defaults through the runner match the jitted vmap, both methods.
    for method in METHODS:
        bad = mismatches(run_of("defaults", method)[1], evaluate(method, run_of("defaults", method)[0]),
                         np.arange(DRAWS), 1e-12)
        assert not bad, (method, bad)


# --------------------------------------------------------------------------
# 2. Stepped vs closed form, every draw.


@pytest.mark.parametrize("name", ALL)
def test_stepped_and_closed_form_agree_on_every_draw(name):
    params, closed = outputs_of(name, "closed_form")
    params_stepped, stepped = outputs_of(name, "stepped")
    for p in oj.TAKEOFF.parameter_names:  # the same draws
        assert np.array_equal(params[p], params_stepped[p]), p
    bad = mismatches(closed, stepped, np.arange(len(params["c0"])), RTOL64)
    assert not bad, f"{name}: closed_form vs stepped:\n" + report(
        bad, params, [("closed_form", closed), ("stepped", stepped)])


# --------------------------------------------------------------------------
# 3. float32 vs float64 on the same draws.


def test_float32_close_to_float64():
    # The default run (float32, closed_form) against float64 on the same draws.
    method = oj.TAKEOFF.default_method
    params64, out64, _ = run_of("mixed", method, True)
    params32, out32, res32 = run_of("mixed", method, False)
    assert out32["takeoff_year"].dtype == np.float32 and out64["takeoff_year"].dtype == np.float64
    # The same draws (to float32 rounding of the unit points).
    np.testing.assert_allclose(params32["c0"], params64["c0"], rtol=1e-5)
    assert np.mean(params32["asymmetry"] == params64["asymmetry"]) > 0.999
    t64, t32 = steps_of(out64["takeoff_year"], params64), steps_of(out32["takeoff_year"], params64)
    both = np.isfinite(t64) & np.isfinite(t32)
    # Within one step on every draw; a draw may only cross the horizon by one step.
    n_last = horizon_steps(params64)
    one_sided = np.isfinite(t64) != np.isfinite(t32)
    crossing = np.where(np.isfinite(t64), t64, t32)
    assert np.all(np.abs(t64[both] - t32[both]) <= 1), np.flatnonzero(both & (np.abs(t64 - t32) > 1))
    assert np.all(crossing[one_sided] >= n_last[one_sided] - 1), np.flatnonzero(one_sided)
    equal = (t64 == t32) | (np.isinf(t64) & np.isinf(t32))
    assert equal.mean() >= 0.99, f"takeoff step equal on only {equal.mean():.4f} of draws"
    # Continuous outputs where the takeoff step agrees: rtol 1e-3; an absolute
    # 1e-9 OOM (OOM/yr) only for pools that float32 underflows to 0 (1e-75 OOM
    # left after a clipped pre-takeoff rate is 0 in float32).
    # Also leave out the few draws whose pause window, rounded to float32, snaps
    # to a different step (a boundary within 1e-3 step of the grid after rounding).
    def snapped(p, key):
        return np.ceil((p[key].astype(np.float64) - p["start_year"]) / p["step_years"] - 1e-3)

    same_pause = np.ones_like(equal)
    for key in ("software_pause_start", "software_pause_end"):
        same_pause &= snapped(params64, key) == snapped(params32, key)
    assert same_pause.mean() > 0.99
    same = equal & np.isfinite(t64) & same_pause
    assert same.sum() > 1000
    for name in CONTINUOUS_OUTPUTS:
        x, y = out64[name][same], out32[name][same].astype(np.float64)
        assert np.array_equal(np.isnan(x), np.isnan(y)), name
        ok = np.isclose(y, x, rtol=1e-3, atol=1e-9, equal_nan=True)
        assert ok.all(), f"{name}: draws {np.flatnonzero(same)[~ok][:8]}, f64 {x[~ok][:4]}, f32 {y[~ok][:4]}"
    assert res32["prior_predictive"]["takeoff_year"].attrs["nonfinite_count"] == int(np.isinf(t32).sum())


# --------------------------------------------------------------------------
# 4. Properties of the model.


def paired(variation: str, baseline: str, method: str):
    """Outputs of two variations on the same draws, and the parameters that differ."""
    p_a, out_a = outputs_of(variation, method)
    p_b, out_b = outputs_of(baseline, method)
    differs = {n for n in p_a if not np.array_equal(p_a[n], p_b[n])}
    return p_a, out_a, p_b, out_b, differs


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("variation", ["software_pause", "pause_from_2020"])
def test_software_pause_delays_takeoff_by_at_most_its_length(variation, method):
    params, paused, _, base, differs = paired(variation, "defaults", method)
    assert differs == {"software_pause_start", "software_pause_end"}
    t0, dt = params["start_year"][0], params["step_years"][0]
    first = math.ceil((params["software_pause_start"][0] - t0) / dt - 1e-3)
    stop = math.ceil((params["software_pause_end"][0] - t0) / dt - 1e-3)
    length = max(stop, 0) - max(first, 0)  # paused steps on the simulated grid
    assert length == {"software_pause": 50, "pause_from_2020": 40}[variation]
    t_base, t_paused = steps_of(base["takeoff_year"], params), steps_of(paused["takeoff_year"], params)
    n_last = horizon_steps(params)
    earlier = t_paused < t_base
    assert not earlier.any(), report({"takeoff_year": list(np.flatnonzero(earlier))}, params,
                                     [("paused", paused), ("no pause", base)])
    too_late = (t_paused > t_base + length) & (t_base + length <= n_last)
    assert not too_late.any(), (
        f"{variation}/{method}: pause of {length} steps delays takeoff by up to "
        f"{np.nanmax(np.where(np.isfinite(t_paused - t_base), t_paused - t_base, np.nan)):.0f} steps\n"
        + report({"takeoff_year": list(np.flatnonzero(too_late))}, params, [("paused", paused), ("no pause", base)]))
    # Non-trivial: the pause (before every takeoff here) does delay takeoff.
    assert (t_paused > t_base).mean() > 0.9


@pytest.mark.parametrize("method", METHODS)
def test_pause_opening_before_start_year_counts_only_simulated_steps(method):
    # Steps k < 0 are not simulated: a window [2020, 2026) pauses steps 0..39,
    # exactly as [2022, 2026) does, so every output is the same.
    params, early, _, on_grid, differs = paired("pause_from_2020", "pause_from_2022", method)
    assert differs == {"software_pause_start"}
    bad = mismatches(early, on_grid, np.arange(DRAWS), 0.0)
    assert not bad, "pause [2020, 2026) vs [2022, 2026):\n" + report(
        bad, params, [("2020-2026", early), ("2022-2026", on_grid)])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("variation,changed", [("investment_3x", "pre_multiplier_investment"),
                                               ("growing_investment", "investment_pool_growth")])
def test_faster_or_growing_investment_never_delays_takeoff(variation, changed, method):
    params, faster, _, base, differs = paired(variation, "defaults", method)
    assert differs == {changed}
    t_base, t_fast = steps_of(base["takeoff_year"], params), steps_of(faster["takeoff_year"], params)
    later = t_fast > t_base
    assert not later.any(), report({"takeoff_year": list(np.flatnonzero(later))}, params,
                                   [(variation, faster), ("defaults", base)])
    assert (t_fast < t_base).mean() > 0.5  # it does speed takeoff up


@pytest.mark.parametrize("method", METHODS)
def test_asymmetry_changes_only_the_explosive_phase(method):
    params, on, _, off, differs = paired("asymmetry", "defaults", method)
    assert differs == {"asymmetry"}
    took_off = np.isfinite(off["takeoff_year"])
    # The pre-takeoff phase does not depend on the switch.
    for name in ("takeoff_year", "remaining_investment", "remaining_hardware", "remaining_software"):
        assert np.array_equal(on[name], off[name], equal_nan=True), name
    assert np.all(off["asymmetry_multiplier"][took_off] == 1.0)
    # A_T from its definition and the investment left at takeoff (S_inv (1 - R_inv) = S_inv - left).
    a = params["scaffolding_factor"] * params["c2"] * 10.0 ** (
        params["asymmetry_scaling"] * params["asymmetry_returns"]
        * (params["investment_base"] + params["size_investment"] - on["remaining_investment"]))
    np.testing.assert_allclose(on["asymmetry_multiplier"][took_off], a[took_off], rtol=1e-12)
    # The software rate scales with A_T (clipped at 1), so the speed at start moves with A_T vs 1.
    up, down = on["asymmetry_multiplier"] >= 1, on["asymmetry_multiplier"] <= 1
    tol = 1e-12 * off["speed_at_start"]
    assert np.all(on["speed_at_start"][took_off & up] >= off["speed_at_start"][took_off & up] - tol[took_off & up])
    assert np.all(on["speed_at_start"][took_off & down]
                  <= off["speed_at_start"][took_off & down] + tol[took_off & down])
    assert (took_off & up).any() and (took_off & down).any()


@pytest.mark.parametrize("method", METHODS)
def test_scaffolding_scales_the_multiplier(method):
    params, scaffolded, _, full, differs = paired("scaffolding", "asymmetry", method)
    assert differs == {"scaffolding_factor"}
    took_off = np.isfinite(full["takeoff_year"])
    for name in ("takeoff_year", "remaining_investment", "remaining_hardware", "remaining_software"):
        assert np.array_equal(scaffolded[name], full[name], equal_nan=True), name
    np.testing.assert_allclose(scaffolded["asymmetry_multiplier"][took_off],
                               0.3 * full["asymmetry_multiplier"][took_off], rtol=1e-12)
    # A smaller multiplier never speeds up the first step.
    assert np.all(scaffolded["speed_at_start"][took_off] <= full["speed_at_start"][took_off] * (1 + 1e-12))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ALL)
def test_output_invariants(name, method):
    params, out = outputs_of(name, method)
    t, dt = params["start_year"], params["step_years"]
    took_off = np.isfinite(out["takeoff_year"])
    ended = np.isfinite(out["takeoff_duration"])
    t_step, m_step = steps_of(out["takeoff_year"], params), steps_of(out["max_speed_year"], params)
    n_last = horizon_steps(params)
    # +inf / NaN conventions.
    assert np.array_equal(took_off, np.isfinite(out["max_speed_year"]))
    assert not (ended & ~took_off).any()
    for output in TAKEOFF_ONLY_OUTPUTS:
        assert np.array_equal(np.isnan(out[output]), ~took_off), output
        assert np.isfinite(out[output][took_off]).all(), output
    for output in STEP_OUTPUTS:
        assert not np.isnan(out[output]).any() and not (out[output] == -np.inf).any(), output
    # Years on the grid, within the horizon.
    np.testing.assert_allclose(out["takeoff_year"][took_off], (t + t_step * dt)[took_off], rtol=0, atol=1e-9)
    assert np.all(t_step[took_off] <= n_last[took_off])
    # The maximum: at least the first speed, reached in [T, E) (or [T, N] if not ended).
    assert np.all(out["max_speed"][took_off] >= out["speed_at_start"][took_off])
    assert np.all(out["speed_at_start"][took_off] >= 0)
    assert np.all(m_step[took_off] >= t_step[took_off])
    e_step = t_step + np.round(out["takeoff_duration"] / dt)
    assert np.all(m_step[ended] < e_step[ended])
    assert np.all(e_step[ended] <= n_last[ended]) and np.all(e_step[ended] >= t_step[ended] + 1)
    assert np.all(m_step[took_off & ~ended] <= n_last[took_off & ~ended])
    # Constant rates and fixed pools: the speed never rises, its maximum is at takeoff.
    constant = took_off & (params["asymmetry"] == 0) & (params["investment_pool_growth"] == 0)
    assert np.array_equal(out["max_speed"][constant], out["speed_at_start"][constant])
    assert np.array_equal(out["max_speed_year"][constant], out["takeoff_year"][constant])
    assert np.all(out["asymmetry_multiplier"][took_off & (params["asymmetry"] == 0)] == 1.0)
    # remaining_i in [0, S_i(T)], and the capability at takeoff has reached the threshold.
    elapsed = np.where(took_off, t_step, 0) * dt
    sizes = {"investment": params["size_investment"] + params["investment_pool_growth"] * elapsed,
             "hardware": params["size_hardware"], "software": params["size_software"]}
    consumed = 0.0
    for pool in POOLS:
        left = out[f"remaining_{pool}"][took_off]
        size = sizes[pool][took_off]
        assert np.all(left >= 0) and np.all(left <= size * (1 + 1e-12)), pool
        consumed = consumed + (size - left)
    capability = params["capability_start"][took_off] + consumed
    assert np.all(capability >= params["takeoff_threshold"][took_off] - 1e-9)
    # The runner counts every non-finite value.
    if name in RUNS:
        res = run_of(name, method)[2]
        for output in OUTPUTS:
            count = res["prior_predictive"][output].attrs["nonfinite_count"]
            assert count == int((~np.isfinite(out[output])).sum()), output


UNREACHABLE = 'model = "takeoff"\n[params]\n' + "".join(
    f"{name} = {value!r}\n" for name, value in {**oj.TAKEOFF.reference_draw(), "size_investment": 0.5,
                                                "size_hardware": 0.5, "size_software": 0.5}.items())


def test_unreachable_threshold_gives_inf_and_nan_and_is_counted():
    # Point values only: K0 + S_inv + S_hw + S_sw = 25.5 < K_star = 36 on every draw.
    draws = 64
    res = run("takeoff", oj.load_priors(oj.TAKEOFF, text=UNREACHABLE), draws=draws, seed=SEED, float64=True,
              method="closed_form", chunk_size=draws)
    out = {n: oj.outputs(res)[n].values for n in OUTPUTS}
    for name in STEP_OUTPUTS:
        assert np.all(out[name] == np.inf), name
    for name in TAKEOFF_ONLY_OUTPUTS:
        assert np.all(np.isnan(out[name])), name
    assert np.all(out["rate_clipped"] == 0)  # defined without a takeoff: no rate reached 1
    counts = {n: res["prior_predictive"][n].attrs["nonfinite_count"] for n in OUTPUTS}
    assert counts == {**dict.fromkeys(OUTPUTS, draws), "rate_clipped": 0}
    assert oj.nonfinite_counts(res) == counts
    ref = takeoff_reference({n: float(oj.parameters(res)[n].values[0]) for n in oj.TAKEOFF.parameter_names})
    assert ref["takeoff_year"] == math.inf and math.isnan(ref["speed_at_start"])


@pytest.mark.parametrize("method", METHODS)
def test_unreachable_draws_among_others_are_inf_nan_and_counted(method):
    # In the mixed run some draws cannot reach the threshold even with every pool
    # used up by the horizon (a tiny software pool, a high threshold).
    params, out, res = run_of("mixed", method)
    n_last = horizon_steps(params)
    most = (params["capability_start"] + params["size_investment"] + params["investment_pool_growth"] * n_last
            * params["step_years"] + params["size_hardware"] + params["size_software"])
    never = most < params["takeoff_threshold"]
    assert never.sum() >= 10
    for name in STEP_OUTPUTS:
        assert np.all(out[name][never] == np.inf), name
    for name in TAKEOFF_ONLY_OUTPUTS:
        assert np.all(np.isnan(out[name][never])), name
    counts = oj.nonfinite_counts(res)
    for name in OUTPUTS:
        assert counts[name] == res["prior_predictive"][name].attrs["nonfinite_count"]
        assert counts[name] == int((~np.isfinite(out[name])).sum()), name
        assert counts[name] >= (never.sum() if name not in FLAG_OUTPUTS else 0), name
    assert counts["takeoff_duration"] > counts["takeoff_year"]  # horizons that end mid-takeoff


# --------------------------------------------------------------------------
# 5. The step is numerical: rates per tenth of a year, a refused horizon beyond the step limit.


def reference_case_at(step_years: float) -> dict[str, float]:
    """The reference case at another step, in float64 (closed form; jit of one draw)."""
    with jax.enable_x64(True):
        p = {n: jnp.asarray(v, jnp.float64) for n, v in {**oj.TAKEOFF.reference_draw(),
                                                          "step_years": step_years}.items()}
        return {n: float(v) for n, v in jax.jit(_takeoff.takeoff_closed_form)(p).items()}


@pytest.mark.parametrize("step_years", [0.05, 0.02, 0.01])
def test_takeoff_year_does_not_depend_on_the_step(step_years):
    # c0 is per tenth of a year (the source post's unit): the pools decay by the same factor per
    # year whatever the step, so the takeoff year moves by less than one 0.1-year step.
    coarse, fine = reference_case_at(0.1), reference_case_at(step_years)
    assert coarse["takeoff_year"] == pytest.approx(2039.7, abs=1e-9)  # the reference figure, unchanged
    assert abs(fine["takeoff_year"] - coarse["takeoff_year"]) <= 0.1 + 1e-9
    # The pools left at takeoff are the same to first order in the step.
    for pool in POOLS:
        assert fine[f"remaining_{pool}"] == pytest.approx(coarse[f"remaining_{pool}"], rel=0.02), pool


SOURCE_FIGURES = {  # the source post's maximum speeds at the reference values (OOM/yr), as it rounds them
    "reference": ({}, 25.5, 0.05),
    "investment consumed 3x faster": ({"pre_multiplier_investment": 3.0}, 28.0, 0.5),
    "asymmetry": ({"asymmetry": 1.0}, 24.0, 0.5),
    "both": ({"pre_multiplier_investment": 3.0, "asymmetry": 1.0}, 52.0, 0.5),
}


@pytest.mark.parametrize("step_years", [0.1, 0.0125])
@pytest.mark.parametrize("case", SOURCE_FIGURES)
def test_the_source_posts_reference_figures_hold_at_any_step(case, step_years):
    # Within the source's rounding (half its last digit) at its 0.1-year step, and at one eight
    # times finer within that plus 0.4%: the speed (T9) is read off the state, and only the takeoff
    # step moves, by less than a coarse step, in which the pools lose c0 = 0.37% of themselves.
    changes, figure, rounding = SOURCE_FIGURES[case]
    if step_years < 0.1:
        rounding += 0.004 * figure
    with jax.enable_x64(True):
        p = {n: jnp.asarray(v, jnp.float64) for n, v in {**oj.TAKEOFF.reference_draw(), **changes,
                                                         "step_years": step_years}.items()}
        speed = float(jax.jit(_takeoff.takeoff_closed_form)(p)["max_speed"])
    assert abs(speed - figure) <= rounding, (case, step_years, speed)


def test_clipped_rates_are_flagged_and_their_speed_does_not_depend_on_the_step():
    # r_sw = c1 / d_sw per tenth of a year reaches 1 at d_sw = c1 = 0.37 months: the software pool is
    # then consumed within one step whatever its length. The speed counts what the pools give up
    # over a tenth of a year at the step's rates, so it is the same at any step (an average over
    # the step, as in the second version, grew as 1 / step_years for these draws).
    delays = np.linspace(0.2, 0.6, DRAWS)
    params = {n: np.full(DRAWS, v, np.float64) for n, v in oj.TAKEOFF.reference_draw().items()}
    params["delay_software"] = delays
    at_step = {dt: evaluate("closed_form", {**params, "step_years": np.full(DRAWS, dt)})
               for dt in (0.1, 0.0125, 0.00625)}
    c1 = 0.0037 * 100
    clipped = c1 / delays >= 1
    assert 0.3 < clipped.mean() < 0.7
    for out in at_step.values():  # the flag does not depend on the step
        np.testing.assert_array_equal(out["rate_clipped"], clipped.astype(np.float64))
    # The takeoff step moves by less than a coarse step, in which a pool loses at most c0 = 0.37%
    # of itself: the speeds agree to 1% (16x apart for the clipped draws before).
    for dt in (0.0125, 0.00625):
        ratio = at_step[dt]["speed_at_start"] / at_step[0.1]["speed_at_start"]
        np.testing.assert_allclose(ratio, 1.0, rtol=0.01, err_msg=f"step {dt}")


@pytest.mark.parametrize("text", [
    "step_years = 1e-5",  # 300 years of 1e-5-year steps: 3e7 steps
    "horizon_years = 1e7",  # 1e8 steps of 0.1 years
    'step_years = { dist = "loguniform", lo = 1e-6, hi = 0.1 }',  # some draws beyond the limit
])
def test_horizon_beyond_the_step_limit_is_refused_before_compute(text):
    with pytest.raises(oj.PriorsError, match=r"horizon_years.*step_years.*16,777,215.*MAX_STEPS"):
        oj.load_priors(oj.TAKEOFF, text=f'model = "takeoff"\n[params]\n{text}\n')


def test_horizon_at_the_step_limit_is_accepted():
    oj.load_priors(oj.TAKEOFF, text='model = "takeoff"\n[params]\nstep_years = 0.001\nhorizon_years = 16000\n')


# Refining the step from 0.1 to 0.025 years moves each output's median and 95th percentile by less
# than this (float64, the defaults' draws with asymmetry on in every other one). Years move by
# less than the coarse step; the pools by hundredths of an OOM. Speeds are functions of the state
# (T9), not averages over a step: the takeoff step moves by less than a coarse step, in which a
# pool loses at most c0 m_i (under 1%), so they move by less than 2% (relative).
CONVERGENCE_TOLERANCE = {"takeoff_year": 0.1, "max_speed_year": 0.1, "takeoff_duration": 0.1,
                         "remaining_investment": 0.02, "remaining_hardware": 0.02, "remaining_software": 0.02,
                         "asymmetry_multiplier": 0.02, "rate_clipped": 0.005}
SPEED_TOLERANCE = 0.02  # relative


@functools.cache
def converging_run(step_years: float) -> dict[str, np.ndarray]:
    params = dict(variation_params("defaults"))
    params["asymmetry"] = (_K % 2).astype(np.float64)
    params["step_years"] = np.full(DRAWS, step_years)
    return evaluate("closed_form", params)


def quantiles(outputs: dict[str, np.ndarray], q: float) -> dict[str, float]:
    # A flag's "quantile" is its share of draws (its quantiles are 0 or 1).
    return {n: float(np.mean(v) if n in FLAG_OUTPUTS else np.quantile(v[np.isfinite(v)], q))
            for n, v in outputs.items()}


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_refining_the_step_moves_every_median_and_95th_percentile_by_less_than_its_tolerance(q):
    coarse, fine = (quantiles(converging_run(dt), q) for dt in (0.1, 0.025))
    assert set(CONVERGENCE_TOLERANCE) | {"speed_at_start", "max_speed"} == set(OUTPUTS)
    for name, tolerance in CONVERGENCE_TOLERANCE.items():
        assert abs(fine[name] - coarse[name]) < tolerance, (name, coarse[name], fine[name])
    for name in ("speed_at_start", "max_speed"):
        assert abs(fine[name] / coarse[name] - 1) < SPEED_TOLERANCE, (name, coarse[name], fine[name])


def test_the_docs_page_states_the_equations_of_the_code():
    # docs/takeoff.md carries the docstring's (T1)-(T10) verbatim: one set of equations, two places.
    from pathlib import Path

    doc = _takeoff.__doc__
    block = doc[doc.index("(T1) grid"):doc.index("\n\n", doc.index("(T10)"))]
    page = (Path(__file__).resolve().parents[2] / "docs" / "takeoff.md").read_text(encoding="utf-8")
    assert block in page
    assert "MODELS.md" not in doc and "MODELS.md" not in page


def test_the_cli_refuses_a_horizon_beyond_the_step_limit_in_one_line(tmp_path, capsys):
    from overhang_jax.cli import main

    priors = tmp_path / "fine.toml"
    priors.write_text('model = "takeoff"\n[params]\nstep_years = 1e-5\n')
    code = main(["run", "takeoff", "--priors", str(priors), "--draws", "100", "--out", str(tmp_path / "r.nc")])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "MAX_STEPS" in err and "step_years" in err
    assert not (tmp_path / "r.nc").exists()
