"""What the data changed: the prior and the posterior of a conditioned run's headline outputs, side by side.

A run with ``observe=`` (``engine._conditioning``) holds its prior draws and a
resample of them by weight, its ``posterior``. This study sets their
quantiles side by side for the outputs a reader quotes, with the effective
sample size and the verdict on the weights, and says what the observations
were. Medians and 90% intervals are over all draws, +inf included (a year
never reached sorts last), so "not reached" shares are comparable between
prior and posterior; NaN draws (undefined) are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .._results import (LOG_LIKELIHOOD_GROUP, OUTPUTS_GROUP, POSTERIOR_GROUP, ResultsError, posterior_outputs,
                        refuse_sweep)
from ..models._registry import get_model
from ._summaries import format_number

EXTRA_OUTPUTS = ("tai_year_default", "tai_delay")
"""Shown before a model's headline outputs where it has them: the year without a policy and the
cap's delay, the numbers a reader of a single run quotes first."""
QUANTILES = (0.05, 0.5, 0.95)


def is_conditioned(results: xr.DataTree) -> bool:
    """Whether a run (or both runs of a comparison) was conditioned on observations."""
    return POSTERIOR_GROUP in results.children


def headline_outputs(model) -> list[str]:
    """The outputs shown prior against posterior: the year without a policy and the delay, then the
    outputs of the model's comparison headlines."""
    names = [o for o in EXTRA_OUTPUTS if o in model.output_names]
    names += [h.output for h in model.headlines if h.output not in names]
    return names or list(model.output_names[:5])


def prior_posterior(results: xr.DataTree, var_names: list[str] | None = None) -> pd.DataFrame:
    """Each headline output's median and 90% interval under the prior and the posterior, and the share
    of draws where it is +inf (not reached by the model's horizon) under each.

    The prior's are over the run's draws, the posterior's over its resample (the
    ``posterior_predictive`` group; the ``posterior`` group of a comparison). The table's attributes
    carry the ESS and k-hat.
    """
    refuse_sweep(results, "prior_posterior")
    if not is_conditioned(results):
        raise ResultsError("these results were not conditioned on observations (no posterior group): run with "
                           "observe= (--observe) to get one")
    model = get_model(results.attrs["model"])
    names = var_names or headline_outputs(model)
    posterior = posterior_outputs(results)
    rows = {}
    for name in names:
        row = {"units": results[OUTPUTS_GROUP][name].attrs.get("units", "")}
        for label, data in (("prior", results[OUTPUTS_GROUP].to_dataset()), ("posterior", posterior)):
            values = np.asarray(data[name].values, np.float64).ravel()
            defined = values[~np.isnan(values)]
            lower, median, upper = (np.quantile(defined, QUANTILES, method="inverted_cdf") if defined.size
                                    else (np.nan,) * 3)
            row.update({f"{label}_median": median, f"{label}_q5": lower, f"{label}_q95": upper,
                        f"{label}_not_reached": float(np.mean(np.isposinf(defined))) if defined.size else np.nan})
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.attrs.update({key: results.attrs[f"posterior_{key}"] for key in ("ess", "pareto_khat", "reliable")})
    table.attrs["draws"] = int(results.attrs["draws"])
    return table


def _value(x: float, units: str) -> str:
    if np.isposinf(x):
        return "not reached"
    if np.isnan(x):
        return "-"
    return format_number(x, units)  # the summaries' one rule: 2038.4 yr, 2.37 yr, 0.481 OOM/yr


def prior_posterior_display(table: pd.DataFrame) -> pd.DataFrame:
    """The table as a reader sees it: "median [5%, 95%]" under each, units, and the not-reached shares."""
    rows = {}
    for name, row in table.iterrows():
        u = row["units"]
        rows[name] = {"units": u, **{
            f"{k} median [90% interval]": f"{_value(row[f'{k}_median'], u)} [{_value(row[f'{k}_q5'], u)}, "
                                          f"{_value(row[f'{k}_q95'], u)}]" for k in ("prior", "posterior")},
            "not reached (prior -> posterior)": f"{100 * row['prior_not_reached']:.1f}% -> "
                                                f"{100 * row['posterior_not_reached']:.1f}%"}
    return pd.DataFrame.from_dict(rows, orient="index")


def format_prior_posterior(table: pd.DataFrame) -> str:
    """The table as text: median [5%, 95%] under each, with units and the not-reached shares."""
    display = prior_posterior_display(table)
    widths = (28, 10, 32, 32)
    lines = [" ".join(f"{h:{w}s}" for h, w in zip(("output", *display.columns[:3]), widths)) + " "
             + display.columns[3]]
    for name, row in display.iterrows():
        lines.append(" ".join(f"{c:{w}s}" for c, w in zip((str(name), *row.values[:3]), widths)) + " " + row.values[3])
    return "\n".join(lines)


def observation_lines(results: xr.DataTree) -> list[str]:
    """Each observation the run was conditioned on, in words, with its source."""
    group = results[LOG_LIKELIHOOD_GROUP]
    return [f"{name}: {group[name].attrs.get('long_name', '')}" for name in group.data_vars]


def conditioning_report(results: xr.DataTree) -> str:
    """The printout of a conditioned run: what was observed, the verdict on the weights, the table."""
    attrs = results.attrs
    lines = [f"Conditioned on observations '{attrs['posterior_observations']}' "
             f"({_count_words(len(results[LOG_LIKELIHOOD_GROUP].data_vars))}; docs/observations.md gives the "
             "method and sources):"]
    lines += [f"  - {line}" for line in observation_lines(results)]
    excluded = int(attrs.get("posterior_excluded_draws", 0))
    if excluded:
        lines.append(f"  {excluded:,} of {int(attrs['draws']):,} draws ({100 * excluded / int(attrs['draws']):.3g}%) "
                     "are excluded by the observations (likelihood 0: outside a hard bound, or undefined).")
    lines.append(attrs["posterior_verdict"])
    lines.append("Prior (every draw) and posterior (the draws resampled by weight), headline outputs:")
    lines.append(format_prior_posterior(prior_posterior(results)))
    return "\n".join(lines)


def observations_of(results: xr.DataTree) -> dict:
    """The attributes of the conditioning (k-hat, ESS, methods, verdict), without their prefix."""
    return {key[len("posterior_"):]: value for key, value in results.attrs.items() if key.startswith("posterior_")}



def comparison_conditioning_report(comparison: xr.DataTree) -> str:
    """The printout of a comparison of two conditioned runs: the observations, the verdict, and the
    paired differences B - A of the headline outputs under the prior and the posterior."""
    model = get_model(comparison.attrs["model"])
    lines = [conditioning_report(comparison["a"]).split("\nPrior (every draw)")[0],
             "Both scenarios' draws carry A's weights: the observations are of the years before any policy, so a "
             "pair of draws is one world with one weight.",
             "Paired differences B - A under the prior (every pair) and the posterior (the pairs resampled by "
             "weight):"]
    names = [h.output for h in model.headlines]
    lines.append(format_prior_posterior(prior_posterior(comparison, names)))
    return "\n".join(lines)


def _count_words(count: int) -> str:
    return f"{count} observation{'s' if count != 1 else ''}"
