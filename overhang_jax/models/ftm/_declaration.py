"""What the model declares: its grid, its 67 parameters and the cap's, its outputs,
headlines and yearly series."""

from __future__ import annotations

from .._schema import Headline, Observable, Output, Parameter, Trajectories


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
              "cap on the largest training run when it starts (effective FLOP, 2022 software, or physical "
              "FLOP with cap_physical = 1)"),
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
    Parameter("cap_physical", 0.0, "1",
              "0: cap_log10_flop counts effective FLOP (2022 software); 1: physical FLOP (hardware FLOP of the "
              "run, whatever the software)", **_SWITCH),
    Parameter("cap_below_trained", 0.0, "1",
              "0: a cap below the largest run already trained when it starts is raised to that run (a freeze); "
              "1: kept as stated (no new run above it; what was trained stays)", **_SWITCH),
)
SAMPLING_PARAMETERS = (
    Parameter("reject_inadmissible", 0.0, "1",
              "sets the original's Monte Carlo rejects (its admissibility test): 1, a sampled run redraws them "
              "as the original does (given sets: as 2); 2, their outputs are NaN (dropped); 0, computed like "
              "any other, as the original's model does", values=(0.0, 1.0, 2.0), static=True),
)
MAX_ATTEMPTS = 200
"""Parameter sets a draw tries (its first included) before it is left inadmissible."""

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
    # Flags and counts, not results: no direction to compare (a cap does not change admissibility).
    Output("inadmissible", "1",
           "1 if this parameter set fails the original's admissibility test: not redrawn (reject_inadmissible "
           "0 or 2, or a given set) or still failing after 200 sets (reject_inadmissible = 1)"),
    Output("redraws", "1", "parameter sets rejected by the original's admissibility test and redrawn before "
           "this one was accepted (reject_inadmissible = 1 in a sampled run; else 0)"),
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
