"""The runner: reproducibility across chunking and devices, checkpoints, results files."""

import json
import os

import jax
import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.engine import _checkpoint
from overhang_jax.engine import _run as _runner
from overhang_jax._results import OUTPUTS_GROUP, PARAMETERS_GROUP, load, save
from overhang_jax.studies._summaries import summary

DRAWS = 3000


def arrays(results):
    """Every per-draw variable, one value per draw (the single chain flattened)."""
    return {(g, v): results[g][v].values.ravel() for g in (PARAMETERS_GROUP, OUTPUTS_GROUP)
            for v in results[g].data_vars}


def assert_bit_identical(a, b):
    left, right = arrays(a), arrays(b)
    assert left.keys() == right.keys()
    for key in left:
        # array_equal with equal_nan compares bits of finite values exactly.
        assert left[key].dtype == right[key].dtype, key
        assert np.array_equal(left[key], right[key], equal_nan=True), key


@pytest.fixture(scope="module")
def reference_run():
    return oj.run("takeoff", draws=DRAWS, seed=11, chunk_size=DRAWS, devices=jax.devices()[:1])


def test_eight_devices_are_available():
    # conftest forces 8 CPU devices; without them the sharding tests prove nothing.
    assert len(jax.devices()) == 8


@pytest.mark.parametrize("chunk_size,n_devices", [(DRAWS, 8), (256, 1), (1000, 8), (777, 2), (64, 8)])
def test_draws_bit_identical_whatever_chunks_and_devices(reference_run, chunk_size, n_devices):
    other = oj.run("takeoff", draws=DRAWS, seed=11, chunk_size=chunk_size, devices=jax.devices()[:n_devices])
    assert_bit_identical(reference_run, other)


@pytest.mark.parametrize("sampler", ["sobol", "lhs"])
def test_quasi_random_samplers_bit_identical_across_chunks(sampler):
    one = oj.run("takeoff", draws=2000, seed=5, sampler=sampler, chunk_size=2000, devices=jax.devices()[:1])
    many = oj.run("takeoff", draws=2000, seed=5, sampler=sampler, chunk_size=300)
    assert_bit_identical(one, many)


@pytest.mark.parametrize("sampler", ["mc", "sobol", "lhs"])
def test_separate_runs_of_scenarios_that_vary_different_parameters_are_paired(sampler):
    # A fixes two parameters, B fixes two others: each parameter both leave uncertain, with the
    # same prior, takes the same value in draw i of each, though its position among the varying
    # parameters differs (a coordinate is keyed by the parameter, not by that position).
    a = oj.load_priors("takeoff", text='model = "takeoff"\n[params]\nsize_investment = 4\ndelay_hardware = 0.5\n')
    b = oj.load_priors("takeoff", text='model = "takeoff"\n[params]\nsize_software = 6\nc0 = 0.2\n')
    run_a, run_b = (oj.run("takeoff", p, draws=512, seed=7, sampler=sampler, chunk_size=200) for p in (a, b))
    shared = [n for n in a.random_names if n in b.random_names]
    assert len(shared) == 5
    for name in shared:
        values = run_a["prior"][name].values
        np.testing.assert_array_equal(values, run_b["prior"][name].values, err_msg=name)
        assert len(np.unique(values)) == 512  # draws of a distribution, not a constant
    # And with the shipped defaults, which fix neither: the same values again.
    defaults = oj.run("takeoff", draws=512, seed=7, sampler=sampler, chunk_size=512)
    for name in shared:
        np.testing.assert_array_equal(run_a["prior"][name].values, defaults["prior"][name].values, err_msg=name)


def test_scenario_runs_by_name_are_paired_with_the_defaults():
    # evaded_cap changes e_share and h only (docs/scenarios.md); every other uncertain
    # parameter takes the defaults' values draw for draw.
    default = oj.run("trajectory", draws=200, seed=3, chunk_size=128)
    evaded = oj.run("trajectory", "evaded_cap", draws=200, seed=3)
    assert evaded.attrs["scenario"] == "evaded_cap" and evaded.attrs["priors_source"] == "evaded_cap"
    changed = {"e_share", "h"}
    for name in default["prior"].data_vars:
        same = np.array_equal(default["prior"][name].values, evaded["prior"][name].values)
        assert same == (name not in changed), name


