"""Errors every layer may raise, defined below all of them so none imports another for its error."""


class RunError(ValueError):
    """Arguments of a run that cannot work; raised before any compute."""
