"""The takeoff model: overhang pools and the maximum explosive takeoff speed.

docs/takeoff.md is this model's page: every equation below (same labels, same
symbols, same order), its units, defaults and sources, and where it departs
from the original specification. Three overhangs i in {investment, hardware,
software} are pools of S_i orders of magnitude (OOM); R_i is the fraction of
pool i not yet consumed, R_i(0) = 1.

Discretisation (both methods below follow it exactly):

(T1) grid: step n = 0, 1, ..., N at year t_n = start_year + n dt, dt = step_years,
     N = floor(horizon_years / dt + 1e-3) (the offset absorbs rounding: 300 / 0.1
     is 2999.9999999999995 in floating point); N < MAX_STEPS, checked when the
     priors load;
(T2) pools: S_inv(n) = size_investment + investment_pool_growth * n dt; S_hw, S_sw fixed;
(T3) capability: K_n = capability_start + sum_i S_i(n) (1 - R_i(n));
(T4) rates: c0 and c1 = c0 * c1_over_c0 are shares of a pool per tenth of a year
     (the source's unit). A pool consumed at r per tenth of a year keeps
     k(r) = (1 - min(1, r)) ** (dt / 0.1) of itself over one step and loses
     q(r) = 1 - k(r); at dt = 0.1, q = min(1, r);
(T5) pre-takeoff, n < T: R_i(n+1) = R_i(n) k(c0 m_i(n)), with m_i = pre_multiplier_i,
     except m_sw = 0 at the steps inside the software pause
     [software_pause_start, software_pause_end) (steps k >= 0, each boundary at
     step ceil((year - start_year) / dt - 1e-3));
(T6) takeoff: T is the first step with K_T >= takeoff_threshold;
(T7) explosive phase, n >= T: r_i(n) = c1 / d_i * M_i(n) per tenth of a year with
     d_i = delay_i, M_inv = M_hw = 1, M_sw = A_n if asymmetry = 1 else 1;
(T8) asymmetry multiplier: A_n = scaffolding_factor * c2 * I ** (asymmetry_scaling *
     asymmetry_returns), log10 I = investment_base + S_inv(n) (1 - R_inv(n)),
     computed as the inference model's copies multiplier I ** asymmetry_scaling
     (see _inference.py) raised to asymmetry_returns;
(T9) speed: v_n = sum_i S_i(n) R_i(n) min(1, r_i(n)) / 0.1, the OOM the pools give up
     over a tenth of a year (the source post's unit) at step n's rates, per year; then
     R_i(n+1) = R_i(n) k(r_i(n)). At dt = 0.1 this is the OOM consumed over the step, per
     year; at any step it is a function of the state, so it converges as dt shrinks;
(T10) end: E is the first step after T with sum_i S_i(E) R_i(E) < end_remaining.

Outputs: takeoff_year = t_T; speed_at_start = v_T; max_speed = max of v_n over
T <= n < E and max_speed_year the first year it is reached; takeoff_duration =
(E - T) dt; remaining_<pool> = S_i(T) R_i(T), the OOM left in each pool when
takeoff starts; asymmetry_multiplier = the multiplier applied to the software
rate at step T (1 with asymmetry off); rate_clipped = 1 if a rate of (T5) or
(T7) reached 1 per tenth of a year in a step whose result is used (pre-takeoff
steps before min(T, N), explosive steps T <= n < E or to the horizon): the pool
then goes within one step whatever its length, and the speed counts its
remainder as consumed over a tenth of a year.

A draw that does not take off by the horizon gets takeoff_year = +inf,
max_speed_year = +inf, takeoff_duration = +inf and NaN for the quantities
that only exist once takeoff starts; one that takes off but has not ended by
the horizon gets takeoff_duration = +inf. The runner counts both.

Two methods give the same answers: ``stepped`` (the reference) iterates
every step; ``closed_form`` uses R_i(n) = k_i ** (active steps before n) and
finds T by bisection on the monotone K_n (the pools only shrink and S_inv
only grows). Its explosive phase is in closed form too when the rates are
constant (asymmetry off, investment_pool_growth = 0), and stepped otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import _inference
from ._schema import Check, Draw, Figure, Headline, Model, Observable, Ordered, Output, Parameter

MAX_STEPS = 2**24
"""Steps are counted exactly in float32 up to here: a horizon of more steps (horizon_years /
step_years) is refused when the priors load."""
RATE_UNIT_YEARS = 0.1
"""c0 and c1 are rates per tenth of a year, the source post's unit (its step)."""

