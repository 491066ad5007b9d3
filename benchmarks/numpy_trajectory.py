"""The trajectory model (docs/trajectory.md) in plain vectorised numpy: the baseline of bench_trajectory.py.

The same work as ``overhang_jax.run("trajectory")``: sample the priors, step
both worlds of every draw from 2023 to 2100 (770 steps of 0.1 yr by default),
compute the outputs, and add the yearly E of both worlds to the same per-year
histograms (and kept series of the first draws) as the runner. Written from
the equations (R1)-(R16) of docs/trajectory.md as a numpy user would: every
operation acts on a whole batch of draws at once (float32 by default, in place
into preallocated arrays); the only Python loops are over time steps, chunks
of draws and short post-processing loops, never over draws.

It is meant to be a strong baseline, not a transliteration. It uses what the
equations imply (in exact arithmetic; the float64 check confirms it to
~1e-12):

* The default world never binds a cap and never catches up: its largest
  run grows by min(dB, k_max dt) each step, r = 1, and the slow-down and
  boost are never computed for it.
* In the policy world the cap withholds growth (w > 0, hence sigma > 0 and
  r < 1) only where it binds (U > cap): unbound steps realise at least the
  growth of the run without a cap. r ** lam, the boost and the withheld sum
  are computed for the binding draws only. A gradual lift's level rises by
  g_lift times the default world's step, for the draws past their cap's end
  (a prefix of the sorted batch).
* 1 + phi max(E - E_fb, 0) = max(1, phi E + (1 - phi E_fb)) as phi >= 0.
* Draws are sorted by the step where their cap ends (e, where catch-up
  starts), so the draws catching up at step n are a prefix of the batch (a
  slice, no masks), and each growth window is a slice of rows of a block of
  columns. Cap and pause windows switch on and off through per-draw arrays
  updated only for the draws whose window opens or closes at that step.
* Point parameters stay numpy scalars (as XLA folds them into constants);
  the fear term is skipped when phi_fear is the point 0.
* E of the default, regulated and evader curves and S of the default world
  are written into (N + 1, n) arrays as they are stepped (allocated once per
  run: fresh pages every batch cost a third as much again), and the outputs
  are read from them afterwards. Every E curve is non-decreasing (P, X, Alg
  never fall; the evaders keep what they have), so "first reaches" is a
  binary search per draw.
* The histograms are filled from the sorted batch: only the kept draws are
  put back in order.

``python benchmarks/numpy_trajectory.py`` checks the baseline against the
JAX package (see :func:`check_against_jax`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

import overhang_jax as oj
from overhang_jax.models._schema import KEPT_TRAJECTORIES
from overhang_jax.models._trajectory import GROWTH_WINDOW_YEARS, LOG10_2, START_YEAR, YEARS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from numpy_takeoff import sample_priors  # noqa: E402  (inverse-CDF sampling of any overhang_jax priors)

MODEL = oj.get_model("trajectory")
OUTPUT_NAMES = MODEL.output_names
SPEC = MODEL.trajectories
DEFAULT_STEPS_PER_YEAR = round(1 / MODEL.parameter("step_years").default)
STEPS = YEARS * DEFAULT_STEPS_PER_YEAR
"""770 steps of dt = 0.1 yr from 2023 to 2100, at the default step."""
DEFAULT_CHUNK_SIZE = 2**14
"""Draws per numpy batch. Measured on a 2-core EPYC (float32, 512 KiB L2 per
core): 2**14 is fastest, 2**13 and 2**15 about 10-20% slower; smaller
batches pay Python overhead per operation (~80 per step), larger ones work
out of L3."""

Params = dict[str, np.ndarray | np.floating]


def steps_per_year(p: Params) -> int:
    """k = 1 / step_years (a point value, as the package requires)."""
    return round(1 / float(p["step_years"]))


def _grid(dtype, k: int) -> tuple[np.ndarray, np.ndarray, np.floating]:
    """t_n = START_YEAR + n dt and t_n - START_YEAR, n = 0 .. N, rounded as the package rounds them."""
    dt = dtype.type(1.0 / k)
    t = START_YEAR + np.arange(YEARS * k + 1).astype(dtype) * dt
    return t, t - START_YEAR, dt


def _rate(months):
    """OOM/yr of a quantity that doubles every ``months`` months."""
    return (12 * LOG10_2) * (1 / months)


def _buckets(step: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Draws grouped by ``step``: those with step == n are order[bounds[n]:bounds[n + 1]], n < steps."""
    order = np.argsort(step, kind="stable")
    return order, np.searchsorted(step[order], np.arange(steps + 1))


