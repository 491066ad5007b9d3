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

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))  # no display needed; a user's choice wins
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from ._results import CONSTANTS_GROUP, PARAMETERS_GROUP, outputs, parameters  # noqa: E402

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


def _label(results: xr.DataTree, name: str) -> str:
    units = _variable(results, name).attrs.get("units", "")
    return f"{name.replace('_', ' ')} ({units})" if units and units != "1" else name.replace("_", " ")


def _finish(fig: plt.Figure, path: str | os.PathLike | None) -> plt.Figure:
    # Leave room for a figure title above the panels' own.
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()) if fig.get_suptitle() else None)
    if path is not None:
        from ._io import write_atomic

        path = Path(path)
        write_atomic(path, lambda temp: fig.savefig(temp, dpi=120, format=path.suffix.lstrip(".") or "png"))
    return fig


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
    _draw_distribution(hist_ax, ecdf_ax, finite, nonfinite, _label(results, name), bins)
    fig.suptitle(f"{name.replace('_', ' ')}: {results.attrs.get('model', '')}, {finite.size + nonfinite:,} draws")
    return _finish(fig, path)


def _draw_distribution(hist_ax, ecdf_ax, finite, nonfinite, label, bins):
    total = finite.size + nonfinite
    if finite.size == 0:
        for ax in (hist_ax, ecdf_ax):
            ax.text(0.5, 0.5, f"no finite draws: all {total:,} are NaN or infinite", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_xlabel(label)
        return
    low, median, high = np.quantile(finite, [0.05, 0.5, 0.95])
    # A few extreme draws would squash the rest into one bin: show the central 99.8%.
    view = tuple(np.quantile(finite, [VIEW_TAIL, 1 - VIEW_TAIL]))
    if view[0] == view[1]:
        view = (view[0] - 0.5, view[1] + 0.5)
    hist_ax.hist(finite, bins=_bin_edges(finite, view, bins), density=True, color="tab:blue", alpha=0.8)
    for x, style in ((low, ":"), (median, "-"), (high, ":")):
        hist_ax.axvline(x, color="k", linestyle=style, linewidth=1)
    hist_ax.set_xlabel(label + " (central 99.8% shown)")
    hist_ax.set_ylabel("density")
    hist_ax.set_title(f"median {median:.5g}, 90% interval [{low:.5g}, {high:.5g}]", fontsize=9)
    # ECDF over all draws: non-finite draws (never happening, +inf) keep it below 1.
    probs = np.linspace(0, 1, ECDF_POINTS)
    ecdf_ax.plot(np.quantile(finite, probs), probs * finite.size / total, color="tab:blue")
    ecdf_ax.set_xlabel(label)
    ecdf_ax.set_ylabel("fraction of draws ≤ x")
    ecdf_ax.set_xlim(*view)
    ecdf_ax.set_ylim(0, 1)
    ecdf_ax.grid(alpha=0.3)
    if nonfinite:
        ecdf_ax.set_title(f"{nonfinite:,} of {total:,} draws not finite", fontsize=9)


def plot_distributions(results: xr.DataTree, names: list[str], path: str | os.PathLike | None = None,
                       bins: int = 80) -> plt.Figure:
    """Histogram and ECDF of several variables, one row each."""
    fig, axes = plt.subplots(len(names), 2, figsize=(10, 3.2 * len(names)), squeeze=False)
    for (hist_ax, ecdf_ax), name in zip(axes, names):
        finite, nonfinite = _values(results, name)
        _draw_distribution(hist_ax, ecdf_ax, finite, nonfinite, _label(results, name), bins)
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


def plot_tornado(results: xr.DataTree, output: str, path: str | os.PathLike | None = None,
                 top: int = 15) -> plt.Figure:
    """Tornado chart: the parameters most rank-correlated with ``output``, largest on top."""
    from ._analysis import rank_correlations

    column = rank_correlations(results, [output])[output].dropna()
    column = column.reindex(column.abs().sort_values(ascending=False).index)[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(column) + 1.5))
    colours = ["tab:red" if rho < 0 else "tab:blue" for rho in column]
    ax.barh([name.replace("_", " ") for name in column.index], column.values, color=colours)
    ax.axvline(0, color="k", linewidth=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"Spearman rank correlation with {output.replace('_', ' ')}")
    ax.set_title(f"what drives {output.replace('_', ' ')} (monotone effects)")
    ax.grid(axis="x", alpha=0.3)
    return _finish(fig, path)


WORLD_COLOURS = {"E_default": "tab:blue", "E_policy": "tab:red"}


