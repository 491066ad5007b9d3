"""The command line ``overhang-jax``: parses arguments, calls the Python API, prints."""

from ._main import main

__all__ = ["main"]
