"""Observations files: the format, the checks against a model's observables (each refused with one
line naming the file, the entry and the field), and the shipped sets."""

import math

import pytest

import overhang_jax as oj
from overhang_jax.priors._observations import (ObservationsError, load_observations, observation_headers,
                                               parse_observations)

LEVEL = """
models = ["trajectory"]
[[observation]]
name = "run_2025"
quantity = "largest_training_run"
year = 2025.2
value = 26.6
sd = 0.3
"""


def entry(**fields) -> str:
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in fields.items()]
    return 'models = ["trajectory", "ftm", "takeoff"]\n[[observation]]\n' + "\n".join(lines) + "\n"


def test_a_measurement_an_interval_and_a_growth_become_rows_of_numbers():
    text = LEVEL + """
[[observation]]
name = "growth"
quantity = "largest_training_run"
growth = [2023, 2025]
lower = 0.6
upper = 0.7
edge = 0.05
[[observation]]
name = "t"
quantity = "effective_compute"
year = 2024
value = 27
sd = 0.5
df = 4
"""
    observations = parse_observations(text).for_model(oj.TRAJECTORY)
    table = observations.table(oj.TRAJECTORY)
    assert table.shape == (3, 8)
    assert list(table[0]) == [0, 2025.2, 2025.2, 0, 0, 26.6, 0.3, 0]
    assert list(table[1]) == [0, 2023, 2025, 1, 2, 0.6, 0.7, 0.05]
    assert list(table[2]) == [1, 2024, 2024, 0, 1, 27, 0.5, 4]
    assert observations.entries[1].describe("log10 FLOP").startswith("growth of largest_training_run 2023-2025")


@pytest.mark.parametrize("fields, words", [
    (dict(name="x", quantity="gwp", year=2025, value=1, sd=1), "no observable quantity 'gwp'"),
    (dict(name="x", quantity="largest_training_run", year=2150, value=26, sd=0.3), "year 2150 is outside"),
    (dict(name="x", quantity="largest_training_run", year=2025, value=26, sd=0), "'sd' must be > 0"),
    (dict(name="x", quantity="largest_training_run", year=2025, value=26), "needs both 'value' and 'sd'"),
    (dict(name="x", quantity="largest_training_run", year=2025, lower=27, upper=26), "needs lower < upper"),
    (dict(name="x", quantity="largest_training_run", year=2025, value=26, sd=0.3, colour=1), "unknown field 'colour'"),
    (dict(name="x", quantity="largest_training_run", value=26, sd=0.3), "give 'year' or 'growth'"),
    (dict(name="x", quantity="largest_training_run", growth=[2025, 2023], value=0.6, sd=0.1), "t0 < t1"),
    (dict(name="two words", quantity="largest_training_run", year=2025, value=26, sd=0.3), "'name' must be a word"),
])
def test_bad_entries_are_refused_with_one_line_naming_the_entry_and_field(fields, words):
    with pytest.raises(ObservationsError) as caught:
        load_observations(parse_observations(entry(**fields), source="obs.toml"), oj.TRAJECTORY)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("obs.toml: observation") and words in message


def test_impossible_values_and_untimed_quantities_are_refused_for_their_model():
    share = entry(name="x", quantity="tasks_automated_goods", year=2026, value=150, sd=5)
    with pytest.raises(ObservationsError, match=r"value 150 is impossible .* \[0, 100\] %"):
        load_observations(parse_observations(share), oj.FTM)
    below = entry(name="x", quantity="tasks_automated_goods", year=2026, upper=-1)
    with pytest.raises(ObservationsError, match="lies outside the values"):
        load_observations(parse_observations(below), oj.FTM)
    timed = entry(name="x", quantity="takeoff_year", year=2026, lower=2026.9)
    with pytest.raises(ObservationsError, match="one value per draw"):
        load_observations(parse_observations(timed), oj.TAKEOFF)


def test_a_set_for_other_models_and_an_unknown_name_are_refused():
    with pytest.raises(ObservationsError, match="not for model 'takeoff'"):
        load_observations("frontier_compute_2023_2025", oj.TAKEOFF)
    with pytest.raises(ObservationsError, match="did you mean 'no_takeoff_yet'"):
        load_observations("no_takeof_yet")
    with pytest.raises(ObservationsError, match="not valid TOML"):
        parse_observations("models = [")


def test_the_shipped_sets_load_for_their_models_and_cite_a_source_for_every_entry():
    headers = observation_headers()
    assert set(headers) >= {"frontier_compute_2023_2025", "no_takeoff_yet"}
    assert set(headers["frontier_compute_2023_2025"][0]) == {"trajectory", "ftm"}
    assert set(headers["no_takeoff_yet"][0]) == {"takeoff", "ftm"}
    for name, (models, description, _) in headers.items():
        assert description
        for model in models:
            observations = load_observations(name, oj.get_model(model))
            for each in observations.entries:
                assert each.source and each.uncertainty, (name, each.name)
    # The numbers are Epoch AI's estimates in log10 FLOP: GPT-4 2.1e25, Grok 3 4.6e26.
    runs = {e.name: e.numbers[0] for e in load_observations("frontier_compute_2023_2025", oj.TRAJECTORY).entries}
    assert runs["largest_run_2023"] == pytest.approx(math.log10(2.1e25), abs=0.005)
    assert runs["largest_run_2025"] == pytest.approx(math.log10(4.6e26), abs=0.005)


@pytest.mark.parametrize("model", [oj.TRAJECTORY, oj.FTM, oj.TAKEOFF], ids=lambda m: m.name)
def test_every_declared_observable_is_returned_by_the_model_with_its_shape(model):
    import jax

    static = {name: model.reference_draw()[name] for name in model.static_names}
    with jax.enable_x64(model.requires_float64):
        dtype = jax.numpy.float64 if model.requires_float64 else jax.numpy.float32
        draw = {name: jax.numpy.asarray(value, dtype) for name, value in model.reference_draw().items()}
        shapes = jax.eval_shape(lambda p: model.methods[model.default_method]({**p, **static}), draw)
    years = len(model.trajectories.coords) if model.trajectories else 0
    for observable in model.observables:
        assert observable.source in shapes, observable.name
        assert shapes[observable.source].shape == ((years,) if observable.at_year else ()), observable.name
