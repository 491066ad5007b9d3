"""The trajectory model (MODELS.md section 2) in plain vectorised numpy: the baseline of bench_trajectory.py.

The same work as ``overhang_jax.run("trajectory")``: sample the priors, step
both worlds of every draw from 2023 to 2100 (770 steps of 0.1 yr), compute the
ten outputs, and add the yearly E of both worlds to the same per-year
histograms (and kept series of the first draws) as the runner. Written from
the equations in the docstring of overhang_jax/_trajectory.py as a numpy user
would: every operation acts on a whole batch of draws at once (float32 by
default, in place into preallocated arrays); the only Python loops are over
time steps, chunks of draws and short post-processing loops, never over draws.

It is meant to be a strong baseline, not a transliteration. It uses what the
equations imply (in exact arithmetic; the float64 check confirms it to
~1e-12):

* The default world never binds a cap and never catches up, and its largest
  run P never falls behind the budget B = S + H (P_0 = B_0, and each step adds
  at least the budget's growth), so P = B, ratio = 1, and only S, X and Alg
  are stepped for it.
* In the policy world ratio < 1 only where the cap binds (P <= B always, so
  unbound steps realise at least the natural growth): ratio ** lam is
  computed for the binding draws only.
* 1 + phi max(E - E_fb, 0) = max(1, phi E + (1 - phi E_fb)) as phi >= 0.
* Draws are sorted by the step where their catch-up starts, so the draws
  catching up at step n are a prefix of the batch (a slice, no masks), and
  each growth window is a slice of rows of a block of columns. Cap and pause
  windows switch on and off through per-draw arrays updated only for the
  draws whose window opens or closes at that step.
* Point parameters stay numpy scalars (as XLA folds them into constants);
  the fear term is skipped when phi_fear is the point 0.
* The evaders' deficit grows only for the draws where the cap is in force and binds.
* E of the default, regulated and evader curves and S of the default world
  are written into (771, n) arrays as they are stepped (allocated once per
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
from overhang_jax._runner import KEPT_TRAJECTORIES
from overhang_jax._trajectory import GROWTH_WINDOW_STEPS, LOG10_2, START_YEAR, STEPS_PER_YEAR, YEARS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from numpy_takeoff import sample_priors  # noqa: E402  (inverse-CDF sampling of any overhang_jax priors)

MODEL = oj.get_model("trajectory")
OUTPUT_NAMES = MODEL.output_names
SPEC = MODEL.trajectories
STEPS = YEARS * STEPS_PER_YEAR
"""770 steps of dt = 0.1 yr from 2023 to 2100."""
DEFAULT_CHUNK_SIZE = 2**14
"""Draws per numpy batch. Measured on a 2-core EPYC (float32, 512 KiB L2 per
core): 2**14 is fastest, 2**13 and 2**15 about 10-20% slower; smaller
batches pay Python overhead per operation (~80 per step), larger ones work
out of L3."""

Params = dict[str, np.ndarray | np.floating]


def _grid(dtype) -> tuple[np.ndarray, np.ndarray, np.floating]:
    """t_k = START_YEAR + k dt and t_k - START_YEAR, k = 0 .. STEPS, rounded as the package rounds them."""
    dt = dtype.type(1.0 / STEPS_PER_YEAR)
    t = START_YEAR + np.arange(STEPS + 1).astype(dtype) * dt
    return t, t - START_YEAR, dt


def _rate(months):
    """OOM/yr of a quantity that doubles every ``months`` months."""
    return (12 * LOG10_2) * (1 / months)


def _buckets(step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draws grouped by ``step``: those with step == k are order[bounds[k]:bounds[k + 1]], k < STEPS."""
    order = np.argsort(step, kind="stable")
    return order, np.searchsorted(step[order], np.arange(STEPS + 1))


