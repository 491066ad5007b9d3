"""The trajectory model: ramp-up, compute caps, pause and catch-up.

docs/trajectory.md is this model's page: every equation below (same labels,
same symbols, same order), its units, defaults and sources, and where it
departs from the original specification. Two worlds are stepped side by side
from the same draw (common random numbers, so every comparison is paired): the
*default* world without a policy and the *policy* world with a cap on the
largest training run. Everything is in log10 ("OOM"); time in years; 2023
is the calibration year (GPT-4, ~2e25 FLOP, trained for ~$1e8). Parameters
and state per world, step n -> n + 1 (doubling times T in months become
rates once, g = 12 log10(2) / T OOM/yr, ``rate_from_doubling_months``):

(R1) Grid: t_n = START_YEAR + n dt, n = 0 .. N = (END_YEAR - START_YEAR) / dt,
     dt = step_years = 1 / k for a whole number k of steps per year (a point
     value: k is the compiled loop's length).
(R2) H(t)    = H_0 + C_hw (1 - exp(-g_hw (t - START_YEAR) / C_hw))     price-performance, log10 FLOP/$
              H_0 = compute_start - spend_start, C_hw = hw_ceiling: growth at g_hw slows
              in proportion to the distance left to the ceiling (dH/dt = g_hw (1 - (H - H_0) / C_hw))
(R3) W(t)    = gwp_start + log10(max_spend_fraction) + g_gwp (t - START_YEAR)   willingness to spend
(R4) f_n     = max(0, 1 + phi_n max(E_n - E_fb, 0) - phi_fear max(E_n - E_fear, 0))   feedback
              phi_n = phi (1 - revenue_share (1 - e_share)) while deployment is paused
              (pause_deployment = 1, s <= n < e), else phi: the regulated actors lose
              their revenue; evaders (share e_share) keep theirs
(R5) S_n+1   = min(S_n + g_spend f_n dt, W(t_n+1))                      spend the budget allows
(R6) B_n+1   = S_n+1 + H(t_n+1),  dB_n = B_n+1 - B_n                    compute the budget buys, its growth
(R7) x_n     = (gap_n - (1 - alpha) G)+ (1 - exp(-kappa dt)) for n >= e, else 0   catch-up
(R8) U_n+1   = min(P_n + dB_n + x_n, B_n+1, P_n + k_max dt)             the run wanted: within the
                                                                          budget and the physical ceiling
(R9) cap     window on the grid: s = first n with t_n >= t_cap, e = first n with t_n >= t_cap + D;
              L_0 = min(P_cap, P_s + cap_headroom)                       its level when it starts
                                                                          (may be below P_s: R10 freezes)
              cap_n = L_0 + g_cap (t_n - t_s)                    for s < n <= e
              lifted gradually, n >= e: cap_n+1 = Lift_n+1,  Lift_e = max(L_0 + g_cap (t_e - t_s), P_e),
                    Lift_n+1 = Lift_n + g_lift (P_n+1(default) - P_n(default))   (a share of the
                    uncapped world's growth of its largest run)
                    = +inf                                       otherwise (before s; after a sudden end)
(R10) P_n+1  = max(P_n, min(U_n+1, cap_n+1)),  w_n = U_n+1 - P_n+1      largest run so far; growth withheld
(R11) sigma_n = min(w_n / g_n, 1),  g_n = min(dB_n, k_max dt)             share of the step's growth withheld
(R12) r_n    = 10 ** min((P_n+1 - P_n - g_n) / dt, 0)                  realised vs default growth factor (x/yr)
      a_n    = g_alg f_n r_n^lam (1 + (beta - 1) sigma_n)               algorithmic pace (OOM/yr)
      Alg_n+1 = Alg_n + (C_alg - Alg_n) (1 - exp(-a_n dt / C_alg))      slows near the ceiling C_alg = alg_ceiling
(R13) X_n+1  = max(X_n, min(P_n+1, X_n + g_exp dt))                      experience: largest run mastered
(R14) E      = P - (1 - rho) (P - X) + Alg                              effective compute (log10 FLOP, 2023 algorithms)
(R15) evaders: m_n = max(S_n(default) - (W(t_n) + log10 e_share), 0)   spend the evaders' share cannot buy
              E_ev_n+1 = max(E_ev_n, E_n+1(default) - h - m_n+1),  E_ev_0 = E_0(default) - h - m_0
              (their own path, unaffected by the cap: a constant handicap h)
(R16) frontier: E_policy = max(E_regulated, E_ev)

with gap_n = E_nom(default) - E_nom(policy) (E_nom = P + Alg, without the
experience penalty: catch-up chases the nominal curve, so the penalty delays
it but does not make the policy world overshoot), and G = gap_e, the nominal
gap at the step the cap ends. The default world runs the same equations with
no cap (cap_n = +inf, so w = sigma = 0 and r = 1) and x = 0. The start: S_0 =
min(spend_start, W(START_YEAR)), P_0 = X_0 = S_0 + H_0, Alg_0 = 0.

Three choices the equations fix: the policy world's feedback f_n (R4) reads
the regulated actors' E_n (not the frontier with evaders); the ramp-up flag
of tai_in_rampup_default is S_n+1 < W(t_n+1), read in the step n -> n + 1
that starts below E_tai; the growth window is the steps n in [e, e + 5 k),
each growth (E_n+1 - E_n) / dt.

Choices, each a parameter where it could be (docs/trajectory.md says why):

* The cap applies to the runs at grid times t_n, s < n <= e: it holds from
  t_s to t_e and the gap is measured at t_e, the step it ends (t_cap and the
  end rounded up to the grid). With probability p_sudden it ends suddenly,
  otherwise it is lifted gradually; the draw's ``end_draw`` ~ uniform(0, 1)
  is the coin (sudden if end_draw < p_sudden).
* "Compute growth" in the compute-dependence of algorithms is a growth factor
  (x per year): a freeze where compute would grow 0.5 OOM/yr (3.2x) gives
  r = 1/3.2, so lam = 1 keeps 32% of the algorithmic pace. Intended: a cap
  bounds the largest run, not the compute of experiments. r <= 1: catch-up
  does not speed algorithms.
* Evaders are outside the cap: they follow the default world, behind it by
  the spend their share of the world's willingness cannot buy and by a
  constant handicap h, never losing what they have. A cap therefore never
  holds them back, and narrows the regulated actors' lead over them.
  e_share = 0: no evaders (E_ev = -inf).
* k_max bounds the growth of the largest run (physical FLOP) in both worlds,
  catch-up included.
* Every E above is non-decreasing in time, so "first reaches" is found as the
  last step that started below the level.

Outputs (units and directions in OUTPUTS): overhang_at_end = E(default) -
E(regulated) at t_e, catchable_overhang_at_end = alpha times it;
cap_ends_before_tai = 1 if t_e is before tai_year_default;
cap_starts_before_tai = 1 if t_s is before tai_year_default; cap_binds = 1 if
the cap started before TAI in the default world and withheld growth in a step
of its window; cap_withheld = the sum of w_n over its window s <= n < e (OOM);
max_growth_after_end, max_growth_regulated and max_growth_default = the largest
one-step growth rate of the policy world's frontier, of the regulated actors and
of the default world over the five years from t_e; max_run_growth_after_end =
the same for the regulated actors' largest run P (physical FLOP); tai_year_* = the first time
E reaches E_tai, linearly interpolated within the step (+inf if not by
END_YEAR); tai_delay = policy - default (NaN when neither reaches E_tai);
tai_year_evaders = the same for E_ev;
tai_in_rampup_default = 1 if spend is still below W at the default world's TAI
step, else 0 (NaN without TAI); danger_band_years_* = tai_year - the first time
E reaches E_tai - w (+inf if E_tai is not reached); lead_at_tai = E_regulated -
E_ev when the regulated actors reach E_tai (NaN without evaders or if they never
do). The overhang is NaN and the growth rates too when the cap has not ended by
END_YEAR (the growth rates also when it ends at END_YEAR); cap_ends_before_tai
is NaN when neither the cap's end nor TAI comes by END_YEAR (cap_starts_before_tai
likewise with its start).

Bound: every E stays below W(END_YEAR) + H_0 + C_hw + C_alg (docs/trajectory.md).

Trajectories: E of both worlds at each whole year (``TRAJECTORY_YEARS``) for
the runner's per-year histograms (quantile bands) and a kept subset of draws.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._schema import Check, Draw, Figure, Headline, Model, Observable, Output, Parameter, Trajectories

START_YEAR = 2023
END_YEAR = 2100
YEARS = END_YEAR - START_YEAR
TRAJECTORY_YEARS = tuple(range(START_YEAR, END_YEAR + 1))
GROWTH_WINDOW_YEARS = 5
"""Years after the cap over which growth rates are compared."""
MAX_STEPS_PER_YEAR = 1000
LOG10_2 = math.log10(2.0)
LN10 = math.log(10.0)


def rate_from_doubling_months(months: jax.Array) -> jax.Array:
    """OOM/yr of a quantity that doubles every ``months`` months: 12 log10(2) / months."""
    return (12 * LOG10_2) * (1 / months)


def steps_per_year(step_years: float) -> int:
    """k = 1 / step_years, a whole number (the priors loader checks it); a Python int, the loop's length."""
    try:
        step = float(step_years)
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise TypeError("step_years sets the number of time steps, so the trajectory model needs it as a "
                        "Python number, not a traced array: call trajectory({**draw, 'step_years': 0.1}) "
                        "(the runner does this with the priors' point value)") from None
    return round(1 / step)