_INF = jnp.inf

PARAMETERS = (
    Parameter("size_investment", 4.0, "OOM", "investment overhang pool size", lower=0.0),
    Parameter("size_hardware", 9.0, "OOM", "hardware overhang pool size", lower=0.0),
    Parameter("size_software", 12.0, "OOM", "software overhang pool size", lower=0.0),
    Parameter("delay_investment", 10.0, "months", "relative delay of the investment pool after takeoff",
              lower=0.0, lower_open=True),
    Parameter("delay_hardware", 10.0, "months", "relative delay of the hardware pool after takeoff",
              lower=0.0, lower_open=True),
    Parameter("delay_software", 1.0, "months", "relative delay of the software pool after takeoff",
              lower=0.0, lower_open=True),
    Parameter("c0", 0.0037, "1/(0.1 yr)", "pre-takeoff consumption rate, share of a pool per tenth of a year",
              lower=0.0, upper=1.0, lower_open=True),
    Parameter("c1_over_c0", 100.0, "1", "post-takeoff rate (before dividing by the delay) over c0",
              lower=0.0, lower_open=True),
    Parameter("c2", 1 / 33, "1", "normalisation of the asymmetry multiplier", lower=0.0, lower_open=True),
    Parameter("capability_start", 24.0, "log10 FLOP", "capability (log10 effective compute) at start_year"),
    Parameter("takeoff_threshold", 36.0, "log10 FLOP", "capability at which takeoff starts"),
    Parameter("investment_base", 4.0, "log10", "log10 investment before any pool is consumed"),
    Parameter("asymmetry_scaling", _inference.CHINCHILLA_COPIES_SCALING, "1",
              "scaling-law exponent of copies in training compute", lower=0.0),
    Parameter("asymmetry_returns", 0.5, "1", "returns exponent on parallel copies", lower=0.0),
    Parameter("asymmetry", 0.0, "switch", "training/inference asymmetry off (0) or on (1)", values=(0.0, 1.0)),
    Parameter("pre_multiplier_investment", 1.0, "1", "pre-takeoff speed-up of investment", lower=0.0),
    Parameter("pre_multiplier_hardware", 1.0, "1", "pre-takeoff speed-up of hardware", lower=0.0),
    Parameter("pre_multiplier_software", 1.0, "1", "pre-takeoff speed-up of software", lower=0.0),
    Parameter("software_pause_start", 2022.0, "yr", "start of the software pause (empty if end = start)"),
    Parameter("software_pause_end", 2022.0, "yr", "end (exclusive) of the software pause"),
    Parameter("scaffolding_factor", 1.0, "1", "multiplies the asymmetry multiplier", lower=0.0, lower_open=True),
    Parameter("investment_pool_growth", 0.0, "OOM/yr", "growth of the investment pool", lower=0.0),
    Parameter("end_remaining", 0.1, "OOM", "total OOM left when takeoff ends", lower=0.0, lower_open=True),
    Parameter("start_year", 2022.0, "yr", "year of step 0"),
    Parameter("step_years", 0.1, "yr", "time step", lower=0.0, lower_open=True),
    Parameter("horizon_years", 300.0, "yr", "simulated span after start_year", lower=0.0, lower_open=True),
)

# "worse" is the safety reading of comparisons: an earlier, faster, shorter takeoff, with more
# overhang left to burn when it starts. Differences within a tolerance count as the same.
_YEARS, _OOM = dict(tolerance=0.05), dict(tolerance=0.01)
OUTPUTS = (
    Output("takeoff_year", "yr", "first year capability reaches takeoff_threshold", "lower", **_YEARS),
    Output("speed_at_start", "OOM/yr", "takeoff speed when takeoff starts (OOM consumed over the next tenth "
           "of a year at its rates, per year)", "higher", **_OOM),
    Output("max_speed", "OOM/yr", "maximum takeoff speed over the explosive phase (OOM consumed over a tenth "
           "of a year at a step's rates, per year)", "higher", **_OOM),
    Output("max_speed_year", "yr", "first year the maximum speed is reached", "lower", **_YEARS),
    Output("takeoff_duration", "yr", "years from takeoff start until less than end_remaining OOM remain", "lower",
           **_YEARS),
    Output("remaining_investment", "OOM", "investment overhang left when takeoff starts", "higher", **_OOM),
    Output("remaining_hardware", "OOM", "hardware overhang left when takeoff starts", "higher", **_OOM),
    Output("remaining_software", "OOM", "software overhang left when takeoff starts", "higher", **_OOM),
    Output("asymmetry_multiplier", "1", "multiplier on the software rate when takeoff starts", "higher",
           tolerance=0.01),
    Output("rate_clipped", "1", "1 if a pool's rate reached 1 per tenth of a year in a simulated step (the pool is "
           "then consumed whole within a tenth of a year), else 0"),
)

