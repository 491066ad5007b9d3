"""Results files: ArviZ's layout, ArviZ's functions with default arguments, lean files, sizes known
before writing, the user's umask, outputs-only runs, and files of the old layout."""

import os
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import overhang_jax as oj
from overhang_jax.cli import main
from overhang_jax.priors._scenarios import shipped_scenarios
from overhang_jax._results import estimated_bytes, planned_comparison, planned_results

README = Path(__file__).resolve().parents[2] / "README.md"


DRAWS = 5000  # more than a compressed chunk's threshold (4096 values)


@pytest.fixture(scope="module")
def takeoff_run():
    return oj.run("takeoff", draws=DRAWS, seed=3)


@pytest.fixture(scope="module")
def comparison():
    """A paired comparison of two takeoff scenarios (cheap to compile; the layout is every model's)."""
    scenarios = shipped_scenarios()
    return oj.compare("takeoff", scenarios["takeoff_baseline"], scenarios["takeoff_software_pause"], draws=DRAWS,
                      seed=1)


def test_a_run_is_laid_out_as_arviz_expects(takeoff_run):
    priors = oj.load_priors(oj.TAKEOFF)
    assert set(takeoff_run.children) == {"prior", "prior_predictive", "constant_data", "nonfinite_draws"}
    for group in ("prior", "prior_predictive"):
        data = takeoff_run[group]
        assert dict(data.sizes) == {"chain": 1, "draw": DRAWS}, group
        assert all(v.dims == ("chain", "draw") for v in data.data_vars.values()), group
    # Uncertain parameters per draw; point values once, not per draw.
    assert list(takeoff_run["prior"].data_vars) == list(priors.random_names)
    constants = takeoff_run["constant_data"]
    assert set(constants.data_vars) == set(oj.TAKEOFF.parameter_names) - set(priors.random_names)
    assert all(v.ndim == 0 for v in constants.data_vars.values())
    assert float(constants["c2"]) == pytest.approx(priors.distributions["c2"].point_value, rel=1e-6)
    # The readers give every parameter of every draw, point values broadcast.
    params = oj.parameters(takeoff_run)
    assert set(params.data_vars) == set(oj.TAKEOFF.parameter_names) and dict(params.sizes) == {"draw": DRAWS}
    assert np.all(params["c2"].values == constants["c2"].values)
    assert np.array_equal(params["c0"].values, takeoff_run["prior"]["c0"].values[0])
    assert params["c0"].attrs["units"] == takeoff_run["prior"]["c0"].attrs["units"]
    assert list(oj.outputs(takeoff_run).data_vars) == list(oj.TAKEOFF.output_names)


def test_arviz_summary_and_hdi_agree_with_ours(takeoff_run, tmp_path):
    import arviz as az

    results = oj.load(oj.save(takeoff_run, tmp_path / "run.nc"))
    theirs = az.summary(results, group="prior_predictive", round_to="none")
    ours = oj.summary(results)
    hdi = az.hdi(results, group="prior_predictive", prob=0.9)
    for name in ours.index:
        if ours.loc[name, "nonfinite"]:  # ArviZ's own functions do not leave non-finite draws out
            continue
        assert ours.loc[name, "mean"] == pytest.approx(theirs.loc[name, "mean"], rel=1e-6), name
        assert ours.loc[name, "sd"] == pytest.approx(theirs.loc[name, "sd"], rel=1e-5, abs=1e-12), name
        lower, upper = (float(x) for x in hdi[name].values)
        assert (ours.loc[name, "hdi90_lower"], ours.loc[name, "hdi90_upper"]) == (lower, upper), name


def test_arviz_plots_work_with_default_arguments(takeoff_run, comparison, tmp_path):
    import arviz as az
    import matplotlib.pyplot as plt

    run = oj.load(oj.save(takeoff_run, tmp_path / "run.nc"))
    cmp = oj.load(oj.save(comparison, tmp_path / "cmp.nc"))
    for tree in (run, cmp, cmp["a"], cmp["b"]):
        assert az.summary(tree, group="prior_predictive").shape[0] == len(tree["prior_predictive"].data_vars)
        az.hdi(tree, group="prior_predictive")
    az.plot_dist(run, group="prior_predictive")
    az.plot_dist(cmp, group="prior_predictive", kind="ecdf")  # ArviZ 1.x draws ECDFs through plot_dist
    az.plot_forest({"A": cmp["a"], "B": cmp["b"]}, group="prior_predictive")
    # ArviZ caps a figure at 40 panels: a pair plot names the few variables it crosses.
    az.plot_pair(run, group="prior", var_names=["c0", "c1_over_c0", "delay_software"])
    plt.close("all")


