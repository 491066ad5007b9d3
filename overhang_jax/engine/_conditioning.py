"""Conditioning a run on observations: importance weights, their diagnostics, and the resample.

The prior draws are a sample from the prior; each draw's likelihood of the
observations (computed in the run, ``priors._observations``) makes them an
importance sample from the posterior. This module turns the per-draw log
likelihoods into

* Pareto-smoothed normalised importance weights (PSIS, Vehtari et al. 2024,
  "Pareto smoothed importance sampling", JMLR 25), with arviz-stats' own
  ``psislw``, and the Pareto k-hat of the weights' tail from the same call;
* the effective sample size of the weights, 1 / sum(w_i^2) (Kish's; arviz-stats
  has no function for the ESS of given weights);
* a verdict: the posterior is reliable when k-hat <= KHAT_LIMIT and the ESS is at
  least ESS_FLOOR, and otherwise comes with advice;
* a resample of the draws by weight, systematic resampling (one uniform offset,
  then N evenly spaced points through the weights' cumulative sum), with the
  offset drawn from the run's seed: the same draws and seed give the same
  resample bit for bit, whatever the chunk size or devices that computed them.

Draws whose log likelihood is -inf (outside a hard bound, or a quantity the
model leaves undefined) have weight 0; the smoothing acts on the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .._errors import RunError

KHAT_LIMIT = 0.7
"""Pareto k-hat above which importance weights are not trusted (Vehtari et al. 2024: above 0.7 the
error of an estimate falls too slowly with more draws to be useful)."""
ESS_FLOOR = 1000
"""Effective sample size below which the posterior is not presented as reliable: with fewer, a
median's standard error is above 0.04 of the distribution's sd and its 90% interval's ends move
visibly between seeds."""
RESAMPLING = ("systematic resampling of the draws by their Pareto-smoothed importance weights: one uniform "
              "offset u from the seed, then the draws at the points (u + i) / N of the weights' cumulative sum, "
              "i = 0 .. N - 1")
WEIGHTS = ("Pareto-smoothed importance weights (PSIS; arviz-stats psislw on the draws' total log likelihood), "
           "normalised to sum to 1; 0 where the log likelihood is -inf")
RESAMPLE_STREAM = 0x0B5E
"""Mixed with the seed for the resampling offset, so it is not any parameter's random number."""


class Conditioning(NamedTuple):
    """What the observations make of a run's draws."""

    total: np.ndarray
    """Each draw's log likelihood, summed over the observations (float64)."""
    weights: np.ndarray
    """Normalised importance weights (float64, sum 1)."""
    khat: float
    ess: float
    excluded: int
    """Draws with log likelihood -inf: weight 0."""
    resample: np.ndarray
    """Indices of the prior draws that make the posterior sample (int64, one per prior draw)."""
    equal_weights: bool = False
    """Every draw the observations allow weighs the same: no tail, k-hat not defined."""

    @property
    def reliable(self) -> bool:
        khat_ok = self.equal_weights or self.khat <= KHAT_LIMIT  # a NaN k-hat of unequal weights is not ok
        return bool(khat_ok and self.ess >= ESS_FLOOR)

    def verdict(self) -> str:
        """One line: whether the posterior can be trusted and, if not, what to do."""
        khat = ("not defined (every draw the observations allow has the same weight)" if self.equal_weights
                else "not estimable (a few draws carry all the weight)" if math.isnan(self.khat)
                else f"{self.khat:.2f}")
        numbers = f"Pareto k-hat {khat}, effective sample size {self.ess:,.0f} of {len(self.weights):,} draws"
        if self.reliable:
            return (f"Posterior reliable: {numbers} (limits: k-hat <= {KHAT_LIMIT}, ESS >= {ESS_FLOOR:,}).")
        problems = []
        if not self.equal_weights and not self.khat <= KHAT_LIMIT:
            problems.append(f"k-hat above {KHAT_LIMIT}" if self.khat > KHAT_LIMIT else "k-hat not estimable")
        if self.ess < ESS_FLOOR:
            problems.append(f"ESS below {ESS_FLOOR:,}")
        return (f"POSTERIOR NOT RELIABLE ({' and '.join(problems)}): {numbers}. The observations fall where few "
                "prior draws are; run more draws, widen the observations' sd (or give intervals soft edges), "
                "or widen the priors they contradict.")

    def attrs(self) -> dict:
        return {"pareto_khat": float(self.khat), "ess": float(self.ess), "ess_floor": ESS_FLOOR,
                "khat_limit": KHAT_LIMIT, "reliable": int(self.reliable), "excluded_draws": int(self.excluded),
                "weights_method": WEIGHTS, "resampling_method": RESAMPLING, "verdict": self.verdict()}


def condition(log_likelihoods: Mapping[str, np.ndarray], seed: int) -> Conditioning:
    """Weights, diagnostics and the resample of draws with these per-observation log likelihoods."""
    import arviz_stats  # noqa: F401  (registers the .azstats accessor)
    import xarray as xr

    total = np.zeros(len(next(iter(log_likelihoods.values()))), np.float64)
    for values in log_likelihoods.values():
        total += np.asarray(values, np.float64)
    total[np.isnan(total)] = -np.inf
    finite = np.isfinite(total)
    if not finite.any():
        raise RunError("no draw is consistent with the observations (every draw's likelihood is 0): the priors "
                       "exclude what was observed; widen the priors or the observations")
    weights = np.zeros_like(total)
    if np.ptp(total[finite]) == 0:
        # Every draw the observations allow weighs the same (hard bounds only): no tail to smooth,
        # and k-hat is not defined; the ESS alone judges the posterior.
        weights[finite], khat = 1.0, math.nan
    else:
        # arviz-stats takes minus the log likelihood (its convention for leave-one-out) and returns
        # normalised smoothed log weights and k-hat.
        negative = xr.DataArray(-total[finite][np.newaxis], dims=("chain", "draw"))
        log_weights, khat = negative.azstats.psislw(dim=["chain", "draw"])
        weights[finite] = np.exp(np.asarray(log_weights.values, np.float64).ravel())
    weights /= weights.sum()
    ess = 1.0 / float(np.sum(weights * weights))
    return Conditioning(total, weights, float(khat), ess, int((~finite).sum()), resample(weights, seed),
                        equal_weights=bool(np.ptp(total[finite]) == 0))


def resample(weights: np.ndarray, seed: int) -> np.ndarray:
    """Systematic resampling: len(weights) indices, draw i appearing floor or ceil of N w_i times."""
    count = len(weights)
    offset = np.random.default_rng([int(seed), RESAMPLE_STREAM]).random()
    points = (offset + np.arange(count)) / count
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0  # the sum's rounding must not leave the last points past the end
    return np.searchsorted(cumulative, points, side="right").astype(np.int64)