# What a comparison answers first: does B bring takeoff earlier, and make it faster or shorter
# (the overhang worry: a delay that ends in a faster takeoff)?
HEADLINES = (
    Headline("takeoff_year", worse="brings takeoff earlier", better="delays takeoff", backfire=True),
    Headline("max_speed", worse="makes the takeoff faster (a higher maximum speed)",
             better="makes the takeoff slower (a lower maximum speed)", backfire=True),
    Headline("takeoff_duration", worse="shortens the takeoff", better="lengthens the takeoff"),
)


# --------------------------------------------------------------------------
# The equations, one function each, named as in docs/takeoff.md.


class Pools(NamedTuple):
    """One value per overhang pool: a pytree, so jax.tree.map works pool by pool.

    Separate arrays rather than a stacked axis of 3: under vmap each is a
    contiguous vector, which XLA's CPU loops vectorise well.
    """

    investment: jax.Array
    hardware: jax.Array
    software: jax.Array


def per(divisor: jax.Array) -> jax.Array:
    """1 / divisor, to multiply by.

    XLA may rewrite a division by a value it knows at compile time (a point
    prior) into a multiplication by its reciprocal, but only in some fusions:
    writing the reciprocal out keeps every draw bit-identical whatever the
    batch it is computed in.
    """
    return 1 / divisor


def total(values: Pools) -> jax.Array:
    """Sum over the pools in a fixed order (draws must not depend on how XLA orders a reduction)."""
    return (values.investment + values.hardware) + values.software


def largest(values: Pools) -> jax.Array:
    return jnp.maximum(jnp.maximum(values.investment, values.hardware), values.software)


def smallest(values: Pools) -> jax.Array:
    return jnp.minimum(jnp.minimum(values.investment, values.hardware), values.software)


def pool_sizes(p: Draw, step: jax.Array) -> Pools:
    """S_i(n): the investment pool grows by investment_pool_growth OOM/yr."""
    elapsed = step.astype(p["step_years"].dtype) * p["step_years"]
    return Pools(p["size_investment"] + p["investment_pool_growth"] * elapsed, p["size_hardware"],
                 p["size_software"])


def capability(p: Draw, step: jax.Array, remaining: Pools) -> jax.Array:
    """K_n = K0 + sum_i S_i (1 - R_i)."""
    return p["capability_start"] + total(jax.tree.map(lambda s, r: s * (1 - r), pool_sizes(p, step), remaining))


def horizon_steps(p: Draw) -> jax.Array:
    """N, the last step simulated (at most MAX_STEPS - 1: checked when the priors load)."""
    return jnp.floor(p["horizon_years"] * per(p["step_years"]) + 1e-3).astype(jnp.int32)


def _horizon_within_step_limit(ranges) -> str | None:
    """The longest horizon in steps must fit MAX_STEPS (a longer one would be cut short)."""
    (_, horizon), (step, _) = ranges["horizon_years"], ranges["step_years"]
    steps = math.floor(horizon / step + 1e-3)
    if steps <= MAX_STEPS - 1:
        return None
    return (f"parameters 'horizon_years' (up to {horizon:g}) and 'step_years' (down to {step:g}) give up to "
            f"{steps:,} steps; at most {MAX_STEPS - 1:,} are allowed (MAX_STEPS = 2**24, where float32 stops "
            "counting steps exactly): raise step_years or shorten horizon_years")


