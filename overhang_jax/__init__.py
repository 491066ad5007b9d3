"""overhang_jax: Monte Carlo models of AI compute overhangs, caps and takeoff speed, in JAX.

The public API; implementation lives in the private ``_module.py`` files.
Every name is imported on first use (PEP 562), so ``import overhang_jax``
and the command line's ``--help`` cost almost nothing; JAX is imported with
the first model, xarray and pandas with the first results, matplotlib with
the first figure.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

_EXPORTS = {
    "FTM": ".models.ftm",
    "INFERENCE": ".models._inference",
    "copies_multiplier": ".models._inference",
    "Model": ".models._schema",
    "Output": ".models._schema",
    "Parameter": ".models._schema",
    "Priors": ".priors._priors",
    "PriorsError": ".priors._priors",
    "PriorsWarning": ".priors._priors",
    "load_priors": ".priors._priors",
    "Observable": ".models._schema",
    "Observations": ".priors._observations",
    "ObservationsError": ".priors._observations",
    "load_observations": ".priors._observations",
    "observation_sets": ".priors._observations",
    "prior_posterior": ".studies._conditioning",
    "format_prior_posterior": ".studies._conditioning",
    "evaluate": ".engine._evaluate",
    "scenarios": ".priors._scenarios",
    "RunError": "._errors",
    "StorageError": "._errors",
    "NonfiniteError": "._errors",
    "NonfiniteWarning": "._errors",
    "configure": ".engine._runtime",
    "compare": ".engine._run",
    "get_model": ".models._registry",
    "run": ".engine._run",
    "TAKEOFF": ".models._takeoff",
    "TRAJECTORY": ".models._trajectory",
    "ResultsError": "._results",
    "load": "._results",
    "nonfinite_counts": "._results",
    "nonfinite_draws": "._results",
    "outputs": "._results",
    "parameters": "._results",
    "save": "._results",
    "compare_summary": ".studies._comparison",
    "comparison_findings": ".studies._comparison",
    "comparison_notes": ".studies._comparison",
    "format_comparison": ".studies._comparison",
    "format_number": ".studies._summaries",
    "format_summary": ".studies._summaries",
    "outputs_left_out": ".studies._summaries",
    "policy_shares": ".studies._comparison",
    "policy_outcomes": ".studies._comparison",
    "policy_in_words": ".studies._comparison",
    "rank_correlations": ".studies._summaries",
    "summary": ".studies._summaries",
    "trajectory_bands": ".studies._summaries",
    "sobol_indices": ".studies._sensitivity",
    "format_sweep": ".studies._sweep",
    "sweep": ".studies._sweep",
    "sweep_run": ".studies._sweep",
    "sweep_shares": ".studies._sweep",
    "sweep_summary": ".studies._sweep",
    "sweep_headline": ".studies._sweep",
    "sweep_conditioning": ".studies._sweep",
    "write_report": ".present._report",
    "explore": ".present._explore",
}

if TYPE_CHECKING:  # what static tools and IDEs see: the same names, imported at once
    from . import plots
    from .studies._summaries import format_number, format_summary, outputs_left_out, rank_correlations, summary, trajectory_bands
    from .studies._comparison import compare_summary, comparison_findings, comparison_notes, format_comparison, policy_shares
    from .studies._comparison import policy_in_words, policy_outcomes
    from .engine._evaluate import evaluate
    from .models.ftm import FTM
    from .models._inference import INFERENCE, copies_multiplier
    from .models._schema import Model, Observable, Output, Parameter
    from .priors._observations import Observations, ObservationsError, load_observations, observation_sets
    from .studies._conditioning import format_prior_posterior, prior_posterior
    from .priors._priors import Priors, PriorsError, PriorsWarning, load_priors
    from .present._report import write_report
    from .present._explore import explore
    from ._results import (ResultsError, load, nonfinite_counts, nonfinite_draws, outputs, parameters, save)
    from ._errors import NonfiniteError, NonfiniteWarning, RunError, StorageError
    from .engine._runtime import configure
    from .engine._run import compare, run
    from .models._registry import get_model
    from .priors._scenarios import scenarios
    from .studies._sensitivity import sobol_indices
    from .studies._sweep import (format_sweep, sweep, sweep_conditioning, sweep_headline, sweep_run, sweep_shares,
                                 sweep_summary)
    from .models._takeoff import TAKEOFF
    from .models._trajectory import TRAJECTORY


def __getattr__(name: str):
    if name == "plots":
        return importlib.import_module(".plots", __name__)
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value  # found directly from now on
        return value
    raise AttributeError(f"module 'overhang_jax' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = sorted([*_EXPORTS, "__version__", "plots"])
