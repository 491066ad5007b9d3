"""Given parameter sets evaluated on the runner: `oj.evaluate` and `overhang-jax eval`."""

import numpy as np
import pandas as pd
import pytest

import overhang_jax as oj


@pytest.mark.parametrize("model,scenario", [("takeoff", "takeoff_software_pause"), ("trajectory", "evaded_cap")])
def test_the_parameters_of_a_run_evaluated_give_its_outputs_exactly(model, scenario):
    run = oj.run(model, scenario, draws=600, chunk_size=256)
    table = oj.parameters(run).to_dataframe()  # every parameter, varying or fixed, one row per draw
    again = oj.evaluate(model, table, chunk_size=100)
    for name in oj.get_model(model).output_names:
        np.testing.assert_array_equal(again["prior_predictive"][name].values, run["prior_predictive"][name].values,
                                      err_msg=name)
    if "trajectories" in run.children:  # the histograms and kept series too
        for name, values in run["trajectories"].to_dataset().data_vars.items():
            np.testing.assert_array_equal(again["trajectories"][name].values, values.values, err_msg=name)
    # A run's layout: draw i is row i, the parameters given in `prior`, what stays fixed in `constant_data`.
    assert again["prior_predictive"].sizes == {"chain": 1, "draw": 600}
    static = set(oj.get_model(model).static_names)  # one value for every set: kept once
    assert set(again["prior"].data_vars) == set(table.columns) - static
    assert set(again["constant_data"].data_vars) == static
    assert again.attrs["sampler"] == "given" and again.attrs["kind"] == "run"


def test_missing_columns_take_the_defaults_and_a_mapping_is_a_table():
    given = oj.evaluate("takeoff", {"c0": [0.004, 0.004, 0.004], "takeoff_threshold": [34.0, 36.0, 38.0]})
    assert set(given["prior"].data_vars) == {"c0", "takeoff_threshold"}
    for param in oj.TAKEOFF.parameters:
        if param.name not in ("c0", "takeoff_threshold"):
            assert float(given["constant_data"][param.name]) == pytest.approx(param.default)
    # The same sets with every default written out: the same outputs.
    full = {p.name: [p.default] * 3 for p in oj.TAKEOFF.parameters}
    full.update(c0=[0.004, 0.004, 0.004], takeoff_threshold=[34.0, 36.0, 38.0])
    written = oj.evaluate("takeoff", pd.DataFrame(full))
    for name in oj.TAKEOFF.output_names:
        np.testing.assert_array_equal(given["prior_predictive"][name].values, written["prior_predictive"][name].values)
    # Draw i is set i: a later threshold, a later takeoff.
    assert np.all(np.diff(given["prior_predictive"]["takeoff_year"].values.ravel()) > 0)


@pytest.mark.parametrize("table,message", [
    ({"c0": [0.2], "takeof_threshold": [3.0]}, "unknown parameter 'takeof_threshold'.*did you mean 'takeoff_threshold'"),
    ({"E_tai": [34.0]}, "unknown parameter 'E_tai' for model 'takeoff'.*parameter of model 'trajectory'"),
    ({"c0": [0.2, "abc"]}, "parameter 'c0' must be numbers, got 'abc' in set 1 of table"),
    ({"c0": [0.2, float("inf")]}, "parameter 'c0' must be finite"),
    ({"c0": [0.2, -1.0]}, r"parameter 'c0' must be in \(0, 1\].*got -1 in set 1"),
    ({"c0": [0.2, 0.3], "c1_over_c0": [2.0]}, "one value per set; the lengths differ"),
    ({"c0": []}, "no parameter sets"),
    ({}, "no columns"),
    ({"software_pause_start": [2025.0, 2031.0], "software_pause_end": [2030.0, 2030.0]},
     "'software_pause_end' must be >= 'software_pause_start', but set 1 of table has 2030 < 2031"),
    ({"asymmetry": [0.5]}, "asymmetry.*one of 0, 1"),
])
def test_bad_tables_are_refused_before_any_compute(table, message, monkeypatch):
    from overhang_jax.engine import _run as _runner

    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: pytest.fail("computed"))
    with pytest.raises(oj.RunError, match=message):
        oj.evaluate("takeoff", table)