def pause_steps(p: Draw) -> tuple[jax.Array, jax.Array]:
    """First and one-past-last step of the software pause (the window snapped to the grid)."""
    def first_step_at(year):
        # The small offset keeps a boundary on a grid year on that step in float32;
        # steps before 0 are never simulated, so a window opening earlier starts at 0.
        return jnp.maximum(jnp.ceil((year - p["start_year"]) * per(p["step_years"]) - 1e-3), 0).astype(jnp.int32)
    return first_step_at(p["software_pause_start"]), first_step_at(p["software_pause_end"])


def log_keep(p: Draw, rates: Pools) -> Pools:
    """log k_i: a pool consumed at r_i per tenth of a year keeps k_i = (1 - min(1, r_i)) ** (dt / 0.1)
    of itself over one step of dt years (the exact conversion: the decay compounds)."""
    tenths = p["step_years"] * (1 / RATE_UNIT_YEARS)
    return jax.tree.map(lambda rate: tenths * jnp.log1p(-jnp.minimum(rate, 1.0)), rates)


def clipped(rates: Pools) -> jax.Array:
    """Whether a rate reached 1 per tenth of a year (the pool goes within a step whatever its length)."""
    return largest(rates) >= 1


def pre_takeoff_rates(p: Draw) -> Pools:
    """c0 * m_i per tenth of a year, outside any pause."""
    multipliers = Pools(p["pre_multiplier_investment"], p["pre_multiplier_hardware"], p["pre_multiplier_software"])
    return jax.tree.map(lambda m: p["c0"] * m, multipliers)


def pre_takeoff_step(p: Draw, step: jax.Array, remaining: Pools) -> Pools:
    """R_i(n+1) = R_i(n) * k_i, with m_sw = 0 (k_sw = 1) inside the pause."""
    pause_start, pause_end = pause_steps(p)
    paused = (step >= pause_start) & (step < pause_end)
    keep = jax.tree.map(jnp.exp, log_keep(p, pre_takeoff_rates(p)))
    keep = keep._replace(software=jnp.where(paused, 1.0, keep.software))
    return jax.tree.map(lambda r, k: r * k, remaining, keep)


def active_steps(p: Draw, step: jax.Array) -> Pools:
    """Pre-takeoff steps before step n in which each pool is consumed (software not in its pause)."""
    pause_start, pause_end = pause_steps(p)
    paused_before = jnp.clip(step, pause_start, pause_end) - pause_start
    return Pools(step, step, step - paused_before)


def pre_takeoff_closed_form(p: Draw) -> Callable[[jax.Array], Pools]:
    """Closed form of the pre-takeoff phase: step n -> R_i(n) = k_i ** (active steps before n).

    The per-draw constants are computed once, outside the function that a
    search then calls at many steps.
    """
    log_factor = log_keep(p, pre_takeoff_rates(p))

    def remaining_at(step: jax.Array) -> Pools:
        return decay(active_steps(p, step), log_factor)
    return remaining_at


def pre_takeoff_clipped(p: Draw, takeoff_step: jax.Array) -> jax.Array:
    """Whether a pool consumed at c0 m_i >= 1 per tenth of a year before takeoff (or the horizon)."""
    active = active_steps(p, jnp.minimum(takeoff_step, horizon_steps(p)))
    return jnp.any(jnp.stack(jax.tree.leaves(jax.tree.map(lambda n, rate: (n > 0) & (rate >= 1), active,
                                                            pre_takeoff_rates(p)))), axis=0)


def pre_takeoff_remaining(p: Draw, step: jax.Array) -> Pools:
    """R_i at step n before takeoff, in closed form."""
    return pre_takeoff_closed_form(p)(step)


def decay(steps: Pools, log_factor: Pools) -> Pools:
    """(1 - r_i) ** steps_i, as exp(steps * log(1 - r_i))."""
    # A rate of 1 gives log 0 = -inf; zero steps must still give 1.
    return jax.tree.map(lambda n, lf: jnp.where(n > 0, jnp.exp(n.astype(lf.dtype) * lf), 1.0), steps, log_factor)


