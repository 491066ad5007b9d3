"""overhang_jax: Monte Carlo models of AI compute overhangs, caps and takeoff speed, in JAX.

The public API; implementation lives in the private ``_module.py`` files.
"""

from . import plots
from ._inference import INFERENCE, copies_multiplier
from ._model import Model, Output, Parameter
from ._priors import Priors, PriorsError, PriorsWarning, load_priors
from ._results import format_summary, load, nonfinite_counts, rank_correlations, save, summary
from ._runner import RunError, get_model, run
from ._takeoff import TAKEOFF
from ._version import __version__

__all__ = [
    "INFERENCE",
    "Model",
    "Output",
    "Parameter",
    "Priors",
    "PriorsError",
    "PriorsWarning",
    "RunError",
    "TAKEOFF",
    "__version__",
    "copies_multiplier",
    "format_summary",
    "get_model",
    "load",
    "load_priors",
    "nonfinite_counts",
    "plots",
    "rank_correlations",
    "run",
    "save",
    "summary",
]