def plot_fan_chart(results: xr.DataTree, path: str | os.PathLike | None = None, spaghetti: int = 0,
                   ylim: tuple[float, float] | None = None) -> plt.Figure:
    """Fan chart of E(t), default vs policy world: median, 50% and 90% bands over all draws.

    The bands come from the run's streamed per-year histograms (exact to half
    a bin). The cap window differs between draws: the shading spans the
    median cap start to the median cap end. ``spaghetti`` > 0 adds that many
    of the kept full trajectories of each world. ``ylim`` defaults to the span
    of the 90% bands (runaway trajectories would otherwise squash them).
    """
    from ._analysis import trajectory_bands
    from ._results import TRAJECTORIES_GROUP

    bands = trajectory_bands(results, (0.05, 0.25, 0.5, 0.75, 0.95))
    years = bands[bands["E_default"].dims[0]].values
    fig, ax = plt.subplots(figsize=(8, 5))
    labels = {"E_default": "default world", "E_policy": "policy world (frontier)"}
    for name, colour in WORLD_COLOURS.items():
        # A quantile beyond the histogram's range is +-inf: leave it out rather than draw it at the edge.
        q = np.where(np.isfinite(bands[name].values), bands[name].values, np.nan)
        ax.fill_between(years, q[:, 0], q[:, 4], color=colour, alpha=0.12)
        ax.fill_between(years, q[:, 1], q[:, 3], color=colour, alpha=0.25)
        ax.plot(years, q[:, 2], color=colour, label=f"{labels[name]}: median, 50% and 90% bands")
        if spaghetti:
            kept = results[TRAJECTORIES_GROUP][name].values[:spaghetti]
            ax.plot(years, kept.T, color=colour, alpha=0.25, linewidth=0.5)
    cap_start, duration = _parameter(results, "t_cap"), _parameter(results, "D")
    if cap_start is not None and duration is not None:  # (not kept in results of outputs only)
        start, end = float(np.median(cap_start)), float(np.median(cap_start + duration))
        ax.axvspan(start, end, color="0.85", zorder=0, label=f"cap window (median start {start:.0f} to end {end:.0f})")
    ax.set_xlabel("year")
    ax.set_ylabel("effective compute E (log10 FLOP, 2023 algorithms)")
    upper = float(results[TRAJECTORIES_GROUP].attrs["upper"])
    ax.set_title(f"E(t), default vs policy: {results.attrs.get('draws', 0):,} draws "
                 f"(bands end where they pass {upper:g})", fontsize=10)
    ax.set_xlim(years[0], years[-1])
    if ylim is None:
        finite = np.concatenate([bands[n].values[np.isfinite(bands[n].values)] for n in WORLD_COLOURS])
        ylim = (float(finite.min()) - 1, float(finite.max()) + 1) if finite.size else None
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _finish(fig, path)


SERIES_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:purple")