def _whole_steps_per_year(ranges) -> str | None:
    step = ranges["step_years"][0]  # a point value (a static parameter)
    k = round(1 / step)
    # Within float32's precision: a float32 results file holds 0.1 as 0.100000001, and its
    # parameters evaluated again (overhang-jax eval) must name the same k.
    if 1 <= k <= MAX_STEPS_PER_YEAR and abs(k * step - 1) <= 1e-6:
        return None
    return (f"parameter 'step_years' must be 1/k years for a whole number k of steps per year from 1 to "
            f"{MAX_STEPS_PER_YEAR} (0.1, 0.05, 0.02, ...), got {step:g}")


_POSITIVE = dict(lower=0.0, lower_open=True)
_SHARE = dict(lower=0.0, upper=1.0)
PARAMETERS = (
    # Calibration, 2023.
    Parameter("compute_start", 25.3, "log10 FLOP", "largest training run in 2023 (GPT-4, ~2e25 FLOP)"),
    Parameter("spend_start", 8.0, "log10 $", "cost of that run (~$1e8)"),
    Parameter("gwp_start", 14.0, "log10 $/yr", "gross world product in 2023 (~$1e14)"),
    # Default world.
    Parameter("max_spend_fraction", 0.003, "1", "largest share of world output one run may cost (W)",
              lower=0.0, upper=1.0, lower_open=True),
    Parameter("g_gwp", 0.0128, "OOM/yr", "growth of world output (0.0128 = 3%/yr)", lower=0.0),
    Parameter("spend_doubling_months", 9.5, "months", "doubling time of spend during the ramp-up (g_spend)",
              **_POSITIVE),
    Parameter("hw_doubling_months", 30.0, "months", "doubling time of FLOP per dollar in 2023 (g_hw)", **_POSITIVE),
    Parameter("hw_ceiling", 8.8, "OOM", "most FLOP per dollar can still grow after 2023 (C_hw)", **_POSITIVE),
    Parameter("alg_doubling_months", 9.0, "months", "doubling time of algorithmic efficiency in 2023 (g_alg)",
              **_POSITIVE),
    Parameter("alg_ceiling", 12.0, "OOM", "most algorithmic efficiency can still grow after 2023 (C_alg)",
              **_POSITIVE),
    Parameter("lam", 0.5, "1", "compute-dependence of algorithmic progress", **_SHARE),
    Parameter("E_fb", 28.0, "log10 FLOP", "effective compute where feedback starts"),
    Parameter("phi", 0.025, "1/OOM", "feedback: growth multiplied by 1 + phi (E - E_fb) above E_fb", lower=0.0),
    Parameter("revenue_share", 0.5, "1", "share of the feedback that comes from revenue (needs deployment)",
              **_SHARE),
    Parameter("phi_fear", 0.0, "1/OOM", "slow-down per OOM above E_fear (caution after scary levels)",
              lower=0.0),
    Parameter("E_fear", 40.0, "log10 FLOP", "effective compute above which phi_fear acts"),
    # Policy.
    Parameter("t_cap", 2027.0, "yr", "year the cap starts (after END_YEAR: no cap)", lower=START_YEAR),
    Parameter("cap_headroom", 0.0, "OOM", "cap above the largest run when it starts (0: a freeze; below 0: "
              "a line below it, runs staying at it until the line, rising at g_cap, passes it)"),
    Parameter("P_cap", 1000.0, "log10 FLOP", "absolute cap on the largest run when it starts (1000: none); "
              "the lower of the two applies; below the largest run, runs stay there until the cap passes it"),
    Parameter("g_cap", 0.0, "OOM/yr", "growth of the cap while in force (0 = hard ceiling)", lower=0.0),
    Parameter("D", 5.0, "yr", "duration of the cap, t_end = t_cap + D", **_POSITIVE),
    Parameter("p_sudden", 0.5, "1", "probability the cap ends suddenly rather than gradually", **_SHARE),
    Parameter("end_draw", 0.5, "1", "the draw's coin for a sudden end (sudden if end_draw < p_sudden)",
              **_SHARE),
    Parameter("g_lift", 0.75, "1", "growth of the cap while it is lifted gradually, as a share of the uncapped "
              "world's growth of its largest run", **_SHARE),
    Parameter("beta", 1.0, "1", "algorithmic pace multiplier while the cap withholds all growth", lower=1.0),
    Parameter("pause_deployment", 0.0, "1", "1 if deployment pauses with training (revenue feedback off)",
              values=(0.0, 1.0)),
    Parameter("e_share", 0.0, "1", "evaders' share of the world's willingness to spend (0: no evaders)", **_SHARE),
    Parameter("h", 0.5, "OOM", "evaders' constant handicap: how far they trail the world without the cap",
              lower=0.0),
    # Catch-up.
    Parameter("alpha", 0.5, "1", "share of the overhang caught up after the cap (1 = full)", **_SHARE),
    Parameter("kappa", 1.0, "1/yr", "rate at which the gap closes toward (1 - alpha) G", lower=0.0),
    Parameter("k_max", 1.06, "OOM/yr", "fastest growth of the largest run (physical FLOP), catch-up included",
              **_POSITIVE),
    Parameter("rho", 0.8, "1", "worth of 1 OOM beyond experience, as a share of 1 OOM", **_SHARE),
    Parameter("g_exp", 1.06, "OOM/yr", "fastest growth of experience (3.4-month doubling)", **_POSITIVE),
    # Transformative AI.
    Parameter("E_tai", 34.0, "log10 FLOP", "effective compute (2023 algorithms) of transformative AI"),
    Parameter("w", 2.0, "OOM", "width of the danger band [E_tai - w, E_tai]", lower=0.0),
    # Numerics.
    Parameter("step_years", 0.1, "yr", "time step, 1/k for k whole steps per year", lower=1 / MAX_STEPS_PER_YEAR,
              upper=1.0, static=True),
)

