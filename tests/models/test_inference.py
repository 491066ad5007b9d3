"""The inference model (docs/inference.md) and the code it shares with the takeoff model."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.models import _inference
from overhang_jax.engine import _run as _runner
from overhang_jax.models import _takeoff

SECONDS_PER_YEAR = 365.25 * 24 * 3600


def evaluate(params: dict, model=oj.INFERENCE, method=None):
    """The model on a batch of draws, in float64."""
    method = method or model.default_method
    with jax.enable_x64(True):
        batch = {k: jnp.asarray(v, jnp.float64) for k, v in params.items()}
        return {k: np.asarray(v) for k, v in jax.jit(jax.vmap(model.methods[method]))(batch).items()}


def reference_params(n=1, **changes):
    params = {k: np.full(n, v, np.float64) for k, v in oj.INFERENCE.reference_draw().items()}
    params.update({k: np.broadcast_to(np.asarray(v, np.float64), (n,)).copy() for k, v in changes.items()})
    return params


def test_reference_case_by_hand():
    # docs/inference.md: 1e21 FLOP/s (a quarter of 2023's ~4e21) for a year, H = 1, r = 20.
    flop = 1e21 * 365.25 * 24 * 3600                       # 3.15576e28 FLOP
    params = math.sqrt(flop / (6 * 20 * 1))                # C = 6 N D H, D = 20 N
    tokens = 1e21 / (2 * params)                           # 2 FLOP per parameter per token
    assert tokens == pytest.approx(3 * 20 * 1 * params / SECONDS_PER_YEAR, rel=1e-12)  # = 3 r H N / T
    out = evaluate(reference_params())
    assert out["training_flop"][0] == pytest.approx(flop, rel=1e-12)
    assert out["params_count"][0] == pytest.approx(params, rel=1e-12)
    assert out["tokens_per_second"][0] == pytest.approx(tokens, rel=1e-12)
    assert out["parallel_streams"][0] == pytest.approx(tokens / 50, rel=1e-12)
    assert out["copies_multiplier"][0] == pytest.approx(1.0, rel=1e-12)
    # The figures docs/inference.md quotes: ~1.6e13 parameters, ~3e7 tokens/s, hundreds of thousands of streams.
    assert 1.55e13 < out["params_count"][0] < 1.65e13
    assert 2.9e7 < out["tokens_per_second"][0] < 3.2e7
    assert 1e5 < out["parallel_streams"][0] < 1e6


@pytest.fixture(scope="module")
def random_draws():
    results = oj.run("inference", draws=2000, seed=3, float64=True)
    params = {k: oj.parameters(results)[k].values for k in oj.INFERENCE.parameter_names}
    return params, {k: oj.outputs(results)[k].values for k in oj.INFERENCE.output_names}


def test_against_a_plain_numpy_implementation(random_draws):
    params, outputs = random_draws
    flop = params["cluster_flop_per_second"] * params["training_years"] * SECONDS_PER_YEAR * params["utilisation"]
    n = np.sqrt(flop / (6 * params["tokens_per_param"] * params["horizon_tokens"]))
    tokens = params["utilisation"] * params["cluster_flop_per_second"] / (params["flop_per_param_forward"] * n)
    np.testing.assert_allclose(outputs["training_flop"], flop, rtol=1e-12)
    np.testing.assert_allclose(outputs["params_count"], n, rtol=1e-12)
    np.testing.assert_allclose(outputs["tokens_per_second"], tokens, rtol=1e-12)
    np.testing.assert_allclose(outputs["parallel_streams"], tokens / params["stream_tokens_per_second"], rtol=1e-12)
    np.testing.assert_allclose(outputs["copies_multiplier"], np.sqrt(flop / params["reference_training_flop"]),
                               rtol=1e-9)


@pytest.mark.parametrize("factor", [100.0, 1e-4, 7.3])
def test_copies_grow_as_sqrt_of_training_compute(random_draws, factor):
    # Property on every draw: factor x the cluster's compute (same duration) gives sqrt(factor) x the
    # tokens, streams and copies; the parameter count grows by sqrt(factor) too.
    params, outputs = random_draws
    scaled = evaluate({**params, "cluster_flop_per_second": params["cluster_flop_per_second"] * factor})
    for name in ("tokens_per_second", "parallel_streams", "copies_multiplier", "params_count"):
        np.testing.assert_allclose(scaled[name] / outputs[name], math.sqrt(factor), rtol=1e-9)


@pytest.mark.parametrize("factor", [100.0, 0.01, 3.0])
def test_tokens_grow_as_sqrt_of_horizon(random_draws, factor):
    # Longer horizons mean fewer parameters for the same compute: N ~ 1/sqrt(H), tokens/s ~ sqrt(H).
    params, outputs = random_draws
    scaled = evaluate({**params, "horizon_tokens": params["horizon_tokens"] * factor})
    np.testing.assert_allclose(scaled["tokens_per_second"] / outputs["tokens_per_second"], math.sqrt(factor),
                               rtol=1e-9)
    np.testing.assert_allclose(scaled["params_count"] / outputs["params_count"], 1 / math.sqrt(factor), rtol=1e-9)
    np.testing.assert_allclose(scaled["copies_multiplier"], outputs["copies_multiplier"], rtol=1e-12)


def test_takeoff_asymmetry_multiplier_is_the_copies_multiplier():
    # 100x the investment gives 10x the copies, and with returns of 1/2 a sqrt(10)x multiplier.
    draw = {**oj.TAKEOFF.reference_draw(), "asymmetry": 1.0}
    with jax.enable_x64(True):
        p = {k: jnp.float64(v) for k, v in draw.items()}
        remaining = _takeoff.Pools(jnp.float64(1.0), jnp.float64(1.0), jnp.float64(1.0))
        at_base = float(_takeoff.asymmetry_multiplier(p, jnp.int32(0), remaining))
        spent = _takeoff.Pools(jnp.float64(0.5), jnp.float64(1.0), jnp.float64(1.0))  # 2 of 4 OOM spent
        after = float(_takeoff.asymmetry_multiplier(p, jnp.int32(0), spent))
        copies = float(oj.copies_multiplier(jnp.float64(4.0), 0.5))
    assert copies == pytest.approx(100.0, rel=1e-12)  # 1e4 x the compute: 100x the copies
    assert at_base == pytest.approx(draw["c2"] * copies ** 0.5, rel=1e-12)
    assert after / at_base == pytest.approx(math.sqrt(10), rel=1e-12)
    # The default scaling exponent is one constant, in the shipped priors of the takeoff model too.
    assert oj.TAKEOFF.parameter("asymmetry_scaling").default == _inference.CHINCHILLA_COPIES_SCALING
    defaults = oj.load_priors(oj.TAKEOFF).distributions["asymmetry_scaling"]
    assert defaults.point_value == _inference.CHINCHILLA_COPIES_SCALING


def test_changing_the_copies_relation_changes_both_models(monkeypatch):
    # One function serves both models: replace it and both outputs move.
    takeoff_priors = oj.load_priors(oj.TAKEOFF, text="[params]\nasymmetry = 1\n")
    before = (oj.run("inference", draws=64, seed=0), oj.run("takeoff", takeoff_priors, draws=64, seed=0))
    original = _inference.copies_multiplier
    monkeypatch.setattr(_inference, "copies_multiplier", lambda ratio, scaling: original(ratio, 2 * scaling))
    monkeypatch.setattr(_inference, "CHINCHILLA_COPIES_SCALING", 2 * _inference.CHINCHILLA_COPIES_SCALING)
    _runner._COMPILED.clear()  # compiled functions hold the old relation
    after = (oj.run("inference", draws=64, seed=0), oj.run("takeoff", takeoff_priors, draws=64, seed=0))
    _runner._COMPILED.clear()
    inference_before, inference_after = (r["prior_predictive"]["copies_multiplier"].values for r in
                                         (before[0], after[0]))
    np.testing.assert_allclose(inference_after, inference_before ** 4, rtol=1e-4)  # (C/C_ref)^(1/2) -> ^2
    multiplier_before, multiplier_after = (r["prior_predictive"]["asymmetry_multiplier"].values for r in
                                           (before[1], after[1]))
    assert np.all(multiplier_after != multiplier_before)


@pytest.mark.parametrize("text,message", [
    ("cluster_flop_per_second = 0", "value 0 is not allowed; must be in (0, inf)"),
    ("cluster_flop_per_second = -1e21", "must be in (0, inf)"),
    ("utilisation = 1.5", "must be in (0, 1]"),
    ("utilisation = 0", "must be in (0, 1]"),
    ('utilisation = { dist = "uniform", lo = 0.5, hi = 1.2 }', "outside the allowed range (in (0, 1])"),
    ("horizon_tokens = 0", "horizon_tokens"),
    ('horizon_tokens = { dist = "normal", mean = 10, sd = 10 }', "add min/max to truncate"),
    ("training_years = -1", "training_years"),
])
def test_meaningless_inputs_are_rejected_before_compute(text, message):
    with pytest.raises(oj.PriorsError, match="parameter") as err:
        oj.load_priors(oj.INFERENCE, text=f"[params]\n{text}\n")
    assert message in str(err.value)


def test_cli_runs_the_inference_model(tmp_path, capsys):
    from overhang_jax.cli import main

    out = tmp_path / "inference.nc"
    assert main(["run", "inference", "--draws", "5000", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "parallel_streams" in stdout and "copies_multiplier" in stdout
    for suffix in ("streams_vs_compute", "distributions"):
        assert (tmp_path / f"inference_{suffix}.png").stat().st_size > 10_000
    results = oj.load(out)
    assert results.attrs["model"] == "inference"
    # The default priors centre on 2023-era clusters: hundreds of thousands to tens of millions of streams.
    median = np.median(results["prior_predictive"]["parallel_streams"].values)
    assert 1e5 < median < 1e8
