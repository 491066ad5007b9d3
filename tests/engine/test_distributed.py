"""A jax.distributed run of 2 CPU processes (4 devices each) equals a single-process run, bit for bit."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import overhang_jax as oj

DRAWS = 3000
CHUNK = 1000
SCRIPT = Path(sys.executable).parent / "overhang-jax"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_two_processes(tmp_path, *args) -> list[subprocess.CompletedProcess]:
    """One command on processes 0 and 1, each with 4 CPU devices; both killed if they overrun."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    port = free_port()
    processes = [subprocess.Popen([str(SCRIPT), *args, "--coordinator", f"127.0.0.1:{port}", "--num-processes",
                                   "2", "--process-id", str(k)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env, cwd=tmp_path) for k in (0, 1)]
    try:
        outputs = [p.communicate(timeout=400) for p in processes]
    finally:
        for p in processes:
            p.kill()
    return [subprocess.CompletedProcess(p.args, p.returncode, out, err) for p, (out, err) in zip(processes, outputs)]


def assert_same_data(a, b):
    assert set(a.children) == set(b.children)
    for group in b.children:
        assert set(a[group].data_vars) == set(b[group].data_vars), group
        for name in b[group].data_vars:
            assert np.array_equal(a[group][name].values, b[group][name].values, equal_nan=True), (group, name)


@pytest.mark.parametrize("model", ["takeoff", "trajectory", "inference"])
def test_two_processes_give_the_single_process_result(model, tmp_path):
    out = tmp_path / f"{model}.nc"
    done = run_two_processes(tmp_path, "run", model, "--draws", str(DRAWS), "--seed", "5", "--chunk-size",
                             str(CHUNK), "--out", str(out), "--no-plots")
    for k, proc in enumerate(done):
        assert proc.returncode == 0, (k, proc.stderr[-2000:])
    assert "process 1: done" in done[1].stdout  # the second process computes but leaves the writing to 0
    distributed = oj.load(out)
    assert distributed.attrs["processes"] == 2 and distributed.attrs["devices"].count("cpu") == 8
    single = oj.run(model, draws=DRAWS, seed=5, chunk_size=CHUNK)  # 8 devices in this process (conftest)
    assert_same_data(distributed, single)


@pytest.mark.parametrize("process_id", [0, 1])
def test_a_process_whose_peers_never_come_gives_up_with_one_line(tmp_path, process_id):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = tmp_path / "r.nc"
    proc = subprocess.run([str(SCRIPT), "run", "takeoff", "--draws", "100", "--out", str(out), "--no-plots",
                           "--coordinator", f"127.0.0.1:{free_port()}", "--num-processes", "2",
                           "--process-id", str(process_id), "--distributed-timeout", "3"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("overhang-jax: error:")]
    assert len(errors) == 1 and "Check failure" not in proc.stderr, proc.stderr[-3000:]
    assert "within 3 s" in errors[0] and "--distributed-timeout" in errors[0]
    assert not out.exists()
