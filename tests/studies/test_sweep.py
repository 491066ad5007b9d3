"""Sweeps: one parameter at several values, on the same draws, and what they say."""

import html
from importlib.resources import files

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

import overhang_jax as oj
from overhang_jax.engine import _run as _runner

HARD_CAP = files("overhang_jax") / "models" / "scenarios" / "hard_cap_sudden_end.toml"
DRAWS = 400
VALUES = [2.0, 6.0, 12.0]


@pytest.fixture(scope="module")
def swept():
    """The default cap ended at once, held 2, 6 and 12 years, on the same draws."""
    with np.errstate(invalid="ignore"):
        return oj.sweep("trajectory", HARD_CAP, param="D", values=[12, 2, 6], draws=DRAWS, seed=3)


def fixed_run(value, draws=DRAWS, seed=3, **options):
    text = HARD_CAP.read_text() + f"D = {value!r}\n"  # the [params] table is the file's last
    return oj.run("trajectory", oj.load_priors(oj.TRAJECTORY, text=text), draws=draws, seed=seed, **options)


def assert_same_run(left, right):
    for group in ("prior", "prior_predictive", "constant_data", "nonfinite_draws"):
        a, b = left[group].to_dataset(), right[group].to_dataset()
        assert sorted(a.data_vars) == sorted(b.data_vars), group
        for name in a.data_vars:
            assert a[name].dtype == b[name].dtype, (group, name)
            assert np.array_equal(a[name].values, b[name].values, equal_nan=True), (group, name)
    for name, values in left["trajectories"].to_dataset().data_vars.items():
        assert np.array_equal(values.values, right["trajectories"][name].values), name


def test_value_k_is_a_separate_run_with_the_parameter_fixed_bit_for_bit(swept):
    assert list(oj.outputs(swept)["tai_delay"].dims) == ["draw", "value"]
    assert swept["prior_predictive"]["value"].values.tolist() == VALUES  # sorted
    for value in VALUES:
        alone = fixed_run(value)
        at_value = oj.sweep_run(swept, value)
        assert_same_run(at_value, alone)
        assert oj.nonfinite_counts(at_value) == oj.nonfinite_counts(alone)
        assert at_value.attrs["priors_sha256"] == alone.attrs["priors_sha256"]
    # The run's recorded priors reproduce it.
    again = oj.run("trajectory", oj.load_priors(oj.TRAJECTORY, text=at_value.attrs["priors_toml"]), draws=DRAWS,
                   seed=3)
    assert_same_run(at_value, again)


def test_every_other_parameter_takes_the_same_random_numbers_at_every_value(swept):
    # One prior group serves every value, and what the cap cannot touch (the default world) is the
    # same draw for draw, while what it does touch moves with its duration.
    assert "D" not in swept["prior"] and "D" not in swept["constant_data"]
    data = oj.outputs(swept)
    for name in ("tai_year_default", "danger_band_years_default"):
        columns = data[name].values
        assert np.array_equal(columns[:, 0], columns[:, 1], equal_nan=True), name
        assert np.array_equal(columns[:, 0], columns[:, 2], equal_nan=True), name
    overhang = data["overhang_at_end"].values
    assert np.all(overhang[:, 2] >= overhang[:, 0] - 1e-4)  # a longer freeze leaves at least the gap
    assert np.median(overhang[:, 2]) > np.median(overhang[:, 0]) + 0.5


@pytest.mark.parametrize("param,values,message", [
    ("DD", [2, 5], "unknown parameter 'DD' for model 'trajectory'; did you mean 'D'?"),
    ("D", [2, -1], r"value -1 of 'D' is not allowed: it must be in \(0, inf\)"),
    ("p_sudden", [0.5, 1.5], r"value 1.5 of 'p_sudden' is not allowed: it must be in \[0, 1\]"),
    ("pause_deployment", [0, 0.5], "value 0.5 of 'pause_deployment' is not allowed: it must be one of 0, 1"),
    ("step_years", [0.1, 0.2], "'step_years' cannot be swept: it fixes the shape of the computation"),
    ("D", [2], "a sweep needs at least 2 values of 'D', got 1"),
    ("D", [2, "5"], "values of 'D' must be numbers, got '5'"),
    ("D", [2, True], "values of 'D' must be numbers, got True"),
    ("D", [2, float("nan")], "values of 'D' must be finite numbers, got nan"),
    ("D", [2, 5, 2], "values of 'D' must all differ; 2 is given more than once"),
    ("D", "2,5", "values must be a list of numbers"),
    # Two float64 values that float32 rounds to one number ran two identical runs, both labelled 2.
    ("D", [2, 2.0000001], "values 2 and 2.0000001 of 'D' are the same number in float32"),
])
def test_bad_sweeps_are_refused_before_any_compute(monkeypatch, param, values, message):
    monkeypatch.setattr(_runner, "run", lambda *args, **kwargs: pytest.fail("computed before refusing"))
    with pytest.raises(oj.RunError, match=message):
        oj.sweep("trajectory", param=param, values=values, draws=100)


