"""The guarantees of every command that writes results, for the Python API and the command line alike.

Before any compute: every path to be written can be written (not a directory, device or FIFO; its
directory exists and is writable), none is one of the command's own inputs, and each file system
has room for what goes there. After the compute: the results are saved atomically, and if the save
fails (a full disk) the computed draws are kept as a checkpoint from which the same call writes the
results without computing them again. Then the non-finite gate: too many NaN or infinite draws
warn, or raise once the results are safe on disk.
"""

from __future__ import annotations

import errno
import os
import shutil
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._errors import NonfiniteError, NonfiniteWarning, RunError, StorageError

PLOT_BYTES = 400_000
"""Room left for each figure (the default PNGs measure 60-200 kB)."""
NONFINITE_MODES = ("warn", "raise")
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG}
"""OS errors of the storage, not of the request: a full disk or quota, a failing or read-only disk."""


def as_path(value: str | os.PathLike | None) -> Path | None:
    return None if value is None else Path(value)


def check_writable(files: Iterable[tuple[str, Path]], checkpoint: Path | None = None,
                   inputs: Iterable[Path | None] = (), checkpoint_label: str = "checkpoint") -> None:
    """Refuse now, not after the compute, every path that cannot be written.

    ``files`` are (what it is, path) of each file to write; ``checkpoint`` a directory; ``inputs`` the
    files the command reads (priors, parameter sets, results), which are never overwritten.
    """
    inputs = [Path(p) for p in inputs if p is not None]
    for label, path in files:
        path = Path(path)
        if path.exists():
            if not path.is_file():
                raise RunError(f"{label} '{path}' exists and is not a regular file (a directory, device or FIFO); "
                               "choose another path")
            for source in inputs:
                if source.exists() and os.path.samefile(path, source):
                    raise RunError(f"{label} '{path}' is one of this command's inputs ('{source}'), which would "
                                   "be overwritten; choose another path")
        _check_parent(label, path)
    if checkpoint is not None:
        if checkpoint.exists():
            if not checkpoint.is_dir():
                raise RunError(f"{checkpoint_label} '{checkpoint}' exists and is not a directory")
            if not os.access(checkpoint, os.W_OK | os.X_OK):
                raise RunError(f"{checkpoint_label} '{checkpoint}' is not writable")
        else:
            _check_parent(checkpoint_label, checkpoint)


