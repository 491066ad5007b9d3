"""Step 0: the calibration to 2022 and the original's admissibility test."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._schema import Draw
from ._declaration import (
    DELAY_SLOTS, INITIAL_FRAC_GWP_HARDWARE_RND, INITIAL_FRAC_GWP_SOFTWARE_RND, INVESTMENT_RATE,
    SECONDS_PER_YEAR, STEPS_PER_YEAR, STEP_YEARS)
from ._constants import SECTOR_TASKS, ln, power, task_constants, task_requirements, true_divide
from ._state import Cap, Constants, Fractions, Step, make_frontier, task_weights, update_rnd
from ._production import Inputs, Production, produce, share_automated, step_inputs


def calibrate(p: Draw) -> tuple[Constants, Step, Inputs, Production, jax.Array]:
    """Per-draw constants and step 0: the original's ``process_input_parameters``,
    ``initialize_inputs``, ``automate_tasks(0)``, ``production(0)`` and the first hardware step.
    Also whether the original would accept the parameter set (its admissibility test)."""
    penalty = p["rnd_parallelization_penalty"]
    tradeoff_on = p["runtime_training_tradeoff"] > 0
    tradeoff = jnp.where(tradeoff_on, p["runtime_training_tradeoff"], 0.0)

    # Requirements of goods tasks and of R&D tasks.
    runtime_top = p["full_automation_requirements_runtime"] * SECONDS_PER_YEAR
    training_top = p["full_automation_requirements_training"]
    requirements = jax.vmap(task_requirements)(
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
        true_divide(investment / gwp, STEP_YEARS), p["initial_frac_capital_hardware_rnd"],
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
    tasks = task_constants(training, runtime, tradeoff, 1 / (1 - rho[:2]), ln(largest))
    eta0 = jnp.minimum(1.0, tasks.eta[SECTOR_TASKS, 0])
    sectors = jax.vmap(task_weights)(
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
        delay_steps=jnp.round(true_divide(p["hardware_delay"], STEP_YEARS)).astype(jnp.int32),
        depreciation=(1.0 - p["compute_depreciation"]) ** STEP_YEARS,
        labour_growth=jnp.exp(p["labour_growth"] * STEP_YEARS), tfp_growth=jnp.exp(p["tfp_growth"] * STEP_YEARS),
        output_to_gwp=jnp.zeros_like(gwp), hardware_rnd_to_input=jnp.zeros_like(gwp),
        software_rnd_to_input=jnp.zeros_like(gwp),
        cap=Cap(cap_start, cap_start + p["cap_years"], p["cap_log10_flop"], p["cap_growth"], p["cap_gradual_lift"],
                p["cap_lift_growth"], p["catch_up"], 10 ** p["hardware_cap_log10"], p["cap_physical"],
                p["cap_below_trained"]))

    inputs = step_inputs(k, capital, labour, investment, hardware, compute, jnp.ones_like(gwp), f, largest)
    made = produce(k, inputs, experiments)
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
    improved, _ = update_rnd(buyable, rnd_input_hardware, cumulative_hardware,
                              make_frontier(returns, ceiling, buyable), penalty)
    performance = buyable * power(improved / buyable, k.delay_steps.astype(jnp.float64))
    hardware_frontier = make_frontier(returns, ceiling, performance)
    performance_next, _ = update_rnd(performance, rnd_input_hardware, cumulative_hardware, hardware_frontier,
                                      penalty)
    frontiers = jax.tree.map(lambda *a: jnp.stack(a), hardware_frontier,
                             make_frontier(p["software_returns"] / penalty, p["software_ceiling"], 1.0))
    k = k._replace(frontiers=frontiers, initial_hardware_performance=performance,
                   log_early_hardware_growth=ln(performance_next / performance))

    automatable_alone = share_automated(inputs.automatable_goods_alone)
    state = Step(
        hardware_performance=performance, cumulative_hardware_rnd=cumulative_hardware, software=jnp.ones_like(gwp),
        cumulative_software_rnd=cumulative_software, rnd_input_hardware=rnd_input_hardware,
        rnd_input_software=made.software_rnd * k.software_rnd_to_input, fractions=f,
        rampup=jnp.zeros((), bool), money_spent_training=p["initial_biggest_training_run"] / (1.0 * buyable),
        largest_run=largest,
        gwp=made.goods * k.output_to_gwp, hardware=hardware, capital=capital, labour=labour, tfp=inputs.tfp,
        automated_goods=made.automated_goods, automated_rnd=made.automated_rnd,
        automatable_goods_alone=automatable_alone, automatable_goods_alone_before=jnp.zeros_like(gwp),
        largest_trained=largest, cap_started=jnp.zeros((), bool), trained_at_cap_start=jnp.zeros_like(gwp),
        share_at_cap_start=jnp.zeros_like(gwp),
        performance_history=jnp.zeros(DELAY_SLOTS, gwp.dtype).at[0].set(performance),
        gwp_history=jnp.zeros(STEPS_PER_YEAR, gwp.dtype).at[0].set(made.goods * k.output_to_gwp))

    # The original's admissibility test (its Monte Carlo redraws sets that fail it): no goods
    # task and at most 5% of R&D tasks automatable in 2022, ceilings that leave room, monotone
    # requirements and a 2022 training run the 2022 compute can pay for.
    admissible = ((share_automated(inputs.automatable_goods) <= 0)
                  & (share_automated(inputs.automatable_rnd) <= 0.05)
                  & (p["frac_labour_hardware_rnd_ceiling"] + p["frac_labour_software_rnd_ceiling"] < 1)
                  & (p["frac_compute_hardware_rnd_ceiling"] + p["frac_compute_software_rnd_ceiling"]
                     + p["frac_compute_training_ceiling"] < 1)
                  & monotone & (p["initial_biggest_training_run"] <= compute))
    return k, state, inputs, made, admissible


def admissible(p: Draw) -> jax.Array:
    """Whether the original's Monte Carlo accepts the parameter set (its test in :func:`calibrate`)."""
    return calibrate(p)[4]