def test_a_parameter_that_fixes_the_shape_takes_one_value(monkeypatch):
    from overhang_jax.engine import _run as _runner

    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: pytest.fail("computed"))
    with pytest.raises(oj.RunError, match="'step_years' fixes the shape of the computation.*not 0.05 and 0.1"):
        oj.evaluate("trajectory", {"step_years": [0.1, 0.05]})
    with pytest.raises(oj.RunError, match="must be a mapping of parameter names"):
        oj.evaluate("trajectory", [[0.1]])


def test_eval_cli_writes_a_run_layout_and_prints_its_summary(tmp_path, run_cli):
    run = oj.run("takeoff", draws=300, seed=4)
    params = tmp_path / "sets.csv"
    oj.parameters(run).to_dataframe().to_csv(params, index=False)
    out = tmp_path / "sets.nc"
    code, stdout, stderr = run_cli("eval", "takeoff", "--params", str(params), "--out", str(out))
    assert code == 0, stderr
    assert stdout.startswith("model takeoff (closed_form), 300 parameter sets given in sets.csv (set i is draw i)")
    assert "takeoff_year" in stdout and f"wrote {out}" in stdout
    evaluated = oj.load(out)
    for name in oj.TAKEOFF.output_names:  # through a CSV file and back: the run's outputs still
        np.testing.assert_array_equal(evaluated["prior_predictive"][name].values, run["prior_predictive"][name].values)
    code, again, _ = run_cli("summary", str(out))
    assert code == 0 and again.startswith("model takeoff (closed_form), 300 parameter sets")


@pytest.mark.parametrize("text,message", [
    ("c0,takeof_threshold\n0.2,3\n", "unknown parameter 'takeof_threshold'.*did you mean 'takeoff_threshold'"),
    ("c0\n0.2\nabc\n", "parameter 'c0' must be numbers, got 'abc' in line 3 of p.csv"),
    ("c0\n0.2\n\n0.3\n", "parameter 'c0' must be numbers, got '' in line 3 of p.csv"),
    ("", "'.*p.csv' is empty"),
    ("c0,c1_over_c0\n", "has a header but no parameter sets"),
    ("c0\n0.2\n-1\n", r"parameter 'c0' must be in \(0, 1\].*got -1 in line 3 of p.csv"),
    ("E_tai,D\n34,5\n", "unknown parameter 'E_tai' for model 'takeoff'.*a parameter of model 'trajectory'"),
    ("c0,c0\n0.2,0.3\n", "column 'c0' appears more than once"),
    # A row with one field more than the header once shifted every column silently (pandas took the
    # first field as the row's index): size_hardware evaluated at 12, 11 instead of 9, 10.
    ("size_hardware,size_software\n9,12,5\n10,11,4\n", "line 2 has 3 values and the header names 2 parameters"),
    ("size_hardware,size_software\n9,12\n10,11,4\n", "line 3 has 3 values"),
    ("size_hardware,size_software\n9\n", "line 2 has 1 values and the header names 2"),
    ("size_hardware,size_software,\n9,12,\n10,11,\n", r"the header \(line 1\) ends with a comma"),
    ("size_hardware,size_software\n9,12,\n", "line 2 has 3 values.*ends with a comma"),
    ('c0\n"0.2\n', "not a CSV file of parameter sets"),
    ("c0\n0.2\n1e-50\n", r"parameter 'c0' is 1e-50 in line 3 of p.csv, below the smallest normal float32"),
])
def test_eval_cli_refuses_bad_files_in_one_line(text, message, tmp_path, run_cli):
    import re

    params = tmp_path / "p.csv"
    params.write_text(text)
    code, stdout, stderr = run_cli("eval", "takeoff", "--params", str(params), "--out", str(tmp_path / "x.nc"))
    assert code == 2 and stderr.count("\n") == 1 and stderr.startswith("overhang-jax: error: "), stderr
    assert re.search(message, stderr), stderr
    assert not (tmp_path / "x.nc").exists()