def plot_series_bands(results: xr.DataTree, path: str | os.PathLike | None = None,
                      names: list[str] | None = None) -> plt.Figure:
    """One panel per time series of the run (default: all): median, 50% and 90% bands over
    all draws, from the streamed histograms (exact to half a bin; a band beyond the
    histogram's range is left out)."""
    from ._results import TRAJECTORIES_GROUP, trajectory_bands

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
    """Overlaid histograms of outputs in the same units (say, the danger band default vs policy)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    values = [_values(results, name) for name in names]
    pooled = np.concatenate([v[0] for v in values])
    view = tuple(np.quantile(pooled, [VIEW_TAIL, 1 - VIEW_TAIL])) if pooled.size else (0.0, 1.0)
    for (finite, nonfinite), name, colour in zip(values, names, plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        if finite.size:
            median = np.median(finite)
            ax.hist(finite, bins=bins, range=view, density=True, histtype="stepfilled", alpha=0.35, color=colour,
                    label=f"{name.replace('_', ' ')}: median {median:.3g}"
                          + (f", {nonfinite:,} not finite" if nonfinite else ""))
            ax.axvline(median, color=colour, linewidth=1)
    ax.set_xlabel(_label(results, names[0]) + " (central 99.8% shown)")
    ax.set_ylabel("density")
    if ax.get_legend_handles_labels()[0]:  # none when no draw is finite
        ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_differences(comparison: xr.DataTree, path: str | os.PathLike | None = None, bins: int = 60,
                     names: list[str] | None = None) -> plt.Figure:
    """Histograms of the paired differences B - A of a comparison, with P(B worse than A)."""
    from ._analysis import compare_summary

    table = compare_summary(comparison)
    data = outputs(comparison)
    # By default the model's headline outputs, or those with a "worse" direction (all of them if none
    # has one), less those the same in A and B in every draw (their panel would be one bar at zero).
    changed = [n for n in table.index if table.loc[n, "p_equal"] < 1 or table.loc[n, "nonfinite"]]
    headline = [n for n in HEADLINE_OUTPUTS.get(comparison.attrs.get("model"), ()) if n in changed]
    names = names or headline or [n for n in changed if data[n].attrs.get("worse")] or changed or list(table.index)
    columns = 2
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(10, 2.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        values = np.asarray(data[name].values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size and np.ptp(finite) > 0:
            view = tuple(np.quantile(finite, [VIEW_TAIL, 1 - VIEW_TAIL]))
            ax.hist(finite, bins=bins, range=view if view[1] > view[0] else None, color="tab:purple", alpha=0.8)
        elif finite.size:
            ax.hist(finite, bins=1, color="tab:purple", alpha=0.8)
        ax.axvline(0, color="k", linewidth=0.8)
        units = data[name].attrs.get("units", "")
        ax.set_xlabel(f"B - A: {name.replace('_', ' ')}" + (f" ({units})" if units and units != "1" else ""))
        ax.set_ylabel("draws")
        ax.set_title(f"P(B worse) = {table.loc[name, 'p_b_worse']:.3f}, P(equal) = {table.loc[name, 'p_equal']:.3f}",
                     fontsize=9)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"paired differences, B = {Path(str(comparison.attrs['scenario_b'])).stem} vs "
                 f"A = {Path(str(comparison.attrs['scenario_a'])).stem}, {int(comparison.attrs['draws']):,} draws")
    return _finish(fig, path)


def plot_sobol(indices: xr.Dataset, output: str, path: str | os.PathLike | None = None, top: int = 15) -> plt.Figure:
    """Bar chart of first- and total-order Sobol indices of one output, with bootstrap intervals."""
    from ._sensitivity import ranked

    table = ranked(indices, output)[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.8))
    y = np.arange(len(table))
    for offset, kind, colour, label in ((0.2, "ST", "tab:blue", "total order ST"),
                                        (-0.2, "S1", "tab:orange", "first order S1")):
        low = np.clip(table[kind] - table[f"{kind}_low"], 0, None)
        high = np.clip(table[f"{kind}_high"] - table[kind], 0, None)
        ax.barh(y + offset, table[kind], height=0.4, color=colour, label=label,
                xerr=np.vstack([low, high]), error_kw={"elinewidth": 1, "capsize": 2})
    ax.set_yticks(y, [name.replace("_", " ") for name in table.index])
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


def _figures(model: str | None, outputs_only: bool = False) -> list[tuple[str, Callable[..., plt.Figure], dict]]:
    """(name, plot function, its options) of each default figure of a run of ``model``."""
    if model == "takeoff":
        figures = [
            ("distributions", plot_distributions, {"names": ["takeoff_year", "max_speed"]}),
            ("remaining_overhang", plot_remaining_overhang, {}),
        ]
        if not outputs_only:  # the tornado chart needs every draw's parameters
            figures.append(("max_speed_drivers", plot_tornado, {"output": "max_speed"}))
        return figures
    if model == "inference":
        return [
            ("streams_vs_compute", plot_streams_vs_compute, {}),
            ("distributions", plot_distributions, {"names": ["parallel_streams", "params_count"]}),
        ]
    if model == "ftm":
        return [
            ("bands", plot_series_bands, {}),
            ("distributions", plot_distributions, {"names": list(HEADLINE_OUTPUTS["ftm"])}),
        ]
    if model == "trajectory":
        return [
            ("fan_chart", plot_fan_chart, {}),
            ("overhang_at_end", plot_distribution, {"name": "overhang_at_end"}),
            ("tai_delay", plot_distribution, {"name": "tai_delay"}),
            ("danger_band", plot_paired_distributions, {"names": ["danger_band_years_default",
                                                                  "danger_band_years_policy"]}),
        ]
    return [("distributions", plot_distributions, {"names": None})]  # None: every output


def default_figures(results: xr.DataTree) -> list[tuple[str, Callable[[], plt.Figure]]]:
    """The default figures of the results' model (or of a comparison), each as (name, function drawing it)."""
    if results.attrs.get("kind") == "comparison":
        figures = _bound(results, [("differences", plot_differences, {})])
        if "fan_chart_b" in comparison_figure_names(results.attrs.get("model")):  # both worlds of scenario B
            figures.append(("fan_chart_b", functools.partial(plot_fan_chart, results["b"])))
        return figures
    figures = _figures(results.attrs.get("model"), bool(results.attrs.get("outputs_only")))
    names = list(outputs(results).data_vars)
    return _bound(results, [(name, plot, {"names": names} if kwargs.get("names", ()) is None else kwargs)
                            for name, plot, kwargs in figures])


def _bound(results, figures) -> list[tuple[str, Callable[..., plt.Figure]]]:
    return [(name, functools.partial(plot, results, **kwargs)) for name, plot, kwargs in figures]


def comparison_figure_names(model: str | None) -> list[str]:
    """Names of the default figures of a comparison of runs of ``model``."""
    return ["differences", *(["fan_chart_b"] if model == "trajectory" else [])]


def default_plot_paths(model: str | None, stem: str | os.PathLike, outputs_only: bool = False) -> list[Path]:
    """Where :func:`default_plots` writes the figures of a run of ``model``: ``<stem>_<figure>.png``."""
    return [Path(f"{stem}_{name}.png") for name, _, _ in _figures(model, outputs_only)]


HEADLINE_OUTPUTS = {
    "ftm": ("automation_goods_20_year", "agi_year", "takeoff_goods_years", "sub_agi_to_agi_years",
            "rnd_output_2x_to_10x_years", "peak_gwp_growth"),
}
"""Per model, the outputs its figures show first (all of them when a model has none here)."""


def default_plots(results: xr.DataTree, stem: str | os.PathLike) -> list[Path]:
    """Write the default figures of the run's model as ``<stem>_<figure>.png``; return their paths."""
    paths = []
    for name, draw in default_figures(results):
        path = Path(f"{stem}_{name}.png")
        plt.close(draw(path=path))
        paths.append(path)
    return paths
