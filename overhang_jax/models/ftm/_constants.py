"""Per-draw constants: the task requirements (with the C library's log10, so they land on the
original's steps), exact sums and powers, and the constants of the tasks and sectors."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._declaration import LABOUR_TASKS, TASKS


# The original's quantiles of the requirements distribution (quantiles_from_gap): the share of
# tasks q and the requirement as top / unit ** power, with unit = gap ** (1/7), so the 20% task
# needs gap times less than the 100% task.
_REQUIREMENT_QUANTILES = np.array([0.0, 0.05, 0.1, 0.2, 0.5, 1.0])
_REQUIREMENT_POWERS = (10.5, 9.5, 8.5, 7.0, 4.0, 0.0)


def _interpolation_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Host constants of numpy's ``interp`` of the 100 tasks' shares on the quantile grid:
    each task's segment j, its offset x - x_j, and whether it sits exactly on x_j."""
    shares = np.linspace(0, 1, LABOUR_TASKS)
    segment = np.clip(np.searchsorted(_REQUIREMENT_QUANTILES, shares, side="right") - 1, 0,
                      len(_REQUIREMENT_QUANTILES) - 2)
    offset = shares - _REQUIREMENT_QUANTILES[segment]
    return segment, offset, offset == 0


_SEGMENT, _OFFSET, _ON_KNOT = _interpolation_table()




# log10 as the C library computes it (fdlibm's method: x = 2^k m, log10 x = k log10(2) + log(m) / ln 10
# with log10(2) in two parts), so that requirements rounded up to whole steps of OOM land on the
# same step as in the original; XLA's own log10 differs from it in the last bit for ~1 value in 6.
_INV_LN10 = 4.34294481903251816668e-01
_LOG10_2_HIGH = 3.01029995663611771306e-01
_LOG10_2_LOW = 3.69423907715893078616e-13


def true_divide(x, divisor):
    """x / divisor for finite x, rounded once as IEEE division. XLA turns a division by a
    constant into a multiplication by its reciprocal, which can differ in the last bit
    (0.15 / 0.1 gives 1.5, not 1.4999999999999998); a divisor made from x (a constant would
    stay one under vmap) and passed through a barrier with it keeps a true division."""
    x, divisor = jax.lax.optimization_barrier((x, x * 0.0 + divisor))
    return x / divisor


@jax.jit
def c_log10(x):
    """log10 of positive normal numbers, bit for bit as the C library's (0, inf and NaN via jnp.log10)."""
    bits = jax.lax.bitcast_convert_type(x, jnp.uint64)
    high = (bits >> 32).astype(jnp.int32)
    exponent = (high >> 20) - 1023
    below_one = (exponent < 0).astype(jnp.int32)
    # The mantissa scaled into [1, 2), or [0.5, 1) for x < 1.
    high = (high & 0x000FFFFF) | ((0x3FF - below_one) << 20)
    mantissa = jax.lax.bitcast_convert_type((high.astype(jnp.uint64) << 32) | (bits & 0xFFFFFFFF), jnp.float64)
    k = (exponent + below_one).astype(jnp.float64)
    # Each product rounded on its own, as the C library does: no fused multiply-adds.
    low, log, high = jax.lax.optimization_barrier((k * _LOG10_2_LOW, _INV_LN10 * jnp.log(mantissa),
                                                   k * _LOG10_2_HIGH))
    value = (low + log) + high
    normal = (x >= np.finfo(np.float64).tiny) & (x < jnp.inf)
    return jnp.where(normal, value, jnp.log10(x))


@jax.jit
def task_requirements(top, gap, steepness):
    """Requirements of tasks 0 .. 100 (task 0 needs 1): the original's quantiles, interpolated in
    log10 across the 100 labour tasks exactly as numpy's ``interp`` does, then optionally rounded up
    to steps ``steepness`` OOM apart."""
    unit = gap ** (1 / 7)
    # Barriers keep XLA from rewriting top / u^p as top * u^-p and from fusing a * b + c into
    # one rounding (an FMA): the requirements come out bit for bit as numpy's.
    powers = jax.lax.optimization_barrier(jnp.stack([unit ** power for power in _REQUIREMENT_POWERS]))
    knots = jax.lax.optimization_barrier(c_log10(top / powers))
    slope = true_divide(knots[1:] - knots[:-1], _REQUIREMENT_QUANTILES[1:] - _REQUIREMENT_QUANTILES[:-1])
    rise = jax.lax.optimization_barrier(slope[_SEGMENT] * _OFFSET)
    logs = jnp.where(_ON_KNOT, knots[_SEGMENT], rise + knots[_SEGMENT])
    values = jax.lax.optimization_barrier(10 ** logs)
    low = c_log10(top / gap)
    steps = jax.lax.optimization_barrier(jnp.ceil((c_log10(values) - low) / steepness) * steepness)
    stepped = jnp.minimum(10 ** (low + steps), top)
    values = jnp.where(steepness == 0, values, stepped)
    return jnp.concatenate([jnp.ones_like(values[:1]), values])


