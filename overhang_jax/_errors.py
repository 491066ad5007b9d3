"""Errors every layer may raise, defined below all of them so none imports another for its error."""


class RunError(ValueError):
    """Arguments of a run that cannot work; raised before any compute."""


class StorageError(OSError):
    """A file could not be written for want of space or a failing disk: not bad input. The message
    names the path and, after a compute, where the computed draws are kept."""


class NonfiniteError(RuntimeError):
    """More draws than allowed came out NaN or infinite (with ``nonfinite="raise"``); raised after the
    results are written, whose ``nonfinite`` group lists the draws."""


class NonfiniteWarning(UserWarning):
    """More draws than allowed came out NaN or infinite (with ``nonfinite="warn"``, the default)."""
