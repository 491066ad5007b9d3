"""The model: ``simulate`` (outputs and yearly series), ``trace`` (every step) and ``FTM``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._schema import Draw, Figure, Model, Redraw
from ._declaration import (
    HEADLINES, MAX_ATTEMPTS, OUTPUTS, PARAMETERS, POLICY_PARAMETERS, SAMPLING_PARAMETERS, STEPS, STEPS_PER_YEAR,
    OBSERVABLES, TRAJECTORIES, TRAJECTORY_YEARS)
from ._constants import ln
from ._state import Step, year_of_step
from ._production import Inputs, Production, share_automated
from ._calibration import admissible, calibrate
from ._step import advance, new_tracker, tracked_metrics, update_tracker


def _check_float64(p: Draw) -> None:
    dtype = jnp.result_type(*p.values())
    if dtype != jnp.float64:
        raise TypeError(f"model 'ftm' computes in float64, got {dtype} parameters: run it through overhang_jax.run, "
                        "or inside jax.enable_x64(True) with float64 parameters")


def _yearly(year_before: Step, s: Step) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The three series kept per year: log10 of the largest run, annual GWP growth (%/yr, log
    growth) and the share of goods tasks automated (%)."""
    return ln(s.largest_run) / math.log(10), 100 * ln(s.gwp / year_before.gwp), 100 * s.automated_goods


def simulate(p: Draw, policy: bool = True) -> dict[str, jax.Array]:
    """Outputs and yearly series of one parameter draw (see the module docstring).

    ``policy=False`` leaves the cap hook out of the computation (the plain port); with the
    default no-cap parameters both give the same bits.
    """
    _check_float64(p)
    k, state, _, made, admissible = calibrate(p)
    track = update_tracker(new_tracker(state.gwp), jnp.zeros((), jnp.int32), state, state, made, None)

    def step(carry, n):
        s, track = carry
        s_next, _, made, events = advance(p, k, s, n, policy)
        return (s_next, update_tracker(track, n, s, s_next, made, events)), None

    def year(carry, first):
        after, _ = jax.lax.scan(step, carry, first + jnp.arange(STEPS_PER_YEAR, dtype=jnp.int32))
        return after, _yearly(carry[0], after[0])

    # 78 whole years, steps 1 .. 780; step 780 is not counted (see update_tracker), nor its year.
    (_, track), series = jax.lax.scan(year, (state, track), 1 + STEPS_PER_YEAR * jnp.arange(
        STEPS // STEPS_PER_YEAR, dtype=jnp.int32))
    series = [values[: len(TRAJECTORY_YEARS)] for values in series]
    outputs = {**tracked_metrics(track, admissible), **dict(zip(TRAJECTORIES.names, series))}
    # A set the runner could not redraw (or was told not to) is marked: NaN outputs, unless
    # reject_inadmissible = 0. The runner writes `redraws` when it redraws; the model never does.
    kept = admissible | (p["reject_inadmissible"] == 0)
    outputs = {name: value if name == "inadmissible" else jnp.where(kept, value, jnp.nan)
               for name, value in outputs.items()}
    outputs["redraws"] = jnp.zeros_like(outputs["inadmissible"])
    return outputs


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
        "gwp": s.gwp, "biggest_training_run": s.largest_run, "compute": x.compute, "hardware": x.hardware,
        "hardware_performance": s.hardware_performance, "software": s.software, "compute_investment": x.investment,
        "frac_gwp_compute": f.gwp_compute, "frac_compute_training": f.compute_training,
        "frac_compute_goods": 1 - f.compute_hardware_rnd - f.compute_software_rnd - f.compute_training,
        "frac_tasks_automated_goods": made.automated_goods, "frac_tasks_automated_rnd": made.automated_rnd,
        "frac_automatable_tasks_goods": share_automated(x.automatable_goods),
        "frac_automatable_tasks_rnd": share_automated(x.automatable_rnd),
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
    k, state, inputs, made, _ = calibrate(p)

    def step(s, n):
        s_next, inputs, made, _ = advance(p, k, s, n, policy)
        return s_next, _trace_record(s_next, inputs, made)

    _, records = jax.lax.scan(step, state, jnp.arange(1, STEPS, dtype=jnp.int32))
    first = _trace_record(state, inputs, made)
    out = jax.tree.map(lambda a, rest: jnp.concatenate([a[None], rest]), first, records)
    out["timesteps"] = year_of_step(jnp.arange(STEPS, dtype=jnp.int32))
    return out


FIGURE_OUTPUTS = ("automation_goods_20_year", "agi_year", "takeoff_goods_years", "sub_agi_to_agi_years",
                  "rnd_output_2x_to_10x_years", "peak_gwp_growth")
"""The outputs the figures show: the years of the milestones, the takeoff's lengths, peak growth."""

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
    # Some takeoffs do not finish by 2100 (+inf): answers, not failures (and with
    # reject_inadmissible = 2, about 18% of the default priors' draws are NaN).
    nonfinite_share_limit=0.5,
    # The original's Monte Carlo: keep the training requirement, redraw the rest (docs/ftm.md).
    redraw=Redraw(admissible, kept=("full_automation_requirements_training",), switch="reject_inadmissible",
                  count_output="redraws", max_attempts=MAX_ATTEMPTS,
                  reason="the original's admissibility test"),
    horizon_note=("+inf: not reached by 2100 (the grid's last step is 2099.9). The original's Monte Carlo counts "
                  "a year not reached as 2100 in its quantiles (shown as '>= 2100') and leaves a length not "
                  "reached out, as here; so its quantiles of a year are at or above these (docs/ftm.md)."),
    headlines=HEADLINES,
    figures=(Figure("bands", "series_bands"), Figure("distributions", "distributions", {"names": FIGURE_OUTPUTS})),
    figure_outputs=FIGURE_OUTPUTS,
)