class Workspace:
    """The (STEPS + 1, n) curves of a batch, allocated once for batches of up to ``size`` draws.

    Fresh arrays of this size would be fresh pages every batch, and faulting
    them in costs as much as a third of the stepping.
    """

    NAMES = ("E_d", "E_p", "E_v", "S_d")

    def __init__(self, size: int, dtype):
        self.size, self.dtype = size, np.dtype(dtype)
        self.buffers = {name: np.empty((STEPS + 1) * size, self.dtype) for name in self.NAMES}

    def curves(self, n: int) -> list[np.ndarray]:
        return [b[:(STEPS + 1) * n].reshape(STEPS + 1, n) for b in self.buffers.values()]


def trajectory(p: Params, yearly: bool = True, workspace: Workspace | None = None
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The ten outputs of a batch of draws, and (with ``yearly``) E of both worlds at each whole year (78, n)."""
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
    if workspace is None or workspace.size < n or workspace.dtype != dtype:
        workspace = Workspace(n, dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _trajectory(p, n, dtype, yearly, *workspace.curves(n))


def _trajectory(p: Params, n: int, dtype, yearly: bool, E_d, E_p, E_v, S_d):
    t, tau, dt = _grid(dtype)
    full = lambda x: np.broadcast_to(np.asarray(x, dtype), n)  # noqa: E731

    # Catch-up starts at the first step n with t_n >= t_end (STEPS + 1: not by END_YEAR). Draws are
    # sorted by it, so the draws catching up at a step are a prefix of the batch.
    t_end = p["t_cap"] + p["D"]
    first_catch = np.searchsorted(t, full(t_end)).astype(np.int64)
    order = np.argsort(first_catch, kind="stable")
    first_catch = first_catch[order]
    p = {k: (v[order] if np.ndim(v) else v) for k, v in p.items()}
    t_end = p["t_cap"] + p["D"]
    catching = np.searchsorted(first_catch, np.arange(STEPS + 1), side="right")  # draws with start <= n

    g_spend_dt = _rate(p["spend_doubling_months"]) * dt
    g_hw = _rate(p["hw_doubling_months"])
    g_alg_dt = _rate(p["alg_doubling_months"]) * dt
    hw_start = p["compute_start"] - p["spend_start"]
    willingness_start = p["gwp_start"] + np.log10(p["max_spend_fraction"])
    g_gwp = p["g_gwp"]
    rho_gap = 1 - p["rho"]
    e_fb, phi, lam, beta = p["E_fb"], p["phi"], p["lam"], p["beta"]
    g_exp_dt = p["g_exp"] * dt
    close_share = full(1 - np.exp(-p["kappa"] * dt))
    k_max_dt = full(p["k_max"] * dt)
    keep_share = full(1 - p["alpha"])
    fear = not (np.ndim(p["phi_fear"]) == 0 and p["phi_fear"] == 0)
    # lam ln(10) / dt, as ratio ** lam = exp(lam ln(10) shortfall / dt), and beta: gathered together where
    # the cap binds.
    slow_boost = np.stack([full(lam * (math.log(10.0) * STEPS_PER_YEAR)), full(beta)])

    # The policy world's cap at t_{n+1}: base + slope (t_{n+1} - ref); +inf outside the cap (slope 0).
    inf = dtype.type(np.inf)
    cap_base, cap_slope, cap_ref = np.full(n, inf, dtype), np.zeros(n, dtype), np.zeros(n, dtype)
    cap_opens = _buckets(np.searchsorted(t[1:], full(p["t_cap"])))  # first n with t_{n+1} >= t_cap
    cap_closes = _buckets(np.searchsorted(t[1:], full(t_end)))      # first n with t_{n+1} >= t_end
    window = (full(p["P_cap"]), full(p["g_cap"]), full(p["t_cap"]))
    lifted = np.broadcast_to(p["end_draw"] >= p["p_sudden"], n)  # not a sudden end
    after = (full(p["P_cap"] + p["g_cap"] * p["D"]), full(p["g_lift"]), full(t_end))
    # Deployment pause: the policy world's phi on t_n in [t_cap, t_end), for draws with pause_deployment = 1.
    pausing = np.flatnonzero(full(p["pause_deployment"]) > 0)
    intercept = 1 - phi * e_fb
    phi_policy = full(phi).copy() if pausing.size else phi
    intercept_policy = full(intercept).copy() if pausing.size else intercept
    if pausing.size:
        phi_paused = full(phi * (1 - p["revenue_share"] * (1 - p["e_share"])))
        intercept_paused = 1 - phi_paused * e_fb
        pause_opens = _buckets(np.where(full(p["pause_deployment"]) > 0,
                                        np.searchsorted(t[:-1], full(p["t_cap"])), STEPS))
        pause_closes = _buckets(np.where(full(p["pause_deployment"]) > 0,
                                         np.searchsorted(t[:-1], full(t_end)), STEPS))

    # State. Rows k = 0 .. STEPS of E (both worlds) and of the default world's spend.
    # E_d, E_p: E of the default and the regulated policy world; E_v: evaders (the lead needs them even
    # when e_share = 0); S_d: the default world's spend.
    spend = full(np.minimum(p["spend_start"], willingness_start))
    S_d[0] = spend
    S_p = spend.copy()
    B_p = spend + hw_start
    P_d, X_d, A_d = B_p.copy(), B_p.copy(), np.zeros(n, dtype)
    P_p, X_p, A_p = B_p.copy(), B_p.copy(), np.zeros(n, dtype)
    P_next = np.empty(n, dtype)
    E_d[0] = P_d
    E_v[0] = P_d
    deficit = np.zeros(n, dtype)  # OOM the evaders' handicap has cost them so far
    h_dt = full(p["h"] * dt)
    cap_start, cap_end = full(p["t_cap"]), full(t_end)
    E_p[0] = P_p
    target_gap = np.zeros(n, dtype)
    f, g, w, cap, tmp, B_next, natural, w_next, h_next = (np.empty(n, dtype) for _ in range(9))
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

    def effective(P, X, A, out):
        np.subtract(P, X, out=out)
        out *= rho_gap
        np.subtract(P, out, out=out)
        out += A

    for step in range(STEPS):
        taun, tn = tau[step + 1], t[step + 1]
        switch(cap_opens, step, (cap_base, cap_slope, cap_ref), window)
        rows = switch(cap_closes, step, (), ())
        if rows.size:  # a gradual lift from the cap's last level, or no cap after a sudden end
            lift = lifted[rows]
            cap_base[rows] = np.where(lift, after[0][rows], inf)
            cap_slope[rows] = np.where(lift, after[1][rows], 0)
            cap_ref[rows] = np.where(lift, after[2][rows], 0)
        if pausing.size:
            switch(pause_opens, step, (phi_policy, intercept_policy), (phi_paused, intercept_paused))
            switch(pause_closes, step, (phi_policy, intercept_policy), (phi, intercept))
        np.add(np.multiply(g_gwp, taun, out=w_next), willingness_start, out=w_next)
        np.add(np.multiply(g_hw, taun, out=h_next), hw_start, out=h_next)

        # Default world: P = B = S + H.
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
        np.add(S_d[step + 1], h_next, out=P_d)
        np.multiply(f, g_alg_dt, out=g)
        A_d += g
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
        if m:
            gap -= target_gap[:m]
            np.maximum(gap, 0, out=gap)
            gap *= close_share[:m]
            np.minimum(gap, k_max_dt[:m], out=gap)
            w[:m] += gap
        np.minimum(w, B_next, out=w)
        np.subtract(tn, cap_ref, out=cap)
        cap *= cap_slope
        cap += cap_base
        np.greater(w, cap, out=binds)
        np.minimum(w, cap, out=w)
        np.maximum(w, P_p, out=P_next)
        np.multiply(f, g_alg_dt, out=g)
        bound = np.flatnonzero(binds)
        if bound.size:  # realised growth falls short of the natural growth only where the cap binds
            np.subtract(P_next, P_p, out=tmp)
            tmp -= natural
            shortfall = np.minimum(tmp[bound], 0)  # OOM this step
            lam_beta = slow_boost[:, bound]
            # ratio ** lam, ratio = 10 ** (shortfall / dt) the ratio of yearly growth factors
            slowdown = np.exp(np.multiply(lam_beta[0], shortfall, out=shortfall), out=shortfall)
            g[bound] *= slowdown * lam_beta[1]
        A_p += g
        P_p, P_next = P_next, P_p
        B_p, B_next = B_next, B_p
        np.add(X_p, g_exp_dt, out=tmp)
        np.minimum(tmp, P_p, out=tmp)
        np.maximum(X_p, tmp, out=X_p)
        effective(P_p, X_p, A_p, E_p[step + 1])
        # Evaders: the default world minus h per year the cap has been in force and bound, never losing ground.
        if bound.size:
            in_force = bound[(cap_start[bound] <= t[step]) & (t[step] < cap_end[bound])]
            deficit[in_force] += h_dt[in_force]
        np.subtract(E_d[step + 1], deficit, out=tmp)
        np.maximum(E_v[step], tmp, out=E_v[step + 1])

    outputs, series = _outputs(p, n, dtype, t, tau, first_catch, E_d, E_p, E_v, S_d, willingness_start, yearly)
    return outputs, series, order


def _outputs(p, n, dtype, t, tau, first_catch, E_d, E_p, E_v, S_d, willingness_start, yearly):
    """The outputs, read from the stepped curves (rows k = 0 .. STEPS; each non-decreasing in k)."""
    full = lambda x: np.broadcast_to(np.asarray(x, dtype), n)  # noqa: E731
    inf, nan = dtype.type(np.inf), dtype.type(np.nan)
    dt = dtype.type(1.0 / STEPS_PER_YEAR)
    columns = np.arange(n)
    evaders = np.broadcast_to(p["e_share"] > 0, n)
    evaders_any = bool(evaders.any())
    E_tai = full(p["E_tai"])
    band_low = full(p["E_tai"] - p["w"])

    def curve(rows):
        flat = rows.reshape(-1)
        return lambda k, cols: flat[k * n + cols]

    default, regulated, evader = curve(E_d), curve(E_p), curve(E_v)

    def policy(k, cols):
        """The policy world's frontier: the regulated leader, or evaders if ahead."""
        r = regulated(k, cols)
        return np.where(evaders[cols], np.maximum(r, evader(k, cols)), r)

    def first_at_least(values, level):
        """Per draw, the first row k with values(k) >= level (STEPS + 1 if none): a binary search."""
        low, high = np.zeros(n, np.int64), np.full(n, STEPS + 1, np.int64)
        for _ in range(math.ceil(math.log2(STEPS + 2))):
            open_ = low < high
            mid = (low + high) // 2
            hit = values(np.minimum(mid, STEPS), columns) >= level
            high = np.where(open_ & hit, mid, high)
            low = np.where(open_ & ~hit, mid + 1, low)
        return low

    def crossing(k, level, values):
        """Year a curve reaches ``level``, first at row k (0: START_YEAR; > STEPS: never, +inf),
        interpolated within the step before."""
        year = np.full(n, inf)
        year[k == 0] = START_YEAR
        cols = np.flatnonzero((k > 0) & (k <= STEPS))
        kc = k[cols]
        before, after = values(kc - 1, cols), values(kc, cols)
        share = np.clip((level[cols] - before) / np.maximum(after - before, 1e-30), 0, 1)
        year[cols] = t[kc - 1] + dt * share
        return year, cols, kc

    k_tai_d = first_at_least(default, E_tai)
    tai_d, cols, k = crossing(k_tai_d, E_tai, default)
    tai_p = crossing(first_at_least(policy, E_tai), E_tai, policy)[0]
    band_d = crossing(first_at_least(default, band_low), band_low, default)[0]
    band_p = crossing(first_at_least(policy, band_low), band_low, policy)[0]

    # Spend still below the willingness to spend at the default world's TAI step.
    rampup = np.full(n, nan)
    at_start = k_tai_d == 0
    rampup[at_start] = (full(p["spend_start"]) < full(willingness_start))[at_start]
    W = full(willingness_start)[cols] + full(p["g_gwp"])[cols] * tau[k]
    rampup[cols] = curve(S_d)(k, cols) < W

    # The regulated leader's own crossing and its lead over evaders at both ends of that step.
    lead = np.full(n, nan)
    k = first_at_least(regulated, E_tai)
    cols = np.flatnonzero(k <= STEPS)
    k = np.maximum(k[cols], 1)  # reached at the start: share is 0 below, the lead at the start
    before, after = regulated(k - 1, cols), regulated(k, cols)
    share = np.clip((E_tai[cols] - before) / np.maximum(after - before, 1e-30), 0, 1)
    lead[cols] = (1 - share) * (before - evader(k - 1, cols)) + share * (after - evader(k, cols))

    # At the catch-up step, and the largest one-step rise over the five years from it.
    overhang = np.full(n, nan)
    growth_d, growth_p = np.full(n, nan), np.full(n, nan)
    cols = np.flatnonzero(first_catch <= STEPS)  # a cap ending in the last step: overhang, no window
    overhang[cols] = default(first_catch[cols], cols) - regulated(first_catch[cols], cols)
    cols = np.flatnonzero(first_catch < STEPS)
    k0 = first_catch[cols]
    # Draws are sorted by their catch-up step: each step's draws are a block of columns, their window a slice.
    starts = np.flatnonzero(np.diff(first_catch[cols], prepend=-1))
    for a, b in zip(starts, [*starts[1:], cols.size]):
        k, last = k0[a], min(k0[a] + GROWTH_WINDOW_STEPS, STEPS)
        block = slice(cols[a], cols[a] + b - a)
        rows = E_d[k:last + 1, block]
        growth_d[block] = np.max(rows[1:] - rows[:-1], axis=0)
        rows = E_p[k:last + 1, block]
        if evaders_any:
            rows = np.where(evaders[block], np.maximum(rows, E_v[k:last + 1, block]), rows)
        growth_p[block] = np.max(rows[1:] - rows[:-1], axis=0)
    growth_d *= STEPS_PER_YEAR
    growth_p *= STEPS_PER_YEAR

    outputs = {
        "overhang_at_end": overhang,
        "max_growth_after_end": growth_p,
        "max_growth_default": growth_d,
        "tai_year_default": tai_d,
        "tai_year_policy": tai_p,
        "tai_delay": np.where(np.isinf(tai_d) & np.isinf(tai_p), nan, tai_p - tai_d),
        "tai_in_rampup_default": rampup,
        "danger_band_years_default": np.where(np.isinf(tai_d), inf, tai_d - band_d),  # +inf without TAI
        "danger_band_years_policy": np.where(np.isinf(tai_p), inf, tai_p - band_p),
        "lead_at_tai": lead,
    }
    outputs = {k: v.astype(dtype, copy=False) for k, v in outputs.items()}
    series = {}
    if yearly:
        rows = np.arange(0, STEPS + 1, STEPS_PER_YEAR)
        regulated_rows = E_p[rows]
        series = {"E_default": E_d[rows],
                  "E_policy": np.where(evaders, np.maximum(regulated_rows, E_v[rows]), regulated_rows)}
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
    workspace = Workspace(min(chunk_size, draws), dtype)
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
    # no evaders, always-sudden and always-gradual ends, lam = 0 (no slow-down under a cap),
    # caps starting late or ending after 2100, explosive feedback.
    "pause, moving cap, fear": 'pause_deployment = 1\ng_cap = { dist = "uniform", lo = 0, hi = 0.5 }\n'
                               'phi_fear = { dist = "uniform", lo = 0, hi = 0.3 }\n'
                               'E_fear = { dist = "uniform", lo = 28, hi = 36 }\n',
    "no evaders, sudden ends, lam = 0": "e_share = 0\np_sudden = 1\nlam = 0\n",
    "gradual lifts, late and long caps": 'p_sudden = 0\nt_cap = { dist = "uniform", lo = 2023, hi = 2095 }\n'
                                         'D = { dist = "loguniform", lo = 0.05, hi = 60 }\n'
                                         'phi = { dist = "uniform", lo = 0, hi = 0.5 }\n',
    # t_end around 2100: the cap ending in the last step has an overhang but no growth window.
    "caps ending around 2100": 't_cap = 2090\nD = { dist = "uniform", lo = 9.85, hi = 10.05 }\n',
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
    for path in sorted((Path(oj.__file__).parent / "scenarios").glob("*.toml")):
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
