"""The trajectory model (docs/trajectory.md) against an independent plain-Python reference.

``trajectory_reference`` below is written from the equations (R1)-(R16) of
docs/trajectory.md, which the module docstring of ``overhang_jax/models/_trajectory.py``
repeats (not from the JAX code; only the grid constants are imported): it steps
both worlds n = 0 .. N with Python floats (float64), one draw at a time.

What is compared with it, draw by draw, in float64 (every scalar output and
the yearly E series of both worlds, 1e-9 absolute):
* the first draws of a runner run of the shipped default priors (the runner's
  own outputs and kept series);
* "wide" random draws from a numpy generator that switch every regime on and
  off (pause, evaders of every size, moving caps, absolute and relative caps,
  fear, gradual lifts, caps after 2100, ceilings near and far...), at several
  steps;
* hand-picked draws, one per regime and grid edge.
Then limits computed by hand (no cap, a freeze's delay, headroom and absolute
levels, a lift from the effective cap, the boost in proportion to the bind,
evaders of a given size, the ceilings' closed forms, full and no catch-up,
compute-dependent algorithms), the bound on E, the convergence in the step,
float32 against float64, the priors checks, and the runner (reproducibility,
histograms, quantile bands).

Compilation dominates the run time: every runner run is made once and cached
for the module (each new set-up compiles for seconds), and the model's own
jit(vmap) is compiled once per step size and always called on blocks of the
same size.
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
from overhang_jax.models._trajectory import END_YEAR, GROWTH_WINDOW_YEARS, START_YEAR, TRAJECTORY, trajectory

OUTPUTS = TRAJECTORY.output_names
SERIES = ("E_default", "E_policy")
NAMES = TRAJECTORY.parameter_names
STEP = TRAJECTORY.parameter("step_years").default
YEARS = np.arange(START_YEAR, END_YEAR + 1)
ATOL64 = 1e-9
RTOL64 = 1e-13
SEED = 20250117
DRAWS = 3000
REFERENCE_DRAWS = 30


def doubling_rate(months: float) -> float:
    """OOM/yr of a doubling time in months, g = 12 log10(2) / T."""
    return 12 * math.log10(2) / months


def grid_times(step_years: float) -> list[float]:
    """t_n = 2023 + n dt, n = 0 .. N (R1), computed as the model computes them."""
    k = round(1 / step_years)
    dt = 1.0 / k
    return [START_YEAR + n * dt for n in range((END_YEAR - START_YEAR) * k + 1)]


# --------------------------------------------------------------------------
# The reference: one draw, every step, plain Python floats.


def trajectory_reference(params) -> dict:
    """One draw of the trajectory model, written from (R1)-(R16) of docs/trajectory.md."""
    p = {name: float(value) for name, value in params.items()}
    inf, nan = math.inf, math.nan
    k = round(1 / p["step_years"])  # (R1)
    dt = 1.0 / k
    times = grid_times(dt)
    last = len(times) - 1  # N
    g_spend = doubling_rate(p["spend_doubling_months"])
    g_hw = doubling_rate(p["hw_doubling_months"])
    g_alg = doubling_rate(p["alg_doubling_months"])
    h0, c_hw, c_alg = p["compute_start"] - p["spend_start"], p["hw_ceiling"], p["alg_ceiling"]

    def price(t):  # (R2) H(t), log10 FLOP/$
        return h0 + c_hw * (1 - math.exp(-g_hw * (t - START_YEAR) / c_hw))

    def willing(t):  # (R3) W(t)
        return p["gwp_start"] + math.log10(p["max_spend_fraction"]) + p["g_gwp"] * (t - START_YEAR)

    # (R9) the cap's window on the grid: it starts at step s and ends at step e (None: after END_YEAR).
    s = next((n for n, t in enumerate(times) if t >= p["t_cap"]), None)
    e = next((n for n, t in enumerate(times) if t >= p["t_cap"] + p["D"]), None)
    sudden = p["end_draw"] < p["p_sudden"]
    level = None  # L_0, set at step s
    lift = None  # Lift_n of a gradual lift, from step e

    def cap(n):
        if s is None or n <= s:
            return inf
        if e is None or n <= e:
            return level + p["g_cap"] * (times[n] - times[s])
        if sudden:
            return inf
        return lift

    def effective(compute, experience, algorithms):  # (R14)
        return compute - (1 - p["rho"]) * (compute - experience) + algorithms

    spend0 = min(p["spend_start"], willing(times[0]))
    state = {w: (spend0, spend0 + h0, spend0 + h0, 0.0) for w in ("default", "policy")}
    e_curves = {w: [effective(*state[w][1:])] for w in state}
    spend_default = [spend0]
    withheld_total = 0.0  # over the cap's window s <= n < e
    run_growth = []  # P_n+1 - P_n of the regulated actors, each step
    target = None  # (1 - alpha) G, nominal
    for n in range(last):
        t, t_next = times[n], times[n + 1]
        if n == s:
            compute_now = state["policy"][1]
            level = min(p["P_cap"], compute_now + p["cap_headroom"])  # may be below the run: a freeze
        gap = (state["default"][1] + state["default"][3]) - (state["policy"][1] + state["policy"][3])
        if n == e:
            target = (1 - p["alpha"]) * gap
        in_force = s is not None and s <= n and (e is None or n < e)
        if n == e:
            lift = max(level + p["g_cap"] * (times[e] - times[s]), state["policy"][1])
        new = {}
        for world, (spend, compute, experience, algorithms) in state.items():
            policy = world == "policy"  # the default world has no cap, hence no catch-up
            phi = p["phi"]
            if policy and p["pause_deployment"] == 1 and in_force:
                phi = phi * (1 - p["revenue_share"] * (1 - p["e_share"]))
            now = e_curves[world][-1]
            feedback = max(0.0, 1 + phi * max(now - p["E_fb"], 0.0) - p["phi_fear"] * max(now - p["E_fear"], 0.0))
            spend_next = min(spend + g_spend * feedback * dt, willing(t_next))  # (R5)
            natural = (spend_next + price(t_next)) - (spend + price(t))  # (R6)
            extra = 0.0  # (R7)
            if policy and e is not None and n >= e:
                extra = max(gap - target, 0.0) * (1 - math.exp(-p["kappa"] * dt))
            # (R8) within the budget and the physical ceiling k_max
            wanted = min(compute + natural + extra, spend_next + price(t_next), compute + p["k_max"] * dt)
            if policy and e is not None and n >= e:  # the default world has stepped: its run's growth
                lift += p["g_lift"] * (new["default"][1] - state["default"][1])
            ceiling = cap(n + 1) if policy else inf
            compute_next = max(compute, min(wanted, ceiling))  # (R10)
            withheld = wanted - compute_next
            old_pace = min(natural, p["k_max"] * dt)  # g_n, the run's growth without a cap
            share = min(withheld / old_pace, 1.0) if withheld > 0 else 0.0  # (R11)
            ratio = 10.0 ** min((compute_next - compute - old_pace) / dt, 0.0)  # (R12)
            pace = g_alg * feedback * ratio ** p["lam"] * (1 + (p["beta"] - 1) * share)
            algorithms_next = c_alg - (c_alg - algorithms) * math.exp(-pace * dt / c_alg)
            experience_next = max(experience, min(compute_next, experience + p["g_exp"] * dt))  # (R13)
            new[world] = (spend_next, compute_next, experience_next, algorithms_next)
            e_curves[world].append(effective(compute_next, experience_next, algorithms_next))
            if policy:
                withheld_total += withheld if in_force else 0.0
                run_growth.append(compute_next - compute)
        state = new
        spend_default.append(new["default"][0])

    e_default, e_regulated = e_curves["default"], e_curves["policy"]
    # (R15) evaders: behind the default world by the constant handicap h and by the spend their share
    # of the willingness to spend cannot buy; never losing ground; the cap does not touch them.

    def missing(n):
        if p["e_share"] == 0:
            return inf
        return max(spend_default[n] - (willing(times[n]) + math.log10(p["e_share"])), 0.0)

    e_evader = list(itertools.accumulate((x - p["h"] - missing(n) for n, x in enumerate(e_default)), max))
    frontier = [max(r, v) for r, v in zip(e_regulated, e_evader)]  # (R16)

    def first_reach(series, level):
        """(time, step) E first reaches level, interpolated within the step; (inf, None) if never."""
        if series[0] >= level:
            return float(START_YEAR), 0
        for n in range(last):
            if series[n + 1] >= level:
                return times[n] + dt * (level - series[n]) / (series[n + 1] - series[n]), n + 1
        return inf, None

    tai_default, tai_step = first_reach(e_default, p["E_tai"])
    tai_policy, _ = first_reach(frontier, p["E_tai"])
    tai_regulated, leader_step = first_reach(e_regulated, p["E_tai"])
    tai_evaders, _ = first_reach(e_evader, p["E_tai"]) if p["e_share"] > 0 else (inf, None)
    band_default, _ = first_reach(e_default, p["E_tai"] - p["w"])
    band_policy, _ = first_reach(frontier, p["E_tai"] - p["w"])
    if leader_step is None or p["e_share"] == 0:
        lead = nan
    elif leader_step == 0:
        lead = e_regulated[0] - e_evader[0]
    else:
        j = leader_step
        a = (p["E_tai"] - e_regulated[j - 1]) / (e_regulated[j] - e_regulated[j - 1])
        lead = (1 - a) * (e_regulated[j - 1] - e_evader[j - 1]) + a * (e_regulated[j] - e_evader[j])
    if s is None and tai_default == inf:
        starts_before_tai = nan
    else:
        starts_before_tai = float(s is not None and times[s] < tai_default)
    if e is None:
        overhang = growth_policy = growth_regulated = growth_default = growth_run = nan
        ends_before_tai = nan if tai_default == inf else 0.0
    else:
        overhang = e_default[e] - e_regulated[e]
        ends_before_tai = float(times[e] < tai_default)
        window = range(e, min(e + GROWTH_WINDOW_YEARS * k, last))

        def fastest(curve):
            return max(((curve[n + 1] - curve[n]) / dt for n in window), default=nan)

        growth_policy, growth_regulated, growth_default = fastest(frontier), fastest(e_regulated), fastest(e_default)
        growth_run = max((run_growth[n] / dt for n in window), default=nan)
    return {
        "overhang_at_end": overhang,
        "catchable_overhang_at_end": p["alpha"] * overhang,
        "cap_ends_before_tai": ends_before_tai,
        "cap_starts_before_tai": starts_before_tai,
        "cap_binds": float(starts_before_tai == 1 and withheld_total > 0),
        "cap_withheld": withheld_total,
        "max_growth_after_end": growth_policy,
        "max_growth_regulated": growth_regulated,
        "max_run_growth_after_end": growth_run,
        "max_growth_default": growth_default,
        "tai_year_default": tai_default,
        "tai_year_policy": tai_policy,
        "tai_year_regulated": tai_regulated,
        "tai_year_evaders": tai_evaders,
        "tai_delay": nan if tai_default == inf and tai_policy == inf else tai_policy - tai_default,
        "tai_in_rampup_default": (nan if tai_step is None
                                  else float(spend_default[tai_step] < willing(times[tai_step]))),
        "danger_band_years_default": inf if tai_default == inf else tai_default - band_default,
        "danger_band_years_policy": inf if tai_policy == inf else tai_policy - band_policy,
        "lead_at_tai": lead,
        "E_default": np.array(e_default[::k]),
        "E_policy": np.array(frontier[::k]),
    }


# --------------------------------------------------------------------------
# The JAX model on batches of draws (float64), runner runs, draws.

BLOCK = 128


@functools.cache
def _model(step_years: float):
    """jit(vmap) of the model at one step (a Python number: it sets the loop's length)."""
    return jax.jit(jax.vmap(lambda p: trajectory({**p, "step_years": step_years})))


def evaluate(params: dict[str, np.ndarray], step_years: float = STEP) -> dict[str, np.ndarray]:
    """The model on a batch of draws in float64, in blocks of BLOCK draws (compiled once per step)."""
    size = len(params["t_cap"])
    out = {}
    with jax.enable_x64(True):
        for start in range(0, size, BLOCK):
            block = {}
            for name in NAMES:
                part = np.asarray(params[name][start:start + BLOCK], np.float64)
                block[name] = jnp.asarray(np.pad(part, (0, BLOCK - len(part)), mode="edge"), jnp.float64)
            for name, values in _model(step_years)(block).items():
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


def one_draw(params: dict[str, np.ndarray], i: int, step_years: float = STEP) -> dict[str, float]:
    return {**{name: float(params[name][i]) for name in NAMES}, "step_years": step_years}


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


def compare(actual: dict[str, np.ndarray], params: dict[str, np.ndarray], labels,
            step_years: float = STEP) -> list[str]:
    """Draw-by-draw differences between the model's outputs and the reference, as messages."""
    problems = []
    for i, label in enumerate(labels):
        expected = trajectory_reference(one_draw(params, i, step_years))
        for name in (*OUTPUTS, *SERIES):
            got, want = np.asarray(actual[name][i], np.float64), np.asarray(expected[name], np.float64)
            same_nonfinite = np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(
                np.where(np.isinf(got), got, 0), np.where(np.isinf(want), want, 0))
            finite = np.isfinite(got) & np.isfinite(want)
            error = np.max(np.abs(got[finite] - want[finite]) - RTOL64 * np.abs(want[finite]), initial=0.0)
            if not same_nonfinite or error > ATOL64:
                shown = (f"model {got!r} reference {want!r}" if got.ndim == 0
                         else f"max |diff| {error:.3g}, nonfinite pattern equal: {same_nonfinite}")
                problems.append(f"{label}: {name}: {shown}")
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
        "hw_doubling_months": uniform(15, 50), "hw_ceiling": sometimes(1000.0, 0.1, uniform(0.3, 14)),
        "alg_doubling_months": uniform(3, 30), "alg_ceiling": sometimes(1000.0, 0.1, uniform(0.3, 18)),
        "lam": sometimes(0.0, 0.2, sometimes(1.0, 0.25, uniform(0, 1))), "E_fb": uniform(25, 32),
        "phi": sometimes(0.0, 0.3, uniform(0, 0.2)), "revenue_share": uniform(0, 1),
        "phi_fear": sometimes(0.0, 0.5, uniform(0, 0.3)), "E_fear": uniform(28, 40),
        "t_cap": sometimes(2105.0, 0.1, uniform(2023, 2070)),
        "cap_headroom": sometimes(0.0, 0.3, sometimes(1000.0, 0.3, uniform(0, 2))),
        "P_cap": sometimes(1000.0, 0.5, uniform(24, 30)),
        "g_cap": sometimes(0.0, 0.5, uniform(0, 0.6)), "D": 10 ** uniform(-1.5, 1.6),
        "p_sudden": uniform(0, 1), "end_draw": uniform(0, 1), "g_lift": uniform(0, 1),
        "beta": sometimes(1.0, 0.3, uniform(1, 2)), "pause_deployment": sometimes(1.0, 0.4, 0.0),
        "e_share": sometimes(0.0, 0.4, 10 ** uniform(-6, 0)), "h": sometimes(0.0, 0.2, uniform(0, 0.6)),
        "alpha": uniform(0, 1), "kappa": 10 ** uniform(-1.5, 1.7), "k_max": uniform(0.3, 3),
        "rho": uniform(0, 1), "g_exp": uniform(0.2, 2), "E_tai": uniform(26, 50), "w": uniform(0, 4),
        "step_years": np.full(count, STEP),
    }
    assert set(params) == set(NAMES)
    return params