def test_a_value_that_breaks_a_constraint_or_the_float_width_is_refused_before_compute(monkeypatch):
    monkeypatch.setattr(_runner, "run", lambda *args, **kwargs: pytest.fail("computed before refusing"))
    pause = files("overhang_jax") / "models" / "scenarios" / "takeoff_software_pause.toml"
    with pytest.raises(oj.PriorsError, match="'software_pause_end' must be >= 'software_pause_start'"):
        oj.sweep("takeoff", pause, param="software_pause_end", values=[2030, 2020], draws=100)
    with pytest.raises(oj.PriorsError, match="'size_software': its draws overflow float32"):
        oj.sweep("takeoff", param="size_software", values=[1, 1e39], draws=100)


def test_a_sweep_file_round_trips_and_arviz_reads_it(swept, tmp_path):
    loaded = oj.load(oj.save(swept, tmp_path / "sweep.nc"))
    assert loaded.attrs["kind"] == "sweep" and loaded.attrs["param"] == "D"
    assert loaded["prior_predictive"]["tai_delay"].dims == ("chain", "draw", "value")
    assert_same_run(oj.sweep_run(loaded, 6.0), oj.sweep_run(swept, 6.0))
    stats = az.summary(loaded, group="prior_predictive", var_names=["overhang_at_end"], kind="stats")
    assert len(stats) == len(VALUES)  # one row per value
    median = np.median(oj.outputs(loaded)["overhang_at_end"].values[:, 1])
    assert oj.sweep_summary(loaded).loc[("overhang_at_end", 6.0), "q50"] == pytest.approx(median, rel=1e-6)


def test_functions_of_one_run_refuse_a_sweep_in_one_line(swept):
    for function in (oj.summary, oj.rank_correlations, oj.trajectory_bands, oj.policy_shares,
                     lambda s: oj.nonfinite_draws(s, "tai_delay")):
        with pytest.raises(oj.ResultsError, match="sweep") as error:
            function(swept)
        assert "\n" not in str(error.value)
    with pytest.raises(oj.ResultsError, match="no run at D = 3; its values are 2, 6, 12"):
        oj.sweep_run(swept, 3)


def test_nonfinite_draws_of_each_value_are_kept(swept):
    for value in VALUES:
        run = oj.sweep_run(swept, value)
        delay = oj.outputs(run)["tai_delay"].values
        assert np.array_equal(oj.nonfinite_draws(run, "tai_delay"), np.flatnonzero(~np.isfinite(delay)))


