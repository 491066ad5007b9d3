"""The trajectory model (MODELS.md section 2) against an independent plain-Python reference.

``trajectory_reference`` below is written from MODELS.md section 2 and the
discretised equations in the docstring of ``overhang_jax/_trajectory.py``
(not from the JAX code; only the grid constants are imported): it steps both
worlds n = 0 .. N with Python floats (float64), one draw at a time.

What is compared with it, draw by draw, in float64 (every scalar output and
the yearly E series of both worlds, 1e-9 absolute):
* the first draws of a runner run of the shipped default priors (the runner's
  own outputs and kept series);
* "wide" random draws from a numpy generator that switch every regime on and
  off (pause, evaders, moving caps, fear, gradual lifts, caps after 2100...);
* hand-picked draws, one per regime and grid edge.
Then limits that follow from the equations and are computed by hand (no cap,
a hard cap's delay, full and no catch-up, compute-dependent algorithms,
evaders without a handicap, a TAI level never reached), float32 against
float64, the priors checks, and the runner (reproducibility, histograms,
quantile bands).

Compilation dominates the run time: every runner run is made once and cached
for the module (each new set-up compiles for seconds), and the model's own
jit(vmap) is always called on blocks of the same size.
"""

from __future__ import annotations

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax._trajectory import END_YEAR, START_YEAR, STEPS_PER_YEAR, TRAJECTORY, trajectory

OUTPUTS = TRAJECTORY.output_names
SERIES = ("E_default", "E_policy")
NAMES = TRAJECTORY.parameter_names
DT = 1.0 / STEPS_PER_YEAR
YEARS = np.arange(START_YEAR, END_YEAR + 1)
ATOL64 = 1e-9
RTOL64 = 1e-13
SEED = 20250117
DRAWS = 3000
REFERENCE_DRAWS = 30


def doubling_rate(months: float) -> float:
    """OOM/yr of a doubling time in months, g = 12 log10(2) / T (MODELS.md)."""
    return 12 * math.log10(2) / months


# --------------------------------------------------------------------------
# The reference: one draw, every step, plain Python floats.


