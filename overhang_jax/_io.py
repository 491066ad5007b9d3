"""Writing files safely: every file the package writes goes through :func:`write_atomic`."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Write a file through ``write(temp_path)`` then rename: never a half-written file.

    The temp file is fsynced before the rename and the directory after it, so
    a power cut leaves the old file or the new one, not an empty one. A target
    that exists and is not a regular file (a device, a FIFO, a directory) is
    refused: renaming over ``/dev/null`` would replace it. Temp files that a
    killed save of the same target left behind are removed first. The file
    gets the permissions of any new file (0666 less the umask), where
    ``tempfile.mkstemp`` would have made it private (0600).
    """
    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise FileExistsError(f"'{path}' exists and is not a regular file; refusing to replace it")
    _remove_stale_temps(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        # Held until the rename: tells a concurrent save of the same target that this one is alive.
        fcntl.flock(fd, fcntl.LOCK_EX)
        write(temp)
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    finally:
        os.close(fd)
    _fsync_directory(path.parent)


def _remove_stale_temps(path: Path) -> None:
    """Remove temp files of ``path`` whose writer is gone (no process holds their lock)."""
    for name in glob.glob(glob.escape(str(path.parent / f".{path.name}.")) + "*.tmp"):
        with contextlib.suppress(OSError), open(name, "rb") as temp:
            try:
                fcntl.flock(temp, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a save in progress
            os.unlink(name)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some file systems cannot open or sync a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(path: str | os.PathLike, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` atomically, with plain file writes."""
    write_atomic(path, lambda temp: temp.write_bytes(data))


CHECKSUM_ATTR = "file_checksum"
"""Root attribute of every netCDF file the package writes: says the file ends with a checksum footer,
so a file whose footer was cut or overwritten is known to be damaged."""
_FOOTER_MAGIC = b"\noverhang_jax sha256 "
FOOTER_SIZE = len(_FOOTER_MAGIC) + 64 + 1
"""Bytes of the footer after the HDF5 image: magic, the SHA-256 of the image in hex, a newline.
HDF5 readers (libhdf5, h5py, xarray, ArviZ, netCDF-C) ignore bytes past the image's end."""


def write_netcdf(path: str | os.PathLike, data: Any, **to_netcdf: Any) -> None:
    """Write an xarray Dataset or DataTree to a netCDF file atomically, with a checksum footer.

    The file is made in memory first (as big as the file), then written with
    plain file writes: h5py crashes the whole process (SIGSEGV) when the disk
    fills while it writes, whereas a plain write fails with an OSError.
    The SHA-256 of the image follows it (:func:`verify_checksum`), so one
    changed bit anywhere, in values or in HDF5's own structures, is detected
    before libhdf5 reads the file (some damaged files make it loop forever).
    """
    data = data.copy()
    data.attrs[CHECKSUM_ATTR] = f"sha256 of the bytes before the last {FOOTER_SIZE}, written in them"
    image = data.to_netcdf(engine="h5netcdf", **to_netcdf)
    footer = _FOOTER_MAGIC + hashlib.sha256(image).hexdigest().encode() + b"\n"

    def write(temp: Path) -> None:
        with open(temp, "wb") as file:
            file.write(image)
            file.write(footer)

    write_atomic(path, write)


def verify_checksum(path: str | os.PathLike) -> bool | None:
    """True if ``path`` ends with a checksum footer matching its bytes, False if the footer does not match
    them, None if there is no footer (a file not written by :func:`write_netcdf`, or its footer damaged)."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < FOOTER_SIZE:
            return None
        file.seek(size - FOOTER_SIZE)
        footer = file.read(FOOTER_SIZE)
        if not footer.startswith(_FOOTER_MAGIC):
            return None
        file.seek(0)
        digest = hashlib.sha256()
        left = size - FOOTER_SIZE
        while left:
            block = file.read(min(left, 1 << 24))
            if not block:
                return False
            digest.update(block)
            left -= len(block)
    return footer[len(_FOOTER_MAGIC):-1] == digest.hexdigest().encode()
