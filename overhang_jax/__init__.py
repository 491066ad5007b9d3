"""overhang_jax: Monte Carlo models of AI compute overhangs, caps and takeoff speed, in JAX.

The public API; implementation lives in the private ``_module.py`` files.
"""

from . import plots
from ._inference import INFERENCE, copies_multiplier
from ._model import Model, Output, Parameter
from ._priors import Priors, PriorsError, PriorsWarning, load_priors
from ._results import (compare_summary, format_summary, load, nonfinite_counts, nonfinite_draws, rank_correlations,
                       save, summary, trajectory_bands)
from ._runner import RunError, compare, get_model, run
from ._sensitivity import sobol_indices
from ._takeoff import TAKEOFF
from ._trajectory import TRAJECTORY
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
    "TRAJECTORY",
    "__version__",
    "compare",
    "compare_summary",
    "copies_multiplier",
    "format_summary",
    "get_model",
    "load",
    "load_priors",
    "nonfinite_counts",
    "nonfinite_draws",
    "plots",
    "rank_correlations",
    "run",
    "save",
    "sobol_indices",
    "summary",
    "trajectory_bands",
]
