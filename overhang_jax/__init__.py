"""overhang_jax: Monte Carlo models of AI compute overhangs, caps and takeoff speed, in JAX."""

from ._model import Model, Output, Parameter
from ._priors import Priors, PriorsError, load_priors
from ._takeoff import TAKEOFF
from ._version import __version__

__all__ = ["Model", "Output", "Parameter", "Priors", "PriorsError", "TAKEOFF", "__version__", "load_priors"]
