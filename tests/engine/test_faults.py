"""Faults: a run killed with SIGKILL resumes bit-identically; foreign checkpoints and unwritable
outputs are refused before the long computation."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.engine import _run as _runner
from overhang_jax.cli import main
from overhang_jax.priors._scenarios import shipped_scenarios

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
    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: calls.append(1))
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


def test_too_little_disk_space_is_reported_before_compute(tmp_path, capsys, monkeypatch):
    import shutil

    calls = []
    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 10**12 - 10**6, 10**6))
    code = main(["run", "trajectory", "--draws", "1e6", "--out", str(tmp_path / "r.nc")])
    err = capsys.readouterr().err
    assert code == 4 and not calls  # a full disk is not bad input (2)
    assert "not enough space" in err and "1 MB free" in err and "r.nc" in err and err.count("\n") == 1


# --------------------------------------------------------------------------
# Outputs that must not be replaced, and paths refused before compute.


def forbid_compute(monkeypatch):
    calls = []
    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: calls.append(1))
    return calls


@pytest.mark.parametrize("kind", ["fifo", "link_to_dev_null", "priors_file", "plot_is_a_directory"])
def test_outputs_that_must_not_be_replaced_are_refused_before_compute(tmp_path, capsys, monkeypatch, kind):
    calls = forbid_compute(monkeypatch)
    priors = tmp_path / "priors.toml"
    priors.write_text('model = "takeoff"\n[params]\nc0 = 0.004\n')
    out = tmp_path / "r.nc"
    if kind == "fifo":
        os.mkfifo(out)
    elif kind == "link_to_dev_null":
        out.symlink_to("/dev/null")
    elif kind == "priors_file":
        out = priors
    else:
        (tmp_path / "r_distributions.png").mkdir()
    before = {p.name: os.lstat(p) for p in tmp_path.iterdir()}
    code = main(["run", "takeoff", "--draws", "100", "--priors", str(priors), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("overhang-jax: error: ") and err.count("\n") == 1, err
    assert not calls
    after = {p.name: os.lstat(p) for p in tmp_path.iterdir()}
    assert {n: (s.st_ino, s.st_mode, s.st_size) for n, s in after.items()} == \
        {n: (s.st_ino, s.st_mode, s.st_size) for n, s in before.items()}
    assert priors.read_text() == 'model = "takeoff"\n[params]\nc0 = 0.004\n'


@pytest.mark.parametrize("command", [
    ["compare", "no_policy", "hard_cap_sudden_end", "--draws", "100"],
    ["sensitivity", "takeoff", "--output", "max_speed", "--base-samples", "8"],
])
def test_every_command_that_writes_checks_its_paths(tmp_path, capsys, monkeypatch, command):
    calls = forbid_compute(monkeypatch)
    out = tmp_path / "r.nc"
    os.mkfifo(out)
    code = main([*command, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "not a regular file" in err and err.count("\n") == 1, err
    assert not calls


# --------------------------------------------------------------------------
# A full disk: the space check counts what is written; a write that still fails is one line,
# no crash, and the computed draws are kept.


def _can_mount_tmpfs() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs in a private mount namespace (unshare -m)"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True)
    return None if probe.returncode == 0 else f"unshare/mount failed: {probe.stderr.decode()[-200:]}"


SMALL_FS_SKIP = _can_mount_tmpfs()
needs_small_fs = pytest.mark.skipif(SMALL_FS_SKIP is not None, reason=str(SMALL_FS_SKIP))

# The CLI with the free space reported as plenty: as when another program fills the disk after the
# check, or an estimate falls short. Only the space check is fooled; the writes are real.
FOOLED_CLI = """
import shutil, sys
shutil.disk_usage = lambda path: shutil._ntuple_diskusage(10**15, 0, 10**15)
from overhang_jax.cli import main
sys.exit(main(sys.argv[1:]))
"""


def in_small_fs(tmp_path, size, steps):
    """Run shell ``steps`` in a private mount namespace with a tmpfs of ``size`` at ./small (cwd tmp_path).

    ``$OJ`` is the CLI, ``$FOOLED`` the CLI with a fooled space check. Returns the completed process;
    the steps print '== rc N' after each command.
    """
    (tmp_path / "small").mkdir(exist_ok=True)
    (tmp_path / "fooled.py").write_text(FOOLED_CLI)
    script = f"set -u\nmount -t tmpfs -o size={size} tmpfs small\nOJ={SCRIPT}\nFOOLED='{sys.executable} fooled.py'\n"
    script += "".join(f"{step}\necho \"== rc $?\"\n" for step in steps)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    return subprocess.run(["unshare", "-m", "bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=900)


def exit_codes(proc):
    return [int(line.split()[-1]) for line in proc.stdout.splitlines() if line.startswith("== rc")]


def step_output(proc, k):
    """What step ``k`` (from 0) printed on stdout."""
    return re.split(r"^== rc \d+$", proc.stdout, flags=re.M)[k].strip()


def error_lines(proc):
    return [line for line in proc.stderr.splitlines() if line.startswith("overhang-jax: error:")]


@needs_small_fs
def test_results_that_cannot_fit_are_refused_before_compute(tmp_path):
    # 20,000 takeoff draws make a 1.1 MB file (1.6 MB uncompressed, the estimate): refused in 1 MiB.
    proc = in_small_fs(tmp_path, "1m", ["$OJ run takeoff --draws 20000 --out small/r.nc", "ls -A small"])
    assert exit_codes(proc) == [4, 0], proc.stderr[-3000:]
    errors = error_lines(proc)
    assert len(errors) == 1 and "not enough space" in errors[0] and "small" in errors[0], errors
    assert "takeoff_year" not in proc.stdout  # refused before compute
    assert step_output(proc, 1) == ""  # ls: nothing written


@needs_small_fs
def test_a_full_disk_during_the_results_write_keeps_the_draws_for_a_rerun(tmp_path):
    # Compressed results are smaller than the draws they hold, so a rescue beside a file that did
    # not fit rarely fits either (test_draws_kept_after_a_failed_write_... covers it); a checkpoint
    # on a disk with room keeps every draw.
    run = "run takeoff --draws 20000 --seed 4 --chunk-size 5000 --no-plots --out small/r.nc --checkpoint ckpt"
    proc = in_small_fs(tmp_path, "512k", [
        f"$FOOLED {run}",
        "ls -A small",
        "mount -o remount,size=20m small",  # the user frees some space
        f"$OJ {run}",
        "cp small/r.nc r.nc",
    ])
    codes = exit_codes(proc)
    assert codes[0] == 4, proc.stderr[-3000:]  # not 139 (segfault), not a traceback, not "bad input" (2)
    errors = error_lines(proc)
    assert len(errors) == 1 and "Traceback" not in proc.stderr
    assert "No space left" in errors[0] and "kept in the checkpoint 'ckpt'" in errors[0], errors[0]
    assert step_output(proc, 1) == ""  # ls: no temp file, no partial results
    assert codes[2:] == [0, 0, 0], proc.stderr[-3000:]
    assert "20,000 draws read from the checkpoint" in proc.stdout
    rescued = oj.load(tmp_path / "r.nc")
    direct = oj.run("takeoff", draws=20000, seed=4)
    for group in ("prior", "prior_predictive"):
        for name in direct[group].data_vars:
            assert np.array_equal(rescued[group][name].values, direct[group][name].values, equal_nan=True), name


@needs_small_fs
def test_no_room_even_for_the_draws_says_how_to_keep_them_next_time(tmp_path):
    proc = in_small_fs(tmp_path, "1m", ["$FOOLED run takeoff --draws 20000 --no-plots --out small/r.nc",
                                        "ls -A small"])
    assert exit_codes(proc) == [4, 0], proc.stderr[-3000:]
    errors = error_lines(proc)
    assert len(errors) == 1 and "Traceback" not in proc.stderr
    assert "No space left" in errors[0] and "re-run with --checkpoint" in errors[0], errors[0]
    assert step_output(proc, 1) == ""  # ls: nothing left behind, not even a partial rescue


@needs_small_fs
def test_a_checkpoint_chunk_that_does_not_fit_is_one_line_and_the_run_resumes(tmp_path):
    run = "run takeoff --draws 20000 --seed 4 --chunk-size 5000 --no-plots --out r.nc --checkpoint small/ckpt"
    proc = in_small_fs(tmp_path, "1m", [f"$FOOLED {run}", "ls small/ckpt", "mount -o remount,size=20m small",
                                        f"$OJ {run}"])
    codes = exit_codes(proc)
    assert codes[0] == 4 and codes[-1] == 0, proc.stderr[-3000:]
    errors = error_lines(proc)
    assert len(errors) == 1 and "checkpoint" in errors[0] and "No space left" in errors[0], errors
    assert "re-run" in errors[0]
    chunks = [name for name in step_output(proc, 1).split() if name != "manifest.json"]
    assert 1 <= len(chunks) < 4 and all(name.startswith("chunk_") for name in chunks), chunks  # no temp file
    resumed = oj.load(tmp_path / "r.nc")
    direct = oj.run("takeoff", draws=20000, seed=4)
    assert np.array_equal(resumed["prior_predictive"]["max_speed"].values,
                          direct["prior_predictive"]["max_speed"].values, equal_nan=True)


@needs_small_fs
def test_sensitivity_on_a_full_disk_is_one_line_after_printing_the_indices(tmp_path):
    command = "sensitivity takeoff --output max_speed --base-samples 64 --bootstrap 20 --out small/s.nc"
    proc = in_small_fs(tmp_path, "16k", [f"$OJ {command}", f"$FOOLED {command}"])
    assert exit_codes(proc) == [4, 4], proc.stderr[-3000:]
    checked, failed = error_lines(proc)
    assert "not enough space" in checked and "Traceback" not in proc.stderr
    assert "No space left" in failed
    assert proc.stdout.count("ST_high") == 1  # computed once, and not lost: the indices were printed


@needs_small_fs
def test_read_only_outputs_are_refused_before_compute(tmp_path):
    proc = in_small_fs(tmp_path, "1m", [
        "mkdir small/ckpt", "mount -o remount,ro small",
        "$OJ run takeoff --draws 100 --no-plots --out small/r.nc",
        "$OJ run takeoff --draws 100 --no-plots --out r.nc --checkpoint small/ckpt",
        "$OJ run takeoff --draws 100 --no-plots --out r.nc --checkpoint small/new",
    ])
    assert exit_codes(proc) == [0, 0, 2, 2, 2], proc.stderr[-3000:]
    errors = error_lines(proc)
    assert len(errors) == 3 and all("not writable" in e for e in errors), errors
    assert "takeoff_year" not in proc.stdout


def test_space_estimate_covers_the_real_file_of_every_model(tmp_path):
    # The estimate is the uncompressed file (compression only makes it smaller): it must hold the
    # compressed file and stay close to the uncompressed one.
    from overhang_jax._results import estimated_bytes, planned_comparison, planned_results

    def sizes(results):
        return (oj.save(results, tmp_path / "r.nc").stat().st_size,
                oj.save(results, tmp_path / "u.nc", compress=False).stat().st_size)

    cases = [("takeoff", 20_000, False), ("trajectory", 1000, False), ("inference", 2000, False),
             ("inference", 30_000, True)]
    for name, draws, float64 in cases:
        model = oj.get_model(name)
        priors = oj.load_priors(model)
        size, uncompressed = sizes(oj.run(model, priors, draws=draws, seed=1, float64=float64))
        estimate = estimated_bytes(planned_results(model, priors, draws, float64=float64))
        assert size <= uncompressed <= estimate <= 1.25 * uncompressed + 200_000, (name, draws, size, estimate)
    priors = [oj.load_priors(oj.TAKEOFF), oj.load_priors(oj.TAKEOFF, shipped_scenarios()["takeoff_software_pause"])]
    size, uncompressed = sizes(oj.compare("takeoff", *priors, draws=20_000, seed=1))
    estimate = estimated_bytes(planned_comparison(oj.TAKEOFF, *priors, 20_000))
    assert size <= uncompressed <= estimate <= 1.25 * uncompressed + 200_000, (size, uncompressed, estimate)


@pytest.mark.parametrize("command", [
    ["run", "trajectory", "--draws", "600", "--chunk-size", "250"],  # histograms and kept series too
    ["compare", "no_policy", "hard_cap_sudden_end", "--draws", "300"],
])
def test_draws_kept_after_a_failed_write_give_the_same_file_without_computing(tmp_path, capsys, monkeypatch,
                                                                             command):
    import errno

    from overhang_jax import _results

    out = tmp_path / "r.nc"
    args = [*command, "--seed", "3", "--out", str(out), "--no-plots"]

    def disk_full(results, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_results, "save", disk_full)
    assert main(args) == 4
    err = capsys.readouterr().err
    rescue = tmp_path / "r.nc.checkpoint"
    assert err.count("\n") == 1 and f"--checkpoint {rescue}" in err, err
    monkeypatch.undo()
    compiled = []
    monkeypatch.setattr(_runner, "_chunk_function", lambda *a: compiled.append(1))
    assert main([*args, "--checkpoint", str(rescue)]) == 0, capsys.readouterr().err
    assert not compiled and "read from the checkpoint" in capsys.readouterr().out
    monkeypatch.undo()
    rescued = oj.load(out)
    main([*args, "--out", str(tmp_path / "direct.nc")])  # no checkpoint, computed
    direct = oj.load(tmp_path / "direct.nc")
    for node in direct.subtree:
        for name in node.data_vars:
            assert np.array_equal(rescued[node.path][name].values, node[name].values, equal_nan=True), (node.path,
                                                                                                       name)