def trajectory_reference(params) -> dict:
    """One draw of the trajectory model, written from the _trajectory module docstring."""
    p = {name: float(value) for name, value in params.items()}
    inf, nan = math.inf, math.nan
    last = (END_YEAR - START_YEAR) * STEPS_PER_YEAR  # N
    times = [START_YEAR + n / STEPS_PER_YEAR for n in range(last + 1)]
    g_spend = doubling_rate(p["spend_doubling_months"])
    g_hw = doubling_rate(p["hw_doubling_months"])
    g_alg = doubling_rate(p["alg_doubling_months"])

    def price(t):  # H(t), log10 FLOP/$
        return p["compute_start"] - p["spend_start"] + g_hw * (t - START_YEAR)

    def willing(t):  # W(t)
        return p["gwp_start"] + math.log10(p["max_spend_fraction"]) + p["g_gwp"] * (t - START_YEAR)

    t_cap, duration = p["t_cap"], p["D"]
    t_end = t_cap + duration
    sudden = p["end_draw"] < p["p_sudden"]
    # The first step n with t_n >= t_end (None: the cap has not ended by END_YEAR).
    end_step = next((n for n, t in enumerate(times) if t >= t_end), None)

    def cap(t):
        if t_cap <= t < t_end:
            return p["P_cap"] + p["g_cap"] * (t - t_cap)
        if t >= t_end and not sudden:
            return p["P_cap"] + p["g_cap"] * duration + p["g_lift"] * (t - t_end)
        return inf

    def effective(compute, experience, algorithms):
        return compute - (1 - p["rho"]) * (compute - experience) + algorithms

    # The docstring leaves the initial state implicit: S_0 is spend_start (within the budget, as
    # every later S_n is), P_0 = X_0 = B_0 = S_0 + H(2023) (= compute_start), Alg_0 = 0.
    spend0 = min(p["spend_start"], willing(times[0]))
    state = {w: (spend0, spend0 + price(times[0]), spend0 + price(times[0]), 0.0) for w in ("default", "policy")}
    e = {w: [effective(*state[w][1:])] for w in state}
    spend_default = [spend0]
    binding = []  # whether the cap is in force and binds the regulated actors, each step
    target = None  # (1 - alpha) G, nominal
    for n in range(last):
        t, t_next = times[n], times[n + 1]
        gap = (state["default"][1] + state["default"][3]) - (state["policy"][1] + state["policy"][3])
        if n == end_step:
            target = (1 - p["alpha"]) * gap
        new = {}
        for world, (spend, compute, experience, algorithms) in state.items():
            policy = world == "policy"  # the default world has no cap window, hence no catch-up
            phi = p["phi"]
            if policy and p["pause_deployment"] == 1 and t_cap <= t < t_end:
                phi = phi * (1 - p["revenue_share"] * (1 - p["e_share"]))
            now = effective(compute, experience, algorithms)
            feedback = max(0.0, 1 + phi * max(now - p["E_fb"], 0.0) - p["phi_fear"] * max(now - p["E_fear"], 0.0))
            spend_next = min(spend + g_spend * feedback * DT, willing(t_next))
            budget_next = spend_next + price(t_next)
            natural = budget_next - (spend + price(t))
            extra = 0.0
            if policy and end_step is not None and n >= end_step:
                extra = min(max(gap - target, 0.0) * (1 - math.exp(-p["kappa"] * DT)), p["k_max"] * DT)
            wanted = min(compute + natural + extra, budget_next)
            ceiling = cap(t_next) if policy else inf
            compute_next = max(compute, min(wanted, ceiling))
            binds = wanted > ceiling
            # ratio of yearly growth factors, realised / default, at most 1
            ratio = 10.0 ** min((compute_next - compute - natural) / DT, 0.0)
            algorithms_next = algorithms + g_alg * feedback * ratio ** p["lam"] * (p["beta"] if binds else 1.0) * DT
            experience_next = max(experience, min(compute_next, experience + p["g_exp"] * DT))
            new[world] = (spend_next, compute_next, experience_next, algorithms_next)
            e[world].append(effective(compute_next, experience_next, algorithms_next))
            if policy:
                binding.append(binds and t_cap <= t < t_end)
        state = new
        spend_default.append(new["default"][0])

    e_default, e_regulated = e["default"], e["policy"]
    # Evaders: behind the default world by h per year the cap is in force and binds, never losing ground.
    deficits = [0.0]
    for binds in binding:
        deficits.append(deficits[-1] + p["h"] * DT if binds else deficits[-1])
    e_evader = list(itertools.accumulate((x - d for x, d in zip(e_default, deficits)), max))
    frontier = ([max(r, v) for r, v in zip(e_regulated, e_evader)] if p["e_share"] > 0 else list(e_regulated))

    def first_reach(series, level):
        """(time, step) E first reaches level, interpolated within the step; (inf, None) if never."""
        if series[0] >= level:
            return float(START_YEAR), 0
        for n in range(last):
            if series[n + 1] >= level:
                return times[n] + DT * (level - series[n]) / (series[n + 1] - series[n]), n + 1
        return inf, None

    tai_default, tai_step = first_reach(e_default, p["E_tai"])
    tai_policy, _ = first_reach(frontier, p["E_tai"])
    band_default, _ = first_reach(e_default, p["E_tai"] - p["w"])
    band_policy, _ = first_reach(frontier, p["E_tai"] - p["w"])
    _, leader_step = first_reach(e_regulated, p["E_tai"])
    if leader_step is None:
        lead = nan
    elif leader_step == 0:
        lead = e_regulated[0] - e_evader[0]
    else:
        k = leader_step
        a = (p["E_tai"] - e_regulated[k - 1]) / (e_regulated[k] - e_regulated[k - 1])
        lead = (1 - a) * (e_regulated[k - 1] - e_evader[k - 1]) + a * (e_regulated[k] - e_evader[k])
    if end_step is None:
        overhang = growth_policy = growth_default = nan
    else:
        overhang = e_default[end_step] - e_regulated[end_step]
        window = range(end_step, min(end_step + 5 * STEPS_PER_YEAR, last))
        growth_policy = max(((frontier[n + 1] - frontier[n]) / DT for n in window), default=nan)
        growth_default = max(((e_default[n + 1] - e_default[n]) / DT for n in window), default=nan)
    return {
        "overhang_at_end": overhang,
        "max_growth_after_end": growth_policy,
        "max_growth_default": growth_default,
        "tai_year_default": tai_default,
        "tai_year_policy": tai_policy,
        "tai_delay": nan if tai_default == inf and tai_policy == inf else tai_policy - tai_default,
        "tai_in_rampup_default": (nan if tai_step is None
                                  else float(spend_default[tai_step] < willing(times[tai_step]))),
        "danger_band_years_default": inf if tai_default == inf else tai_default - band_default,
        "danger_band_years_policy": inf if tai_policy == inf else tai_policy - band_policy,
        "lead_at_tai": lead,
        "E_default": np.array(e_default[::STEPS_PER_YEAR]),
        "E_policy": np.array(frontier[::STEPS_PER_YEAR]),
    }


# --------------------------------------------------------------------------
# The JAX model on batches of draws (float64), runner runs, draws.

BLOCK = 128
_MODEL = jax.jit(jax.vmap(trajectory))


