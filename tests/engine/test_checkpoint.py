"""Checkpoints that cannot lie: every chunk is checked against the run before its draws are used,
damaged metadata is one error line, and a checkpoint resumes whatever the devices or chunk size."""

import json
import shutil

import jax
import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.engine import _checkpoint
from overhang_jax.engine import _run as _runner
from overhang_jax.cli import main

DRAWS, CHUNK = 3000, 1000


@pytest.fixture(scope="module")
def reference():
    return oj.run("takeoff", draws=DRAWS, seed=7, chunk_size=DRAWS)


@pytest.fixture
def checkpoint(tmp_path):
    directory = tmp_path / "ckpt"
    oj.run("takeoff", draws=DRAWS, seed=7, chunk_size=CHUNK, checkpoint=directory)
    return directory


def chunks(directory):
    return sorted(directory.glob("chunk_*.npz"))


def assert_bit_identical(a, b):
    for group in ("prior", "prior_predictive"):
        for name in a[group].data_vars:
            assert np.array_equal(a[group][name].values, b[group][name].values, equal_nan=True), (group, name)


def run_again(directory, **change):
    return oj.run("takeoff", **{"draws": DRAWS, "seed": 7, "chunk_size": CHUNK, "checkpoint": directory, **change})


def test_a_complete_checkpoint_gives_the_run_without_computing(checkpoint, reference, monkeypatch):
    monkeypatch.setattr(_runner, "_chunk_function", lambda *a: pytest.fail("computed a saved chunk"))
    resumed = run_again(checkpoint)
    assert_bit_identical(reference, resumed)
    assert resumed.attrs["draws_from_checkpoint"] == DRAWS


def test_chunks_without_their_manifest_are_refused(checkpoint):
    (checkpoint / "manifest.json").unlink()
    with pytest.raises(oj.RunError, match="no manifest"):
        run_again(checkpoint, seed=8)  # seed 8 must not be served seed 7's draws
    assert len(chunks(checkpoint)) == 3


def test_swapped_chunk_files_are_refused(checkpoint):
    first, second = chunks(checkpoint)[:2]
    first.rename(checkpoint / "swap")
    second.rename(first)
    (checkpoint / "swap").rename(second)
    with pytest.raises(oj.RunError, match=f"{first.name}.*starts at draw 1,000, not 0"):
        run_again(checkpoint)


def test_a_chunk_with_the_right_variables_but_too_few_rows_is_refused(checkpoint):
    path = chunks(checkpoint)[1]
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    short = {name: (values[:100] if values.shape[:1] == (CHUNK,) else values) for name, values in arrays.items()}
    np.savez(path, **short)
    with pytest.raises(oj.RunError, match=f"{path.name}.*100 rows.*1,000"):
        run_again(checkpoint)


def test_a_chunk_of_another_run_is_refused(checkpoint, tmp_path):
    other = tmp_path / "other"
    oj.run("takeoff", draws=DRAWS, seed=8, chunk_size=CHUNK, checkpoint=other)
    shutil.copy(chunks(other)[2], chunks(checkpoint)[2])
    with pytest.raises(oj.RunError, match=f"{chunks(checkpoint)[2].name}.*another run"):
        run_again(checkpoint)


def test_a_chunk_written_without_metadata_is_refused(checkpoint):
    path = chunks(checkpoint)[0]
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files if not name.startswith("__")}
    np.savez(path, **arrays)
    with pytest.raises(oj.RunError, match=f"{path.name}.*no chunk metadata"):
        run_again(checkpoint)


