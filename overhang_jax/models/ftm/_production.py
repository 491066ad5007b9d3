"""One step's inputs, what is automatable, and the production of the three sectors."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._declaration import LABOUR_TASKS
from ._constants import GOODS, HARDWARE_RND, SECTOR_TASKS, SOFTWARE_RND, ln, task_efficiency, true_divide
from ._allocation import at_optimum, critical_task, critical_task_without_automation, sector_output
from ._state import Constants, Fractions


class Inputs(NamedTuple):
    """Step n's inputs after reallocation: totals, shares and what is automatable."""

    capital: jax.Array
    labour: jax.Array
    investment: jax.Array                 # compute_investment ($ this step)
    hardware: jax.Array
    compute: jax.Array
    tfp: jax.Array
    fractions: Fractions
    largest_run: jax.Array                # biggest_training_run (FLOP)
    automatable_goods: jax.Array          # tasks (task 0 included) automatable with the trade-off
    automatable_rnd: jax.Array
    automatable_goods_alone: jax.Array    # without the trade-off


class Production(NamedTuple):
    """Step n's production, before the 2022 calibration factors, and the automation shares."""

    goods: jax.Array
    hardware_rnd: jax.Array
    software_rnd: jax.Array
    automated_goods: jax.Array            # frac_tasks_automated_goods
    automated_rnd: jax.Array              # frac_tasks_automated_rnd (hardware R&D's tasks)
    multiplier_goods: jax.Array           # output / output without automation
    multiplier_rnd: jax.Array


def _automatable(training, largest_run, factor):
    """Tasks whose training requirement is below the largest run (times ``factor``), task 0 included."""
    return jnp.sum(training < largest_run * factor, dtype=jnp.int32, axis=-1)


def share_automated(count):
    """(count - 1) / 100: the share of the 100 labour tasks (task 0 is not counted)."""
    return true_divide((count - 1).astype(jnp.float64), LABOUR_TASKS)


def step_inputs(k: Constants, capital, labour, investment, hardware, compute, tfp, fractions: Fractions, largest_run
            ) -> Inputs:
    automatable = _automatable(k.tasks.training, largest_run, k.max_tradeoff)
    return Inputs(capital, labour, investment, hardware, compute, tfp, fractions, largest_run,
                  automatable[0], automatable[1], _automatable(k.tasks.training[0], largest_run, 1.0))


def produce(k: Constants, x: Inputs, experiments) -> Production:
    """Goods, hardware R&D and software R&D (the original's ``production``), the three sectors at
    once, with and without automation (all but task 0 done by labour)."""
    f = x.fractions
    first = jnp.stack([x.capital * (1 - f.capital_hardware_rnd), x.capital * f.capital_hardware_rnd, experiments])
    labour = jnp.stack([x.labour * (1 - f.labour_hardware_rnd - f.labour_software_rnd),
                        x.labour * f.labour_hardware_rnd, x.labour * f.labour_software_rnd])
    compute = jnp.stack([x.compute * (1 - f.compute_hardware_rnd - f.compute_software_rnd - f.compute_training),
                         x.compute * f.compute_hardware_rnd, x.compute * f.compute_software_rnd])
    automatable = jnp.stack([x.automatable_goods, x.automatable_rnd, x.automatable_rnd])
    log_largest_run = ln(x.largest_run)
    groups = jax.vmap(task_efficiency, in_axes=(None, 0, None))(k.tasks, jnp.arange(2), log_largest_run)
    tasks = jax.tree.map(lambda a: a[SECTOR_TASKS], groups)   # goods tasks, R&D tasks, R&D tasks
    # Each sector with automation and without (only task 0 by compute), six allocations at once.
    at = jax.tree.map(lambda a, b: jnp.concatenate([a, b]),
                      jax.vmap(critical_task)(labour, compute, k.sectors, tasks, automatable),
                      jax.vmap(critical_task_without_automation)(labour, compute, k.sectors, tasks))
    twice = jax.tree.map(lambda a: jnp.concatenate([a, a]), (labour, compute, k.sectors, first))
    allocation = jax.vmap(at_optimum)(*twice[:3], at)
    outputs = jax.vmap(sector_output, in_axes=(0, 0, 0, None))(twice[2], twice[3], allocation, x.tfp)
    output, output_without = outputs[:3], outputs[3:]
    automated = share_automated(allocation.automated)
    multiplier = output / output_without
    return Production(output[GOODS], output[HARDWARE_RND], output[SOFTWARE_RND], automated[GOODS],
                      automated[HARDWARE_RND], multiplier[GOODS], multiplier[HARDWARE_RND])
