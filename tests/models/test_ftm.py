"""The compute-centric takeoff model (ftm) against the original: epoch-research/ftm at 99dc907.

The fixtures (tests/fixtures/ftm, made by make_fixtures.py there from the output
of an oracle that runs the original's own code) hold 61 parameter sets (the
original's presets, one-at-a-time extremes and 48 random draws from its
marginals) with the original's 12 metrics and whether its Monte Carlo accepts
each set, and the 780-step state of three sets. Checked here:

* every metric of every set equals the original's exactly (the years and
  durations lie on its 0.1-year grid, so there is no tolerance), and the
  admissibility flag equals the original's test;
* the 24 state variables of three sets agree at every step to 1e-9 relative;
* the cap hook: bit for bit the plain port when no cap binds; under a binding
  cap, each catch-up semantics does what docs/ftm.md says (checked on the
  step-by-step state, against the rule, not against stored numbers);
* the port's own numerics: its log10 is the C library's bit for bit, its
  vectorised log is within 4 ulp of it, the task requirements are the
  original's bit for bit, the hardware delay is rounded half to even;
* the runner: float64 whatever is asked, the same bits whatever the chunk
  size, the same draws as a direct evaluation, histograms that leave out
  inadmissible draws.

Compilation dominates: every evaluation goes through one batch per function
(module-scoped fixtures), so each compiles once.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.models import ftm
from overhang_jax.models.ftm import _calibration, _constants

FIXTURES = Path(__file__).parent / "fixtures" / "ftm"
ORACLE = json.loads(gzip.open(FIXTURES / "sets.json.gz", "rt").read())
SETS = ORACLE["sets"]
ORIGINAL_NAMES = list(SETS[0]["params"])
METRICS = list(SETS[0]["metrics"])
TRAJECTORY_SETS = ("best_guess", "aggressive", "timelines_long")
BEST = next(s["params"] for s in SETS if s["id"] == "best_guess")
DEFAULTS = {p.name: p.default for p in ftm.FTM.parameters}

# Caps on the best guess, each a row of one batch. The largest run passes 1e28 FLOP in 2028.
NEVER_BINDING = {  # a cap in force but far above anything reached: must change nothing
    "high_clamp": dict(cap_start_year=2030.0, cap_years=10.0, cap_log10_flop=80.0, catch_up=0.0),
    "high_idle": dict(cap_start_year=2030.0, cap_years=10.0, cap_log10_flop=80.0, catch_up=1.0),
    "high_gradual": dict(cap_start_year=2030.0, cap_years=10.0, cap_log10_flop=70.0, cap_gradual_lift=1.0,
                         cap_lift_growth=0.5, cap_growth=0.1),
    "high_hardware": dict(cap_start_year=2030.0, cap_years=10.0, cap_log10_flop=80.0, hardware_cap_log10=60.0),
}
BINDING = {
    "clamp": dict(cap_start_year=2029.0, cap_years=5.0, cap_log10_flop=28.0, catch_up=0.0),
    "idle": dict(cap_start_year=2029.0, cap_years=5.0, cap_log10_flop=28.0, catch_up=1.0),
    "gradual": dict(cap_start_year=2029.0, cap_years=5.0, cap_log10_flop=28.0, cap_growth=0.2,
                    cap_gradual_lift=1.0, cap_lift_growth=0.5),
    "hardware": dict(cap_start_year=2029.0, cap_years=5.0, cap_log10_flop=100.0, hardware_cap_log10=30.0),
}
# Caps below what is already trained, asked for explicitly: they freeze, never reverse.
BELOW_TRAINED = {
    "below_late": dict(cap_start_year=2045.0, cap_years=5.0, cap_log10_flop=26.0, cap_below_trained=1.0),
    "below_early": dict(cap_start_year=2033.0, cap_years=5.0, cap_log10_flop=26.0, cap_below_trained=1.0),
    "physical": dict(cap_start_year=2029.0, cap_years=5.0, cap_log10_flop=26.0, cap_physical=1.0,
                     cap_below_trained=1.0),
}
CAPS = {"none": {}, **NEVER_BINDING, **BINDING, **BELOW_TRAINED}


def rows(table: list[dict]) -> dict[str, list[float]]:
    """Parameter sets (dicts) as columns, every parameter of the model given."""
    return {name: [float(row.get(name, DEFAULTS[name])) for row in table] for name in DEFAULTS}


def evaluated_sets(table: list[dict]) -> dict[str, np.ndarray]:
    """Outputs and yearly series of each set (at most the 100 draws whose series are kept in full)."""
    assert len(table) <= 100
    results = oj.evaluate("ftm", rows(table))
    out = {name: values.values for name, values in oj.outputs(results).data_vars.items()}
    out.update({name: results["trajectories"][name].values for name in ftm.TRAJECTORIES.names})
    return out


@pytest.fixture(scope="module")
def evaluated():
    """The oracle's sets, the same with reject_inadmissible = 1, and the caps (one compilation)."""
    caps = evaluated_sets([{**BEST, **cap} for cap in CAPS.values()])
    return (evaluated_sets([s["params"] for s in SETS]),
            evaluated_sets([{**s["params"], "reject_inadmissible": 1.0} for s in SETS]),
            {name: {k: v[i] for k, v in caps.items()} for i, name in enumerate(CAPS)})


