"""Property-based tests: random and malformed priors files always give a valid run or one clear
error line with exit code 2, never a traceback or a hang; loading files never runs code from them."""

import math
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import overhang_jax as oj
from overhang_jax import PriorsError
from overhang_jax.cli import main

PARAMS = list(oj.TAKEOFF.parameter_names)
DISTS = ["point", "uniform", "loguniform", "normal", "lognormal", "beta", "mixture", "gamma", "", "Uniform"]
KEYS = ["lo", "hi", "mean", "sd", "a", "b", "value", "min", "max", "components", "weights", "dist", "x"]

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e3, max_value=1e3),
    st.integers(min_value=-10**30, max_value=10**30),
    st.sampled_from([0, 1, -1, 1e-300, 1e300, 0.5, 2.0]),
)
scalars = st.one_of(numbers, st.booleans(), st.text(string.printable, max_size=8))


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value == math.inf else "-inf" if value == -math.inf
                                                else repr(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


distributions = st.builds(
    lambda dist, extra: {"dist": dist, **extra},
    st.sampled_from(DISTS),
    st.dictionaries(st.sampled_from(KEYS[:-4] + ["x"]), st.one_of(numbers, st.lists(numbers, max_size=3)), max_size=4),
)
param_values = st.one_of(scalars, distributions, st.lists(scalars, max_size=3),
                         st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=5), scalars, max_size=3))


@st.composite
def priors_texts(draw):
    lines = []
    if draw(st.booleans()):
        lines.append(f"model = {toml_value(draw(st.sampled_from(['takeoff', 'trajectory', 'nope', 3])))}")
    if draw(st.booleans()):
        lines.append(f"{draw(st.sampled_from(['extra', 'params2', 'description']))} = 1")
    lines.append("[params]")
    names = draw(st.lists(st.one_of(st.sampled_from(PARAMS), st.text(string.ascii_lowercase + "_", min_size=1,
                                                                      max_size=12)), max_size=5, unique=True))
    for name in names:
        lines.append(f"{name} = {toml_value(draw(param_values))}")
    for _ in range(draw(st.integers(0, 3))):
        pair = draw(st.lists(st.sampled_from(PARAMS + ["nope"]), min_size=0, max_size=3))
        lines += ["[[correlations]]", f"params = {toml_value(pair)}", f"rank = {toml_value(draw(numbers))}"]
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):  # damage it: truncate, or splice in junk
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=5))
    return text


@pytest.mark.filterwarnings("ignore::overhang_jax.PriorsWarning")  # generated files may well trigger it
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(priors_texts())
def test_any_priors_text_loads_or_raises_one_clear_priors_error(text):
    try:
        priors = oj.load_priors(oj.TAKEOFF, text=text)
    except PriorsError as err:
        message = str(err)
        assert message and "\n" not in message.strip() and "Traceback" not in message
    else:
        assert set(priors.distributions) == set(PARAMS)
        # Every valid prior gives values inside each parameter's range.
        for name, dist in priors.distributions.items():
            assert dist.mass_outside(oj.TAKEOFF.parameter(name)) <= 1e-12


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(text=priors_texts())
def test_the_cli_gives_a_valid_run_or_one_error_line(text, tmp_path, capsys):
    path = tmp_path / "priors.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["run", "takeoff", "--priors", str(path), "--draws", "64", "--out", str(tmp_path / "r.nc"),
                 "--no-plots", "--max-nonfinite-share", "1"])
    out, err = capsys.readouterr()
    if code == 0:
        assert oj.load(tmp_path / "r.nc").attrs["draws"] == 64
    else:
        assert code == 2 and err.startswith("overhang-jax: error: ") and err.count("\n") == 1, err


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=200))
def test_non_utf8_and_binary_files_are_one_error_line(junk, tmp_path, capsys):
    path = tmp_path / "priors.toml"
    path.write_bytes(b"\xff\xfe" + junk)
    code = main(["run", "takeoff", "--priors", str(path), "--draws", "10", "--out", str(tmp_path / "r.nc")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "priors.toml" in err


def test_huge_correlation_lists_and_extreme_numbers_are_refused_quickly():
    text = 'model = "takeoff"\n[params]\n' + "".join(
        f'[[correlations]]\nparams = ["c0", "delay_software"]\nrank = {0.1 + i * 1e-9}\n' for i in range(5000))
    with pytest.raises(PriorsError, match="correlation 2: .*c0.*delay_software.*correlation 1"):
        oj.load_priors(oj.TAKEOFF, text=text)  # the same pair 5000 times: contradictory ranks, refused
    with pytest.raises(PriorsError, match="c0"):
        oj.load_priors(oj.TAKEOFF, text='[params]\nc0 = { dist = "uniform", lo = 1e308, hi = inf }\n')


def test_loading_files_never_runs_code_from_them(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    payload = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    # A priors file whose strings are code.
    with pytest.raises(PriorsError):
        oj.load_priors(oj.TAKEOFF, text=f'[params]\nc0 = "{payload}"\n')
    # A results file whose attributes are code: loading and summarising only reads them.
    results = oj.run("takeoff", draws=50, seed=0)
    results.attrs["priors_toml"] = payload
    results.attrs["nonfinite_counts"] = '{"takeoff_year": 0}'
    oj.save(results, tmp_path / "r.nc")
    loaded = oj.load(tmp_path / "r.nc")
    oj.summary(loaded)
    assert loaded.attrs["priors_toml"] == payload
    # A checkpoint chunk holding a pickled object is refused, never unpickled.
    checkpoint = tmp_path / "ckpt"
    oj.run("takeoff", draws=100, seed=0, chunk_size=100, checkpoint=checkpoint)
    chunk = next(checkpoint.glob("chunk_*.npz"))
    with np.load(chunk) as data:
        metadata = data["__chunk__"]  # valid metadata, so the arrays themselves are read
    np.savez(chunk, c0=np.array([object()], dtype=object), __chunk__=metadata)
    with pytest.raises(oj.RunError, match="unreadable"):
        oj.run("takeoff", draws=100, seed=0, chunk_size=100, checkpoint=checkpoint)
    assert not marker.exists()