@pytest.mark.parametrize("step_years", [STEP, 0.05, 1.0])
def test_wide_random_draws_match_the_reference(step_years):
    count = 40 if step_years == STEP else 12
    params = wide_draws(count)
    problems = compare(evaluate(params, step_years), params, [f"wide draw {i}" for i in range(count)], step_years)
    assert not problems, "\n".join(problems)


# One draw per regime and grid edge: changes to the reference case (t_cap 2027, a freeze at the largest
# run (cap_headroom 0, P_cap 1000: none), D 5, end_draw = p_sudden = 0.5: lifted gradually, no evaders,
# lam 0.5, beta 1, phi 0.1, ceilings 8.8 and 12 OOM).
REGIMES = {
    "reference_case_gradual_lift": {},
    "sudden_end": {"end_draw": 0.1},
    "headroom": {"cap_headroom": 0.7, "end_draw": 0.1},
    "absolute_cap_above_the_run": {"P_cap": 27.5, "cap_headroom": 1000.0, "end_draw": 0.1},
    "absolute_cap_below_the_run": {"P_cap": 25.0},
    "absolute_cap_under_headroom": {"P_cap": 27.2, "cap_headroom": 1.5},
    "gradual_lift_of_a_moving_line": {"end_draw": 0.9, "g_cap": 0.15, "g_lift": 0.4, "cap_headroom": 0.1},
    "evaders": {"e_share": 0.15, "h": 0.3, "end_draw": 0.1},
    "evaders_with_a_tiny_share": {"e_share": 1e-6, "h": 0.0},
    "evaders_without_handicap": {"e_share": 0.3, "h": 0.0},
    "evaders_ahead_of_the_leader": {"e_share": 0.05, "h": 0.05, "D": 20.0},
    "pause_deployment": {"pause_deployment": 1.0, "e_share": 0.1, "E_fb": 26.0, "phi": 0.08,
                         "revenue_share": 0.7},
    "pause_deployment_no_evaders": {"pause_deployment": 1.0, "E_fb": 26.0, "revenue_share": 1.0},
    "cap_never_binds": {"cap_headroom": 60.0},
    "cap_starts_after_2100": {"t_cap": 2105.0, "e_share": 0.2},
    "beta_boost_moving_line": {"beta": 1.4, "lam": 0.3, "g_cap": 0.1, "cap_headroom": 0.5},
    "beta_boost_hard_cap_lam_zero": {"beta": 1.4, "lam": 0.0, "end_draw": 0.1},
    "feedback_and_fear": {"phi": 0.1, "E_fb": 26.0, "phi_fear": 0.05, "E_fear": 33.0},
    "fear_stops_growth": {"phi": 0.0, "phi_fear": 1.0, "E_fear": 28.0, "E_tai": 31.0},
    "no_feedback": {"phi": 0.0},
    "near_the_ceilings": {"hw_ceiling": 1.0, "alg_ceiling": 1.5, "E_tai": 29.0},
    "off_grid_cap": {"t_cap": 2026.37, "D": 3.83, "end_draw": 0.1},
    "cap_shorter_than_a_step": {"t_cap": 2027.01, "D": 0.05, "end_draw": 0.1},
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
    "never_reaches_tai_band_entered": {"E_tai": 60.0, "w": 20.0, "phi": 0.0},
    "cap_from_the_first_step": {"t_cap": 2023.0, "D": 10.0},
    "growth_window_cut_by_the_horizon": {"t_cap": 2040.0, "D": 57.37, "end_draw": 0.1},
    "cap_not_ended_by_2100": {"t_cap": 2080.0, "D": 30.0},
    "cap_not_ended_tai_never": {"t_cap": 2080.0, "D": 30.0, "E_tai": 200.0},
    # The cap ends at 2099.95: the first step with t_n >= t_end is the last one, t_N = 2100.
    "cap_ends_in_the_last_step": {"t_cap": 2090.0, "D": 9.95, "end_draw": 0.1},
    # t_end = 2027 + 3.2 is the grid time t_72 (the same float): the cap's last step is n = 72.
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
    assert get("cap_starts_after_2100", "cap_ends_before_tai") == 0
    assert get("cap_never_binds", "overhang_at_end") == 0 and get("cap_never_binds", "cap_binds") == 0
    assert get("sudden_end", "overhang_at_end") > 1 and get("sudden_end", "cap_binds") == 1
    assert 0 < get("headroom", "overhang_at_end") < get("sudden_end", "overhang_at_end")
    # A level below the largest run is the largest run: a freeze, exactly as with no absolute level.
    for name in OUTPUTS:
        assert np.array_equal(get("absolute_cap_below_the_run", name), get("reference_case_gradual_lift", name),
                              equal_nan=True), name
    assert get("cap_shorter_than_a_step", "cap_withheld") == 0
    assert get("tai_reached_at_start", "tai_year_default") == START_YEAR
    assert get("tai_in_rampup", "tai_in_rampup_default") == 1
    assert get("ramped_up_early", "tai_in_rampup_default") == 0
    assert get("never_reaches_tai", "tai_year_policy") == np.inf
    assert get("never_reaches_tai", "cap_ends_before_tai") == 1
    assert np.isnan(get("cap_not_ended_tai_never", "cap_ends_before_tai"))
    assert get("cap_not_ended_by_2100", "cap_ends_before_tai") == 0
    assert np.isnan(get("cap_not_ended_by_2100", "max_growth_after_end"))
    assert get("evaders_ahead_of_the_leader", "lead_at_tai") < 0
    assert get("evaders_with_a_tiny_share", "tai_year_policy") == get("evaders_with_a_tiny_share",
                                                                      "tai_year_regulated")
    assert get("evaders_without_handicap", "tai_year_policy") < get("evaders_without_handicap", "tai_year_regulated")
    assert np.isnan(get("sudden_end", "lead_at_tai"))  # no evaders
    assert get("beta_boost_moving_line", "tai_delay") != get("reference_case_gradual_lift", "tai_delay")
    assert get("beta_boost_hard_cap_lam_zero", "overhang_at_end") < get("sudden_end", "overhang_at_end")


# --------------------------------------------------------------------------
# 2. Limits, by hand.


def default_draws(count: int) -> dict[str, np.ndarray]:
    return {name: values[:count] for name, values in params_of(runner_run()).items()}


@pytest.mark.parametrize("no_cap", [{"t_cap": 2105.0}, {"cap_headroom": 60.0, "pause_deployment": 0.0}])
def test_without_a_binding_cap_the_policy_world_is_the_default_world_exactly(no_cap):
    # Random draws of the defaults (evaders, beta, lifts and all); a cap after 2100 or far above
    # any run the budget buys changes nothing: bitwise the same worlds, when there are no evaders.
    params = draws_of({**no_cap, "e_share": 0.0}, default_draws(256))
    out = evaluate(params)
    assert np.array_equal(out["E_policy"], out["E_default"])
    assert np.array_equal(out["tai_year_policy"], out["tai_year_default"])
    assert np.array_equal(out["tai_year_regulated"], out["tai_year_default"])
    reached = np.isfinite(out["tai_year_default"])
    assert reached.mean() > 0.9
    assert np.all(out["tai_delay"][reached] == 0)
    assert np.all(np.isnan(out["tai_delay"][~reached]))
    assert np.array_equal(out["danger_band_years_policy"], out["danger_band_years_default"], equal_nan=True)
    assert np.all(out["cap_binds"] == 0) and np.all(out["cap_withheld"] == 0)
    if "cap_headroom" in no_cap:
        assert np.all(out["overhang_at_end"] == 0) and np.all(out["catchable_overhang_at_end"] == 0)
        assert np.array_equal(out["max_growth_after_end"], out["max_growth_default"])
    else:
        assert np.all(np.isnan(out["overhang_at_end"]))


# A world where everything is linear and by hand: no feedback, no experience penalty, algorithms
# independent of compute, no boost, no evaders, a freeze at the largest run with a sudden end and no
# catch-up, and ceilings so far away (1e9 OOM) that growth is linear to within 1e-6 OOM by 2100
# (C (1 - exp(-g t / C)) = g t - (g t)^2 / (2 C) + ...).
LINEAR = {"alpha": 0.0, "lam": 0.0, "beta": 1.0, "e_share": 0.0, "phi": 0.0, "phi_fear": 0.0, "rho": 1.0,
          "g_cap": 0.0, "end_draw": 0.0, "p_sudden": 0.5, "pause_deployment": 0.0, "cap_headroom": 0.0,
          "P_cap": 1000.0, "hw_ceiling": 1e9, "alg_ceiling": 1e9}
ATOL_LINEAR = 1e-6
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
    draw = {**TRAJECTORY.reference_draw(), **LINEAR, **start, "t_cap": t_cap, "D": duration, "E_tai": e_tai,
            **changes}
    return draw, rate_p, rate_e


def on_grid(t: float) -> float:
    """The first grid time at or after t: the cap starts and ends there."""
    return next(time for time in grid_times(STEP) if time >= t)


HARD_CAPS = [("rampup", 2026.0, 4.0, 2034.55), ("rampup", 2026.37, 4.26, 2034.55),
             ("ramped", 2027.0, 6.0, 2036.55), ("ramped", 2027.37, 6.26, 2036.55)]


@pytest.mark.parametrize("phase,t_cap,duration,tai", HARD_CAPS)
def test_a_freeze_loses_the_compute_growth_of_its_duration(phase, t_cap, duration, tai):
    # A freeze at the largest run when the cap starts holds it from t_cap to t_end (both rounded up to
    # the grid): it loses r_P (t_e - t_s) OOM of physical compute (r_P = g_spend + g_hw in the ramp-up,
    # g_gwp + g_hw once spend is at W), all of it withheld growth, never recovered (alpha = 0). The gap
    # is measured at t_e, the step the cap ends; on the grid (t_cap = 2026, D = 4) that is r_P D exactly.
    # E = P + Alg grows at r_E = r_P + g_alg in both worlds before and after, so the delay is lost / r_E.
    draw, rate_p, rate_e = linear_world(phase, t_cap, duration, tai)
    out = evaluate(draws_of([draw]))
    assert out["tai_in_rampup_default"][0] == (1.0 if phase == "rampup" else 0.0)  # the phase intended
    assert out["tai_year_default"][0] == pytest.approx(tai, abs=ATOL_LINEAR)
    lost = rate_p * (on_grid(t_cap + duration) - on_grid(t_cap))
    if t_cap == round(t_cap) and duration == round(duration):
        assert lost == pytest.approx(rate_p * duration, abs=1e-12)
    assert out["overhang_at_end"][0] == pytest.approx(lost, abs=ATOL_LINEAR)
    assert out["cap_withheld"][0] == pytest.approx(lost, abs=ATOL_LINEAR) and out["cap_binds"][0] == 1
    assert out["tai_delay"][0] == pytest.approx(lost / rate_e, abs=ATOL_LINEAR)
    assert out["catchable_overhang_at_end"][0] == 0  # alpha = 0: nothing to catch up
    assert out["cap_ends_before_tai"][0] == 1


@pytest.mark.parametrize("changes,expected", [
    ({"cap_headroom": 0.5}, lambda lost: lost - 0.5),                      # binds once 0.5 OOM is used up
    ({"P_cap": 20.0}, lambda lost: lost),                                 # a level below the run: a freeze
    ({"P_cap": 27.0, "cap_headroom": 1000.0}, lambda lost: lost - (27.0 - (25.3 + (G_SPEND + G_HW) * 3))),
    ({"P_cap": 27.5, "cap_headroom": 0.3}, lambda lost: lost - 0.3),      # the lower of the two applies
    ({"P_cap": 27.0, "cap_headroom": 0.3}, lambda lost: lost - (27.0 - (25.3 + (G_SPEND + G_HW) * 3))),
])
def test_the_cap_is_relative_to_the_largest_run_or_absolute(changes, expected):
    # In the ramp-up, the largest run is 25.3 + r_P (t - 2023); the cap of 2026-2030 holds it at
    # max(P_s, min(P_cap, P_s + headroom)) (R9-R10: a level below P_s freezes the run there), so it
    # withholds the growth above that level.
    draw, rate_p, _ = linear_world("rampup", 2026.0, 4.0, 2034.55, **changes)
    out = evaluate(draws_of([draw]))
    assert out["overhang_at_end"][0] == pytest.approx(expected(rate_p * 4.0), abs=ATOL_LINEAR)
    assert out["cap_withheld"][0] == pytest.approx(expected(rate_p * 4.0), abs=ATOL_LINEAR)


def test_a_line_below_the_frontier_freezes_runs_until_it_passes_them():
    # Seed post 001's moving bright line: 0.6 OOM below the largest run of 2026, rising 0.2 OOM/yr,
    # passes it in 2029; runs stay at P_s until then and follow the line for the last year. The run
    # loses r_P 4 - 0.2 OOM by 2030 (a floor at the frontier, as in the second version, let the line
    # rise from P_s at once: r_P 4 - 0.8).
    draw, rate_p, _ = linear_world("rampup", 2026.0, 4.0, 2034.55, cap_headroom=-0.6, g_cap=0.2)
    out = evaluate(draws_of([draw]))
    assert out["overhang_at_end"][0] == pytest.approx(rate_p * 4.0 - 0.2, abs=ATOL_LINEAR)
    assert out["cap_withheld"][0] == pytest.approx(rate_p * 4.0 - 0.2, abs=ATOL_LINEAR)


@pytest.mark.parametrize("cap", [{"P_cap": 20.0}, {"cap_headroom": 0.0}, {"cap_headroom": 0.6, "g_cap": 0.1}])
def test_a_gradual_lift_rises_from_the_effective_cap_at_a_share_of_the_uncapped_pace(cap):
    # Lifted gradually with g_lift = 0.4, the cap rises by 0.4 of the default world's growth of its run
    # (r_P a year), from the level it stood at (or the run, if the level sat below it): the run never
    # grows faster than the uncapped world's, however large the overhang (alpha = 1, fast catch-up).
    draw, rate_p, _ = linear_world("rampup", 2026.0, 4.0, 2034.55, end_draw=0.9, g_lift=0.4, alpha=1.0,
                                   kappa=5.0, **cap)
    out = evaluate(draws_of([draw]))
    year = list(YEARS).index(2030)
    growth = out["E_policy"][0, year + 1:year + 4] - out["E_policy"][0, year:year + 3]  # E = P + Alg
    np.testing.assert_allclose(growth, 0.4 * rate_p + G_ALG, rtol=0, atol=ATOL_LINEAR)
    assert out["max_run_growth_after_end"][0] == pytest.approx(0.4 * rate_p, abs=ATOL_LINEAR)
    # The cap's window withheld r_P 4 OOM less any headroom; the lift's withholding is not counted
    # (the second version added every step's catch-up pull during the lift, up to 44 OOM).
    headroom = cap.get("cap_headroom", 0.0) + cap.get("g_cap", 0.0) * 4.0
    assert out["cap_withheld"][0] == pytest.approx(rate_p * 4.0 - headroom, abs=ATOL_LINEAR)
    default = out["E_default"][0, year + 1] - out["E_default"][0, year]
    assert default == pytest.approx(rate_p + G_ALG, abs=ATOL_LINEAR)


def test_the_boost_is_in_proportion_to_the_growth_withheld():
    # A freeze withholds all of each step's growth: algorithms run at beta g_alg throughout, and the gap
    # shrinks by (beta - 1) g_alg per year. A cap whose headroom leaves half of the last step's growth
    # withheld (and none before) boosts that one step by 1 + (beta - 1) / 2.
    beta, dt = 1.4, STEP
    freeze, rate_p, _ = linear_world("rampup", 2026.0, 4.0, 2034.55, beta=beta)
    barely, _, _ = linear_world("rampup", 2026.0, 4.0, 2034.55, beta=beta,
                                cap_headroom=rate_p * 4.0 - 0.5 * rate_p * dt)
    out = evaluate(draws_of([freeze, barely]))
    assert out["overhang_at_end"][0] == pytest.approx((rate_p - (beta - 1) * G_ALG) * 4.0, abs=ATOL_LINEAR)
    assert out["cap_withheld"][1] == pytest.approx(0.5 * rate_p * dt, abs=ATOL_LINEAR)
    assert out["overhang_at_end"][1] == pytest.approx(0.5 * rate_p * dt - 0.5 * (beta - 1) * G_ALG * dt,
                                                      abs=ATOL_LINEAR)


def test_a_cap_that_barely_binds_barely_moves_tai():
    # The delay is continuous in the cap's headroom: no full boost switches on at the first OOM withheld.
    draws = [{**TRAJECTORY.reference_draw(), "beta": 1.5, "end_draw": 0.1, "cap_headroom": headroom}
             for headroom in np.linspace(0, 4, 161)]
    out = evaluate(draws_of(draws))
    withheld, delay = out["cap_withheld"], out["tai_delay"]
    assert np.all(np.diff(withheld) <= 1e-12) and withheld[0] > 1 and withheld[-1] == 0  # the sweep spans it
    barely = (withheld > 0) & (withheld < 0.05)
    assert barely.any()
    # At most 2 years per OOM withheld (E grows about 0.7 OOM/yr in this draw): the delay shrinks to 0
    # with the growth withheld, no jump.
    assert np.all(np.abs(delay[barely]) <= 2.0 * withheld[barely])


def test_a_cap_never_holds_evaders_back():
    # Evaders with the whole willingness to spend and a constant handicap h = 0.3 OOM trail the world
    # without the cap by h, cap or no cap: a 4-year freeze that costs the regulated actors 2 OOM delays
    # the frontier by h / r_E only (the second version made them lose h per year of the cap: 1.2 OOM).
    # With h = 0 the delay is 0. The cap narrows the regulated actors' lead over them: h without it.
    capped = [linear_world("rampup", 2026.0, 4.0, 2034.55, e_share=1.0, h=h)[0] for h in (0.3, 0.0)]
    free = [linear_world("rampup", 2105.0, 4.0, 2034.55, e_share=1.0, h=h)[0] for h in (0.3, 0.0)]
    _, rate_p, rate_e = linear_world("rampup", 2026.0, 4.0, 2034.55)
    out = evaluate(draws_of(capped + free))
    assert out["tai_delay"][0] == pytest.approx(0.3 / rate_e, abs=ATOL_LINEAR)
    assert out["tai_delay"][1] == 0
    assert out["tai_year_evaders"][0] == pytest.approx(out["tai_year_default"][0] + 0.3 / rate_e, abs=ATOL_LINEAR)
    assert out["tai_year_evaders"][0] == out["tai_year_evaders"][2]  # the cap does not touch them
    assert out["lead_at_tai"][2] == pytest.approx(0.3, abs=ATOL_LINEAR)
    # Capped, the regulated actors reach E_tai 4 r_P / r_E years late, when evaders are past it.
    assert out["lead_at_tai"][0] == pytest.approx(0.3 - rate_p * 4.0, abs=ATOL_LINEAR)


def test_growth_of_the_largest_run_stays_within_the_physical_ceiling():
    # The priors cite 1.06 OOM/yr (the 3.4-month doubling of 2012-2018) as the fastest the largest run
    # can grow; fast, full catch-up after a long freeze pushes against it (the second version let the
    # run grow up to 1.95 OOM/yr after the cap).
    params = draws_of({"alpha": 1.0, "kappa": 5.0, "p_sudden": 1.0}, default_draws(512))
    out = evaluate(params)
    growth = out["max_run_growth_after_end"][np.isfinite(out["max_run_growth_after_end"])]
    assert growth.size > 400
    assert np.all(growth <= params["k_max"][0] + 1e-9)
    assert np.mean(growth > params["k_max"][0] - 1e-9) > 0.05  # the ceiling is reached, so it is tested


def test_a_cap_that_starts_after_tai_in_the_world_without_it_does_not_count_as_binding():
    # TAI comes in 2034.55 without a cap; a freeze from 2040 withholds growth but starts too late.
    late, _, _ = linear_world("rampup", 2040.0, 4.0, 2034.55)
    early, _, _ = linear_world("rampup", 2026.0, 4.0, 2034.55)
    out = evaluate(draws_of([late, early]))
    assert out["cap_withheld"][0] > 0.3
    assert out["cap_starts_before_tai"][0] == 0 and out["cap_binds"][0] == 0 and out["tai_delay"][0] == 0
    assert out["cap_starts_before_tai"][1] == 1 and out["cap_binds"][1] == 1


def test_evaders_share_bounds_what_they_can_spend():
    # In the ramp-up (W = 1e14 $/yr) spend is S = 8 + g_spend (t - 2023). Evaders with e_share of the
    # willingness to spend can spend W + log10(e_share): a share of 1e-6 (10^8 $) is outrun from the
    # start and never carries the frontier; a share of 0.3 without handicap is the default world.
    tiny, _, _ = linear_world("rampup", 2026.0, 4.0, 2034.55, e_share=1e-6, h=0.0)
    large, _, _ = linear_world("rampup", 2026.0, 4.0, 2034.55, e_share=0.3, h=0.0)
    out = evaluate(draws_of([tiny, large]))
    assert out["tai_year_policy"][0] == out["tai_year_regulated"][0] > out["tai_year_default"][0]
    assert out["tai_year_policy"][1] == pytest.approx(out["tai_year_default"][1], abs=ATOL_LINEAR)
    # The tiny share's E: its spend ceiling 14 - 6 + g_gwp (t - 2023) plus H and Alg, linear by hand,
    # so its lead when the regulated actors reach E_tai is E_tai minus that.
    rate = G_GWP + G_HW + G_ALG
    tai = out["tai_year_regulated"][0]
    assert out["lead_at_tai"][0] == pytest.approx(tiny["E_tai"] - (25.3 + rate * (tai - START_YEAR)),
                                                  abs=ATOL_LINEAR)


def test_ceilings_closed_forms():
    # No feedback, lam = 0, no cap: price-performance follows H_0 + C_hw (1 - exp(-g_hw t / C_hw)) and
    # algorithms C_alg (1 - exp(-g_alg t / C_alg)) exactly (the update is exact for a constant pace);
    # once spend is at W, E = W + H + Alg with W linear.
    draw, _, _ = linear_world("ramped", 2105.0, 5.0, 2036.55, hw_ceiling=2.0, alg_ceiling=3.0, E_tai=200.0)
    out = evaluate(draws_of([draw]))
    tau = YEARS - START_YEAR
    hw = 2.0 * (1 - np.exp(-G_HW * tau / 2.0))
    alg = 3.0 * (1 - np.exp(-G_ALG * tau / 3.0))
    after = YEARS >= 2025  # spend at W from 2024.4
    expected = 8 + G_GWP * tau + (25.3 - 7.5) + hw + alg
    np.testing.assert_allclose(out["E_default"][0, after], expected[after], rtol=0, atol=1e-9)


def test_no_catch_up_makes_the_delay_permanent():
    # alpha = 0: after the cap both worlds grow at the same rate; the gap stays G forever.
    params = draws_of(LINEAR, default_draws(128))
    out = evaluate(params)
    t_end = params["t_cap"] + params["D"]
    after = YEARS[None, :] >= t_end[:, None] + STEP
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
    np.testing.assert_allclose(out["catchable_overhang_at_end"], out["overhang_at_end"], rtol=0, atol=0)


@pytest.mark.parametrize("g_cap", [0.0, 0.2])
@pytest.mark.parametrize("lam", [0.0, 0.05, 0.5, 1.0])
def test_compute_dependence_of_algorithms(lam, g_cap):
    # A cap that binds from its start (at the largest run then, rising at g_cap < r_P) grows compute by
    # a factor 10^g_cap a year where the default world grows it by 10^r_P: the ratio of growth factors
    # is 10^(g_cap - r_P), and algorithms grow at g_alg ratio^lam (lam = 0: regardless). At lam = 1 a
    # freeze keeps 10^-r_P of the pace (32% at r_P = 0.5): the cap bounds the largest run, not the
    # compute of experiments.
    t_cap, duration = 2026.0, 4.0
    draw, rate_p, _ = linear_world("rampup", t_cap, duration, 2034.55, lam=lam, g_cap=g_cap)
    out = evaluate(draws_of([draw]))
    ratio = 10.0 ** (g_cap - rate_p)
    physical = (rate_p - g_cap) * duration
    algorithmic = G_ALG * (1 - ratio ** lam) * duration
    assert out["overhang_at_end"][0] == pytest.approx(physical + algorithmic, abs=ATOL_LINEAR)
    if lam == 0:
        assert out["overhang_at_end"][0] == pytest.approx(physical, abs=ATOL_LINEAR)  # the compute lost
    else:
        assert out["overhang_at_end"][0] > physical + 0.5 * algorithmic > physical  # algorithms slowed too


@pytest.mark.parametrize("beta", ["prior", 1.0])
def test_evaders_without_a_handicap_are_never_behind_the_default_world_while_they_can_pay(beta):
    # h = 0 and a share of the willingness to spend above what the default world spends (spend starts
    # at or below W, so a share of 1 always pays): evaders are the default world.
    base = default_draws(256)
    params = draws_of({"h": 0.0, "e_share": 1.0}, base)
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
    # E_tai = 1e200 FLOP: never reached (E is bounded by the ceilings, below 1e60 FLOP).
    text = 'model = "trajectory"\n[params]\nE_tai = 200\n'
    priors = oj.load_priors(TRAJECTORY, text=text)
    draws = 500
    results = oj.run("trajectory", priors, draws=draws, seed=3, float64=True, chunk_size=draws)
    out = outputs_of(results)
    assert np.all(np.isposinf(out["tai_year_default"])) and np.all(np.isposinf(out["tai_year_policy"]))
    assert np.all(np.isposinf(out["tai_year_regulated"]))
    assert np.all(np.isnan(out["tai_delay"])) and np.all(np.isnan(out["tai_in_rampup_default"]))
    assert np.all(np.isnan(out["lead_at_tai"]))
    assert np.all(out["cap_ends_before_tai"] == 1)  # every cap of the defaults ends by 2090
    counts = oj.nonfinite_counts(results)
    for name in ("tai_year_default", "tai_year_policy", "tai_year_regulated", "tai_delay", "tai_in_rampup_default",
                 "danger_band_years_default", "danger_band_years_policy", "lead_at_tai"):
        assert counts[name] == draws, name
    for name in ("overhang_at_end", "catchable_overhang_at_end", "cap_ends_before_tai", "cap_binds",
                 "cap_withheld", "max_growth_after_end", "max_growth_regulated", "max_growth_default"):
        assert counts[name] == 0, name
    summary = oj.summary(results)
    assert summary.loc["tai_year_default", "nonfinite"] == draws


# --------------------------------------------------------------------------
# 3. Bounded progress, the default priors' outputs, convergence in the step, float32 against float64.


def test_effective_compute_stays_below_its_bound_in_every_draw():
    # E <= W(2100) + H_0 + C_hw + C_alg (every draw of the defaults, both worlds, every year), and the
    # per-year histograms never overflow their range of [20, 70) log10 FLOP.
    results = runner_run()
    p = params_of(results)
    bound = (p["gwp_start"] + np.log10(p["max_spend_fraction"]) + p["g_gwp"] * (END_YEAR - START_YEAR)
             + p["compute_start"] - p["spend_start"] + p["hw_ceiling"] + p["alg_ceiling"])
    series = default_series()
    for name in SERIES:
        assert np.all(series[name] <= bound[:, None]), name
        assert np.all(results["trajectories"][f"{name}_counts"].values[:, -1] == 0), name
    assert np.max(bound) < 70


def test_default_outputs_are_consistent():
    out, p = outputs_of(runner_run()), params_of(runner_run())
    np.testing.assert_array_equal(out["catchable_overhang_at_end"], p["alpha"] * out["overhang_at_end"])
    assert np.array_equal(out["cap_binds"], ((out["cap_withheld"] > 0) & (out["cap_starts_before_tai"] == 1)
                                             ).astype(float))
    assert 0.5 < out["cap_binds"].mean() < 1  # most caps bind; a headroom of up to 1 OOM may not
    # The overhang is at most the growth withheld plus the algorithmic pace the cap cost.
    assert np.all(out["overhang_at_end"] <= out["cap_withheld"] + 1e-9 + 12 * 0.6)
    no_evaders = p["e_share"] == 0
    assert 0.4 < no_evaders.mean() < 0.6
    assert np.all(np.isnan(out["lead_at_tai"][no_evaders]))
    # Without evaders their TAI year is +inf, declared undefined: not a failed draw.
    assert np.all(np.isposinf(out["tai_year_evaders"][no_evaders]))
    assert TRAJECTORY.outputs[TRAJECTORY.output_names.index("tai_year_evaders")].undefined
    assert np.array_equal(out["tai_year_policy"][no_evaders], out["tai_year_regulated"][no_evaders])
    ended = np.isfinite(out["tai_year_default"])
    t_end = np.array([on_grid(t) for t in p["t_cap"] + p["D"]])
    np.testing.assert_array_equal(out["cap_ends_before_tai"][ended],
                                  (t_end < out["tai_year_default"])[ended].astype(float))


# Halving the step from 0.1 to 0.05 years moves each output's median (over 1024 draws of the
# defaults, float64, the same draws at both steps) by less than this; the growth rates are one-step
# maxima, which converge at first order (the change halves when the step halves again).
CONVERGENCE_TOLERANCE = {
    "overhang_at_end": 0.02, "catchable_overhang_at_end": 0.02, "cap_ends_before_tai": 0.01, "cap_binds": 0.01,
    "cap_withheld": 0.02, "max_growth_after_end": 0.05, "max_growth_regulated": 0.05, "max_growth_default": 0.02,
    "tai_year_default": 0.05, "tai_year_policy": 0.05, "tai_year_regulated": 0.05, "tai_delay": 0.05,
    "tai_in_rampup_default": 0.01, "danger_band_years_default": 0.05, "danger_band_years_policy": 0.05,
    "lead_at_tai": 0.02, "cap_starts_before_tai": 0.01, "max_run_growth_after_end": 0.05,
    "tai_year_evaders": 0.05,
}
FLAGS = ("cap_ends_before_tai", "cap_starts_before_tai", "cap_binds", "tai_in_rampup_default")


def medians(out: dict[str, np.ndarray]) -> dict[str, float]:
    # A flag's "median" is its share of draws (the median of a 0/1 output is 0 or 1).
    return {name: float(np.nanmean(out[name]) if name in FLAGS else np.median(out[name][np.isfinite(out[name])]))
            for name in OUTPUTS}


@functools.cache
def converging(step_years: float) -> dict[str, float]:
    return medians(evaluate(default_draws(1024), step_years))


def test_halving_the_step_moves_every_median_by_less_than_its_tolerance():
    assert set(CONVERGENCE_TOLERANCE) == set(OUTPUTS)
    coarse, fine = converging(0.1), converging(0.05)
    moved = {name: abs(fine[name] - coarse[name]) for name in OUTPUTS}
    too_far = {name: (coarse[name], fine[name]) for name in OUTPUTS if moved[name] >= CONVERGENCE_TOLERANCE[name]}
    assert not too_far, too_far
    finer = converging(0.025)
    for name in ("max_growth_after_end", "max_growth_regulated"):
        # Moves below half the tolerance of a comparison (0.01 OOM/yr) are the median's noise at
        # 1024 draws: the steps need not shrink there.
        noise = oj.TRAJECTORY.outputs[oj.TRAJECTORY.output_names.index(name)].tolerance / 2
        assert abs(finer[name] - fine[name]) < 0.75 * moved[name] + noise, name


# From 0.1 to 0.025 years the 95th percentiles move by less than the medians' tolerances, except
# where the cap's window matters: it snaps to the grid (t_cap and its end rounded up to a step), so
# a freeze can start up to 0.075 years later at the coarse step, and a TAI reached during a freeze,
# when E grows only by slowed algorithms (~0.15 OOM/yr), moves by several times that (0.53 years
# for the policy world's 95th percentile, first order in the step). Those are stated here.
TAIL_TOLERANCE = {**CONVERGENCE_TOLERANCE, "cap_withheld": 0.03, "lead_at_tai": 0.04, "tai_year_policy": 0.6,
                  "tai_year_regulated": 0.2}


def quantiles_95(out: dict[str, np.ndarray]) -> dict[str, float]:
    return {name: float(np.nanmean(out[name]) if name in FLAGS else
                        np.quantile(out[name][np.isfinite(out[name])], 0.95)) for name in OUTPUTS}


def test_refining_the_step_moves_every_95th_percentile_by_less_than_its_tolerance():
    coarse, finer = (quantiles_95(evaluate(default_draws(1024), dt)) for dt in (0.1, 0.025))
    too_far = {name: (coarse[name], finer[name]) for name in OUTPUTS
               if abs(finer[name] - coarse[name]) >= TAIL_TOLERANCE[name]}
    assert not too_far, too_far


def test_float32_agrees_with_float64():
    # The same seed in both precisions (the float32 draws are the float64 ones to ~1e-5 relative).
    single, double = outputs_of(runner_run(float64=False)), outputs_of(runner_run())
    for name in ("tai_year_default", "tai_year_policy", "tai_year_regulated", "tai_delay"):
        assert single[name].dtype == np.float32
        assert np.array_equal(np.isfinite(single[name]), np.isfinite(double[name])), name
        finite = np.isfinite(double[name])
        error = np.abs(single[name][finite].astype(np.float64) - double[name][finite])
        assert np.mean(error < 0.05) >= 0.99, name
        assert np.max(error) < 0.5, name
    for name in ("overhang_at_end", "cap_withheld"):
        error = np.abs(single[name].astype(np.float64) - double[name])
        assert np.mean(error < 0.01) >= 0.99, name
    assert np.mean(single["tai_in_rampup_default"] == double["tai_in_rampup_default"]) >= 0.99
    assert np.mean(single["cap_binds"] == double["cap_binds"]) >= 0.99


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
    ("hw_ceiling = 0", "hw_ceiling"),
    ("alg_ceiling = -1", "alg_ceiling"),
    ("pause_deployment = 0.5", "pause_deployment"),
    ('pause_deployment = { dist = "uniform", lo = 0, hi = 1 }', "pause_deployment"),
    ("beta = 0.5", "beta"),
    ("lam = 1.5", "lam"),
    ("rho = -0.1", "rho"),
    ("alpha = 2", "alpha"),
    ("max_spend_fraction = 0", "max_spend_fraction"),
    ("t_cap = 2020", "t_cap"),
    ('step_years = { dist = "uniform", lo = 0.05, hi = 0.1 }', "step_years"),  # sets the loop's length
    ("step_years = 2", "step_years"),
    ("step_years = 0", "step_years"),
    ("step_years = 0.3", "step_years"),  # not 1/k for a whole k
    ("step_years = 0.0001", "step_years"),
])
def test_meaningless_inputs_are_rejected_before_compute(tmp_path, text, name):
    with pytest.raises(oj.PriorsError, match=f"parameter '{name}'"):
        oj.load_priors(TRAJECTORY, text=f'model = "trajectory"\n[params]\n{text}\n')
    path = tmp_path / "priors.toml"
    path.write_text(f'model = "trajectory"\n[params]\n{text}\n')
    with pytest.raises(oj.PriorsError, match=f"parameter '{name}'"):
        oj.run("trajectory", path, draws=10, seed=0)


