"""The trajectory model's shipped scenarios, paired comparisons and their plots, through the CLI."""

import re
import tomllib

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.cli import main
from overhang_jax.priors._scenarios import shipped_scenarios

TRAJECTORY_SCENARIOS = ("no_policy", "hard_cap_sudden_end", "moving_bright_line", "gradual_lift", "evaded_cap",
                        "efficiency_focus", "compute_driven_algorithms", "full_catch_up", "no_catch_up")
DRAWS = 1500


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
    # Same cap, same draws: catching up fully never leaves TAI later than not catching up at all,
    # where the cap leaves an overhang. (Where the policy world ends the cap ahead of the default
    # world, an efficiency boost having outpaced it, the gap G is negative and alpha = 0 closes
    # the gap toward G: it keeps that lead, and can bring TAI a little earlier than alpha = 1.)
    behind = b(full, "overhang_at_end") >= 0
    assert np.all((b(full, "tai_year_policy") <= b(nocatch, "tai_year_policy") + 1e-3)[behind])
    assert behind.mean() > 0.9
    # (over the draws with a finite delay in both: a world that never reaches TAI by 2100 has none)
    both = np.isfinite(b(full, "tai_delay")) & np.isfinite(b(nocatch, "tai_delay"))
    assert np.mean(b(full, "tai_delay")[both]) < np.mean(b(nocatch, "tai_delay")[both])
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


def test_compare_cli_writes_a_paired_file_summary_and_plot(tmp_path, run_cli):
    out = tmp_path / "cmp.nc"
    code, stdout, stderr = run_cli("compare", "no_policy", "full_catch_up", "--draws", "2000", "--seed",
                                   "5", "--out", str(out), "--chunk-size", "700")
    assert code == 0, stderr
    assert "B worse" in stdout and "overhang_at_end" in stdout
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
    # P(B worse) as printed is the share of draws with an overhang bigger by more than its tolerance.
    table = oj.compare_summary(comparison)
    diff = oj.outputs(comparison)["overhang_at_end"].values
    finite = diff[np.isfinite(diff)]
    assert table.loc["overhang_at_end", "tolerance"] == 0.01
    assert table.loc["overhang_at_end", "p_b_worse"] == pytest.approx(np.mean(finite > 0.01))
    assert table.loc["overhang_at_end", "p_equal"] == pytest.approx(np.mean(np.abs(finite) <= 0.01))
    assert (tmp_path / "cmp_differences.png").read_bytes()[:4] == b"\x89PNG"
    code, again, _ = run_cli("summary", str(out))
    again, written = again.rstrip("\n").rsplit("\n", 1)  # summary adds the versions that wrote the file
    assert code == 0 and written.startswith("written by overhang_jax") and "jaxlib" in written
    assert stdout.startswith(again)  # the same, without the speed and the plot's path


@pytest.fixture(scope="module")
def cap_comparison(tmp_path_factory):
    """`compare no_policy hard_cap_sudden_end` from the command line: its printout and file."""
    out = tmp_path_factory.mktemp("cap") / "cap.nc"
    assert main(["compare", "no_policy", "hard_cap_sudden_end", "--draws", "3000", "--seed", "3", "--out",
                 str(out), "--no-plots"]) == 0
    return out


def test_compare_prints_names_directions_units_and_no_nan(cap_comparison, run_cli):
    code, stdout, _ = run_cli("summary", str(cap_comparison))
    assert code == 0
    assert stdout.startswith("trajectory: B = hard_cap_sudden_end against A = no_policy, 3,000 paired draws")
    assert "/" not in stdout.split("What it says")[0]  # scenarios by name, no file paths
    assert not re.search(r"\bnan\b", stdout, re.IGNORECASE)
    table = stdout.split("Paired differences")[1]
    header = table.splitlines()[1].split()
    assert header[:5] == ["units", "worse", "if", "same", "within"]
    rows = {line.split()[0]: line.split() for line in table.splitlines()[2:] if line and not line.startswith(" ")
            and line.split()[0] in oj.TRAJECTORY.output_names}
    assert rows["overhang_at_end"][1:4] == ["OOM", "higher", "0.01"]
    assert rows["tai_year_policy"][1:4] == ["yr", "lower", "0.05"]
    assert rows["cap_binds"][2] == "n/a"  # a flag: no better or worse
    # The default world: unchanged by construction, listed, not scored; tai_delay is tai_year_policy's row.
    for name in ("tai_year_default", "max_growth_default", "danger_band_years_default", "tai_in_rampup_default"):
        assert name not in rows
        assert f"  {name}: unchanged by construction" in stdout
    assert "tai_delay" not in rows and "  tai_delay: the same as tai_year_policy in every draw" in stdout