# "worse" is the safety reading used by comparisons: less time before and
# inside the danger band, faster growth, a bigger overhang, a smaller lead.
# Differences within a tolerance count as the same: a hundredth of an OOM (or
# of an OOM a year), a twentieth of a year; the default world's outputs are
# the same in any two scenarios that differ only in their policy.
_OOM, _RATE, _YEARS = dict(tolerance=0.01), dict(tolerance=0.01), dict(tolerance=0.05)
_DEFAULT_WORLD = dict(without_policy=True)
OUTPUTS = (
    Output("overhang_at_end", "OOM", "gap E_default - E_regulated when the cap ends", "higher", **_OOM),
    Output("catchable_overhang_at_end", "OOM", "alpha x overhang_at_end: the part catch-up will close", "higher",
           **_OOM),
    Output("cap_ends_before_tai", "1", "1 if the cap ends before the default world reaches E_tai, else 0"),
    Output("cap_starts_before_tai", "1", "1 if the cap starts before the default world reaches E_tai, else 0"),
    Output("cap_binds", "1", "1 if the cap starts before TAI (default world) and withholds compute growth in "
           "a step of its window, else 0"),
    Output("cap_withheld", "OOM", "compute growth the cap withheld, summed over its window (t_s to t_e)", **_OOM),
    Output("max_growth_after_end", "OOM/yr", "largest growth of the policy world's frontier E in the 5 years after "
           "the cap", "higher", **_RATE),
    Output("max_growth_regulated", "OOM/yr", "largest growth of the regulated actors' E in the same 5 years",
           "higher", **_RATE),
    Output("max_run_growth_after_end", "OOM/yr", "largest growth of the regulated actors' largest run "
           "(physical FLOP) in the same 5 years", "higher", **_RATE),
    Output("max_growth_default", "OOM/yr", "largest growth of the default world's E in the same 5 years", "higher",
           **_RATE, **_DEFAULT_WORLD),
    Output("tai_year_default", "yr", "year E first reaches E_tai, default world (+inf: not by 2100)", "lower",
           **_YEARS, **_DEFAULT_WORLD),
    Output("tai_year_policy", "yr", "year the policy world's frontier first reaches E_tai (+inf: not by 2100)",
           "lower", **_YEARS),
    Output("tai_year_regulated", "yr", "year the regulated actors first reach E_tai (+inf: not by 2100)", "lower",
           undefined="the regulated actors do not reach E_tai by 2100 (a long cap can hold them back)", **_YEARS),
    Output("tai_year_evaders", "yr", "year the evaders first reach E_tai (+inf: not by 2100 or no evaders)",
           "lower", undefined="no evaders (e_share = 0), or the evaders do not reach E_tai by 2100", **_YEARS),
    Output("tai_delay", "yr", "tai_year_policy - tai_year_default", "lower", **_YEARS),
    Output("tai_in_rampup_default", "1", "1 if E_tai is reached while spend is below W (default world)",
           **_DEFAULT_WORLD),
    Output("danger_band_years_default", "yr", "years from E_tai - w to E_tai, default world", "lower", **_YEARS,
           **_DEFAULT_WORLD),
    Output("danger_band_years_policy", "yr", "years from E_tai - w to E_tai, policy world's frontier", "lower",
           **_YEARS),
    Output("lead_at_tai", "OOM", "regulated actors' lead over evaders when they reach E_tai (NaN: no evaders)",
           "lower", undefined="no evaders (e_share = 0), or the regulated actors never reach E_tai", **_OOM),
)

