"""Steps 1 .. 779 (the original's ``reinvest_output_in_inputs``, ``automate_tasks``,
``production``) and the metrics tracked along them."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .._schema import Draw
from ._declaration import DELAY_SLOTS, INVESTMENT_RATE, STEPS, STEPS_PER_YEAR, STEP_YEARS
from ._constants import ln, power
from ._state import Constants, Step, Tracker, update_rnd, year_of_step
from ._production import Inputs, Production, produce, share_automated, step_inputs


def advance(p: Draw, k: Constants, s: Step, n, policy: bool) -> tuple[Step, Inputs, Production, Events]:
    """Step n from step n - 1: the original's ``reinvest_output_in_inputs`` (R&D, shares, inputs),
    ``automate_tasks`` and ``production``, with the cap hook when ``policy``."""
    year = year_of_step(n)
    penalty = p["rnd_parallelization_penalty"]
    (performance, software), (cumulative_hardware, cumulative_software) = jax.vmap(
        update_rnd, in_axes=(0, 0, 0, 0, None))(
        jnp.stack([s.hardware_performance, s.software]), jnp.stack([s.rnd_input_hardware, s.rnd_input_software]),
        jnp.stack([s.cumulative_hardware_rnd, s.cumulative_software_rnd]), k.frontiers, penalty)

    # The cap hook remembers what stood when the cap's start year came: the largest run trained and
    # the training share (a cap never takes back what was trained, and never starves training).
    started = (year >= k.cap.start) if policy else jnp.zeros((), bool)
    first = started & ~s.cap_started
    trained_at_start = jnp.where(first, s.largest_trained, s.trained_at_cap_start)
    share_at_start = jnp.where(first, s.fractions.compute_training, s.share_at_cap_start)

    # Shares: wake-up when the goods tasks automated reach the trigger; events are dated t_{n-1}.
    # Under a cap, a world once woken stays awake (the original recomputes it each step).
    rampup = (s.automated_goods >= p["rampup_trigger"]) | (started & s.rampup)
    events = Events(wakeup=rampup & ~s.rampup,
                    sub_agi=(s.automatable_goods_alone >= 0.2) & ~(s.automatable_goods_alone_before >= 0.2),
                    agi=(s.automatable_goods_alone >= 1) & ~(s.automatable_goods_alone_before >= 1),
                    year=year - STEP_YEARS)
    fractions = jax.tree.map(lambda share, before, after, ceiling: jnp.minimum(
        share * jnp.where(rampup, after, before), ceiling), s.fractions, k.growth, k.growth_rampup, k.ceilings)
    # Before wake-up the training share stops growing once the largest run costs the money cap.
    hold = (s.money_spent_training > p["money_cap_training_before_wakeup"]) & ~s.rampup
    fractions = fractions._replace(compute_training=jnp.where(hold, s.fractions.compute_training,
                                                              fractions.compute_training))

    # Inputs. Hardware one can buy lags the frontier by the delay (extrapolated back before 2022).
    investment = s.gwp * fractions.gwp_compute * STEP_YEARS
    history = s.performance_history.at[n % DELAY_SLOTS].set(performance)
    lagged = n - k.delay_steps
    buyable = jnp.where(lagged >= 0, history[lagged % DELAY_SLOTS], k.initial_hardware_performance * jnp.exp(
        k.log_early_hardware_growth * lagged.astype(jnp.float64)))
    hardware = s.hardware * k.depreciation + investment * buyable
    if policy:
        hardware = jnp.minimum(hardware, k.cap.hardware_stock(year))
    compute = hardware * software
    capital = s.capital + s.gwp * INVESTMENT_RATE * STEP_YEARS
    labour = s.labour * k.labour_growth
    tfp = s.tfp * k.tfp_growth
    largest = compute * fractions.compute_training
    trained = largest
    if policy:
        # The level in effective FLOP (physical FLOP times software), raised to the largest run
        # already trained when the cap started unless the user asks for a cap below it.
        cap = k.cap.training(year)
        cap = jnp.where(k.cap.physical > 0, cap * software, cap)
        cap = jnp.where(k.cap.below_trained > 0, cap, jnp.maximum(cap, trained_at_start))
        # catch_up = 0: the training share is clamped, the compute freed goes to goods, but never
        # below the share when the cap started (compute above the cap at that share sits idle).
        # catch_up = 1: the share is kept and compute above the cap sits idle.
        share = fractions.compute_training
        fractions = fractions._replace(compute_training=jnp.where(
            k.cap.catch_up > 0, share, jnp.maximum(jnp.minimum(share, cap / compute), share_at_start)))
        largest = jnp.minimum(compute * fractions.compute_training, cap)
        # What AI can do follows the largest run ever trained, not this step's: automation stays.
        trained = jnp.where(started, jnp.maximum(largest, s.largest_trained), largest)
    money = compute * fractions.compute_training / (software * buyable)

    inputs = step_inputs(k, capital, labour, investment, hardware, compute, tfp, fractions, trained)
    made = produce(k, inputs, power(hardware, p["compute_software_rnd_experiments_efficiency"]))
    gwp = made.goods * k.output_to_gwp
    state = Step(
        hardware_performance=performance, cumulative_hardware_rnd=cumulative_hardware, software=software,
        cumulative_software_rnd=cumulative_software, rnd_input_hardware=made.hardware_rnd * k.hardware_rnd_to_input,
        rnd_input_software=made.software_rnd * k.software_rnd_to_input, fractions=fractions, rampup=rampup,
        money_spent_training=money, largest_run=largest, gwp=gwp, hardware=hardware, capital=capital, labour=labour,
        tfp=tfp,
        automated_goods=made.automated_goods, automated_rnd=made.automated_rnd,
        automatable_goods_alone=share_automated(inputs.automatable_goods_alone),
        automatable_goods_alone_before=s.automatable_goods_alone, performance_history=history,
        largest_trained=jnp.maximum(s.largest_trained, largest), cap_started=s.cap_started | started,
        trained_at_cap_start=trained_at_start, share_at_cap_start=share_at_start,
        gwp_history=s.gwp_history.at[n % STEPS_PER_YEAR].set(gwp))
    return state, inputs, made, events


class Events(NamedTuple):
    """Events the original records while reallocating in step n, dated t_{n-1}; the last firing wins."""

    wakeup: jax.Array
    sub_agi: jax.Array
    agi: jax.Array
    year: jax.Array


def _first(found, n, condition):
    """The first step a condition held (-1 while it has not)."""
    return jnp.where((found < 0) & condition, n, found)


def update_tracker(track: Tracker, n, s_before: Step, s: Step, made: Production, events: Events | None) -> Tracker:
    """The metrics after step n. A step that makes an invalid value (NaN) stops them, as the
    original's FloatingPointError stops its run."""
    invalid = (jnp.isnan(s.gwp) | jnp.isnan(s.rnd_input_hardware) | jnp.isnan(s.rnd_input_software)
               | jnp.isnan(s.hardware_performance) | jnp.isnan(s.software) | jnp.isnan(s.hardware)
               | jnp.isnan(made.multiplier_rnd))
    # Step 780 (2100.0), which the scan makes to finish its last whole year, is not the original's.
    counted = n < STEPS
    ok = ~track.stopped & ~invalid & counted
    # The original's annual GWP growth series runs from step 10 to step 778 (one short of the end).
    growth = ln(s.gwp / s_before.gwp_history[n % STEPS_PER_YEAR])
    has_growth = ok & (n >= STEPS_PER_YEAR) & (n <= STEPS - 2)
    if events is not None:
        recorded = ~track.stopped & counted
        track = track._replace(
            wakeup_year=jnp.where(recorded & events.wakeup, events.year, track.wakeup_year),
            sub_agi_year=jnp.where(recorded & events.sub_agi, events.year, track.sub_agi_year),
            agi_year=jnp.where(recorded & events.agi, events.year, track.agi_year))
    return track._replace(
        goods_20=_first(track.goods_20, n, ok & (s.automated_goods >= 0.2)),
        goods_100=_first(track.goods_100, n, ok & (s.automated_goods >= 1)),
        rnd_20=_first(track.rnd_20, n, ok & (s.automated_rnd >= 0.2)),
        rnd_100=_first(track.rnd_100, n, ok & (s.automated_rnd >= 1)),
        goods_over_20=_first(track.goods_over_20, n, ok & (s.automated_goods > 0.2)),
        rnd_over_20=_first(track.rnd_over_20, n, ok & (s.automated_rnd > 0.2)),
        rnd_output_2x=_first(track.rnd_output_2x, n, ok & (made.multiplier_rnd > 2)),
        rnd_output_10x=_first(track.rnd_output_10x, n, ok & (made.multiplier_rnd > 10)),
        gwp_growth_5=_first(track.gwp_growth_5, n, has_growth & (growth > 0.05)),
        gwp_growth_20=_first(track.gwp_growth_20, n, has_growth & (growth > 0.20)),
        peak_gwp_growth=jnp.where(has_growth, jnp.maximum(track.peak_gwp_growth, growth), track.peak_gwp_growth),
        stopped=track.stopped | invalid)


