"""The command line, run in-process through main() and once as a real subprocess."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax._cli import main, shipped_scenarios


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_results_plots_and_summary(tmp_path, capsys):
    out = tmp_path / "takeoff.nc"
    code, stdout, stderr = run_cli(capsys, "run", "takeoff", "--draws", "2e3", "--seed", "3", "--out", str(out),
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

    code, stdout, _ = run_cli(capsys, "summary", str(out))
    assert code == 0
    assert "takeoff_year" in stdout and "2,000 draws" in stdout


def test_priors_command_prints_loadable_defaults(capsys):
    code, stdout, _ = run_cli(capsys, "priors", "takeoff")
    assert code == 0
    document = tomllib.loads(stdout)
    assert set(document["params"]) == set(oj.TAKEOFF.parameter_names)
    assert oj.load_priors(oj.TAKEOFF, text=stdout).to_toml() == oj.load_priors(oj.TAKEOFF).to_toml()


def test_every_shipped_scenario_runs_and_changes_what_it_says(tmp_path, capsys):
    scenarios = shipped_scenarios()
    assert {"takeoff_baseline", "takeoff_investment_3x", "takeoff_software_pause", "takeoff_long_timelines",
            "takeoff_scaffolding", "takeoff_growing_investment", "takeoff_asymmetry"} <= set(scenarios)
    results = {}
    for name in [n for n in scenarios if n.startswith("takeoff_")]:
        out = tmp_path / f"{name}.nc"
        code, _, stderr = run_cli(capsys, "run", "takeoff", "--priors", name, "--draws", "1000", "--out",
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


def test_bad_priors_and_paths_exit_2_before_compute(tmp_path, capsys):
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
        code, stdout, stderr = run_cli(capsys, "run", "takeoff", "--draws", "100", *out, *extra)
        assert code == 2, extra
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("overhang-jax: error:"), stderr
        assert message in stderr and hint in stderr
        assert "Traceback" not in stderr and stdout == ""
    assert not list(tmp_path.glob("*.nc"))


def test_summary_of_a_file_that_is_not_results(tmp_path, capsys):
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    code, _, stderr = run_cli(capsys, "summary", str(junk))
    assert code == 2 and "not an overhang-jax results file" in stderr
    code, _, stderr = run_cli(capsys, "summary", str(tmp_path / "none.nc"))
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


def test_too_many_nonfinite_draws_exit_3_after_writing_everything(tmp_path, capsys):
    priors = tmp_path / "never.toml"
    priors.write_text('model = "trajectory"\n[params]\nE_tai = 200\nphi = 0\n')  # beyond any E by 2100
    out = tmp_path / "never.nc"
    code, stdout, stderr = run_cli(capsys, "run", "trajectory", "--priors", str(priors), "--draws", "300",
                                   "--out", str(out), "--no-plots")
    assert code == 3
    assert "tai_year_default 300 (100%)" in stderr and stderr.count("\n") == 1
    results = oj.load(out)  # nothing lost: the results are written first
    assert np.array_equal(oj.nonfinite_draws(results, "tai_year_default"), np.arange(300))
    assert np.all(np.isinf(results["nonfinite_draws"]["tai_year_default_value"].values))
    # A limit the user raises lets the same run pass.
    code, _, stderr = run_cli(capsys, "run", "trajectory", "--priors", str(priors), "--draws", "300",
                              "--out", str(out), "--no-plots", "--max-nonfinite-share", "1")
    assert code == 0, stderr


def test_nonfinite_draws_are_listed_by_index():
    text = 'model = "takeoff"\n[params]\ntakeoff_threshold = { dist = "uniform", lo = 30, hi = 60 }\n'
    results = oj.run("takeoff", oj.load_priors(oj.TAKEOFF, text=text), draws=500, seed=1)
    years = results["prior_predictive"]["takeoff_year"].values
    assert np.array_equal(oj.nonfinite_draws(results, "takeoff_year"), np.flatnonzero(~np.isfinite(years)))
    assert 0 < oj.nonfinite_draws(results, "takeoff_year").size < 500


@pytest.mark.parametrize("args,message", [
    (["run", "takeoff", "--draws", "100", "--chunk-size", "200"], "larger than --draws"),
    (["compare", "no_policy", "full_catch_up", "--draws", "100", "--chunk-size", "200"], "larger than --draws"),
])
def test_chunk_larger_than_draws_is_a_clear_error(capsys, args, message):
    code, _, stderr = run_cli(capsys, *args)
    assert code == 2 and message in stderr and stderr.count("\n") == 1