TRACE_BLOCK = 16
"""Sets traced together: every call pads its table to this many rows, so each set is computed by the
same vector code whatever the table's length. XLA's code for a batch of 3 (too few for a vector of
AVX-512) rounds otherwise than its code for a batch of 12, in the last bits."""


def traced(table: list[dict], policy: bool = True) -> dict[str, np.ndarray]:
    assert len(table) <= TRACE_BLOCK
    padded = table + [table[-1]] * (TRACE_BLOCK - len(table))
    with jax.enable_x64(True):
        params = {k: jnp.asarray(v, jnp.float64) for k, v in rows(padded).items()}
        out = jax.jit(jax.vmap(lambda p: ftm.trace(p, policy)))(params)
        return {k: np.asarray(v)[:len(table)] for k, v in out.items()}


@pytest.fixture(scope="module")
def traces():
    """Step-by-step state of the three oracle trajectory sets and of the best guess under each cap."""
    oracle = [next(s["params"] for s in SETS if s["id"] == name) for name in TRAJECTORY_SETS]
    out = traced(oracle + [{**BEST, **cap} for cap in CAPS.values()])
    split = {name: {k: v[i] for k, v in out.items()} for i, name in enumerate(TRAJECTORY_SETS)}
    split.update({f"cap:{name}": {k: v[len(oracle) + i] for k, v in out.items()} for i, name in enumerate(CAPS)})
    return split


# --------------------------------------------------------------------------
# Against the original


def test_fixtures_cover_what_the_issue_asks():
    ids = [s["id"] for s in SETS]
    assert len(ids) == len(set(ids)) == 61 and ids[0] == "best_guess"
    assert len(ORIGINAL_NAMES) == 67 and set(ORIGINAL_NAMES) == set(ftm.ORIGINAL_PARAMETERS)
    assert ORACLE["peer_commit"].startswith("99dc907")


@pytest.mark.parametrize("metric", METRICS)
def test_every_metric_equals_the_original(evaluated, metric):
    ours = evaluated[0][metric]
    for value, oracle_set in zip(ours, SETS):
        expected = oracle_set["metrics"][metric]
        if expected is None:  # not reached by 2100 in the original: +inf here
            assert value == np.inf, (oracle_set["id"], value)
        else:
            assert value == expected, (oracle_set["id"], value, expected)


def test_admissibility_is_the_originals(evaluated):
    flags = evaluated[0]["inadmissible"]
    assert [bool(f) for f in flags] == [not s["admissible"] for s in SETS]
    assert flags.sum() >= 1  # the fixtures hold a set the original's Monte Carlo would redraw


def test_reject_inadmissible_blanks_only_those_sets(evaluated):
    kept, rejected, _ = evaluated
    bad = kept["inadmissible"] == 1
    for name in METRICS + ["peak_gwp_growth", *ftm.TRAJECTORIES.names]:
        assert np.all(np.isnan(rejected[name][bad])), name
        np.testing.assert_array_equal(rejected[name][~bad], kept[name][~bad])
    np.testing.assert_array_equal(rejected["inadmissible"], kept["inadmissible"])