def asymmetry_multiplier(p: Draw, step: jax.Array, remaining: Pools) -> jax.Array:
    """A = scaffolding * c2 * I ** (a_scale * a_returns), log10 I = I0 + S_inv (1 - R_inv); 1 when off.

    I ** a_scale is the inference model's copies multiplier (copies of a model
    trained with I times the investment), shared code, not a second formula;
    a_returns is the diminishing return on running more copies of a researcher.
    """
    log10_investment = p["investment_base"] + pool_sizes(p, step).investment * (1 - remaining.investment)
    copies = _inference.copies_multiplier(log10_investment, p["asymmetry_scaling"])
    # copies ** returns written as exp(returns * log(copies)): see copies_multiplier.
    multiplier = p["scaffolding_factor"] * p["c2"] * jnp.exp(p["asymmetry_returns"] * jnp.log(copies))
    return jnp.where(p["asymmetry"] > 0.5, multiplier, 1.0)


def explosive_rates(p: Draw, step: jax.Array, remaining: Pools) -> tuple[Pools, jax.Array]:
    """r_i = c1 / d_i * M_i per tenth of a year, with the asymmetry multiplier on software."""
    c1 = p["c0"] * p["c1_over_c0"]
    multiplier = asymmetry_multiplier(p, step, remaining)
    rates = Pools(c1 * per(p["delay_investment"]), c1 * per(p["delay_hardware"]),
                  c1 * per(p["delay_software"]) * multiplier)
    return rates, multiplier


def takeoff_speed(p: Draw, step: jax.Array, remaining: Pools, rates: Pools) -> jax.Array:
    """v = sum_i S_i R_i min(1, r_i) / 0.1: the OOM the pools give up over a tenth of a year at the
    step's rates, per year. A function of the state, not of the step, so it has a limit as the
    step shrinks (an average over one step would grow as 1 / dt where a rate reaches 1)."""
    return total(jax.tree.map(lambda s, r, rate: s * r * jnp.minimum(rate, 1.0), pool_sizes(p, step), remaining,
                              rates)) * (1 / RATE_UNIT_YEARS)


def remaining_oom(p: Draw, step: jax.Array, remaining: Pools) -> Pools:
    """S_i R_i: the OOM left in each pool."""
    return jax.tree.map(lambda s, r: s * r, pool_sizes(p, step), remaining)


def first_step_where(reached, low: jax.Array, high: jax.Array, guess_low: jax.Array,
                     guess_high: jax.Array) -> jax.Array:
    """Smallest n in [low, high) with ``reached(n)``, or ``high`` if none; ``reached`` is monotone.

    The search starts from the bracket [guess_low, guess_high] when the
    bracket checks out (two evaluations), else from [low, high]; either way
    the answer is exact, the guess only saves halvings.
    """
    guess_low = jnp.clip(guess_low, low, high)
    guess_high = jnp.clip(guess_high, guess_low, high)
    valid = ((guess_low == low) | ~reached(guess_low - 1)) & ((guess_high == high) | reached(guess_high))
    bracket = (jnp.where(valid, guess_low, low), jnp.where(valid, guess_high, high))

    def halve(bracket):
        below, above = bracket
        mid = (below + above) // 2
        hit = reached(mid)
        return jnp.where(hit, below, mid + 1), jnp.where(hit, mid, above)

    # A while_loop: a vmapped batch stops once every bracket has closed.
    return jax.lax.while_loop(lambda b: b[0] < b[1], halve, bracket)[0]


def _steps_to_fall(fraction: jax.Array, log_keep_: jax.Array) -> jax.Array:
    """Steps n for k ** n to fall to ``fraction`` (log k = ``log_keep_``), as a float (inf if never)."""
    steps = jnp.log(jnp.maximum(fraction, 0.0)) / log_keep_
    return jnp.where(fraction >= 1.0, 0.0, jnp.where(jnp.isnan(steps), jnp.inf, steps))


def _guess_to_step(x: jax.Array, margin: int = 2) -> jax.Array:
    """A float step estimate as an int32, clipped so inf fits."""
    return (jnp.clip(jnp.floor(x), -1.0, float(MAX_STEPS)) + margin).astype(jnp.int32)


def _steps_until_below(p: Draw, left: Pools, log_keeps: Pools, fraction: float) -> jax.Array:
    """Steps until every pool holds less than ``fraction`` * end_remaining at constant rates."""
    return largest(jax.tree.map(
        lambda oom, lk: jnp.where(oom > 0, _steps_to_fall(fraction * p["end_remaining"] / oom, lk), 0.0),
        left, log_keeps))


