"""The trajectory model: ramp-up, compute caps, pause and catch-up.

This is section 2 of MODELS.md. Two worlds are stepped side by side from the
same draw (common random numbers, so every comparison is paired): the
*default* world without a policy and the *policy* world with a cap on the
largest training run. Everything is in log10 ("OOM"); time in years.

Time grid: t_n = START_YEAR + n / STEPS_PER_YEAR for n = 0 .. N (2023 to 2100
at dt = 0.1 yr). 2023 is the calibration year: GPT-4, ~2e25 FLOP, trained
for ~$1e8. Parameters and state per world, step n -> n + 1:

    H(t)    = compute_start - spend_start + g_hw (t - START_YEAR)    price-performance, log10 FLOP/$
    W(t)    = gwp_start + log10(max_spend_fraction) + g_gwp (t - START_YEAR)   willingness to spend
    f_n     = max(0, 1 + phi_n max(E_n - E_fb, 0) - phi_fear max(E_n - E_fear, 0))   feedback
              phi_n = phi (1 - revenue_share (1 - e_share))  while deployment is paused
              (pause_deployment = 1, inside the cap window), else phi: the regulated
              actors lose their revenue; evaders (share e_share) keep theirs
    S_n+1   = min(S_n + g_spend f_n dt, W(t_n+1))                   spend the budget allows
    B_n+1   = S_n+1 + H(t_n+1)                                      compute the budget buys
    natural = B_n+1 - B_n                                           growth at the old pace
    extra   = min((gap_n - (1 - alpha) G)+ (1 - exp(-kappa dt)), k_max dt)   catch-up, after t_end
    wanted  = min(P_n + natural + extra, B_n+1)
    cap     = P_cap + g_cap (t - t_cap)                 on [t_cap, t_end), t_end = t_cap + D
            = cap(t_end) + g_lift (t - t_end)           after t_end if lifted gradually
            = +inf                                      otherwise (and before t_cap)
    P_n+1   = max(P_n, min(wanted, cap(t_n+1)))         largest run so far (never shrinks)
    binds   = wanted > cap(t_n+1)
    ratio   = 10 ** min((P_n+1 - P_n - natural) / dt, 0)   realised vs default growth factor (x/yr)
    Alg_n+1 = Alg_n + g_alg f_n ratio^lam (beta if binds else 1) dt
    X_n+1   = max(X_n, min(P_n+1, X_n + g_exp dt))      experience: largest run mastered
    E       = P - (1 - rho) (P - X) + Alg               effective compute (log10 FLOP, 2023 algorithms)

with gap_n = E_nom(default) - E_nom(policy) (E_nom = P + Alg, without the
experience penalty: catch-up chases the nominal curve, so the penalty delays
it but does not make the policy world overshoot), and G the nominal gap at
the first step n with t_n >= t_end (the catch-up starts there). The default
world runs the same equations with no cap window. Doubling times T in months
become rates once, g = 12 log10(2) / T OOM/yr (``rate_from_doubling_months``).

Choices where MODELS.md is silent (each a parameter where it could be):

* With probability p_sudden the cap ends suddenly; otherwise it is lifted
  gradually (the cap rises at g_lift after t_end). Which happens in a draw is
  set by the draw's ``end_draw`` ~ uniform(0, 1): sudden if end_draw < p_sudden,
  so the coin is a parameter like any other (reproducible, and visible to
  sensitivity analysis).
* "Compute growth" in g_alg (compute growth realised / default) ** lam is a
  growth factor (x per year), as growth is usually stated: a cap holding
  compute flat (1x/yr) where it would grow 3.2x/yr (0.5 OOM/yr) gives
  ratio 1/3.2, so lam = 1 cuts algorithmic progress to 31% of its pace and
  lam = 0.1 to 89%. (A ratio of growth rates in OOM/yr would be 0 under a
  hard cap, and 0 ** lam = 0 would stop algorithms for every lam > 0, leaving
  lam no say.) The ratio is at most 1: catch-up does not speed algorithms.
* The start: S_0 = min(spend_start, W(START_YEAR)), P_0 = X_0 = S_0 + H(START_YEAR),
  Alg_0 = 0.
* A cap ending in the last step (t_end in (2099.9, 2100]) has its overhang,
  taken at END_YEAR, but no growth window.
* Experience: X grows at most at g_exp OOM/yr (default: the fastest
  sustained growth of the largest runs, a 3.4-month doubling), so at the old
  pace the penalty is zero and a sudden jump of k OOM is worth rho k at first.
* Evaders fall behind the default world by h OOM/yr while the cap is in
  force (t_cap <= t_n < t_end) and binds the regulated actors (a cap that
  binds nobody needs no evading; once it ends, catch-up does not hold
  evaders back) and keep the default pace otherwise, never losing what they
  have: deficit_n+1 = deficit_n + h dt (if so in step n),
  E_ev_n+1 = max(E_ev_n, E_default_n+1 - deficit_n+1), E_ev_0 = E_default_0.
  The policy world's frontier is max(E_regulated, E_ev) when e_share > 0,
  else E_regulated; its TAI year and danger band use the frontier. Evaders'
  share otherwise acts through the revenue they keep.
* Every E above is non-decreasing in time, so "first reaches" is found as the
  last step that started below the level.

Outputs (names fixed by MODELS.md; units in OUTPUTS): overhang_at_end = E_default -
E_regulated at the first step with t_n >= t_end; max_growth_after_end and
max_growth_default = the largest one-step growth rate of the policy world's
frontier and of the default world over the 50 steps (five years) from that
step; tai_year_* = the first time E reaches E_tai, linearly interpolated
within the step (+inf if not by END_YEAR); tai_delay = their difference
(NaN when neither world reaches E_tai); tai_in_rampup_default = 1 if spend
is still below W at the default world's TAI step, else 0 (NaN without TAI);
danger_band_years_* = tai_year - the first time E reaches E_tai - w
(truncated at START_YEAR; +inf if E_tai is not reached); lead_at_tai =
E_regulated - E_ev when the regulated frontier reaches E_tai (NaN if it never
does). overhang_at_end and the growth rates are NaN when the cap has not
ended by END_YEAR. Each counts as non-finite in the results.

Trajectories: E of both worlds at each whole year (``TRAJECTORY_YEARS``) for
the runner's per-year histograms (quantile bands) and a kept subset of draws.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._model import Draw, Model, Output, Parameter, Trajectories

START_YEAR = 2023
END_YEAR = 2100
STEPS_PER_YEAR = 10
"""dt = 0.1 yr (MODELS.md asks for dt <= 0.1)."""
YEARS = END_YEAR - START_YEAR
TRAJECTORY_YEARS = tuple(range(START_YEAR, END_YEAR + 1))
GROWTH_WINDOW_STEPS = 5 * STEPS_PER_YEAR
"""Steps in the five years after the cap over which growth rates are compared."""
LOG10_2 = math.log10(2.0)
LN10 = math.log(10.0)


def rate_from_doubling_months(months: jax.Array) -> jax.Array:
    """OOM/yr of a quantity that doubles every ``months`` months: 12 log10(2) / months."""
    return (12 * LOG10_2) * (1 / months)


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
    Parameter("hw_doubling_months", 30.0, "months", "doubling time of FLOP per dollar (g_hw)", **_POSITIVE),
    Parameter("alg_doubling_months", 9.0, "months", "doubling time of algorithmic efficiency (g_alg)",
              **_POSITIVE),
    Parameter("lam", 0.5, "1", "compute-dependence of algorithmic progress", **_SHARE),
    Parameter("E_fb", 28.0, "log10 FLOP", "effective compute where feedback starts"),
    Parameter("phi", 0.1, "1/OOM", "feedback: growth multiplied by 1 + phi (E - E_fb) above E_fb", lower=0.0),
    Parameter("revenue_share", 0.5, "1", "share of the feedback that comes from revenue (needs deployment)",
              **_SHARE),
    Parameter("phi_fear", 0.0, "1/OOM", "slow-down per OOM above E_fear (caution after scary levels)",
              lower=0.0),
    Parameter("E_fear", 40.0, "log10 FLOP", "effective compute above which phi_fear acts"),
    # Policy.
    Parameter("t_cap", 2027.0, "yr", "year the cap starts (after END_YEAR: no cap)", lower=START_YEAR),
    Parameter("P_cap", 26.0, "log10 FLOP", "cap on the largest training run when it starts"),
    Parameter("g_cap", 0.0, "OOM/yr", "growth of the cap while in force (0 = hard ceiling)", lower=0.0),
    Parameter("D", 5.0, "yr", "duration of the cap, t_end = t_cap + D", **_POSITIVE),
    Parameter("p_sudden", 0.5, "1", "probability the cap ends suddenly rather than gradually", **_SHARE),
    Parameter("end_draw", 0.5, "1", "the draw's coin for a sudden end (sudden if end_draw < p_sudden)",
              **_SHARE),
    Parameter("g_lift", 0.5, "OOM/yr", "growth of the cap while it is lifted gradually", lower=0.0),
    Parameter("beta", 1.0, "1", "boost to algorithmic progress while the cap binds", lower=1.0),
    Parameter("pause_deployment", 0.0, "1", "1 if deployment pauses with training (revenue feedback off)",
              values=(0.0, 1.0)),
    Parameter("e_share", 0.0, "1", "share of frontier actors outside the regime", **_SHARE),
    Parameter("h", 0.2, "OOM/yr", "evaders' growth handicap while the cap is in force and binds", lower=0.0),
    # Catch-up.
    Parameter("alpha", 0.5, "1", "share of the overhang caught up after the cap (1 = full)", **_SHARE),
    Parameter("kappa", 1.0, "1/yr", "rate at which the gap closes toward (1 - alpha) G", lower=0.0),
    Parameter("k_max", 1.0, "OOM/yr", "fastest extra growth catch-up can add", lower=0.0),
    Parameter("rho", 0.8, "1", "worth of 1 OOM beyond experience, as a share of 1 OOM", **_SHARE),
    Parameter("g_exp", 1.06, "OOM/yr", "fastest growth of experience (3.4-month doubling)", **_POSITIVE),
    # Transformative AI.
    Parameter("E_tai", 34.0, "log10 FLOP", "effective compute (2023 algorithms) of transformative AI"),
    Parameter("w", 2.0, "OOM", "width of the danger band [E_tai - w, E_tai]", lower=0.0),
)

# "worse" is the safety reading used by comparisons: less time before and
# inside the danger band, faster growth, a bigger overhang, a smaller lead.
OUTPUTS = (
    Output("overhang_at_end", "OOM", "gap G = E_default - E_regulated when the cap ends", "higher"),
    Output("max_growth_after_end", "OOM/yr", "largest growth of the policy world's E in the 5 years after the cap",
           "higher"),
    Output("max_growth_default", "OOM/yr", "largest growth of the default world's E in the same 5 years", "higher"),
    Output("tai_year_default", "yr", "year E first reaches E_tai, default world (+inf: not by 2100)", "lower"),
    Output("tai_year_policy", "yr", "year E first reaches E_tai, policy world (+inf: not by 2100)", "lower"),
    Output("tai_delay", "yr", "tai_year_policy - tai_year_default", "lower"),
    Output("tai_in_rampup_default", "1", "1 if E_tai is reached while spend is below W (default world)"),
    Output("danger_band_years_default", "yr", "years from E_tai - w to E_tai, default world", "lower"),
    Output("danger_band_years_policy", "yr", "years from E_tai - w to E_tai, policy world", "lower"),
    Output("lead_at_tai", "OOM", "regulated leader's lead over evaders when it reaches E_tai", "lower"),
)

TRAJECTORIES = Trajectories(
    names=("E_default", "E_policy"),
    docs=("effective compute, default world", "effective compute, policy world's frontier"),
    units="log10 FLOP", dim="year", coords=TRAJECTORY_YEARS,
    lower=20.0, upper=100.0, bin_width=0.01,
)


class World(NamedTuple):
    """One world's state at one step (log10 units)."""

    spend: jax.Array
    compute: jax.Array
    experience: jax.Array
    algorithms: jax.Array


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

    overhang: jax.Array        # E_default - E_regulated at the catch-up step
    target_gap: jax.Array      # (1 - alpha) G, nominal
    max_step_default: jax.Array   # largest one-step rise over the growth window
    max_step_policy: jax.Array
    tai_default: Crossing
    tai_policy: Crossing
    band_default: Crossing
    band_policy: Crossing
    leader_tai: Crossing       # the regulated leader's own E_tai crossing
    lead_before: jax.Array     # its lead over evaders at both ends of that step
    lead_after: jax.Array
    tai_in_rampup: jax.Array
    evader_deficit: jax.Array  # OOM the evaders' handicap has cost them so far


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