@pytest.mark.parametrize("set_id", TRAJECTORY_SETS)
def test_state_agrees_with_the_original_at_every_step(traces, set_id):
    ours = traces[set_id]
    reference = np.load(FIXTURES / "trajectories.npz")
    assert ours["timesteps"].shape == (ftm.STEPS,)
    np.testing.assert_array_equal(ours["timesteps"], reference[f"{set_id}/timesteps"])
    for name in ftm.TRACE_VARIABLES:
        expected = reference[f"{set_id}/{name}"]
        np.testing.assert_allclose(np.asarray(ours[name], np.float64), expected, rtol=1e-9, atol=0,
                                   err_msg=f"{set_id}: {name}")


# --------------------------------------------------------------------------
# The cap hook


def test_plain_port_and_hook_without_cap_are_bit_identical(traces):
    plain = traced([next(s["params"] for s in SETS if s["id"] == name) for name in TRAJECTORY_SETS], policy=False)
    for i, set_id in enumerate(TRAJECTORY_SETS):
        for name, values in plain.items():
            np.testing.assert_array_equal(values[i], traces[set_id][name], err_msg=f"{set_id}: {name}")


@pytest.mark.parametrize("cap", NEVER_BINDING)
def test_a_cap_that_never_binds_changes_no_bit(evaluated, traces, cap):
    for name, values in evaluated[2]["none"].items():
        np.testing.assert_array_equal(evaluated[2][cap][name], values, err_msg=name)
    for name, values in traces["cap:none"].items():
        np.testing.assert_array_equal(traces[f"cap:{cap}"][name], values, err_msg=name)


def window(trace, cap):
    years = trace["timesteps"]
    return (years >= cap["cap_start_year"]) & (years < cap["cap_start_year"] + cap["cap_years"])


def effective_limit(trace, cap):
    """The cap's level in FLOP, raised to the largest run trained before it starts (cap_below_trained = 0)."""
    before = trace["timesteps"] < cap["cap_start_year"]
    return max(10.0 ** cap["cap_log10_flop"], trace["biggest_training_run"][before].max())


def test_clamped_share_keeps_the_run_under_the_cap_then_regrows_at_its_own_rate(traces):
    cap = BINDING["clamp"]
    trace, free = traces["cap:clamp"], traces["cap:none"]
    inside = window(trace, cap)
    # The best guess passes 1e28 FLOP in 2028: the cap of 2029 is raised to the run already trained.
    limit = effective_limit(trace, cap)
    assert limit > 10.0 ** cap["cap_log10_flop"]
    run = trace["biggest_training_run"]
    assert np.all(run[inside] <= limit * (1 + 1e-12))
    assert np.any(np.isclose(run[inside], limit, rtol=1e-12)) and np.any(free["biggest_training_run"][inside] > limit)
    # The clamped share never falls below the share when the cap started (the second version let it
    # fall as cap / compute, to 3e-16 in long caps, so training took years to regrow after the cap).
    share = trace["frac_compute_training"]
    first = np.flatnonzero(inside)[0]
    assert np.all(share[inside] >= share[first - 1])
    # Compute the cap frees goes to goods: the goods share is 1 - the other shares.
    # After the cap the training share follows the original's rule from where it was clamped.
    share, rampup, money = trace["frac_compute_training"], trace["rampup"], trace["money_spent_training"]
    after = np.flatnonzero(trace["timesteps"] >= cap["cap_start_year"] + cap["cap_years"])
    growth = {False: BEST["frac_compute_training_growth"], True: BEST["frac_compute_training_growth_rampup"]}
    for n in after:
        held = money[n - 1] > BEST["money_cap_training_before_wakeup"] and not rampup[n - 1]
        expected = share[n - 1] if held else min(share[n - 1] * math.exp(0.1 * growth[bool(rampup[n])]),
                                                 BEST["frac_compute_training_ceiling"])
        assert share[n] == pytest.approx(expected, rel=1e-15), n
    # When the cap ends the run is compute x that share: the compute the floor kept for training
    # above the cap (idle under it) is released at once, less than catch_up = 1's uncapped share.
    first = after[0]
    assert run[first] == pytest.approx(trace["compute"][first] * share[first], rel=1e-14)
    assert run[first] < traces["cap:idle"]["biggest_training_run"][first]