# What a comparison of two scenarios answers first: the decision-relevant outcomes (docs/outcomes.md).
# A backfire is the policy making the world worse on one of them: TAI earlier, or less time in the
# danger band. Faster growth after the cap and the overhang are the mechanism, reported on their own
# lines and never counted as a backfire; the lead over evaders is an outcome of its own.
HEADLINES = (
    Headline("tai_year_policy", worse="brings TAI earlier", better="delays TAI", backfire=True,
             given="cap_starts_before_tai", given_phrase="the cap starts before TAI in the world without it"),
    Headline("danger_band_years_policy", worse="shortens the time spent in the danger band",
             better="lengthens the time spent in the danger band", backfire=True,
             given="cap_starts_before_tai", given_phrase="the cap starts before TAI in the world without it"),
    Headline("lead_at_tai", worse="shrinks the regulated actors' lead over evaders at TAI",
             better="widens the regulated actors' lead over evaders at TAI"),
    Headline("max_growth_after_end", worse="makes growth in the five years after the cap faster",
             better="makes growth in the five years after the cap slower",
             given="cap_starts_before_tai", given_phrase="the cap starts before TAI in the world without it"),
    Headline("overhang_at_end", worse="leaves a bigger overhang when the cap ends",
             better="leaves a smaller overhang when the cap ends", given="cap_ends_before_tai",
             given_phrase="the cap ends before TAI in the world without it"),
)