# --------------------------------------------------------------------------
# The two phases. State is a NamedTuple pytree; loops are lax.while_loop so a
# vmapped batch stops as soon as every draw in it is done.


class ExplosiveState(NamedTuple):
    step: jax.Array
    remaining: Pools
    speed_at_start: jax.Array
    max_speed: jax.Array
    max_speed_step: jax.Array
    end_step: jax.Array
    """-1 until the takeoff ends."""
    clipped: jax.Array
    """Whether a rate reached 1 per tenth of a year in a step of the phase."""
    done: jax.Array


def explosive_phase(p: Draw, takeoff_step: jax.Array, remaining: Pools,
                    skip: jax.Array | bool = False) -> ExplosiveState:
    """Step the explosive phase from the takeoff step until it ends or the horizon.

    With ``skip`` true the loop does nothing for this draw (its caller has
    the answer in closed form), so a vmapped batch loops only as long as the
    draws that need stepping.
    """
    last_step = horizon_steps(p)

    def cond(s: ExplosiveState):
        return ~s.done

    def body(s: ExplosiveState):
        left = total(remaining_oom(p, s.step, s.remaining))
        ends = (s.step > takeoff_step) & (s.step <= last_step) & (left < p["end_remaining"])
        done = ends | (s.step > last_step)
        rates, _ = explosive_rates(p, s.step, s.remaining)
        log_keeps = log_keep(p, rates)
        speed = takeoff_speed(p, s.step, s.remaining, rates)
        faster = ~done & (speed > s.max_speed)
        return ExplosiveState(
            step=jnp.where(done, s.step, s.step + 1),
            remaining=jax.tree.map(lambda r, lk: jnp.where(done, r, r * jnp.exp(lk)), s.remaining, log_keeps),
            speed_at_start=jnp.where(s.step == takeoff_step, speed, s.speed_at_start),
            max_speed=jnp.where(faster, speed, s.max_speed),
            max_speed_step=jnp.where(faster, s.step, s.max_speed_step),
            end_step=jnp.where(ends, s.step, s.end_step),
            clipped=s.clipped | (~done & clipped(rates)),
            done=done,
        )

    # The carry is built from the draw's own values so it is batched under
    # vmap (an unbatched constant carry trips sharded vmapped loops).
    never = takeoff_step > last_step
    init = ExplosiveState(
        step=takeoff_step,
        remaining=remaining,
        speed_at_start=jnp.full_like(p["c0"], jnp.nan),
        max_speed=jnp.full_like(p["c0"], -_INF),
        max_speed_step=takeoff_step,
        end_step=jnp.full_like(takeoff_step, -1),
        clipped=jnp.zeros_like(never),
        done=never | skip,
    )
    return jax.lax.while_loop(cond, body, init)


def explosive_phase_closed_form(p: Draw, takeoff_step: jax.Array, remaining: Pools) -> ExplosiveState:
    """The explosive phase in closed form, exact when asymmetry is off and the pools are fixed.

    Then the rates are constant, R_i(T + k) = R_i(T) (1 - r_i) ** k, the
    remaining total strictly falls (so its crossing of end_remaining is found
    by bisection) and the speed never rises (so its maximum is at T).
    """
    last_step = horizon_steps(p)
    rates, _ = explosive_rates(p, takeoff_step, remaining)
    log_factor = log_keep(p, rates)
    left = remaining_oom(p, takeoff_step, remaining)

    def decayed(k):
        return jax.tree.map(lambda r, f: r * f, remaining, decay(Pools(k, k, k), log_factor))

    def ended(k):
        left_then = jax.tree.map(lambda oom, f: oom * f, left, decay(Pools(k, k, k), log_factor))
        return total(left_then) < p["end_remaining"]

    # The end is the first k in [1, N - T] with the total below end_remaining;
    # k = N - T + 1 stands for "not by the horizon". Every pool must fall
    # below end_remaining (a lower bound on k) and below a third of it (enough).
    steps_left = last_step - takeoff_step
    k_end = first_step_where(ended, jnp.ones_like(takeoff_step), steps_left + 1,
                             _guess_to_step(_steps_until_below(p, left, log_factor, 1.0), -2),
                             _guess_to_step(_steps_until_below(p, left, log_factor, 1 / 3), 2))
    speed = takeoff_speed(p, takeoff_step, remaining, rates)
    return ExplosiveState(
        step=takeoff_step + k_end,
        remaining=decayed(k_end),
        speed_at_start=speed,
        max_speed=speed,
        max_speed_step=takeoff_step,
        end_step=jnp.where(k_end <= steps_left, takeoff_step + k_end, -1),
        clipped=clipped(rates),
        done=jnp.ones_like(takeoff_step, dtype=bool),
    )


