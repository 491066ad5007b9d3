"""Damaged, foreign and mislabelled results files: each is refused with one line naming the file, in
bounded time, and no changed bit passes as data (the checksum footer of every file written)."""

import faulthandler
import sys
import time

import numpy as np
import pytest
import xarray as xr

import overhang_jax as oj
from overhang_jax import _results
from overhang_jax._io import FOOTER_SIZE
from overhang_jax.cli import main

DRAWS = 2000  # below 4096 values: the columns are stored uncompressed, where a flipped bit used to pass


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("damage") / "r.nc"
    oj.save(oj.run("takeoff", draws=DRAWS, seed=5), path)
    return path


def summary_of(path, capsys):
    code = main(["summary", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code, out, err, path):
    assert code == 2, (code, err)
    assert err.startswith("overhang-jax: error: ") and err.count("\n") == 1, err
    assert str(path) in err and "Traceback" not in err


def test_a_flipped_bit_in_an_uncompressed_column_is_refused(saved, tmp_path, capsys):
    # The attack's silent change: one bit of takeoff_year (stored raw) made its sd 46 instead of 5.9.
    data = bytearray(saved.read_bytes())
    column = oj.load(saved)["prior_predictive"]["takeoff_year"].values.tobytes()
    offset = bytes(data).find(column[:64])
    assert offset > 0, "the column is stored uncompressed in this file"
    data[offset + 8 * 4 + 3] ^= 0x40  # the exponent byte of draw 8
    damaged = tmp_path / "flipped.nc"
    damaged.write_bytes(data)
    with pytest.raises(oj.ResultsError, match="do not match the checksum"):
        oj.load(damaged)
    assert_one_error_line(*summary_of(damaged, capsys), damaged)


def test_a_cut_or_overwritten_footer_is_refused(saved, tmp_path):
    data = saved.read_bytes()
    for name, damaged_bytes in [("cut.nc", data[:-FOOTER_SIZE]), ("magic.nc", data[:-FOOTER_SIZE] + b"x" * FOOTER_SIZE),
                                ("half.nc", data[: len(data) // 2])]:
        damaged = tmp_path / name
        damaged.write_bytes(damaged_bytes)
        with pytest.raises(oj.ResultsError, match="damaged"):
            oj.load(damaged)


def test_a_copy_saved_by_another_tool_is_read_without_a_checksum(saved, tmp_path):
    loaded = oj.load(saved)
    copy = tmp_path / "copy.nc"
    loaded.to_netcdf(copy, engine="h5netcdf")  # what ArviZ or xarray write: no footer
    again = oj.load(copy)
    assert np.array_equal(again["prior_predictive"]["max_speed"].values,
                          loaded["prior_predictive"]["max_speed"].values, equal_nan=True)


def test_foreign_netcdf_is_named_as_foreign(tmp_path, capsys):
    path = tmp_path / "wrf.nc"
    xr.Dataset({"T": ("t", np.arange(3.0))}, attrs={"model": "WRF", "version": "4.5"}).to_netcdf(path,
                                                                                               engine="h5netcdf")
    code, out, err = summary_of(path, capsys)
    assert_one_error_line(code, out, err, path)
    assert "from another tool" in err and "'WRF'" in err and "0.1.0" not in err


@pytest.mark.parametrize("command", ["summary", "report"])
def test_contents_are_checked_against_the_declared_model(tmp_path, capsys, command):
    run = oj.run("takeoff", draws=200, seed=1)
    run.attrs["model"] = "trajectory"
    path = tmp_path / "mislabelled.nc"
    oj.save(run, path)
    args = [command, str(path)] + (["--out", str(tmp_path / "r.html")] if command == "report" else [])
    code = main(args)
    out, err = capsys.readouterr()
    assert_one_error_line(code, out, err, path)
    assert "does not hold trajectory results" in err and "overhang_at_end" in err
    assert not (tmp_path / "r.html").exists()


def test_reading_a_file_without_a_checksum_is_bounded_in_time(saved, tmp_path, monkeypatch):
    # libhdf5 loops forever on some damaged files (292 zeroed bytes in the attack); a file without a
    # footer is read in a child process first. Here the child sleeps, standing in for that loop.
    copy = tmp_path / "copy.nc"
    oj.load(saved).to_netcdf(copy, engine="h5netcdf")
    monkeypatch.setattr(_results, "_READ_EVERYTHING", "import time; time.sleep(60)")
    monkeypatch.setattr(_results, "READ_SECONDS_MIN", 1.0)
    start = time.monotonic()
    with pytest.raises(oj.ResultsError, match="did not finish in"):
        oj.load(copy)
    assert time.monotonic() - start < 10


def test_the_versions_are_recorded_and_summary_shows_them(saved, capsys):
    from importlib.metadata import version

    attrs = oj.load(saved).attrs
    for name in ("jax", "jaxlib", "numpy", "scipy"):
        assert attrs[f"{name}_version"] == version(name)
    assert attrs["cpu"].startswith(("x86_64", "aarch64", "arm64"))
    code, out, _ = summary_of(saved, capsys)
    assert code == 0 and f"jaxlib {version('jaxlib')}" in out and f"numpy {version('numpy')}" in out


FUZZ_CASES = 40
CASE_SECONDS = 60  # a hang shows as this, far above the slowest honest case (a child read: about 1 s)


def damaged_copies(data: bytes, cases: int, seed: int):
    """Flip one bit, zero a run of bytes, or cut the file, at seeded random offsets."""
    rng = np.random.default_rng(seed)
    for case in range(cases):
        kind = ("flip", "zero", "cut")[case % 3]
        offset = int(rng.integers(0, len(data)))
        damaged = bytearray(data)
        if kind == "flip":
            damaged[offset] ^= 1 << int(rng.integers(0, 8))
        elif kind == "zero":
            length = int(rng.integers(1, 512))
            damaged[offset:offset + length] = bytes(len(damaged[offset:offset + length]))
        else:
            del damaged[offset:]
        yield f"{kind} at byte {offset}", bytes(damaged)


def test_fuzzed_copies_are_refused_with_one_line_or_read_unchanged(saved, tmp_path, capsys):
    code, expected, _ = summary_of(saved, capsys)
    assert code == 0
    path = tmp_path / "fuzzed.nc"
    outcomes = {"refused": 0, "unchanged": 0}
    for what, data in damaged_copies(saved.read_bytes(), FUZZ_CASES, seed=24):
        path.write_bytes(data)
        # A hang fails the run, naming where.
        faulthandler.dump_traceback_later(CASE_SECONDS, exit=True, file=sys.__stderr__)
        try:
            code, out, err = summary_of(path, capsys)
        finally:
            faulthandler.cancel_dump_traceback_later()
        if code == 0 and data != saved.read_bytes():
            assert out == expected, f"{what}: a damaged file summarised differently"
            outcomes["unchanged"] += 1
        else:
            assert code == 2 and err.startswith("overhang-jax: error: ") and err.count("\n") == 1, (what, err)
            assert "Traceback" not in err and str(path) in err, (what, err)
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == FUZZ_CASES