@pytest.mark.parametrize("damage", ["truncated", "empty", "directory", "not_an_object", "binary"])
def test_damaged_manifest_is_one_error_line(checkpoint, tmp_path, capsys, damage):
    manifest = checkpoint / "manifest.json"
    text = manifest.read_text()
    manifest.unlink()
    if damage == "truncated":
        manifest.write_text(text[: len(text) // 2])
    elif damage == "empty":
        manifest.write_text("")
    elif damage == "directory":
        manifest.mkdir()
    elif damage == "not_an_object":
        manifest.write_text(json.dumps([1, 2]))
    else:
        manifest.write_bytes(b"\xff\xfe\x00junk")
    code = main(["run", "takeoff", "--draws", str(DRAWS), "--seed", "7", "--chunk-size", str(CHUNK),
                 "--checkpoint", str(checkpoint), "--out", str(tmp_path / "r.nc"), "--no-plots"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("overhang-jax: error: ") and err.count("\n") == 1, err
    assert "manifest.json" in err and "Traceback" not in err
    assert not (tmp_path / "r.nc").exists()


@pytest.mark.parametrize("damage", ["empty", "truncated", "directory"])
def test_damaged_chunk_is_one_error_line(checkpoint, tmp_path, capsys, damage):
    path = chunks(checkpoint)[1]
    data = path.read_bytes()
    path.unlink()
    if damage == "empty":
        path.write_bytes(b"")  # what a power cut before the data reached the disk leaves
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.mkdir()
    code = main(["run", "takeoff", "--draws", str(DRAWS), "--seed", "7", "--chunk-size", str(CHUNK),
                 "--checkpoint", str(checkpoint), "--out", str(tmp_path / "r.nc"), "--no-plots"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and path.name in err and "delete it" in err, err


def test_resume_on_another_device_count_and_chunk_size_is_bit_identical(tmp_path, reference, monkeypatch):
    directory = tmp_path / "ckpt"
    saved = []
    real_save = _checkpoint.Checkpoint.save

    def save_then_die(self, start, arrays):
        real_save(self, start, arrays)
        saved.append(start)
        if len(saved) == 2:
            raise KeyboardInterrupt  # killed after two chunks, on a machine with 8 devices

    monkeypatch.setattr(_checkpoint.Checkpoint, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        oj.run("takeoff", draws=DRAWS, seed=7, chunk_size=CHUNK, checkpoint=directory)
    monkeypatch.setattr(_checkpoint.Checkpoint, "save", real_save)
    # Resumed with 3 devices (the chunk is padded to 1002 there) and with another chunk size.
    for devices, chunk_size in ((3, CHUNK), (5, 700)):
        resumed = oj.run("takeoff", draws=DRAWS, seed=7, chunk_size=chunk_size, checkpoint=directory,
                         devices=jax.devices()[:devices])
        assert_bit_identical(reference, resumed)
    assert resumed.attrs["draws_from_checkpoint"] == DRAWS


def test_resume_keeps_trajectory_histograms_exact(tmp_path, monkeypatch):
    # Chunks carry their share of the per-year histograms; a resume with another chunk size must not
    # count a draw twice.
    directory = tmp_path / "ckpt"
    reference = oj.run("trajectory", draws=1200, seed=3, chunk_size=500)
    saved = []
    real_save = _checkpoint.Checkpoint.save

    def save_then_die(self, start, arrays):
        real_save(self, start, arrays)
        saved.append(start)
        if len(saved) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(_checkpoint.Checkpoint, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        oj.run("trajectory", draws=1200, seed=3, chunk_size=500, checkpoint=directory)
    monkeypatch.setattr(_checkpoint.Checkpoint, "save", real_save)
    resumed = oj.run("trajectory", draws=1200, seed=3, chunk_size=400, checkpoint=directory)
    for name in reference["trajectories"].data_vars:
        assert np.array_equal(reference["trajectories"][name].values, resumed["trajectories"][name].values,
                              equal_nan=True), name
    assert resumed.attrs["draws_from_checkpoint"] == 500


def test_checkpoint_paths_that_cannot_work_are_refused_before_compute(tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(_runner, "compute_draws", lambda *a, **k: calls.append(1))
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [(a_file, "not a directory"), (tmp_path / "missing" / "ckpt", "does not exist"),
             (a_file / "ckpt", "not a directory")]
    for path, message in cases:
        code = main(["run", "takeoff", "--draws", "100", "--checkpoint", str(path),
                     "--out", str(tmp_path / "r.nc"), "--no-plots"])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err and "--checkpoint" in err, err
    assert not calls and a_file.read_text() == ""
