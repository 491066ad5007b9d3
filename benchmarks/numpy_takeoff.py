"""The takeoff model (docs/takeoff.md) in plain vectorised numpy: the baseline of bench_takeoff.py.

The same work as ``overhang_jax.run("takeoff")`` followed by ``overhang_jax.summary``,
written as a numpy user would: every operation acts on a whole batch of draws
at once, and the only Python loops are over bisection halvings, time steps and
chunks of draws, never over draws.

* :func:`sample_priors` draws parameters from a :class:`overhang_jax.Priors`
  (inverse CDFs on numpy uniforms; point parameters stay scalars and broadcast).
* :func:`takeoff_fast` mirrors ``method="closed_form"``: the takeoff step by
  bisection on the closed-form pre-takeoff phase, the explosive phase in
  closed form where asymmetry is off and the pools are fixed, stepped otherwise.
* :func:`takeoff_stepped` mirrors ``method="stepped"``: every step of both
  phases, all draws at once, finished draws dropped as they finish.
* :func:`summary` gives the table of ``overhang_jax.summary`` (mean, sd, 5/50/95%
  quantiles and the 90% HDI of the finite draws, plus the non-finite count).

The equations and their floating-point order follow overhang_jax/models/_takeoff.py
line by line, so on the same parameter arrays both give the same takeoff and
end steps. ``python benchmarks/numpy_takeoff.py`` checks that against the JAX
package (see :func:`check_against_jax`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.special

import overhang_jax as oj
from overhang_jax.models._takeoff import MAX_STEPS, RATE_UNIT_YEARS

Params = dict[str, np.ndarray | np.floating]
"""Parameter name -> values of a batch of draws (an array) or of all of them (a numpy scalar)."""

OUTPUT_NAMES = oj.TAKEOFF.output_names
SUMMARY_PROB = 0.9
DEFAULT_CHUNK_SIZE = {"fast": 2**17, "stepped": 2**20}
"""Draws per numpy batch. Measured on a 2-core EPYC: the fast path's throughput
is flat from 2**16 to 2**18 (smaller batches pay Python overhead per operation,
larger ones fall out of cache); the stepped path takes hundreds of small steps
per batch, so it wants batches large enough to amortise each step's overhead
(flat from 2**18 up)."""


# --------------------------------------------------------------------------
# Sampling the priors


def _ppf(dist, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of an overhang_jax distribution, in u's dtype (as the package's JAX ppf)."""
    kind = dist.kind
    if kind == "point":
        return np.full_like(u, dist.value)
    if kind == "uniform":
        return dist.lo + u * (dist.hi - dist.lo)
    if kind == "loguniform":
        log_lo, log_hi = math.log(dist.lo), math.log(dist.hi)
        return np.exp(log_lo + u * (log_hi - log_lo))
    if kind == "normal":
        return dist.mean + dist.sd * scipy.special.ndtri(u)
    if kind == "lognormal":
        return np.exp(dist.mu + dist.sigma * scipy.special.ndtri(u))
    if kind == "beta":
        return dist.lo + scipy.special.betaincinv(dist.a, dist.b, u) * (dist.hi - dist.lo)
    if kind == "truncated":
        cdf_min, cdf_max = dist.cdf_bounds
        return np.clip(_ppf(dist.base, cdf_min + u * (cdf_max - cdf_min)), dist.min, dist.max)
    if kind == "mixture":
        edges = np.concatenate([[0.0], np.cumsum(dist.weights)])
        edges[-1] = 1.0
        component = np.searchsorted(edges[1:-1], u, side="right")
        values = np.empty_like(u)
        for k, part in enumerate(dist.components):
            rows = component == k
            values[rows] = _ppf(part, np.clip((u[rows] - edges[k]) / dist.weights[k], 0.0, 1.0))
        return values
    return dist.scipy().ppf(u).astype(u.dtype)  # any distribution added later