def has_closed_form_explosive_phase(p: Draw) -> jax.Array:
    """True when the explosive phase has constant rates and fixed pools."""
    return (p["asymmetry"] < 0.5) & (p["investment_pool_growth"] == 0)


def _all_remaining(p: Draw) -> Pools:
    # Batched like the draw (see explosive_phase) rather than a constant 1.
    one = jnp.ones_like(p["c0"])
    return Pools(one, one, one)


def takeoff_step_stepped(p: Draw) -> tuple[jax.Array, Pools]:
    """Pre-takeoff phase step by step: the first step with K >= K_star, and R there."""
    last_step = horizon_steps(p)
    threshold = p["takeoff_threshold"]

    def cond(carry):
        step, remaining = carry
        return (step <= last_step) & (capability(p, step, remaining) < threshold)

    def body(carry):
        step, remaining = carry
        return step + 1, pre_takeoff_step(p, step, remaining)

    # Skip the loop when the pools cannot reach the threshold by the horizon.
    reachable = p["capability_start"] + total(pool_sizes(p, last_step)) >= threshold
    start = jnp.where(reachable, jnp.zeros_like(last_step), last_step + 1)
    return jax.lax.while_loop(cond, body, (start, _all_remaining(p)))


def takeoff_step_closed_form(p: Draw) -> tuple[jax.Array, Pools]:
    """Pre-takeoff phase in closed form: bisection for the first step with K >= K_star."""
    last_step = horizon_steps(p)
    threshold = p["takeoff_threshold"]

    remaining_at = pre_takeoff_closed_form(p)

    def reached(step):
        return capability(p, step, remaining_at(step)) >= threshold

    soonest, latest = _takeoff_step_bounds(p)
    # high = last_step + 1 stands for "not by the horizon".
    step = first_step_where(reached, jnp.zeros_like(last_step), last_step + 1,
                            _guess_to_step(soonest, -1), _guess_to_step(latest, 2))
    return step, remaining_at(step)


def _takeoff_step_bounds(p: Draw) -> tuple[jax.Array, jax.Array]:
    """Soonest and latest takeoff step (floats) if no pause held software back.

    With every pool consumed at the fastest (slowest) rate, the gap to the
    threshold closes soonest (latest). Equal when the multipliers are equal,
    which spares the halvings in the common case.
    """
    log_keeps = log_keep(p, pre_takeoff_rates(p))
    gap = p["takeoff_threshold"] - p["capability_start"]
    last_step = horizon_steps(p)
    soonest = _steps_to_fall(1 - gap / total(pool_sizes(p, last_step)), smallest(log_keeps))
    latest = _steps_to_fall(1 - gap / total(pool_sizes(p, jnp.zeros_like(last_step))), largest(log_keeps))
    return soonest, latest


def _outputs(p: Draw, takeoff_step: jax.Array, remaining: Pools, phase: ExplosiveState) -> dict[str, jax.Array]:
    dtype = p["c0"].dtype
    took_off = takeoff_step <= horizon_steps(p)
    ended = phase.end_step >= 0

    def year(step):
        return p["start_year"] + step.astype(dtype) * p["step_years"]

    def if_took_off(value):
        return jnp.where(took_off, value, jnp.nan)

    left = remaining_oom(p, takeoff_step, remaining)
    _, multiplier = explosive_rates(p, takeoff_step, remaining)
    return {
        "takeoff_year": jnp.where(took_off, year(takeoff_step), _INF),
        "speed_at_start": if_took_off(phase.speed_at_start),
        "max_speed": if_took_off(phase.max_speed),
        "max_speed_year": jnp.where(took_off, year(phase.max_speed_step), _INF),
        "takeoff_duration": jnp.where(ended, (phase.end_step - takeoff_step).astype(dtype) * p["step_years"],
                                      _INF),
        "remaining_investment": if_took_off(left.investment),
        "remaining_hardware": if_took_off(left.hardware),
        "remaining_software": if_took_off(left.software),
        "asymmetry_multiplier": if_took_off(multiplier),
        "rate_clipped": (pre_takeoff_clipped(p, takeoff_step) | (took_off & phase.clipped)).astype(dtype),
    }


