"""The models the package ships, by name, and the runner's defaults: known without importing JAX,
so the command line's help answers at once."""

from __future__ import annotations

import importlib
from pathlib import Path

MODEL_MODULES = {"takeoff": ("._takeoff", "TAKEOFF"), "trajectory": ("._trajectory", "TRAJECTORY"),
                 "inference": ("._inference", "INFERENCE"), "ftm": (".ftm", "FTM")}
"""Model name -> (module, the Model object's name in it)."""

SHIPPED_PRIORS_DIR = Path(__file__).parent / "priors"
"""Each model's default priors file, ``MODEL.toml``, with the reasoning behind every range."""
SCENARIOS_DIR = Path(__file__).parent / "scenarios"
"""The shipped scenarios: priors files that change a model's defaults, one per question."""
OBSERVATIONS_DIR = Path(__file__).parent / "observations"
"""The shipped observation sets: data since the priors were set, with the source of every number."""

DEFAULT_CHUNK_SIZE = 2**16
"""Draws per chunk: large enough to amortise dispatch and host copies."""


def load_model(name: str):
    """The Model called ``name`` (its module is imported now)."""
    module, attribute = MODEL_MODULES[name]
    return getattr(importlib.import_module(module, __package__), attribute)


def get_model(model):
    """The model called ``model`` (or ``model`` itself, a Model)."""
    from .._errors import RunError
    from ._schema import Model

    if isinstance(model, Model):
        return model
    if model not in MODEL_MODULES:
        raise RunError(f"unknown model '{model}'; choose one of {', '.join(MODEL_MODULES)}")
    return load_model(model)