def sample_priors(priors: oj.Priors, draws: int, rng: np.random.Generator, dtype=np.float64) -> Params:
    """``draws`` parameter draws from ``priors``; point parameters come back as numpy scalars."""
    dtype = np.dtype(dtype)
    margin = max(1e-12, float(np.finfo(dtype).epsneg))  # as overhang_jax: no impossible tail values
    # One row per uncertain parameter, so each parameter's values are contiguous.
    u = np.clip(rng.random((priors.dimension, draws), dtype=dtype), margin, 1 - margin)
    cholesky = priors.copula_cholesky()
    if cholesky is not None:  # rank correlations through a Gaussian copula
        z = cholesky.astype(dtype) @ scipy.special.ndtri(u)
        u = np.clip(scipy.special.ndtr(z), margin, 1 - margin)
    row = {name: i for i, name in enumerate(priors.random_names)}
    params = {}
    for name, dist in priors.distributions.items():
        if name in row:
            params[name] = _ppf(dist, u[row[name]]).astype(dtype, copy=False)
        else:
            params[name] = dtype.type(dist.value if dist.kind == "point" else dist.components[0].value)
    return params


def _take(params: Params, rows) -> Params:
    """The draws ``rows`` (indices or a mask) of a batch; scalars are shared by all draws."""
    return {k: v[rows] if np.ndim(v) else v for k, v in params.items()}


def _dtype(params: Params) -> np.dtype:
    """The float dtype of a batch (every parameter has it; step_years is always there)."""
    return params["step_years"].dtype


def _per_draw(values, n: int) -> np.ndarray:
    """Pool values (arrays or shared scalars) as one (3, n) array."""
    return np.stack([np.broadcast_to(v, n) for v in values])


# --------------------------------------------------------------------------
# The equations (overhang_jax/models/_takeoff.py, same names, same order of operations).
# Pool quantities are tuples (investment, hardware, software) of arrays or scalars.


def sum_pools(values) -> np.ndarray:
    investment, hardware, software = values
    return (investment + hardware) + software


def pool_sizes(p: Params, step) -> tuple:
    """S_i(n): the investment pool grows by investment_pool_growth OOM/yr."""
    elapsed = np.asarray(step).astype(_dtype(p)) * p["step_years"]
    return (p["size_investment"] + p["investment_pool_growth"] * elapsed, p["size_hardware"], p["size_software"])


def horizon_steps(p: Params) -> np.ndarray:
    return np.floor(p["horizon_years"] / p["step_years"] + 1e-3).astype(np.int32)


def pause_steps(p: Params) -> tuple[np.ndarray, np.ndarray]:
    def first_step_at(year):
        return np.ceil((year - p["start_year"]) / p["step_years"] - 1e-3).astype(np.int32)
    return first_step_at(p["software_pause_start"]), first_step_at(p["software_pause_end"])


def pre_takeoff_rates(p: Params) -> tuple:
    """c0 m_i per tenth of a year."""
    return tuple(p["c0"] * p[f"pre_multiplier_{pool}"] for pool in ("investment", "hardware", "software"))


def log_keep(p: Params, rates) -> tuple:
    """(T4) log k(r) = (dt / 0.1) log(1 - min(1, r)): the log of the share of a pool kept over one step."""
    tenths = p["step_years"] * (1 / RATE_UNIT_YEARS)
    return tuple(tenths * np.log1p(-np.minimum(r, 1.0)) for r in rates)


def clipped(rates) -> np.ndarray:
    investment, hardware, software = rates
    return np.maximum(np.maximum(investment, hardware), software) >= 1


def pre_takeoff_clipped(p: Params, takeoff_step: np.ndarray) -> np.ndarray:
    """Whether a pool consumed at c0 m_i >= 1 per tenth of a year in a step before takeoff (or the horizon)."""
    step = np.minimum(takeoff_step, horizon_steps(p))
    pause_start, pause_end = pause_steps(p)
    paused_before = np.clip(step, pause_start, pause_end) - pause_start
    active = (step, step, step - paused_before)
    return np.any([(a > 0) & (r >= 1) for a, r in zip(active, pre_takeoff_rates(p))], axis=0)


