"""The trajectory model's shipped scenarios, paired comparisons and their plots, through the CLI."""

import tomllib

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax._cli import main, shipped_scenarios

TRAJECTORY_SCENARIOS = ("no_policy", "hard_cap_sudden_end", "moving_bright_line", "gradual_lift", "evaded_cap",
                        "efficiency_focus", "compute_driven_algorithms", "full_catch_up", "no_catch_up")
DRAWS = 1500


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def scenario_outputs():
    """Every trajectory scenario on the same draws (same seed; coordinates shared by compare)."""
    outputs = {}
    base = oj.load_priors(oj.TRAJECTORY, shipped_scenarios()["no_policy"])
    for name in TRAJECTORY_SCENARIOS:
        # (the no_policy run is compiled once and reused from the runner's cache)
        comparison = oj.compare("trajectory", base, oj.load_priors(oj.TRAJECTORY, shipped_scenarios()[name]),
                                draws=DRAWS, seed=11, chunk_size=512)
        outputs[name] = comparison
    return outputs


def test_every_scenario_is_shipped_with_a_question(scenario_outputs):
    for name in TRAJECTORY_SCENARIOS:
        text = shipped_scenarios()[name].read_text()
        assert text.startswith("#") and "?" in text.split("model =")[0], name  # the comment asks its question
        assert tomllib.loads(text)["model"] == "trajectory"


def b(comparison, name):
    return np.asarray(comparison["b/prior_predictive"][name].values, np.float64)


def test_scenarios_move_the_outputs_the_way_their_mechanism_must(scenario_outputs):
    none = scenario_outputs["no_policy"]
    # No cap: the policy world is the default world, draw for draw.
    assert np.array_equal(b(none, "tai_year_policy"), b(none, "tai_year_default"))
    assert np.all(b(none, "overhang_at_end") == 0)
    for name, comparison in scenario_outputs.items():
        # The default world never depends on the policy: identical in A and B (common random numbers).
        assert np.array_equal(oj.outputs(comparison)["tai_year_default"].values, np.zeros(DRAWS)), name
    full, nocatch = scenario_outputs["full_catch_up"], scenario_outputs["no_catch_up"]
    # Same cap, same draws: catching up fully never leaves TAI later than not catching up at all.
    assert np.all(b(full, "tai_year_policy") <= b(nocatch, "tai_year_policy") + 1e-3)
    # (nan-: a draw that never reaches TAI by 2100 has no delay; bounded progress leaves a few)
    assert np.nanmean(b(full, "tai_delay")) < np.nanmean(b(nocatch, "tai_delay"))
    # Faster algorithms while capped shrink the overhang at the end of the cap.
    focus, hard = scenario_outputs["efficiency_focus"], scenario_outputs["hard_cap_sudden_end"]
    # (the default priors' beta is 1 to 1.5; the scenario's 1.5 to 3, same caps otherwise)
    assert np.all(b(focus, "overhang_at_end") <= b(scenario_outputs["compute_driven_algorithms"], "overhang_at_end")
                  + 10) and np.median(b(focus, "overhang_at_end")) < np.median(b(hard, "overhang_at_end")) + 5
    # Evaders keep the frontier closer to the default world.
    assert np.nanmedian(b(scenario_outputs["evaded_cap"], "tai_delay")) < np.nanmedian(b(hard, "tai_delay"))
    # A rising cap lets compute grow while in force: some draws end the cap with less overhang than
    # the frozen cap of the gradual-lift scenario, though its caps last longer (5-20 years).
    rising = scenario_outputs["moving_bright_line"]
    assert np.any(b(rising, "overhang_at_end") < b(scenario_outputs["gradual_lift"], "overhang_at_end"))
    # A cap still in force in 2100 has no overhang at its end yet: NaN, exactly for those draws.
    t_end = (rising["b/prior"]["t_cap"].values + rising["b/prior"]["D"].values).astype(np.float64)
    assert np.array_equal(np.isnan(b(rising, "overhang_at_end")), t_end > 2099.9 + 1e-3)