def readme_section(title: str) -> str:
    """The first Python code block under a README heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_arviz_section_runs_as_written(takeoff_run, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    oj.save(takeoff_run, "results/takeoff.nc")
    # The comparison make run writes, with few draws.
    scenarios = shipped_scenarios()
    oj.save(oj.compare("trajectory", scenarios["no_policy"], scenarios["hard_cap_sudden_end"], draws=300, seed=1,
                       chunk_size=300), "results/compare_no_policy_vs_hard_cap_sudden_end.nc")
    oj.save(oj.run("trajectory", draws=1500, seed=1, observe="frontier_compute_2023_2025"),
            "results/trajectory_observed.nc")
    import arviz as az

    rounding = az.rcParams["stats.round_to"]
    names = {}
    try:
        exec(compile(readme_section("Using ArviZ on results"), "README.md", "exec"), names)
    finally:
        az.rcParams["stats.round_to"] = rounding
    plt.close("all")
    # What the examples return is readable: years to a tenth of a year, not "2000".
    years = takeoff_run["prior_predictive"]["takeoff_year"].values.astype(np.float64)
    assert abs(float(names["stats"].loc["takeoff_year", "mean"]) - years.mean()) < 0.05
    assert names["interval"][0] < np.median(years) < names["interval"][1]
    # +inf left out: the mean of the years reached, finite, as ArviZ's skipna gives it.
    policy = oj.load("results/compare_no_policy_vs_hard_cap_sudden_end.nc")["b"]["prior_predictive"]
    reached = policy["tai_year_policy"].values[np.isfinite(policy["tai_year_policy"].values)].astype(np.float64)
    assert abs(float(names["reached"].loc["tai_year_policy", "mean"]) - reached.mean()) < 0.05
    # The posterior is what ArviZ reads by default: the resampled parameters.
    assert "spend_doubling_months" in names["posterior"].index
    assert np.isfinite(names["posterior"]["mean"].astype(float)).all()


def test_files_of_the_old_layout_are_refused_naming_their_version(tmp_path, capsys):
    old = tmp_path / "old.nc"
    draws = np.arange(5)
    xr.DataTree.from_dict({
        "/": xr.Dataset(attrs={"model": "takeoff", "version": "0.1.0", "sample_dims": "draw"}),
        "prior_predictive": xr.Dataset({"takeoff_year": ("draw", np.full(5, 2040.0))}, coords={"draw": draws}),
    }).to_netcdf(old, engine="h5netcdf")
    with pytest.raises(oj.ResultsError, match="written by overhang_jax 0.1.0"):
        oj.load(old)
    code = main(["summary", str(old)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "overhang_jax 0.1.0" in err and "run it again" in err


def test_takeoff_files_take_at_most_80_bytes_per_draw(tmp_path):
    draws = 50_000
    results = oj.run("takeoff", draws=draws, seed=0)
    size = oj.save(results, tmp_path / "run.nc").stat().st_size
    raw = oj.save(results, tmp_path / "raw.nc", compress=False).stat().st_size
    assert size / draws <= 80 and size < 0.8 * raw
    # Lossless: the compressed file reads back bit for bit.
    again = oj.load(tmp_path / "run.nc")
    for group in ("prior", "prior_predictive", "constant_data"):
        for name, variable in results[group].data_vars.items():
            assert np.array_equal(again[group][name].values, variable.values, equal_nan=True), (group, name)


def assert_planned_as_run(planned, results):
    """The plan is the same tree as the run: groups, variables, shapes and types."""
    for node in results.subtree:
        if node.name == "nonfinite_draws":
            continue
        other = planned[node.path].to_dataset(inherit=False)
        for name, variable in node.to_dataset(inherit=False).variables.items():
            assert (other[name].shape, other[name].dtype) == (variable.shape, variable.dtype), (node.path, name)


def test_estimated_bytes_count_what_a_run_writes(takeoff_run, tmp_path):
    planned = planned_results(oj.TAKEOFF, oj.load_priors(oj.TAKEOFF), DRAWS)
    assert_planned_as_run(planned, takeoff_run)
    raw = oj.save(takeoff_run, tmp_path / "raw.nc", compress=False).stat().st_size
    compressed = oj.save(takeoff_run, tmp_path / "run.nc").stat().st_size
    assert compressed < raw <= estimated_bytes(planned, nonfinite_share=0.01) < 1.1 * raw + 100_000


def test_estimated_bytes_count_the_trajectory_histograms(tmp_path):
    draws = 300
    priors = oj.load_priors(oj.TRAJECTORY)
    results = oj.run("trajectory", priors, draws=draws, seed=0, chunk_size=draws)
    planned = planned_results(oj.TRAJECTORY, priors, draws)
    assert_planned_as_run(planned, results)
    raw = oj.save(results, tmp_path / "raw.nc", compress=False).stat().st_size
    compressed = oj.save(results, tmp_path / "run.nc").stat().st_size
    spec = oj.TRAJECTORY.trajectories
    histograms = len(spec.names) * len(spec.coords) * (spec.bins + 2) * 4  # int32 counts
    assert raw > histograms > 5 * compressed  # the histograms are mostly empty: they compress well
    assert raw <= estimated_bytes(planned, nonfinite_share=0.01) < 1.1 * raw + 200_000


def test_estimated_bytes_of_a_comparison(comparison, tmp_path):
    scenarios = shipped_scenarios()
    priors = [oj.load_priors(oj.TAKEOFF, scenarios[name]) for name in ("takeoff_baseline", "takeoff_software_pause")]
    planned = planned_comparison(oj.TAKEOFF, *priors, DRAWS)
    assert_planned_as_run(planned, comparison)
    raw = oj.save(comparison, tmp_path / "raw.nc", compress=False).stat().st_size
    assert raw <= estimated_bytes(planned, nonfinite_share=0.01) < 1.1 * raw + 200_000
    # Keeping outputs only leaves the parameters per draw (float32) of both runs out, as of the file,
    # and the prior groups' draw coordinates (int64) with them.
    lean = planned_comparison(oj.TAKEOFF, *priors, 10**6, outputs_only=True)
    full = planned_comparison(oj.TAKEOFF, *priors, 10**6)
    columns = sum(len(p.random_names) for p in priors)
    assert estimated_bytes(full) - estimated_bytes(lean) == pytest.approx(4 * 10**6 * columns + 2 * 8 * 10**6,
                                                                          rel=0.01)


@pytest.mark.parametrize("umask", [0o027, 0o002])
def test_files_follow_the_umask(takeoff_run, tmp_path, umask):
    old = os.umask(umask)
    try:
        path = oj.save(takeoff_run, tmp_path / "run.nc")
        figure = oj.plots.plot_remaining_overhang(takeoff_run, path=tmp_path / "fig.png")
    finally:
        os.umask(old)
    import matplotlib.pyplot as plt

    plt.close(figure)
    for written in (path, tmp_path / "fig.png"):
        assert written.stat().st_mode & 0o777 == 0o666 & ~umask, written


def test_outputs_only_keeps_the_same_outputs_and_no_parameters(takeoff_run, tmp_path, capsys):
    from overhang_jax.present._figures import default_figures

    lean = oj.run("takeoff", draws=DRAWS, seed=3, outputs_only=True)
    assert "prior" not in lean.children and lean.attrs["outputs_only"] == 1
    for name in oj.TAKEOFF.output_names:
        assert np.array_equal(oj.outputs(lean)[name].values, oj.outputs(takeoff_run)[name].values,
                              equal_nan=True), name
    with pytest.raises(oj.ResultsError, match="outputs only"):
        oj.parameters(lean)
    # The figure that needs every draw's parameters (the tornado chart) is left out.
    assert [name for name, _ in default_figures(takeoff_run)] == [
        name for name, _ in default_figures(lean)] + ["max_speed_drivers"]
    # The command line writes a smaller file.
    out = tmp_path / "lean.nc"
    code = main(["run", "takeoff", "--draws", str(DRAWS), "--seed", "3", "--outputs-only", "--out", str(out),
                 "--no-plots"])
    assert code == 0, capsys.readouterr().err
    full = oj.save(takeoff_run, tmp_path / "full.nc").stat().st_size
    assert out.stat().st_size < 0.7 * full
    assert oj.load(out).attrs["outputs_only"] == 1


def test_point_valued_priors_give_parameters_without_a_prior_group():
    text = "[params]\n" + "".join(f"{name} = {value!r}\n" for name, value in oj.TAKEOFF.reference_draw().items())
    results = oj.run("takeoff", oj.load_priors(oj.TAKEOFF, text=text), draws=10, seed=0)
    assert "prior" not in results.children and results.attrs["outputs_only"] == 0
    params = oj.parameters(results)
    assert dict(params.sizes) == {"draw": 10} and float(params["size_software"][3]) == 12