def test_difference_figure_draws_the_rows_the_table_shows(cap_comparison):
    import matplotlib.pyplot as plt

    comparison = oj.load(cap_comparison)
    table = oj.compare_summary(comparison)
    fig = oj.plots.plot_differences(comparison, names=None)
    drawn = [ax.get_xlabel().split(": ")[1].split(" (")[0].replace(" ", "_") for ax in fig.axes if ax.get_visible()]
    assert drawn and set(drawn) <= set(table.index[table["left_out"] == ""])
    assert "tai_delay" not in drawn  # tai_year_policy's duplicate is drawn once, as in the table
    # "Same" is within the output's tolerance, and the title says so.
    ax = fig.axes[drawn.index("overhang_at_end")]
    assert f"P(same, within 0.01 OOM) = {table.loc['overhang_at_end', 'p_equal']:.3f}" in ax.get_title()
    plt.close(fig)


def test_compare_headlines_are_the_draws_counted_two_ways(cap_comparison):
    comparison = oj.load(cap_comparison)
    a, b = (comparison[f"{label}/prior_predictive"] for label in "ab")

    def values(run, name):
        return np.asarray(run[name].values, np.float64).ravel()

    # Backfire: TAI earlier (by more than 0.05 yr), or less time in the danger band (by more than
    # 0.05 yr), over the draws where both are defined; faster growth after the cap is not one.
    with np.errstate(invalid="ignore"):
        tai = np.where(values(b, "tai_year_policy") == values(a, "tai_year_policy"), 0,
                       values(b, "tai_year_policy") - values(a, "tai_year_policy"))
        band = np.where(values(b, "danger_band_years_policy") == values(a, "danger_band_years_policy"), 0,
                        values(b, "danger_band_years_policy") - values(a, "danger_band_years_policy"))
        faster = values(b, "max_growth_after_end") - values(a, "max_growth_after_end") > 0.01
    # Over the draws where the cap starts before TAI (without it) in both A and B: the headlines' condition.
    starts = (values(a, "cap_starts_before_tai") == 1) & (values(b, "cap_starts_before_tai") == 1)
    compared = ~np.isnan(tai) & ~np.isnan(band) & starts
    earlier, shorter = (tai < -0.05) & compared, (band < -0.05) & compared
    findings = oj.comparison_findings(comparison)
    assert findings[0].startswith("Policy compared: B = hard_cap_sudden_end: a cap at the largest run already "
                                  "trained plus 0-1 OOM (a freeze in 50% of draws), starting 2026-2030, lasting "
                                  "2-15 years (90% of draws), repealed at once; against A = no_policy: no cap.")
    (backfire,) = [s for s in findings if s.startswith("Backfire")]
    either = np.sum(earlier | shorter) / np.sum(compared)
    assert 0.05 < either < 0.5
    assert (f"where the cap starts before TAI in the world without it in both A and B ({100 * np.mean(starts):.1f}% "
            f"of all draws), in {100 * either:.1f}% of the {np.sum(compared):,} draws compared, B does one or more "
            "of these") in backfire
    assert f"brings TAI earlier in {100 * np.sum(earlier) / np.sum(compared):.2g}%" in backfire
    assert f"shortens the time spent in the danger band in {100 * np.sum(shorter) / np.sum(compared):.1f}%" in backfire
    assert "Not counted as a backfire" in backfire and "faster" in backfire.split("Not counted")[1]
    (growth,) = [s for s in findings if "makes growth in the five years after the cap faster in" in s
                 and not s.startswith("Backfire")]
    assert (f"faster in {100 * np.sum(faster & starts) / np.sum(starts):.1f}% of the {np.sum(starts):,} draws "
            "compared") in growth
    # The number to quote: the median change over every draw, zeros included, as in the table, even
    # where the shares are of the draws where the cap starts before TAI.
    (delay,) = [s for s in findings if "delays TAI in" in s and not s.startswith("Backfire")]
    median = np.median(tai[~np.isnan(tai)])
    assert (f"The median change in tai_year_policy over all 3,000 draws (the table's median) is +{median:.2g} "
            "years") in delay
    assert oj.compare_summary(comparison).loc["tai_year_policy", "q50"] == pytest.approx(median)
    # The overhang line counts only the draws where the cap ends before TAI, in A and B.
    ends = (values(a, "cap_ends_before_tai") == 1) & (values(b, "cap_ends_before_tai") == 1)
    (overhang,) = [s for s in findings if s.startswith("Where the cap ends")]
    assert overhang.startswith(f"Where the cap ends before TAI in the world without it in both A and B "
                               f"({100 * np.mean(ends):.1f}% of all draws)")
    bigger = (values(b, "overhang_at_end") - values(a, "overhang_at_end") > 0.01)[ends]
    assert (f"bigger overhang when the cap ends in {100 * np.mean(bigger):.1f}% of the {np.sum(ends):,} draws "
            "compared") in overhang
    # The report prints the same sentences: one function.
    from overhang_jax.present._report import _comparison

    page = _comparison(comparison)
    assert all(sentence.replace("'", "&#x27;") in page for sentence in findings)


