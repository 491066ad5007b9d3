"""The command line, run in-process through main() and once as a real subprocess."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.cli import main
from overhang_jax.priors._scenarios import shipped_scenarios


def test_run_writes_results_plots_and_summary(tmp_path, run_cli):
    out = tmp_path / "takeoff.nc"
    code, stdout, stderr = run_cli("run", "takeoff", "--draws", "2e3", "--seed", "3", "--out", str(out),
                                   "--chunk-size", "512")
    assert code == 0, stderr
    results = oj.load(out)
    assert results.attrs["draws"] == 2000 and results.attrs["seed"] == 3
    assert "takeoff_year" in stdout and "hdi90_lower" in stdout and f"wrote {out}" in stdout
    for suffix in ("distributions", "remaining_overhang", "max_speed_drivers"):
        png = tmp_path / f"takeoff_{suffix}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The CLI result is the library result.
    direct = oj.run("takeoff", draws=2000, seed=3)
    assert np.array_equal(direct["prior_predictive"]["max_speed"].values,
                          results["prior_predictive"]["max_speed"].values, equal_nan=True)

    code, stdout, _ = run_cli("summary", str(out))
    assert code == 0
    assert "takeoff_year" in stdout and "2,000 draws" in stdout


def test_priors_command_prints_loadable_defaults(run_cli):
    code, stdout, _ = run_cli("priors", "takeoff")
    assert code == 0
    document = tomllib.loads(stdout)
    assert set(document["params"]) == set(oj.TAKEOFF.parameter_names)
    assert oj.load_priors(oj.TAKEOFF, text=stdout).to_toml() == oj.load_priors(oj.TAKEOFF).to_toml()


def test_every_shipped_scenario_runs_and_changes_what_it_says(tmp_path, run_cli):
    scenarios = shipped_scenarios()
    assert {"takeoff_baseline", "takeoff_investment_3x", "takeoff_software_pause", "takeoff_long_timelines",
            "takeoff_scaffolding", "takeoff_growing_investment", "takeoff_asymmetry"} <= set(scenarios)
    results = {}
    for name in [n for n in scenarios if n.startswith("takeoff_")]:
        out = tmp_path / f"{name}.nc"
        code, _, stderr = run_cli("run", "takeoff", "--priors", name, "--draws", "1000", "--out",
                                  str(out), "--no-plots")
        assert code == 0, (name, stderr)
        results[name] = oj.load(out)["prior_predictive"]
    year = {n: r["takeoff_year"].values.astype(np.float64) for n, r in results.items()}
    base = year["takeoff_baseline"]
    # Paired draws (same seed): each scenario moves takeoff the way its mechanism must.
    assert np.all(year["takeoff_software_pause"] >= base) and np.any(year["takeoff_software_pause"] > base)
    assert np.all(year["takeoff_investment_3x"] <= base) and np.any(year["takeoff_investment_3x"] < base)
    assert np.all(year["takeoff_growing_investment"] <= base)
    assert np.all(results["takeoff_asymmetry"]["asymmetry_multiplier"].values != 1)
    # Long timelines: takeoff comes much later, with the investment pool spent before it.
    assert np.nanmax(results["takeoff_long_timelines"]["remaining_investment"].values) < 1e-3
    assert np.nanmedian(year["takeoff_long_timelines"]) > np.nanmedian(base) + 5
    # Scaffolding scales the multiplier down relative to plain asymmetry.
    assert np.all(results["takeoff_scaffolding"]["asymmetry_multiplier"].values
                  <= results["takeoff_asymmetry"]["asymmetry_multiplier"].values * (1 + 1e-6))


@pytest.mark.parametrize("args,message", [
    (["run", "takeoff", "--draws", "0"], "--draws: expected a positive whole number"),
    (["run", "takeoff", "--draws", "ten"], "--draws: expected a positive whole number"),
    (["run", "takeoff", "--draws", "1.5"], "--draws: expected a positive whole number"),
    (["run", "takeoff", "--seed", "-3"], "--seed: expected an integer"),
    (["run", "takeof"], "invalid choice: 'takeof'"),
    (["run", "takeoff", "--sampler", "halton"], "invalid choice: 'halton'"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_priors_and_paths_exit_2_before_compute(tmp_path, run_cli):
    bad = tmp_path / "bad.toml"
    bad.write_text('[params]\nsize_sofware = 3\n')
    cases = [
        (["--priors", str(bad)], "unknown parameter 'size_sofware'", "did you mean 'size_software'"),
        (["--priors", str(tmp_path / "missing.toml")], "not found", ""),
        (["--out", str(tmp_path / "no" / "such" / "dir.nc")], "does not exist", ""),
        (["--method", "euler"], "no method 'euler'", ""),
    ]
    for extra, message, hint in cases:
        out = [] if "--out" in extra else ["--out", str(tmp_path / "r.nc")]
        code, stdout, stderr = run_cli("run", "takeoff", "--draws", "100", *out, *extra)
        assert code == 2, extra
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("overhang-jax: error:"), stderr
        assert message in stderr and hint in stderr
        assert "Traceback" not in stderr and stdout == ""
    assert not list(tmp_path.glob("*.nc"))


def test_summary_of_a_file_that_is_not_results(tmp_path, run_cli):
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    code, _, stderr = run_cli("summary", str(junk))
    assert code == 2 and "not an overhang-jax results file" in stderr
    code, _, stderr = run_cli("summary", str(tmp_path / "none.nc"))
    assert code == 2 and "not found" in stderr


@pytest.mark.parametrize("command", [[], ["run"], ["compare"], ["summary"], ["priors"], ["scenarios"]])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: overhang-jax" in capsys.readouterr().out


def test_console_script_runs_as_a_process(tmp_path):
    # The installed entry point, with the environment a user has (no forced device count).
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    script = Path(sys.executable).parent / "overhang-jax"
    proc = subprocess.run([str(script), "run", "takeoff", "--draws", "500", "--out", str(tmp_path / "r.nc"),
                           "--no-plots"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "takeoff_year" in proc.stdout
    proc = subprocess.run([str(script), "run", "takeoff", "--draws", "-1"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_output_piped_to_a_reader_that_stops_early_is_not_an_error():
    # `overhang-jax scenarios | head -1`: the reader closes the pipe before the table is written.
    script = Path(sys.executable).parent / "overhang-jax"
    proc = subprocess.Popen([str(script), "scenarios"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, stderr
    assert stderr == ""


def test_too_many_nonfinite_draws_exit_3_after_writing_everything(tmp_path, run_cli):
    priors = tmp_path / "never.toml"
    priors.write_text('model = "trajectory"\n[params]\nE_tai = 200\nphi = 0\n')  # beyond any E by 2100
    out = tmp_path / "never.nc"
    code, stdout, stderr = run_cli("run", "trajectory", "--priors", str(priors), "--draws", "300",
                                   "--out", str(out), "--no-plots")
    assert code == 3
    assert "tai_year_default 300 (100%)" in stderr and stderr.count("\n") == 1
    results = oj.load(out)  # nothing lost: the results are written first
    assert np.array_equal(oj.nonfinite_draws(results, "tai_year_default"), np.arange(300))
    assert np.all(np.isinf(results["nonfinite_draws"]["tai_year_default_value"].values))
    # A limit the user raises lets the same run pass.
    code, _, stderr = run_cli("run", "trajectory", "--priors", str(priors), "--draws", "300",
                              "--out", str(out), "--no-plots", "--max-nonfinite-share", "1")
    assert code == 0, stderr


def test_nonfinite_draws_are_listed_by_index():
    text = 'model = "takeoff"\n[params]\ntakeoff_threshold = { dist = "uniform", lo = 30, hi = 60 }\n'
    results = oj.run("takeoff", oj.load_priors(oj.TAKEOFF, text=text), draws=500, seed=1)
    years = results["prior_predictive"]["takeoff_year"].values
    assert np.array_equal(oj.nonfinite_draws(results, "takeoff_year"), np.flatnonzero(~np.isfinite(years)))
    assert 0 < oj.nonfinite_draws(results, "takeoff_year").size < 500


def test_a_chunk_larger_than_the_draws_is_clamped(tmp_path, run_cli):
    # The chunk size never changes the results, so a large one is no reason to refuse a run.
    out = tmp_path / "r.nc"
    code, _, stderr = run_cli("run", "takeoff", "--draws", "100", "--chunk-size", "200", "--seed", "2",
                              "--out", str(out), "--no-plots")
    assert code == 0, stderr
    direct = oj.run("takeoff", draws=100, seed=2, chunk_size=100)
    assert np.array_equal(oj.load(out)["prior_predictive"]["max_speed"].values,
                          direct["prior_predictive"]["max_speed"].values, equal_nan=True)
    code, _, stderr = run_cli("compare", "no_policy", "full_catch_up", "--draws", "100", "--chunk-size",
                              "200", "--out", str(tmp_path / "c.nc"), "--no-plots")
    assert code == 0, stderr


def test_a_resumed_run_reports_the_speed_of_what_it_computed(tmp_path, monkeypatch, run_cli):
    from overhang_jax.engine import _checkpoint

    args = ["run", "takeoff", "--draws", "4000", "--chunk-size", "1000", "--checkpoint", str(tmp_path / "ckpt"),
            "--out", str(tmp_path / "r.nc"), "--no-plots"]
    real_save = _checkpoint.Checkpoint.save
    saved = []

    def save_then_die(self, start, arrays):
        real_save(self, start, arrays)
        saved.append(start)
        if len(saved) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(_checkpoint.Checkpoint, "save", save_then_die)
    code, _, stderr = run_cli(*args)
    assert code == 130 and "resume" in stderr
    monkeypatch.undo()
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    assert "3,000 draws read from the checkpoint" in stdout
    assert "1,000 draws computed in" in stdout and "4,000 draws in" not in stdout
    code, stdout, stderr = run_cli(*args)  # everything saved: nothing computed, no speed to report
    assert code == 0 and "all 4,000 draws read from the checkpoint" in stdout and "draws/s" not in stdout


def foreign_netcdf(path):
    import xarray as xr

    xr.Dataset({"x": ("t", np.arange(3.0))}, attrs={"model": "takeoff"}).to_netcdf(path, engine="h5netcdf")


def truncated_results(path):
    oj.save(oj.run("takeoff", draws=2000, seed=0), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # what a kill in the middle of a non-atomic copy leaves


def truncated_comparison(path):
    oj.save(oj.compare("trajectory", None, None, draws=200, seed=0), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def results_without_outputs(path):
    import h5py

    oj.save(oj.run("takeoff", draws=100, seed=0), path)
    with h5py.File(path, "a") as f:
        del f["prior_predictive"]


def results_with_a_damaged_attribute(path):
    import h5py

    oj.save(oj.run("takeoff", draws=100, seed=0), path)
    with h5py.File(path, "a") as f:
        f.attrs["draws"] = "a hundred"


@pytest.mark.parametrize("make", [foreign_netcdf, truncated_results, truncated_comparison, results_without_outputs,
                                  results_with_a_damaged_attribute])
def test_summary_of_any_damaged_or_foreign_file_is_one_error_line(tmp_path, make, run_cli):
    path = tmp_path / "r.nc"
    make(path)
    code, stdout, stderr = run_cli("summary", str(path))
    assert code == 2 and stderr.startswith("overhang-jax: error: ") and stderr.count("\n") == 1, stderr
    assert str(path) in stderr and "Traceback" not in stderr


def test_summary_of_a_sensitivity_file_prints_its_indices(tmp_path, run_cli):
    out = tmp_path / "s.nc"
    code, _, stderr = run_cli("sensitivity", "takeoff", "--output", "max_speed", "--base-samples", "64",
                              "--bootstrap", "20", "--out", str(out), "--no-plots")
    assert code == 0, stderr
    code, stdout, stderr = run_cli("summary", str(out))
    assert code == 0, stderr
    assert "Sobol indices of max_speed" in stdout and "ST_high" in stdout and "size_software" in stdout


INFINITE_TRAINING = 'model = "inference"\n[params]\ncluster_flop_per_second = 1e37\n'  # training FLOP > 3.4e38


@pytest.mark.parametrize("model,text,output", [
    ("inference", INFINITE_TRAINING, "training_flop"),
    ("takeoff", 'model = "takeoff"\n[params]\ntakeoff_threshold = 1e30\n', "takeoff_year"),  # never reached
    ("trajectory", 'model = "trajectory"\n[params]\nE_tai = 200\nphi = 0\n', "tai_year_default"),
])
@pytest.mark.filterwarnings("error::UserWarning")  # a warning would be a second line on a terminal
def test_plots_of_an_output_that_is_never_finite_exit_3_not_a_crash(tmp_path, model, text, output, run_cli):
    from overhang_jax.present._figures import default_plot_paths

    priors = tmp_path / "never.toml"
    priors.write_text(text)
    out = tmp_path / "r.nc"
    code, stdout, stderr = run_cli("run", model, "--priors", str(priors), "--draws", "300", "--out", str(out))
    assert code == 3, stderr
    assert f"{output} 300 (100%)" in stderr and stderr.count("\n") == 1, stderr  # no warnings either
    for path in default_plot_paths(model, tmp_path / "r"):
        assert path.read_bytes()[:4] == b"\x89PNG"


def test_sensitivity_over_the_nonfinite_share_exits_3_after_writing(tmp_path, run_cli):
    priors = tmp_path / "huge.toml"
    priors.write_text(INFINITE_TRAINING)
    out = tmp_path / "s.nc"
    args = ["sensitivity", "inference", "--priors", str(priors), "--output", "training_flop", "--base-samples",
            "32", "--bootstrap", "10", "--out", str(out)]
    code, stdout, stderr = run_cli(*args)
    assert code == 3 and stderr.count("\n") == 1 and "32 of the 32 base samples" in stderr, stderr
    assert out.exists() and out.with_suffix(".png").exists()
    code, _, stderr = run_cli(*args, "--max-nonfinite-share", "1")
    assert code == 0, stderr


def test_large_priors_text_is_capped_in_the_results(tmp_path, run_cli):
    from overhang_jax.engine._run import PRIORS_TEXT_LIMIT

    priors = tmp_path / "big.toml"
    priors.write_text('model = "takeoff"\n' + "# a long note\n" * 800_000 + "[params]\nc0 = 0.004\n")
    assert priors.stat().st_size > 10 * 2**20
    out = tmp_path / "r.nc"
    code, _, stderr = run_cli("run", "takeoff", "--priors", str(priors), "--draws", "200", "--out", str(out),
                              "--no-plots")
    assert code == 0, stderr
    assert out.stat().st_size < 2**20
    results = oj.load(out)
    text = results.attrs["priors_text"]
    assert len(text.encode()) <= PRIORS_TEXT_LIMIT + 500 and "sha256" in text and "priors_toml" in text
    # The resolved priors, always kept whole, still reproduce the run.
    again = oj.run("takeoff", oj.load_priors(oj.TAKEOFF, text=results.attrs["priors_toml"]), draws=200, seed=0)
    assert np.array_equal(oj.parameters(again)["c0"].values, oj.parameters(results)["c0"].values)
    assert np.array_equal(oj.outputs(again)["takeoff_year"].values, oj.outputs(results)["takeoff_year"].values)