TRAJECTORIES = Trajectories(
    names=("E_default", "E_policy"),
    docs=("effective compute, default world", "effective compute, policy world's frontier"),
    units="log10 FLOP", dim="year", coords=TRAJECTORY_YEARS,
    lower=20.0, upper=70.0, bin_width=0.01,
)


# What data can be compared with: the default world's curves, since every observation is of the
# years before any cap starts (the priors put t_cap at 2026 or later).
OBSERVABLES = (
    Observable("largest_training_run", "log10 FLOP", "largest physical training run so far, P (default world)",
               "largest_run_default"),
    Observable("effective_compute", "log10 FLOP", "effective compute E in 2023 algorithms (default world)",
               "E_default"),
)


class World(NamedTuple):
    """One world's state at one step (log10 units)."""

    spend: jax.Array
    compute: jax.Array
    experience: jax.Array
    algorithms: jax.Array


class Step(NamedTuple):
    """What one world's step tells the rest of the model besides its new state."""

    ramping: jax.Array   # spend still below the willingness to spend W
    withheld: jax.Array  # w_n, OOM of growth the cap withheld


class Crossing(NamedTuple):
    """The step in which a non-decreasing curve reaches a level: the last step that
    started below it, and the curve at both ends of that step. The crossing time
    is interpolated once, after the loop, not divided out at every step."""

    time: jax.Array
    before: jax.Array
    after: jax.Array


class Curves(NamedTuple):
    """E of each curve at the current step (carried so each is computed once)."""

    default: jax.Array
    regulated: jax.Array
    evader: jax.Array
    policy: jax.Array  # the policy world's frontier


class Tracking(NamedTuple):
    """What the outputs need, updated step by step (no trajectory is stored)."""

    price: jax.Array           # H(t_n), shared by both worlds
    cap_level: jax.Array       # L_0, set at step s
    lift_level: jax.Array      # Lift_n of a gradual lift, set at step e
    overhang: jax.Array        # E_default - E_regulated at step e
    target_gap: jax.Array      # (1 - alpha) G, nominal
    withheld: jax.Array        # sum of w_n over the cap's window
    max_step_default: jax.Array   # largest one-step rise over the growth window
    max_step_policy: jax.Array
    max_step_regulated: jax.Array
    max_step_run: jax.Array    # the regulated actors' largest run P
    tai_default: Crossing
    tai_policy: Crossing
    tai_regulated: Crossing
    tai_evaders: Crossing
    band_default: Crossing
    band_policy: Crossing
    lead_before: jax.Array     # the regulated actors' lead over evaders at both ends of their E_tai step
    lead_after: jax.Array
    tai_in_rampup: jax.Array


def _effective(p: Draw, world: World) -> jax.Array:
    return world.compute - (1 - p["rho"]) * (world.compute - world.experience) + world.algorithms


def _nominal(world: World) -> jax.Array:
    return world.compute + world.algorithms


def _record(found: Crossing, below: jax.Array, t, before, after) -> Crossing:
    return Crossing(jnp.where(below, t, found.time), jnp.where(below, before, found.before),
                    jnp.where(below, after, found.after))


def _crossing_share(found: Crossing, level) -> jax.Array:
    """How far into its step the curve reached ``level`` (linear interpolation), in [0, 1]."""
    return jnp.clip((level - found.before) / jnp.maximum(found.after - found.before, 1e-30), 0.0, 1.0)


def _crossing_time(found: Crossing, level, dt) -> jax.Array:
    """When the curve reached ``level``, interpolated within its step (+inf if it never did)."""
    return jnp.where(found.after < level, jnp.inf, found.time + dt * _crossing_share(found, level))


def _band_years(tai_year: jax.Array, band_start: jax.Array) -> jax.Array:
    """Years in the danger band: +inf when E_tai is never reached (even if the band is not either)."""
    return jnp.where(jnp.isinf(tai_year), jnp.inf, tai_year - band_start)


def _start(e: jax.Array, level) -> Crossing:
    """The record before the first step: reached at START_YEAR if already at ``level``."""
    reached = e >= level
    return Crossing(jnp.full_like(e, START_YEAR), jnp.where(reached, level, e), jnp.where(reached, level, e))


def _first_step_at(year: jax.Array, dt: float, k: int) -> jax.Array:
    """The first step n (a float) with t_n = START_YEAR + n dt >= year, tested on the same t_n the loop
    computes: (year - START_YEAR) k may round across the integer."""
    n = jnp.ceil((year - START_YEAR) * k)
    n = jnp.where(START_YEAR + (n - 1) * dt >= year, n - 1, n)
    return jnp.where(START_YEAR + n * dt < year, n + 1, n)