def test_the_model_asks_for_its_step_as_a_number():
    draw = {name: jnp.asarray(value) for name, value in TRAJECTORY.reference_draw().items()}
    with pytest.raises(TypeError, match="step_years"):
        jax.jit(trajectory)(draw)


def test_a_finer_step_through_the_runner_matches_the_reference():
    text = 'model = "trajectory"\n[params]\nstep_years = 0.05\n'
    results = oj.run("trajectory", oj.load_priors(TRAJECTORY, text=text), draws=64, seed=SEED, float64=True,
                     chunk_size=64)
    params = params_of(results)
    assert np.all(params["step_years"] == 0.05)
    actual = outputs_of(results)
    actual.update({name: results["trajectories"][name].values for name in SERIES})
    first = {name: values[:6] for name, values in params.items()}
    problems = compare(actual, first, [f"draw {i}" for i in range(6)], 0.05)
    assert not problems, "\n".join(problems)


def test_each_step_runs_its_own_compiled_function():
    # The step is a constant of the compiled chunk: a run with another step must not reuse the function
    # compiled for the first one (it did, when only the step's value differed).
    def run(step):
        text = f'model = "trajectory"\n[params]\nstep_years = {step}\n'
        return oj.run("trajectory", oj.load_priors(TRAJECTORY, text=text), draws=32, seed=SEED, float64=True,
                      chunk_size=32)

    coarse, fine = run(0.5), run(0.25)
    actual = outputs_of(fine)
    assert not np.array_equal(outputs_of(coarse)["tai_year_default"], actual["tai_year_default"])
    actual.update({name: fine["trajectories"][name].values for name in SERIES})
    first = {name: values[:4] for name, values in params_of(fine).items()}
    problems = compare(actual, first, [f"draw {i}" for i in range(4)], 0.25)
    assert not problems, "\n".join(problems)


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
        assert inside.all()  # E is bounded: every quantile of every year is within the histograms' range
        # Half a bin, plus the rounding of a value on a bin edge (the runner's and our float64 series
        # may differ in the last bits).
        np.testing.assert_array_less(np.abs(band - exact), width / 2 + 1e-6)


def test_the_docs_page_states_the_equations_of_the_code():
    # docs/trajectory.md carries the docstring's (R1)-(R16) verbatim: one set of equations, two places.
    from pathlib import Path

    from overhang_jax.models import _trajectory

    doc = _trajectory.__doc__
    block = doc[doc.index("(R1) Grid"):doc.index("\n\n", doc.index("(R16)"))]
    page = (Path(__file__).resolve().parents[2] / "docs" / "trajectory.md").read_text(encoding="utf-8")
    assert block in page
    assert "MODELS.md" not in doc and "MODELS.md" not in page