def test_a_static_parameter_compiles_its_own_function():
    # step_years fixes the loop's length: a run at 0.05 after one at 0.1 must not reuse the
    # function compiled for 0.1 (the compiled-function cache is keyed by its value).
    def priors(step):
        return oj.load_priors("trajectory", text=f'model = "trajectory"\n[params]\nstep_years = {step}\n')

    coarse = oj.run("trajectory", priors(0.1), draws=64, seed=1)
    fine = oj.run("trajectory", priors(0.05), draws=64, seed=1)
    params = {n: np.asarray(v.values) for n, v in oj.parameters(fine).data_vars.items()}
    model = oj.TRAJECTORY.methods[oj.TRAJECTORY.default_method]
    direct = jax.jit(jax.vmap(lambda p: model({**p, "step_years": 0.05})))(
        {n: v for n, v in params.items() if n != "step_years"})
    np.testing.assert_allclose(oj.outputs(fine)["tai_year_default"].values, direct["tai_year_default"], rtol=1e-6)
    assert not np.array_equal(oj.outputs(fine)["tai_year_default"].values,
                              oj.outputs(coarse)["tai_year_default"].values)


def test_scenarios_with_other_numbers_share_one_compiled_program(caplog):
    # The priors are data of the compiled program: scenarios that fix some parameters (no_policy fixes
    # cap_headroom, which the defaults draw) or change a distribution's numbers reuse the program of
    # the defaults; only a parameter that fixes a shape (step_years) is compiled in.
    changed = oj.load_priors("trajectory", text='model = "trajectory"\n[params]\n'
                                                 'D = { dist = "lognormal", lo = 3, hi = 9, max = 60 }\n')
    first = oj.run("trajectory", "no_policy", draws=64, seed=1)
    with jax.log_compiles(True), caplog.at_level("WARNING"):
        others = [oj.run("trajectory", priors, draws=64, seed=1)
                  for priors in ("gradual_lift", "hard_cap_sudden_end", None, changed)]
    assert not [r for r in caplog.records if "XLA compilation" in r.getMessage()]
    d = [oj.parameters(r)["D"].values for r in others]
    assert np.array_equal(d[0], d[2]) and not np.array_equal(d[2], d[3])  # the new numbers were used
    assert "cap_headroom" not in first[PARAMETERS_GROUP] and "cap_headroom" in others[0][PARAMETERS_GROUP]
    # Pairing kept: a parameter both leave uncertain with the same prior has the same draws.
    assert np.array_equal(oj.parameters(first)["alpha"].values, oj.parameters(others[0])["alpha"].values)


def test_runs_of_nearby_sizes_share_one_compiled_program(caplog):
    for draws in range(1, 65_537, 13):
        size = _runner.compiled_chunk(draws, 65536)
        assert draws <= size <= max(256, 1.25 * draws), draws
    assert _runner.compiled_chunk(5000, 1000) == 1000  # several chunks: the chunk size asked for
    assert _runner.compiled_chunk(100_000, 100_000) == 100_000  # beyond one default chunk: as asked
    first = oj.run("takeoff", draws=300, seed=1)
    with jax.log_compiles(True), caplog.at_level("WARNING"):
        nearby = oj.run("takeoff", draws=310, seed=1)  # padded to the same 320 draws: no new program
    assert not [r for r in caplog.records if "XLA compilation" in r.getMessage()]
    for key, values in arrays(first).items():  # the padding changes no draw
        assert np.array_equal(values, arrays(nearby)[key][:300], equal_nan=True), key


def test_prefix_of_a_longer_run_is_the_same_draws(reference_run):
    longer = oj.run("takeoff", draws=DRAWS + 500, seed=11, chunk_size=1024)
    for key, values in arrays(reference_run).items():
        assert np.array_equal(values, arrays(longer)[key][:DRAWS], equal_nan=True), key


def test_seeds_differ(reference_run):
    other = oj.run("takeoff", draws=DRAWS, seed=12, chunk_size=DRAWS)
    assert not np.array_equal(reference_run["prior"]["c0"].values, other["prior"]["c0"].values)


def test_lhs_stratifies_each_parameter():
    draws = 1024
    results = oj.run("takeoff", draws=draws, seed=2, sampler="lhs", chunk_size=256)
    priors = oj.load_priors(oj.TAKEOFF)
    for name in priors.random_names:
        dist = priors.distributions[name].scipy()
        strata = np.floor(dist.cdf(results["prior"][name].values.astype(np.float64)) * draws)
        # Each of the `draws` equal-probability strata holds one draw (float32 rounding may
        # push a draw across a boundary, hence the small slack).
        assert len(np.unique(strata)) >= draws - 8, name


def test_sobol_is_closer_to_the_mean_than_mc():
    # Scrambled Sobol integrates the smooth c0 marginal with far less error than MC.
    exact = oj.load_priors(oj.TAKEOFF).distributions["c0"].scipy().mean()
    errors = {}
    for sampler in ("mc", "sobol"):
        values = oj.run("takeoff", draws=4096, seed=9, sampler=sampler)["prior"]["c0"].values.astype(np.float64)
        errors[sampler] = abs(values.mean() - exact)
    assert errors["sobol"] < errors["mc"] / 5