def new_tracker(like) -> Tracker:
    never = jnp.full((), -1, jnp.int32)
    nan = jnp.full_like(like, jnp.nan)
    return Tracker(*([never] * 10), peak_gwp_growth=jnp.full_like(like, -jnp.inf), sub_agi_year=nan, agi_year=nan,
                   wakeup_year=nan, stopped=jnp.zeros((), bool))


def tracked_metrics(track: Tracker, admissible) -> dict[str, jax.Array]:
    """The outputs from the tracker: +inf for what is not reached by 2100, NaN for what is not
    known (after an invalid value stopped the run) and for every output of an inadmissible set."""
    missing = jnp.where(track.stopped, jnp.nan, jnp.inf)

    def year(first):
        return jnp.where(first >= 0, year_of_step(first), missing)

    def length(start, end):
        return jnp.where((start >= 0) & (end >= 0), (end - start).astype(jnp.float64) * STEP_YEARS, missing)

    def event(value):
        return jnp.where(jnp.isnan(value), missing, value)

    agi, sub_agi = event(track.agi_year), event(track.sub_agi_year)
    outputs = {
        "automation_goods_20_year": year(track.goods_20),
        "automation_goods_100_year": year(track.goods_100),
        "automation_rnd_20_year": year(track.rnd_20),
        "automation_rnd_100_year": year(track.rnd_100),
        "sub_agi_year": sub_agi,
        "agi_year": agi,
        "wakeup_year": event(track.wakeup_year),
        "takeoff_goods_years": length(track.goods_over_20, track.goods_100),
        "takeoff_rnd_years": length(track.rnd_over_20, track.rnd_100),
        "sub_agi_to_agi_years": jnp.where(jnp.isnan(track.agi_year), missing, agi - sub_agi),
        "rnd_output_2x_to_10x_years": length(track.rnd_output_2x, track.rnd_output_10x),
        "gwp_growth_5_to_20_years": length(track.gwp_growth_5, track.gwp_growth_20),
        "peak_gwp_growth": jnp.where(jnp.isfinite(track.peak_gwp_growth), 100 * track.peak_gwp_growth, jnp.nan),
    }
    outputs["inadmissible"] = jnp.where(admissible, 0.0, 1.0)
    return outputs