def odds_to_probs(odds):
    """The original's stable split of odds o into (p, 1 - p) with p / (1 - p) = o."""
    p = jnp.where(odds < 1e-10, odds, jnp.where(odds > 1e10, 1 - 1 / odds, 1 / (1 + 1 / odds)))
    return p, jnp.where(odds > 1e10, 1 / odds, 1 - p)


def fixed_order_sum(x):
    """The sum of x's last axis, added in a fixed order (halves of its zero-padded power-of-two length).
    XLA orders a reduction by the shape of the whole batch (on CPU, batches of 64 draws and more sum
    differently from smaller ones), which would make a draw's bits depend on the chunk size and the
    number of devices."""
    size = 1 << (x.shape[-1] - 1).bit_length()
    x = jnp.concatenate([x, jnp.zeros((*x.shape[:-1], size - x.shape[-1]), x.dtype)], axis=-1)
    while x.shape[-1] > 1:
        half = x.shape[-1] // 2
        x = x[..., :half] + x[..., half:]
    return x[..., 0]


def ces(inputs, weights, rho):
    """(sum_i w_i x_i ** rho / sum_i w_i) ** (1 / rho)."""
    return fixed_order_sum(weights * inputs ** rho / fixed_order_sum(weights)) ** (1 / rho)


# In the steps: powers as exp(y ln x), with a vectorised log. XLA computes a float64 log or
# power by calling the C library one value at a time (~8 and ~25 ns on a 2020s x86 core);
# its exp is vectorised. The error of exp(y ln x), ~|y ln x| ulp, is below 1e-13 here.
_LN2 = 0.6931471805599453
LN10 = 2.302585092994046
_SQRT2 = 1.4142135623730951
_ATANH_SERIES = tuple(2 / (2 * k + 1) for k in range(11))
"""2 atanh(s) = s sum_k 2 s^2k / (2k + 1); to s^21 it is exact to 1e-16 for |s| < 0.172."""