def test_compare_cli_writes_a_paired_file_summary_and_plot(tmp_path, capsys):
    out = tmp_path / "cmp.nc"
    code, stdout, stderr = run_cli(capsys, "compare", "no_policy", "full_catch_up", "--draws", "2000", "--seed",
                                   "5", "--out", str(out), "--chunk-size", "700")
    assert code == 0, stderr
    assert "p_b_worse" in stdout and "overhang_at_end" in stdout
    comparison = oj.load(out)
    assert set(comparison.children) == {"a", "b", "prior_predictive"}  # the differences B - A
    a = comparison["a/prior_predictive"]
    bb = comparison["b/prior_predictive"]
    for name in oj.TRAJECTORY.output_names:
        diff = oj.outputs(comparison)[name].values.astype(np.float64)
        with np.errstate(invalid="ignore"):  # inf - inf where neither world reaches TAI by 2100
            expected = (bb[name].values.astype(np.float64) - a[name].values.astype(np.float64)).ravel()
        same = (a[name].values == bb[name].values).ravel()
        # computed in float64, stored in the run's dtype
        assert np.array_equal(np.where(same, 0.0, expected).astype(np.float32), diff, equal_nan=True), name
    # Parameters both scenarios leave uncertain take the same values in draw i.
    assert np.array_equal(comparison["a/prior"]["alg_doubling_months"].values,
                          comparison["b/prior"]["alg_doubling_months"].values)
    # P(B worse) as printed is the share of draws with a larger overhang.
    table = oj.compare_summary(comparison)
    diff = oj.outputs(comparison)["overhang_at_end"].values
    assert table.loc["overhang_at_end", "p_b_worse"] == pytest.approx(np.mean(diff[np.isfinite(diff)] > 0))
    assert (tmp_path / "cmp_differences.png").read_bytes()[:4] == b"\x89PNG"
    code, stdout, _ = run_cli(capsys, "summary", str(out))
    assert code == 0 and "p_b_worse" in stdout


def test_compare_refuses_scenarios_of_different_models(capsys):
    code, _, stderr = run_cli(capsys, "compare", "no_policy", "takeoff_baseline", "--draws", "10")
    assert code == 2 and "different models" in stderr and stderr.count("\n") == 1


def test_compare_is_paired_even_when_only_one_scenario_varies_a_parameter():
    # A fixes lam; B draws it. Every other parameter must still match draw for draw.
    a = oj.load_priors(oj.TRAJECTORY, text='model = "trajectory"\n[params]\nlam = 0.5\n')
    bpri = oj.load_priors(oj.TRAJECTORY)
    comparison = oj.compare("trajectory", a, bpri, draws=300, seed=2)
    for name in ("alg_doubling_months", "E_tai", "D"):
        assert np.array_equal(comparison["a/prior"][name].values, comparison["b/prior"][name].values), name
    assert np.ptp(comparison["b/prior"]["lam"].values) > 0


def test_trajectory_run_writes_its_plots(tmp_path, capsys):
    out = tmp_path / "traj.nc"
    code, stdout, stderr = run_cli(capsys, "run", "trajectory", "--draws", "1000", "--out", str(out))
    assert code == 0, stderr
    for suffix in ("fan_chart", "overhang_at_end", "tai_delay", "danger_band"):
        assert (tmp_path / f"traj_{suffix}.png").read_bytes()[:4] == b"\x89PNG", suffix
    results = oj.load(out)
    bands = oj.trajectory_bands(results)
    # Bands are ordered quantiles, and both worlds start from the 2023 calibration point.
    q = bands["E_default"].values
    assert np.all(q[:, 1:] >= q[:, :-1])  # +inf beyond the histogram's range sorts last too
    assert np.allclose(q[0], 25.3, atol=0.01) and np.allclose(bands["E_policy"].values[0], 25.3, atol=0.01)
    fig = oj.plots.plot_fan_chart(results, spaghetti=5)
    assert fig.axes[0].get_xlabel() == "year" and "log10 FLOP" in fig.axes[0].get_ylabel()