def _check_parent(label: str, path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        problem = "is not a directory" if parent.exists() else "does not exist"
        raise RunError(f"{label} '{path}': directory '{parent}' {problem}")
    if not os.access(parent, os.W_OK | os.X_OK):  # also false on a read-only mount, even for root
        raise RunError(f"{label} '{path}': directory '{parent}' is not writable")


def _existing_ancestor(path: Path) -> Path:
    """The nearest directory at or above ``path`` that exists: where its bytes would go."""
    path = path.absolute()
    while not path.is_dir():
        path = path.parent
    return path


def check_space(needs: Iterable[tuple[Path, int]]) -> None:
    """Raise :class:`StorageError` now if a file system cannot hold what goes there: ``needs`` are
    (path, bytes)."""
    by_device: dict[int, tuple[Path, int, list[str]]] = {}  # file system -> (a directory, bytes, paths)
    for path, size in needs:
        where = _existing_ancestor(Path(path))
        directory, needed, named = by_device.get(where.stat().st_dev, (where, 0, []))
        by_device[where.stat().st_dev] = (directory, needed + size, [*named, f"'{path}'"])
    for directory, needed, named in by_device.values():
        free = shutil.disk_usage(directory).free
        if free < needed:
            raise StorageError(f"not enough space in '{directory}' for {', '.join(named)}: about "
                               f"{size_text(needed)} needed, {size_text(free)} free")


def size_text(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def checkpoint_bytes(model, priors, draws: int, chunk_size: int, float64: bool, directory: Path) -> int:
    """Room a checkpoint still needs: the whole of it less the chunks already saved there."""
    from ._run import estimated_checkpoint_bytes

    whole = estimated_checkpoint_bytes(model, priors, draws, chunk_size, float64)
    saved = sum(p.stat().st_size for p in directory.rglob("chunk_*.npz")) if directory.is_dir() else 0
    return max(whole - saved, 0)


def check_nonfinite_mode(nonfinite: str, limit: float | None) -> None:
    if nonfinite not in NONFINITE_MODES:
        raise RunError(f"nonfinite must be 'warn' or 'raise', got {nonfinite!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 <= limit <= 1):
        raise RunError(f"max_nonfinite_share must be a share in [0, 1], got {limit!r}")


def nonfinite_limit(model, limit: float | None) -> float:
    """The share of non-finite draws allowed: ``limit``, or the model's own default."""
    return model.nonfinite_share_limit if limit is None else float(limit)


def nonfinite_excess(results, limit: float, label: str = "") -> str | None:
    """A sentence if more than ``limit`` of a run's draws of an output are NaN or infinite (outputs
    undefined by definition in some draws excepted), else None."""
    from .._results import NONFINITE_GROUP, nonfinite_counts
    from ..models._registry import get_model

    draws = int(results.attrs["draws"])
    by_definition = {o.name for o in get_model(results.attrs["model"]).outputs if o.undefined}
    over = {name: count for name, count in nonfinite_counts(results).items()
            if count > limit * draws and name not in by_definition}
    if not over:
        return None
    listed = ", ".join(f"{name} {count:,} ({100 * count / draws:.3g}%)" for name, count in over.items())
    return (f"{label}more than {100 * limit:g}% of the {draws:,} draws are not finite: {listed}; their draw "
            f"indices are in the results' '{NONFINITE_GROUP}' group (max_nonfinite_share, or "
            "--max-nonfinite-share, sets the limit)")


def nonfinite_gate(problems: Sequence[str | None], nonfinite: str) -> None:
    """Warn about, or raise :class:`NonfiniteError` for, the runs with too many non-finite draws."""
    problems = [p for p in problems if p]
    if not problems:
        return
    if nonfinite == "raise":
        raise NonfiniteError("; ".join(problems))
    for problem in problems:
        warnings.warn(problem, NonfiniteWarning, stacklevel=3)


def save_or_rescue(results, out: Path, runs: Mapping[str, tuple[Any, Any]], checkpoint: Path | None,
                   save: Callable[[Any, Path], Any] | None = None) -> None:
    """Save ``results`` atomically to ``out``; if that fails, keep the computed draws.

    ``runs`` maps each run's checkpoint directory, relative to a checkpoint (``.`` for a run, ``a`` and
    ``b`` for a comparison), to its results and priors. With a checkpoint the draws are in it already;
    without one they are saved as a checkpoint beside ``out`` when there is room, from which the same
    call (with ``checkpoint=`` that directory) writes the results without computing them again.
    """
    from .._results import save as save_results

    try:
        (save or save_results)(results, out)
        return
    except OSError as err:
        failure = f"cannot write '{out}': {err.strerror or err}"
        storage = err.errno in STORAGE_ERRNOS
    error = _with_results(StorageError if storage else RunError, results)
    if checkpoint is not None:
        raise error(f"{failure}; the computed draws are kept in the checkpoint '{checkpoint}': free some space, "
                    "then re-run the same command to write the results without computing them again")
    rescue = out.with_name(out.name + ".checkpoint")
    if runs and _rescue(rescue, runs):
        raise error(f"{failure}; the computed draws are saved in '{rescue}': free some space, then re-run the same "
                    f"command with --checkpoint {rescue} (Python: checkpoint='{rescue}') to write the results "
                    "without computing them again")
    raise error(f"{failure}, and there is no room to keep the computed draws beside it; free some space, or "
                "re-run with --checkpoint DIR (Python: checkpoint=DIR) on a disk with room, to keep each chunk as "
                "it is computed")


def _with_results(kind: type, results: Any) -> Callable[[str], Exception]:
    """An error of ``kind`` that carries the computed ``results`` (attribute ``results``), so a Python
    caller whose write failed still has them in memory."""

    def make(message: str) -> Exception:
        error = kind(message)
        error.results = results
        return error

    return make


def _rescue(directory: Path, runs: Mapping[str, tuple[Any, Any]]) -> bool:
    """Save finished runs as a checkpoint in ``directory`` (a new one); False, leaving nothing, if they
    do not fit."""
    from ._run import save_checkpoint

    if directory.exists() or not directory.parent.is_dir():
        return False
    try:
        directory.mkdir()
        for relative, (results, priors) in runs.items():
            save_checkpoint(results, priors, directory / relative)
    except (OSError, ValueError):
        shutil.rmtree(directory, ignore_errors=True)
        return False
    return True


def write_or_fail(what: str, write: Callable[[], Any], kept: str) -> None:
    """Write ``what`` through ``write()``; a failure is one line saying what is kept (naming the path)."""
    try:
        write()
    except OSError as err:
        error = StorageError if err.errno in STORAGE_ERRNOS else RunError
        raise error(f"cannot write {what}: {err.strerror or err}; {kept}") from None