def trajectory(p: Draw) -> dict[str, jax.Array]:
    """Outputs and yearly trajectories of one draw; see the module docstring.

    ``p["step_years"]`` must be a Python number (the runner passes the priors'
    point value): it sets the number of steps, the length of the compiled loop.
    """
    k = steps_per_year(p["step_years"])
    dt = 1.0 / k
    dtype = p["compute_start"].dtype
    g_spend = rate_from_doubling_months(p["spend_doubling_months"])
    g_hw = rate_from_doubling_months(p["hw_doubling_months"])
    g_alg = rate_from_doubling_months(p["alg_doubling_months"])
    hw_start = p["compute_start"] - p["spend_start"]
    willingness_start = p["gwp_start"] + jnp.log10(p["max_spend_fraction"])
    evader_ceiling = willingness_start + jnp.log10(p["e_share"])  # -inf without evaders
    cap_start, cap_end = _first_step_at(p["t_cap"], dt, k), _first_step_at(p["t_cap"] + p["D"], dt, k)
    t_start, t_end = START_YEAR + cap_start * dt, START_YEAR + cap_end * dt
    sudden = p["end_draw"] < p["p_sudden"]
    close_share = 1 - jnp.exp(-p["kappa"] * dt)
    phi_paused = p["phi"] * (1 - p["revenue_share"] * (1 - p["e_share"]))
    band_low = p["E_tai"] - p["w"]
    nan = jnp.full_like(p["t_cap"], jnp.nan)

    def price(t):
        """(R2) H(t), growth slowing toward the ceiling."""
        return hw_start - p["hw_ceiling"] * jnp.expm1(-g_hw * (t - START_YEAR) / p["hw_ceiling"])

    def willingness(t):
        """(R3) W(t)."""
        return willingness_start + p["g_gwp"] * (t - START_YEAR)

    def cap_at(step_next, t_next, level, lift_next):
        """(R9) the cap on the run at step n + 1: in force, or lifted gradually (``lift_next``)."""
        in_force = (step_next > cap_start) & (step_next <= cap_end)
        lifted = (step_next > cap_end) & ~sudden
        return jnp.where(in_force, level + p["g_cap"] * (t_next - t_start), jnp.where(lifted, lift_next, jnp.inf))

    def advance(world, e, step, price_now, price_next, t_next, capped, cap, gap, target_gap):
        """(R4)-(R13) one step of one world. ``capped`` (a Python bool) is false for the default world,
        which has no cap (cap = +inf, so w = sigma = 0 and r = 1, and no catch-up): its terms are left
        out when tracing. ``cap`` is the cap on the run at step n + 1."""
        phi = p["phi"]
        if capped:
            paused = (p["pause_deployment"] > 0) & (step >= cap_start) & (step < cap_end)
            phi = jnp.where(paused, phi_paused, phi)
        feedback = jnp.maximum(0.0, 1 + phi * jnp.maximum(e - p["E_fb"], 0.0)
                               - p["phi_fear"] * jnp.maximum(e - p["E_fear"], 0.0))
        willingness_next = willingness(t_next)
        spend_next = jnp.minimum(world.spend + g_spend * feedback * dt, willingness_next)
        budget_next = spend_next + price_next
        natural = budget_next - (world.spend + price_now)
        pace = g_alg * feedback
        # (R8) the physical ceiling: the largest run grows at most k_max OOM/yr in either world.
        ceiling = world.compute + p["k_max"] * dt
        if capped:
            extra = jnp.where(step >= cap_end, jnp.maximum(gap - target_gap, 0.0) * close_share, 0.0)
            wanted = jnp.minimum(jnp.minimum(world.compute + natural + extra, budget_next), ceiling)
            compute_next = jnp.maximum(world.compute, jnp.minimum(wanted, cap))
            withheld = wanted - compute_next
            # The run without a cap or catch-up grows by g_n = min(dB_n, k_max dt) (P <= B, so P + dB is
            # within the budget); taken as that run's next value, so an idle cap gives r = 1 exactly.
            uncapped = jnp.minimum(jnp.minimum(world.compute + natural, budget_next), ceiling)
            old_pace = uncapped - world.compute
            withheld_share = jnp.where(withheld > 0, jnp.minimum(withheld / jnp.maximum(old_pace, 1e-30), 1.0), 0.0)
            # r^lam with r = 10 ** (shortfall / dt), the ratio of yearly growth factors
            shortfall = jnp.minimum(compute_next - uncapped, 0.0)  # OOM this step, <= 0
            slowdown = jnp.exp(p["lam"] * (LN10 * k) * shortfall)
            pace = pace * slowdown * (1 + (p["beta"] - 1) * withheld_share)
        else:
            compute_next = jnp.maximum(world.compute, jnp.minimum(jnp.minimum(world.compute + natural, budget_next),
                                                                  ceiling))
            withheld = jnp.zeros_like(compute_next)
        algorithms_next = world.algorithms - (p["alg_ceiling"] - world.algorithms) * jnp.expm1(
            -pace * dt / p["alg_ceiling"])
        experience_next = jnp.maximum(world.experience,
                                      jnp.minimum(compute_next, world.experience + p["g_exp"] * dt))
        return (World(spend_next, compute_next, experience_next, algorithms_next),
                Step(spend_next < willingness_next, withheld))

    def evader(e_evader, e_default, spend_default, t):
        """(R15) behind the default world by the handicap and by what the evaders' share cannot buy."""
        missing = jnp.maximum(spend_default - (evader_ceiling + p["g_gwp"] * (t - START_YEAR)), 0.0)
        return jnp.maximum(e_evader, e_default - p["h"] - missing)

    def step(carry, n):
        default, policy, e, track = carry
        step_index = n.astype(dtype)
        t_next = START_YEAR + (step_index + 1) * dt
        price_next = price(t_next)
        starts, ends = step_index == cap_start, step_index == cap_end
        cap_level = jnp.where(starts, jnp.minimum(p["P_cap"], policy.compute + p["cap_headroom"]), track.cap_level)
        gap = _nominal(default) - _nominal(policy)
        target_gap = jnp.where(ends, (1 - p["alpha"]) * gap, track.target_gap)
        default_next, default_step = advance(default, e.default, step_index, track.price, price_next, t_next,
                                             False, jnp.inf, 0.0, 0.0)
        # A gradual lift starts where the cap stood (or the run, if the cap sat below it) and rises
        # by a share g_lift of the uncapped world's growth of its largest run.
        lift_level = jnp.where(ends, jnp.maximum(cap_level + p["g_cap"] * (t_end - t_start), policy.compute),
                               track.lift_level)
        lift_next = lift_level + p["g_lift"] * (default_next.compute - default.compute)
        cap_next = cap_at(step_index + 1, t_next, cap_level, lift_next)
        policy_next, policy_step = advance(policy, e.regulated, step_index, track.price, price_next, t_next,
                                           True, cap_next, gap, target_gap)

        e_default, e_regulated = _effective(p, default_next), _effective(p, policy_next)
        in_window = (step_index >= cap_start) & (step_index < cap_end)
        e_evader = evader(e.evader, e_default, default_next.spend, t_next)
        nxt = Curves(e_default, e_regulated, e_evader, jnp.maximum(e_regulated, e_evader))
        # Growth over the five years from the step the cap ends, in every curve.
        after_end = (step_index >= cap_end) & (step_index < cap_end + GROWTH_WINDOW_YEARS * k)

        def widest(record, now, later):
            return jnp.where(after_end, jnp.maximum(record, later - now), record)

        below_tai, below_band = e.default < p["E_tai"], e.default < band_low
        policy_below_tai, policy_below_band = e.policy < p["E_tai"], e.policy < band_low
        regulated_below, evaders_below = e.regulated < p["E_tai"], e.evader < p["E_tai"]
        t = START_YEAR + step_index * dt
        track = Tracking(
            price=price_next,
            cap_level=cap_level,
            lift_level=jnp.where(step_index >= cap_end, lift_next, lift_level),
            overhang=jnp.where(ends, e.default - e.regulated, track.overhang),
            target_gap=target_gap,
            withheld=track.withheld + jnp.where(in_window, policy_step.withheld, 0.0),
            max_step_default=widest(track.max_step_default, e.default, nxt.default),
            max_step_policy=widest(track.max_step_policy, e.policy, nxt.policy),
            max_step_regulated=widest(track.max_step_regulated, e.regulated, nxt.regulated),
            max_step_run=widest(track.max_step_run, policy.compute, policy_next.compute),
            tai_default=_record(track.tai_default, below_tai, t, e.default, nxt.default),
            tai_policy=_record(track.tai_policy, policy_below_tai, t, e.policy, nxt.policy),
            tai_regulated=_record(track.tai_regulated, regulated_below, t, e.regulated, nxt.regulated),
            tai_evaders=_record(track.tai_evaders, evaders_below, t, e.evader, nxt.evader),
            band_default=_record(track.band_default, below_band, t, e.default, nxt.default),
            band_policy=_record(track.band_policy, policy_below_band, t, e.policy, nxt.policy),
            lead_before=jnp.where(regulated_below, e.regulated - e.evader, track.lead_before),
            lead_after=jnp.where(regulated_below, nxt.regulated - nxt.evader, track.lead_after),
            tai_in_rampup=jnp.where(below_tai, default_step.ramping.astype(dtype), track.tai_in_rampup),
        )
        return (default_next, policy_next, nxt, track), (nxt.default, nxt.policy, default_next.compute)

    spend_start = jnp.minimum(p["spend_start"], willingness_start)
    world = World(spend_start, spend_start + hw_start, spend_start + hw_start, jnp.zeros_like(spend_start))
    e0 = _effective(p, world)
    e_evader0 = evader(jnp.full_like(e0, -jnp.inf), e0, spend_start, START_YEAR)
    e = Curves(e0, e0, e_evader0, jnp.maximum(e0, e_evader0))
    zero = jnp.zeros_like(nan)
    track = Tracking(
        price=hw_start, cap_level=jnp.full_like(nan, jnp.inf), lift_level=jnp.full_like(nan, jnp.inf),
        overhang=nan, target_gap=zero, withheld=zero,
        max_step_default=jnp.full_like(nan, -jnp.inf), max_step_policy=jnp.full_like(nan, -jnp.inf),
        max_step_regulated=jnp.full_like(nan, -jnp.inf), max_step_run=jnp.full_like(nan, -jnp.inf),
        tai_default=_start(e.default, p["E_tai"]), tai_policy=_start(e.policy, p["E_tai"]),
        tai_regulated=_start(e.regulated, p["E_tai"]), tai_evaders=_start(e.evader, p["E_tai"]),
        band_default=_start(e.default, band_low), band_policy=_start(e.policy, band_low),
        lead_before=e.regulated - e.evader, lead_after=e.regulated - e.evader,
        tai_in_rampup=(spend_start < willingness_start).astype(dtype),
    )

    def one_year(carry, y):
        carry, (e_default, e_policy, run_default) = jax.lax.scan(step, carry, y * k + jnp.arange(k))
        return carry, (e_default[-1], e_policy[-1], run_default[-1])

    (_, _, last, track), (yearly_default, yearly_policy, yearly_run) = jax.lax.scan(
        one_year, (world, world, e, track), jnp.arange(YEARS))

    steps = YEARS * k
    # A cap ending in the last step has its overhang at END_YEAR but no growth window after it.
    overhang = jnp.where(cap_end == steps, last.default - last.regulated, track.overhang)
    overhang = jnp.where(cap_end <= steps, overhang, nan)
    ended = cap_end < steps  # catch-up started within the horizon

    def growth(max_step):
        return jnp.where(ended, max_step * k, nan)

    tai_default = _crossing_time(track.tai_default, p["E_tai"], dt)
    tai_policy = _crossing_time(track.tai_policy, p["E_tai"], dt)
    leader = track.tai_regulated
    share = _crossing_share(leader, p["E_tai"])
    lead = (1 - share) * track.lead_before + share * track.lead_after
    lead = jnp.where((leader.after < p["E_tai"]) | (p["e_share"] == 0), nan, lead)
    neither = (cap_end > steps) & jnp.isinf(tai_default)
    starts_before_tai = jnp.where((cap_start > steps) & jnp.isinf(tai_default), nan,
                                  (t_start < tai_default).astype(dtype))
    return {
        "overhang_at_end": overhang,
        "catchable_overhang_at_end": p["alpha"] * overhang,
        "cap_ends_before_tai": jnp.where(neither, nan, (t_end < tai_default).astype(dtype)),
        "cap_starts_before_tai": starts_before_tai,
        "cap_binds": ((starts_before_tai == 1) & (track.withheld > 0)).astype(dtype),
        "cap_withheld": track.withheld,
        "max_growth_after_end": growth(track.max_step_policy),
        "max_growth_regulated": growth(track.max_step_regulated),
        "max_run_growth_after_end": growth(track.max_step_run),
        "max_growth_default": growth(track.max_step_default),
        "tai_year_default": tai_default,
        "tai_year_policy": tai_policy,
        "tai_year_regulated": _crossing_time(leader, p["E_tai"], dt),
        "tai_year_evaders": jnp.where(p["e_share"] == 0, jnp.inf, _crossing_time(track.tai_evaders, p["E_tai"], dt)),
        "tai_delay": jnp.where(jnp.isinf(tai_default) & jnp.isinf(tai_policy), nan, tai_policy - tai_default),
        "tai_in_rampup_default": jnp.where(jnp.isinf(tai_default), nan, track.tai_in_rampup),
        "danger_band_years_default": _band_years(tai_default, _crossing_time(track.band_default, band_low, dt)),
        "danger_band_years_policy": _band_years(tai_policy, _crossing_time(track.band_policy, band_low, dt)),
        "lead_at_tai": lead,
        "E_default": jnp.concatenate([e0[None], yearly_default]),
        "E_policy": jnp.concatenate([e.policy[None], yearly_policy]),
        # Observable only (the runner keeps its log likelihood, not the series).
        "largest_run_default": jnp.concatenate([world.compute[None], yearly_run]),
    }


TRAJECTORY = Model(
    name="trajectory",
    description="ramp-up, compute caps, pause and catch-up (docs/trajectory.md)",
    parameters=PARAMETERS,
    outputs=OUTPUTS,
    methods={"stepped": trajectory},
    default_priors="trajectory.toml",
    constraints=(Check(_whole_steps_per_year),),
    trajectories=TRAJECTORIES,
    # A long cap (D up to 60 years) keeps the policy world from E_tai by 2100 (+inf) in about 1% of
    # the default draws: an answer, not a failure, so the gate on non-finite draws sits above it.
    nonfinite_share_limit=0.05,
    figures=(Figure("fan_chart", "fan_chart"),
             Figure("overhang_at_end", "distribution", {"name": "overhang_at_end"}),
             Figure("tai_delay", "distribution", {"name": "tai_delay"}),
             Figure("danger_band", "paired_distributions",
                    {"names": ("danger_band_years_default", "danger_band_years_policy")})),
    sweep_outputs=("overhang_at_end", "tai_delay", "max_growth_after_end", "danger_band_years_policy"),
    comparison_fan_chart=True,
    headlines=HEADLINES,
    observables=OBSERVABLES,
)
