"""Sobol indices: the Ishigami function's analytic values, SALib on the same design, and the CLI."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.cli import main
from overhang_jax.models._schema import Model, Output, Parameter
from overhang_jax.engine._run import RunError
from overhang_jax.studies._sensitivity import SaltelliDesign, saltelli_estimates

A, B = 7.0, 0.1
# Analytic indices of the Ishigami function for a = 7, b = 0.1 (Ishigami & Homma 1990; the issue's table).
VARIANCE = A**2 / 8 + B * math.pi**4 / 5 + B**2 * math.pi**8 / 18 + 0.5
ANALYTIC_S1 = np.array([(0.5 * (1 + B * math.pi**4 / 5) ** 2) / VARIANCE, A**2 / 8 / VARIANCE, 0.0])
ANALYTIC_ST = np.array([(0.5 * (1 + B * math.pi**4 / 5) ** 2 + 8 * B**2 * math.pi**8 / 225) / VARIANCE,
                        A**2 / 8 / VARIANCE, 8 * B**2 * math.pi**8 / 225 / VARIANCE])


def ishigami(p):
    return {"y": jnp.sin(p["x1"]) + A * jnp.sin(p["x2"]) ** 2 + B * p["x3"] ** 4 * jnp.sin(p["x1"])}


@pytest.fixture(scope="module")
def ishigami_model(tmp_path_factory):
    priors = tmp_path_factory.mktemp("ishigami") / "ishigami.toml"
    priors.write_text('model = "ishigami"\n[params]\n' + "".join(
        f'x{i} = {{ dist = "uniform", lo = {-math.pi!r}, hi = {math.pi!r} }}\n' for i in (1, 2, 3)))
    parameters = tuple(Parameter(f"x{i}", 0.0, "1", f"input {i}") for i in (1, 2, 3))
    return Model("ishigami", "Ishigami test function", parameters, (Output("y", "1", "Ishigami"),),
                 {"closed_form": ishigami}, str(priors))


@pytest.fixture(scope="module")
def ishigami_indices(ishigami_model):
    return oj.sobol_indices(ishigami_model, base_samples=2**14, seed=3, float64=True, chunk_size=8192)


def test_the_analytic_values_are_the_issues():
    assert np.round(ANALYTIC_S1, 3).tolist() == [0.314, 0.442, 0.0]
    assert np.round(ANALYTIC_ST, 3).tolist() == [0.558, 0.442, 0.244]


def test_ishigami_indices_match_the_analytic_values_within_their_intervals(ishigami_indices):
    y = ishigami_indices.sel(output="y")
    for kind, analytic in (("S1", ANALYTIC_S1), ("ST", ANALYTIC_ST)):
        low, high = y[f"{kind}_low"].values, y[f"{kind}_high"].values
        assert np.all(low <= analytic) and np.all(analytic <= high), (kind, low, analytic, high)
        assert np.all(high - low < 0.1)  # and the intervals are informative at 2^14 base samples
        assert np.allclose(y[kind].values, analytic, atol=0.03)
    assert "independent" in ishigami_indices.attrs["independence"]


def test_the_estimator_matches_salib_on_the_same_design_and_outputs():
    from SALib.analyze import sobol as salib_sobol

    design = SaltelliDesign(seed=5, dimension=3, analysed=(0, 1, 2), base_samples=2**12)
    unit = design.host_part(0, design.draws)
    x = -math.pi + 2 * math.pi * unit
    y = np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    reference = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=10, seed=1)
    with jax.enable_x64(True):  # as sobol_indices computes them
        first, total = saltelli_estimates(jnp.asarray(y.reshape(design.base_samples, 5)))
    assert np.allclose(first, reference["S1"], rtol=1e-5, atol=1e-6)
    assert np.allclose(total, reference["ST"], rtol=1e-5, atol=1e-6)


def test_the_design_rows_follow_salib_layout_and_are_chunk_independent():
    design = SaltelliDesign(seed=2, dimension=4, analysed=(1, 3), base_samples=64)
    whole = design.host_part(0, design.draws)
    rows = whole.reshape(64, 4, 4)  # (base, A / AB_1 / AB_3 / B, coordinate)
    a, ab1, ab3, b = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    assert np.array_equal(ab1[:, [0, 2, 3]], a[:, [0, 2, 3]]) and np.array_equal(ab1[:, 1], b[:, 1])
    assert np.array_equal(ab3[:, :3], a[:, :3]) and np.array_equal(ab3[:, 3], b[:, 3])
    assert not np.any(a == b)
    pieces = np.concatenate([design.host_part(s, 37) for s in range(0, design.draws, 37)])[: design.draws]
    assert np.array_equal(pieces, whole)


def test_takeoff_indices_are_reproducible_whatever_the_chunking():
    kwargs = {"outputs": ["max_speed"], "parameters": ["c0", "c1_over_c0", "delay_software"],
              "base_samples": 256, "seed": 4, "bootstrap": 50}
    first = oj.sobol_indices("takeoff", chunk_size=300, **kwargs)
    second = oj.sobol_indices("takeoff", chunk_size=1024, **kwargs)
    for name in ("S1", "ST", "S1_low", "ST_high"):
        assert np.array_equal(first[name].values, second[name].values), name
    # Total order is never below first order beyond sampling noise, and the ranking is the tornado's.
    st = first["ST"].sel(output="max_speed").to_series()
    assert st.idxmax() == "c1_over_c0"


def test_correlations_are_dropped_and_said_so():
    text = ('model = "takeoff"\n[params]\nsize_software = { dist = "normal", mean = 12, sd = 1 }\n'
            'size_hardware = { dist = "normal", mean = 9, sd = 1, min = 0 }\n'
            '[[correlations]]\nparams = ["size_hardware", "size_software"]\nrank = 0.5\n')
    priors = oj.load_priors(oj.TAKEOFF, text=text)
    indices = oj.sobol_indices("takeoff", priors, outputs=["takeoff_year"], base_samples=64, bootstrap=10)
    assert "size_hardware~size_software (0.5)" in indices.attrs["independence"]


@pytest.mark.parametrize("kwargs,message", [
    ({"parameters": ["nope"]}, "no parameter 'nope'"),
    ({"parameters": ["start_year"]}, "point value"),
    ({"outputs": ["speed"]}, "no output 'speed'"),
    ({"base_samples": 1}, "base_samples"),
    ({"confidence": 1.5}, "confidence"),
])
def test_bad_requests_are_refused_before_compute(kwargs, message):
    with pytest.raises(RunError, match=message):
        oj.sobol_indices("takeoff", **kwargs)


def test_cli_prints_the_ranked_table_and_writes_file_and_plot(tmp_path, capsys):
    out = tmp_path / "sens.nc"
    code = main(["sensitivity", "takeoff", "--output", "max_speed", "--base-samples", "128", "--bootstrap", "20",
                 "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    lines = [line.split() for line in stdout.splitlines() if line.split() and line.split()[0] in
             oj.TAKEOFF.parameter_names]
    totals = [float(line[4]) for line in lines]
    assert totals == sorted(totals, reverse=True) and len(lines) >= 5  # ranked by total order
    assert "assume independent inputs" in stdout
    assert (tmp_path / "sens.png").read_bytes()[:4] == b"\x89PNG"
    import xarray as xr
    # The bars are labelled with the parameters' names as the priors file spells them, strongest on top.
    with xr.open_dataset(out, engine="h5netcdf") as indices:
        fig = oj.plots.plot_sobol(indices.load(), "max_speed")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[::-1] == [line[0] for line in lines][:len(labels)]
    with xr.open_dataset(out, engine="h5netcdf") as saved:
        assert saved.attrs["base_samples"] == 128 and "S1" in saved
    code = main(["sensitivity", "takeoff", "--output", "speed"])
    assert code == 2 and "no output 'speed'" in capsys.readouterr().err


def test_weighted_estimates_are_the_estimates_with_samples_repeated():
    from overhang_jax.studies._sensitivity import weighted_estimates

    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, (200, 6)) + rng.normal(0, 1, (200, 1))
    counts = rng.integers(0, 4, 200).astype(np.float64)
    with jax.enable_x64(True):
        equal = weighted_estimates(jnp.asarray(values), jnp.ones(200))
        plain = saltelli_estimates(jnp.asarray(values))
        weighted = weighted_estimates(jnp.asarray(values), jnp.asarray(counts))
        repeated = saltelli_estimates(jnp.asarray(np.repeat(values, counts.astype(int), axis=0)))
    for ours, reference in ((equal, plain), (weighted, repeated)):
        assert np.allclose(ours[0], reference[0], rtol=1e-10, atol=1e-12)
        assert np.allclose(ours[1], reference[1], rtol=1e-10, atol=1e-12)
