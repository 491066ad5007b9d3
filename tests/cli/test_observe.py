"""`--observe` on the command line: what a conditioned run prints and writes, what ArviZ makes of the
file with its defaults, and bad observations refused before any compute."""

import arviz as az
import numpy as np
import pytest

import overhang_jax as oj


def test_run_with_observations_prints_prior_and_posterior_khat_and_ess(tmp_path, run_cli):
    out = tmp_path / "t.nc"
    code, stdout, stderr = run_cli("run", "trajectory", "--draws", "3000", "--out", str(out), "--no-plots",
                                   "--observe", "frontier_compute_2023_2025")
    assert code == 0, stderr
    results = oj.load(out)
    ess, khat = results.attrs["posterior_ess"], results.attrs["posterior_pareto_khat"]
    assert f"Pareto k-hat {khat:.2f}, effective sample size {ess:,.0f} of 3,000 draws" in stdout
    assert "largest_run_2025: largest_training_run in 2025.2 (log10 FLOP) = 26.66 ± 0.3" in stdout
    after = stdout.split("Prior (every draw) and posterior")[1]
    row = next(line for line in after.splitlines() if line.startswith("tai_year_default"))
    table = oj.prior_posterior(results)
    # The printed medians are the table's, to a tenth of a year.
    assert f"{table.loc['tai_year_default', 'prior_median']:.1f}" in row
    assert f"{table.loc['tai_year_default', 'posterior_median']:.1f}" in row
    # ArviZ's defaults read the posterior: the resampled parameters.
    summary = az.summary(results)
    assert "compute_start" not in summary.index and "alpha" in summary.index
    assert set(summary.index) == set(oj.parameters(results).data_vars) - set(results["constant_data"].data_vars)
    assert np.isfinite(az.hdi(results)["alpha"].values).all()
    az.plot_dist(results)


def test_compare_with_observations_weights_both_worlds_alike(tmp_path, run_cli):
    out = tmp_path / "c.nc"
    code, stdout, stderr = run_cli("compare", "no_policy", "hard_cap_sudden_end", "--draws", "2000",
                                   "--out", str(out), "--no-plots", "--observe", "frontier_compute_2023_2025")
    assert code == 0, stderr
    assert "Both scenarios' draws carry A's weights" in stdout
    assert "Paired differences B - A under the prior" in stdout
    comparison = oj.load(out)
    summary = az.summary(comparison, kind="stats")  # the posterior of the paired differences
    assert "tai_year_policy" in summary.index


def test_observations_lists_the_shipped_sets(run_cli):
    code, stdout, _ = run_cli("observations")
    assert code == 0
    rows = {line.split()[0] for line in stdout.splitlines()[1:-1]}
    assert rows == set(oj.observation_sets().index)
    code, stdout, _ = run_cli("observations", "takeoff")
    assert "no_takeoff_yet" in stdout and "frontier_compute_2023_2025" not in stdout


@pytest.mark.parametrize("text, words", [
    ('models = ["trajectory"]\n[[observation]]\nname = "x"\nquantity = "gdp"\nyear = 2025\nvalue = 1\nsd = 1\n',
     "has no observable quantity 'gdp'"),
    ('models = ["trajectory"]\n[[observation]]\nname = "x"\nquantity = "largest_training_run"\nyear = 2200\n'
     'value = 26\nsd = 0.3\n', "year 2200 is outside"),
    ('models = ["ftm"]\n[[observation]]\nname = "x"\nquantity = "largest_training_run"\nyear = 2025\n'
     'value = 26\nsd = 0.3\n', "not for model 'trajectory'"),
])
def test_bad_observations_exit_2_with_one_line_before_compute(tmp_path, monkeypatch, text, words, run_cli):
    from overhang_jax.engine import _run

    monkeypatch.setattr(_run, "compute_draws", lambda *a, **k: pytest.fail("computed"))
    observations = tmp_path / "obs.toml"
    observations.write_text(text)
    out = tmp_path / "t.nc"
    code, stdout, stderr = run_cli("run", "trajectory", "--draws", "100", "--out", str(out), "--no-plots",
                                   "--observe", str(observations))
    assert code == 2 and stderr.count("\n") == 1 and words in stderr and not out.exists()


