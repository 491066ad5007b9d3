"""Plots: one function per figure, each returning a matplotlib Figure.

Every function takes the results DataTree of a run and, given ``path``, also
saves the figure there. Per-draw artists are never drawn for millions of
draws: histograms bin all finite draws, and ECDFs are drawn through a fixed
grid of quantiles.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from pathlib import Path

# No matplotlib.use() here: importing the package must not switch an interactive user's backend
# (matplotlib picks a non-interactive one by itself where there is no display; the command line
# sets Agg for its own process).
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from .._results import (CONSTANTS_GROUP, OUTPUTS_GROUP, PARAMETERS_GROUP, outputs, parameters,  # noqa: E402
                        posterior_outputs)
from ..models._registry import get_model  # noqa: E402

ECDF_POINTS = 1001
VIEW_TAIL = 0.001
GRID_SAMPLE = 100_000  # draws inspected to tell grid-valued outputs
GRID_MAX_VALUES = 5_000
POOL_COLOURS = {"investment": "tab:green", "hardware": "tab:blue", "software": "tab:orange"}


def _variable(results: xr.DataTree, name: str) -> xr.DataArray:
    """An output or a parameter, every draw."""
    data = outputs(results)
    return data[name] if name in data else parameters(results)[name]


def _parameter(results: xr.DataTree, name: str) -> np.ndarray | None:
    """A parameter's values (one if fixed, else one per draw), or None in results that keep outputs only."""
    for group in (CONSTANTS_GROUP, PARAMETERS_GROUP):
        if group in results.children and name in results[group].data_vars:
            return np.asarray(results[group][name].values).ravel()
    return None


def _values(results: xr.DataTree, name: str) -> tuple[np.ndarray, int]:
    """Finite values of a variable (output or parameter) and how many were not finite."""
    values = np.asarray(_variable(results, name).values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return finite, values.size - finite.size


def _nan_count(results: xr.DataTree, name: str) -> int:
    """Draws where a variable has no value at all (NaN: an inadmissible draw, an undefined output), as
    against +-inf (a threshold never reached by the horizon)."""
    return int(np.count_nonzero(np.isnan(np.asarray(_variable(results, name).values, dtype=np.float64))))


def _label(results: xr.DataTree, name: str) -> str:
    units = _variable(results, name).attrs.get("units", "")
    return f"{name.replace('_', ' ')} ({units})" if units and units != "1" else name.replace("_", " ")


def _user_text(text: str) -> str:
    """Text a user chose (a scenario's file name) drawn as written: matplotlib parses a pair of '$' as
    mathematics, and an unmatched one raises, so every '$' is escaped."""
    return str(text).replace("$", r"\$")


def _finish(fig: plt.Figure, path: str | os.PathLike | None) -> plt.Figure:
    for ax in fig.axes:
        _plain_ticks(ax)
    # Leave room for a figure title above the panels' own.
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()) if fig.get_suptitle() else None)
    if path is not None:
        from .._io import write_atomic

        path = Path(path)
        write_atomic(path, lambda temp: fig.savefig(temp, dpi=120, format=path.suffix.lstrip(".") or "png"))
    return fig


def _plain_ticks(ax) -> None:
    """Tick labels that carry their whole value: no offset or multiplier text in a corner of the axes,
    where it collides with the axis label (2.0e13 is written on the tick, not as 2.0 and a '1e13')."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        formatter = axis.get_major_formatter()
        if not isinstance(formatter, ScalarFormatter):
            continue  # log axes and the like write whole values already
        largest = max(abs(limits[0]), abs(limits[1]))
        if largest >= 1e5 or 0 < largest < 1e-2:
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}" if value else "0"))
        else:
            formatter.set_useOffset(False)


POINT_MASS_SHARE = 0.02
POINT_MASS_RATIO = 3
"""A value held by at least POINT_MASS_SHARE of the draws, and by POINT_MASS_RATIO times as many draws
as any other value in its histogram bin and the bins beside it, is drawn as a point mass (a spike with
its share), not as part of a bar."""
DISCRETE_VALUES = 10
"""A variable with at most this many distinct values is drawn as point masses only."""


def _point_masses(finite: np.ndarray, edges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Values that hold a share of the draws of their own (an exact 0 in a third of the draws, say), their
    shares (of ``finite``), and whether the variable has a few values only (then each is a point mass).

    Given the histogram's bin ``edges``, a frequent value must stand out of the values around it: on a grid
    of years (or of differences of years, which come in several float roundings of each grid value) many
    values hold a few percent of the draws, like their neighbours, and are no masses of their own.
    """
    values, counts = np.unique(finite, return_counts=True)
    shares = counts / max(finite.size, 1)
    if values.size <= DISCRETE_VALUES:
        return values, shares, True
    frequent = np.flatnonzero(shares >= POINT_MASS_SHARE)
    if edges is None:
        return values[frequent], shares[frequent], False
    standing = []
    for i in frequent:
        k = int(np.clip(np.searchsorted(edges, values[i], side="right") - 1, 0, edges.size - 2))
        first, last = np.searchsorted(values, [edges[max(k - 1, 0)], edges[min(k + 2, edges.size - 1)]])
        around = np.delete(shares[first:last], i - first) if first <= i < last else shares[first:last]
        if shares[i] >= POINT_MASS_RATIO * around.max(initial=0.0):
            standing.append(i)
    return values[standing], shares[standing], False


def _spans_orders(finite: np.ndarray) -> bool:
    """Whether a positive quantity spans two orders of magnitude or more (its central 99.8%): then it is
    drawn on a log axis."""
    if not finite.size or finite.min() <= 0:
        return False
    low, high = np.quantile(finite, [VIEW_TAIL, 1 - VIEW_TAIL])
    return bool(high >= 100 * low)


def _view(finite: np.ndarray, masses: np.ndarray, log: bool = False) -> tuple[float, float]:
    """The x range shown: the central 99.8% of the draws and every point mass, never of zero width."""
    low, high = np.quantile(finite, [VIEW_TAIL, 1 - VIEW_TAIL])
    if masses.size:
        low, high = min(low, masses.min()), max(high, masses.max())
    if high > low:
        return float(low), float(high)
    if log:
        return float(low) / 2, float(high) * 2
    pad = max(abs(float(low)) * 0.1, 1.0)  # a single value: a window around it
    return float(low) - pad, float(high) + pad