def takeoff_closed_form(p: Draw) -> dict[str, jax.Array]:
    """One draw of the takeoff model, the fast path.

    The pre-takeoff phase is in closed form; so is the explosive phase where
    it has one (asymmetry off, fixed pools); otherwise that phase is stepped.
    """
    takeoff_step, remaining = takeoff_step_closed_form(p)
    closed = has_closed_form_explosive_phase(p)
    stepped = explosive_phase(p, takeoff_step, remaining, skip=closed)
    exact = explosive_phase_closed_form(p, takeoff_step, remaining)
    phase = jax.tree.map(lambda a, b: jnp.where(closed, a, b), exact, stepped)
    return _outputs(p, takeoff_step, remaining, phase)


def takeoff_stepped(p: Draw) -> dict[str, jax.Array]:
    """One draw of the takeoff model, every step of both phases iterated (the reference)."""
    takeoff_step, remaining = takeoff_step_stepped(p)
    return _outputs(p, takeoff_step, remaining, explosive_phase(p, takeoff_step, remaining))


def explosive_steps_estimate(p: Draw, takeoff_step: jax.Array, remaining: Pools) -> jax.Array:
    """Roughly how many steps the explosive phase lasts: until every pool is below end_remaining / 3
    at its rate when takeoff starts (the asymmetry multiplier only grows, so this overestimates)."""
    rates, _ = explosive_rates(p, takeoff_step, remaining)
    steps = _steps_until_below(p, remaining_oom(p, takeoff_step, remaining), log_keep(p, rates), 1 / 3)
    return jnp.minimum(steps, horizon_steps(p).astype(steps.dtype))


def _rough_takeoff(p: Draw) -> tuple[jax.Array, Pools]:
    """A takeoff step near the true one, without the search (cheap enough to schedule work by)."""
    soonest, latest = _takeoff_step_bounds(p)
    last_step = horizon_steps(p)
    step = jnp.clip(_guess_to_step(0.5 * (soonest + jnp.minimum(latest, float(MAX_STEPS))), 0), 0, last_step)
    return step, pre_takeoff_remaining(p, step)


def work_estimate_stepped(p: Draw) -> jax.Array:
    """Steps the stepped method will take for this draw, roughly."""
    takeoff_step, remaining = _rough_takeoff(p)
    return takeoff_step.astype(p["c0"].dtype) + explosive_steps_estimate(p, takeoff_step, remaining)


def work_estimate_closed_form(p: Draw) -> jax.Array:
    """Steps the fast path will loop for this draw: none when its explosive phase is in closed form."""
    takeoff_step, remaining = _rough_takeoff(p)
    steps = explosive_steps_estimate(p, takeoff_step, remaining)
    return jnp.where(has_closed_form_explosive_phase(p), 0.0, steps)


TAKEOFF = Model(
    name="takeoff",
    description="overhang pools and the maximum explosive takeoff speed (docs/takeoff.md)",
    parameters=PARAMETERS,
    outputs=OUTPUTS,
    methods={"closed_form": takeoff_closed_form, "stepped": takeoff_stepped},
    default_priors="takeoff.toml",
    constraints=(Ordered("software_pause_start", "software_pause_end"), Check(_horizon_within_step_limit)),
    work_estimates={"closed_form": work_estimate_closed_form, "stepped": work_estimate_stepped},
    headlines=HEADLINES,
    # Whether takeoff had begun by a year is an observation of takeoff_year (a bound on it).
    observables=(Observable("takeoff_year", "yr", "first year capability reaches takeoff_threshold",
                            "takeoff_year", at_year=False),),
    figures=(Figure("distributions", "distributions", {"names": ("takeoff_year", "max_speed")}),
             Figure("remaining_overhang", "remaining_overhang"),
             # The tornado chart needs every draw's parameters.
             Figure("max_speed_drivers", "tornado", {"output": "max_speed"}, needs_parameters=True)),
    sweep_outputs=("takeoff_year", "max_speed", "takeoff_duration", "remaining_software"),
)
