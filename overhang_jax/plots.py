"""Figures of a run: each function takes the results and returns a matplotlib Figure."""

from .present._figures import (
    default_plots,
    plot_differences,
    plot_distribution,
    plot_distributions,
    plot_fan_chart,
    plot_paired_distributions,
    plot_prior_posterior,
    plot_remaining_overhang,
    plot_series_bands,
    plot_sobol,
    plot_streams_vs_compute,
    plot_sweep,
    plot_tornado,
)

__all__ = [
    "default_plots",
    "plot_differences",
    "plot_distribution",
    "plot_distributions",
    "plot_fan_chart",
    "plot_paired_distributions",
    "plot_prior_posterior",
    "plot_remaining_overhang",
    "plot_series_bands",
    "plot_sobol",
    "plot_streams_vs_compute",
    "plot_sweep",
    "plot_tornado",
]
