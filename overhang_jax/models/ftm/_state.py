"""What a step carries to the next: the shares, the state, the tracker, the per-draw constants
and the cap hook; R&D frontiers and the 2022 task weights."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._declaration import LABOUR_TASKS, START_YEAR, STEP_YEARS
from ._constants import LN10, Sector, Tasks, ces, fixed_order_sum, ln, odds_to_probs, power


class Fractions(NamedTuple):
    """The seven shares the economy reallocates each step (``frac_*`` in the original)."""

    gwp_compute: jax.Array
    capital_hardware_rnd: jax.Array
    labour_hardware_rnd: jax.Array
    compute_hardware_rnd: jax.Array
    labour_software_rnd: jax.Array
    compute_software_rnd: jax.Array
    compute_training: jax.Array


class Step(NamedTuple):
    """What one step leaves for the next (and for the metrics)."""

    hardware_performance: jax.Array   # FLOP/yr/$ at the frontier
    cumulative_hardware_rnd: jax.Array
    software: jax.Array
    cumulative_software_rnd: jax.Array
    rnd_input_hardware: jax.Array     # $-equivalents of R&D output
    rnd_input_software: jax.Array
    fractions: Fractions
    rampup: jax.Array                 # bool: woken up
    money_spent_training: jax.Array   # $
    largest_run: jax.Array            # FLOP
    gwp: jax.Array                    # $/yr
    hardware: jax.Array               # FLOP/yr
    capital: jax.Array
    labour: jax.Array
    tfp: jax.Array                    # the same for goods and R&D
    automated_goods: jax.Array        # frac_tasks_automated_goods
    automated_rnd: jax.Array          # frac_tasks_automated_rnd
    automatable_goods_alone: jax.Array   # frac_automatable_tasks_goods_no_tradeoff
    automatable_goods_alone_before: jax.Array   # the same one step earlier
    largest_trained: jax.Array        # FLOP, the largest run trained so far
    cap_started: jax.Array            # bool: the cap's start year has come
    trained_at_cap_start: jax.Array   # FLOP, largest_trained when it came (0 before)
    share_at_cap_start: jax.Array     # frac_compute_training when it came (0 before)
    performance_history: jax.Array    # (DELAY_SLOTS,) hardware performance of the last steps, by n % slots
    gwp_history: jax.Array            # (10,) GWP of the last 10 steps, by n % 10


class Tracker(NamedTuple):
    """The metrics, updated step by step: first steps of crossings (-1: not yet) and event years."""

    goods_20: jax.Array          # first n with frac_tasks_automated_goods >= 0.2
    goods_100: jax.Array
    rnd_20: jax.Array
    rnd_100: jax.Array
    goods_over_20: jax.Array     # first n with > 0.2 (start of the takeoff)
    rnd_over_20: jax.Array
    rnd_output_2x: jax.Array     # first n with automation_multiplier_rnd > 2
    rnd_output_10x: jax.Array
    gwp_growth_5: jax.Array      # first n with annual GWP log growth > 0.05
    gwp_growth_20: jax.Array
    peak_gwp_growth: jax.Array
    sub_agi_year: jax.Array      # NaN: not yet
    agi_year: jax.Array
    wakeup_year: jax.Array
    stopped: jax.Array           # bool: an invalid value has appeared


class Constants(NamedTuple):
    """Per-draw constants, computed once before the scan."""

    tasks: Tasks
    max_tradeoff: jax.Array          # 1 when the trade-off is off
    sectors: Sector                  # stacked: goods, hardware R&D, software R&D
    growth: Fractions                # exp(g dt) before wake-up
    growth_rampup: Fractions         # exp(g dt) after
    ceilings: Fractions
    frontiers: Frontier              # stacked: hardware performance, software
    initial_hardware_performance: jax.Array
    log_early_hardware_growth: jax.Array   # ln(x_hw(1) / x_hw(0)), for steps before the delay
    delay_steps: jax.Array             # int32
    depreciation: jax.Array            # (1 - d) ** dt
    labour_growth: jax.Array           # exp(g_L dt)
    tfp_growth: jax.Array
    output_to_gwp: jax.Array
    hardware_rnd_to_input: jax.Array
    software_rnd_to_input: jax.Array
    cap: Cap


class Cap(NamedTuple):
    """The policy hook: a cap on the largest training run (and optionally the hardware stock)."""

    start: jax.Array
    end: jax.Array
    log10_at_start: jax.Array
    growth: jax.Array
    gradual: jax.Array
    lift_growth: jax.Array
    catch_up: jax.Array
    hardware: jax.Array              # FLOP/yr, inf: none
    physical: jax.Array              # 1: the level counts physical FLOP (times software in effective FLOP)
    below_trained: jax.Array         # 1: the level may sit below what was trained when it starts

    def training(self, year):
        """Cap on the largest run in ``year`` (FLOP; inf outside the window when lifted at once)."""
        during = self.log10_at_start + self.growth * (year - self.start)
        after = self.log10_at_start + self.growth * (self.end - self.start) + self.lift_growth * (year - self.end)
        in_force = (year >= self.start) & (year < self.end)
        lifting = (year >= self.end) & (self.gradual > 0)
        return jnp.where(in_force, jnp.exp(LN10 * during), jnp.where(lifting, jnp.exp(LN10 * after), jnp.inf))

    def hardware_stock(self, year):
        return jnp.where((year >= self.start) & (year < self.end), self.hardware, jnp.inf)


def year_of_step(n):
    """t_n = 2022 + n dt, as the original computes it: the product rounded, then the sum (no
    fused multiply-add), so the years are the original's to the last bit (2037.1000000000001)."""
    return START_YEAR + jax.lax.optimization_barrier(n.astype(jnp.float64) * STEP_YEARS)