def test_idle_compute_and_the_jump_back(traces):
    cap = BINDING["idle"]
    trace = traces["cap:idle"]
    inside = window(trace, cap)
    uncapped = trace["compute"] * trace["frac_compute_training"]
    limit = effective_limit(trace, cap)
    np.testing.assert_allclose(trace["biggest_training_run"][inside], np.minimum(uncapped[inside], limit),
                               rtol=1e-14)
    outside = ~inside
    np.testing.assert_array_equal(trace["biggest_training_run"][outside], uncapped[outside])
    # The share is not clamped, so at the end the run jumps back to compute x share.
    first = np.flatnonzero(trace["timesteps"] >= cap["cap_start_year"] + cap["cap_years"])[0]
    assert trace["biggest_training_run"][first] / trace["biggest_training_run"][first - 1] > 10


def test_gradual_lift_follows_the_rising_cap(traces):
    cap = BINDING["gradual"]
    trace = traces["cap:gradual"]
    years = trace["timesteps"]
    end = cap["cap_start_year"] + cap["cap_years"]
    level = np.where(years < end, cap["cap_log10_flop"] + cap["cap_growth"] * (years - cap["cap_start_year"]),
                     cap["cap_log10_flop"] + cap["cap_growth"] * cap["cap_years"]
                     + cap["cap_lift_growth"] * (years - end))
    active = years >= cap["cap_start_year"]
    level = np.maximum(level, np.log10(effective_limit(trace, cap)))  # never below the run trained
    run = np.log10(trace["biggest_training_run"])
    assert np.all(run[active] <= level[active] + 1e-12)
    binding = np.isclose(run, level, atol=1e-10) & active
    assert binding[years >= end].any() and binding[years < end].any()


def test_hardware_cap_holds_the_stock(traces):
    cap = BINDING["hardware"]
    trace, free = traces["cap:hardware"], traces["cap:none"]
    inside = window(trace, cap)
    limit = 10.0 ** cap["hardware_cap_log10"]
    assert np.all(trace["hardware"][inside] <= limit * (1 + 1e-12))
    assert np.any(free["hardware"][inside] > limit)
    before = trace["timesteps"] < cap["cap_start_year"]
    np.testing.assert_array_equal(trace["hardware"][before], free["hardware"][before])


@pytest.mark.parametrize("cap", BINDING)
def test_a_binding_cap_delays_automation(evaluated, cap):
    free, capped = evaluated[2]["none"], evaluated[2][cap]
    assert capped["automation_goods_20_year"] > free["automation_goods_20_year"]
    assert capped["agi_year"] >= free["agi_year"]


@pytest.mark.parametrize("cap", ["clamp", "idle", "gradual", *BELOW_TRAINED])
def test_a_cap_never_takes_back_automation_or_output(traces, cap):
    # What AI can do follows the largest run ever trained: tasks once automatable stay so, and world
    # output never collapses when the cap starts (the second version took automation back with a cap
    # below the current run: goods tasks automated fell from 100% to 16%, output by 83% in one step).
    trace, free = traces[f"cap:{cap}"], traces["cap:none"]
    for name in ("automatable_tasks_goods", "automatable_tasks_rnd"):
        assert np.all(np.diff(trace[name]) >= 0), name
    assert np.all(trace["gwp"][1:] / trace["gwp"][:-1] > 0.97)
    started = trace["timesteps"] >= CAPS[cap]["cap_start_year"]
    assert np.all(np.diff(trace["rampup"][started].astype(int)) >= 0)  # once awake under the cap, it stays
    # Before the cap nothing differs.
    before = ~started
    np.testing.assert_array_equal(trace["gwp"][before], free["gwp"][before])