def asymmetry_multiplier(p: Params, step, remaining_investment) -> np.ndarray:
    """A = scaffolding * c2 * I ** (a_scale * a_returns); 1 when asymmetry is off."""
    log10_investment = p["investment_base"] + pool_sizes(p, step)[0] * (1 - remaining_investment)
    exponent = p["asymmetry_scaling"] * p["asymmetry_returns"]
    multiplier = p["scaffolding_factor"] * p["c2"] * 10.0 ** (exponent * log10_investment)
    return np.where(p["asymmetry"] > 0.5, multiplier, 1.0)


def explosive_rates(p: Params, step, remaining) -> tuple[tuple, np.ndarray]:
    """(T7) r_i = c1 / d_i M_i per tenth of a year."""
    c1 = p["c0"] * p["c1_over_c0"]
    multiplier = asymmetry_multiplier(p, step, remaining[0])
    return (c1 / p["delay_investment"], c1 / p["delay_hardware"], c1 / p["delay_software"] * multiplier), multiplier


def takeoff_speed(p: Params, sizes, remaining, rates) -> np.ndarray:
    """(T9) v = sum_i S_i R_i min(1, r_i) / 0.1, OOM per year."""
    return sum_pools([s * r * np.minimum(rate, 1.0) for s, r, rate in zip(sizes, remaining, rates)]) * (
        1 / RATE_UNIT_YEARS)


def first_step_where(reached, low, high, guess_low, guess_high) -> np.ndarray:
    """Smallest n in [low, high) with ``reached(rows, n)`` per draw, ``high`` if none (monotone ``reached``).

    As the package: start from the guessed bracket where it checks out, else
    from [low, high]; then halve only the brackets still open.
    """
    guess_low = np.minimum(np.maximum(guess_low, low), high)
    guess_high = np.minimum(np.maximum(guess_high, guess_low), high)
    every = slice(None)
    valid = (((guess_low == low) | ~reached(every, guess_low - 1))
             & ((guess_high == high) | reached(every, guess_high)))
    below = np.where(valid, guess_low, low)
    above = np.where(valid, guess_high, high)
    rows = np.flatnonzero(below < above)
    while rows.size:
        b, a = below[rows], above[rows]
        mid = (b + a) // 2
        hit = reached(rows, mid)
        b = np.where(hit, b, mid + 1)
        a = np.where(hit, mid, a)
        below[rows], above[rows] = b, a
        rows = rows[b < a]
    return below


def _steps_to_fall(fraction, log_keep_) -> np.ndarray:
    """Steps for k ** n to fall to ``fraction`` (log k = ``log_keep_``), as a float (inf if never)."""
    steps = np.log(np.maximum(fraction, 0.0)) / log_keep_
    return np.where(fraction >= 1.0, 0.0, np.where(np.isnan(steps), np.inf, steps))


def _guess_to_step(x, margin: int) -> np.ndarray:
    return (np.clip(np.floor(x), -1.0, float(MAX_STEPS)) + margin).astype(np.int32)


# --------------------------------------------------------------------------
# The pre-takeoff phase: takeoff step T and the remaining fractions R_i(T).