class Frontier(NamedTuple):
    """Per-draw constants of one R&D frontier: hardware performance or software."""

    returns: jax.Array        # divided by the parallelisation penalty
    ceiling: jax.Array
    log_ceiling: jax.Array
    log_room: jax.Array       # ln(ceiling / value in 2022)


def make_frontier(returns, ceiling, initial) -> Frontier:
    return Frontier(returns, ceiling, ln(ceiling), ln(ceiling) - ln(initial))


def update_rnd(current, research_input, cumulative, frontier: Frontier, penalty):
    """One step of hardware performance or software (the original's ``update_rnd``): growth by
    (cumulative input ratio) ** (returns x the share of the way to the ceiling still left)."""
    cumulative_next = cumulative + power(research_input, penalty) * STEP_YEARS
    room = jnp.where(jnp.isinf(frontier.ceiling), 1.0, (frontier.log_ceiling - ln(current)) / frontier.log_room)
    grown = current * power(cumulative_next / cumulative, frontier.returns * room)
    return jnp.minimum(grown, frontier.ceiling), cumulative_next


def task_weights(first_input, labour, compute, eta0, first_rho, rho, first_to_cognitive, compute_to_labour
                  ) -> Sector:
    """One sector's task and outer weights that give the 2022 shares (the original's
    ``adjust_task_weights``), with labour spread evenly over the labour tasks and compute on task 0."""
    task_input = jnp.concatenate([(eta0 * compute)[None], jnp.full(LABOUR_TASKS, labour / LABOUR_TASKS)])
    labour_input = jnp.concatenate([jnp.zeros(1, task_input.dtype), task_input[1:]])
    labour_share = fixed_order_sum(labour_input * task_input ** (rho - 1))
    compute_share = task_input[0] * task_input[0] ** (rho - 1)
    compute_weight, labour_weight = odds_to_probs(compute_to_labour * labour_share / compute_share)
    beta = jnp.stack([compute_weight, labour_weight])
    cognitive = ces(task_input, jnp.concatenate([beta[:1], jnp.full(LABOUR_TASKS, labour_weight)]), rho)
    outer = jnp.stack(odds_to_probs(first_to_cognitive * cognitive ** first_rho / first_input ** first_rho))
    sigma = 1 / (1 - rho)
    return Sector(rho, sigma, beta, beta ** sigma, beta[0] + LABOUR_TASKS * beta[1], outer, first_rho)