def test_a_cap_below_the_trained_run_freezes_and_never_delays_an_agi_already_reached(evaluated, traces):
    free = evaluated[2]["none"]
    for cap in ("below_late", "below_early"):
        capped, trace = evaluated[2][cap], traces[f"cap:{cap}"]
        inside = window(trace, CAPS[cap])
        assert np.all(trace["biggest_training_run"][inside] <= 1e26 * (1 + 1e-12))  # no new run above it
        if free["agi_year"] < CAPS[cap]["cap_start_year"]:
            assert capped["agi_year"] == free["agi_year"], cap
    assert free["agi_year"] < BELOW_TRAINED["below_late"]["cap_start_year"]  # the case is tested
    # Over the oracle's sets: a cap below the frontier after each set's AGI moves no AGI year.
    reached = [s["params"] for s, year in zip(SETS, evaluated[0]["agi_year"]) if year < 2090]
    starts = [float(year) + 1.0 for year in evaluated[0]["agi_year"] if year < 2090]
    capped = evaluated_sets([{**params, **BELOW_TRAINED["below_late"], "cap_start_year": start}
                             for params, start in zip(reached, starts)])
    agi = np.array([year for year in evaluated[0]["agi_year"] if year < 2090])
    assert len(agi) > 20
    np.testing.assert_array_equal(capped["agi_year"], agi)


def test_a_cap_on_physical_flop_bounds_the_runs_hardware_flop(traces):
    cap = BELOW_TRAINED["physical"]
    trace = traces["cap:physical"]
    inside = window(trace, cap)
    physical = trace["biggest_training_run"] / trace["software"]
    limit = 10.0 ** cap["cap_log10_flop"]
    assert np.all(physical[inside] <= limit * (1 + 1e-12))
    assert np.any(np.isclose(physical[inside], limit, rtol=1e-12))
    # The same level on effective FLOP would bind harder (software multiplies the physical run).
    assert np.any(trace["biggest_training_run"][inside] > limit)


def test_cap_parameters_are_checked():
    with pytest.raises(oj.RunError, match="catch_up.*one of 0, 1"):
        oj.evaluate("ftm", {"catch_up": [0.5]})
    with pytest.raises(oj.RunError, match="did you mean 'flop_gap_training'"):
        oj.evaluate("ftm", {"flop_gap_trainng": [10.0]})


# --------------------------------------------------------------------------
# The port's numerics


def reference_requirements(top: float, gap: float, steepness: float) -> np.ndarray:
    """The original's quantiles_from_gap, process_quantiles and add_steepness (docs/ftm.md), with the
    C library's log10 and pow through Python's math module."""
    unit = math.pow(gap, 1 / 7)
    quantiles = {1.0: top, 0.5: top / unit ** 4, 0.2: top / unit ** 7, 0.1: top / unit ** 8.5,
                 0.05: top / unit ** 9.5, 0.0: top / unit ** 10.5}
    keys = sorted(quantiles)
    logs = [math.log10(v) for v in sorted(quantiles.values())]
    values = [10.0 ** v for v in np.interp(np.linspace(0, 1, 100), keys, logs)]
    if steepness:
        low = math.log10(top / gap)
        values = [min(10.0 ** (low + math.ceil((math.log10(v) - low) / steepness) * steepness), top)
                  for v in values]
    return np.array([1.0] + values)


def test_requirements_are_the_originals_bit_for_bit():
    rng = np.random.default_rng(3)
    tops = np.concatenate([10.0 ** rng.integers(28, 42, 40), 10 ** rng.uniform(25, 45, 40)])
    gaps = np.concatenate([10.0 ** rng.integers(0, 9, 40), 10 ** rng.uniform(0, 8, 40)])
    steepness = np.tile([0.0, 1.0, 0.5, 0.3], 20)
    with jax.enable_x64(True):
        ours = np.asarray(jax.jit(jax.vmap(_constants.task_requirements))(tops, gaps, steepness))
    for i in range(len(tops)):
        np.testing.assert_array_equal(ours[i], reference_requirements(tops[i], gaps[i], steepness[i]))