def trajectory(p: Draw) -> dict[str, jax.Array]:
    """Outputs and yearly trajectories of one draw; see the module docstring."""
    dtype = p["compute_start"].dtype
    dt = 1.0 / STEPS_PER_YEAR
    g_spend = rate_from_doubling_months(p["spend_doubling_months"])
    g_hw = rate_from_doubling_months(p["hw_doubling_months"])
    g_alg = rate_from_doubling_months(p["alg_doubling_months"])
    hw_start = p["compute_start"] - p["spend_start"]
    willingness_start = p["gwp_start"] + jnp.log10(p["max_spend_fraction"])
    t_cap = p["t_cap"]
    t_end = t_cap + p["D"]
    sudden = p["end_draw"] < p["p_sudden"]
    cap_at_end = p["P_cap"] + p["g_cap"] * p["D"]
    # The first step n with t_n >= t_end, where catch-up starts (a float step index), found on the
    # same t_n the cap window is tested on: (t_end - START) * 10 may round across the integer.
    end_step = jnp.ceil((t_end - START_YEAR) * STEPS_PER_YEAR)
    end_step = jnp.where(START_YEAR + (end_step - 1) * dt >= t_end, end_step - 1, end_step)
    end_step = jnp.where(START_YEAR + end_step * dt < t_end, end_step + 1, end_step)
    close_share = 1 - jnp.exp(-p["kappa"] * dt)
    phi_paused = p["phi"] * (1 - p["revenue_share"] * (1 - p["e_share"]))
    evaders = p["e_share"] > 0
    band_low = p["E_tai"] - p["w"]
    nan = jnp.full_like(t_cap, jnp.nan)

    def advance(world, e, t, t_next, window_start, window_end, catching_up, gap, target_gap):
        """One step of one world. The default world calls it with no cap window."""
        in_window = (t >= window_start) & (t < window_end)
        phi = jnp.where((p["pause_deployment"] > 0) & in_window, phi_paused, p["phi"])
        feedback = jnp.maximum(0.0, 1 + phi * jnp.maximum(e - p["E_fb"], 0.0)
                               - p["phi_fear"] * jnp.maximum(e - p["E_fear"], 0.0))
        willingness_next = willingness_start + p["g_gwp"] * (t_next - START_YEAR)
        hw, hw_next = hw_start + g_hw * (t - START_YEAR), hw_start + g_hw * (t_next - START_YEAR)
        spend_next = jnp.minimum(world.spend + g_spend * feedback * dt, willingness_next)
        natural = (spend_next + hw_next) - (world.spend + hw)
        extra = jnp.where(catching_up, jnp.minimum(jnp.maximum(gap - target_gap, 0.0) * close_share,
                                                   p["k_max"] * dt), 0.0)
        wanted = jnp.minimum(world.compute + natural + extra, spend_next + hw_next)
        cap = jnp.where((t_next >= window_start) & (t_next < window_end), p["P_cap"] + p["g_cap"] * (t_next - t_cap),
                        jnp.where((t_next >= window_end) & ~sudden, cap_at_end + p["g_lift"] * (t_next - t_end),
                                  jnp.inf))
        compute_next = jnp.maximum(world.compute, jnp.minimum(wanted, cap))
        binds = wanted > cap
        # ratio ** lam with ratio = 10 ** (g_realised - g_default), the ratio of yearly growth factors
        shortfall = jnp.minimum(compute_next - world.compute - natural, 0.0)  # OOM this step, <= 0
        slowdown = jnp.exp(p["lam"] * (LN10 * STEPS_PER_YEAR) * shortfall)
        boost = jnp.where(binds, p["beta"], 1.0)
        algorithms_next = world.algorithms + g_alg * feedback * slowdown * boost * dt
        experience_next = jnp.maximum(world.experience,
                                      jnp.minimum(compute_next, world.experience + p["g_exp"] * dt))
        return World(spend_next, compute_next, experience_next, algorithms_next), spend_next < willingness_next, binds

    def evader(e_evader, e_default, deficit):
        # Behind the default world by the handicap accrued so far, never losing ground gained.
        return jnp.maximum(e_evader, e_default - deficit)

    def frontier(e_regulated, e_evader):
        return jnp.where(evaders, jnp.maximum(e_regulated, e_evader), e_regulated)

    def step(carry, n):
        default, policy, e, track = carry
        step_index = n.astype(dtype)
        t, t_next = START_YEAR + step_index * dt, START_YEAR + (step_index + 1) * dt
        # Catch-up starts at end_step, with that step's nominal gap as G.
        starts = step_index == end_step
        catching_up = step_index >= end_step
        gap = _nominal(default) - _nominal(policy)
        target_gap = jnp.where(starts, (1 - p["alpha"]) * gap, track.target_gap)
        default_next, ramping, _ = advance(default, e.default, t, t_next, jnp.inf, jnp.inf, False, 0.0, 0.0)
        policy_next, _, binds = advance(policy, e.regulated, t, t_next, t_cap, t_end, catching_up, gap, target_gap)

        e_default, e_regulated = _effective(p, default_next), _effective(p, policy_next)
        evading = binds & (t >= t_cap) & (t < t_end)
        deficit = jnp.where(evading, track.evader_deficit + p["h"] * dt, track.evader_deficit)
        e_evader = evader(e.evader, e_default, deficit)
        nxt = Curves(e_default, e_regulated, e_evader, frontier(e_regulated, e_evader))
        # Growth over the policy world's catch-up window, the five years from end_step, in both worlds.
        in_window = catching_up & (step_index < end_step + GROWTH_WINDOW_STEPS)
        below_tai, below_band = e.default < p["E_tai"], e.default < band_low
        policy_below_tai, policy_below_band = e.policy < p["E_tai"], e.policy < band_low
        leader_below = e.regulated < p["E_tai"]
        track = Tracking(
            overhang=jnp.where(starts, e.default - e.regulated, track.overhang),
            target_gap=target_gap,
            max_step_default=jnp.where(in_window, jnp.maximum(track.max_step_default, nxt.default - e.default),
                                       track.max_step_default),
            max_step_policy=jnp.where(in_window, jnp.maximum(track.max_step_policy, nxt.policy - e.policy),
                                      track.max_step_policy),
            tai_default=_record(track.tai_default, below_tai, t, e.default, nxt.default),
            tai_policy=_record(track.tai_policy, policy_below_tai, t, e.policy, nxt.policy),
            band_default=_record(track.band_default, below_band, t, e.default, nxt.default),
            band_policy=_record(track.band_policy, policy_below_band, t, e.policy, nxt.policy),
            leader_tai=_record(track.leader_tai, leader_below, t, e.regulated, nxt.regulated),
            lead_before=jnp.where(leader_below, e.regulated - e.evader, track.lead_before),
            lead_after=jnp.where(leader_below, nxt.regulated - nxt.evader, track.lead_after),
            tai_in_rampup=jnp.where(below_tai, ramping.astype(dtype), track.tai_in_rampup),
            evader_deficit=deficit,
        )
        return (default_next, policy_next, nxt, track), (nxt.default, nxt.policy)

    spend_start = jnp.minimum(p["spend_start"], willingness_start)
    world = World(spend_start, spend_start + hw_start, spend_start + hw_start, jnp.zeros_like(spend_start))
    e0 = _effective(p, world)
    e = Curves(e0, e0, e0, frontier(e0, e0))
    track = Tracking(
        overhang=nan, target_gap=jnp.zeros_like(nan),
        max_step_default=jnp.full_like(nan, -jnp.inf), max_step_policy=jnp.full_like(nan, -jnp.inf),
        tai_default=_start(e.default, p["E_tai"]), tai_policy=_start(e.policy, p["E_tai"]),
        band_default=_start(e.default, band_low), band_policy=_start(e.policy, band_low),
        leader_tai=_start(e.regulated, p["E_tai"]),
        lead_before=e.regulated - e.evader, lead_after=e.regulated - e.evader,
        tai_in_rampup=(spend_start < willingness_start).astype(dtype),
        evader_deficit=jnp.zeros_like(nan),
    )

    def one_year(carry, y):
        carry, (e_default, e_policy) = jax.lax.scan(step, carry, y * STEPS_PER_YEAR + jnp.arange(STEPS_PER_YEAR))
        return carry, (e_default[-1], e_policy[-1])

    (_, _, last, track), (yearly_default, yearly_policy) = jax.lax.scan(one_year, (world, world, e, track),
                                                                         jnp.arange(YEARS))

    steps = YEARS * STEPS_PER_YEAR
    # A cap ending in the last step has its overhang at END_YEAR but no growth window after it.
    overhang = jnp.where(end_step == steps, last.default - last.regulated, track.overhang)
    ended = end_step < steps  # catch-up started within the horizon
    tai_default = _crossing_time(track.tai_default, p["E_tai"], dt)
    tai_policy = _crossing_time(track.tai_policy, p["E_tai"], dt)
    leader = track.leader_tai
    share = _crossing_share(leader, p["E_tai"])
    lead = jnp.where(leader.after < p["E_tai"], nan, (1 - share) * track.lead_before + share * track.lead_after)
    never = jnp.isinf(tai_default) & jnp.isinf(tai_policy)
    return {
        "overhang_at_end": jnp.where(end_step <= steps, overhang, nan),
        "max_growth_after_end": jnp.where(ended, track.max_step_policy * STEPS_PER_YEAR, nan),
        "max_growth_default": jnp.where(ended, track.max_step_default * STEPS_PER_YEAR, nan),
        "tai_year_default": tai_default,
        "tai_year_policy": tai_policy,
        "tai_delay": jnp.where(never, nan, tai_policy - tai_default),
        "tai_in_rampup_default": jnp.where(jnp.isinf(tai_default), nan, track.tai_in_rampup),
        "danger_band_years_default": _band_years(tai_default, _crossing_time(track.band_default, band_low, dt)),
        "danger_band_years_policy": _band_years(tai_policy, _crossing_time(track.band_policy, band_low, dt)),
        "lead_at_tai": lead,
        "E_default": jnp.concatenate([e0[None], yearly_default]),
        "E_policy": jnp.concatenate([e.policy[None], yearly_policy]),
    }


TRAJECTORY = Model(
    name="trajectory",
    description="ramp-up, compute caps, pause and catch-up (MODELS.md section 2)",
    parameters=PARAMETERS,
    outputs=OUTPUTS,
    methods={"stepped": trajectory},
    default_priors="trajectory.toml",
    trajectories=TRAJECTORIES,
)
