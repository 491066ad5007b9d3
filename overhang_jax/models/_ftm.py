"""The compute-centric takeoff model (Davidson 2023; epoch-research/ftm) as model ``ftm``.

A port of ``ftm/core/model.py`` at commit 99dc907 of github.com/epoch-research/ftm,
the model behind takeoffspeeds.com, written from its equations (docs/ftm.md
sets them out one by one, with symbols and units). Its 67 parameters keep
their original names, its defaults are the original's best guess, and it runs
on the original's grid: 780 steps of dt = 0.1 yr, t_n = 2022 + n dt.

The economy, in one step n - 1 -> n (n >= 1; step 0 is the calibration):

    R&D      x^n = x^{n-1} (Q^n / Q^{n-1}) ^ (r pen^{n-1}),  Q^n = Q^{n-1} + (I^{n-1})^lambda dt,
             pen = log(x_max / x) / log(x_max / x_0), x <= x_max   (hardware FLOP/yr/$, software)
    shares   f^n = min(f^{n-1} exp(g dt), f_max), g = g_rampup after wake-up (7 fractions)
    inputs   hardware H^n = H^{n-1} (1 - d)^dt + Y^{n-1} f_gwp^n dt x_hw^{n - delay}
             compute  C^n = H^n s^n, capital K^n = K^{n-1} + 0.2 Y^{n-1} dt, labour L^n = L^{n-1} e^{g_L dt}
    training T^n = C^n f_train^n (the largest run); task i is automatable when its
             training requirement is below T^n (times the runtime trade-off's maximum)
    tasks    eta_i = 1 / max(1, R_i (T_i / T^n) ^ tradeoff): tasks per FLOP/yr of compute
    output   Y, hardware R&D and software R&D: a CES of capital (or experiments) and a CES
             of 101 tasks (task 0 compute only), labour and compute allocated optimally
             over the tasks (``_critical``, ``_at_optimum``), with and without automation

The allocation is the original's ``solve_allocation`` with its loop over the
critical task vectorised (all candidates at once, the first admissible one
taken by a min-reduction). At the optimum the task inputs take two forms, so
the CES over the 101 tasks reduces to the same partial sums the allocation
uses, and those sums are per-draw constants scaled by powers of the largest
run (docs/ftm.md, "The allocation"): no per-task power, exponential or sum is
taken in the loop. Per-draw constants (requirements, task weights, growth
factors) are computed once, before the scan; the metrics are updated in the
scan; nothing is stored per step except yearly values of three series.

Quirks of the original, reproduced: the read at t = 1 of index t - 2 (Python
index -1 of a list of zeros: no event is "already on" before step 0);
``round()`` half to even for the hardware delay in steps; years are
2022 + n * 0.1 in float64 (2037.1000000000001); events recorded in the
allocation step are dated one step back (sub-AGI, AGI, wake-up) and the last
firing wins; takeoff lengths start at ``> 0.2``, timeline years at ``>= 0.2``;
the annual GWP growth series stops one step before the end. Documented
differences: an invalid value (NaN) stops the metrics at the step that makes
it, where the original also keeps what that step computed before the error;
the share bookkeeping of ``compute_shares`` (never an input to the dynamics)
is not computed, as the original's own Monte Carlo does.

This model computes in float64 whatever the run's precision: the largest
training run passes 1e42 FLOP (float32 stops at 3.4e38), and labour against
compute in the allocation spans more than 1e40.

Third-party notice. The model, its equations and its parameter values are
from epoch-research/ftm, which carries this licence:

    MIT License

    Copyright (c) 2025 Tom Davidson and Epoch AI

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._schema import Draw, Headline, Model, Observable, Output, Parameter, Trajectories

START_YEAR = 2022
STEP_YEARS = 0.1
STEPS = 780
"""Steps n = 0 .. 779: t_n = 2022 + n dt runs to 2099.9, as the original's fixed horizon."""
STEPS_PER_YEAR = 10
LABOUR_TASKS = 100
TASKS = LABOUR_TASKS + 1
"""Task 0 is done by compute alone (always automatable); tasks 1 .. 100 by labour until automated."""
SECONDS_PER_YEAR = 60 * 60 * 24 * 365
INVESTMENT_RATE = 0.2
"""Share of GWP invested in capital (fixed in the original)."""
INITIAL_FRAC_GWP_HARDWARE_RND = 0.2e-2
INITIAL_FRAC_GWP_SOFTWARE_RND = 0.02e-2
MAX_HARDWARE_DELAY = 10.0
"""Largest hardware_delay (years) the port keeps history for: 100 steps."""
DELAY_SLOTS = round(MAX_HARDWARE_DELAY / STEP_YEARS) + 1
TRAJECTORY_YEARS = tuple(range(START_YEAR + 1, START_YEAR + STEPS // STEPS_PER_YEAR))
"""2023 .. 2099: each series is read at step 10 k (its annual GWP growth needs the year before)."""

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


# --------------------------------------------------------------------------
# Parameters and outputs

_POSITIVE = dict(lower=0.0, lower_open=True)
_SHARE = dict(lower=0.0, upper=1.0, lower_open=True, upper_open=True)
_NEGATIVE = dict(upper=0.0, upper_open=True)
_SWITCH = dict(values=(0.0, 1.0))


def _fraction_parameters(stem: str, what: str, growth: float, rampup: float, ceiling: float):
    return (
        Parameter(f"frac_{stem}_growth", growth, "1/yr", f"growth of the share of {what} before wake-up"),
        Parameter(f"frac_{stem}_growth_rampup", rampup, "1/yr", f"growth of the share of {what} after wake-up"),
        Parameter(f"frac_{stem}_ceiling", ceiling, "1", f"largest share of {what}", **_SHARE),
    )


_FRACTIONS = {  # name: (what, growth, growth after wake-up, ceiling), the original's best guess
    "capital_hardware_rnd": ("capital in hardware R&D", 0.01, 0.14, 0.03),
    "labour_hardware_rnd": ("labour in hardware R&D", 0.01, 0.14, 0.03),
    "compute_hardware_rnd": ("compute in hardware R&D", 0.01, 0.67, 0.2),
    "labour_software_rnd": ("labour in software R&D", 0.18, 0.22, 0.03),
    "compute_software_rnd": ("compute in software R&D", 0.18, 0.67, 0.2),
    "gwp_compute": ("GWP spent on compute", 0.19, 0.19, 0.1),
    "compute_training": ("compute on the largest training run", 0.547528364331348, 1.1, 0.1),
}

PARAMETERS = (
    # Automation requirements.
    Parameter("full_automation_requirements_training", 1e36, "FLOP",
              "training FLOP (2022 software) of an AI that automates 100% of goods-and-services tasks",
              **_POSITIVE),
    Parameter("flop_gap_training", 1e4, "1", "training FLOP for 100% of tasks / for 20% of tasks", lower=1.0),
    Parameter("goods_vs_rnd_requirements_training", 3.0, "1",
              "how many times more training FLOP a goods task needs than an R&D task", **_POSITIVE),
    Parameter("full_automation_requirements_runtime", 1.66667e16, "FLOP/s",
              "runtime FLOP/s that replace one worker on the hardest task", **_POSITIVE),
    Parameter("flop_gap_runtime", 10.0, "1", "runtime FLOP for 100% of tasks / for 20% of tasks", lower=1.0),
    Parameter("goods_vs_rnd_requirements_runtime", 100.0, "1",
              "how many times more runtime FLOP a goods task needs than an R&D task", **_POSITIVE),
    Parameter("runtime_training_tradeoff", 1.5, "1",
              "runtime needed falls as (training requirement / largest run) ** this; 0 turns the trade-off off",
              lower=0.0),
    Parameter("runtime_training_max_tradeoff", 30.0, "1",
              "largest factor by which a task's training requirement can be traded for runtime", **_POSITIVE),
    # Production.
    Parameter("labour_substitution_goods", -0.5, "1", "CES exponent rho between tasks, goods and services",
              **_NEGATIVE),
    Parameter("labour_substitution_rnd", -0.5, "1", "CES exponent rho between tasks, R&D", **_NEGATIVE),
    Parameter("capital_substitution_goods", -0.4, "1", "CES exponent rho of capital and cognitive work, goods",
              **_NEGATIVE),
    Parameter("capital_substitution_rnd", -0.25, "1",
              "CES exponent rho of capital and cognitive work, hardware R&D", **_NEGATIVE),
    Parameter("research_experiments_substitution_software", -0.01, "1",
              "CES exponent rho of experiments and cognitive work, software R&D", **_NEGATIVE),
    Parameter("compute_software_rnd_experiments_efficiency", 0.4, "1",
              "experiments in software R&D grow as hardware ** this", lower=0.0),
    # R&D.
    Parameter("hardware_returns", 5.2, "1",
              "doublings of hardware performance per doubling of cumulative R&D input", **_POSITIVE),
    Parameter("software_returns", 1.25, "1", "doublings of software per doubling of cumulative R&D input",
              **_POSITIVE),
    Parameter("hardware_performance_ceiling", 1e26, "FLOP/yr/$", "largest hardware performance",
              **_POSITIVE),
    Parameter("software_ceiling", 1e12, "1", "largest software efficiency (multiple of 2022's)", lower=1.0,
              lower_open=True),
    Parameter("rnd_parallelization_penalty", 0.7, "1",
              "R&D input counts as input ** this (doubling researchers < doubles progress)", lower=0.0,
              upper=1.0, lower_open=True),
    Parameter("hardware_delay", 1.0, "yr", "years between a hardware advance and hardware one can buy",
              lower=0.0, upper=MAX_HARDWARE_DELAY),
    # Fractional inputs: growth before and after wake-up, ceilings.
    *(param for stem, spec in _FRACTIONS.items() for param in _fraction_parameters(stem, *spec)),
    # Initial values (2022).
    Parameter("initial_frac_capital_hardware_rnd", 0.002, "1", "share of capital in hardware R&D, 2022",
              **_SHARE),
    Parameter("initial_frac_labour_hardware_rnd", 0.002, "1", "share of labour in hardware R&D, 2022", **_SHARE),
    Parameter("initial_frac_compute_hardware_rnd", 0.002, "1", "share of compute in hardware R&D, 2022",
              **_SHARE),
    Parameter("initial_frac_labour_software_rnd", 0.0002, "1", "share of labour in software R&D, 2022",
              **_SHARE),
    Parameter("initial_frac_compute_software_rnd", 0.0002, "1", "share of compute in software R&D, 2022",
              **_SHARE),
    Parameter("initial_biggest_training_run", 3e24, "FLOP", "largest training run, 2022", **_POSITIVE),
    Parameter("ratio_initial_to_cumulative_input_hardware_rnd", 0.047, "1",
              "hardware R&D input in 2022 / cumulative input so far", **_POSITIVE),
    Parameter("ratio_initial_to_cumulative_input_software_rnd", 0.2, "1",
              "software R&D input in 2022 / cumulative input so far", **_POSITIVE),
    Parameter("initial_hardware_production", 1e28, "FLOP/yr per yr",
              "hardware made in 2022 (its yearly FLOP, per year)", **_POSITIVE),
    Parameter("ratio_hardware_to_initial_hardware_production", 2.0, "yr",
              "hardware stock in 2022 / hardware made in 2022", **_POSITIVE),
    Parameter("initial_buyable_hardware_performance", 1.5e17, "FLOP/yr/$",
              "FLOP a year per dollar of hardware one could buy in 2022", **_POSITIVE),
    Parameter("initial_gwp", 8.5e13, "$/yr", "gross world product, 2022", **_POSITIVE),
    Parameter("initial_population", 4e9, "workers", "labour force, 2022", **_POSITIVE),
    Parameter("initial_cognitive_share_goods", 0.5, "1", "share of cognitive work in goods output, 2022",
              **_SHARE),
    Parameter("initial_cognitive_share_hardware_rnd", 0.7, "1",
              "share of cognitive work in hardware R&D output, 2022", **_SHARE),
    Parameter("initial_compute_share_goods", 0.01, "1", "share of compute in cognitive work, goods, 2022",
              **_SHARE),
    Parameter("initial_compute_share_rnd", 0.01, "1", "share of compute in cognitive work, R&D, 2022", **_SHARE),
    Parameter("initial_experiment_share_software_rnd", 0.3, "1",
              "share of experiments in software R&D output, 2022", **_SHARE),
    # Other.
    Parameter("rampup_trigger", 0.06, "1", "share of goods tasks automated at which the world wakes up",
              lower=0.0, upper=1.0),
    Parameter("initial_capital_growth", 0.0275, "1/yr", "growth of capital in 2022 (sets the capital stock)",
              **_POSITIVE),
    Parameter("labour_growth", 0.01, "1/yr", "growth of the labour force"),
    Parameter("tfp_growth", 0.01, "1/yr", "growth of total factor productivity"),
    Parameter("compute_depreciation", 0.2, "1/yr", "share of hardware lost each year", lower=0.0, upper=1.0,
              upper_open=True),
    Parameter("money_cap_training_before_wakeup", 4e9, "$",
              "before wake-up, the training share stops growing once the largest run costs this", **_POSITIVE),
    Parameter("training_requirements_steepness", 0.0, "OOM",
              "training requirements come in steps this many OOM apart (0: smooth)", lower=0.0),
    Parameter("runtime_requirements_steepness", 0.0, "OOM",
              "runtime requirements come in steps this many OOM apart (0: smooth)", lower=0.0),
)
ORIGINAL_PARAMETERS = tuple(p.name for p in PARAMETERS)
"""The 67 parameters of the original, with its names (``SimulateTakeOff``'s arguments)."""

NO_CAP_YEAR = 2200.0
"""A cap starting after the last step (2099.9) is never in force: the default, no policy."""

POLICY_PARAMETERS = (
    Parameter("cap_start_year", NO_CAP_YEAR, "yr",
              "year the cap on the largest training run starts (after 2099.9: no cap)", lower=START_YEAR),
    Parameter("cap_years", 5.0, "yr", "years the cap is in force", lower=0.0),
    Parameter("cap_log10_flop", 28.0, "log10 FLOP",
              "cap on the largest training run (effective FLOP, 2022 software) when it starts"),
    Parameter("cap_growth", 0.0, "OOM/yr", "growth of the cap while in force (0: a fixed ceiling)", lower=0.0),
    Parameter("cap_gradual_lift", 0.0, "1",
              "0: the cap ends at once; 1: it is lifted gradually, rising cap_lift_growth OOM/yr", **_SWITCH),
    Parameter("cap_lift_growth", 1.0, "OOM/yr", "rise of the cap after its end when lifted gradually",
              lower=0.0),
    Parameter("catch_up", 0.0, "1",
              "0: the training share is clamped and regrows at its own rate after the cap; 1: compute above "
              "the cap sits idle and the run jumps back to its uncapped size at the end", **_SWITCH),
    Parameter("hardware_cap_log10", 100.0, "log10 FLOP/yr",
              "cap on the hardware stock while the training cap is in force (100: none in practice)"),
)
SAMPLING_PARAMETERS = (
    Parameter("reject_inadmissible", 0.0, "1",
              "1: a set the original's Monte Carlo would redraw has NaN outputs (and inadmissible = 1); "
              "0: it is computed like any other, as the original's model does", **_SWITCH),
)

# "worse" for comparisons: a faster takeoff is worse, so is an earlier date. Years lie on the
# 0.1-year grid, so a tolerance of half a step counts any move of a step as a change.
_YEARS = dict(tolerance=0.05)
OUTPUTS = (
    Output("automation_goods_20_year", "yr", "first year 20% of goods-and-services tasks are automated", "lower",
           **_YEARS),
    Output("automation_goods_100_year", "yr", "first year all goods-and-services tasks are automated", "lower",
           **_YEARS),
    Output("automation_rnd_20_year", "yr", "first year 20% of R&D tasks are automated", "lower", **_YEARS),
    Output("automation_rnd_100_year", "yr", "first year all R&D tasks are automated", "lower", **_YEARS),
    Output("sub_agi_year", "yr", "year AI could automate 20% of goods tasks (without the runtime trade-off)",
           "lower", **_YEARS),
    Output("agi_year", "yr", "year AI could automate all goods tasks (without the runtime trade-off)", "lower",
           **_YEARS),
    Output("wakeup_year", "yr", "year the share of goods tasks automated reaches rampup_trigger", "lower", **_YEARS),
    Output("takeoff_goods_years", "yr", "years from >20% to 100% of goods tasks automated", "lower", **_YEARS),
    Output("takeoff_rnd_years", "yr", "years from >20% to 100% of R&D tasks automated", "lower", **_YEARS),
    Output("sub_agi_to_agi_years", "yr", "agi_year - sub_agi_year", "lower", **_YEARS),
    Output("rnd_output_2x_to_10x_years", "yr",
           "years from hardware R&D output 2x to 10x what it would be without automation", "lower", **_YEARS),
    Output("gwp_growth_5_to_20_years", "yr", "years from annual GWP growth > 5% to > 20%", "lower", **_YEARS),
    Output("peak_gwp_growth", "%/yr", "largest annual GWP growth by 2100 (100 ln(GWP_t / GWP_t-1yr))", "higher",
           tolerance=0.1),
    # A flag, not a result: no direction to compare (a cap does not change admissibility).
    Output("inadmissible", "1", "1 if the original's Monte Carlo would redraw this parameter set"),
)

# What a comparison answers first: does B bring AGI earlier, or shorten the takeoff that follows
# (the overhang worry: a cap that delays, then a faster takeoff)?
HEADLINES = (
    Headline("agi_year", worse="brings AGI earlier", better="delays AGI", backfire=True),
    Headline("takeoff_goods_years", worse="shortens the takeoff (20% to 100% of goods tasks automated)",
             better="lengthens the takeoff (20% to 100% of goods tasks automated)", backfire=True),
    Headline("gwp_growth_5_to_20_years", worse="shortens the time from 5% to 20% a year of GWP growth",
             better="lengthens the time from 5% to 20% a year of GWP growth"),
)

# What data can be compared with: the yearly series (the policy world's, which is the world
# without the cap until the cap starts, in 2026 or later in the shipped scenarios).
OBSERVABLES = (
    Observable("largest_training_run", "log10 FLOP", "largest training run that year", "largest_training_run"),
    Observable("tasks_automated_goods", "%", "share of goods-and-services tasks automated",
               "tasks_automated_goods", lower=0.0, upper=100.0),
)

TRAJECTORIES = Trajectories(
    names=("largest_training_run", "gwp_growth", "tasks_automated_goods"),
    docs=("largest training run", "annual GWP growth (the year to the date shown)",
          "share of goods-and-services tasks automated"),
    units=("log10 FLOP", "%/yr", "%"),
    dim="year", coords=TRAJECTORY_YEARS,
    lower=(20.0, -50.0, -0.5), upper=(90.0, 1000.0, 100.5), bin_width=(0.01, 0.1, 1.0),
)


# --------------------------------------------------------------------------
# Per-draw constants


# log10 as the C library computes it (fdlibm's method: x = 2^k m, log10 x = k log10(2) + log(m) / ln 10
# with log10(2) in two parts), so that requirements rounded up to whole steps of OOM land on the
# same step as in the original; XLA's own log10 differs from it in the last bit for ~1 value in 6.
_INV_LN10 = 4.34294481903251816668e-01
_LOG10_2_HIGH = 3.01029995663611771306e-01
_LOG10_2_LOW = 3.69423907715893078616e-13


def _divide(x, divisor):
    """x / divisor for finite x, rounded once as IEEE division. XLA turns a division by a
    constant into a multiplication by its reciprocal, which can differ in the last bit
    (0.15 / 0.1 gives 1.5, not 1.4999999999999998); a divisor made from x (a constant would
    stay one under vmap) and passed through a barrier with it keeps a true division."""
    x, divisor = jax.lax.optimization_barrier((x, x * 0.0 + divisor))
    return x / divisor


@jax.jit
def _log10(x):
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
def _requirements(top, gap, steepness):
    """Requirements of tasks 0 .. 100 (task 0 needs 1): the original's quantiles, interpolated in
    log10 across the 100 labour tasks exactly as numpy's ``interp`` does, then optionally rounded up
    to steps ``steepness`` OOM apart."""
    unit = gap ** (1 / 7)
    # Barriers keep XLA from rewriting top / u^p as top * u^-p and from fusing a * b + c into
    # one rounding (an FMA): the requirements come out bit for bit as numpy's.
    powers = jax.lax.optimization_barrier(jnp.stack([unit ** power for power in _REQUIREMENT_POWERS]))
    knots = jax.lax.optimization_barrier(_log10(top / powers))
    slope = _divide(knots[1:] - knots[:-1], _REQUIREMENT_QUANTILES[1:] - _REQUIREMENT_QUANTILES[:-1])
    rise = jax.lax.optimization_barrier(slope[_SEGMENT] * _OFFSET)
    logs = jnp.where(_ON_KNOT, knots[_SEGMENT], rise + knots[_SEGMENT])
    values = jax.lax.optimization_barrier(10 ** logs)
    low = _log10(top / gap)
    steps = jax.lax.optimization_barrier(jnp.ceil((_log10(values) - low) / steepness) * steepness)
    stepped = jnp.minimum(10 ** (low + steps), top)
    values = jnp.where(steepness == 0, values, stepped)
    return jnp.concatenate([jnp.ones_like(values[:1]), values])


def _odds_to_probs(odds):
    """The original's stable split of odds o into (p, 1 - p) with p / (1 - p) = o."""
    p = jnp.where(odds < 1e-10, odds, jnp.where(odds > 1e10, 1 - 1 / odds, 1 / (1 + 1 / odds)))
    return p, jnp.where(odds > 1e10, 1 / odds, 1 - p)


def _sum(x):
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


def _ces(inputs, weights, rho):
    """(sum_i w_i x_i ** rho / sum_i w_i) ** (1 / rho)."""
    return _sum(weights * inputs ** rho / _sum(weights)) ** (1 / rho)


# In the steps: powers as exp(y ln x), with a vectorised log. XLA computes a float64 log or
# power by calling the C library one value at a time (~8 and ~25 ns on a 2020s x86 core);
# its exp is vectorised. The error of exp(y ln x), ~|y ln x| ulp, is below 1e-13 here.
_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046
_SQRT2 = 1.4142135623730951
_ATANH_SERIES = tuple(2 / (2 * k + 1) for k in range(11))
"""2 atanh(s) = s sum_k 2 s^2k / (2k + 1); to s^21 it is exact to 1e-16 for |s| < 0.172."""


@jax.jit
def _ln(x):
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
def _pow(x, y):
    """x ** y for x >= 0 as exp(y ln x)."""
    return jnp.exp(y * _ln(x))


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


def _efficiency(tasks: Tasks, group, log_largest_run) -> TaskEfficiency:
    """The tasks of ``group`` (0: goods, 1: R&D) when the largest run is exp(log_largest_run)."""
    tau = tasks.tradeoff * log_largest_run
    delta = tau - tasks.shift
    sigma = tasks.sigma[group]
    return TaskEfficiency(tasks.eta[group], tasks.eta_sigma[group], tasks.eta_pow[group], tasks.head[group],
                          jnp.sum(tasks.log_base[group] <= tau, dtype=jnp.int32), jnp.exp(delta),
                          jnp.exp(sigma * delta), jnp.exp((sigma - 1) * delta))


def _tasks(training, runtime, tradeoff, sigma, log_largest_run) -> Tasks:
    """The constants of both groups of tasks, taken at the 2022 largest run."""
    log_base = jnp.log(runtime) + tradeoff * jnp.log(training)
    shift = tradeoff * log_largest_run
    relative = log_base - shift
    eta_pow = jnp.exp((1 - sigma[:, None]) * relative)
    head = jnp.concatenate([jnp.zeros_like(eta_pow[:, :1]), jnp.cumsum(eta_pow, axis=1)], axis=1)
    return Tasks(training, log_base, jnp.exp(-relative), jnp.exp(-sigma[:, None] * relative), eta_pow, head, sigma,
                 tradeoff, shift)


# --------------------------------------------------------------------------
# The allocation of labour and compute over tasks, and the CES at the optimum


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


def _critical(labour, compute, sector: Sector, tasks: TaskEfficiency, automatable) -> Critical:
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


def _critical_without_automation(labour, compute, sector: Sector, tasks: TaskEfficiency) -> Critical:
    """The critical task when only task 0 may use compute (the original's ``AT=1``): no search."""
    eta, eta_pow = tasks.eta(0), tasks.eta_pow(0)
    head_next = sector.beta_sigma[0] * eta_pow
    found = labour * head_next >= compute * eta * eta_pow * sector.tail(1)
    return Critical(found, jnp.zeros((), jnp.int32), eta, eta_pow, jnp.zeros_like(head_next), head_next)


def _at_optimum(labour, compute, sector: Sector, at: Critical) -> Allocation:
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
    powers = _pow(jnp.stack([compute_scale, labour_scale, critical_input]), sector.rho)
    beta = jnp.where(critical == 0, sector.beta[0], sector.beta[1])
    inner_sum = (powers[0] * jnp.where(found, head, head_next) + jnp.where(mixed, beta * powers[2], 0.0)
                 + powers[1] * jnp.where(dropped, tail, tail_next))
    mostly_compute = mixed & (eta * compute_at > 10 * labour_at)
    automated = jnp.where(found, critical, critical + 1) + mostly_compute.astype(jnp.int32)
    return Allocation(inner_sum, automated)


def _output(sector: Sector, first, allocation: Allocation, tfp):
    """The sector's output: tfp CES(first, CES of the tasks), first = capital (or experiments),
    the original's ``nested_ces_production_function``. The inner CES to the power of the outer
    exponent is (inner sum / sum beta) ** (outer rho / rho)."""
    w = sector.outer
    rho = sector.outer_rho
    powers = _pow(jnp.stack([first, allocation.inner_sum / sector.beta_total]), jnp.stack([rho, rho / sector.rho]))
    return tfp * _pow((w[0] * powers[0] + w[1] * powers[1]) / (w[0] + w[1]), 1 / rho)


# --------------------------------------------------------------------------
# State


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

    def training(self, year):
        """Cap on the largest run in ``year`` (FLOP; inf outside the window when lifted at once)."""
        during = self.log10_at_start + self.growth * (year - self.start)
        after = self.log10_at_start + self.growth * (self.end - self.start) + self.lift_growth * (year - self.end)
        in_force = (year >= self.start) & (year < self.end)
        lifting = (year >= self.end) & (self.gradual > 0)
        return jnp.where(in_force, jnp.exp(_LN10 * during), jnp.where(lifting, jnp.exp(_LN10 * after), jnp.inf))

    def hardware_stock(self, year):
        return jnp.where((year >= self.start) & (year < self.end), self.hardware, jnp.inf)


def _year(n):
    """t_n = 2022 + n dt, as the original computes it: the product rounded, then the sum (no
    fused multiply-add), so the years are the original's to the last bit (2037.1000000000001)."""
    return START_YEAR + jax.lax.optimization_barrier(n.astype(jnp.float64) * STEP_YEARS)


class Frontier(NamedTuple):
    """Per-draw constants of one R&D frontier: hardware performance or software."""

    returns: jax.Array        # divided by the parallelisation penalty
    ceiling: jax.Array
    log_ceiling: jax.Array
    log_room: jax.Array       # ln(ceiling / value in 2022)


def _frontier(returns, ceiling, initial) -> Frontier:
    return Frontier(returns, ceiling, _ln(ceiling), _ln(ceiling) - _ln(initial))


def _update_rnd(current, research_input, cumulative, frontier: Frontier, penalty):
    """One step of hardware performance or software (the original's ``_update_rnd``): growth by
    (cumulative input ratio) ** (returns x the share of the way to the ceiling still left)."""
    cumulative_next = cumulative + _pow(research_input, penalty) * STEP_YEARS
    room = jnp.where(jnp.isinf(frontier.ceiling), 1.0, (frontier.log_ceiling - _ln(current)) / frontier.log_room)
    grown = current * _pow(cumulative_next / cumulative, frontier.returns * room)
    return jnp.minimum(grown, frontier.ceiling), cumulative_next


def _task_weights(first_input, labour, compute, eta0, first_rho, rho, first_to_cognitive, compute_to_labour
                  ) -> Sector:
    """One sector's task and outer weights that give the 2022 shares (the original's
    ``adjust_task_weights``), with labour spread evenly over the labour tasks and compute on task 0."""
    task_input = jnp.concatenate([(eta0 * compute)[None], jnp.full(LABOUR_TASKS, labour / LABOUR_TASKS)])
    labour_input = jnp.concatenate([jnp.zeros(1, task_input.dtype), task_input[1:]])
    labour_share = _sum(labour_input * task_input ** (rho - 1))
    compute_share = task_input[0] * task_input[0] ** (rho - 1)
    compute_weight, labour_weight = _odds_to_probs(compute_to_labour * labour_share / compute_share)
    beta = jnp.stack([compute_weight, labour_weight])
    cognitive = _ces(task_input, jnp.concatenate([beta[:1], jnp.full(LABOUR_TASKS, labour_weight)]), rho)
    outer = jnp.stack(_odds_to_probs(first_to_cognitive * cognitive ** first_rho / first_input ** first_rho))
    sigma = 1 / (1 - rho)
    return Sector(rho, sigma, beta, beta ** sigma, beta[0] + LABOUR_TASKS * beta[1], outer, first_rho)


# --------------------------------------------------------------------------
# One step: inputs, automation, production


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


def _share_automated(count):
    """(count - 1) / 100: the share of the 100 labour tasks (task 0 is not counted)."""
    return _divide((count - 1).astype(jnp.float64), LABOUR_TASKS)


def _inputs(k: Constants, capital, labour, investment, hardware, compute, tfp, fractions: Fractions, largest_run
            ) -> Inputs:
    automatable = _automatable(k.tasks.training, largest_run, k.max_tradeoff)
    return Inputs(capital, labour, investment, hardware, compute, tfp, fractions, largest_run,
                  automatable[0], automatable[1], _automatable(k.tasks.training[0], largest_run, 1.0))


def _produce(k: Constants, x: Inputs, experiments) -> Production:
    """Goods, hardware R&D and software R&D (the original's ``production``), the three sectors at
    once, with and without automation (all but task 0 done by labour)."""
    f = x.fractions
    first = jnp.stack([x.capital * (1 - f.capital_hardware_rnd), x.capital * f.capital_hardware_rnd, experiments])
    labour = jnp.stack([x.labour * (1 - f.labour_hardware_rnd - f.labour_software_rnd),
                        x.labour * f.labour_hardware_rnd, x.labour * f.labour_software_rnd])
    compute = jnp.stack([x.compute * (1 - f.compute_hardware_rnd - f.compute_software_rnd - f.compute_training),
                         x.compute * f.compute_hardware_rnd, x.compute * f.compute_software_rnd])
    automatable = jnp.stack([x.automatable_goods, x.automatable_rnd, x.automatable_rnd])
    log_largest_run = _ln(x.largest_run)
    groups = jax.vmap(_efficiency, in_axes=(None, 0, None))(k.tasks, jnp.arange(2), log_largest_run)
    tasks = jax.tree.map(lambda a: a[SECTOR_TASKS], groups)   # goods tasks, R&D tasks, R&D tasks
    # Each sector with automation and without (only task 0 by compute), six allocations at once.
    at = jax.tree.map(lambda a, b: jnp.concatenate([a, b]),
                      jax.vmap(_critical)(labour, compute, k.sectors, tasks, automatable),
                      jax.vmap(_critical_without_automation)(labour, compute, k.sectors, tasks))
    twice = jax.tree.map(lambda a: jnp.concatenate([a, a]), (labour, compute, k.sectors, first))
    allocation = jax.vmap(_at_optimum)(*twice[:3], at)
    outputs = jax.vmap(_output, in_axes=(0, 0, 0, None))(twice[2], twice[3], allocation, x.tfp)
    output, output_without = outputs[:3], outputs[3:]
    automated = _share_automated(allocation.automated)
    multiplier = output / output_without
    return Production(output[GOODS], output[HARDWARE_RND], output[SOFTWARE_RND], automated[GOODS],
                      automated[HARDWARE_RND], multiplier[GOODS], multiplier[HARDWARE_RND])


# --------------------------------------------------------------------------
# Step 0: the calibration to 2022


def _start(p: Draw) -> tuple[Constants, Step, Inputs, Production, jax.Array]:
    """Per-draw constants and step 0: the original's ``process_input_parameters``,
    ``initialize_inputs``, ``automate_tasks(0)``, ``production(0)`` and the first hardware step.
    Also whether the original would accept the parameter set (its admissibility test)."""
    penalty = p["rnd_parallelization_penalty"]
    tradeoff_on = p["runtime_training_tradeoff"] > 0
    tradeoff = jnp.where(tradeoff_on, p["runtime_training_tradeoff"], 0.0)

    # Requirements of goods tasks and of R&D tasks.
    runtime_top = p["full_automation_requirements_runtime"] * SECONDS_PER_YEAR
    training_top = p["full_automation_requirements_training"]
    requirements = jax.vmap(_requirements)(
        jnp.stack([training_top, training_top / p["goods_vs_rnd_requirements_training"], runtime_top,
                   runtime_top / p["goods_vs_rnd_requirements_runtime"]]),
        jnp.stack([p["flop_gap_training"]] * 2 + [p["flop_gap_runtime"]] * 2),
        jnp.stack([p["training_requirements_steepness"]] * 2 + [p["runtime_requirements_steepness"]] * 2))
    training, runtime = requirements[:2], requirements[2:]
    monotone = jnp.all(jnp.diff(training) >= 0) & jnp.all(jnp.diff(runtime) >= 0)

    # Inputs in 2022.
    gwp = p["initial_gwp"]
    labour = p["initial_population"]
    capital = gwp * INVESTMENT_RATE / (jnp.exp(p["initial_capital_growth"]) - 1)
    hardware = p["initial_hardware_production"] * p["ratio_hardware_to_initial_hardware_production"]
    investment = p["initial_hardware_production"] * STEP_YEARS / p["initial_buyable_hardware_performance"]
    compute = hardware * 1.0
    f = Fractions(
        _divide(investment / gwp, STEP_YEARS), p["initial_frac_capital_hardware_rnd"],
        p["initial_frac_labour_hardware_rnd"],
        p["initial_frac_compute_hardware_rnd"], p["initial_frac_labour_software_rnd"],
        p["initial_frac_compute_software_rnd"], p["initial_biggest_training_run"] / compute)
    largest = compute * f.compute_training
    experiments = hardware ** p["compute_software_rnd_experiments_efficiency"]

    # Task and outer weights that reproduce the 2022 shares (the original's adjust_task_weights).
    # Task and outer weights that reproduce the 2022 shares (the original's adjust_task_weights).
    # Shares of capital (experiments in software R&D) to cognitive work, and of compute to labour.
    rho = jnp.stack([p["labour_substitution_goods"], p["labour_substitution_rnd"], p["labour_substitution_rnd"]])
    outer_rho = jnp.stack([p["capital_substitution_goods"], p["capital_substitution_rnd"] * penalty,
                           p["research_experiments_substitution_software"]])
    cognitive = jnp.stack([p["initial_cognitive_share_goods"], p["initial_cognitive_share_hardware_rnd"],
                           1 - p["initial_experiment_share_software_rnd"]])
    compute_share = jnp.stack([p["initial_compute_share_goods"], p["initial_compute_share_rnd"],
                               p["initial_compute_share_rnd"]]) * cognitive
    first_to_cognitive = jnp.stack([1 - cognitive[0], 1 - cognitive[1], p["initial_experiment_share_software_rnd"]]
                                   ) / cognitive
    tasks = _tasks(training, runtime, tradeoff, 1 / (1 - rho[:2]), _ln(largest))
    eta0 = jnp.minimum(1.0, tasks.eta[SECTOR_TASKS, 0])
    sectors = jax.vmap(_task_weights)(
        jnp.stack([capital * (1 - f.capital_hardware_rnd), capital * f.capital_hardware_rnd, experiments]),
        jnp.stack([labour * (1 - f.labour_hardware_rnd - f.labour_software_rnd), labour * f.labour_hardware_rnd,
                   labour * f.labour_software_rnd]),
        jnp.stack([compute * (1 - f.compute_hardware_rnd - f.compute_software_rnd - f.compute_training),
                   compute * f.compute_hardware_rnd, compute * f.compute_software_rnd]),
        eta0, outer_rho, rho, first_to_cognitive, compute_share / (cognitive - compute_share))

    def fraction_parameters(suffix):
        return Fractions(*(p[f"frac_{name}{suffix}"] for name in Fractions._fields))

    cap_start = p["cap_start_year"]
    k = Constants(
        tasks=tasks, max_tradeoff=jnp.where(tradeoff_on, p["runtime_training_max_tradeoff"], 1.0), sectors=sectors,
        growth=Fractions(*jnp.exp(STEP_YEARS * jnp.stack(fraction_parameters("_growth")))),
        growth_rampup=Fractions(*jnp.exp(STEP_YEARS * jnp.stack(fraction_parameters("_growth_rampup")))),
        ceilings=fraction_parameters("_ceiling"),
        frontiers=None,
        initial_hardware_performance=None, log_early_hardware_growth=None,
        delay_steps=jnp.round(_divide(p["hardware_delay"], STEP_YEARS)).astype(jnp.int32),
        depreciation=(1.0 - p["compute_depreciation"]) ** STEP_YEARS,
        labour_growth=jnp.exp(p["labour_growth"] * STEP_YEARS), tfp_growth=jnp.exp(p["tfp_growth"] * STEP_YEARS),
        output_to_gwp=jnp.zeros_like(gwp), hardware_rnd_to_input=jnp.zeros_like(gwp),
        software_rnd_to_input=jnp.zeros_like(gwp),
        cap=Cap(cap_start, cap_start + p["cap_years"], p["cap_log10_flop"], p["cap_growth"], p["cap_gradual_lift"],
                p["cap_lift_growth"], p["catch_up"], 10 ** p["hardware_cap_log10"]))

    inputs = _inputs(k, capital, labour, investment, hardware, compute, jnp.ones_like(gwp), f, largest)
    made = _produce(k, inputs, experiments)
    hardware_input = gwp * INITIAL_FRAC_GWP_HARDWARE_RND
    software_input = gwp * INITIAL_FRAC_GWP_SOFTWARE_RND
    k = k._replace(output_to_gwp=gwp / made.goods, hardware_rnd_to_input=hardware_input / made.hardware_rnd,
                   software_rnd_to_input=software_input / made.software_rnd)
    rnd_input_hardware = made.hardware_rnd * k.hardware_rnd_to_input
    cumulative_hardware = hardware_input ** penalty / p["ratio_initial_to_cumulative_input_hardware_rnd"] / penalty
    cumulative_software = software_input ** penalty / p["ratio_initial_to_cumulative_input_software_rnd"] / penalty

    # The original sets the 2022 hardware performance in step 1: the buyable performance moved
    # forward by the delay at the first step's rate of improvement.
    buyable = p["initial_buyable_hardware_performance"]
    returns, ceiling = p["hardware_returns"] / penalty, p["hardware_performance_ceiling"]
    improved, _ = _update_rnd(buyable, rnd_input_hardware, cumulative_hardware,
                              _frontier(returns, ceiling, buyable), penalty)
    performance = buyable * _pow(improved / buyable, k.delay_steps.astype(jnp.float64))
    hardware_frontier = _frontier(returns, ceiling, performance)
    performance_next, _ = _update_rnd(performance, rnd_input_hardware, cumulative_hardware, hardware_frontier,
                                      penalty)
    frontiers = jax.tree.map(lambda *a: jnp.stack(a), hardware_frontier,
                             _frontier(p["software_returns"] / penalty, p["software_ceiling"], 1.0))
    k = k._replace(frontiers=frontiers, initial_hardware_performance=performance,
                   log_early_hardware_growth=_ln(performance_next / performance))

    automatable_alone = _share_automated(inputs.automatable_goods_alone)
    state = Step(
        hardware_performance=performance, cumulative_hardware_rnd=cumulative_hardware, software=jnp.ones_like(gwp),
        cumulative_software_rnd=cumulative_software, rnd_input_hardware=rnd_input_hardware,
        rnd_input_software=made.software_rnd * k.software_rnd_to_input, fractions=f,
        rampup=jnp.zeros((), bool), money_spent_training=p["initial_biggest_training_run"] / (1.0 * buyable),
        largest_run=largest,
        gwp=made.goods * k.output_to_gwp, hardware=hardware, capital=capital, labour=labour, tfp=inputs.tfp,
        automated_goods=made.automated_goods, automated_rnd=made.automated_rnd,
        automatable_goods_alone=automatable_alone, automatable_goods_alone_before=jnp.zeros_like(gwp),
        performance_history=jnp.zeros(DELAY_SLOTS, gwp.dtype).at[0].set(performance),
        gwp_history=jnp.zeros(STEPS_PER_YEAR, gwp.dtype).at[0].set(made.goods * k.output_to_gwp))

    # The original's admissibility test (its Monte Carlo redraws sets that fail it): no goods
    # task and at most 5% of R&D tasks automatable in 2022, ceilings that leave room, monotone
    # requirements and a 2022 training run the 2022 compute can pay for.
    admissible = ((_share_automated(inputs.automatable_goods) <= 0)
                  & (_share_automated(inputs.automatable_rnd) <= 0.05)
                  & (p["frac_labour_hardware_rnd_ceiling"] + p["frac_labour_software_rnd_ceiling"] < 1)
                  & (p["frac_compute_hardware_rnd_ceiling"] + p["frac_compute_software_rnd_ceiling"]
                     + p["frac_compute_training_ceiling"] < 1)
                  & monotone & (p["initial_biggest_training_run"] <= compute))
    return k, state, inputs, made, admissible


# --------------------------------------------------------------------------
# Steps 1 .. 779


def _advance(p: Draw, k: Constants, s: Step, n, policy: bool) -> tuple[Step, Inputs, Production, Events]:
    """Step n from step n - 1: the original's ``reinvest_output_in_inputs`` (R&D, shares, inputs),
    ``automate_tasks`` and ``production``, with the cap hook when ``policy``."""
    year = _year(n)
    penalty = p["rnd_parallelization_penalty"]
    (performance, software), (cumulative_hardware, cumulative_software) = jax.vmap(
        _update_rnd, in_axes=(0, 0, 0, 0, None))(
        jnp.stack([s.hardware_performance, s.software]), jnp.stack([s.rnd_input_hardware, s.rnd_input_software]),
        jnp.stack([s.cumulative_hardware_rnd, s.cumulative_software_rnd]), k.frontiers, penalty)

    # Shares: wake-up when the goods tasks automated reach the trigger; events are dated t_{n-1}.
    rampup = s.automated_goods >= p["rampup_trigger"]
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
    if policy:
        # catch_up = 0: the training share is clamped, the compute freed goes to goods.
        # catch_up = 1: the share is kept and compute above the cap sits idle.
        cap = k.cap.training(year)
        share = fractions.compute_training
        fractions = fractions._replace(compute_training=jnp.where(
            k.cap.catch_up > 0, share, jnp.minimum(share, cap / compute)))
        largest = jnp.minimum(compute * fractions.compute_training, cap)
    money = compute * fractions.compute_training / (software * buyable)

    inputs = _inputs(k, capital, labour, investment, hardware, compute, tfp, fractions, largest)
    made = _produce(k, inputs, _pow(hardware, p["compute_software_rnd_experiments_efficiency"]))
    gwp = made.goods * k.output_to_gwp
    state = Step(
        hardware_performance=performance, cumulative_hardware_rnd=cumulative_hardware, software=software,
        cumulative_software_rnd=cumulative_software, rnd_input_hardware=made.hardware_rnd * k.hardware_rnd_to_input,
        rnd_input_software=made.software_rnd * k.software_rnd_to_input, fractions=fractions, rampup=rampup,
        money_spent_training=money, largest_run=largest, gwp=gwp, hardware=hardware, capital=capital, labour=labour,
        tfp=tfp,
        automated_goods=made.automated_goods, automated_rnd=made.automated_rnd,
        automatable_goods_alone=_share_automated(inputs.automatable_goods_alone),
        automatable_goods_alone_before=s.automatable_goods_alone, performance_history=history,
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


def _track(track: Tracker, n, s_before: Step, s: Step, made: Production, events: Events | None) -> Tracker:
    """The metrics after step n. A step that makes an invalid value (NaN) stops them, as the
    original's FloatingPointError stops its run."""
    invalid = (jnp.isnan(s.gwp) | jnp.isnan(s.rnd_input_hardware) | jnp.isnan(s.rnd_input_software)
               | jnp.isnan(s.hardware_performance) | jnp.isnan(s.software) | jnp.isnan(s.hardware)
               | jnp.isnan(made.multiplier_rnd))
    # Step 780 (2100.0), which the scan makes to finish its last whole year, is not the original's.
    counted = n < STEPS
    ok = ~track.stopped & ~invalid & counted
    # The original's annual GWP growth series runs from step 10 to step 778 (one short of the end).
    growth = _ln(s.gwp / s_before.gwp_history[n % STEPS_PER_YEAR])
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


def _new_tracker(like) -> Tracker:
    never = jnp.full((), -1, jnp.int32)
    nan = jnp.full_like(like, jnp.nan)
    return Tracker(*([never] * 10), peak_gwp_growth=jnp.full_like(like, -jnp.inf), sub_agi_year=nan, agi_year=nan,
                   wakeup_year=nan, stopped=jnp.zeros((), bool))


def _metrics(track: Tracker, admissible) -> dict[str, jax.Array]:
    """The outputs from the tracker: +inf for what is not reached by 2100, NaN for what is not
    known (after an invalid value stopped the run) and for every output of an inadmissible set."""
    missing = jnp.where(track.stopped, jnp.nan, jnp.inf)

    def year(first):
        return jnp.where(first >= 0, _year(first), missing)

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


# --------------------------------------------------------------------------
# The model


def _check_float64(p: Draw) -> None:
    dtype = jnp.result_type(*p.values())
    if dtype != jnp.float64:
        raise TypeError(f"model 'ftm' computes in float64, got {dtype} parameters: run it through overhang_jax.run, "
                        "or inside jax.enable_x64(True) with float64 parameters")


def _yearly(year_before: Step, s: Step) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The three series kept per year: log10 of the largest run, annual GWP growth (%/yr, log
    growth) and the share of goods tasks automated (%)."""
    return _ln(s.largest_run) / math.log(10), 100 * _ln(s.gwp / year_before.gwp), 100 * s.automated_goods


def simulate(p: Draw, policy: bool = True) -> dict[str, jax.Array]:
    """Outputs and yearly series of one parameter draw (see the module docstring).

    ``policy=False`` leaves the cap hook out of the computation (the plain port); with the
    default no-cap parameters both give the same bits.
    """
    _check_float64(p)
    k, state, _, made, admissible = _start(p)
    track = _track(_new_tracker(state.gwp), jnp.zeros((), jnp.int32), state, state, made, None)

    def step(carry, n):
        s, track = carry
        s_next, _, made, events = _advance(p, k, s, n, policy)
        return (s_next, _track(track, n, s, s_next, made, events)), None

    def year(carry, first):
        after, _ = jax.lax.scan(step, carry, first + jnp.arange(STEPS_PER_YEAR, dtype=jnp.int32))
        return after, _yearly(carry[0], after[0])

    # 78 whole years, steps 1 .. 780; step 780 is not counted (see _track), nor its year.
    (_, track), series = jax.lax.scan(year, (state, track), 1 + STEPS_PER_YEAR * jnp.arange(
        STEPS // STEPS_PER_YEAR, dtype=jnp.int32))
    series = [values[: len(TRAJECTORY_YEARS)] for values in series]
    outputs = {**_metrics(track, admissible), **dict(zip(TRAJECTORIES.names, series))}
    kept = admissible | (p["reject_inadmissible"] == 0)
    return {name: value if name == "inadmissible" else jnp.where(kept, value, jnp.nan)
            for name, value in outputs.items()}


TRACE_VARIABLES = (
    "gwp", "biggest_training_run", "compute", "hardware", "hardware_performance", "software", "compute_investment",
    "frac_gwp_compute", "frac_compute_training", "frac_compute_goods", "frac_tasks_automated_goods",
    "frac_tasks_automated_rnd", "frac_automatable_tasks_goods", "frac_automatable_tasks_rnd",
    "automatable_tasks_goods", "automatable_tasks_rnd", "automation_multiplier_goods", "automation_multiplier_rnd",
    "rnd_input_hardware", "rnd_input_software", "capital", "labour", "money_spent_training", "rampup")
"""State variables :func:`trace` returns, named as the original's attributes."""


def _trace_record(s: Step, x: Inputs, made: Production) -> dict[str, jax.Array]:
    f = x.fractions
    return {
        "gwp": s.gwp, "biggest_training_run": x.largest_run, "compute": x.compute, "hardware": x.hardware,
        "hardware_performance": s.hardware_performance, "software": s.software, "compute_investment": x.investment,
        "frac_gwp_compute": f.gwp_compute, "frac_compute_training": f.compute_training,
        "frac_compute_goods": 1 - f.compute_hardware_rnd - f.compute_software_rnd - f.compute_training,
        "frac_tasks_automated_goods": made.automated_goods, "frac_tasks_automated_rnd": made.automated_rnd,
        "frac_automatable_tasks_goods": _share_automated(x.automatable_goods),
        "frac_automatable_tasks_rnd": _share_automated(x.automatable_rnd),
        "automatable_tasks_goods": x.automatable_goods, "automatable_tasks_rnd": x.automatable_rnd,
        "automation_multiplier_goods": made.multiplier_goods, "automation_multiplier_rnd": made.multiplier_rnd,
        "rnd_input_hardware": s.rnd_input_hardware, "rnd_input_software": s.rnd_input_software,
        "capital": x.capital, "labour": x.labour, "money_spent_training": s.money_spent_training,
        "rampup": s.rampup,
    }


def trace(p: Draw, policy: bool = True) -> dict[str, jax.Array]:
    """Every step's state variables (``TRACE_VARIABLES``, each of length 780) of one draw: for
    checking the port against the original step by step, and for plotting single runs."""
    _check_float64(p)
    k, state, inputs, made, _ = _start(p)

    def step(s, n):
        s_next, inputs, made, _ = _advance(p, k, s, n, policy)
        return s_next, _trace_record(s_next, inputs, made)

    _, records = jax.lax.scan(step, state, jnp.arange(1, STEPS, dtype=jnp.int32))
    first = _trace_record(state, inputs, made)
    out = jax.tree.map(lambda a, rest: jnp.concatenate([a[None], rest]), first, records)
    out["timesteps"] = _year(jnp.arange(STEPS, dtype=jnp.int32))
    return out


FTM = Model(
    name="ftm",
    description="the compute-centric takeoff model of Davidson (2023), epoch-research/ftm, with a training cap",
    parameters=PARAMETERS + POLICY_PARAMETERS + SAMPLING_PARAMETERS,
    outputs=OUTPUTS,
    methods={"stepped": simulate},
    default_priors="ftm.toml",
    trajectories=TRAJECTORIES,
    observables=OBSERVABLES,
    fixed_length_loops=True,
    requires_float64=True,
    # About 18% of the default priors' draws are inadmissible (NaN) and some takeoffs do not
    # finish by 2100 (+inf): answers, not failures.
    nonfinite_share_limit=0.5,
    headlines=HEADLINES,
)