def test_policy_shares_count_draws_by_hand():
    inf = np.inf
    # TAI years: draw 3 reaches TAI in neither world (no change), draw 4 only with the cap (earlier).
    default_year = np.array([2040.0, 2040, 2040, inf, inf, 2040, 2040, 2040, 2040])
    policy_year = np.array([2039.0, 2039.96, 2040, inf, 2050, 2042, 2037, 2040.5, 2041])
    # Danger band years: shorter with the cap in draw 7 (by 1) and draw 4 (-inf); NaN in draw 8
    # leaves that draw out of the backfire and both its parts.
    default_band = np.array([4.0, 4, 4, inf, inf, 4, 4, 4, np.nan])
    policy_band = np.array([4.0, 4, 4, inf, 5, 4.02, 4, 3, 4])
    after = np.array([1.0, 0.5, 0.5, 0.5, 0.3, 0.5, 0.5, 0.5, 0.5])
    default = np.array([0.5, 0.5, 0.495, 0.5, 0.5, 0.2, 0.5, 0.5, 0.5])
    ones = np.array([1.0, 1, 0, 1, 1, 0, 1, 1, 1])
    columns = {"tai_year_default": default_year, "tai_year_policy": policy_year,
               "danger_band_years_default": default_band, "danger_band_years_policy": policy_band,
               "max_growth_after_end": after, "max_growth_default": default,
               "cap_binds": ones, "cap_ends_before_tai": 1 - ones}
    tree = xr.DataTree.from_dict({
        "/": xr.Dataset(attrs={"model": "trajectory", "kind": "run"}),
        "prior_predictive": xr.Dataset({k: (("chain", "draw"), v[None].astype(np.float64)) for k, v in columns.items()}),
    })
    shares = oj.policy_shares(tree)
    # Compared: the 8 draws where both differences are defined (draw 8's band is NaN).
    assert shares["draws_compared"] == 8 and shares["draws"] == 9
    # TAI earlier: draws 0 (1 yr), 4 (-inf) and 6 (3 yr); -0.04 is within the tolerance.
    assert shares["tai_earlier"] == 3 / 8 and shares["tai_earlier_median_years"] == 2
    # Less time in the danger band: draws 4 (-inf) and 7 (1 yr); +0.02 is within the tolerance.
    assert shares["danger_band_shorter"] == 2 / 8 and shares["danger_band_shorter_median_years"] == 1
    # One or more: draws 0, 4, 6, 7, of the same 8; never smaller than a part.
    assert shares["backfire"] == 4 / 8 >= max(shares["tai_earlier"], shares["danger_band_shorter"])
    # The mechanism, not a backfire: faster growth 1.0 vs 0.5 and 0.5 vs 0.2 (0.5 vs 0.495 is within).
    assert shares["faster_growth_after"] == 2 / 9 and shares["faster_growth_median_oom_per_year"] == pytest.approx(0.4)
    assert shares["cap_binds"] == 7 / 9 and shares["cap_ends_before_tai"] == 2 / 9


def test_policy_shares_say_what_a_boost_to_algorithms_does():
    # Without a boost to algorithms while capped (beta = 1) the cap can never bring TAI earlier:
    # catch-up chases the default curve and evaders trail it. A strong boost does, in many draws.
    with np.errstate(invalid="ignore"):
        swept = oj.sweep("trajectory", HARD_CAP, param="beta", values=[1, 3], draws=DRAWS, seed=1)
    without, boosted = (oj.policy_shares(oj.sweep_run(swept, value)) for value in (1, 3))
    assert without["tai_earlier"] == 0 and np.isnan(without["tai_earlier_median_years"])
    assert boosted["tai_earlier"] > 0.1 and boosted["tai_earlier_median_years"] > 0.05
    assert boosted["backfire"] >= boosted["tai_earlier"]
    assert without["cap_binds"] == boosted["cap_binds"] > 0.8  # the boost acts after the cap binds


def test_shares_and_table_of_a_sweep(swept):
    shares = oj.sweep_shares(swept)
    assert list(shares.index) == VALUES
    for value in VALUES:
        assert shares.loc[value].equals(oj.policy_shares(oj.sweep_run(swept, value)))
    # A longer cap binds at least as often and ends before TAI less often.
    assert shares["cap_binds"].is_monotonic_increasing
    assert shares["cap_ends_before_tai"].is_monotonic_decreasing
    text = oj.format_sweep(swept)
    assert "at D (yr) =" in text and "backfire: TAI earlier or less time in the danger band" in text
    assert "mechanism, not a backfire: growth after the cap faster" in text
    assert f"of the same {int(shares['draws_compared'].iloc[0]):,} draws" in text
    row = next(line for line in text.splitlines() if line.startswith("overhang_at_end (OOM)"))
    q5, q50, q95 = oj.sweep_summary(swept).loc[("overhang_at_end", 6.0), ["q5", "q50", "q95"]]
    assert f"{q50:.3g} [{q5:.3g}, {q95:.3g}]" in row
    assert "% yes" in next(line for line in text.splitlines() if line.startswith("cap_binds"))


