"""write_atomic: never a half-written file, never a device or FIFO replaced, nothing left behind by a kill."""

import fcntl
import os
import stat

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax._io import write_atomic, write_netcdf


def write_text(text):
    return lambda temp: temp.write_text(text)


@pytest.mark.parametrize("kind", ["fifo", "symlink_to_dev_null", "directory"])
def test_an_existing_target_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    target = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        target.symlink_to("/dev/null")  # replacing the link would be harmless; replacing /dev/null is not
    before = os.lstat(target)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(target, write_text("results"))
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert os.path.exists("/dev/null") and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]  # no temp file left


def test_a_regular_file_and_a_link_to_one_are_replaced(tmp_path):
    target = tmp_path / "r.txt"
    target.write_text("old")
    write_atomic(target, write_text("new"))
    assert target.read_text() == "new"
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomic(link, write_text("newer"))
    assert link.read_text() == "newer"


def test_temp_files_left_by_a_killed_save_of_the_same_target_are_removed(tmp_path):
    target = tmp_path / "r.nc"
    left = [tmp_path / ".r.nc.k1ll3d00.tmp", tmp_path / ".r.nc.x9_ab-cd.tmp"]
    for path in left:
        path.write_bytes(b"\0" * 1000)  # what SIGKILL during a save leaves
    others = [tmp_path / ".other.nc.k1ll3d00.tmp", tmp_path / ".r.nc.old", tmp_path / "r.nc.tmp"]
    for path in others:
        path.write_text("not ours")
    write_atomic(target, write_text("done"))
    assert target.read_text() == "done"
    assert not any(path.exists() for path in left)
    assert all(path.exists() for path in others)  # another target's temp files and other files are kept


def test_the_temp_file_of_a_save_in_progress_is_not_removed(tmp_path):
    # Two processes saving the same target: the second must not pull the file from under the first.
    in_progress = tmp_path / ".r.nc.inflight.tmp"
    with open(in_progress, "wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        write_atomic(tmp_path / "r.nc", write_text("done"))
        assert in_progress.exists()


def test_file_then_directory_are_fsynced_around_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        mode = os.fstat(fd).st_mode
        events.append(("fsync", "dir" if stat.S_ISDIR(mode) else "file"))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.getsize(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_atomic(tmp_path / "r.txt", write_text("12345"))
    assert events == [("fsync", "file"), ("replace", 5), ("fsync", "dir")]


def test_a_failed_write_leaves_no_file(tmp_path):
    def fail(temp):
        temp.write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(tmp_path / "r.nc", fail)
    assert list(tmp_path.iterdir()) == []


def test_netcdf_is_serialised_before_any_byte_reaches_the_disk(tmp_path, monkeypatch):
    # h5py crashes the process (SIGSEGV) when the disk fills under it; plain file writes fail cleanly.
    # So the whole image is made in memory, and only plain writes touch the file.
    results = oj.run("takeoff", draws=300, seed=2)
    opened = []
    import h5py

    class File(h5py.File):
        def __init__(self, name, *args, **kwargs):
            opened.append(name)
            super().__init__(name, *args, **kwargs)

    monkeypatch.setattr(h5py, "File", File)
    write_netcdf(tmp_path / "r.nc", results)
    monkeypatch.undo()
    assert opened and not any(isinstance(name, (str, os.PathLike)) for name in opened), opened
    loaded = oj.load(tmp_path / "r.nc")
    assert np.array_equal(loaded["prior_predictive"]["max_speed"].values,
                          results["prior_predictive"]["max_speed"].values, equal_nan=True)