def takeoff_step_closed_form(p: Params, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Bisection on the monotone K_n with R_i(n) = (1 - c0 m_i) ** (active steps before n)."""
    dtype = _dtype(p)
    last_step = np.broadcast_to(horizon_steps(p), n)
    pause_start, pause_end = pause_steps(p)
    log_keeps = log_keep(p, pre_takeoff_rates(p))
    # Only what the bisection needs, so each halving gathers few arrays.
    need = {"log_keep": _per_draw(log_keeps, n),
            "pause_start": pause_start, "pause_end": pause_end,
            **{k: p[k] for k in ("capability_start", "takeoff_threshold", "size_investment", "size_hardware",
                                 "size_software", "investment_pool_growth", "step_years")}}

    def remaining(q, step):
        paused_before = np.clip(step, q["pause_start"], q["pause_end"]) - q["pause_start"]
        active = (step, step, step - paused_before)
        # A rate of 1 gives log 0 = -inf; no active step must still give R = 1.
        return np.stack([np.where(a > 0, np.exp(a.astype(dtype) * lk), 1.0)
                         for a, lk in zip(active, q["log_keep"])])

    def reached(rows, step):
        q = {k: v[..., rows] if np.ndim(v) else v for k, v in need.items()}
        return (q["capability_start"] + sum_pools([s * (1 - r) for s, r in
                                                    zip(pool_sizes(q, step), remaining(q, step))])
                >= q["takeoff_threshold"])

    gap = p["takeoff_threshold"] - p["capability_start"]
    fastest = np.minimum(np.minimum(log_keeps[0], log_keeps[1]), log_keeps[2])
    slowest = np.maximum(np.maximum(log_keeps[0], log_keeps[1]), log_keeps[2])
    soonest = _steps_to_fall(1 - gap / sum_pools(pool_sizes(p, last_step)), fastest)
    latest = _steps_to_fall(1 - gap / sum_pools(pool_sizes(p, np.zeros(n, np.int32))), slowest)
    step = first_step_where(reached, np.zeros(n, np.int32), last_step + 1,
                            np.broadcast_to(_guess_to_step(soonest, -1), n),
                            np.broadcast_to(_guess_to_step(latest, 2), n))
    return step, remaining(need, step)


class _Stepping:
    """Draws still being stepped, with their state; finished draws leave in batches.

    Dropping finished draws every step would copy the whole state each step;
    never dropping them would keep paying for them. So finished draws are
    masked out and only compacted away once they are an eighth of the batch.
    """

    def __init__(self, rows: np.ndarray, **state):
        self.rows = rows
        self.state = state
        self.live = np.ones(rows.size, bool)
        self.n_live = rows.size

    def finish(self, done: np.ndarray) -> np.ndarray:
        """Mark ``done`` draws finished; return the positions that just finished."""
        just = np.flatnonzero(done & self.live)
        if just.size:
            self.live[just] = False
            self.n_live -= just.size
        return just

    def compact(self) -> None:
        if self.n_live < self.rows.size * 7 // 8:
            keep = self.live
            self.rows = self.rows[keep]
            self.state = {k: v[..., keep] if np.ndim(v) else v for k, v in self.state.items()}
            self.live = np.ones(self.rows.size, bool)


def takeoff_step_stepped(p: Params, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Step every draw from n = 0 until K_n >= K_star (or past the horizon)."""
    dtype = _dtype(p)
    last_step = np.broadcast_to(horizon_steps(p), n)
    pause_start, pause_end = pause_steps(p)
    takeoff_step = last_step + 1  # "not by the horizon" unless found below
    remaining = np.ones((3, n), dtype)
    # Skip draws whose pools cannot reach the threshold by the horizon.
    reachable = p["capability_start"] + sum_pools(pool_sizes(p, last_step)) >= p["takeoff_threshold"]
    rows = np.flatnonzero(np.broadcast_to(reachable, n))
    keep = _per_draw([np.exp(lk) for lk in log_keep(p, pre_takeoff_rates(p))], n)
    needed = _take({k: p[k] for k in ("capability_start", "takeoff_threshold", "size_investment", "size_hardware",
                                      "size_software", "investment_pool_growth", "step_years")}, rows)
    batch = _Stepping(rows, remaining=remaining[:, rows], last_step=last_step[rows], keep=keep[:, rows],
                      pause_start=pause_start, pause_end=pause_end, **needed)
    step = 0  # every draw starts at step 0, so they share the step counter
    while batch.n_live:
        s = batch.state
        r = s["remaining"]
        capability = s["capability_start"] + sum_pools([size * (1 - ri) for size, ri in
                                                         zip(pool_sizes(s, step), r)])
        stop = (step > s["last_step"]) | (capability >= s["takeoff_threshold"])
        just = batch.finish(stop)
        takeoff_step[batch.rows[just]] = step
        remaining[:, batch.rows[just]] = r[:, just]
        batch.compact()
        s = batch.state
        r, keep = s["remaining"], s["keep"]
        paused = (step >= s["pause_start"]) & (step < s["pause_end"])
        r[0] *= keep[0]
        r[1] *= keep[1]
        r[2] *= np.where(paused, 1.0, keep[2]) if np.any(paused) else keep[2]  # paused: m_sw = 0
        step += 1
    return takeoff_step, remaining


# --------------------------------------------------------------------------
# The explosive phase: speed at start, maximum speed and its step, end step.


def explosive_phase_stepped(p: Params, takeoff_step: np.ndarray, remaining: np.ndarray) -> dict:
    """Step draws that took off from their own takeoff step until they end or reach the horizon."""
    n = takeoff_step.size
    dtype = remaining.dtype
    result = {"speed_at_start": np.full(n, np.nan, dtype), "max_speed": np.full(n, -np.inf, dtype),
              "max_speed_step": takeoff_step.copy(), "end_step": np.full(n, -1, np.int32),
              "clipped": np.zeros(n, bool)}
    batch = _Stepping(np.arange(n), step=takeoff_step.copy(), takeoff_step=takeoff_step,
                      last_step=np.broadcast_to(horizon_steps(p), n), remaining=remaining.copy(),
                      max_speed=result["max_speed"].copy(), max_speed_step=takeoff_step.copy(),
                      clipped=np.zeros(n, bool), **p)
    first = True
    while batch.n_live:
        s = batch.state
        r = s["remaining"]
        sizes = pool_sizes(s, s["step"])
        total = sum_pools([size * ri for size, ri in zip(sizes, r)])
        ends = (s["step"] > s["takeoff_step"]) & (s["step"] <= s["last_step"]) & (total < s["end_remaining"])
        done = ends | (s["step"] > s["last_step"])
        rates, _ = explosive_rates(s, s["step"], r)
        log_keeps = log_keep(s, rates)
        speed = takeoff_speed(s, sizes, r, rates)
        if first:  # every draw starts at its takeoff step
            result["speed_at_start"][batch.rows] = speed
            first = False
        faster = ~done & (speed > s["max_speed"])
        s["max_speed"] = np.where(faster, speed, s["max_speed"])
        s["max_speed_step"] = np.where(faster, s["step"], s["max_speed_step"])
        s["clipped"] = s["clipped"] | (~done & clipped(rates))
        just = batch.finish(done)
        rows = batch.rows[just]
        result["max_speed"][rows] = s["max_speed"][just]
        result["max_speed_step"][rows] = s["max_speed_step"][just]
        result["end_step"][rows] = np.where(ends[just], s["step"][just], -1)
        result["clipped"][rows] = s["clipped"][just]
        # Finished draws still in the batch step on harmlessly until compacted.
        s["step"] += 1
        for ri, lk in zip(r, log_keeps):
            ri *= np.exp(lk)
        batch.compact()
    return result


def explosive_phase_closed_form(p: Params, takeoff_step: np.ndarray, remaining: np.ndarray) -> dict:
    """Constant rates (asymmetry off, fixed pools): R_i(T + k) = R_i(T) (1 - r_i) ** k.

    The remaining total then falls strictly (its crossing of end_remaining is
    found by bisection) and the speed never rises (its maximum is at T).
    """
    n = takeoff_step.size
    last_step = np.broadcast_to(horizon_steps(p), n)
    rates, _ = explosive_rates(p, takeoff_step, remaining)
    log_keeps = log_keep(p, rates)
    log_factor = _per_draw(log_keeps, n)
    sizes = pool_sizes(p, takeoff_step)
    left = _per_draw([s * r for s, r in zip(sizes, remaining)], n)
    eps = np.broadcast_to(p["end_remaining"], n)

    def ended(rows, k):
        decayed = np.where(k > 0, np.exp(k.astype(log_factor.dtype) * log_factor[:, rows]), 1.0)
        return sum_pools(left[:, rows] * decayed) < eps[rows]

    # Every pool must fall below end_remaining (a lower bound on the end) and
    # below a third of it (enough): the bracket of the bisection.
    steps_left = last_step - takeoff_step
    need_low = np.max(np.where(left > 0, _steps_to_fall(eps / left, log_factor), 0.0), axis=0)
    need_high = np.max(np.where(left > 0, _steps_to_fall(eps / (3 * left), log_factor), 0.0), axis=0)
    k_end = first_step_where(ended, np.ones(n, np.int32), steps_left + 1,
                             _guess_to_step(need_low, -2), _guess_to_step(need_high, 2))
    speed = takeoff_speed(p, sizes, remaining, rates)
    return {"speed_at_start": speed, "max_speed": speed, "max_speed_step": takeoff_step,
            "end_step": np.where(k_end <= steps_left, takeoff_step + k_end, -1),
            "clipped": np.broadcast_to(clipped(rates), n)}


# --------------------------------------------------------------------------
# The model, both methods


def _outputs(p: Params, takeoff_step, remaining, phase: dict) -> dict[str, np.ndarray]:
    dtype = remaining.dtype
    took_off = takeoff_step <= horizon_steps(p)
    ended = phase["end_step"] >= 0

    def year(step):
        return p["start_year"] + step.astype(dtype) * p["step_years"]

    def if_took_off(value):
        return np.where(took_off, value, np.nan).astype(dtype, copy=False)

    left = [s * r for s, r in zip(pool_sizes(p, takeoff_step), remaining)]
    _, multiplier = explosive_rates(p, takeoff_step, remaining)
    return {
        "takeoff_year": np.where(took_off, year(takeoff_step), np.inf),
        "speed_at_start": if_took_off(phase["speed_at_start"]),
        "max_speed": if_took_off(phase["max_speed"]),
        "max_speed_year": np.where(took_off, year(phase["max_speed_step"]), np.inf),
        "takeoff_duration": np.where(ended, (phase["end_step"] - takeoff_step).astype(dtype) * p["step_years"],
                                     np.inf),
        "remaining_investment": if_took_off(left[0]),
        "remaining_hardware": if_took_off(left[1]),
        "remaining_software": if_took_off(left[2]),
        "asymmetry_multiplier": if_took_off(multiplier),
        "rate_clipped": (pre_takeoff_clipped(p, takeoff_step) | (took_off & phase["clipped"])).astype(dtype),
    }


def _explosive_phase(p: Params, takeoff_step, remaining, closed_form: bool) -> dict:
    """The explosive phase of the draws that took off; the others keep placeholders (masked later)."""
    n = takeoff_step.size
    dtype = remaining.dtype
    phase = {"speed_at_start": np.full(n, np.nan, dtype), "max_speed": np.full(n, np.nan, dtype),
             "max_speed_step": takeoff_step.copy(), "end_step": np.full(n, -1, np.int32),
             "clipped": np.zeros(n, bool)}
    took_off = takeoff_step <= horizon_steps(p)
    exact = (p["asymmetry"] < 0.5) & (p["investment_pool_growth"] == 0) if closed_form else False
    for rows, solve in ((np.flatnonzero(took_off & exact), explosive_phase_closed_form),
                        (np.flatnonzero(took_off & ~np.asarray(exact)), explosive_phase_stepped)):
        if rows.size:
            part = solve(_take(p, rows), takeoff_step[rows], remaining[:, rows])
            for k, v in part.items():
                phase[k][rows] = v
    return phase


def takeoff_fast(params: Params) -> dict[str, np.ndarray]:
    """A batch of draws, the fast path: closed-form pre-takeoff, closed-form explosive phase where exact."""
    n = max(np.size(v) for v in params.values())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        takeoff_step, remaining = takeoff_step_closed_form(params, n)
        phase = _explosive_phase(params, takeoff_step, remaining, closed_form=True)
        return _outputs(params, takeoff_step, remaining, phase)


def takeoff_stepped(params: Params) -> dict[str, np.ndarray]:
    """A batch of draws, every step of both phases (the reference)."""
    n = max(np.size(v) for v in params.values())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        takeoff_step, remaining = takeoff_step_stepped(params, n)
        phase = _explosive_phase(params, takeoff_step, remaining, closed_form=False)
        return _outputs(params, takeoff_step, remaining, phase)


METHODS = {"fast": takeoff_fast, "stepped": takeoff_stepped}


def run(priors: oj.Priors, draws: int, seed: int, method: str = "fast", dtype=np.float32,
        chunk_size: int | None = None) -> dict[str, np.ndarray]:
    """Sample and simulate ``draws`` draws in batches of ``chunk_size``; every output of every draw."""
    chunk_size = chunk_size or DEFAULT_CHUNK_SIZE[method]
    rng = np.random.default_rng(seed)
    model = METHODS[method]
    columns = {name: np.empty(draws, dtype) for name in OUTPUT_NAMES}
    for start in range(0, draws, chunk_size):
        count = min(chunk_size, draws - start)
        outputs = model(sample_priors(priors, count, rng, dtype))
        for name in OUTPUT_NAMES:
            columns[name][start:start + count] = outputs[name]
    return columns


# --------------------------------------------------------------------------
# Summary: the table of overhang_jax.summary


def _sorted_quantile(ordered: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (numpy's default method) of an already sorted array."""
    position = q * (ordered.size - 1)
    below = math.floor(position)
    above = min(below + 1, ordered.size - 1)
    return float(ordered[below] + (ordered[above] - ordered[below]) * (position - below))


def summary(columns: dict[str, np.ndarray], prob: float = SUMMARY_PROB) -> pd.DataFrame:
    """Mean, sd, 5/50/95% quantiles, 90% HDI of each output's finite draws, and the non-finite count.

    One sort per output serves the quantiles and the HDI (the narrowest
    window holding ``prob`` of the sorted draws, as ArviZ's "nearest").
    """
    rows = {}
    for name, values in columns.items():
        values = np.asarray(values, np.float64)
        ordered = np.sort(values[np.isfinite(values)])
        n = ordered.size
        row = dict.fromkeys(("mean", "sd", "q5", "q50", "q95", "hdi90_lower", "hdi90_upper"), np.nan)
        if n:
            inside = min(int(math.floor(prob * n)), n - 1)
            lower = int(np.argmin(ordered[inside:] - ordered[:n - inside]))
            row.update(mean=ordered.mean(), sd=ordered.std(ddof=1) if n > 1 else 0.0,
                       q5=_sorted_quantile(ordered, 0.05), q50=_sorted_quantile(ordered, 0.5),
                       q95=_sorted_quantile(ordered, 0.95),
                       hdi90_lower=ordered[lower], hdi90_upper=ordered[lower + inside])
        row["nonfinite"] = int(values.size - n)
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# --------------------------------------------------------------------------
# Check against the JAX package

SCENARIOS = Path(oj.__file__).parent / "models" / "scenarios"
EXACT = ("takeoff_year", "takeoff_duration", "max_speed_year", "rate_clipped")
CLOSE = ("speed_at_start", "max_speed", "remaining_investment", "remaining_hardware", "remaining_software",
         "asymmetry_multiplier")
SPEED_RTOL = 1e-9


def _compare(mine: dict, theirs, label: str) -> list[str]:
    """Mismatches of one method's outputs against the JAX run's (empty if none)."""
    problems = []
    for name in EXACT:
        a, b = mine[name], theirs[name].values
        # The same grid step: t0 + n dt up to its last bit (XLA fuses it into one FMA in vectorised loops).
        with np.errstate(invalid="ignore"):
            bad = ~((a == b) | (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-14, atol=0.0))
        if bad.any():
            problems.append(f"{label}: {name} differs in {bad.sum()} draws (first at draw {np.argmax(bad)}: "
                            f"numpy {a[bad][0]!r}, jax {b[bad][0]!r})")
    for name in CLOSE:
        a, b = mine[name], theirs[name].values
        close = np.isclose(a, b, rtol=SPEED_RTOL, atol=0.0, equal_nan=True)
        if not close.all():
            err = np.nanmax(np.abs(a - b) / np.abs(b))
            problems.append(f"{label}: {name} differs in {(~close).sum()} draws (max rel. error {err:.2g})")
    return problems


def check_against_jax(draws: int = 20_000, seed: int = 0, scenarios: bool = True, scenario_draws: int = 4_000,
                      verbose: bool = True) -> bool:
    """Does the numpy baseline compute what the JAX package computes? Prints the evidence.

    1. Same priors, independent random numbers (float64): the takeoff_year
       quantiles agree within sampling noise (median within 0.5 year, the
       5% and 95% quantiles, noisier, within 1 year).
    2. The JAX run's own parameter draws fed to numpy: takeoff_year,
       takeoff_duration and max_speed_year on the same grid step (equal up to
       the last bit of t0 + n dt), rate_clipped exactly, speeds and pools to
       rtol 1e-9, for both methods; with ``scenarios`` also for the scenario
       files that take the other branches (asymmetry and a growing pool: the
       stepped explosive phase; the software pause).
    """
    def say(line):
        if verbose:
            print(line, flush=True)

    ok = True
    priors = oj.load_priors(oj.TAKEOFF)
    jax_runs = {m: oj.run(oj.TAKEOFF, priors, draws=draws, seed=seed, method=m, float64=True, progress=False)
                for m in ("closed_form", "stepped")}

    years_jax = oj.outputs(jax_runs["closed_form"])["takeoff_year"].values
    years_np = run(priors, draws, seed + 1, "fast", np.float64)["takeoff_year"]
    quantiles = [0.05, 0.5, 0.95]
    q_jax = np.quantile(years_jax[np.isfinite(years_jax)], quantiles)
    q_np = np.quantile(years_np[np.isfinite(years_np)], quantiles)
    tolerance = np.array([1.0, 0.5, 1.0])
    same_law = bool(np.all(np.abs(q_jax - q_np) <= tolerance))
    ok &= same_law
    say(f"takeoff_year 5/50/95% quantiles, {draws} draws each: jax {np.round(q_jax, 2)}, "
        f"numpy {np.round(q_np, 2)}: {'within' if same_law else 'NOT within'} "
        f"{'/'.join(f'{t:g}' for t in tolerance)} year")

    cases = [("default priors", priors, draws, jax_runs)]
    branches = ("takeoff_asymmetry", "takeoff_growing_investment", "takeoff_software_pause")
    for scenario in branches if scenarios else ():
        scenario_priors = oj.load_priors(oj.TAKEOFF, SCENARIOS / f"{scenario}.toml")
        cases.append((scenario, scenario_priors, scenario_draws,
                      {m: oj.run(oj.TAKEOFF, scenario_priors, draws=scenario_draws, seed=seed, method=m,
                                 float64=True, progress=False) for m in ("closed_form", "stepped")}))
    for label, _, n, runs in cases:
        problems = []
        for jax_method, method in (("closed_form", "fast"), ("stepped", "stepped")):
            params = {k: v.values for k, v in oj.parameters(runs[jax_method]).data_vars.items()}
            problems += _compare(METHODS[method](params), oj.outputs(runs[jax_method]),
                                 f"{method} vs jax {jax_method}")
        ok &= not problems
        say(f"same parameters, {label} ({n} draws, float64): " + (
            "numpy fast == jax closed_form and numpy stepped == jax stepped (years and durations on the same "
            "grid step, rate_clipped exactly, "
            f"speeds and pools to rtol {SPEED_RTOL:g})" if not problems else "MISMATCH\n  " + "\n  ".join(problems)))
    say(f"check: {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20_000, help="draws of the check (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-scenarios", action="store_true", help="check the default priors only")
    args = parser.parse_args(argv)
    return 0 if check_against_jax(args.draws, args.seed, scenarios=not args.no_scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
