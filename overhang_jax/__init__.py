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
    "FTM": "._ftm",
    "INFERENCE": "._inference",
    "copies_multiplier": "._inference",
    "Model": "._model",
    "Output": "._model",
    "Parameter": "._model",
    "Priors": "._priors",
    "PriorsError": "._priors",
    "PriorsWarning": "._priors",
    "load_priors": "._priors",
    "evaluate": "._evaluate",
    "scenarios": "._scenarios",
    "RunError": "._runner",
    "compare": "._runner",
    "get_model": "._runner",
    "run": "._runner",
    "TAKEOFF": "._takeoff",
    "TRAJECTORY": "._trajectory",
    "ResultsError": "._results",
    "load": "._results",
    "nonfinite_counts": "._results",
    "nonfinite_draws": "._results",
    "outputs": "._results",
    "parameters": "._results",
    "save": "._results",
    "compare_summary": "._analysis",
    "comparison_findings": "._analysis",
    "comparison_notes": "._analysis",
    "format_comparison": "._analysis",
    "format_summary": "._analysis",
    "policy_shares": "._analysis",
    "rank_correlations": "._analysis",
    "summary": "._analysis",
    "trajectory_bands": "._analysis",
    "sobol_indices": "._sensitivity",
    "format_sweep": "._sweep",
    "sweep": "._sweep",
    "sweep_run": "._sweep",
    "sweep_shares": "._sweep",
    "sweep_summary": "._sweep",
    "write_report": "._report",
}

if TYPE_CHECKING:  # what static tools and IDEs see: the same names, imported at once
    from . import plots
    from ._analysis import (compare_summary, comparison_findings, comparison_notes, format_comparison,
                            format_summary, policy_shares, rank_correlations, summary, trajectory_bands)
    from ._evaluate import evaluate
    from ._ftm import FTM
    from ._inference import INFERENCE, copies_multiplier
    from ._model import Model, Output, Parameter
    from ._priors import Priors, PriorsError, PriorsWarning, load_priors
    from ._report import write_report
    from ._results import (ResultsError, load, nonfinite_counts, nonfinite_draws, outputs, parameters, save)
    from ._runner import RunError, compare, get_model, run
    from ._scenarios import scenarios
    from ._sensitivity import sobol_indices
    from ._sweep import format_sweep, sweep, sweep_run, sweep_shares, sweep_summary
    from ._takeoff import TAKEOFF
    from ._trajectory import TRAJECTORY


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