def test_log10_is_the_c_librarys_and_ln_within_four_ulp():
    rng = np.random.default_rng(4)
    x = np.concatenate([10 ** rng.uniform(-307, 308, 20000), rng.uniform(0.5, 2.0, 20000),
                        2.0 ** np.arange(-1022, 1024), [np.finfo(np.float64).tiny, np.finfo(np.float64).max]])
    with jax.enable_x64(True):
        log10 = np.asarray(jax.jit(_constants.c_log10)(x))
        ln = np.asarray(jax.jit(_constants.ln)(x))
        # XLA on CPU flushes subnormal numbers to zero.
        special = np.asarray(jax.jit(_constants.ln)(np.array([0.0, 1e-310, np.inf, np.nan, -1.0])))
    assert np.array_equal(log10, np.array([math.log10(v) for v in x]))
    exact = np.array([math.log(v) for v in x])
    assert np.all(np.abs(ln - exact) <= 4 * np.spacing(np.abs(exact)))
    assert list(special[:3]) == [-np.inf, -np.inf, np.inf] and np.isnan(special[3:]).all()


def test_hardware_delay_rounds_half_to_even_like_python():
    delays = np.round(np.arange(0, 10.0001, 0.05), 10)
    with jax.enable_x64(True):
        table = rows([{**BEST, "hardware_delay": float(d)} for d in delays])
        params = {k: jnp.asarray(v, jnp.float64) for k, v in table.items()}
        steps = np.asarray(jax.jit(jax.vmap(lambda p: _calibration.calibrate(p)[0].delay_steps))(params))
    assert list(steps) == [round(float(d) / 0.1) for d in delays]
    assert round(0.25 / 0.1) == 2 and round(0.05 / 0.1) == 0  # the cases where half-even matters


# --------------------------------------------------------------------------
# In the runner


@pytest.fixture(scope="module")
def small_run():
    return oj.run("ftm", draws=16, seed=5, chunk_size=16)


def test_runner_computes_in_float64_and_evaluating_its_parameters_gives_its_outputs(small_run):
    assert small_run.attrs["dtype"] == "float64"
    again = oj.evaluate("ftm", oj.parameters(small_run).to_dataframe(), chunk_size=8)
    for name in ftm.FTM.output_names:
        if name == "redraws":  # given sets are never redrawn
            assert np.all(oj.outputs(again)[name].values == 0)
            continue
        np.testing.assert_array_equal(oj.outputs(again)[name].values, oj.outputs(small_run)[name].values,
                                      err_msg=name)
    np.testing.assert_array_equal(again["trajectories"]["largest_training_run"].values,
                                  small_run["trajectories"]["largest_training_run"].values)


def test_same_bits_whatever_the_chunk_size(small_run):
    again = oj.run("ftm", draws=16, seed=5, chunk_size=8)
    for group in ("prior", "prior_predictive", "trajectories"):
        for name, values in small_run[group].to_dataset().data_vars.items():
            np.testing.assert_array_equal(again[group][name].values, values.values, err_msg=name)


def test_sums_over_tasks_do_not_depend_on_the_batch():
    # XLA orders jnp.sum by the batch's shape (batches of 64 and more differ in the last bits on
    # CPU), which made peak_gwp_growth depend on the chunk size; the model's sums have a fixed order.
    with jax.enable_x64(True):
        x = jnp.asarray(np.random.default_rng(0).uniform(0, 1, (128, 101)) ** 7)
        summed = jax.jit(jax.vmap(_constants.fixed_order_sum))
        alone = np.concatenate([np.asarray(summed(x[i:i + 1])) for i in range(len(x))])
        assert np.array_equal(np.asarray(summed(x)), alone)
        assert np.allclose(alone, [math.fsum(row) for row in np.asarray(x)], rtol=1e-15, atol=0)


def test_histograms_leave_out_inadmissible_draws(small_run):
    counts = small_run["trajectories"]["largest_training_run_counts"].values
    admissible = int(np.sum(oj.outputs(small_run)["inadmissible"].values == 0))
    assert np.all(counts.sum(axis=1) == admissible)
    assert small_run["trajectories"]["gwp_growth_counts"].attrs["units"] == "%/yr"


