"""Figures: each returns a labelled matplotlib Figure and saves it atomically when given a path."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import overhang_jax as oj


@pytest.fixture(scope="module")
def results():
    return oj.run("takeoff", draws=4000, seed=1)


def test_distribution_figure_is_labelled_and_saved(results, tmp_path):
    path = tmp_path / "year.png"
    fig = oj.plots.plot_distribution(results, "takeoff_year", path=path)
    hist_ax, ecdf_ax = fig.axes
    assert "takeoff year (yr)" in hist_ax.get_xlabel() and hist_ax.get_ylabel() == "density"
    median = np.median(results["prior_predictive"]["takeoff_year"].values)
    assert f"median {median:.5g}" in hist_ax.get_title()
    # The ECDF runs from 0 to 1 over the finite draws.
    x, y = ecdf_ax.lines[0].get_data()
    assert y[0] == 0 and y[-1] == pytest.approx(1) and np.all(np.diff(x) >= 0)
    assert path.read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_grid_valued_outputs_get_whole_grid_steps_per_bin(results):
    from overhang_jax.present._figures import _bin_edges

    years = results["prior_predictive"]["takeoff_year"].values.astype(np.float64)
    edges = _bin_edges(years, (years.min(), years.max()), 80)
    widths = np.diff(edges) / 0.1
    assert np.allclose(widths, np.round(widths), atol=1e-3)  # no bin gets a fraction of a step


def test_nonfinite_draws_are_reported_not_plotted(tmp_path):
    priors = oj.load_priors(oj.TAKEOFF, text="[params]\nsize_software = 0\nsize_hardware = 0\n")
    never = oj.run("takeoff", priors, draws=100, seed=0)  # the pools cannot reach the threshold
    fig = oj.plots.plot_distribution(never, "takeoff_year")
    assert any("no finite draws" in t.get_text() for ax in fig.axes for t in ax.texts)
    plt.close(fig)


def test_default_plots_of_the_takeoff_model(results, tmp_path):
    paths = oj.plots.default_plots(results, tmp_path / "run")
    assert [p.name for p in paths] == ["run_distributions.png", "run_remaining_overhang.png",
                                       "run_max_speed_drivers.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    fig = oj.plots.plot_remaining_overhang(results)
    assert [t.get_text().split(" (")[0] for t in fig.axes[0].get_legend().get_texts()] == [
        "investment", "hardware", "software"]
    plt.close(fig)


def test_rank_correlations_find_what_drives_takeoff(results):
    import scipy.stats

    table = oj.rank_correlations(results)
    varying = set(oj.load_priors(oj.TAKEOFF).random_names)
    assert set(table.index) == varying and "takeoff_year" in table.columns
    year = table["takeoff_year"]
    # A faster pre-takeoff rate brings takeoff earlier; a higher threshold delays it; the
    # post-takeoff delays cannot touch the pre-takeoff phase.
    assert year["c0"] < -0.5 and year["takeoff_threshold"] > 0.3
    assert abs(year["delay_hardware"]) < 0.1
    # The same numbers as scipy on the raw arrays.
    x = oj.parameters(results)["delay_software"].values
    y = oj.outputs(results)["max_speed"].values
    assert table.loc["delay_software", "max_speed"] == pytest.approx(scipy.stats.spearmanr(x, y).statistic)


def test_tornado_puts_the_strongest_parameter_on_top(results, tmp_path):
    fig = oj.plots.plot_tornado(results, "takeoff_year", path=tmp_path / "tornado.png")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "c0"  # the largest |rank correlation| is drawn at the top
    assert (tmp_path / "tornado.png").exists()
    plt.close(fig)


def test_difference_plot_of_a_model_without_worse_directions(tmp_path):
    # Inference outputs declare no "worse" direction: every output is drawn, and P(B worse) is NaN.
    # (Takeoff outputs have directions now: a faster takeoff is worse.)
    comparison = oj.compare("inference", None,
                            oj.load_priors(oj.INFERENCE, text="[params]\nutilisation = 0.5\n"), draws=400, seed=1)
    fig = oj.plots.plot_differences(comparison, tmp_path / "d.png")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == len(oj.INFERENCE.outputs)
    assert (tmp_path / "d.png").exists()


def synthetic(**columns):
    """Results holding the given outputs (name: (values, units)) in their own float width, as a run lays
    them out."""
    import xarray as xr

    draws = len(next(iter(columns.values()))[0])
    return xr.DataTree.from_dict({
        "/": xr.Dataset(attrs={"model": "synthetic", "draws": draws, "seed": 0}),
        "prior_predictive": xr.Dataset({name: (("chain", "draw"), np.asarray(values)[None],
                                               {"units": units}) for name, (values, units) in columns.items()}),
    })


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_a_point_mass_is_a_spike_with_its_share_not_a_bar():
    rng = np.random.default_rng(0)
    values = np.where(rng.random(10_000) < 0.3, 0.0, rng.normal(3, 1, 10_000))
    fig = oj.plots.plot_distribution(synthetic(delay=(values, "yr")), "delay")
    hist_ax = fig.axes[0]
    share = np.mean(values == 0)
    assert f"{100 * share:.3g}% of draws at 0" in texts(hist_ax)
    # The bars hold the rest only: their area is the share of the rest they show (the central 99.8%).
    bars = hist_ax.patches[0]
    heights, edges = bars.get_data().values, bars.get_data().edges
    shown = np.mean((values != 0) & (values >= edges[0]) & (values <= edges[-1]))
    assert np.sum(heights * np.diff(edges)) == pytest.approx(shown, rel=1e-6) and shown < 1 - share + 1e-3
    plt.close(fig)


def test_an_all_zero_difference_is_one_spike_not_a_box():
    comparison = oj.compare("takeoff", None, None, draws=400, seed=1)  # B = A: every difference is 0
    fig = oj.plots.plot_differences(comparison, names=["takeoff_year", "max_speed"])
    for ax in fig.axes[:2]:
        assert "all 400 draws at 0" in texts(ax)
        assert ax.get_ylabel() == "share of draws" and ax.get_ylim()[1] > 1
        # No histogram bar (the old one ran from -0.5 to 0.5): one stem of height 1 at 0.
        assert not [p for p in ax.patches if p.get_width() > 0.1]
        assert np.array_equal(ax.lines[0].get_xydata(), [[0.0, 1.0]])
    plt.close(fig)


def test_paired_histograms_are_labelled_per_series():
    rng = np.random.default_rng(1)
    results = synthetic(danger_band_years_default=(rng.gamma(3, 1.3, 5000), "yr"),
                        danger_band_years_policy=(rng.gamma(3, 1.5, 5000), "yr"))
    fig = oj.plots.plot_paired_distributions(results, ["danger_band_years_default", "danger_band_years_policy"])
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("danger band years (yr)")  # not the first series' name
    assert [t.get_text().split(":")[0] for t in ax.get_legend().get_texts()] == ["default", "policy"]
    plt.close(fig)


def test_quantities_spanning_orders_of_magnitude_get_log_axes_and_whole_tick_labels():
    rng = np.random.default_rng(2)
    streams = 10 ** rng.uniform(5, 8, 5000)  # three orders of magnitude
    params = rng.uniform(1e13, 3e13, 5000)  # large, but within a factor of 3
    fig = oj.plots.plot_distributions(synthetic(streams=(streams, "1"), params=(params, "1")), ["streams", "params"])
    fig.canvas.draw()
    (hist_log, ecdf_log), (hist_lin, ecdf_lin) = np.reshape(fig.axes, (2, 2))
    assert hist_log.get_xscale() == ecdf_log.get_xscale() == "log"
    assert hist_lin.get_xscale() == "linear"
    for ax in fig.axes:  # no offset text ('1e13', '1e-7') to collide with the axis labels
        assert ax.xaxis.get_offset_text().get_text() == "" and ax.yaxis.get_offset_text().get_text() == ""
    labels = [t.get_text() for t in hist_lin.get_xticklabels() if t.get_text()]
    assert labels and all("e+13" in label for label in labels)
    plt.close(fig)


def test_the_fan_chart_shows_the_years_until_tai_with_the_tai_band_and_the_cap():
    results = oj.run("trajectory", draws=500, seed=4)
    fig = oj.plots.plot_fan_chart(results)
    ax = fig.axes[0]
    data = oj.outputs(results)
    reached = max(np.quantile(data[name].values.astype(np.float64), 0.95, method="higher")
                  for name in ("tai_year_default", "tai_year_policy"))
    assert ax.get_xlim() == (2023, min(2100, np.ceil(reached) + 2)) and ax.get_xlim()[1] < 2090
    # The y range is the bands' in those years, not the histogram's range (20 to 70).
    bands = oj.trajectory_bands(results).sel(year=slice(2023, ax.get_xlim()[1]))
    top = max(float(bands[name].sel(quantile=0.95).max()) for name in ("E_default", "E_policy"))
    e_tai = np.quantile(oj.parameters(results)["E_tai"].values, 0.95)
    assert ax.get_ylim()[1] == pytest.approx(max(top, e_tai) + 0.5, abs=0.02)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("TAI threshold E_tai: median") for label in labels)
    assert any(label.startswith("median TAI year: default") for label in labels)
    assert any(label.startswith("cap in force (median") for label in labels)
    plt.close(fig)


def test_values_on_a_grid_are_bars_and_only_a_standing_out_value_is_a_spike():
    # Differences of years on a 0.1-year grid, each grid value in two float roundings (as float64
    # differences of grid years come): every grid value holds a few percent of the draws, like its
    # neighbours. Only an exact 0 far above them (the draws a change leaves alone) is a point mass.
    rng = np.random.default_rng(3)
    grid = np.round(rng.normal(-0.5, 0.6, 20_000), 1)
    rounded = np.where(rng.random(grid.size) < 0.5, grid, (grid * 10 + 1e-9) / 10)
    with_zeros = np.where(rng.random(grid.size) < 0.3, 0.0, rounded)
    for values, spikes in ((rounded, []), (with_zeros, [0.0])):
        fig = oj.plots.plot_distribution(synthetic(change=(values, "yr")), "change")
        labels = [t for t in texts(fig.axes[0]) if "of draws at" in t]
        assert [float(t.rsplit(" at ", 1)[1]) for t in labels] == spikes, labels
        plt.close(fig)


@pytest.mark.parametrize("name", ["cap$1", "price_$5_to_$9"])  # one '$' raised; a pair became mathematics
def test_a_dollar_in_a_scenario_name_is_drawn_as_written(name, tmp_path, capsys):
    from overhang_jax.cli import main

    priors = tmp_path / f"{name}.toml"
    priors.write_text('model = "takeoff"\n[params]\nsize_software = 6\n')
    out = tmp_path / "cmp.nc"
    code = main(["compare", "takeoff_baseline", str(priors), "--draws", "300", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    differences = tmp_path / "cmp_differences.png"
    assert differences.exists()
    fig = oj.plots.plot_differences(oj.load(out))
    fig.canvas.draw()  # the title is parsed when drawn
    assert f"B = {name} vs" in fig.get_suptitle().replace("\\$", "$")
    plt.close(fig)
    code = main(["report", str(out), "--out", str(tmp_path / "r.html")])
    assert code == 0, capsys.readouterr().err
def test_prior_posterior_figure_overlays_both_ecdfs_with_the_tables_medians(tmp_path):
    conditioned = oj.run("trajectory", draws=3000, seed=2, observe="frontier_compute_2023_2025")
    path = tmp_path / "pp.png"
    fig = oj.plots.plot_prior_posterior(conditioned, path=path)
    table = oj.prior_posterior(conditioned)
    assert [ax.get_xlabel() for ax in fig.axes if ax.get_visible()][0] == "tai year default (yr)"
    first = fig.axes[0]
    labels = [text.get_text() for text in first.get_legend().get_texts()]
    assert labels == [f"prior: median {table.loc['tai_year_default', 'prior_median']:.1f}",
                      f"posterior: median {table.loc['tai_year_default', 'posterior_median']:.1f}"]
    # Each ECDF rises to the share of draws that reach a year (below 1 where some never do).
    for line, group in zip(first.lines, ("prior_predictive", "posterior_predictive")):
        values = conditioned[group]["tai_year_default"].values
        assert line.get_data()[1][-1] == pytest.approx(np.isfinite(values).mean())
    assert "ESS" in fig.get_suptitle() and "reliable" in fig.get_suptitle()
    assert path.read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)
    with pytest.raises(ValueError, match="not conditioned"):
        oj.plots.plot_prior_posterior(oj.run("takeoff", draws=300, seed=1))


def test_importing_the_figures_keeps_the_users_matplotlib_backend():
    # An interactive user's backend (here "svg", chosen before the import) must survive the import.
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('svg'); import overhang_jax.present._figures; "
            "print(matplotlib.get_backend())")
    env = {k: v for k, v in __import__("os").environ.items() if k != "MPLBACKEND"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "svg"
