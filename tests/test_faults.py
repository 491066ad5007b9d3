"""Faults: a run killed with SIGKILL resumes bit-identically; foreign checkpoints and unwritable
outputs are refused before the long computation."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax import _runner
from overhang_jax._cli import main

SCRIPT = Path(sys.executable).parent / "overhang-jax"
DRAWS, CHUNK = 24_000, 1_000


def command(tmp_path, out):
    return [str(SCRIPT), "run", "trajectory", "--draws", str(DRAWS), "--chunk-size", str(CHUNK), "--seed", "9",
            "--checkpoint", str(tmp_path / "ckpt"), "--out", str(out), "--no-plots"]


def test_sigkill_then_same_command_resumes_bit_identically(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    checkpoint = tmp_path / "ckpt"
    proc = subprocess.Popen(command(tmp_path, tmp_path / "killed.nc"), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while len(list(checkpoint.glob("chunk_*.npz"))) < 3:  # killed part-way, after a few chunks
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no chunk saved in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    saved = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in checkpoint.glob("chunk_*.npz")}
    assert 3 <= len(saved) < DRAWS // CHUNK
    assert not (tmp_path / "killed.nc").exists()  # no truncated result file
    assert not list(checkpoint.glob("*.tmp*")) or all(p.stat().st_size >= 0 for p in checkpoint.glob("*.tmp*"))

    out = tmp_path / "resumed.nc"
    done = subprocess.run(command(tmp_path, out), env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    # No chunk saved before the kill was computed (or written) again.
    for name, stamp in saved.items():
        path = checkpoint / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp, name
    assert len(list(checkpoint.glob("chunk_*.npz"))) == DRAWS // CHUNK
    resumed = oj.load(out)
    uninterrupted = oj.run("trajectory", draws=DRAWS, seed=9, chunk_size=CHUNK)
    for group in uninterrupted.children:
        for name in uninterrupted[group].data_vars:
            assert np.array_equal(resumed[group][name].values, uninterrupted[group][name].values,
                                  equal_nan=True), (group, name)


@pytest.mark.parametrize("change,differs", [
    ({"seed": 2}, "seed"),
    ({"priors": "takeoff_software_pause"}, "priors_sha256"),
    ({"model": "inference"}, "model"),
    ({"version": "9.9.9"}, "version"),
    ({"float64": True}, "dtype"),
    ({"draws": 2000}, "draws"),
])
def test_checkpoint_of_a_different_run_is_refused_naming_the_difference(tmp_path, monkeypatch, change, differs):
    from overhang_jax._cli import shipped_scenarios

    checkpoint = tmp_path / "ckpt"
    oj.run("takeoff", draws=1000, seed=1, chunk_size=500, checkpoint=checkpoint)
    before = sorted(p.name for p in checkpoint.iterdir())
    kwargs = {"draws": 1000, "seed": 1, "chunk_size": 500, "checkpoint": checkpoint}
    model, priors = "takeoff", None
    if "version" in change:
        monkeypatch.setattr(_runner, "__version__", change["version"])
    elif "model" in change:
        model = change["model"]
    elif "priors" in change:
        priors = shipped_scenarios()[change["priors"]]
    else:
        kwargs.update(change)
    with pytest.raises(_runner.RunError, match=f"belongs to a different run .*{differs}"):
        oj.run(model, priors, **kwargs)
    assert sorted(p.name for p in checkpoint.iterdir()) == before  # nothing mixed in, nothing removed


def test_unwritable_output_is_reported_before_compute(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    calls = []
    monkeypatch.setattr(_runner, "run", lambda *a, **k: calls.append(1))
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: a path under a file cannot be written
            target = tmp_path / "a_file"
            target.write_text("")
            out = target / "r.nc"
        else:
            out = locked / "r.nc"
        code = main(["run", "takeoff", "--draws", "10", "--out", str(out)])
    finally:
        locked.chmod(0o700)
    assert code == 2 and not calls
    assert "overhang-jax: error:" in capsys.readouterr().err


def test_a_full_disk_leaves_no_result_file(tmp_path, monkeypatch):
    results = oj.run("takeoff", draws=200, seed=1)
    out = tmp_path / "r.nc"

    def disk_full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    import xarray as xr
    monkeypatch.setattr(xr.DataTree, "to_netcdf", disk_full)
    with pytest.raises(OSError, match="No space left"):
        oj.save(results, out)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_too_little_disk_space_is_reported_before_compute(tmp_path, capsys, monkeypatch):
    import shutil

    calls = []
    monkeypatch.setattr(_runner, "run", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 10**12 - 10**6, 10**6))
    code = main(["run", "trajectory", "--draws", "1e6", "--out", str(tmp_path / "r.nc")])
    err = capsys.readouterr().err
    assert code == 2 and not calls
    assert "not enough space" in err and "GB are free" in err and err.count("\n") == 1
