"""Checkpoints: a directory of finished chunks and the manifest of the run they belong to.

``manifest.json`` holds what decides a run's draws (model, method, version,
seed, draws, sampler, dtype, priors); the chunk size and the devices are not
in it, as they never change the draws. Each ``chunk_<start>.npz`` holds the
columns of draws [start, start + rows), that chunk's share of the trajectory
histograms, and its metadata: start, rows and the SHA-256 of the manifest.
A chunk is used only when all of that matches the file name, the manifest
and the run, so a checkpoint cannot serve another run's draws. Files are
read without unpickling.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._io import write_atomic
from .._errors import RunError

MANIFEST = "manifest.json"
MANIFEST_KEYS = ("model", "method", "version", "seed", "draws", "sampler", "dtype", "priors_sha256",
                 "unit_coordinates", "observations_sha256")
"""Run attributes that decide the draws (``unit_coordinates`` only when a comparison sets them;
``observations_sha256`` only in a run conditioned on observations, whose chunks hold log likelihoods)."""
METADATA = "__chunk__"
"""The npz entry of a chunk's metadata (no parameter or output has this name)."""
NPZ_OVERHEAD = 4096
"""Bytes of a chunk file beyond its arrays: zip and npy headers, the metadata."""


def manifest_of(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest of a run, from its attributes (see MANIFEST_KEYS)."""
    return {key: attrs[key] for key in MANIFEST_KEYS if key in attrs}


class Checkpoint:
    """A directory of finished chunks plus the manifest of the run they belong to."""

    def __init__(self, directory: str | Path, manifest: dict[str, Any]):
        self.directory = Path(directory)
        self.manifest = manifest
        self.manifest_sha256 = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
        if self.directory.exists() and not self.directory.is_dir():
            raise RunError(f"checkpoint '{self.directory}' exists and is not a directory")
        try:
            self.directory.mkdir(exist_ok=True)
        except OSError as err:
            raise RunError(f"cannot create checkpoint directory '{self.directory}': {err.strerror}") from None
        manifest_path = self.directory / MANIFEST
        if manifest_path.exists() or manifest_path.is_symlink():
            found = self._read_manifest(manifest_path)
            if found != manifest:
                differ = sorted(k for k in manifest.keys() | found.keys() if found.get(k) != manifest.get(k))
                raise RunError(f"checkpoint {self.directory} belongs to a different run (differs in: "
                               f"{', '.join(differ)}); use another directory or delete it")
        elif any(self.directory.glob("chunk_*.npz")):
            raise RunError(f"checkpoint {self.directory} holds chunks but no manifest ({MANIFEST}), so "
                           "which run they belong to is unknown; use another directory or delete it")
        else:
            write_atomic(manifest_path, lambda p: p.write_text(json.dumps(manifest, indent=1)))

    def _read_manifest(self, path: Path) -> dict[str, Any]:
        try:
            found = json.loads(path.read_bytes())
        except (OSError, ValueError) as err:  # unreadable, a directory, not UTF-8, not JSON
            reason = err.strerror if isinstance(err, OSError) else "not valid JSON"
            raise RunError(f"checkpoint manifest {path} is damaged ({reason}); delete the checkpoint "
                           "directory to start again") from None
        if not isinstance(found, dict):
            raise RunError(f"checkpoint manifest {path} is damaged (not a JSON object); delete the "
                           "checkpoint directory to start again")
        return found

    def _path(self, start: int) -> Path:
        return self.directory / f"chunk_{start:012d}.npz"

    def saved(self, draws: int) -> dict[int, int]:
        """Start -> row count of every chunk saved here, each checked against this run.

        Reads only each chunk's metadata, so a damaged or foreign chunk is
        reported before any compute.
        """
        saved = {}
        for path in sorted(self.directory.glob("chunk_*.npz")):
            digits = path.stem.removeprefix("chunk_")
            if digits.isdigit():
                saved[int(digits)] = self._rows(path, int(digits), draws)
        return saved

    def _rows(self, path: Path, start: int, draws: int) -> int:
        try:  # allow_pickle stays False: a checkpoint never runs code
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data[METADATA]))
            chunk_start, rows, sha = int(meta["start"]), int(meta["rows"]), str(meta["manifest_sha256"])
        except KeyError:
            raise _refuse(path, "has no chunk metadata (start, rows, manifest hash): it was not written by "
                                "this version or is damaged") from None
        except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as err:
            raise _refuse(path, f"is unreadable ({err or type(err).__name__})") from None
        if sha != self.manifest_sha256:
            raise _refuse(path, "belongs to another run (its manifest hash differs)")
        if chunk_start != start:
            raise _refuse(path, f"starts at draw {chunk_start:,}, not {start:,} as its name says")
        if not 0 < rows <= draws - start:
            raise _refuse(path, f"claims {rows:,} rows from draw {start:,} of {draws:,}")
        return rows

    def load(self, start: int, rows: int, expected: Mapping[str, tuple[tuple[int, ...], np.dtype]]
             ) -> dict[str, np.ndarray]:
        """The arrays of the chunk of ``rows`` draws from ``start``, checked against the run.

        ``expected`` maps every variable to its shape and dtype, with ``()``
        for a per-draw column (``rows`` long).
        """
        path = self._path(start)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files if k != METADATA}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise _refuse(path, f"is unreadable ({err or type(err).__name__})") from None
        if set(arrays) != set(expected):
            raise _refuse(path, "does not hold this run's variables")
        for name, (shape, dtype) in expected.items():
            found = arrays[name]
            if not shape and (found.ndim != 1 or len(found) != rows):
                raise _refuse(path, f"holds {len(found) if found.ndim else 0:,} rows of {name}, not the {rows:,} "
                                    "it claims")
            if shape and found.shape != shape:
                raise _refuse(path, f"holds {name} of shape {found.shape}, not {shape}")
            if found.dtype != dtype:
                raise _refuse(path, f"holds {name} as {found.dtype}, not {np.dtype(dtype).name}")
        return arrays

    def save(self, start: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Save the chunk starting at ``start``: per-draw columns must hold exactly its rows."""
        (rows,) = {len(v) for v in arrays.values() if v.ndim == 1}  # per-draw columns; histograms are 2-D
        meta = {"start": start, "rows": rows, "manifest_sha256": self.manifest_sha256}

        def write(temp: Path):
            with open(temp, "wb") as f:
                np.savez(f, **arrays, **{METADATA: np.array(json.dumps(meta))})
        try:
            write_atomic(self._path(start), write)
        except OSError as err:
            raise OSError(err.errno, f"cannot save checkpoint chunk {self._path(start)} ({err.strerror or err}); "
                                     "the chunks saved before it are kept: free some space, then re-run the same "
                                     "command to resume") from None


def _refuse(path: Path, reason: str) -> RunError:
    return RunError(f"checkpoint chunk {path} {reason}; delete it to compute it again")