class Workspace:
    """The (N + 1, n) curves of a batch, allocated once for batches of up to ``size`` draws.

    Fresh arrays of this size would be fresh pages every batch, and faulting
    them in costs as much as a third of the stepping.
    """

    NAMES = ("E_d", "E_p", "E_v", "S_d")

    def __init__(self, size: int, dtype, steps: int):
        self.size, self.dtype, self.steps = size, np.dtype(dtype), steps
        self.buffers = {name: np.empty((steps + 1) * size, self.dtype) for name in self.NAMES}

    def curves(self, n: int) -> list[np.ndarray]:
        return [b[:(self.steps + 1) * n].reshape(self.steps + 1, n) for b in self.buffers.values()]


def trajectory(p: Params, yearly: bool = True, workspace: Workspace | None = None
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The outputs of a batch of draws, and (with ``yearly``) E of both worlds at each whole year (78, n)."""
    outputs, series, order = trajectory_sorted(p, yearly, workspace)
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return {k: v[back] for k, v in outputs.items()}, {k: v[:, back] for k, v in series.items()}


def trajectory_sorted(p: Params, yearly: bool = True, workspace: Workspace | None = None
                      ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """As :func:`trajectory`, with the draws in the order the model sorts them into: draw ``order[i]`` is
    at position i (the histograms need no order, so :func:`run` saves unsorting the series)."""
    n = max(np.size(v) for v in p.values())
    dtype = p["compute_start"].dtype
    steps = YEARS * steps_per_year(p)
    if workspace is None or workspace.size < n or workspace.dtype != dtype or workspace.steps != steps:
        workspace = Workspace(n, dtype, steps)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _trajectory(p, n, dtype, yearly, *workspace.curves(n))


def _trajectory(p: Params, n: int, dtype, yearly: bool, E_d, E_p, E_v, S_d):
    k = steps_per_year(p)
    steps = YEARS * k
    t, tau, dt = _grid(dtype, k)
    full = lambda x: np.broadcast_to(np.asarray(x, dtype), n)  # noqa: E731

    # (R9) the cap starts at step s (first t_n >= t_cap) and ends at step e (first t_n >= t_cap + D; N + 1:
    # not by END_YEAR), where catch-up starts. Draws are sorted by e, so the draws catching up at a step
    # are a prefix of the batch.
    t_end = p["t_cap"] + p["D"]
    cap_end = np.searchsorted(t, full(t_end)).astype(np.int64)
    order = np.argsort(cap_end, kind="stable")
    cap_end = cap_end[order]
    p = {key: (v[order] if np.ndim(v) else v) for key, v in p.items()}
    cap_start = np.searchsorted(t, full(p["t_cap"])).astype(np.int64)
    catching = np.searchsorted(cap_end, np.arange(steps + 1), side="right")  # draws with e <= n

    g_spend_dt = _rate(p["spend_doubling_months"]) * dt
    g_hw = _rate(p["hw_doubling_months"])
    hw_ceiling, alg_ceiling = full(p["hw_ceiling"]), full(p["alg_ceiling"])
    hw_scale = full(-g_hw / p["hw_ceiling"])  # H(t) = H_0 - C_hw expm1(-g_hw tau / C_hw)
    g_alg_dt = _rate(p["alg_doubling_months"]) * dt
    alg_scale = full(-1 / p["alg_ceiling"])  # Alg += -(C_alg - Alg) expm1(-pace dt / C_alg)
    hw_start = p["compute_start"] - p["spend_start"]
    willingness_start = p["gwp_start"] + np.log10(p["max_spend_fraction"])
    evader_ceiling = full(willingness_start + np.log10(p["e_share"]))  # -inf without evaders
    g_gwp = p["g_gwp"]
    rho_gap = 1 - p["rho"]
    e_fb, phi, lam = p["E_fb"], p["phi"], p["lam"]
    g_exp_dt = p["g_exp"] * dt
    close_share = full(1 - np.exp(-p["kappa"] * dt))
    k_max_dt = full(p["k_max"] * dt)  # (R8) the physical ceiling on the run's growth per step
    keep_share = full(1 - p["alpha"])
    fear = not (np.ndim(p["phi_fear"]) == 0 and p["phi_fear"] == 0)
    # lam ln(10) / dt (r ** lam = exp(lam ln(10) shortfall / dt)) and beta - 1: gathered where the cap binds.
    slow_boost = np.stack([full(lam * (math.log(10.0) * k)), full(p["beta"] - 1)])

    # The policy world's cap on P_n+1: base + slope (t_n+1 - ref); +inf outside the cap (slope 0). It opens
    # at step s with base L_0 (from P_s), and at step e becomes the lift (or +inf after a sudden end).
    inf = dtype.type(np.inf)
    cap_base, cap_slope, cap_ref = np.full(n, inf, dtype), np.zeros(n, dtype), np.zeros(n, dtype)
    cap_opens = _buckets(cap_start, steps)
    cap_closes = _buckets(cap_end, steps)
    t_start, t_stop = t_of(cap_start, dtype, dt), t_of(cap_end, dtype, dt)
    headroom, absolute, g_cap = full(p["cap_headroom"]), full(p["P_cap"]), full(p["g_cap"])
    lifted = np.broadcast_to(p["end_draw"] >= p["p_sudden"], n)  # not a sudden end
    g_lift = full(p["g_lift"])
    # Deployment pause: the policy world's phi on steps s <= n < e, for draws with pause_deployment = 1.
    pausing = np.flatnonzero(full(p["pause_deployment"]) > 0)
    intercept = 1 - phi * e_fb
    phi_policy = full(phi).copy() if pausing.size else phi
    intercept_policy = full(intercept).copy() if pausing.size else intercept
    if pausing.size:
        phi_paused = full(phi * (1 - p["revenue_share"] * (1 - p["e_share"])))
        intercept_paused = 1 - phi_paused * e_fb
        paused_draws = full(p["pause_deployment"]) > 0
        pause_opens = _buckets(np.where(paused_draws & (cap_start < cap_end), cap_start, steps), steps)
        pause_closes = _buckets(np.where(paused_draws & (cap_start < cap_end), cap_end, steps), steps)

    # State. Rows n = 0 .. N of E (both worlds) and of the default world's spend.
    # E_d, E_p: E of the default and the regulated policy world; E_v: evaders; S_d: the default world's spend.
    spend = full(np.minimum(p["spend_start"], willingness_start))
    S_d[0] = spend
    S_p = spend.copy()
    B_p = spend + hw_start
    P_d, X_d, A_d = B_p.copy(), B_p.copy(), np.zeros(n, dtype)
    P_p, X_p, A_p = B_p.copy(), B_p.copy(), np.zeros(n, dtype)
    P_next = np.empty(n, dtype)
    B_d = B_p.copy()
    E_d[0] = P_d
    E_v[0] = P_d - full(p["h"]) - np.maximum(spend - evader_ceiling, 0)
    withheld = np.zeros(n, dtype)  # sum of w_n over the cap's window
    handicap = full(p["h"])
    growth_run = np.full(n, -np.inf, dtype)  # the regulated run's largest step over the growth window
    window_steps = GROWTH_WINDOW_YEARS * k
    E_p[0] = P_p
    target_gap = np.zeros(n, dtype)
    f, g, w, cap, tmp, B_next, natural, w_next, h_next, uncapped, old = (np.empty(n, dtype) for _ in range(11))
    binds = np.empty(n, bool)

    def switch(buckets, step, arrays, values):
        order, bounds = buckets
        rows = order[bounds[step]:bounds[step + 1]]
        if rows.size:
            for a, v in zip(arrays, values):
                a[rows] = v[rows] if np.ndim(v) else v
        return rows

    def feedback(e, phi_, intercept):
        # 1 + phi max(e - E_fb, 0) = max(1, phi e + (1 - phi E_fb)) as phi >= 0: one operation fewer.
        np.multiply(e, phi_, out=f)
        np.add(f, intercept, out=f)
        np.maximum(f, 1, out=f)
        if fear:
            np.subtract(e, p["E_fear"], out=tmp)
            np.maximum(tmp, 0, out=tmp)
            np.multiply(tmp, p["phi_fear"], out=tmp)
            np.subtract(f, tmp, out=f)
            np.maximum(f, 0, out=f)

    def algorithms(A, pace):
        """(R12) A += (C_alg - A) (1 - exp(-pace dt / C_alg)), in place; ``pace`` (times dt) is overwritten."""
        np.multiply(pace, alg_scale, out=pace)
        np.expm1(pace, out=pace)
        np.subtract(A, alg_ceiling, out=tmp)
        np.multiply(tmp, pace, out=tmp)
        A += tmp

    def effective(P, X, A, out):
        np.subtract(P, X, out=out)
        out *= rho_gap
        np.subtract(P, out, out=out)
        out += A

    for step in range(steps):
        taun, tn = tau[step + 1], t[step + 1]
        rows = switch(cap_opens, step, (), ())
        if rows.size:  # the cap's level L_0 from the run at step s (below it: the run stays, R10)
            base = np.minimum(absolute[rows], P_p[rows] + headroom[rows])
            cap_base[rows], cap_slope[rows], cap_ref[rows] = base, g_cap[rows], t_start[rows]
        rows = switch(cap_closes, step, (), ())
        if rows.size:  # a gradual lift from the cap's last level (or the run), or no cap after a sudden end
            lift = lifted[rows]
            at_end = cap_base[rows] + cap_slope[rows] * (t_stop[rows] - cap_ref[rows])
            cap_base[rows] = np.where(lift, np.maximum(at_end, P_p[rows]), inf)
            cap_slope[rows] = 0
            cap_ref[rows] = 0
        if pausing.size:
            switch(pause_opens, step, (phi_policy, intercept_policy), (phi_paused, intercept_paused))
            switch(pause_closes, step, (phi_policy, intercept_policy), (phi, intercept))
        np.add(np.multiply(g_gwp, taun, out=w_next), willingness_start, out=w_next)
        np.multiply(hw_scale, taun, out=h_next)  # (R2)
        np.expm1(h_next, out=h_next)
        np.multiply(h_next, hw_ceiling, out=h_next)
        np.subtract(hw_start, h_next, out=h_next)

        # Default world: the run grows by min(dB, k_max dt).
        feedback(E_d[step], phi, intercept)
        m, started = catching[step], (catching[step - 1] if step else 0)
        if m:  # nominal gap before the step, for the draws catching up
            gap = P_d[:m] + A_d[:m]
            gap -= P_p[:m] + A_p[:m]
            if m > started:
                target_gap[started:m] = keep_share[started:m] * gap[started:m]
        np.multiply(f, g_spend_dt, out=tmp)
        tmp += S_d[step]
        np.minimum(tmp, w_next, out=S_d[step + 1])
        np.add(S_d[step + 1], h_next, out=B_next)
        np.subtract(B_next, B_d, out=natural)
        B_d[:] = B_next
        np.add(P_d, natural, out=tmp)
        np.minimum(tmp, B_next, out=tmp)
        np.add(P_d, k_max_dt, out=w)
        np.minimum(tmp, w, out=tmp)
        np.maximum(tmp, P_d, out=tmp)
        if m:  # (R9) a gradual lift rises by g_lift times the default world's step (+inf stays +inf)
            cap_base[:m] += g_lift[:m] * (tmp[:m] - P_d[:m])
        P_d[:] = tmp
        np.multiply(f, g_alg_dt, out=g)
        algorithms(A_d, g)
        np.add(X_d, g_exp_dt, out=tmp)
        np.minimum(tmp, P_d, out=tmp)
        np.maximum(X_d, tmp, out=X_d)
        effective(P_d, X_d, A_d, E_d[step + 1])

        # Policy world.
        feedback(E_p[step], phi_policy, intercept_policy)
        np.multiply(f, g_spend_dt, out=tmp)
        S_p += tmp
        np.minimum(S_p, w_next, out=S_p)
        np.add(S_p, h_next, out=B_next)
        np.subtract(B_next, B_p, out=natural)
        np.add(P_p, natural, out=w)
        np.add(P_p, k_max_dt, out=uncapped)  # the ceiling, then the run without a cap
        np.minimum(w, B_next, out=old)
        np.minimum(old, uncapped, out=old)
        if m:
            gap -= target_gap[:m]
            np.maximum(gap, 0, out=gap)
            gap *= close_share[:m]
            w[:m] += gap
        np.minimum(w, B_next, out=w)
        np.minimum(w, uncapped, out=w)
        np.subtract(tn, cap_ref, out=cap)
        cap *= cap_slope
        cap += cap_base
        np.greater(w, cap, out=binds)
        bound = np.flatnonzero(binds)
        np.minimum(w, cap, out=P_next)
        np.maximum(P_next, P_p, out=P_next)
        np.multiply(f, g_alg_dt, out=g)
        if bound.size:  # the cap withholds growth only where it binds
            held = w[bound] - P_next[bound]  # (R10) w_n
            in_force = (cap_start[bound] <= step) & (step < cap_end[bound])  # summed over the window only
            withheld[bound[in_force]] += held[in_force]
            shortfall = np.minimum(P_next[bound] - old[bound], 0)  # OOM this step
            lam_beta = slow_boost[:, bound]
            pace = old[bound] - P_p[bound]  # g_n, the growth of the run without a cap
            share = np.minimum(held / np.maximum(pace, 1e-30), 1)  # (R11)
            # (R12) r ** lam, r = 10 ** (shortfall / dt) the ratio of yearly growth factors; the boost
            slowdown = np.exp(lam_beta[0] * shortfall)
            g[bound] *= slowdown * (1 + lam_beta[1] * share)
        if m:  # the run's growth over the window [e, e + 5 k), for the draws in it (a slice)
            lo = catching[step - window_steps] if step >= window_steps else 0
            np.maximum(growth_run[lo:m], P_next[lo:m] - P_p[lo:m], out=growth_run[lo:m])
        algorithms(A_p, g)
        P_p, P_next = P_next, P_p
        B_p, B_next = B_next, B_p
        np.add(X_p, g_exp_dt, out=tmp)
        np.minimum(tmp, P_p, out=tmp)
        np.maximum(X_p, tmp, out=X_p)
        effective(P_p, X_p, A_p, E_p[step + 1])
        # Evaders: the default world minus the handicap and the spend their share cannot buy, never losing ground.
        np.multiply(g_gwp, taun, out=tmp)
        tmp += evader_ceiling
        np.subtract(S_d[step + 1], tmp, out=tmp)
        np.maximum(tmp, 0, out=tmp)
        np.subtract(E_d[step + 1], handicap, out=g)
        g -= tmp
        np.maximum(E_v[step], g, out=E_v[step + 1])

    outputs, series = _outputs(p, n, dtype, k, t, tau, cap_start, cap_end, E_d, E_p, E_v, S_d, withheld,
                               growth_run, willingness_start, yearly)
    return outputs, series, order


def t_of(step: np.ndarray, dtype, dt) -> np.ndarray:
    """t_n for step indices n (beyond N too), as the package computes it."""
    return START_YEAR + step.astype(dtype) * dt


def _outputs(p, n, dtype, k, t, tau, cap_start, cap_end, E_d, E_p, E_v, S_d, withheld, growth_run,
             willingness_start, yearly):
    """The outputs, read from the stepped curves (rows 0 .. N; each non-decreasing in n)."""
    steps = YEARS * k
    full = lambda x: np.broadcast_to(np.asarray(x, dtype), n)  # noqa: E731
    inf, nan = dtype.type(np.inf), dtype.type(np.nan)
    dt = dtype.type(1.0 / k)
    columns = np.arange(n)
    E_tai = full(p["E_tai"])
    band_low = full(p["E_tai"] - p["w"])

    def curve(rows):
        flat = rows.reshape(-1)
        return lambda j, cols: flat[j * n + cols]

    default, regulated, evader = curve(E_d), curve(E_p), curve(E_v)

    def policy(j, cols):
        """(R16) the policy world's frontier: the regulated actors, or evaders if ahead."""
        return np.maximum(regulated(j, cols), evader(j, cols))

    def first_at_least(values, level):
        """Per draw, the first row j with values(j) >= level (N + 1 if none): a binary search."""
        low, high = np.zeros(n, np.int64), np.full(n, steps + 1, np.int64)
        for _ in range(math.ceil(math.log2(steps + 2))):
            open_ = low < high
            mid = (low + high) // 2
            hit = values(np.minimum(mid, steps), columns) >= level
            high = np.where(open_ & hit, mid, high)
            low = np.where(open_ & ~hit, mid + 1, low)
        return low

    def crossing(j, level, values):
        """Year a curve reaches ``level``, first at row j (0: START_YEAR; > N: never, +inf),
        interpolated within the step before."""
        year = np.full(n, inf)
        year[j == 0] = START_YEAR
        cols = np.flatnonzero((j > 0) & (j <= steps))
        jc = j[cols]
        before, after = values(jc - 1, cols), values(jc, cols)
        share = np.clip((level[cols] - before) / np.maximum(after - before, 1e-30), 0, 1)
        year[cols] = t[jc - 1] + dt * share
        return year, cols, jc

    j_tai_d = first_at_least(default, E_tai)
    tai_d, cols, j = crossing(j_tai_d, E_tai, default)
    tai_p = crossing(first_at_least(policy, E_tai), E_tai, policy)[0]
    band_d = crossing(first_at_least(default, band_low), band_low, default)[0]
    band_p = crossing(first_at_least(policy, band_low), band_low, policy)[0]

    # Spend still below the willingness to spend at the default world's TAI step.
    rampup = np.full(n, nan)
    at_start = j_tai_d == 0
    rampup[at_start] = (full(p["spend_start"]) < full(willingness_start))[at_start]
    W = full(willingness_start)[cols] + full(p["g_gwp"])[cols] * tau[j]
    rampup[cols] = curve(S_d)(j, cols) < W

    # The regulated actors' own crossing and their lead over evaders at both ends of that step.
    j_reg = first_at_least(regulated, E_tai)
    tai_r = crossing(j_reg, E_tai, regulated)[0]
    tai_v = np.where(full(p["e_share"]) > 0, crossing(first_at_least(evader, E_tai), E_tai, evader)[0], inf)
    lead = np.full(n, nan)
    cols = np.flatnonzero((j_reg <= steps) & (full(p["e_share"]) > 0))
    j = np.maximum(j_reg[cols], 1)  # reached at the start: share is 0 below, the lead at the start
    before, after = regulated(j - 1, cols), regulated(j, cols)
    share = np.clip((E_tai[cols] - before) / np.maximum(after - before, 1e-30), 0, 1)
    lead[cols] = (1 - share) * (before - evader(j - 1, cols)) + share * (after - evader(j, cols))

    # At the step the cap ends, and the largest one-step rise over the five years from it.
    overhang = np.full(n, nan)
    growth_d, growth_p, growth_r = np.full(n, nan), np.full(n, nan), np.full(n, nan)
    cols = np.flatnonzero(cap_end <= steps)  # a cap ending in the last step: overhang, no window
    overhang[cols] = default(cap_end[cols], cols) - regulated(cap_end[cols], cols)
    cols = np.flatnonzero(cap_end < steps)
    j0 = cap_end[cols]
    # Draws are sorted by e: each step's draws are a block of columns, their window a slice.
    starts = np.flatnonzero(np.diff(cap_end[cols], prepend=-1))
    for a, b in zip(starts, [*starts[1:], cols.size]):
        first, last = j0[a], min(j0[a] + GROWTH_WINDOW_YEARS * k, steps)
        block = slice(cols[a], cols[a] + b - a)
        rows = E_d[first:last + 1, block]
        growth_d[block] = np.max(rows[1:] - rows[:-1], axis=0)
        rows = E_p[first:last + 1, block]
        growth_r[block] = np.max(rows[1:] - rows[:-1], axis=0)
        rows = np.maximum(rows, E_v[first:last + 1, block])
        growth_p[block] = np.max(rows[1:] - rows[:-1], axis=0)
    growth_d *= k
    growth_p *= k
    growth_r *= k

    t_stop = t_of(cap_end, dtype, dt)
    starts_before = np.where((cap_start > steps) & np.isinf(tai_d), nan, t_of(cap_start, dtype, dt) < tai_d)
    outputs = {
        "overhang_at_end": overhang,
        "catchable_overhang_at_end": full(p["alpha"]) * overhang,
        "cap_ends_before_tai": np.where((cap_end > steps) & np.isinf(tai_d), nan, t_stop < tai_d),
        "cap_starts_before_tai": starts_before,
        "cap_binds": ((starts_before == 1) & (withheld > 0)).astype(dtype),
        "cap_withheld": withheld,
        "max_growth_after_end": growth_p,
        "max_growth_regulated": growth_r,
        "max_run_growth_after_end": np.where(cap_end < steps, growth_run * k, nan),
        "max_growth_default": growth_d,
        "tai_year_default": tai_d,
        "tai_year_policy": tai_p,
        "tai_year_regulated": tai_r,
        "tai_year_evaders": tai_v,
        "tai_delay": np.where(np.isinf(tai_d) & np.isinf(tai_p), nan, tai_p - tai_d),
        "tai_in_rampup_default": rampup,
        "danger_band_years_default": np.where(np.isinf(tai_d), inf, tai_d - band_d),  # +inf without TAI
        "danger_band_years_policy": np.where(np.isinf(tai_p), inf, tai_p - band_p),
        "lead_at_tai": lead,
    }
    outputs = {name: v.astype(dtype, copy=False) for name, v in outputs.items()}
    series = {}
    if yearly:
        rows = np.arange(0, steps + 1, k)
        series = {"E_default": E_d[rows], "E_policy": np.maximum(E_p[rows], E_v[rows])}
    return outputs, series


# --------------------------------------------------------------------------
# The run: sampling, the model, and the runner's per-year histograms


def histogram(values: np.ndarray) -> np.ndarray:
    """Per-year counts of yearly values (years, n) in the runner's bins (underflow, grid, overflow and NaN)."""
    years, n = values.shape
    bins = SPEC.bins
    position = np.subtract(values, SPEC.lower)
    position *= 1 / SPEC.bin_width
    np.floor(position, out=position)
    np.maximum(position, -1, out=position)
    np.fmin(position, bins, out=position)  # NaN -> bins (the overflow bin), as the runner
    index = position.astype(np.int64)
    index += (np.arange(years) * (bins + 2) + 1)[:, None]
    return np.bincount(index.reshape(-1), minlength=years * (bins + 2)).reshape(years, bins + 2)


def run(priors: oj.Priors, draws: int, seed: int, dtype=np.float32, chunk_size: int = DEFAULT_CHUNK_SIZE
        ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Sample and simulate ``draws`` draws in batches: every output of every draw, and the
    trajectory summaries of the runner (``NAME/counts`` per year and bin, ``NAME/kept`` of the first draws)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    columns = {name: np.empty(draws, dtype) for name in OUTPUT_NAMES}
    years = len(SPEC.coords)
    series = {}
    for name in SPEC.names:
        series[f"{name}/counts"] = np.zeros((years, SPEC.bins + 2), np.int64)
        series[f"{name}/kept"] = np.zeros((min(KEPT_TRAJECTORIES, draws), years), dtype)
    workspace = Workspace(min(chunk_size, draws), dtype, YEARS * round(1 / priors.distributions["step_years"].value))
    for start in range(0, draws, chunk_size):
        count = min(chunk_size, draws - start)
        outputs, yearly, order = trajectory_sorted(sample_priors(priors, count, rng, dtype), workspace=workspace)
        for name in OUTPUT_NAMES:
            columns[name][start + order] = outputs[name]
        for name, values in yearly.items():
            series[f"{name}/counts"] += histogram(values)
            kept = series[f"{name}/kept"]
            if start < len(kept):
                take = min(len(kept) - start, count)
                position = np.empty_like(order)
                position[order] = np.arange(count)
                kept[start:start + take] = values[:, position[:take]].T
    return columns, series


# --------------------------------------------------------------------------
# Check against the JAX package

ATOL = 1e-6
"""Tolerance of the check (float64): years, OOM and OOM/yr agree within ATOL, or within RTOL of their
size where a draw's feedback explodes (E of 1e9 OOM and more: doubles hold ~16 digits of it)."""
RTOL = 1e-9
SCENARIOS = {
    "default priors": "",
    # Branches the default priors leave out: the deployment pause, a moving cap, the fear term,
    # evaders of every size, always-sudden and always-gradual ends, lam = 0 (no slow-down under a cap),
    # absolute levels, caps starting late or ending after 2100, strong feedback, other steps.
    "pause, moving cap, fear, evaders": 'pause_deployment = 1\ng_cap = { dist = "uniform", lo = 0, hi = 0.5 }\n'
                                        'phi_fear = { dist = "uniform", lo = 0, hi = 0.3 }\n'
                                        'E_fear = { dist = "uniform", lo = 28, hi = 36 }\n'
                                        'e_share = { dist = "loguniform", lo = 1e-6, hi = 1 }\n',
    "no evaders, sudden ends, lam = 0, absolute levels": 'e_share = 0\np_sudden = 1\nlam = 0\n'
                                                         'P_cap = { dist = "uniform", lo = 25, hi = 29 }\n'
                                                         'cap_headroom = { dist = "uniform", lo = -1, hi = 3 }\n'
                                                         'k_max = { dist = "uniform", lo = 0.3, hi = 1.5 }\n',
    "gradual lifts, late and long caps": 'p_sudden = 0\nt_cap = { dist = "uniform", lo = 2023, hi = 2095 }\n'
                                         'D = { dist = "loguniform", lo = 0.05, hi = 60 }\n'
                                         'phi = { dist = "uniform", lo = 0, hi = 0.5 }\n',
    # t_end around 2100: the cap ending in the last step has an overhang but no growth window.
    "caps ending around 2100": 't_cap = 2090\nD = { dist = "uniform", lo = 9.85, hi = 10.05 }\n',
    "a step of 0.05 years": "step_years = 0.05\n",
}


def _as_batch(params: dict[str, np.ndarray]) -> Params:
    """A run's parameter columns as a batch: constant columns as numpy scalars, as :func:`sample_priors` gives."""
    return {k: (v[0] if v.size and np.all(v == v[0]) else np.ascontiguousarray(v)) for k, v in params.items()}


def _scaled_error(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """|mine - theirs| / max(1, |theirs|) on draws where both are finite, else 0."""
    finite = np.isfinite(mine) & np.isfinite(theirs)
    with np.errstate(invalid="ignore"):
        return np.where(finite, np.abs(mine - theirs) / np.maximum(1.0, np.abs(theirs)), 0.0)


def _compare(name: str, mine: np.ndarray, theirs: np.ndarray, exact: bool = False) -> str | None:
    """A mismatch (NaN, +inf, -inf in other draws, or values beyond the tolerance), or None."""
    same_special = ((np.isnan(mine) == np.isnan(theirs)) & (np.isposinf(mine) == np.isposinf(theirs))
                    & (np.isneginf(mine) == np.isneginf(theirs)))
    finite = np.isfinite(mine) & np.isfinite(theirs)
    if exact:
        close = mine == theirs
    else:
        close = np.isclose(mine, theirs, rtol=RTOL, atol=ATOL)
    bad = ~same_special | (finite & ~close)
    if bad.any():
        i = int(np.argmax(bad))
        return (f"{name} differs in {bad.sum()} draws (first at draw {i}: numpy {mine[i]!r}, jax {theirs[i]!r}; "
                f"max error {_scaled_error(mine, theirs).max():.2g})")
    return None


def shipped_scenarios() -> dict[str, Path]:
    """The scenario files shipped with overhang_jax for this model."""
    import tomllib

    found = {}
    for path in sorted((Path(oj.__file__).parent / "models" / "scenarios").glob("*.toml")):
        if tomllib.loads(path.read_text(encoding="utf-8")).get("model") == MODEL.name:
            found[path.stem] = path
    return found


def check_against_jax(draws: int = 4000, seed: int = 0, scenarios: bool = True, shipped: bool = True,
                      verbose: bool = True) -> bool:
    """Does the numpy baseline compute what the JAX package computes? Prints the evidence.

    Runs overhang_jax in float64 and feeds its own parameter draws to the
    numpy model (float64): each output must have the same NaN / +inf / -inf
    draws and agree within ATOL = 1e-6 elsewhere (years, OOM; RTOL = 1e-9 of
    the value where it is huge), tai_in_rampup exactly; the yearly
    trajectories of the kept draws likewise and the per-year histogram counts
    exactly. The reported "max error" is |numpy - jax| / max(1, |jax|).
    With ``scenarios``, also for priors that take the branches the defaults
    leave out (see ``SCENARIOS``); with ``shipped``, also for the package's
    scenario files of this model.
    """
    def say(line):
        if verbose:
            print(line, flush=True)

    ok = True
    cases = {label: (None, text) for label, text in SCENARIOS.items()} if scenarios else {"default priors": (None, "")}
    if shipped:
        cases.update({f"scenario {name}": (path, None) for name, path in shipped_scenarios().items()})
    for label, (path, text) in cases.items():
        if path is not None:
            priors = oj.load_priors(MODEL, path)
        elif text:
            priors = oj.load_priors(MODEL, text=f'model = "trajectory"\n[params]\n{text}')
        else:
            priors = oj.load_priors(MODEL)
        results = oj.run(MODEL, priors, draws=draws, seed=seed, float64=True, progress=False)
        params = _as_batch({k: v.values for k, v in oj.parameters(results).data_vars.items()})
        mine, yearly = trajectory(params)
        problems, worst = [], {}
        for name in OUTPUT_NAMES:
            theirs = oj.outputs(results)[name].values
            problem = _compare(name, mine[name], theirs, exact=name == "tai_in_rampup_default")
            if problem:
                problems.append(problem)
            worst[name] = float(_scaled_error(mine[name], theirs).max(initial=0.0))
        trajectories = results["trajectories"]
        for name in SPEC.names:
            kept = trajectories[name].values
            problem = _compare(f"{name} (kept draws)", yearly[name][:, :len(kept)].T.reshape(-1), kept.reshape(-1))
            if problem:
                problems.append(problem)
            counts = trajectories[f"{name}_counts"].values
            differ = int(np.abs(histogram(yearly[name]) - counts).sum())
            if differ:
                problems.append(f"{name} histogram: {differ} draw-years in other bins")
        ok &= not problems
        nonfinite = sum(int(np.count_nonzero(~np.isfinite(v))) for v in mine.values())
        say(f"{label} ({draws} draws, float64, {nonfinite} non-finite output values): " + (
            f"PASS, max error {max(worst.values()):.2g} (in {max(worst, key=worst.get)}); "
            "histograms equal" if not problems else "MISMATCH\n  " + "\n  ".join(problems)))
    say(f"check: {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=4000, help="draws per check (default 4000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-scenarios", action="store_true", help="check the default priors only")
    args = parser.parse_args(argv)
    scenarios = not args.no_scenarios
    return 0 if check_against_jax(args.draws, args.seed, scenarios=scenarios, shipped=scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