def test_cli_compares_the_shipped_cap_scenarios(small_run, tmp_path, capsys):
    from overhang_jax.cli import main

    out = tmp_path / "cap.nc"
    code = main(["compare", "ftm_no_policy", "ftm_training_cap", "--draws", "16", "--chunk-size", "16", "--seed", "5",
                 "--out", str(out), "--no-plots"])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.startswith("ftm: B = ftm_training_cap against A = ftm_no_policy")
    assert "takeoff_goods_years" in printed and "B worse" in printed and "Backfire (the policy makes the world worse on a headline outcome: B " in printed
    comparison = oj.load(out)
    # Admissibility does not depend on the policy: both worlds redraw the same draws to the same sets.
    for name, values in comparison["a"]["prior"].to_dataset().data_vars.items():
        np.testing.assert_array_equal(comparison["b"]["prior"][name].values, values.values, err_msg=name)
    np.testing.assert_array_equal(comparison["a"]["prior_predictive"]["redraws"].values,
                                  comparison["b"]["prior_predictive"]["redraws"].values)
    assert "Both scenarios: " in printed and " were redrawn because the original's admissibility test" in printed
    # A is the shipped priors with no cap: the same draws as a plain run with the same seed.
    for name in ftm.FTM.output_names:
        np.testing.assert_array_equal(comparison["a"]["prior_predictive"][name].values,
                                      small_run["prior_predictive"][name].values, err_msg=name)
    delay = oj.outputs(comparison)["agi_year"].values
    assert np.all(delay[np.isfinite(delay)] >= 0) and np.any(delay > 0)


# --------------------------------------------------------------------------
# The original's Monte Carlo: inadmissible sets redrawn, the requirement kept


REDRAW_DRAWS, REDRAW_SEED = 192, 11


@pytest.fixture(scope="module")
def redrawn_run():
    return oj.run("ftm", draws=REDRAW_DRAWS, seed=REDRAW_SEED)


@pytest.fixture(scope="module")
def test_of_one_set():
    """The original's admissibility test of one set, compiled alone."""
    with jax.enable_x64(True):
        return jax.jit(lambda p: _calibration.calibrate(p)[4])


def hashed_sets(draws, attempt):
    """The parameter sets of attempt ``attempt`` of draws 0 .. draws - 1, from the hashes alone."""
    from overhang_jax.priors._priors import load_priors
    from overhang_jax.priors._sampling import Sampler, hashed_unit_points

    priors = load_priors("ftm")
    columns = tuple(ftm.FTM.parameter_names.index(n) for n in priors.random_names)
    key = Sampler("mc", REDRAW_SEED, columns, draws, len(ftm.FTM.parameters)).key()
    with jax.enable_x64(True):
        u = hashed_unit_points(key, jnp.arange(draws, dtype=jnp.int32), columns, jnp.float64,
                               jnp.full(draws, attempt, jnp.int32))
        return priors, {name: np.asarray(v) for name, v in priors.transform(u).items()}


def test_default_priors_leave_no_draw_out(redrawn_run):
    # Before the redraw, about 18% of these draws had NaN outputs (inadmissible = 1).
    outputs = oj.outputs(redrawn_run)
    assert np.all(outputs["inadmissible"].values == 0)
    assert not np.any(np.isnan(outputs["agi_year"].values))
    redrawn = np.sum(outputs["redraws"].values > 0)
    assert 0.08 * REDRAW_DRAWS < redrawn < 0.3 * REDRAW_DRAWS
    assert redrawn_run.attrs["redrawn"] == 1
    counts = redrawn_run["trajectories"]["largest_training_run_counts"].values
    assert np.all(counts.sum(axis=1) == REDRAW_DRAWS)  # every draw is in the yearly bands


def test_every_accepted_set_passes_the_originals_test_and_keeps_its_requirement(redrawn_run, test_of_one_set):
    stored = {name: np.asarray(v.values).ravel() for name, v in oj.parameters(redrawn_run).data_vars.items()}
    fixed = {name: float(v.values) for name, v in redrawn_run["constant_data"].data_vars.items()}
    with jax.enable_x64(True):
        batch = {name: jnp.asarray(stored.get(name, np.full(REDRAW_DRAWS, fixed.get(name, DEFAULTS[name]))),
                                   jnp.float64) for name in DEFAULTS}
        assert np.all(np.asarray(jax.vmap(test_of_one_set)(batch)))
    # With every other parameter at its smallest value, each first requirement passes here: it is kept.
    priors, first = hashed_sets(REDRAW_DRAWS, 0)
    requirement = "full_automation_requirements_training"
    # (the sets made here agree with the run's to rounding: the quantile functions compile otherwise alone)
    np.testing.assert_allclose(stored[requirement], first[requirement], rtol=1e-13, atol=0)
    redrawn = oj.outputs(redrawn_run)["redraws"].values.ravel() > 0
    other = "flop_gap_training"
    assert np.all(np.abs(stored[other][redrawn] / first[other][redrawn] - 1) > 1e-6)
    np.testing.assert_allclose(stored[other][~redrawn], first[other][~redrawn], rtol=1e-13, atol=0)