@jax.jit
def ln(x):
    """Natural log: x = 2^k m with m in [sqrt(1/2), sqrt(2)), ln x = k ln 2 + 2 atanh((m - 1)/(m + 1)).
    Zero, infinity, NaN and negative numbers give what jnp.log gives; XLA flushes subnormal
    numbers to zero, so they give -inf."""
    bits = jax.lax.bitcast_convert_type(x, jnp.int64)
    mantissa = jax.lax.bitcast_convert_type((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000, jnp.float64)
    high = mantissa > _SQRT2
    mantissa = jnp.where(high, 0.5 * mantissa, mantissa)
    exponent = (bits >> 52) - 1023 + high.astype(jnp.int64)
    s = (mantissa - 1) / (mantissa + 1)
    z = s * s
    series = _ATANH_SERIES[-1]
    for c in reversed(_ATANH_SERIES[:-1]):
        series = series * z + c
    value = exponent.astype(jnp.float64) * _LN2 + s * series
    return jnp.where(x >= np.finfo(np.float64).tiny, jnp.where(x < jnp.inf, value, jnp.inf),
                     jnp.where(x >= 0, -jnp.inf, jnp.nan))


@jax.jit
def power(x, y):
    """x ** y for x >= 0 as exp(y ln x)."""
    return jnp.exp(y * ln(x))


GOODS, HARDWARE_RND, SOFTWARE_RND = range(3)
"""The three sectors, stacked in this order along a leading axis: they share the structure of
their CES of tasks, so one instance of the code computes all three."""
SECTOR_TASKS = np.array([0, 1, 1])
"""Which group of tasks each sector does: goods-and-services tasks, or R&D tasks (both R&D sectors)."""


class Tasks(NamedTuple):
    """Per-draw constants of the two groups of tasks (goods, R&D); each array field is (2, 101).

    A task's runtime requirement relative to the largest run T is R_i (T_i / T) ** tradeoff, so
    eta_i = 1 / max(1, that) = exp(-max(0, b_i - tau)) with b_i = ln R_i + tradeoff ln T_i and
    tau = tradeoff ln T. The b_i rise with i, so the tasks with eta_i = 1 are the first m ones,
    and the rest scale with T by one common factor: with the constants below taken at the 2022
    run (tau_0), every per-task quantity of a step is a constant times a power of T / T_2022,
    and the sums over tasks the allocation needs are sums of constants (``head``).
    """

    training: jax.Array       # T_i, training FLOP
    log_base: jax.Array       # b_i
    eta: jax.Array            # exp(-(b_i - tau_0))
    eta_sigma: jax.Array      # exp(-sigma (b_i - tau_0)): eta_i ** sigma where eta_i < 1
    eta_pow: jax.Array        # exp((1 - sigma)(b_i - tau_0)): eta_i ** (sigma - 1) where eta_i < 1
    head: jax.Array           # (2, 102) sums of eta_pow over tasks 0 .. I - 1
    sigma: jax.Array          # (2,)
    tradeoff: jax.Array       # 0 when off
    shift: jax.Array          # tau_0


class Sector(NamedTuple):
    """Per-draw constants of a sector's CES of tasks (each field stacked over the three sectors).
    The 100 labour tasks have equal weights, so sums over tasks of beta_i ** sigma have closed forms."""

    rho: jax.Array            # CES exponent between tasks
    sigma: jax.Array          # 1 / (1 - rho)
    beta: jax.Array           # (2,) weights of task 0 and of each labour task
    beta_sigma: jax.Array     # (2,) their powers sigma
    beta_total: jax.Array     # sum_i beta_i
    outer: jax.Array          # (2,) weights of capital (or experiments) and cognitive work
    outer_rho: jax.Array

    def tail(self, index):
        """S_I = sum_{i >= I} beta_i ** sigma."""
        b0, b1 = self.beta_sigma[0], self.beta_sigma[1]
        index = jnp.asarray(index, jnp.int32)
        return jnp.where(index == 0, b0 + LABOUR_TASKS * b1, (TASKS - index).astype(b1.dtype) * b1)


class TaskEfficiency(NamedTuple):
    """One group's tasks in one step: eta_i (tasks done per unit of compute), eta_i ** sigma,
    eta_i ** (sigma - 1), and Q_I = sum_{i < I} eta_i ** (sigma - 1), from the group's constants
    and three factors of the step."""

    eta_base: jax.Array       # (101,) the group's constants
    eta_sigma_base: jax.Array
    eta_pow_base: jax.Array
    head_base: jax.Array      # (102,)
    saturated: jax.Array      # m: tasks 0 .. m - 1 have eta = 1
    eta_factor: jax.Array     # exp(tau - tau_0)
    sigma_factor: jax.Array   # exp(sigma (tau - tau_0))
    pow_factor: jax.Array     # exp(-(1 - sigma)(tau - tau_0))

    def eta(self, index):
        return jnp.minimum(1.0, self.eta_base[index] * self.eta_factor)

    def eta_pow(self, index):
        return jnp.maximum(1.0, self.eta_pow_base[index] * self.pow_factor)

    def eta_sigma_all(self):
        return jnp.minimum(1.0, self.eta_sigma_base * self.sigma_factor)

    def head(self, index, head_at_index):
        """Q_I from the constant sum at I (``head_at_index``, head_base[I]): I terms of 1 up to m,
        then the constants scaled."""
        unsaturated = self.pow_factor * (head_at_index - self.head_base[self.saturated])
        return jnp.minimum(index, self.saturated).astype(unsaturated.dtype) + jnp.where(
            index > self.saturated, unsaturated, 0.0)


def task_efficiency(tasks: Tasks, group, log_largest_run) -> TaskEfficiency:
    """The tasks of ``group`` (0: goods, 1: R&D) when the largest run is exp(log_largest_run)."""
    tau = tasks.tradeoff * log_largest_run
    delta = tau - tasks.shift
    sigma = tasks.sigma[group]
    return TaskEfficiency(tasks.eta[group], tasks.eta_sigma[group], tasks.eta_pow[group], tasks.head[group],
                          jnp.sum(tasks.log_base[group] <= tau, dtype=jnp.int32), jnp.exp(delta),
                          jnp.exp(sigma * delta), jnp.exp((sigma - 1) * delta))


def task_constants(training, runtime, tradeoff, sigma, log_largest_run) -> Tasks:
    """The constants of both groups of tasks, taken at the 2022 largest run."""
    log_base = jnp.log(runtime) + tradeoff * jnp.log(training)
    shift = tradeoff * log_largest_run
    relative = log_base - shift
    eta_pow = jnp.exp((1 - sigma[:, None]) * relative)
    head = jnp.concatenate([jnp.zeros_like(eta_pow[:, :1]), jnp.cumsum(eta_pow, axis=1)], axis=1)
    return Tasks(training, log_base, jnp.exp(-relative), jnp.exp(-sigma[:, None] * relative), eta_pow, head, sigma,
                 tradeoff, shift)