def test_float32_and_float64_agree():
    single = oj.run("takeoff", draws=2000, seed=4)
    double = oj.run("takeoff", draws=2000, seed=4, float64=True)
    assert single["prior_predictive"]["takeoff_year"].dtype == np.float32
    assert double["prior_predictive"]["takeoff_year"].dtype == np.float64
    years32 = single["prior_predictive"]["takeoff_year"].values.astype(np.float64)
    years64 = double["prior_predictive"]["takeoff_year"].values
    # Documented tolerance: the takeoff step agrees to within one step, and on >= 99% of draws exactly.
    step = 0.1
    assert np.all(np.abs(years32 - years64) <= step + 1e-3)
    assert np.mean(np.abs(years32 - years64) < 1e-3) >= 0.99
    same = np.abs(years32 - years64) < 1e-3
    for name in ("max_speed", "remaining_software"):
        a = single["prior_predictive"][name].values[same].astype(np.float64)
        b = double["prior_predictive"][name].values[same]
        np.testing.assert_allclose(a, b, rtol=1e-3)


def test_checkpoint_resume_is_bit_identical(tmp_path, reference_run, monkeypatch):
    checkpoint = tmp_path / "ckpt"
    calls = []
    real_save = _checkpoint.Checkpoint.save

    def save_then_die(self, start, arrays):
        real_save(self, start, arrays)
        calls.append(start)
        if len(calls) == 2:
            raise KeyboardInterrupt  # a kill after two chunks were saved

    monkeypatch.setattr(_checkpoint.Checkpoint, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        oj.run("takeoff", draws=DRAWS, seed=11, chunk_size=512, checkpoint=checkpoint)
    saved = sorted(p.name for p in checkpoint.glob("chunk_*.npz"))
    assert len(saved) == 2
    assert not list(checkpoint.glob("*.tmp"))

    monkeypatch.setattr(_checkpoint.Checkpoint, "save", real_save)
    dispatched = []
    real_chunk_function = _runner._chunk_function

    def counting_chunk_function(*args):
        fn = real_chunk_function(*args)

        def wrapped(key, index, *rest):
            dispatched.append(int(np.asarray(index)[0]))
            return fn(key, index, *rest)
        return wrapped

    monkeypatch.setattr(_runner, "_chunk_function", counting_chunk_function)
    resumed = oj.run("takeoff", draws=DRAWS, seed=11, chunk_size=512, checkpoint=checkpoint)
    assert_bit_identical(reference_run, resumed)
    # The two saved chunks were not computed again.
    assert not set(dispatched) & {0, 512}
    assert len(dispatched) == len(range(0, DRAWS, 512)) - 2


def test_checkpoint_of_another_run_is_refused(tmp_path):
    checkpoint = tmp_path / "ckpt"
    oj.run("takeoff", draws=500, seed=1, chunk_size=256, checkpoint=checkpoint)
    with pytest.raises(_runner.RunError, match="different run.*seed"):
        oj.run("takeoff", draws=500, seed=2, chunk_size=256, checkpoint=checkpoint)


def test_nonfinite_outputs_are_counted_not_dropped():
    # Pools too small to reach the threshold: no draw takes off.
    priors = oj.load_priors(oj.TAKEOFF, text="""
        [params]
        size_investment = 1
        size_hardware = 1
        size_software = { dist = "uniform", lo = 0, hi = 20 }
    """)
    results = oj.run("takeoff", priors, draws=1000, seed=0)
    years = results["prior_predictive"]["takeoff_year"].values
    sizes = results["prior"]["size_software"].values
    # capability_start 24 + 2 + S_sw must reach the threshold; the threshold is uncertain,
    # so only the sure cases are asserted.
    assert np.all(np.isinf(years[sizes < 5]))
    assert results["prior_predictive"].sizes["draw"] == 1000
    counts = oj.nonfinite_counts(results)
    assert counts["takeoff_year"] == int(np.count_nonzero(~np.isfinite(years))) > 0
    assert results["prior_predictive"]["takeoff_year"].attrs["nonfinite_count"] == counts["takeoff_year"]
    table = summary(results)
    assert table.loc["takeoff_year", "nonfinite"] == counts["takeoff_year"]
    finite = years[np.isfinite(years)].astype(np.float64)
    assert table.loc["takeoff_year", "mean"] == pytest.approx(finite.mean(), rel=1e-9)


def test_summary_statistics_match_numpy(reference_run):
    table = summary(reference_run)
    for name in ("takeoff_year", "max_speed", "remaining_hardware"):
        values = reference_run["prior_predictive"][name].values.astype(np.float64)
        values = values[np.isfinite(values)]
        row = table.loc[name]
        assert row["mean"] == pytest.approx(values.mean())
        assert row["sd"] == pytest.approx(values.std(ddof=1))
        assert row[["q5", "q50", "q95"]].tolist() == pytest.approx(np.quantile(values, [0.05, 0.5, 0.95]).tolist())
        # The 90% HDI holds 90% of the draws and is no wider than the central interval.
        inside = np.mean((values >= row["hdi90_lower"]) & (values <= row["hdi90_upper"]))
        assert inside == pytest.approx(0.9, abs=0.01)
        # ... and no wider than the central run of as many sorted draws.
        ordered, span = np.sort(values), int(np.floor(0.9 * values.size))
        middle = (values.size - span - 1) // 2
        assert row["hdi90_upper"] - row["hdi90_lower"] <= ordered[middle + span] - ordered[middle]
    assert "r_hat" not in table.columns and "ess_bulk" not in table.columns


def test_summary_text_keeps_significant_figures(reference_run):
    text = oj.format_summary(summary(reference_run))
    mean_year = summary(reference_run).loc["takeoff_year", "mean"]
    assert f"{mean_year:.5g}" in text  # e.g. 2040.6, not 2000 (arviz rounds to 2 figures)


def test_netcdf_round_trip_and_attributes(tmp_path, reference_run):
    path = save(reference_run, tmp_path / "run.nc")
    loaded = load(path)
    assert_bit_identical(reference_run, loaded)
    attrs = loaded.attrs
    assert attrs["model"] == "takeoff" and attrs["seed"] == 11 and attrs["draws"] == DRAWS
    assert attrs["sampler"] == "mc" and attrs["version"] == oj.__version__
    assert attrs["jax_version"] == jax.__version__ and "cpu" in attrs["devices"].lower()
    assert json.loads(attrs["nonfinite_counts"]).keys() == set(oj.TAKEOFF.output_names)
    # The recorded priors reproduce the run.
    priors = oj.load_priors(oj.TAKEOFF, text=attrs["priors_toml"])
    again = oj.run("takeoff", priors, draws=DRAWS, seed=11)
    assert_bit_identical(reference_run, again)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_failed_write_leaves_no_partial_file(tmp_path, reference_run, monkeypatch):
    target = tmp_path / "run.nc"
    target.write_bytes(b"previous result")

    def broken_to_netcdf(self, path=None, **kwargs):
        if path is not None:
            with open(path, "wb") as f:
                f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(type(reference_run), "to_netcdf", broken_to_netcdf)
    with pytest.raises(OSError, match="disk full"):
        save(reference_run, target)
    assert target.read_bytes() == b"previous result"
    assert os.listdir(tmp_path) == ["run.nc"]


@pytest.mark.parametrize("kwargs,message", [
    ({"draws": 0}, "draws must be a positive integer"),
    ({"draws": -5}, "draws must be a positive integer"),
    ({"draws": 10.5}, "draws must be a positive integer"),
    ({"draws": 10, "chunk_size": 0}, "chunk_size must be a positive integer"),
    ({"draws": 10, "seed": -1}, "seed must be an integer"),
    ({"draws": 10, "method": "euler"}, "no method 'euler'"),
    ({"draws": 10, "sampler": "halton"}, "unknown sampler 'halton'"),
    ({"draws": 2**31 - 10}, "within 2\\*\\*31"),
])
def test_bad_run_arguments_are_rejected(kwargs, message):
    kwargs.setdefault("seed", 0)
    with pytest.raises(ValueError, match=message):
        oj.run("takeoff", **kwargs)


def test_unknown_model_is_rejected():
    with pytest.raises(_runner.RunError, match="unknown model 'takeof'"):
        oj.run("takeof", draws=10, seed=0)


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    oj.run("takeoff", draws=300, seed=0, chunk_size=100, progress=True)
    assert "300/300" in capsys.readouterr().err
    oj.run("takeoff", draws=300, seed=0, chunk_size=100)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("method,scenario", [("stepped", None), ("closed_form", "takeoff_asymmetry.toml")])
def test_draws_bit_identical_when_loops_run_in_sorted_groups(method, scenario):
    # Chunks of 1024 on one device are stepped in sorted groups of 128 draws; chunks
    # of 1000 (not a multiple of the group) in one batch; 8 devices get 125 each.
    from overhang_jax.priors._scenarios import SCENARIOS_DIR

    priors = oj.load_priors(oj.TAKEOFF, SCENARIOS_DIR / scenario) if scenario else None
    runs = [oj.run("takeoff", priors, draws=2048, seed=21, method=method, chunk_size=size,
                   devices=jax.devices()[:n]) for size, n in ((1024, 1), (1000, 1), (1000, 8))]
    assert _runner.LOOP_GROUP_SIZES["cpu"] == 128
    for other in runs[1:]:
        assert_bit_identical(runs[0], other)
