"""Runs conditioned on observations: the log likelihood computed in the run against its closed form,
the posterior against the conjugate normal answer, an uninformative observation, an extreme one, and
the resample's independence of the chunk size."""

import math

import numpy as np
import pytest
import scipy.stats

import overhang_jax as oj
from overhang_jax.engine._conditioning import ESS_FLOOR, condition, resample
from overhang_jax.priors._observations import parse_observations

PRIOR_MEAN, PRIOR_SD = 25.3, 0.3
# The trajectory model's largest run in 2023.0 is compute_start itself (P_0 = S_0 + H_0 with
# H_0 = compute_start - spend_start, while spend_start is below the willingness to spend): a model
# quantity that is a known function of one parameter.
NORMAL_START = f'model = "trajectory"\n[params]\ncompute_start = {{ dist = "normal", mean = {PRIOR_MEAN}, sd = {PRIOR_SD} }}\n'


def observing(value: float, sd: float, year: float = 2023.0) -> oj.Priors:
    return parse_observations(f"""
models = ["trajectory"]
[[observation]]
name = "run"
quantity = "largest_training_run"
year = {year}
value = {value}
sd = {sd}
""")


@pytest.fixture(scope="module")
def known_answer():
    priors = oj.load_priors("trajectory", text=NORMAL_START)
    return oj.run("trajectory", priors, draws=20_000, seed=3, observe=observing(25.8, 0.2), chunk_size=8192)


def test_the_log_likelihood_in_the_run_is_the_normal_density_of_compute_start(known_answer):
    start = oj.parameters(known_answer)["compute_start"].values.astype(np.float64)
    computed = known_answer["log_likelihood"]["run"].values.ravel().astype(np.float64)
    expected = scipy.stats.norm.logpdf(25.8, start, 0.2)
    # float32 run: the largest run is spend + (compute_start - spend), within 4 ulp of 25 (1e-5 OOM),
    # which moves the log density by at most |z| / sd * 1e-5 < 1e-3; the density itself to float32's
    # relative 1e-6 of values up to ~300.
    assert np.max(np.abs(computed - expected)) < 2e-3


def test_posterior_mean_and_sd_match_the_conjugate_normal_within_sampling_error(known_answer):
    precision = 1 / PRIOR_SD**2 + 1 / 0.2**2
    mean, sd = (PRIOR_MEAN / PRIOR_SD**2 + 25.8 / 0.2**2) / precision, precision**-0.5
    ess = known_answer.attrs["posterior_ess"]
    assert known_answer.attrs["posterior_reliable"] == 1 and ess > 5000
    start = known_answer["prior"]["compute_start"].values.ravel().astype(np.float64)
    weights = known_answer["sample_stats"]["importance_weight"].values.ravel()
    # Importance-weighted: standard errors sd / sqrt(ESS) for the mean, sd / sqrt(2 ESS) for the sd.
    weighted_mean = np.sum(weights * start)
    weighted_sd = math.sqrt(np.sum(weights * (start - weighted_mean) ** 2))
    assert abs(weighted_mean - mean) < 4 * sd / math.sqrt(ess)
    assert abs(weighted_sd - sd) < 4 * sd / math.sqrt(2 * ess)
    # The posterior group (the resample) adds resampling noise, at most as much again.
    posterior = known_answer["posterior"]["compute_start"].values.ravel().astype(np.float64)
    assert abs(posterior.mean() - mean) < 6 * sd / math.sqrt(ess)
    assert abs(posterior.std() - sd) < 6 * sd / math.sqrt(2 * ess)
    # ...and the data really moved it: the prior's mean is two posterior sds away (0.35 OOM).
    assert abs(start.mean() - mean) > 2 * sd


def test_an_uninformative_observation_reproduces_the_prior_summary():
    wide = oj.run("trajectory", draws=4000, seed=1, observe=observing(26.0, 1e4, year=2025.2))
    assert wide.attrs["posterior_ess"] > 0.999 * 4000
    prior = oj.summary(wide)
    posterior = oj.summary(wide, group="posterior_predictive", var_names=list(prior.index))
    for column in ("q5", "q50", "q95"):
        assert np.allclose(prior[column], posterior[column], rtol=0, atol=1e-3, equal_nan=True), column


def test_an_extreme_observation_gives_a_large_khat_and_the_warning():
    extreme = oj.run("trajectory", draws=4000, seed=1, observe=observing(28.5, 0.02, year=2025.2))
    attrs = extreme.attrs
    assert attrs["posterior_reliable"] == 0
    khat = attrs["posterior_pareto_khat"]
    assert not khat <= 0.7 or attrs["posterior_ess"] < ESS_FLOOR  # k-hat above 0.7, or not estimable (NaN)
    assert attrs["posterior_verdict"].startswith("POSTERIOR NOT RELIABLE")
    assert "more draws" in attrs["posterior_verdict"]


def test_weights_and_resample_are_bit_identical_whatever_the_chunk_size():
    runs = [oj.run("trajectory", draws=3000, seed=5, chunk_size=size, observe="frontier_compute_2023_2025")
            for size in (3000, 700)]
    for group, name in (("log_likelihood", "largest_run_2025"), ("sample_stats", "importance_weight"),
                        ("posterior_predictive", "tai_year_default")):
        assert np.array_equal(runs[0][group][name].values, runs[1][group][name].values, equal_nan=True)
    assert np.array_equal(runs[0]["posterior"]["prior_draw"].values, runs[1]["posterior"]["prior_draw"].values)


def test_systematic_resampling_copies_each_draw_floor_or_ceil_of_n_times_its_weight():
    weights = np.random.default_rng(0).dirichlet(np.ones(1000) * 0.3)
    index = resample(weights, seed=0)
    counts = np.bincount(index, minlength=1000)
    assert counts.sum() == 1000
    assert np.all(counts >= np.floor(1000 * weights) - 1e-9) and np.all(counts <= np.ceil(1000 * weights) + 1e-9)
    assert np.array_equal(index, resample(weights, seed=0)) and not np.array_equal(index, resample(weights, seed=1))


def test_draws_outside_a_hard_bound_get_no_weight_and_equal_weights_have_no_khat():
    made = condition({"a": np.array([0.0, -np.inf, 0.0, np.nan])}, seed=0)
    assert list(made.weights) == [0.5, 0, 0.5, 0] and made.excluded == 2
    assert math.isnan(made.khat) and made.ess == 2 and made.equal_weights
    assert "not defined" in made.verdict() and not made.reliable  # an ESS of 2 is below the floor
    with pytest.raises(oj.RunError, match="no draw is consistent"):
        condition({"a": np.array([-np.inf, -np.inf])}, seed=0)


def test_a_comparison_gives_both_worlds_of_a_pair_the_weight_of_its_draw():
    comparison = oj.compare("trajectory", "no_policy", "hard_cap_sudden_end", draws=3000,
                            observe="frontier_compute_2023_2025")
    weights = [comparison[k]["sample_stats"]["importance_weight"].values for k in ("a", "b")]
    assert np.array_equal(weights[0], weights[1])
    index = comparison["posterior"]["prior_draw"].values
    assert np.array_equal(index, comparison["a"]["posterior"]["prior_draw"].values)
    differences = comparison["prior_predictive"]["tai_delay"].values.ravel()
    assert np.array_equal(comparison["posterior"]["tai_delay"].values.ravel(), differences[index], equal_nan=True)
    # The observations are of the years before the cap: B's own log likelihoods are A's.
    assert comparison["b"].attrs["posterior_own_log_likelihood_max_change"] == 0
