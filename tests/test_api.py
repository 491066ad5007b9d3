"""The Python API takes what the command line takes: scenario names, model names, a default seed."""

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.cli import main


def test_scenario_names_and_model_names_are_accepted_wherever_a_priors_file_is():
    by_name = oj.load_priors("trajectory", "gradual_lift")
    assert by_name.name == by_name.source == "gradual_lift"
    by_path = oj.load_priors(oj.TRAJECTORY, oj.scenarios().loc["gradual_lift", "path"])
    assert by_path.name == "gradual_lift" and by_path.distributions == by_name.distributions
    assert oj.load_priors("trajectory").name == "defaults"
    # Runs and comparisons take names too, and are labelled by them, never by a path.
    results = oj.run("trajectory", "gradual_lift", draws=50)
    assert results.attrs["scenario"] == "gradual_lift" and results.attrs["seed"] == 0
    comparison = oj.compare("trajectory", "hard_cap_sudden_end", "gradual_lift", draws=50)
    assert (comparison.attrs["scenario_a"], comparison.attrs["scenario_b"]) == ("hard_cap_sudden_end", "gradual_lift")
    assert comparison.attrs["seed"] == 0


def test_a_wrong_name_says_what_is_there():
    with pytest.raises(oj.PriorsError, match="'gradual_lfit' not found, nor a shipped scenario.*did you mean "
                                             "'gradual_lift'"):
        oj.load_priors("trajectory", "gradual_lfit")
    with pytest.raises(oj.PriorsError, match="gradual_lift: file is for model 'trajectory', not 'takeoff'"):
        oj.load_priors("takeoff", "gradual_lift")
    with pytest.raises(oj.RunError, match="unknown model 'trajectroy'; choose one of"):
        oj.load_priors("trajectroy")


def test_seed_defaults_to_zero():
    for draws in (oj.run("takeoff", draws=64), oj.run("takeoff", draws=64, seed=0)):
        assert draws.attrs["seed"] == 0
    np.testing.assert_array_equal(oj.run("takeoff", draws=64)["prior"]["c0"].values,
                                  oj.run("takeoff", draws=64, seed=0)["prior"]["c0"].values)
    assert not np.array_equal(oj.run("takeoff", draws=64, seed=1)["prior"]["c0"].values,
                              oj.run("takeoff", draws=64)["prior"]["c0"].values)
    indices = oj.sobol_indices("takeoff", outputs=["takeoff_year"], parameters=["c0"], base_samples=8, bootstrap=2)
    assert indices.attrs["seed"] == 0


def test_scenarios_lists_each_with_its_model_and_description():
    table = oj.scenarios()
    assert list(table.columns) == ["model", "description", "path"]
    assert table.loc["gradual_lift", "model"] == "trajectory" and "gradual" in table.loc["gradual_lift", "description"]
    assert set(table["model"]) == {"trajectory", "takeoff", "ftm"}
    assert list(oj.scenarios("ftm").index) == ["ftm_hardware_cap", "ftm_no_policy", "ftm_training_cap"]
    assert list(oj.scenarios(oj.TAKEOFF)["model"].unique()) == ["takeoff"]
    assert oj.scenarios("inference").empty
    with pytest.raises(oj.RunError, match="unknown model 'nope'"):
        oj.scenarios("nope")


def test_the_cli_lists_scenarios_with_their_model_and_says_when_there_are_none(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["scenario", "model", "description"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows == dict(oj.scenarios()["model"])
    assert main(["scenarios", "inference"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no shipped scenarios for model 'inference'") and out.count("\n") == 1
