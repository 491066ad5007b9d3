"""The run pipeline behind the Python API and the command line alike: out= checked before compute,
a failed write that keeps the computed draws, the non-finite gate, oj.save of every result, the
model inferred by compare, and the runtime (devices per core, the persistent compilation cache)."""

import errno
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax import _results
from overhang_jax.engine import _run as _runner

NO_TAKEOFF = """
    [params]
    size_investment = 1
    size_hardware = 1
    size_software = { dist = "uniform", lo = 0, hi = 20 }
"""


def assert_same_draws(a, b):
    for group in ("prior", "prior_predictive"):
        assert set(a[group].data_vars) == set(b[group].data_vars)
        for name in a[group].data_vars:
            assert np.array_equal(a[group][name].values, b[group][name].values, equal_nan=True), (group, name)


def test_run_out_on_a_full_disk_keeps_the_draws_and_says_how_to_resume(tmp_path, monkeypatch):
    out = tmp_path / "r.nc"

    def disk_full(results, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_results, "save", disk_full)
    with pytest.raises(oj.StorageError) as failure:
        oj.run("trajectory", draws=600, chunk_size=250, seed=3, out=out)
    rescue = tmp_path / "r.nc.checkpoint"
    message = str(failure.value)
    assert f"cannot write '{out}'" in message and f"checkpoint='{rescue}'" in message, message
    assert isinstance(failure.value, OSError) and not isinstance(failure.value, oj.RunError)  # not bad input
    computed = failure.value.results  # a Python caller keeps them in memory too
    assert not out.exists() and rescue.is_dir()
    monkeypatch.undo()
    compiled = []
    monkeypatch.setattr(_runner, "_chunk_function", lambda *a: compiled.append(1))
    resumed = oj.run("trajectory", draws=600, chunk_size=250, seed=3, out=out, checkpoint=rescue)
    assert not compiled and resumed.attrs["draws_from_checkpoint"] == 600
    assert_same_draws(oj.load(out), computed)


def test_run_out_is_checked_before_any_compute(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: calls.append(1))
    priors = tmp_path / "p.toml"
    priors.write_text('model = "takeoff"\n[params]\nc0 = 0.004\n')
    with pytest.raises(oj.RunError, match="one of this command's inputs"):
        oj.run("takeoff", priors, draws=10, out=priors)
    with pytest.raises(oj.RunError, match="does not exist"):
        oj.run("takeoff", draws=10, out=tmp_path / "missing" / "r.nc")
    with pytest.raises(oj.RunError, match="not a regular file"):
        oj.run("takeoff", draws=10, out=tmp_path)
    with pytest.raises(oj.RunError, match="nonfinite must be"):
        oj.run("takeoff", draws=10, nonfinite="ignore")
    assert not calls and priors.read_text() == 'model = "takeoff"\n[params]\nc0 = 0.004\n'


def test_run_refuses_a_disk_too_small_before_compute(tmp_path, monkeypatch):
    import shutil

    calls = []
    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 10**12 - 10**6, 10**6))
    with pytest.raises(oj.StorageError, match="not enough space .* 1 MB free"):
        oj.run("trajectory", draws=10**6, out=tmp_path / "r.nc")
    with pytest.raises(oj.StorageError, match="not enough space"):  # a checkpoint alone is checked too
        oj.run("trajectory", draws=10**6, checkpoint=tmp_path / "ckpt")
    assert not calls


def test_the_nonfinite_gate_warns_or_raises_after_writing(tmp_path):
    priors = oj.load_priors(oj.TAKEOFF, text=NO_TAKEOFF)
    plain = oj.run("takeoff", priors, draws=500, seed=0, max_nonfinite_share=1.0)
    counted = {n: c for n, c in oj.nonfinite_counts(plain).items()
               if c and not next(o for o in oj.TAKEOFF.outputs if o.name == n).undefined}
    assert counted  # outputs that are NaN or inf in some draws, without being undefined by definition
    with pytest.warns(oj.NonfiniteWarning, match="draws are not finite"):
        oj.run("takeoff", priors, draws=500, seed=0, max_nonfinite_share=0.0)
    out = tmp_path / "r.nc"
    with pytest.raises(oj.NonfiniteError, match="draws are not finite"):
        oj.run("takeoff", priors, draws=500, seed=0, max_nonfinite_share=0.0, nonfinite="raise", out=out)
    assert oj.nonfinite_counts(oj.load(out)) == oj.nonfinite_counts(plain)  # written before raising
    with warnings.catch_warnings():
        warnings.simplefilter("error", oj.NonfiniteWarning)
        oj.run("takeoff", priors, draws=500, seed=0, max_nonfinite_share=1.0)  # within the limit: silent