def test_a_sweep_of_a_model_without_a_policy_world_in_one_compiled_function(monkeypatch):
    built = []
    original = _runner._build_chunk_function
    monkeypatch.setattr(_runner, "_build_chunk_function", lambda *args: built.append(1) or original(*args))
    # A prior no other test uses: its compiled function is not in the cache yet.
    priors = oj.load_priors(oj.TAKEOFF, text='[params]\ndelay_software = { dist = "uniform", lo = 0.7, hi = 3.3 }\n')
    swept = oj.sweep("takeoff", priors, param="size_software", values=[8, 10, 12], draws=300)
    assert len(built) == 1  # every value runs the same compiled function
    assert oj.sweep_shares(swept) is None
    assert "policy world" not in oj.format_sweep(swept)
    year = oj.outputs(swept)["takeoff_year"].values
    assert np.all(year[:, 1] <= year[:, 0]) and np.all(year[:, 2] <= year[:, 1])  # more overhang: never later
    fig = oj.plots.plot_sweep(swept)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    plt.close(fig)


def test_sweep_figure(swept, tmp_path):
    fig = oj.plots.plot_sweep(swept, path=tmp_path / "sweep.png")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 6  # four outputs, the shares, the backfire
    for ax in panels:
        assert [float(t) for t in ax.get_xticks()] == VALUES and ax.get_xlabel() == "D (yr)"
    median = panels[0].lines[0].get_ydata()
    assert np.allclose(median, oj.sweep_summary(swept).loc["overhang_at_end", "q50"].values)
    shares, backfire = panels[4], panels[5]
    expected = oj.sweep_shares(swept)
    assert shares.get_ylabel() == "share of all draws (%)"
    assert np.allclose(shares.lines[0].get_ydata(), 100 * expected["faster_growth_after"].values)
    assert backfire.get_title().startswith("backfire: the cap makes TAI earlier or the danger band shorter")
    assert np.allclose(backfire.lines[0].get_ydata(), 100 * expected["backfire"].values)
    assert np.allclose(backfire.lines[1].get_ydata(), 100 * expected["tai_earlier"].values)
    # A small share is drawn small: the axis runs to at least 5%, with the no-cap line at 0.
    assert backfire.get_ylim()[1] >= 5 and any(list(line.get_ydata()) == [0, 0] for line in backfire.lines)
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_the_command_line_sweep(tmp_path, run_cli):
    out = tmp_path / "sweep.nc"
    code, stdout, stderr = run_cli("sweep", "trajectory", "--priors", "hard_cap_sudden_end", "--param", "D",
                                   "--values", "12,2,6", "--draws", str(DRAWS), "--seed", "3", "--out", str(out))
    assert code == 0, stderr
    assert "sweep of D in model trajectory: 3 values x 400 draws" in stdout and "priors: hard_cap_sudden_end" in stdout
    assert (tmp_path / "sweep_sweep.png").exists()
    saved = oj.load(out)
    assert_same_run(oj.sweep_run(saved, 2.0), fixed_run(2.0))
    code, summary, _ = run_cli("summary", str(out))
    assert code == 0 and summary.strip().startswith(oj.format_sweep(saved).strip())
    assert summary.strip().splitlines()[-1].startswith("written by overhang_jax")
    code, _, _ = run_cli("summary", str(out), "--csv", str(tmp_path / "s.csv"))
    assert code == 0 and (tmp_path / "s.csv").read_text().startswith("output,D,units,mean")
    code, _, stderr = run_cli("report", str(out), "--out", str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text()
    assert code == 0 and "trajectory: D swept (hard_cap_sudden_end)" in page and "D = 12" in page


@pytest.mark.parametrize("arguments,message", [
    (["--param", "DD", "--values", "2,5"], "did you mean 'D'?"),
    (["--param", "D", "--values", "2,abc"], "--values must be numbers separated by commas, got 'abc'"),
    (["--param", "D", "--values", "2,-1"], "value -1 of 'D' is not allowed"),
    (["--param", "step_years", "--values", "0.1,0.2"], "cannot be swept"),
    (["--param", "D", "--values", "2"], "at least 2 values"),
    # A leading minus once made argparse take the values for an option ("expected one argument").
    (["--param", "D", "--values", "-1,2"], "value -1 of 'D' is not allowed"),
])
def test_the_command_line_refuses_bad_sweeps_in_one_line(tmp_path, arguments, message, run_cli):
    code, _, stderr = run_cli("sweep", "trajectory", *arguments, "--draws", "100",
                              "--out", str(tmp_path / "s.nc"))
    assert code == 2 and stderr.count("\n") == 1 and message in stderr
    assert not (tmp_path / "s.nc").exists()


def test_a_sweep_of_many_values_prints_a_table_that_fits_a_screen_and_a_readable_figure(tmp_path):
    values = list(np.round(np.linspace(1, 8, 40), 3))
    swept = oj.sweep("takeoff", param="size_software", values=values, draws=64, seed=0)
    text = oj.format_sweep(swept)
    assert "6 of the 40 values shown" in text and "--csv` writes them all" in text
    assert max(len(line) for line in text.splitlines()[3:]) <= 200, "one column per value shown, six at most"
    assert oj.sweep_summary(swept).loc["max_speed"].shape[0] == 40  # the CSV table keeps every value
    fig = oj.plots.plot_sweep(swept, path=tmp_path / "many.png")
    for ax in (ax for ax in fig.axes if ax.get_visible()):
        assert len(ax.get_xticks()) <= 12 and all(line.get_marker() in ("None", None, "") for line in ax.lines)
    plt.close(fig)


# --------------------------------------------------------------------------
# A sweep conditioned on observations (observe=): each value's run conditioned, as run(observe=...) is.

OBSERVED = "frontier_compute_2023_2025"
OBSERVED_DRAWS = 2000
EXTREME = """
models = ["trajectory"]
[[observation]]
name = "implausible_2025"
quantity = "largest_training_run"
year = 2025.2
value = 28.5
sd = 0.02
"""
"""A largest run of 3e28 FLOP in 2025, known to 5%: where almost no prior draw is, so the ESS collapses."""


@pytest.fixture(scope="module")
def conditioned():
    with np.errstate(invalid="ignore"):
        return oj.sweep("trajectory", HARD_CAP, param="D", values=[6, 2], draws=OBSERVED_DRAWS, seed=3,
                        observe=OBSERVED)


def assert_same_tree(left, right):
    """Every group, variable, coordinate and attribute of two runs equal, bit for bit (the root's attributes
    that say where the priors came from aside)."""
    assert sorted(node.path for node in left.subtree) == sorted(node.path for node in right.subtree)
    for node in left.subtree:
        other = right[node.path].to_dataset(inherit=False)
        mine = node.to_dataset(inherit=False)
        assert sorted(mine.data_vars) == sorted(other.data_vars), node.path
        for name in [*mine.data_vars, *(c for c in mine.coords if c in other.coords)]:
            assert mine[name].dtype == other[name].dtype, (node.path, name)
            assert np.array_equal(mine[name].values, other[name].values, equal_nan=True), (node.path, name)
            assert mine[name].attrs == other[name].attrs, (node.path, name)
        if node.path != "/":
            assert mine.attrs == other.attrs, node.path
    posterior = {k: v for k, v in left.attrs.items() if k.startswith("posterior_")}
    assert posterior.keys() == {k for k in right.attrs if k.startswith("posterior_")}
    for key, value in posterior.items():
        assert value == right.attrs[key] or (value != value and right.attrs[key] != right.attrs[key]), key


def test_a_conditioned_sweep_at_a_value_is_the_conditioned_run_there_bit_for_bit(conditioned):
    for value in (2.0, 6.0):
        alone = fixed_run(value, draws=OBSERVED_DRAWS, observe=OBSERVED)
        at_value = oj.sweep_run(conditioned, value)
        assert_same_tree(at_value, alone)
        assert at_value.attrs["observations_sha256"] == alone.attrs["observations_sha256"]
    # Its prior and posterior tables are the run's.
    assert oj.prior_posterior(at_value).equals(oj.prior_posterior(alone))


def test_a_policy_that_starts_after_the_years_observed_leaves_every_value_the_same_weights(conditioned):
    # Every observation is of 2025.2 or before; the cap starts in 2026 at the earliest (its prior), and the
    # trajectory model's observables are the world without a cap: D cannot change what was observed.
    priors = oj.load_priors("trajectory", HARD_CAP)
    observations = oj.load_observations(OBSERVED, "trajectory")
    last_observed = max(max(entry.years) for entry in observations.entries)
    assert priors.distributions["t_cap"].scipy().support()[0] >= 2026 > last_observed
    assert conditioned.attrs["posterior_same_weights"] == 1
    for group, name in (("log_likelihood", "largest_run_2023"), ("log_likelihood", "largest_run_2025"),
                        ("sample_stats", "importance_weight")):
        columns = conditioned[group][name].values[0]
        assert columns.shape == (OBSERVED_DRAWS, 2)
        assert np.array_equal(columns[:, 0], columns[:, 1], equal_nan=True), name
    resample = conditioned["posterior"]["prior_draw"].values
    assert np.array_equal(resample[:, 0], resample[:, 1])
    table = oj.sweep_conditioning(conditioned)
    assert table["ess"].nunique() == 1 and table["reliable"].tolist() == [1, 1]
    # The paired differences between values are reweighted, not broken: draw i of the posterior is the
    # same prior draw at every value, so its D = 6 minus D = 2 is that draw's effect of D.
    delay = conditioned["posterior_predictive"]["tai_delay"].values[0]
    prior_delay = conditioned["prior_predictive"]["tai_delay"].values[0]
    assert np.array_equal(delay[:, 1] - delay[:, 0], (prior_delay[:, 1] - prior_delay[:, 0])[resample[:, 0]],
                          equal_nan=True)


def test_a_parameter_that_changes_the_past_gives_each_value_its_own_weights():
    # compute_start is the largest run of 2023: each value agrees with the observations differently.
    swept = oj.sweep("trajectory", HARD_CAP, param="compute_start", values=[24.8, 25.4], draws=1000, seed=3,
                     observe=OBSERVED)
    assert swept.attrs["posterior_same_weights"] == 0
    table = oj.sweep_conditioning(swept)
    assert table.loc[24.8, "ess"] != table.loc[25.4, "ess"]
    text = oj.format_sweep(swept)
    assert "Each value of compute_start has its own weights" in text
    for value, row in table.iterrows():
        assert f"compute_start = {value:g}: {row['verdict']}" in text
        assert_same_tree(oj.sweep_run(swept, value), oj.run(
            "trajectory", oj.load_priors("trajectory", HARD_CAP).with_point("compute_start", value), draws=1000,
            seed=3, observe=OBSERVED))


def test_posterior_figures_of_a_sweep_are_each_values_resampled_draws(conditioned, tmp_path):
    posterior = oj.sweep_summary(conditioned, posterior=True)
    prior = oj.sweep_summary(conditioned)
    for value in (2.0, 6.0):
        run = oj.sweep_run(conditioned, value)
        expected = oj.summary(run, group="posterior_predictive")
        assert np.allclose(posterior.xs(value, level="D")[["q5", "q50", "q95"]].astype(float),
                           expected[["q5", "q50", "q95"]].astype(float), equal_nan=True)
        shares = oj.sweep_shares(conditioned, posterior=True).loc[value]
        resampled = run["posterior_predictive"]["cap_binds"].values.ravel()
        assert shares["cap_binds"] == np.count_nonzero(resampled == 1) / OBSERVED_DRAWS
    assert not posterior.equals(prior)  # the data moved them
    headline = oj.sweep_headline(conditioned, posterior=True)
    assert headline.loc[6.0, "median_delay_years"] > headline.loc[2.0, "median_delay_years"]
    with pytest.raises(oj.ResultsError, match="posterior=True needs a sweep conditioned on observations"):
        oj.sweep_summary(oj.sweep("trajectory", HARD_CAP, param="D", values=[2, 6], draws=64), posterior=True)
    # The printout labels the prior, says the verdict once, and shows the posterior.
    text = oj.format_sweep(conditioned)
    verdict = oj.sweep_conditioning(conditioned)["verdict"].iloc[0]
    assert text.count(verdict) == 1 and verdict.startswith("Posterior reliable")
    assert "Prior (every draw): median [5%, 95%] of each output" in text
    row = next(line for line in text.split("Posterior (at each value")[1].splitlines() if line.startswith("tai_delay"))
    assert f"{posterior.loc[('tai_delay', 2.0), 'q50']:.3g}" in row
    assert "posterior shares, of each value's draws resampled by weight" in text
    # Figures: the prior's says so; the posterior's is drawn from the posterior.
    fig = oj.plots.plot_sweep(conditioned)
    assert "prior: every draw, not conditioned" in fig._suptitle.get_text()
    plt.close(fig)
    fig = oj.plots.plot_sweep(conditioned, posterior=True)
    assert "posterior given 'frontier_compute_2023_2025'" in fig._suptitle.get_text()
    median = [ax for ax in fig.axes if ax.get_visible()][0].lines[0].get_ydata()
    assert np.allclose(median, posterior.loc["overhang_at_end", "q50"].values)
    plt.close(fig)
    # The report: the verdict, then the posterior's tables before the prior's.
    page = oj.write_report([conditioned], tmp_path / "r.html").read_text()
    assert "What the data since 2023 changed" in page and html.escape(verdict) in page
    assert page.index("Posterior: each output at each value") < page.index("Prior: each output at each value")


def test_a_conditioned_sweep_file_round_trips_and_arviz_reads_its_posterior(conditioned, tmp_path):
    loaded = oj.load(oj.save(conditioned, tmp_path / "c.nc"))
    assert_same_tree(oj.sweep_run(loaded, 2.0), oj.sweep_run(conditioned, 2.0))
    assert oj.format_sweep(loaded) == oj.format_sweep(conditioned)
    stats = az.summary(loaded, var_names=["alpha"], kind="stats")  # ArviZ's default group: the posterior
    assert len(stats) == 2 and np.isfinite(stats["mean"]).all()
    assert loaded["log_likelihood"]["largest_run_2025"].dims == ("chain", "draw", "value")


def test_an_extreme_observation_is_refused_as_reliable_at_every_value(tmp_path):
    extreme = tmp_path / "extreme.toml"
    extreme.write_text(EXTREME)
    swept = oj.sweep("trajectory", HARD_CAP, param="D", values=[2, 6], draws=1000, seed=1, observe=extreme)
    table = oj.sweep_conditioning(swept)
    assert table["reliable"].tolist() == [0, 0] and swept.attrs["posterior_reliable"] == 0
    assert (table["ess"] < 1000).all()
    text = oj.format_sweep(swept)
    assert "POSTERIOR NOT RELIABLE" in text and "ESS below 1,000" in text
    assert "* POSTERIOR NOT RELIABLE at D = 2, 6" in text and "not as a forecast" in text
    posterior_heading = text.split("Posterior (at each value")[1].splitlines()[2]
    assert posterior_heading.split()[-2:] == ["2*", "6*"]


def test_a_conditioned_sweep_resumes_from_its_checkpoints_and_from_a_rescue(conditioned, tmp_path, monkeypatch):
    import errno

    from overhang_jax import _results

    options = dict(param="D", values=[2, 6], draws=OBSERVED_DRAWS, seed=3, observe=OBSERVED)
    # A failed write keeps the draws, log likelihoods included, beside the file ...
    monkeypatch.setattr(_results, "save", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    out = tmp_path / "s.nc"
    with pytest.raises(oj.StorageError, match="s.nc.checkpoint"):
        oj.sweep("trajectory", HARD_CAP, out=out, **options)
    monkeypatch.undo()
    # ... from which the same sweep writes the file without computing again.
    monkeypatch.setattr(_runner, "_chunk_function", lambda *a: pytest.fail("computed again"))
    resumed = oj.sweep("trajectory", HARD_CAP, out=out, checkpoint=tmp_path / "s.nc.checkpoint", **options)
    assert resumed.attrs["draws_from_checkpoint"] == 2 * OBSERVED_DRAWS
    for value in (2.0, 6.0):
        assert_same_tree(oj.sweep_run(oj.load(out), value), oj.sweep_run(conditioned, value))
    monkeypatch.undo()
    # A checkpoint of the sweep without observations belongs to another run: refused, not mixed in.
    oj.sweep("trajectory", HARD_CAP, param="D", values=[2, 6], draws=OBSERVED_DRAWS, seed=3,
             checkpoint=tmp_path / "plain")
    with pytest.raises(oj.RunError, match="belongs to a different run"):
        oj.sweep("trajectory", HARD_CAP, checkpoint=tmp_path / "plain", **options)


def test_unknown_observations_are_refused_before_any_compute(monkeypatch):
    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: pytest.fail("computed before refusing"))
    with pytest.raises(oj.ObservationsError, match="did you mean 'frontier_compute_2023_2025'") as error:
        oj.sweep("trajectory", HARD_CAP, param="D", values=[2, 6], draws=100, observe="frontier_compute_2023")
    assert "\n" not in str(error.value)
    with pytest.raises(oj.ObservationsError, match="not for model 'takeoff'"):
        oj.sweep("takeoff", param="size_software", values=[1, 2], draws=100, observe=OBSERVED)