def _draw_histogram(ax, finite: np.ndarray, bins: int, colour: str, density: bool = True,
                    log: bool = False, total: int | None = None) -> str:
    """A histogram of ``finite`` on ``ax`` whose point masses are drawn as spikes, each with its share
    of the draws written beside it; return the y label the drawing needs.

    The rest is binned over the central 99.8% of the draws (log-spaced bins on a log axis). With
    ``density`` its bars are densities of the whole (the bars' area is the rest's share), otherwise
    draws per bin. A spike reaches the top of the axes: its height would be infinite as a density. A
    variable made of point masses only is drawn as their shares (spikes of those heights).
    """
    total = total or finite.size
    masses, shares, discrete = _point_masses(finite)
    view = _view(finite, masses, log)
    if log:
        edges = np.geomspace(view[0], view[1], bins + 1)
    else:
        edges = _bin_edges(finite, view, bins)
    if masses.size and not discrete:
        masses, shares, _ = _point_masses(finite, edges)
    rest = finite[~np.isin(finite, masses)] if masses.size else finite
    if log:
        ax.set_xscale("log")
    if not rest.size:  # point masses only: their shares, to scale
        ax.vlines(masses, 0, shares * finite.size / total, color=colour, linewidth=2.5)
        ax.plot(masses, shares * finite.size / total, "o", color=colour)
        for x, share in zip(masses, shares):
            ax.annotate(_share_text(share * finite.size / total, x, total), (x, share * finite.size / total),
                        xytext=(0, 4), textcoords="offset points", ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, 1.15)
        ax.set_xlim(*view)
        return "share of draws"
    counts, edges = np.histogram(rest, edges)
    widths = np.diff(np.log10(edges)) if log else np.diff(edges)
    heights = counts / (total * widths) if density else counts
    ax.stairs(heights, edges, fill=True, color=colour, alpha=0.8)
    if masses.size and heights.size and np.max(heights) > 0:
        # Headroom above the bars for the point masses' labels, so that no label sits on a bar.
        ax.set_ylim(0, float(np.max(heights)) * (1.15 + 0.12 * masses.size))
    for k, (x, share) in enumerate(sorted(zip(masses, shares), key=lambda m: -m[1])):
        ax.annotate("", xy=(x, 1), xycoords=("data", "axes fraction"), xytext=(x, 0),
                    arrowprops={"arrowstyle": "-|>", "color": "tab:red", "linewidth": 2, "shrinkA": 0, "shrinkB": 0})
        ax.annotate(_share_text(share * finite.size / total, x, total), (x, 0.97 - 0.09 * k),
                    xycoords=("data", "axes fraction"), xytext=(5, 0), textcoords="offset points", fontsize=8,
                    color="tab:red", ha="left", va="top",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_xlim(*view)
    if log:
        return "density (per log10 unit)" if density else "draws"
    return "density" if density else "draws"


def _share_text(share: float, x: float, total: int) -> str:
    """A point mass as a reader quotes it: 'all 4,000 draws at 0', '18.3% of draws at 0'."""
    if share >= 1:
        return f"all {total:,} draws at {x:g}"
    return f"{100 * share:.3g}% of draws at {x:g}"


def _bin_edges(finite: np.ndarray, view: tuple[float, float], bins: int) -> np.ndarray:
    """About ``bins`` equal bins over ``view``; for values on a grid (years on the
    model's time step), a whole number of grid steps per bin, so bins do not alias."""
    grid = np.unique(finite[:GRID_SAMPLE])
    if 1 < grid.size <= GRID_MAX_VALUES:
        # The typical gap, to 3 figures: float32 years on a 0.1 grid differ by 0.1 +- 1e-4.
        spacing = float(f"{np.median(np.diff(grid)):.3g}")
        width = spacing * max(1, math.ceil((view[1] - view[0]) / bins / spacing))
        return np.arange(view[0] - spacing / 2, view[1] + width, width)
    return np.linspace(view[0], view[1], bins + 1)


def plot_distribution(results: xr.DataTree, name: str, path: str | os.PathLike | None = None,
                      bins: int = 80) -> plt.Figure:
    """Histogram and ECDF of one variable, with its median and 90% interval marked."""
    finite, nonfinite = _values(results, name)
    fig, (hist_ax, ecdf_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    _draw_distribution(hist_ax, ecdf_ax, finite, nonfinite, _label(results, name), bins, _nan_count(results, name))
    fig.suptitle(f"{name.replace('_', ' ')}: {results.attrs.get('model', '')}, {finite.size + nonfinite:,} draws")
    return _finish(fig, path)


def _figure(x: float) -> str:
    """A number as a figure's title quotes it: a year to one decimal (2038.4), others to three significant
    figures (89.8, 0.412), never more digits than the draws support."""
    return f"{x:.1f}" if abs(x) >= 1000 else f"{x:.3g}"


def _draw_distribution(hist_ax, ecdf_ax, finite, nonfinite, label, bins, nan: int = 0):
    """``nonfinite`` draws are NaN or infinite, ``nan`` of them NaN: those have no value (an inadmissible
    draw, say) and are left out of the ECDF's denominator, where an infinite one (never reached by the
    horizon) keeps the curve below 1."""
    total = finite.size + nonfinite
    if finite.size == 0:
        for ax in (hist_ax, ecdf_ax):
            ax.text(0.5, 0.5, f"no finite draws: all {total:,} are NaN or infinite", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_xlabel(label)
        return
    low, median, high = np.quantile(finite, [0.05, 0.5, 0.95])
    # A few extreme draws would squash the rest into one bin: show the central 99.8%.
    log = _spans_orders(finite)
    hist_ax.set_ylabel(_draw_histogram(hist_ax, finite, bins, "tab:blue", log=log))
    for x, style in ((low, ":"), (median, "-"), (high, ":")):
        hist_ax.axvline(x, color="k", linestyle=style, linewidth=1)
    hist_ax.set_xlabel(label + " (central 99.8% shown)" + (", log scale" if log else ""))
    hist_ax.set_title(f"median {_figure(median)}, 90% interval [{_figure(low)}, {_figure(high)}]", fontsize=9)
    # ECDF over all draws: non-finite draws (never happening, +inf) keep it below 1.
    probs = np.linspace(0, 1, ECDF_POINTS)
    valued = total - nan
    ecdf_ax.plot(np.quantile(finite, probs), probs * finite.size / valued, color="tab:blue")
    ecdf_ax.set_xlabel(label)
    ecdf_ax.set_ylabel("fraction of draws ≤ x" if not nan else "fraction of draws with a value ≤ x")
    if log:
        ecdf_ax.set_xscale("log")
    ecdf_ax.set_xlim(*hist_ax.get_xlim())
    ecdf_ax.set_ylim(0, 1)
    ecdf_ax.grid(alpha=0.3)
    never = nonfinite - nan
    if never and nan:
        ecdf_ax.set_title(f"{never:,} of {total:,} draws never reach it (below 1); {nan:,} have no value "
                          "(left out)", fontsize=9)
    elif nan:
        ecdf_ax.set_title(f"{nan:,} of {total:,} draws have no value (NaN): left out", fontsize=9)
    elif never:
        ecdf_ax.set_title(f"{never:,} of {total:,} draws not finite", fontsize=9)


def plot_distributions(results: xr.DataTree, names: list[str], path: str | os.PathLike | None = None,
                       bins: int = 80) -> plt.Figure:
    """Histogram and ECDF of several variables, one row each."""
    fig, axes = plt.subplots(len(names), 2, figsize=(10, 3.2 * len(names)), squeeze=False)
    for (hist_ax, ecdf_ax), name in zip(axes, names):
        finite, nonfinite = _values(results, name)
        _draw_distribution(hist_ax, ecdf_ax, finite, nonfinite, _label(results, name), bins, _nan_count(results, name))
    fig.suptitle(f"{results.attrs.get('model', '')}: {results.attrs.get('draws', 0):,} draws, "
                 f"seed {results.attrs.get('seed', '')}")
    return _finish(fig, path)


def plot_remaining_overhang(results: xr.DataTree, path: str | os.PathLike | None = None,
                            bins: int = 80) -> plt.Figure:
    """Distribution of the overhang left in each pool when takeoff starts (takeoff model)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for pool, colour in POOL_COLOURS.items():
        finite, _ = _values(results, f"remaining_{pool}")
        if finite.size:
            median = np.median(finite)
            ax.hist(finite, bins=bins, range=tuple(np.quantile(finite, [VIEW_TAIL, 1 - VIEW_TAIL])),
                    density=True, histtype="stepfilled", alpha=0.35, color=colour,
                    label=f"{pool} (median {median:.3g} OOM)")
            ax.axvline(median, color=colour, linewidth=1)
    ax.set_xlabel("overhang left when takeoff starts (OOM)")
    ax.set_ylabel("density")
    if ax.get_legend_handles_labels()[0]:  # none when no draw is finite
        ax.legend()
    ax.set_title("remaining overhang of each pool at the start of takeoff")
    return _finish(fig, path)


def plot_streams_vs_compute(results: xr.DataTree, path: str | os.PathLike | None = None,
                            bins: int = 20) -> plt.Figure:
    """Parallel streams against training compute (inference model): median and 50%/90% bands.

    The draws are binned by training compute (equal counts per bin); each
    bin's quantiles of parallel_streams make the bands.
    """
    data = outputs(results)
    compute = np.asarray(data["training_flop"].values, dtype=np.float64)
    streams = np.asarray(data["parallel_streams"].values, dtype=np.float64)
    finite = np.isfinite(compute) & np.isfinite(streams)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if not finite.any():
        ax.text(0.5, 0.5, f"no draw of {compute.size:,} has a finite training compute and stream count",
                ha="center", va="center", transform=ax.transAxes)
        return _finish(fig, path)
    order = np.argsort(compute[finite])
    compute, streams = compute[finite][order], streams[finite][order]
    groups = np.array_split(np.arange(compute.size), min(bins, max(compute.size // 20, 1)))
    centre = np.array([np.median(compute[g]) for g in groups])
    bands = np.array([np.quantile(streams[g], [0.05, 0.25, 0.5, 0.75, 0.95]) for g in groups])
    ax.fill_between(centre, bands[:, 0], bands[:, 4], alpha=0.2, color="tab:blue", label="90% of draws")
    ax.fill_between(centre, bands[:, 1], bands[:, 3], alpha=0.35, color="tab:blue", label="50% of draws")
    ax.plot(centre, bands[:, 2], color="tab:blue", label="median")
    # Copies grow as sqrt(C): a guide line through the middle bin.
    middle = len(centre) // 2
    ax.plot(centre, bands[middle, 2] * np.sqrt(centre / centre[middle]), "k--", linewidth=1,
            label="slope 1/2: copies ~ sqrt(C) at a fixed\ntraining duration and horizon")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute (FLOP)")
    ax.set_ylabel(f"parallel streams (at {_stream_speed(results)} tokens/s each)")
    ax.set_title(f"copies a training cluster can run: {compute.size:,} draws")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _finish(fig, path)


def _scenario_of(attrs) -> str:
    """The scenario a run was made of, by name ('' for the default priors)."""
    from .._results import scenario_name

    source = str(attrs.get("scenario", attrs.get("priors_source", "")) or "")
    name = scenario_name(source) if source else ""
    return "" if name in ("defaults", "") else name


def plot_tornado(results: xr.DataTree, output: str, path: str | os.PathLike | None = None,
                 top: int = 15) -> plt.Figure:
    """Tornado chart: the parameters most rank-correlated with ``output``, largest on top."""
    from ..studies._summaries import rank_correlations

    column = rank_correlations(results, [output])[output].dropna()
    column = column.reindex(column.abs().sort_values(ascending=False).index)[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(column) + 1.5))
    colours = ["tab:red" if rho < 0 else "tab:blue" for rho in column]
    # The parameters as the priors file spells them, as in the Sobol chart: one name for one parameter.
    ax.barh(list(column.index), column.values, color=colours)
    ax.axvline(0, color="k", linewidth=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"Spearman rank correlation with {output.replace('_', ' ')}")
    ax.set_title(f"what drives {output.replace('_', ' ')} (monotone effects)")
    ax.grid(axis="x", alpha=0.3)
    return _finish(fig, path)


WORLD_COLOURS = {"E_default": "tab:blue", "E_policy": "tab:red"}
WORLD_TAI = {"E_default": "tai_year_default", "E_policy": "tai_year_policy"}
TAI_SHARE_SHOWN = 0.95
"""The fan chart ends when this share of the draws has reached TAI in both worlds (or at the horizon)."""


def plot_fan_chart(results: xr.DataTree, path: str | os.PathLike | None = None, spaghetti: int = 0,
                   ylim: tuple[float, float] | None = None, xlim: tuple[float, float] | None = None
                   ) -> plt.Figure:
    """Fan chart of E(t), default vs policy world: median, 50% and 90% bands over all draws.

    The bands come from the run's streamed per-year histograms (exact to half
    a bin). The years shown run until 95% of the draws have reached TAI in both
    worlds (to the horizon if fewer do), and the y range is that of the bands
    in those years. Marked: the TAI threshold ``E_tai`` (its median, and the
    range holding 90% of the draws when it is uncertain), the median TAI year
    of each world, and the cap window (from the median start to the median
    end; the cap window differs between draws). ``spaghetti`` > 0 adds that
    many of the kept full trajectories of each world. ``xlim`` and ``ylim``
    override the ranges.
    """
    from .._results import TRAJECTORIES_GROUP
    from ..studies._summaries import trajectory_bands

    bands = trajectory_bands(results, (0.05, 0.25, 0.5, 0.75, 0.95))
    years = bands[bands["E_default"].dims[0]].values
    data = outputs(results)
    # TAI years, +inf where not reached by the horizon (sorting last).
    tai = {name: np.asarray(data[output].values, np.float64) for name, output in WORLD_TAI.items()}
    tai = {name: np.where(np.isnan(t), np.inf, t) for name, t in tai.items()}
    # (An order statistic, not an interpolation between two infinite years, which would be NaN.)
    reached = max(float(np.quantile(t, TAI_SHARE_SHOWN, method="higher")) for t in tai.values())
    if xlim is None:
        end = math.ceil(reached) + 2 if np.isfinite(reached) else years[-1]
        xlim = (float(years[0]), float(min(years[-1], end)))
    shown = (years >= xlim[0]) & (years <= xlim[1])
    fig, ax = plt.subplots(figsize=(8, 5))
    upper = float(results[TRAJECTORIES_GROUP].attrs["upper"])
    lower = float(results[TRAJECTORIES_GROUP].attrs["lower"])
    labels = {"E_default": "default world", "E_policy": "policy world (frontier)"}
    for name, colour in WORLD_COLOURS.items():
        # A quantile beyond the histogram's range (+-inf) is drawn at its edge, outside the axes.
        q = np.clip(bands[name].values, lower, upper)
        ax.fill_between(years, q[:, 0], q[:, 4], color=colour, alpha=0.12)
        ax.fill_between(years, q[:, 1], q[:, 3], color=colour, alpha=0.25)
        ax.plot(years, q[:, 2], color=colour, label=f"{labels[name]}: median, 50% and 90% of draws")
        if spaghetti:
            kept = results[TRAJECTORIES_GROUP][name].values[:spaghetti]
            ax.plot(years, kept.T, color=colour, alpha=0.25, linewidth=0.5)
    thresholds = _parameter(results, "E_tai")
    if thresholds is not None:  # (not kept in results of outputs only)
        low, median, high = np.quantile(thresholds.astype(np.float64), [0.05, 0.5, 0.95])
        if high > low:
            ax.axhspan(low, high, color="tab:purple", alpha=0.07, zorder=0)
            spread = f", 90% of draws in [{low:.3g}, {high:.3g}]"
        else:
            spread = ""
        ax.axhline(median, color="tab:purple", linestyle="--", linewidth=1,
                   label=f"TAI threshold E_tai: median {median:.3g}{spread}")
    medians = {name: float(np.median(t)) for name, t in tai.items()}
    for name, year in medians.items():
        if np.isfinite(year):
            ax.axvline(year, color=WORLD_COLOURS[name], linestyle=":", linewidth=1.2)
    ax.plot([], [], color="k", linestyle=":", linewidth=1.2,
            label="median TAI year: " + ", ".join(f"{w} {_year(medians[n])}" for n, w in
                                                  (("E_default", "default"), ("E_policy", "policy"))))
    cap_start, duration = _parameter(results, "t_cap"), _parameter(results, "D")
    if cap_start is not None and duration is not None:
        ends = (cap_start + duration).astype(np.float64)
        start, end = float(np.median(cap_start)), float(np.median(ends))
        early, late = np.quantile(ends, [0.05, 0.95])
        spread = f"; it ends {early:.0f}-{late:.0f} in 90% of draws" if late - early >= 1 else ""
        ax.axvspan(start, end, color="0.85", zorder=0,
                   label=f"cap in force (median {start:.0f} to {end:.0f}{spread})")
    ax.set_xlabel("year")
    ax.set_ylabel("effective compute E (log10 FLOP, 2023 algorithms)")
    share = np.mean([np.mean(t <= xlim[1]) for t in tai.values()])
    until = (f"until {TAI_SHARE_SHOWN:.0%} of draws reach TAI in both worlds" if reached <= xlim[1]
             else f"to {xlim[1]:.0f}: {share:.0%} of draws reach TAI by then")
    scenario = _scenario_of(results.attrs)
    ax.set_title(f"E(t), default vs policy world{f' of scenario {scenario}' if scenario else ''}\n"
                 f"{results.attrs.get('draws', 0):,} draws, {until}", fontsize=10)
    ax.set_xlim(*xlim)
    if ylim is None:
        inside = np.concatenate([bands[n].values[shown][:, [0, 4]].ravel() for n in WORLD_COLOURS])
        inside = inside[np.isfinite(inside)]
        if thresholds is not None:
            inside = np.concatenate([inside, np.quantile(thresholds.astype(np.float64), [0.05, 0.95])])
        ylim = (float(inside.min()) - 0.5, float(inside.max()) + 0.5) if inside.size else None
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _finish(fig, path)


def _year(x: float) -> str:
    return f"{x:.0f}" if np.isfinite(x) else "not by the horizon"


SERIES_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:purple")


def plot_series_bands(results: xr.DataTree, path: str | os.PathLike | None = None,
                      names: list[str] | None = None) -> plt.Figure:
    """One panel per time series of the run (default: all): median, 50% and 90% bands over
    all draws, from the streamed histograms (exact to half a bin; a band beyond the
    histogram's range is left out)."""
    from .._results import TRAJECTORIES_GROUP
    from ..studies._summaries import trajectory_bands

    data = results[TRAJECTORIES_GROUP]
    bands = trajectory_bands(results, (0.05, 0.25, 0.5, 0.75, 0.95))
    names = names or list(bands.data_vars)
    dim = bands[names[0]].dims[0]
    years = bands[dim].values
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.6 * len(names)), sharex=True, squeeze=False)
    for ax, name, colour in zip(axes[:, 0], names, SERIES_COLOURS * len(names)):
        q = np.where(np.isfinite(bands[name].values), bands[name].values, np.nan)
        ax.fill_between(years, q[:, 0], q[:, 4], color=colour, alpha=0.15, label="90% of draws")
        ax.fill_between(years, q[:, 1], q[:, 3], color=colour, alpha=0.3, label="50% of draws")
        ax.plot(years, q[:, 2], color=colour, label="median")
        ax.set_ylabel(f"{name.replace('_', ' ')}\n({data[name].attrs['units']})")
        ax.grid(alpha=0.3)
        # Say where a band leaves the recorded range (it is cut there), and for ftm's compute what so
        # large a number is: explosive growth after full automation, the model's extrapolation.
        counts = data[f"{name}_counts"]
        upper = float(counts.attrs.get("upper", np.inf))
        raw = bands[name].values[:, 4]
        beyond = ~np.isfinite(raw) | (raw >= upper)
        if np.isfinite(upper) and beyond.any():
            units = str(counts.attrs.get("units", ""))
            note = f"90% band cut from {years[np.argmax(beyond)]:.0f}: above {upper:g} {units}, the top of the range recorded"
            if "FLOP" in units:
                note += ("\n(explosive growth after full automation, far past any physical limit: the model's "
                         "extrapolation, not a forecast)")
            ax.text(0.99, 0.03, note, transform=ax.transAxes, fontsize=6.5, va="bottom", ha="right",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    axes[0, 0].legend(loc="upper left", fontsize=8)
    axes[-1, 0].set_xlabel(dim)
    axes[-1, 0].set_xlim(years[0], years[-1])
    counted = int(data[f"{names[0]}_counts"].values[0].sum())
    draws = int(results.attrs.get("draws", counted))
    fig.suptitle(f"{results.attrs.get('model', '')}: {counted:,} draws per year"
                 + (f" of {draws:,} (the others have no value)" if counted != draws else ""), fontsize=10)
    return _finish(fig, path)


def plot_paired_distributions(results: xr.DataTree, names: list[str], path: str | os.PathLike | None = None,
                              bins: int = 80) -> plt.Figure:
    """Overlaid histograms of outputs in the same units (say, the danger band default vs policy), each
    series labelled with its own name and median."""
    fig, ax = plt.subplots(figsize=(7, 4))
    values = [_values(results, name) for name in names]
    pooled = np.concatenate([v[0] for v in values])
    log = _spans_orders(pooled)
    view = _view(pooled, np.empty(0), log) if pooled.size else (0.0, 1.0)
    edges = np.geomspace(*view, bins + 1) if log else np.linspace(*view, bins + 1)
    common, series = _common_name(names)
    for (finite, nonfinite), name, colour in zip(values, series, plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        if finite.size:
            median = np.median(finite)
            ax.hist(finite, bins=edges, density=not log, histtype="stepfilled", alpha=0.35, color=colour,
                    label=f"{name}: median {median:.3g}" + (f", {nonfinite:,} not finite" if nonfinite else ""))
            ax.axvline(median, color=colour, linewidth=1)
    if log:
        ax.set_xscale("log")
    units = _variable(results, names[0]).attrs.get("units", "")
    ax.set_xlabel(common + (f" ({units})" if units and units != "1" else "") + " (central 99.8% shown)")
    ax.set_ylabel("draws per bin" if log else "density")
    ax.set_title(f"{common}: {', '.join(series)}", fontsize=10)
    if ax.get_legend_handles_labels()[0]:  # none when no draw is finite
        ax.legend(fontsize=8)
    return _finish(fig, path)


def _common_name(names: list[str]) -> tuple[str, list[str]]:
    """What several outputs share and what tells each apart, from their names:
    danger_band_years_default, danger_band_years_policy -> 'danger band years', ['default', 'policy']."""
    words = [name.split("_") for name in names]
    shared = 0
    while all(len(w) > shared + 1 and w[shared] == words[0][shared] for w in words):
        shared += 1
    if not shared or len(names) < 2:
        return ", ".join(n.replace("_", " ") for n in names), [n.replace("_", " ") for n in names]
    return " ".join(words[0][:shared]), [" ".join(w[shared:]) for w in words]


def plot_differences(comparison: xr.DataTree, path: str | os.PathLike | None = None, bins: int = 60,
                     names: list[str] | None = None) -> plt.Figure:
    """Histograms of the paired differences B - A of a comparison, with P(B worse than A). A difference
    that is one value in many draws (0 where the change of scenario changes nothing) is drawn as a
    spike with its share."""
    from ..studies._comparison import compare_summary

    table = compare_summary(comparison)
    data = outputs(comparison)
    # By default the model's headline outputs, or those with a "worse" direction (all of them if none
    # has one), among the rows the comparison table shows: not those the same in A and B in every draw
    # (their panel would be one bar at zero), nor a duplicate of another row (tai_delay, tai_year_policy).
    changed = [n for n in table.index if not table.loc[n, "left_out"]]
    declared = _declared(comparison.attrs.get("model"))
    headline = [n for n in (declared.figure_outputs if declared else ()) if n in changed]
    names = names or headline or [n for n in changed if data[n].attrs.get("worse")] or changed or list(table.index)
    columns = 2
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(10, 2.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        values = np.asarray(data[name].values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        ax.set_ylabel("draws")
        if finite.size:
            ax.set_ylabel(_draw_histogram(ax, finite, bins, "tab:purple", density=False))
        else:
            ax.text(0.5, 0.5, f"no finite difference in {values.size:,} draws", ha="center", va="center",
                    transform=ax.transAxes)
        ax.axvline(0, color="k", linewidth=0.8)
        units = data[name].attrs.get("units", "")
        units = units if units != "1" else ""  # a pure number: no unit written
        ax.set_xlabel(f"B - A: {name.replace('_', ' ')}" + (f" ({units})" if units else ""))
        # "Same" is within the output's tolerance, which can hold more draws than the spike of exact zeros.
        tolerance = table.loc[name, "tolerance"]
        same = f"P(same, within {tolerance:g}{' ' + units if units else ''})" if tolerance else "P(equal)"
        ax.set_title(f"P(B worse) = {table.loc[name, 'p_b_worse']:.3f}, {same} = {table.loc[name, 'p_equal']:.3f}",
                     fontsize=9)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"paired differences, B = {_user_text(Path(str(comparison.attrs['scenario_b'])).stem)} vs "
                 f"A = {_user_text(Path(str(comparison.attrs['scenario_a'])).stem)}, "
                 f"{int(comparison.attrs['draws']):,} draws")
    return _finish(fig, path)


MARKED_VALUES = 24
"""A sweep of up to this many values is drawn with a marker at each; up to half as many get a tick and a label."""
SHARE_COLOURS = {"backfire": "tab:red", "tai_earlier": "darkred", "danger_band_shorter": "salmon",
                 "faster_growth_after": "tab:orange", "cap_binds": "tab:gray", "cap_ends_before_tai": "tab:green"}
BACKFIRE_AXIS_PERCENT = 5.0
"""The backfire panel's y axis runs to at least this (%), so that a 0.1-point change does not fill it."""


def plot_sweep(results: xr.DataTree, names: list[str] | None = None, path: str | os.PathLike | None = None,
               posterior: bool = False) -> plt.Figure:
    """A sweep: each output's median and 90% band of the draws against the swept value, one panel each,
    and for the trajectory model the policy world's headline shares against the value (the backfire,
    faster growth after the cap, the cap binding). Every value ran the same draws. A conditioned
    sweep's figure says it shows the prior (every draw); with ``posterior``, each value's posterior
    (its draws resampled by weight), a value whose posterior is not reliable marked in the title."""
    from ..studies._sweep import is_conditioned_sweep, sweep_conditioning, sweep_shares, sweep_summary, sweep_values

    values = sweep_values(results)
    param = results.attrs["param"]
    model = results.attrs.get("model")
    table = sweep_summary(results, posterior=posterior)
    per_draw = posterior_outputs(results) if posterior else results[OUTPUTS_GROUP].to_dataset()
    available = list(dict.fromkeys(table.index.get_level_values(0)))
    declared = _declared(model)
    preferred = (declared.sweep_outputs or declared.figure_outputs) if declared else ()
    names = list(names or [n for n in preferred if n in available] or available[:4])
    shares = sweep_shares(results, posterior=posterior)
    panels = len(names) + (2 if shares is not None else 0)
    columns = 2 if panels > 1 else 1
    rows = math.ceil(panels / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.3 * rows), squeeze=False)
    units = results[OUTPUTS_GROUP]["value"].attrs.get("units", "")
    x_label = f"{param} ({units})" if units and units != "1" else param
    log_x = values.min() > 0 and values.max() >= 10 * values.min()
    # Many values: a line without markers, a dozen ticks and labels at most (1,000 values were unreadable).
    style = "o-" if len(values) <= MARKED_VALUES else "-"
    for ax, name in zip(axes.flat, names):
        rows_of = table.loc[name]
        q5, q50, q95 = (rows_of[q].to_numpy(np.float64) for q in ("q5", "q50", "q95"))
        ax.fill_between(values, q5, q95, color="tab:blue", alpha=0.2, label="90% of draws")
        ax.plot(values, q50, style, color="tab:blue", label="median")
        unit = rows_of["units"].iloc[0]
        ax.set_ylabel(name.replace("_", " ") + (f"\n({unit})" if unit and unit != "1" else ""))
        # A log axis for a positive quantity (every draw at every value) whose band spans two orders of magnitude.
        draws = np.asarray(per_draw[name].values, np.float64)
        finite = draws[np.isfinite(draws)]
        if finite.size and finite.min() > 0 and np.nanmax(q95) >= 100 * np.nanmin(q5):
            ax.set_yscale("log")
        missing = rows_of["nonfinite"].to_numpy()
        if missing.any():
            ax.set_title(f"not finite: {', '.join(f'{int(m):,}' for m in missing)} draws" if len(missing) <= 6
                         else f"not finite: up to {int(missing.max()):,} draws at a value", fontsize=8)
        ax.legend(fontsize=8, loc="best")
    if shares is not None:
        from ..studies._comparison import SHARE_LABELS

        ax, backfire_ax = axes.flat[len(names)], axes.flat[len(names) + 1]
        short = {"faster_growth_after": "faster growth after the cap (the mechanism)", "cap_binds": "the cap binds",
                 "cap_ends_before_tai": "the cap ends before TAI in the world without it"}
        for column, label in short.items():
            ax.plot(values, 100 * shares[column].to_numpy(np.float64), style, color=SHARE_COLOURS[column], label=label)
        ax.set_ylim(-3, 103)
        ax.set_ylabel("share of all draws (%)")
        ax.set_title("the policy world against the world without the cap, draw by draw", fontsize=8)
        ax.legend(fontsize=7, loc="best", framealpha=0.9)
        # The backfire (docs/outcomes.md) and its two parts, on one denominator, with the world without a
        # cap as reference (no backfire by definition) and an axis of at least 5%, so that a change of a
        # tenth of a point is drawn as the small change it is.
        marked = style == "o-"  # markers only where the values are few enough to tell apart
        for column, part in (("backfire", "o-"), ("tai_earlier", "s--"), ("danger_band_shorter", "^--")):
            backfire_ax.plot(values, 100 * shares[column].to_numpy(np.float64), part if marked else part.lstrip("os^"),
                             color=SHARE_COLOURS[column],
                             label=SHARE_LABELS[column].strip().split(" (")[0])
        backfire_ax.axhline(0, color="black", lw=1, ls=":", label="no cap (0% by definition)")
        # Headroom above the lines for the legend.
        top = max(1.8 * float(np.nanmax(100 * shares["backfire"].to_numpy(np.float64))), BACKFIRE_AXIS_PERCENT)
        backfire_ax.set_ylim(-0.02 * top, top)
        compared = shares["draws_compared"].to_numpy(np.float64)
        backfire_ax.set_ylabel(f"share of the {int(compared.min()):,}"
                               f"{'' if compared.min() == compared.max() else '+'} draws compared (%)")
        backfire_ax.set_title("backfire: the cap makes TAI earlier or the danger band shorter", fontsize=8)
        backfire_ax.legend(fontsize=7, loc="upper left", framealpha=0.9)
    for ax in list(axes.flat)[:panels]:
        if log_x:
            ax.set_xscale("log")
        if len(values) <= MARKED_VALUES // 2:
            ax.set_xticks(values, [f"{v:g}" for v in values])
            ax.minorticks_off()
        elif log_x:  # ticks at 1, 2, 5 times powers of ten, written as plain numbers
            from matplotlib.ticker import FuncFormatter, LogLocator

            ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.minorticks_off()
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[panels:]:
        ax.set_visible(False)
    title = (f"{model}: {param} swept over {len(values)} values, the same {int(results.attrs['draws']):,} draws "
             f"at each (seed {results.attrs['seed']})")
    if posterior:
        verdicts = sweep_conditioning(results)
        unreliable = [f"{v:g}" for v, row in verdicts.iterrows() if not int(row["reliable"])]
        title += (f"\nposterior given '{_user_text(str(results.attrs['posterior_observations']))}': each value's "
                  "draws resampled by weight; " + (f"NOT RELIABLE at {param} = {', '.join(unreliable)} (k-hat or ESS)"
                                                   if unreliable else "reliable at every value"))
    elif is_conditioned_sweep(results):
        title += "\nprior: every draw, not conditioned on the observations (see the _sweep_posterior figure)"
    fig.suptitle(title, fontsize=10)
    return _finish(fig, path)


def plot_sobol(indices: xr.Dataset, output: str, path: str | os.PathLike | None = None, top: int = 15) -> plt.Figure:
    """Bar chart of first- and total-order Sobol indices of one output, with bootstrap intervals."""
    from ..studies._sensitivity import ranked

    table = ranked(indices, output)[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.8))
    y = np.arange(len(table))
    for offset, kind, colour, label in ((0.2, "ST", "tab:blue", "total order ST"),
                                        (-0.2, "S1", "tab:orange", "first order S1")):
        low = np.clip(table[kind] - table[f"{kind}_low"], 0, None)
        high = np.clip(table[f"{kind}_high"] - table[kind], 0, None)
        ax.barh(y + offset, table[kind], height=0.4, color=colour, label=label,
                xerr=np.vstack([low, high]), error_kw={"elinewidth": 1, "capsize": 2})
    ax.set_yticks(y, list(table.index))  # as in the priors file, so a reader can look them up or paste them
    ax.axvline(0, color="k", linewidth=0.8)
    if table["ST"].isna().all():
        dropped = int(indices["dropped_base_samples"].sel(output=output))
        ax.text(0.5, 0.5, f"no indices: {dropped:,} of {int(indices.attrs['base_samples']):,} base samples gave\n"
                          f"a non-finite {output.replace('_', ' ')}, too few were left", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlabel(f"Sobol index of {output.replace('_', ' ')} "
                  f"(bars: {float(indices.attrs['confidence']):.0%} bootstrap intervals)")
    ax.set_title(f"what drives {output.replace('_', ' ')}: {int(indices.attrs['base_samples']):,} base samples, "
                 f"{int(indices.attrs['evaluations']):,} runs\n(indices assume independent inputs)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _finish(fig, path)


def _stream_speed(results: xr.DataTree) -> str:
    speeds = _parameter(results, "stream_tokens_per_second")
    return f"{speeds[0]:g}" if speeds is not None and np.unique(speeds).size == 1 else "varying"


FIGURE_KINDS = {
    "distributions": plot_distributions, "distribution": plot_distribution,
    "paired_distributions": plot_paired_distributions, "remaining_overhang": plot_remaining_overhang,
    "tornado": plot_tornado, "streams_vs_compute": plot_streams_vs_compute, "fan_chart": plot_fan_chart,
    "series_bands": plot_series_bands,
}
"""What each kind of figure a model declares (``models._schema.Figure``) is drawn with."""


def _declared(model: str | None):
    """The Model called ``model``, or None (results of a model this version does not know)."""
    from ..models._registry import MODEL_MODULES, get_model

    return get_model(model) if model in MODEL_MODULES else None


def _figures(model: str | None, outputs_only: bool = False) -> list[tuple[str, Callable[..., plt.Figure], dict]]:
    """(name, plot function, its options) of each default figure of a run of ``model``, as the model
    declares them (``Model.figures``); a model that declares none gets the distributions of every output."""
    declared = _declared(model)
    if declared is None or not declared.figures:
        return [("distributions", plot_distributions, {"names": None})]  # None: every output
    return [(figure.name, FIGURE_KINDS[figure.kind],
             {key: list(value) if isinstance(value, tuple) else value for key, value in figure.options.items()})
            for figure in declared.figures if not (figure.needs_parameters and outputs_only)]


def default_figures(results: xr.DataTree) -> list[tuple[str, Callable[[], plt.Figure]]]:
    """The default figures of the results' model (or of a comparison), each as (name, function drawing it)."""
    if results.attrs.get("kind") == "sweep":
        from ..studies._sweep import is_conditioned_sweep

        return _bound(results, [(name, plot_sweep, {"posterior": True} if name == "sweep_posterior" else {})
                                for name in sweep_figure_names(is_conditioned_sweep(results))])
    if results.attrs.get("kind") == "comparison":
        figures = _bound(results, [("differences", plot_differences, {})])
        if "fan_chart_b" in comparison_figure_names(results.attrs.get("model")):  # both worlds of scenario B
            figures.append(("fan_chart_b", functools.partial(plot_fan_chart, results["b"])))
        return figures
    from ..studies._summaries import outputs_without_a_cap

    no_cap = outputs_without_a_cap(results.attrs)  # no figure of a cap the scenario does not have
    figures = [f for f in _figures(results.attrs.get("model"), bool(results.attrs.get("outputs_only")))
               if f[2].get("name") not in no_cap]
    names = list(outputs(results).data_vars)
    return _bound(results, [(name, plot, {"names": names} if kwargs.get("names", ()) is None else kwargs)
                            for name, plot, kwargs in figures])


def _bound(results, figures) -> list[tuple[str, Callable[..., plt.Figure]]]:
    return [(name, functools.partial(plot, results, **kwargs)) for name, plot, kwargs in figures]


def comparison_figure_names(model: str | None) -> list[str]:
    """Names of the default figures of a comparison of runs of ``model``."""
    declared = _declared(model)
    return ["differences", *(["fan_chart_b"] if declared is not None and declared.comparison_fan_chart else [])]


SWEEP_FIGURES = ("sweep",)
"""Names of the default figures of a sweep."""


def sweep_figure_names(conditioned: bool = False) -> list[str]:
    """Names of the default figures of a sweep: a conditioned one (``observe=``) adds ``sweep_posterior``,
    the same figure over each value's posterior (its ``sweep`` figure is the prior's, and says so)."""
    return [*SWEEP_FIGURES, *(["sweep_posterior"] if conditioned else [])]


def default_plot_paths(model: str | None, stem: str | os.PathLike, outputs_only: bool = False) -> list[Path]:
    """Where :func:`default_plots` writes the figures of a run of ``model``: ``<stem>_<figure>.png``."""
    return [Path(f"{stem}_{name}.png") for name, _, _ in _figures(model, outputs_only)]




def default_plots(results: xr.DataTree, stem: str | os.PathLike) -> list[Path]:
    """Write the default figures of the run's model as ``<stem>_<figure>.png``; return their paths."""
    paths = []
    for name, draw in default_figures(results):
        path = Path(f"{stem}_{name}.png")
        plt.close(draw(path=path))
        paths.append(path)
    return paths


def plot_prior_posterior(results: xr.DataTree, names: list[str] | None = None,
                         path: str | os.PathLike | None = None) -> plt.Figure:
    """What the observations changed: the prior's and the posterior's ECDF of each headline output,
    overlaid, with both medians. A conditioned run's (``observe=``) or a comparison's paired
    differences. The ECDFs are over all draws, so draws never reaching a year (+inf) keep them below 1."""
    from ..studies._conditioning import headline_outputs, is_conditioned, prior_posterior

    if not is_conditioned(results):
        raise ValueError("these results were not conditioned on observations: run with observe= (--observe)")
    model = get_model(results.attrs["model"])
    comparison = results.attrs.get("kind") == "comparison"
    names = names or ([h.output for h in model.headlines] if comparison else headline_outputs(model))
    table = prior_posterior(results, names)
    posterior = posterior_outputs(results)
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows), squeeze=False)
    probs = np.linspace(0, 1, ECDF_POINTS)
    for ax, name in zip(axes.flat, names):
        units = table.loc[name, "units"]
        span = []
        for label, values, colour, style in (
                ("prior", results[OUTPUTS_GROUP][name].values, "tab:grey", "--"),
                ("posterior", posterior[name].values, "tab:blue", "-")):
            values = np.asarray(values, np.float64).ravel()
            values = values[~np.isnan(values)]
            finite = values[np.isfinite(values)]
            if not finite.size:
                continue
            median = table.loc[name, f"{label}_median"]
            shown = ("not reached" if np.isposinf(median) else f"{median:.1f}" if units in ("yr", "year")
                     else f"{median:.4g}")
            ax.plot(np.quantile(finite, probs), probs * finite.size / values.size, color=colour, linestyle=style,
                    label=f"{label}: median {shown}")
            span.append(np.quantile(finite, [0.005, 0.995]))
        if span:
            low, high = min(s[0] for s in span), max(s[1] for s in span)
            pad = 0.02 * (high - low) or 1.0
            ax.set_xlim(low - pad, high + pad)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        what = f"B − A: {name}" if comparison else name
        ax.set_xlabel(f"{what.replace('_', ' ')} ({units})" if units and units != "1" else what.replace("_", " "))
        ax.set_ylabel("fraction of draws ≤ x")
        ax.legend(fontsize=8, loc="lower right")
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    attrs = results.attrs
    verdict = "reliable" if int(attrs["posterior_reliable"]) else "NOT RELIABLE"
    what = (f"{model.name}, B = {attrs['scenario_b']} against A = {attrs['scenario_a']}" if comparison
            else f"{model.name}, {attrs.get('scenario', 'defaults')}")
    fig.suptitle(f"{what}: prior (dashed) and posterior given '{attrs['posterior_observations']}'; "
                 f"ESS {attrs['posterior_ess']:,.0f} of {int(attrs['draws']):,} draws, posterior {verdict}",
                 fontsize=10)
    return _finish(fig, path)
