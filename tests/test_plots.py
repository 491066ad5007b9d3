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
    assert "takeoff year (year)" in hist_ax.get_xlabel() and hist_ax.get_ylabel() == "density"
    median = np.median(results["prior_predictive"]["takeoff_year"].values)
    assert f"median {median:.5g}" in hist_ax.get_title()
    # The ECDF runs from 0 to 1 over the finite draws.
    x, y = ecdf_ax.lines[0].get_data()
    assert y[0] == 0 and y[-1] == pytest.approx(1) and np.all(np.diff(x) >= 0)
    assert path.read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_grid_valued_outputs_get_whole_grid_steps_per_bin(results):
    from overhang_jax._plots import _bin_edges

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