def test_takeoff_and_ftm_outputs_have_directions_and_tolerances():
    # Only flags, counts and what describes the cap itself have no better or worse.
    undirected = {"trajectory": {"cap_starts_before_tai", "cap_ends_before_tai", "cap_binds", "cap_withheld",
                                 "tai_in_rampup_default"},
                  "takeoff": {"rate_clipped"}, "ftm": {"inadmissible", "redraws"}}
    for model in (oj.TAKEOFF, oj.FTM, oj.TRAJECTORY):
        for output in model.outputs:
            assert (output.worse in ("higher", "lower")) == (output.name not in undirected[model.name]), output.name
            assert (output.tolerance > 0) == (output.units != "1" or output.name == "asymmetry_multiplier"), \
                output.name
        assert {h.output for h in model.headlines} <= set(model.output_names)
        assert any(h.backfire for h in model.headlines)
    faster = {o.name: o.worse for o in oj.TAKEOFF.outputs}
    assert faster["max_speed"] == "higher" and faster["takeoff_duration"] == "lower"
    ftm = {o.name: o.worse for o in oj.FTM.outputs}
    assert ftm["agi_year"] == "lower" and ftm["takeoff_goods_years"] == "lower"


def test_a_takeoff_comparison_scores_every_row_it_shows():
    comparison = oj.compare("takeoff", "takeoff_baseline", "takeoff_software_pause", draws=500)
    table = oj.compare_summary(comparison)
    shown = table[table["worse"] != ""]
    assert len(shown) >= 5 and not shown[["p_b_worse", "p_equal", "p_b_better"]].isna().any().any()
    assert np.allclose(shown["p_b_worse"] + shown["p_equal"] + shown["p_b_better"], 1)
    # The pause delays takeoff and makes it faster: the backfire the overhang worry is about.
    assert table.loc["takeoff_year", "p_b_better"] == 1 and table.loc["max_speed", "p_b_worse"] > 0.9
    (backfire,) = [s for s in oj.comparison_findings(comparison) if s.startswith("Backfire")]
    assert "never brings takeoff earlier" in backfire and "makes the takeoff faster" in backfire


def test_compare_refuses_scenarios_of_different_models(run_cli):
    code, _, stderr = run_cli("compare", "no_policy", "takeoff_baseline", "--draws", "10")
    assert code == 2 and "different models" in stderr and stderr.count("\n") == 1


def test_compare_is_paired_even_when_only_one_scenario_varies_a_parameter():
    # A fixes lam; B draws it. Every other parameter must still match draw for draw.
    a = oj.load_priors(oj.TRAJECTORY, text='model = "trajectory"\n[params]\nlam = 0.5\n')
    bpri = oj.load_priors(oj.TRAJECTORY)
    comparison = oj.compare("trajectory", a, bpri, draws=300, seed=2)
    for name in ("alg_doubling_months", "E_tai", "D"):
        assert np.array_equal(comparison["a/prior"][name].values, comparison["b/prior"][name].values), name
    assert np.ptp(comparison["b/prior"]["lam"].values) > 0


def test_trajectory_run_writes_its_plots(tmp_path, run_cli):
    out = tmp_path / "traj.nc"
    code, stdout, stderr = run_cli("run", "trajectory", "--draws", "1000", "--out", str(out))
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


def _differences(length):
    from hypothesis import strategies as st

    value = st.one_of(st.floats(-5, 5), st.sampled_from([0.0, 0.03, -0.03, np.inf, -np.inf, np.nan]))
    return st.lists(value, min_size=length, max_size=length).map(np.array)


def test_the_backfire_is_one_count_over_one_denominator():
    from hypothesis import given, settings, strategies as st

    from overhang_jax.studies._comparison import backfire_table, moves, policy_outcomes

    outcomes = policy_outcomes("trajectory")
    backfires = [o for o in outcomes if o.backfire]
    assert [o.output for o in backfires] == ["tai_year_policy", "danger_band_years_policy"]
    assert not any(o.backfire for o in outcomes if o.output in ("max_growth_after_end", "overhang_at_end"))

    @settings(max_examples=200, deadline=None)
    @given(st.integers(1, 30).flatmap(lambda n: st.tuples(_differences(n), _differences(n),
                                                           st.lists(st.booleans(), min_size=n, max_size=n))))
    def check(case):
        tai, band, chosen = case
        selected = np.array(chosen)
        table = backfire_table({"tai_year_policy": tai, "danger_band_years_policy": band}, outcomes, selected)
        # Counted again by hand: the selected draws where both differences are defined (not NaN).
        compared = selected & ~np.isnan(tai) & ~np.isnan(band)
        with np.errstate(invalid="ignore"):
            earlier, shorter = (tai < -0.05) & compared, (band < -0.05) & compared
        assert (table["draws"] == compared.sum()).all()  # one denominator for the total and its parts
        assert table.loc["tai_year_policy", "count"] == earlier.sum()
        assert table.loc["danger_band_years_policy", "count"] == shorter.sum()
        assert table.loc["backfire", "count"] == (earlier | shorter).sum()
        parts = table.loc[["tai_year_policy", "danger_band_years_policy"], "count"]
        assert parts.max() <= table.loc["backfire", "count"] <= parts.sum()
        # moves() splits every defined draw into exactly one of worse, better, same.
        move = moves(tai, "lower", 0.05)
        assert np.array_equal(move.worse.astype(int) + move.better + move.same, move.defined.astype(int))

    check()
