"""The allocation of labour and compute over tasks (the original's ``solve_allocation``) and the
CES at the optimum."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._declaration import TASKS
from ._constants import Sector, TaskEfficiency, power


class Allocation(NamedTuple):
    """The optimum of ``solve_allocation``: tasks [0, J) done by compute, then possibly one
    critical task with both inputs, then tasks done by labour. Task inputs are K_c beta_i^sigma
    eta_i^sigma on the compute block and K_l beta_i^sigma on the labour block."""

    inner_sum: jax.Array      # sum_i beta_i x_i ** rho over the tasks' inputs x_i
    automated: jax.Array      # number of tasks with compute input > 10 x labour input (task 0 included)


def _weighted_head(sector: Sector, tasks: TaskEfficiency, index, head_at_index):
    """P_I = sum_{i < I} beta_i ** sigma eta_i ** (sigma - 1), for I >= 1."""
    b0, b1 = sector.beta_sigma[0], sector.beta_sigma[1]
    first = tasks.eta_pow(0)
    return b0 * first + b1 * (tasks.head(index, head_at_index) - first)


class Critical(NamedTuple):
    """The critical task I of an allocation and what the optimum needs there."""

    found: jax.Array          # some candidate had l_I >= 0 (else I = automatable - 1)
    index: jax.Array
    eta: jax.Array            # eta_I
    eta_pow: jax.Array        # eta_I ** (sigma - 1)
    head: jax.Array           # P_I
    head_next: jax.Array      # P_{I+1}


def critical_task(labour, compute, sector: Sector, tasks: TaskEfficiency, automatable) -> Critical:
    """The critical task when the first ``automatable`` tasks may use compute (the original's
    ``solve_allocation`` with AT = automatable).

    The original tries I = 0, 1, ... and stops at the first whose labour input l_I (its eq. 18)
    is >= 0. With eq. 20 for c_I, l_I >= 0 is L P_{I+1} >= C eta_I^sigma S_{I+1} (docs/ftm.md):
    every candidate is tested at once and the first admissible one taken.
    """
    index = jnp.arange(TASKS, dtype=jnp.int32)
    head_next = _weighted_head(sector, tasks, index + 1, tasks.head_base[1:])
    tail_next = sector.tail(index + 1)
    admissible = (labour * head_next >= compute * tasks.eta_sigma_all() * tail_next) & (index < automatable)
    critical = jnp.min(jnp.where(admissible, index, TASKS))
    found = critical < TASKS
    critical = jnp.where(found, critical, automatable - 1)
    head = jnp.where(critical == 0, 0.0, _weighted_head(sector, tasks, critical, tasks.head_base[critical]))
    return Critical(found, critical, tasks.eta(critical), tasks.eta_pow(critical), head,
                    _weighted_head(sector, tasks, critical + 1, tasks.head_base[critical + 1]))


def critical_task_without_automation(labour, compute, sector: Sector, tasks: TaskEfficiency) -> Critical:
    """The critical task when only task 0 may use compute (the original's ``AT=1``): no search."""
    eta, eta_pow = tasks.eta(0), tasks.eta_pow(0)
    head_next = sector.beta_sigma[0] * eta_pow
    found = labour * head_next >= compute * eta * eta_pow * sector.tail(1)
    return Critical(found, jnp.zeros((), jnp.int32), eta, eta_pow, jnp.zeros_like(head_next), head_next)


def at_optimum(labour, compute, sector: Sector, at: Critical) -> Allocation:
    """The CES sum and the automated count of the allocation with critical task I = ``at.index``.

    c_I and l_I are the original's eqs. 20 and 18. When no candidate is admissible, every
    automatable task is done by compute alone. With I > 0 and c_I < 0 the original drops the
    critical task's compute: compute on [0, I), labour on [I, N).
    """
    critical, eta, head, head_next, found = at.index, at.eta, at.head, at.head_next, at.found
    tail = sector.tail(critical)
    tail_next = sector.tail(critical + 1)
    a = eta * at.eta_pow * tail
    compute_at = (compute * a - labour * head) / (a + eta * head)                  # eq. 20
    beta_sigma = jnp.where(critical == 0, sector.beta_sigma[0], sector.beta_sigma[1])
    labour_at = (labour + eta * compute_at) * (beta_sigma / tail) - eta * compute_at   # eq. 18
    dropped = found & (critical > 0) & (compute_at < 0)
    mixed = found & ~dropped                      # the critical task has both inputs
    # The original gives the last task all the labour when no task has any (all automated, l_I = 0).
    labour_at = jnp.where(mixed & (critical == TASKS - 1) & (labour_at == 0), labour, labour_at)
    # Compute block [0, J), J = I + 1 when not found, else I: inputs K_c beta_i^sigma eta_i^sigma,
    # summing (beta_i x_i^rho) to K_c^rho P_J. Labour block (I, N) when mixed or not found,
    # [I, N) when dropped: inputs K_l beta_i^sigma, summing to K_l^rho S. And the critical task.
    compute_scale = jnp.where(mixed, compute + labour_at / eta, compute) / jnp.where(dropped, head, head_next)
    labour_scale = jnp.where(mixed, labour + eta * compute_at, labour) / jnp.where(found, tail, tail_next)
    critical_input = labour_at + eta * compute_at
    powers = power(jnp.stack([compute_scale, labour_scale, critical_input]), sector.rho)
    beta = jnp.where(critical == 0, sector.beta[0], sector.beta[1])
    inner_sum = (powers[0] * jnp.where(found, head, head_next) + jnp.where(mixed, beta * powers[2], 0.0)
                 + powers[1] * jnp.where(dropped, tail, tail_next))
    mostly_compute = mixed & (eta * compute_at > 10 * labour_at)
    automated = jnp.where(found, critical, critical + 1) + mostly_compute.astype(jnp.int32)
    return Allocation(inner_sum, automated)


def sector_output(sector: Sector, first, allocation: Allocation, tfp):
    """The sector's output: tfp CES(first, CES of the tasks), first = capital (or experiments),
    the original's ``nested_ces_production_function``. The inner CES to the power of the outer
    exponent is (inner sum / sum beta) ** (outer rho / rho)."""
    w = sector.outer
    rho = sector.outer_rho
    powers = power(jnp.stack([first, allocation.inner_sum / sector.beta_total]), jnp.stack([rho, rho / sector.rho]))
    return tfp * power((w[0] * powers[0] + w[1] * powers[1]) / (w[0] + w[1]), 1 / rho)