def test_save_works_on_every_result_of_the_api(tmp_path):
    import xarray as xr

    indices = oj.sobol_indices("takeoff", outputs=["max_speed"], base_samples=16, bootstrap=10,
                               out=tmp_path / "direct.nc")
    oj.save(indices, tmp_path / "s.nc")
    for path in ("s.nc", "direct.nc"):
        again = xr.open_dataset(tmp_path / path)
        np.testing.assert_array_equal(again["ST"].values, indices["ST"].values)
        assert again.attrs["kind"] == "sobol_indices"
        again.close()
    sweep = oj.sweep("takeoff", param="c0", values=[0.003, 0.005], draws=64, out=tmp_path / "w.nc")
    assert oj.load(tmp_path / "w.nc").attrs["kind"] == "sweep" and sweep.attrs["kind"] == "sweep"
    evaluated = oj.evaluate("takeoff", {"c0": [0.003, 0.004]}, out=tmp_path / "e.nc")
    assert_same_draws(oj.load(tmp_path / "e.nc"), evaluated)


def test_compare_infers_the_model_from_the_scenarios(tmp_path):
    inferred = oj.compare("no_policy", "gradual_lift", draws=64, out=tmp_path / "c.nc")
    named = oj.compare("trajectory", "no_policy", "gradual_lift", draws=64)
    assert inferred.attrs["model"] == "trajectory"
    for label in ("a", "b"):
        assert_same_draws(inferred[label], named[label])
    assert oj.load(tmp_path / "c.nc").attrs["scenario_b"] == inferred.attrs["scenario_b"]
    with pytest.raises(oj.RunError, match="different models"):
        oj.compare("no_policy", "takeoff_baseline", draws=64)
    with pytest.raises(oj.RunError, match="give the model"):
        oj.compare(None, None, draws=64)


# --------------------------------------------------------------------------
# The runtime, in fresh processes (the test session's own JAX is set up by conftest).


def fresh_env(cache: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JAX_COMPILATION_CACHE", "JAX_PERSISTENT_CACHE", "OVERHANG_JAX_CACHE"))}
    env["XLA_FLAGS"] = env.get("XLA_FLAGS", "").replace("--xla_force_host_platform_device_count=8", "").strip()
    env["OVERHANG_JAX_CACHE_DIR"] = str(cache) if cache else "off"
    return env


def python(code: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


RUN_AND_REPORT = """
    import json, sys, warnings
    import jax, jax.monitoring
    events = []
    jax.monitoring.register_event_listener(lambda name, **kw: events.append(name))
    import overhang_jax as oj
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = oj.run("takeoff", draws=300, seed=5)
    print(json.dumps({"devices": len(r.attrs["devices"].split(", ")), "cores": __import__("os").cpu_count(),
                      "hits": events.count("/jax/compilation_cache/cache_hits"),
                      "max_speed": r["prior_predictive"]["max_speed"].values.tolist(),
                      "warnings": [str(w.message) for w in caught]}))
"""


def finished(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_run_uses_every_core_and_says_so_when_jax_started_first():
    env = fresh_env(None)
    plain = finished(python(RUN_AND_REPORT, env))
    assert plain["devices"] == plain["cores"] and not plain["warnings"]
    late = finished(python("import jax; jax.devices()\n" + textwrap.dedent(RUN_AND_REPORT), env))
    if late["cores"] > 1:
        assert late["devices"] == 1
        assert any("JAX started before overhang_jax could set its CPU devices" in w for w in late["warnings"])
    assert late["max_speed"] == plain["max_speed"]  # the devices change no draw


def test_compilation_cache_is_shared_by_processes_compiling_at_once(tmp_path):
    cache = tmp_path / "cache"
    env = fresh_env(cache)
    first, second = [python(RUN_AND_REPORT, env) for _ in range(2)]  # both compile into the empty cache
    results = [finished(first), finished(second)]
    assert results[0]["max_speed"] == results[1]["max_speed"]
    assert any(cache.iterdir()) and not list(cache.rglob("*.tmp*"))
    later = finished(python(RUN_AND_REPORT, env))
    assert later["hits"] >= 1 and later["max_speed"] == results[0]["max_speed"]
    off = finished(python(RUN_AND_REPORT, fresh_env(None)))
    assert off["hits"] == 0