def test_a_plain_loop_over_the_same_hashes_gives_the_same_sets(redrawn_run, test_of_one_set):
    from overhang_jax.priors._priors import load_priors

    counts = oj.outputs(redrawn_run)["redraws"].values.ravel().astype(int)
    picked = [int(i) for i in np.nonzero(counts > 0)[0][:4]] + [int(np.nonzero(counts == 0)[0][0])]
    stored = {name: np.asarray(v.values).ravel() for name, v in oj.parameters(redrawn_run).data_vars.items()}
    priors = load_priors("ftm")
    requirement = "full_automation_requirements_training"
    attempts = {r: hashed_sets(REDRAW_DRAWS, r)[1] for r in range(max(counts[picked]) + 1)}
    with jax.enable_x64(True):
        smallest = {n: float(v[0]) for n, v in priors.transform(jnp.zeros((1, priors.dimension))).items()}

        def passes(values):
            return bool(test_of_one_set({n: jnp.asarray(v, jnp.float64) for n, v in values.items()}))

        for i in picked:
            kept = None
            for r in range(ftm.FTM.redraw.max_attempts):
                values = {n: v[i] for n, v in attempts[r].items()} if r in attempts else None
                assert values is not None, f"draw {i} needs attempt {r}, more than its stored count"
                if kept is None and passes({**smallest, requirement: values[requirement]}):
                    kept = values[requirement]
                if kept is not None and passes({**values, requirement: kept}):
                    break
            assert r == counts[i], i
            for name in stored:
                expected = kept if name == requirement else values[name]
                assert stored[name][i] == pytest.approx(expected, rel=1e-13, abs=0), (i, name)


def test_the_run_summary_says_how_many_draws_were_redrawn(redrawn_run, tmp_path, capsys):
    from overhang_jax.cli import main

    counts = oj.outputs(redrawn_run)["redraws"].values.ravel().astype(int)
    redrawn, total = int(np.sum(counts > 0)), int(np.sum(counts))
    code = main(["run", "ftm", "--draws", str(REDRAW_DRAWS), "--seed", str(REDRAW_SEED), "--out",
                 str(tmp_path / "r.nc"), "--no-plots"])
    printed = capsys.readouterr().out
    assert code == 0
    assert (f"{redrawn} of {REDRAW_DRAWS} draws ({100 * redrawn / REDRAW_DRAWS:.1f}%) were redrawn because the "
            f"original's admissibility test rejected their first parameter set; {total} redraws in all "
            f"({total / REDRAW_DRAWS:.3g} per draw, at most {counts.max()} for one draw); none left inadmissible."
            ) in printed
    assert "0 in every draw: inadmissible" in printed  # kept out of the table


def test_the_old_drop_is_reject_inadmissible_2(redrawn_run, tmp_path):
    path = tmp_path / "drop.toml"
    path.write_text('model = "ftm"\n[params]\nreject_inadmissible = 2\n')
    dropped = oj.run("ftm", path, draws=64, seed=REDRAW_SEED)
    bad = oj.outputs(dropped)["inadmissible"].values.ravel() == 1
    redrawn = oj.outputs(redrawn_run)["redraws"].values.ravel()[:64] > 0
    np.testing.assert_array_equal(bad, redrawn)
    assert np.all(np.isnan(oj.outputs(dropped)["agi_year"].values.ravel()[bad]))
    assert np.all(oj.outputs(dropped)["redraws"].values == 0) and dropped.attrs["redrawn"] == 0