def test_sweep_with_observations_prints_the_posterior_at_each_value(tmp_path, run_cli):
    out = tmp_path / "s.nc"
    code, stdout, stderr = run_cli("sweep", "trajectory", "--priors", "hard_cap_sudden_end", "--param", "D",
                                   "--values", "2,6", "--draws", "2000", "--seed", "3", "--out", str(out),
                                   "--observe", "frontier_compute_2023_2025")
    assert code == 0, stderr
    swept = oj.load(out)
    verdicts = oj.sweep_conditioning(swept)
    assert swept.attrs["posterior_same_weights"] == 1  # D acts after the years observed
    ess, khat = verdicts["ess"].iloc[0], verdicts["pareto_khat"].iloc[0]
    # One verdict for both values, with k-hat and the ESS out of the draws.
    assert stdout.count(f"Pareto k-hat {khat:.2f}, effective sample size {ess:,.0f} of 2,000 draws") == 1
    assert "The same weights at every value of D" in stdout
    assert "largest_run_2025: largest_training_run in 2025.2 (log10 FLOP) = 26.66 ± 0.3" in stdout
    assert "Prior (every draw): median [5%, 95%]" in stdout
    posterior = stdout.split("Posterior (at each value, its 2,000 draws resampled by weight)")[1]
    row = next(line for line in posterior.splitlines() if line.startswith("tai_delay (yr)"))
    table = oj.sweep_summary(swept, posterior=True)
    assert f"{table.loc[('tai_delay', 6.0), 'q50']:.3g} [" in row
    assert "posterior shares, of each value's draws resampled by weight" in posterior
    assert (tmp_path / "s_sweep.png").exists() and (tmp_path / "s_sweep_posterior.png").exists()
    # The run at a value is the conditioned run; `summary` prints the file as the sweep did.
    assert oj.sweep_run(swept, 6.0).attrs["posterior_verdict"] == verdicts.loc[6.0, "verdict"]
    code, summary, _ = run_cli("summary", str(out))
    assert code == 0 and summary.strip().startswith(oj.format_sweep(swept).strip())


def test_sweep_with_an_extreme_observation_refuses_the_posterior_as_reliable(tmp_path, run_cli):
    observations = tmp_path / "extreme.toml"
    observations.write_text('models = ["trajectory"]\n[[observation]]\nname = "implausible_2025"\n'
                            'quantity = "largest_training_run"\nyear = 2025.2\nvalue = 28.5\nsd = 0.02\n')
    code, stdout, stderr = run_cli("sweep", "trajectory", "--priors", "hard_cap_sudden_end", "--param", "D",
                                   "--values", "2,6", "--draws", "1000", "--seed", "1", "--no-plots",
                                   "--out", str(tmp_path / "s.nc"), "--observe", str(observations))
    assert code == 0, stderr
    assert "POSTERIOR NOT RELIABLE (" in stdout and "ESS below 1,000" in stdout
    assert "* POSTERIOR NOT RELIABLE at D = 2, 6 (the verdict above): its figures are shown for inspection only" \
        in stdout
    assert "Posterior reliable" not in stdout


def test_sweep_refuses_bad_observations_before_compute(tmp_path, monkeypatch, run_cli):
    from overhang_jax.engine import _run

    monkeypatch.setattr(_run, "compute_draws", lambda *a, **k: pytest.fail("computed"))
    out = tmp_path / "s.nc"
    code, _, stderr = run_cli("sweep", "trajectory", "--param", "D", "--values", "2,6", "--draws", "100",
                              "--out", str(out), "--observe", "frontier_compute")
    assert code == 2 and stderr.count("\n") == 1 and "did you mean 'frontier_compute_2023_2025'" in stderr
    assert not out.exists()
    code, _, stderr = run_cli("sweep", "takeoff", "--param", "size_software", "--values", "1,2", "--draws",
                              "100", "--out", str(out), "--observe", "frontier_compute_2023_2025")
    assert code == 2 and stderr.count("\n") == 1 and "not for model 'takeoff'" in stderr


def test_takeoff_conditioned_on_no_takeoff_yet_says_the_bound_excludes_nothing_here(tmp_path, run_cli):
    out = tmp_path / "k.nc"
    code, stdout, stderr = run_cli("run", "takeoff", "--draws", "2000", "--out", str(out), "--no-plots",
                                   "--observe", "no_takeoff_yet")
    assert code == 0, stderr
    results = oj.load(out)
    years = results["prior_predictive"]["takeoff_year"].values
    excluded = int((years <= 2026.9).sum())
    assert results.attrs["posterior_excluded_draws"] == excluded
    assert "no_takeoff_by_2026_9: takeoff_year (yr) > 2026.9" in stdout
    if excluded == 0:  # the default priors put every takeoff after 2026.9: the data change nothing
        table = oj.prior_posterior(results)
        assert (table["prior_median"] == table["posterior_median"]).all()
        assert "k-hat not defined" in stdout