def evaluate(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model on a batch of draws in float64, in blocks of BLOCK draws (compiled once)."""
    size = len(params["t_cap"])
    out = {}
    with jax.enable_x64(True):
        for start in range(0, size, BLOCK):
            block = {}
            for name in NAMES:
                part = np.asarray(params[name][start:start + BLOCK], np.float64)
                block[name] = jnp.asarray(np.pad(part, (0, BLOCK - len(part)), mode="edge"), jnp.float64)
            for name, values in _MODEL(block).items():
                out.setdefault(name, []).append(np.asarray(values)[: size - start])
    return {name: np.concatenate(parts) for name, parts in out.items()}


def draws_of(overrides: list[dict[str, float]] | dict[str, float], base: dict[str, np.ndarray] | None = None):
    """Parameter arrays: base (default: the reference case) with overrides (one per draw, or for all)."""
    if base is None:
        base = {k: np.full(len(overrides), v, np.float64) for k, v in TRAJECTORY.reference_draw().items()}
    params = {k: np.array(v, np.float64) for k, v in base.items()}
    if isinstance(overrides, dict):
        for name, value in overrides.items():
            params[name] = np.broadcast_to(np.asarray(value, np.float64), params[name].shape).copy()
    else:
        for i, changes in enumerate(overrides):
            for name, value in changes.items():
                params[name][i] = value
    return params


def one_draw(params: dict[str, np.ndarray], i: int) -> dict[str, float]:
    return {name: float(params[name][i]) for name in NAMES}


def params_of(results) -> dict[str, np.ndarray]:
    return {name: np.array(oj.parameters(results)[name].values, np.float64) for name in NAMES}


def outputs_of(results) -> dict[str, np.ndarray]:
    return {name: np.asarray(oj.outputs(results)[name].values) for name in OUTPUTS}


@functools.cache
def runner_run(chunk_size: int = 1000, n_devices: int = 8, float64: bool = True):
    """A run of the shipped default priors; each set-up compiles once, so each is made once."""
    return oj.run("trajectory", draws=DRAWS, seed=SEED, chunk_size=chunk_size, float64=float64,
                  devices=jax.devices()[:n_devices])


@functools.cache
def default_series() -> dict[str, np.ndarray]:
    """The model evaluated by us (jit(vmap), float64) on every draw of the default run."""
    return evaluate(params_of(runner_run()))


def compare(actual: dict[str, np.ndarray], params: dict[str, np.ndarray], labels) -> list[str]:
    """Draw-by-draw differences between the model's outputs and the reference, as messages."""
    problems = []
    for i, label in enumerate(labels):
        expected = trajectory_reference(one_draw(params, i))
        for name in (*OUTPUTS, *SERIES):
            got, want = np.asarray(actual[name][i], np.float64), np.asarray(expected[name], np.float64)
            same_nonfinite = np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(
                np.where(np.isinf(got), got, 0), np.where(np.isinf(want), want, 0))
            finite = np.isfinite(got) & np.isfinite(want)
            # Absolute, plus relative for runaway feedback (E ~ 1e6 OOM by 2100 in a few wide draws).
            error = np.max(np.abs(got[finite] - want[finite]) - RTOL64 * np.abs(want[finite]), initial=0.0)
            if not same_nonfinite or error > ATOL64:
                shown = (f"model {got!r} reference {want!r}" if got.ndim == 0
                         else f"max |diff| {error:.3g}, nonfinite pattern equal: {same_nonfinite}")
                problems.append(f"{label}: {name}: {shown} (lam={params['lam'][i]:.3g})")
    return problems


# --------------------------------------------------------------------------
# 1. The reference against the model.


def test_runner_draws_of_the_defaults_match_the_reference():
    # The runner's own outputs and kept series (float64) for the first draws of the shipped priors.
    results = runner_run()
    params = params_of(results)
    actual = outputs_of(results)
    actual.update({name: results["trajectories"][name].values for name in SERIES})
    first = {name: values[:REFERENCE_DRAWS] for name, values in params.items()}
    problems = compare(actual, first, [f"draw {i}" for i in range(REFERENCE_DRAWS)])
    assert not problems, "\n".join(problems)


def wide_draws(count: int = 40, seed: int = 4) -> dict[str, np.ndarray]:
    """Random draws over wide ranges that switch each regime on and off."""
    rng = np.random.default_rng(seed)

    def uniform(lo, hi):
        return rng.uniform(lo, hi, count)

    def sometimes(value, share, other):
        return np.where(rng.uniform(size=count) < share, value, other)

    spend_start = uniform(7, 9)
    gwp_start = uniform(13.8, 14.2)
    # W(2023) at or above spend_start (the start is within the budget): log10 fraction in [s - gwp, 0].
    fraction = 10 ** uniform(spend_start - gwp_start, 0)
    params = {
        "compute_start": uniform(24.5, 26), "spend_start": spend_start, "gwp_start": gwp_start,
        "max_spend_fraction": fraction, "g_gwp": uniform(0, 0.03), "spend_doubling_months": uniform(4, 20),
        "hw_doubling_months": uniform(15, 50), "alg_doubling_months": uniform(3, 30),
        "lam": sometimes(0.0, 0.2, sometimes(1.0, 0.25, uniform(0, 1))), "E_fb": uniform(25, 32),
        "phi": sometimes(0.0, 0.3, uniform(0, 0.2)), "revenue_share": uniform(0, 1),
        "phi_fear": sometimes(0.0, 0.5, uniform(0, 0.3)), "E_fear": uniform(28, 40),
        "t_cap": sometimes(2105.0, 0.1, uniform(2023, 2070)), "P_cap": uniform(25, 30),
        "g_cap": sometimes(0.0, 0.5, uniform(0, 0.6)), "D": 10 ** uniform(-0.5, 1.6),
        "p_sudden": uniform(0, 1), "end_draw": uniform(0, 1), "g_lift": uniform(0, 1.5),
        "beta": sometimes(1.0, 0.3, uniform(1, 2)), "pause_deployment": sometimes(1.0, 0.4, 0.0),
        "e_share": sometimes(0.0, 0.4, uniform(0, 1)), "h": sometimes(0.0, 0.2, uniform(0, 0.6)),
        "alpha": uniform(0, 1), "kappa": 10 ** uniform(-1.5, 1.7), "k_max": uniform(0, 3),
        "rho": uniform(0, 1), "g_exp": uniform(0.2, 2), "E_tai": uniform(26, 50), "w": uniform(0, 4),
    }
    assert set(params) == set(NAMES)
    return params


def test_wide_random_draws_match_the_reference():
    params = wide_draws()
    problems = compare(evaluate(params), params, [f"wide draw {i}" for i in range(len(params["t_cap"]))])
    assert not problems, "\n".join(problems)


# One draw per regime and grid edge: changes to the reference case (t_cap 2027, P_cap 26, D 5,
# hard cap, end_draw = p_sudden = 0.5: lifted gradually, no evaders, lam 0.5, beta 1, phi 0.1).
REGIMES = {
    "reference_case_gradual_lift": {},
    "sudden_end": {"end_draw": 0.1},
    "gradual_lift_of_a_moving_line_below_the_run": {"end_draw": 0.9, "g_cap": 0.15, "g_lift": 0.4, "P_cap": 25.9},
    "evaders": {"e_share": 0.15, "h": 0.3, "end_draw": 0.1},
    "evaders_without_handicap": {"e_share": 0.3, "h": 0.0},
    "evaders_ahead_of_the_leader": {"e_share": 0.05, "h": 0.05, "D": 20.0, "P_cap": 25.5},
    "pause_deployment": {"pause_deployment": 1.0, "e_share": 0.1, "E_fb": 26.0, "phi": 0.08,
                         "revenue_share": 0.7},
    "pause_deployment_no_evaders": {"pause_deployment": 1.0, "E_fb": 26.0, "revenue_share": 1.0},
    "cap_never_binds": {"P_cap": 60.0},
    "cap_starts_after_2100": {"t_cap": 2105.0, "e_share": 0.2},
    "beta_boost_moving_line": {"beta": 1.4, "lam": 0.3, "g_cap": 0.1, "P_cap": 26.5},
    "beta_boost_hard_cap_lam_zero": {"beta": 1.4, "lam": 0.0, "end_draw": 0.1},
    "feedback_and_fear": {"phi": 0.1, "E_fb": 26.0, "phi_fear": 0.05, "E_fear": 33.0},
    "fear_stops_growth": {"phi": 0.0, "phi_fear": 1.0, "E_fear": 28.0, "E_tai": 31.0},
    "no_feedback": {"phi": 0.0},
    "off_grid_cap": {"t_cap": 2026.37, "D": 3.83, "end_draw": 0.1},
    "full_catch_up": {"alpha": 1.0, "kappa": 3.0, "k_max": 2.0, "rho": 0.6, "end_draw": 0.1},
    "no_catch_up": {"alpha": 0.0, "end_draw": 0.1},
    "no_catch_up_speed": {"kappa": 0.0, "alpha": 1.0, "end_draw": 0.1},
    "experience_only": {"rho": 0.0, "alpha": 1.0, "end_draw": 0.1, "g_exp": 0.3},
    "lam_one": {"lam": 1.0},
    "lam_zero": {"lam": 0.0},
    # lam small but positive: algorithms slowed a little while a hard cap holds the run.
    "small_lam_hard_cap": {"lam": 0.02, "phi": 0.0},
    "ramped_up_early": {"max_spend_fraction": 1e-4, "spend_doubling_months": 6.0},
    "tai_reached_at_start": {"E_tai": 25.0, "w": 1.0},
    "danger_band_entered_at_start": {"E_tai": 26.5, "w": 2.0},
    "tai_in_rampup": {"E_tai": 29.0, "max_spend_fraction": 0.01},
    "never_reaches_tai": {"E_tai": 200.0, "phi": 0.0},
    "never_reaches_tai_band_entered": {"E_tai": 75.0, "w": 10.0, "phi": 0.0},
    "cap_from_the_first_step_below_the_run": {"t_cap": 2023.0, "P_cap": 25.0, "D": 10.0},
    "growth_window_cut_by_the_horizon": {"t_cap": 2040.0, "D": 57.37, "end_draw": 0.1},
    "cap_not_ended_by_2100": {"t_cap": 2080.0, "D": 30.0},
    # The cap ends at 2099.95: the first step with t_n >= t_end is the last one, t_N = 2100.
    "cap_ends_in_the_last_step": {"t_cap": 2090.0, "D": 9.95, "end_draw": 0.1},
    # t_end = 2027 + 3.2 is the grid time t_72 (the same float): catch-up starts at n = 72.
    "cap_ends_on_a_grid_point": {"t_cap": 2027.0, "D": 3.2, "end_draw": 0.1},
}


@pytest.fixture(scope="module")
def regime_outputs():
    params = draws_of(list(REGIMES.values()))
    return params, evaluate(params)


@pytest.mark.parametrize("regime", REGIMES)
def test_regimes_match_the_reference(regime_outputs, regime):
    params, outputs = regime_outputs
    i = list(REGIMES).index(regime)
    single = {name: values[i:i + 1] for name, values in params.items()}
    problems = compare({name: values[i:i + 1] for name, values in outputs.items()}, single, [regime])
    assert not problems, "\n".join(problems)


def test_regimes_do_what_their_names_say(regime_outputs):
    # The hand-picked draws really are in their regimes (otherwise the comparisons above prove little).
    params, out = regime_outputs

    def get(regime, name):
        return out[name][list(REGIMES).index(regime)]

    assert get("cap_starts_after_2100", "tai_delay") == 0
    assert np.isnan(get("cap_starts_after_2100", "overhang_at_end"))
    assert get("cap_never_binds", "overhang_at_end") == 0
    assert get("sudden_end", "overhang_at_end") > 1
    assert get("tai_reached_at_start", "tai_year_default") == START_YEAR
    assert get("tai_in_rampup", "tai_in_rampup_default") == 1
    assert get("ramped_up_early", "tai_in_rampup_default") == 0
    assert get("never_reaches_tai", "tai_year_policy") == np.inf
    assert np.isnan(get("cap_not_ended_by_2100", "max_growth_after_end"))
    assert get("evaders_ahead_of_the_leader", "lead_at_tai") < 0
    assert get("beta_boost_moving_line", "tai_delay") != get("reference_case_gradual_lift", "tai_delay")
    assert get("beta_boost_hard_cap_lam_zero", "overhang_at_end") < get("sudden_end", "overhang_at_end")


# --------------------------------------------------------------------------
# 2. Limits, by hand.


def default_draws(count: int) -> dict[str, np.ndarray]:
    return {name: values[:count] for name, values in params_of(runner_run()).items()}


@pytest.mark.parametrize("no_cap", [{"t_cap": 2105.0}, {"P_cap": 60.0, "pause_deployment": 0.0}])
def test_without_a_binding_cap_the_policy_world_is_the_default_world_exactly(no_cap):
    # Random draws of the defaults (evaders, beta, lifts and all); a cap after 2100 or far above
    # any run the budget buys (W + H < 50 by 2100) changes nothing: bitwise the same worlds.
    params = draws_of(no_cap, default_draws(256))
    out = evaluate(params)
    assert np.array_equal(out["E_policy"], out["E_default"])
    assert np.array_equal(out["tai_year_policy"], out["tai_year_default"])
    reached = np.isfinite(out["tai_year_default"])
    assert reached.mean() > 0.9
    assert np.all(out["tai_delay"][reached] == 0)
    assert np.all(np.isnan(out["tai_delay"][~reached]))
    assert np.array_equal(out["danger_band_years_policy"], out["danger_band_years_default"], equal_nan=True)
    if "P_cap" in no_cap:
        assert np.all(out["overhang_at_end"] == 0)
        assert np.array_equal(out["max_growth_after_end"], out["max_growth_default"])
    else:
        assert np.all(np.isnan(out["overhang_at_end"]))


# A world where everything is linear and by hand: no feedback, no experience penalty, algorithms
# independent of compute, no boost, no evaders, a sudden end without catch-up.
LINEAR = {"alpha": 0.0, "lam": 0.0, "beta": 1.0, "e_share": 0.0, "phi": 0.0, "phi_fear": 0.0, "rho": 1.0,
          "g_cap": 0.0, "end_draw": 0.0, "p_sudden": 0.5, "pause_deployment": 0.0}
G_SPEND, G_HW, G_ALG = (doubling_rate(TRAJECTORY.parameter(name).default)
                        for name in ("spend_doubling_months", "hw_doubling_months", "alg_doubling_months"))
G_GWP = TRAJECTORY.parameter("g_gwp").default


def linear_world(phase: str, t_cap: float, duration: float, tai_default: float, **changes):
    """The draw, its compute growth r_P and E growth r_E (OOM/yr), all by hand."""
    if phase == "rampup":
        # W = 1e14 $/yr: spend (1e8, +0.38 OOM/yr) stays below it until 2039.
        start = {"compute_start": 25.3, "spend_start": 8.0, "max_spend_fraction": 1.0}
        rate_p = G_SPEND + G_HW

        def compute(t):
            return 25.3 + rate_p * (t - START_YEAR)
    else:
        # W(2023) = 1e8 $: spend starts at 10^7.5 and reaches W in 2024.4; from then on
        # S = W(t), so P = W + H = 8 + 25.3 - 7.5 + (g_gwp + g_hw)(t - 2023).
        start = {"compute_start": 25.3, "spend_start": 7.5, "max_spend_fraction": 1e-6}
        rate_p = G_GWP + G_HW

        def compute(t):
            return 25.8 + rate_p * (t - START_YEAR)
    rate_e = rate_p + G_ALG
    e_tai = compute(tai_default) + G_ALG * (tai_default - START_YEAR)  # E = P + Alg, Alg = g_alg (t - 2023)
    draw = {**TRAJECTORY.reference_draw(), **LINEAR, **start, "t_cap": t_cap, "D": duration,
            "P_cap": compute(t_cap), "E_tai": e_tai, **changes}
    return draw, rate_p, rate_e


def last_capped_time(t_cap: float, duration: float) -> float:
    """The last grid time t_n < t_end: the cap is evaluated at t_n+1 and lifted at t_end."""
    times = START_YEAR + np.arange((END_YEAR - START_YEAR) * STEPS_PER_YEAR + 1) / STEPS_PER_YEAR
    return float(times[times < t_cap + duration][-1])


HARD_CAPS = [("rampup", 2026.0, 4.0, 2034.55), ("rampup", 2026.37, 4.26, 2034.55),
             ("ramped", 2027.0, 6.0, 2036.55), ("ramped", 2027.37, 6.26, 2036.55)]


@pytest.mark.parametrize("phase,t_cap,duration,tai", HARD_CAPS)
def test_hard_cap_delay_is_the_compute_lost_over_the_growth_of_e(phase, t_cap, duration, tai):
    # A hard cap at the default world's compute when it starts holds the run for D years: it loses
    # r_P D OOM of physical compute (r_P = g_spend + g_hw in the ramp-up, g_gwp + g_hw once spend is
    # at W), never recovered (alpha = 0). E = P + Alg grows at r_E = r_P + g_alg in both worlds
    # before and after the cap, so the TAI delay is r_P D / r_E.
    draw, rate_p, rate_e = linear_world(phase, t_cap, duration, tai)
    out = evaluate(draws_of([draw]))
    assert out["tai_in_rampup_default"][0] == (1.0 if phase == "rampup" else 0.0)  # the phase intended
    assert out["tai_year_default"][0] == pytest.approx(tai, abs=1e-9)
    assert out["tai_delay"][0] == pytest.approx(rate_p * duration / rate_e, abs=DT)
    # On the grid the cap holds from t_cap to the last step before t_end (at t_end it is lifted),
    # so the loss is exactly r_P (t_last - t_cap).
    lost = rate_p * (last_capped_time(t_cap, duration) - t_cap)
    assert out["overhang_at_end"][0] == pytest.approx(lost, abs=1e-9)
    assert out["tai_delay"][0] == pytest.approx(lost / rate_e, abs=1e-9)


def test_no_catch_up_makes_the_delay_permanent():
    # alpha = 0: after the cap both worlds grow at the same rate; the gap stays G forever.
    params = draws_of(LINEAR, default_draws(128))
    out = evaluate(params)
    t_end = params["t_cap"] + params["D"]
    after = YEARS[None, :] >= t_end[:, None]
    gap = out["E_default"] - out["E_policy"]
    assert np.mean(out["overhang_at_end"] > 0.5) > 0.9
    overhang = np.broadcast_to(out["overhang_at_end"][:, None], gap.shape)
    np.testing.assert_allclose(gap[after], overhang[after], rtol=0, atol=ATOL64)


def test_full_fast_catch_up_rejoins_the_default_curve():
    # alpha = 1, kappa and k_max huge: the first step after the cap makes up the whole nominal gap,
    # bounded by the budget, which is the default world's (no feedback). With lam = 0 and beta = 1
    # algorithms never differed, and rho = 1 has no experience penalty: E is the default curve again.
    fast = {**LINEAR, "alpha": 1.0, "kappa": 1e6, "k_max": 1e6}
    params = draws_of(fast, default_draws(256))
    params["e_share"] = default_draws(256)["e_share"]  # evaders fall behind; the frontier is the leader
    out = evaluate(params)
    t_end = params["t_cap"] + params["D"]
    assert np.mean(out["overhang_at_end"] > 0.5) > 0.9  # there was a gap to close
    after = YEARS[None, :] >= t_end[:, None] + 1
    assert after.sum() > 256 * 50
    np.testing.assert_allclose(out["E_policy"][after], out["E_default"][after], rtol=0, atol=ATOL64)


@pytest.mark.parametrize("g_cap", [0.0, 0.2])
@pytest.mark.parametrize("lam", [0.0, 0.05, 0.5, 1.0])
def test_compute_dependence_of_algorithms(lam, g_cap):
    # A cap that binds from its start (at the default compute then, rising at g_cap < r_P) grows
    # compute by a factor 10^g_cap a year where the default world grows it by 10^r_P: the ratio of
    # growth factors is 10^(g_cap - r_P), and algorithms grow at g_alg ratio^lam (lam = 0: regardless).
    t_cap, duration = 2026.0, 4.0
    draw, rate_p, _ = linear_world("rampup", t_cap, duration, 2034.55, lam=lam, g_cap=g_cap)
    out = evaluate(draws_of([draw]))
    capped = last_capped_time(t_cap, duration) - t_cap  # 3.9 years of capped steps
    ratio = 10.0 ** (g_cap - rate_p)
    physical = (rate_p - g_cap) * capped
    algorithmic = G_ALG * (1 - ratio ** lam) * capped
    assert out["overhang_at_end"][0] == pytest.approx(physical + algorithmic, abs=1e-9)
    # The same in continuous time, to within a step of growth.
    continuous = (rate_p - g_cap) * duration + G_ALG * (1 - ratio ** lam) * duration
    assert out["overhang_at_end"][0] == pytest.approx(continuous, abs=(rate_p + G_ALG) * DT)
    if lam == 0:
        assert out["overhang_at_end"][0] == pytest.approx(physical, abs=1e-9)  # the lag is the compute lost
    else:
        assert out["overhang_at_end"][0] > physical + 0.5 * algorithmic > physical  # algorithms slowed too


@pytest.mark.parametrize("beta", ["prior", 1.0])
def test_evaders_without_a_handicap_are_never_behind_the_default_world(beta):
    # h = 0: evaders are the default world, and the policy frontier is max(regulated, evaders).
    base = default_draws(256)
    params = draws_of({"h": 0.0}, base)
    params["e_share"] = np.random.default_rng(1).uniform(0.01, 1.0, 256)
    if beta != "prior":
        params["beta"][:] = beta
    out = evaluate(params)
    assert np.all(out["E_policy"] >= out["E_default"])
    finite = np.isfinite(out["tai_year_default"])
    assert finite.mean() > 0.9
    assert np.all(out["tai_year_policy"][finite] <= out["tai_year_default"][finite] + 1e-9)
    if beta == 1.0:
        # Without a boost the regulated leader is never ahead (phi_fear = 0 in the defaults): the
        # frontier is the default world and TAI comes at the same time; the leader trails the evaders.
        assert np.all(np.isfinite(out["tai_year_policy"]) == finite)
        np.testing.assert_allclose(out["tai_year_policy"][finite], out["tai_year_default"][finite],
                                   rtol=0, atol=1e-9)
        np.testing.assert_allclose(out["E_policy"], out["E_default"], rtol=0, atol=1e-9)
        assert np.all(out["lead_at_tai"][np.isfinite(out["lead_at_tai"])] <= 1e-9)


def test_tai_never_reached_is_inf_and_counted():
    # E_tai = 1e200 FLOP: never reached by 2100 without feedback and with 9-month algorithmic doubling
    # (E grows by at most ~6 OOM of spend up to W, 0.15 OOM/yr of hardware and 0.4 of algorithms).
    text = 'model = "trajectory"\n[params]\nE_tai = 200\nphi = 0\nalg_doubling_months = 9\n'
    priors = oj.load_priors(TRAJECTORY, text=text)
    draws = 500
    results = oj.run("trajectory", priors, draws=draws, seed=3, float64=True, chunk_size=draws)
    out = outputs_of(results)
    assert np.all(results["trajectories"]["E_default"].values[:, -1] < 100)
    assert np.all(np.isposinf(out["tai_year_default"])) and np.all(np.isposinf(out["tai_year_policy"]))
    assert np.all(np.isnan(out["tai_delay"])) and np.all(np.isnan(out["tai_in_rampup_default"]))
    assert np.all(np.isnan(out["lead_at_tai"]))
    counts = oj.nonfinite_counts(results)
    for name in ("tai_year_default", "tai_year_policy", "tai_delay", "tai_in_rampup_default",
                 "danger_band_years_default", "danger_band_years_policy", "lead_at_tai"):
        assert counts[name] == draws, name
    # The caps of the defaults end by 2090: overhang and growth rates are all there.
    for name in ("overhang_at_end", "max_growth_after_end", "max_growth_default"):
        assert counts[name] == 0, name
    summary = oj.summary(results)
    assert summary.loc["tai_year_default", "nonfinite"] == draws


# --------------------------------------------------------------------------
# 3. float32 against float64.


def test_float32_agrees_with_float64():
    # The same seed in both precisions (the float32 draws are the float64 ones to ~1e-5 relative).
    # Measured (seed 7, 3000 draws): TAI years differ by at most 9e-4 yr (99% below 2e-4 yr), no
    # draw changes finiteness and tai_in_rampup never flips.
    single, double = outputs_of(runner_run(float64=False)), outputs_of(runner_run())
    for name in ("tai_year_default", "tai_year_policy", "tai_delay"):
        assert single[name].dtype == np.float32
        assert np.array_equal(np.isfinite(single[name]), np.isfinite(double[name])), name
        finite = np.isfinite(double[name])
        error = np.abs(single[name][finite].astype(np.float64) - double[name][finite])
        assert np.mean(error < 0.05) >= 0.99, name
        assert np.max(error) < 0.5, name
    assert np.mean(single["tai_in_rampup_default"] == double["tai_in_rampup_default"]) >= 0.99


# --------------------------------------------------------------------------
# 4. Meaningless inputs, rejected before compute.


@pytest.mark.parametrize("text,name", [
    ("D = -2", "D"),  # a cap that ends before it starts
    ("D = 0", "D"),
    ('D = { dist = "normal", mean = 3, sd = 3 }', "D"),
    ("e_share = 1.5", "e_share"),
    ("e_share = -0.1", "e_share"),
    ('e_share = { dist = "uniform", lo = 0.5, hi = 1.5 }', "e_share"),
    ("alg_doubling_months = -3", "alg_doubling_months"),
    ("alg_doubling_months = 0", "alg_doubling_months"),
    ("spend_doubling_months = -9.5", "spend_doubling_months"),
    ("hw_doubling_months = 0", "hw_doubling_months"),
    ("pause_deployment = 0.5", "pause_deployment"),
    ('pause_deployment = { dist = "uniform", lo = 0, hi = 1 }', "pause_deployment"),
    ("beta = 0.5", "beta"),
    ("lam = 1.5", "lam"),
    ("rho = -0.1", "rho"),
    ("alpha = 2", "alpha"),
    ("max_spend_fraction = 0", "max_spend_fraction"),
    ("t_cap = 2020", "t_cap"),
])
def test_meaningless_inputs_are_rejected_before_compute(tmp_path, text, name):
    with pytest.raises(oj.PriorsError, match=f"parameter '{name}'"):
        oj.load_priors(TRAJECTORY, text=f'model = "trajectory"\n[params]\n{text}\n')
    path = tmp_path / "priors.toml"
    path.write_text(f'model = "trajectory"\n[params]\n{text}\n')
    with pytest.raises(oj.PriorsError, match=f"parameter '{name}'"):
        oj.run("trajectory", path, draws=10, seed=0)


# --------------------------------------------------------------------------
# 5. The runner: reproducibility, histograms, quantile bands.


def trajectory_arrays(results):
    data = results["trajectories"]
    return {name: data[name].values for name in ("E_default", "E_policy", "E_default_counts", "E_policy_counts")}


@pytest.mark.parametrize("chunk_size,n_devices", [(777, 8), (1000, 1)])
def test_runs_bit_identical_whatever_chunks_and_devices(chunk_size, n_devices):
    reference, other = runner_run(), runner_run(chunk_size, n_devices)
    for group in ("prior", "prior_predictive"):
        for name in reference[group].data_vars:
            left, right = reference[group][name].values, other[group][name].values
            assert left.dtype == right.dtype and np.array_equal(left, right, equal_nan=True), (group, name)
    left, right = trajectory_arrays(reference), trajectory_arrays(other)
    for name in left:
        assert left[name].dtype == right[name].dtype and np.array_equal(left[name], right[name]), name


def test_histograms_count_every_draw_every_year():
    results = runner_run()
    for name in SERIES:
        counts = results["trajectories"][f"{name}_counts"].values
        assert counts.shape[0] == len(YEARS)
        assert np.all(counts.sum(axis=1) == DRAWS), name
        assert np.all(counts[:, 0] == 0)  # nothing below 1e20 FLOP


def test_kept_series_are_the_models_series():
    results, series = runner_run(), default_series()
    for name in SERIES:
        kept = results["trajectories"][name].values
        assert kept.shape == (100, len(YEARS))
        np.testing.assert_allclose(kept, series[name][:100], rtol=0, atol=ATOL64)


def test_quantile_bands_are_within_half_a_bin_of_the_exact_quantiles():
    results, series = runner_run(), default_series()
    bands = oj.trajectory_bands(results)
    attrs = results["trajectories"].attrs
    width, lower, upper = attrs["bin_width"], attrs["lower"], attrs["upper"]
    probs = bands["quantile"].values
    for name in SERIES:
        exact = np.quantile(series[name], probs, axis=0, method="inverted_cdf").T  # (year, quantile)
        band = bands[name].values
        inside = (exact >= lower) & (exact < upper)
        assert inside.mean() > 0.75  # feedback takes the upper quantiles beyond 1e100 FLOP late in the century
        # Half a bin, plus the rounding of a value on a bin edge (the runner's and our float64 series
        # may differ in the last bits).
        np.testing.assert_array_less(np.abs(band[inside] - exact[inside]), width / 2 + 1e-6)
        assert np.all(band[exact >= upper] == np.inf)
        assert np.all(band[exact < lower] == -np.inf)
