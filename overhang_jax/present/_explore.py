"""The interactive page of ``overhang-jax explore`` and ``oj.explore()``: move a policy lever, see the paired
comparison change.

Two parts. :class:`Exploration` holds the settings (two scenarios, the levers and uncertain parameters fixed
by hand, the draws and the seed) and computes, with no web code: a comparison is exactly
:func:`overhang_jax.compare` of :meth:`Exploration.priors` (world A is computed again only when its priors
change: a value that sets world B alone costs one run, not two). The page
(:func:`explore_page`) is Panel (HoloViz) widgets around it; Panel serves its own JavaScript and CSS, so
the page needs no network.
"""

from __future__ import annotations

import dataclasses
import html
import math
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import RunError
from .._io import write_atomic
from .._results import ResultsError, paired_differences, save
from ..engine._run import run
from ..models._registry import get_model
from ..priors._priors import Priors, PriorsError, load_priors
from ..priors._scenarios import scenario_headers
from ..studies._comparison import compare_summary, comparison_display, comparison_findings, policy_shares
from ..studies._summaries import trajectory_bands
from ..studies._sweep import format_sweep, sweep
from ._report import write_report


@dataclasses.dataclass(frozen=True)
class Page:
    """What the page offers for one model."""

    baseline: str
    """The scenario of world A, without the policy."""
    policy: str
    """The scenario of world B, the policy world the levers change."""
    levers: tuple[tuple[str, str], ...]
    """(parameter, what a policy researcher calls it) of the policy's levers."""
    uncertain: tuple[str, ...]
    """The main uncertain parameters."""
    distributions: tuple[tuple[str, str], ...]
    """(output, title) of the paired differences B - A drawn as histograms."""
    fan: tuple[str, ...]
    """The trajectories drawn in the fan chart (of one unit)."""
    draws: int
    """Paired draws by default: what answers in about a second on two CPU cores."""
    sweep: tuple[str, str]
    """The lever the sweep offers first, and its values."""


PAGES = {
    "trajectory": Page(
        "no_policy", "hard_cap_sudden_end",
        levers=(("t_cap", "cap start"), ("D", "cap length"), ("cap_headroom", "headroom above the largest run"),
                ("p_sudden", "how it ends: chance of a sudden end (else a gradual lift)"),
                ("g_lift", "pace of a gradual lift"), ("alpha", "catch-up share"), ("e_share", "evaders' share")),
        uncertain=("E_tai", "w", "alg_doubling_months", "hw_doubling_months", "spend_doubling_months", "lam",
                   "phi", "kappa", "k_max", "beta"),
        distributions=(("tai_year_policy", "TAI delay (TAI year, B - A)"),
                       ("overhang_at_end", "overhang when the cap ends (B - A)")),
        fan=("E_default", "E_policy"), draws=20_000, sweep=("D", "2, 5, 10, 15")),
    "ftm": Page(
        "ftm_no_policy", "ftm_training_cap",
        levers=(("cap_start_year", "cap start"), ("cap_years", "cap length"),
                ("cap_log10_flop", "cap on the largest training run"), ("cap_growth", "growth of the cap"),
                ("cap_gradual_lift", "how it ends: gradual lift (1) or at once (0)"),
                ("catch_up", "catch-up share"), ("hardware_cap_log10", "cap on the hardware stock")),
        uncertain=("full_automation_requirements_training", "flop_gap_training", "hardware_returns",
                   "software_returns"),
        distributions=(("agi_year", "AGI delay (AGI year, B - A)"),
                       ("takeoff_goods_years", "takeoff, 20% to 100% of goods tasks (B - A)")),
        fan=("largest_training_run",), draws=500, sweep=("cap_years", "2, 5, 10")),
    "takeoff": Page(
        "takeoff_baseline", "takeoff_software_pause",
        levers=(("software_pause_start", "software pause: start"), ("software_pause_end", "software pause: end"),
                ("asymmetry", "training/inference asymmetry (0 off, 1 on)")),
        uncertain=("takeoff_threshold", "size_investment", "size_hardware", "size_software"),
        distributions=(("takeoff_year", "takeoff delay (takeoff year, B - A)"),
                       ("takeoff_duration", "takeoff duration (B - A)")),
        fan=(), draws=20_000, sweep=("software_pause_end", "2026, 2030, 2035")),
}
MORE_DRAWS_FACTOR = 4
"""The "more draws" button computes this many times the draws, in the background."""


def _prior_range(dist) -> str:
    """The prior as a priors file writes it, and the middle 90% of its draws."""
    text = dist.to_toml()
    if dist.is_point:
        return f"{text} (a fixed value)"
    try:
        low, high = (float(x) for x in dist.scipy().ppf([0.05, 0.95]))
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        return text
    return f"{text}; 90% of draws in [{low:.4g}, {high:.4g}]"


def _support(dist) -> tuple[float, float]:
    """Where the prior's draws lie (a point: its value)."""
    if dist.is_point:
        return dist.point_value, dist.point_value
    try:
        low, high = (float(x) for x in dist.scipy().ppf([0.0, 1.0]))
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        return -math.inf, math.inf
    return low, high


_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_compiling = {"seconds": 0.0, "listening": False}


def compile_seconds() -> float:
    """XLA's compile seconds in this process so far (counted from the first page), to tell the user when a
    change compiled a program rather than reused one."""
    if not _compiling["listening"]:
        import jax

        def record(event, duration, **_):
            if event == _COMPILE_EVENT:
                _compiling["seconds"] += duration

        jax.monitoring.register_event_duration_secs_listener(record)
        _compiling["listening"] = True
    return _compiling["seconds"]


class Exploration:
    """The settings of the page and what they compute, without the page.

    ``fixed`` maps a parameter to the value it is fixed to by hand; a
    parameter not in it keeps its scenario's prior. A value fixed by hand
    sets both worlds where their scenarios agree on the parameter, so that A
    and B still differ only where their scenarios do (the cap's length sets
    the "five years after the cap" in which both worlds' growth is measured),
    and world B alone where they differ (what makes A the world without the
    policy: ``no_policy``'s headroom of 1000 OOM). Every setter checks its
    value as a priors file would (raising :class:`PriorsError` naming the
    parameter and the allowed range) and changes nothing when it refuses.
    """

    def __init__(self, model: str = "trajectory", *, draws: int | None = None, seed: int = 0):
        self.model = get_model(model)
        if self.model.name not in PAGES:
            raise RunError(f"explore shows the models {', '.join(PAGES)}, not '{self.model.name}'")
        self.page = PAGES[self.model.name]
        self.draws, self.seed = draws or self.page.draws, seed
        self.fixed: dict[str, float] = {}
        self._baseline = load_priors(self.model, self.page.baseline)
        self._policy = load_priors(self.model, self.page.policy)
        self._cached_a: tuple[tuple, Any] | None = None
        self._lock = threading.Lock()

    # ---- settings ---------------------------------------------------------------------------------
    @property
    def scenarios(self) -> list[str]:
        return list(scenario_headers(self.model.name))

    @property
    def policy_source(self) -> str:
        return self._policy.source

    @property
    def baseline_source(self) -> str:
        return self._baseline.source

    def set_policy(self, scenario: str | os.PathLike) -> None:
        """World B's scenario: a shipped scenario's name or a priors file (the levers fixed by hand stay)."""
        loaded = load_priors(self.model, scenario)
        self._check_fixed(self.fixed, policy=loaded)
        self._policy = loaded

    def set_baseline(self, scenario: str | os.PathLike) -> None:
        loaded = load_priors(self.model, scenario)
        self._check_fixed(self.fixed, baseline=loaded)
        self._baseline = loaded

    def set(self, name: str, value: float | None) -> None:
        """Fix ``name`` to ``value``, or give it back its scenario's prior (``value`` None)."""
        if name not in self.controls:
            raise PriorsError(f"'{name}' is not a control of the {self.model.name} page; the controls are "
                              f"{', '.join(self.controls)}")
        fixed = {k: v for k, v in self.fixed.items() if k != name}
        if value is not None:
            fixed[name] = value
        self._check_fixed(fixed)
        self.fixed = fixed

    def set_draws(self, draws: int, seed: int | None = None) -> None:
        if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= 10_000_000:
            raise RunError(f"draws must be a whole number from 1 to 10,000,000, got {draws!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
            raise RunError(f"seed must be a whole number in [0, 2**32), got {seed!r}")
        self.draws = draws
        self.seed = self.seed if seed is None else seed

    @property
    def controls(self) -> list[str]:
        return [name for name, _ in self.page.levers] + list(self.page.uncertain)

    def prior(self, name: str, world: str = "b"):
        """The scenario's prior of ``name`` in world ``a`` or ``b`` (before any value fixed by hand)."""
        return (self._baseline if world == "a" else self._policy).distributions[name]

    def shared(self, name: str, baseline: Priors | None = None, policy: Priors | None = None) -> bool:
        """Whether the two scenarios give ``name`` the same prior: a value fixed by hand sets both worlds."""
        a, b = baseline or self._baseline, policy or self._policy
        return a.distributions[name].to_toml() == b.distributions[name].to_toml()

    def describe(self, name: str) -> str:
        """The parameter's meaning and units, its prior in world B, and which worlds a fixed value sets."""
        param = self.model.parameter(name)
        units = "" if param.units in ("1", "") else f" ({param.units})"
        worlds = ("Fixing it sets both worlds (their scenarios agree on it)." if self.shared(name) else
                  f"Fixing it sets world B only (world A, {self.baseline_source}, has "
                  f"{self.prior(name, 'a').to_toml()}).")
        return f"{param.doc}{units}. Prior: {_prior_range(self.prior(name))}. {worlds}"

    def outside_prior(self) -> list[str]:
        """A note for each value fixed outside its prior's support: allowed, but worth a second look."""
        notes = []
        for name, value in self.fixed.items():
            low, high = _support(self.prior(name))
            if not low <= value <= high and low < high:
                notes.append(f"{name} = {value:g} lies outside its prior in {self.policy_source} "
                             f"([{low:.4g}, {high:.4g}]): a value the scenario gives no weight")
        return notes

    def _check_fixed(self, fixed: Mapping[str, float], policy: Priors | None = None,
                     baseline: Priors | None = None) -> tuple[Priors, Priors]:
        a, b = baseline or self._baseline, policy or self._policy
        shared = {name for name in fixed if self.shared(name, a, b)}  # before any value is fixed
        for name, value in fixed.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise PriorsError(f"{name}: expected a finite number, got {value!r}")
            b = b.with_point(name, float(value))
            if name in shared:
                a = a.with_point(name, float(value))
        return a, b

    def priors(self) -> tuple[Priors, Priors]:
        """The priors of world A and world B: their scenarios with the values fixed by hand."""
        return self._check_fixed(self.fixed)

    # ---- computing ------------------------------------------------------------------------------
    def compare(self, draws: int | None = None):
        """``oj.compare(model, *self.priors(), draws=..., seed=...)``, with world A reused while it is
        unchanged (both runs are the same function of their priors, draws and seed)."""
        draws = draws or self.draws
        priors_a, priors_b = self.priors()
        key = (priors_a.to_toml(), draws, self.seed)
        with self._lock:  # one computation at a time: the two cores are shared
            cached = self._cached_a
            if cached is not None and cached[0] == key:
                a = cached[1]
            else:
                a = run(self.model, priors_a, draws=draws, seed=self.seed, progress=False)
                if draws == self.draws:
                    self._cached_a = (key, a)
            b = run(self.model, priors_b, draws=draws, seed=self.seed, progress=False)
        return paired_differences(self.model, a, b)

    def sweep(self, lever: str, values: list[float]):
        """World B swept over ``values`` of one lever, on the page's draws and seed (``oj.sweep``)."""
        _, priors_b = self.priors()
        with self._lock:
            return sweep(self.model, priors_b, param=lever, values=values, draws=self.draws, seed=self.seed,
                         progress=False)

    # ---- saving ------------------------------------------------------------------------------------
    def command(self, stem: str | os.PathLike) -> str:
        """The command line that computes the same comparison from the saved priors files."""
        import shlex

        a, b = (shlex.quote(f"{stem}_{label}.toml") for label in "ab")
        return f"overhang-jax compare {a} {b} --draws {self.draws} --seed {self.seed}"

    def save_priors(self, stem: str | os.PathLike) -> list[Path]:
        """World A's and world B's priors as ``STEM_a.toml`` and ``STEM_b.toml``: complete priors files
        that ``overhang-jax run`` and ``compare`` accept and that reproduce the page's draws."""
        paths = []
        for label, priors in zip("ab", self.priors()):
            path = Path(f"{stem}_{label}.toml")
            fixed = ", ".join(f"{k} = {v:g}" for k, v in self.fixed.items()
                              if label == "b" or self.shared(k)) or "none"
            source = self.baseline_source if label == "a" else self.policy_source
            header = (f"# World {label.upper()} of overhang-jax explore: scenario {source}, fixed by hand: "
                      f"{fixed}.\n# The page's comparison: {self.command(stem)}\n")
            text = header + priors.to_toml()
            load_priors(self.model, text=text)  # what is written must read back
            write_atomic(path, lambda temp, text=text: temp.write_text(text, encoding="utf-8"))
            paths.append(path)
        return paths


def check_writable(path: Path) -> None:
    """Refuse a path whose folder is missing or not writable, before anything is computed or written."""
    parent = path.parent
    if not parent.is_dir():
        raise OSError(f"'{path}': folder '{parent}' does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OSError(f"'{path}': folder '{parent}' is not writable")
    if path.exists() and not path.is_file():
        raise OSError(f"'{path}' exists and is not a regular file")


def headline_html(comparison) -> str:
    """The paired headline as the command line states it: the findings, then the table of differences."""
    attrs = comparison.attrs
    findings = "".join(f"<li>{html.escape(s)}</li>" for s in comparison_findings(comparison))
    shown = comparison_display(compare_summary(comparison))
    intro = (f"A = <b>{html.escape(str(attrs['scenario_a']))}</b>, B = <b>{html.escape(str(attrs['scenario_b']))}"
             f"</b>: {int(attrs['draws']):,} paired draws (seed {attrs['seed']}); draw <i>i</i> of A and of B "
             "share every random number, so each difference B - A is what B changes in that draw.")
    shares = ""
    if comparison.attrs["model"] == "trajectory":
        s = policy_shares(comparison["b"])
        shares = (f"<p>In B's own draws: the cap binds in {s['cap_binds']:.1%} of all draws and ends before TAI "
                  f"in {s['cap_ends_before_tai']:.1%}; it backfires (TAI earlier, or less time in the danger band, "
                  f"than the world without it: docs/outcomes.md) in {s['backfire']:.1%} of the "
                  f"{int(s['draws_compared']):,} draws where it starts before TAI and both can be compared.</p>")
    return (f'<div class="explore-headline"><p>{intro}</p><ul class="findings">{findings}</ul>{shares}'
            f'{shown.to_html(classes="explore-table", border=0)}</div>')


def fan_bands(comparison, model) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, years, 5%/50%/95% band) of each trajectory of both worlds, a series equal in every year to
    one already listed left out (world A's copy of the world without the policy)."""
    names = PAGES[model.name].fan
    if not names:
        return []
    bands, seen = [], []
    docs = dict(zip(model.trajectories.names, model.trajectories.docs))
    for label in ("a", "b"):
        data = trajectory_bands(comparison[label], probs=(0.05, 0.5, 0.95))
        for name in names:
            values = np.asarray(data[name].values, np.float64)
            if any(np.array_equal(values, other, equal_nan=True) for other in seen):
                continue
            seen.append(values)
            world = comparison.attrs[f"scenario_{label}"]
            bands.append((f"{label.upper()} ({world}): {docs[name]}", np.asarray(data[data[name].dims[0]].values),
                          values))
    return bands


# =============================================================================================================
# The page (Panel).
STYLE = """
.explore-error { color: #8b0000; background: #fde8e8; border-left: 4px solid #8b0000; padding: 4px 8px; }
.explore-note { color: #6b4e00; background: #fff6d9; border-left: 4px solid #c59100; padding: 4px 8px; }
.explore-table { border-collapse: collapse; font-size: 12px; }
.explore-table td, .explore-table th { padding: 2px 6px; border-bottom: 1px solid #ddd; text-align: right; }
"""


def explore_page(model: str = "trajectory", *, draws: int | None = None, seed: int = 0):
    """The page for ``model``: a Panel layout (shown by Jupyter, served by ``overhang-jax explore``)."""
    return _Page(Exploration(model, draws=draws, seed=seed)).layout


def explore(model: str = "trajectory", *, draws: int | None = None, seed: int = 0):
    """The interactive page of ``overhang-jax explore``, in a Jupyter notebook.

    Returns a Panel layout: the last expression of a cell shows it. The first
    comparison compiles the model (seconds); after that a lever change re-runs
    ``draws`` paired draws and redraws. See docs/explore.md.
    """
    import panel as pn

    pn.extension()
    return explore_page(model, draws=draws, seed=seed)


class _Page:
    def __init__(self, exploration: Exploration):
        import panel as pn
        from bokeh.models import ColumnDataSource, Title
        from bokeh.plotting import figure

        self.x = exploration
        self.pn = pn
        self._generation = 0
        self.comparison = None
        self.controls: dict[str, tuple[Any, Any]] = {}  # name -> (fixed checkbox, value input)
        self._quiet = False  # set while the page itself moves widgets

        scenarios = exploration.scenarios
        self.baseline = pn.widgets.Select(label="World A (without the policy)", options=scenarios,
                                          value=exploration.page.baseline, css_classes=["explore-baseline"])
        self.policy = pn.widgets.Select(label="World B (the policy)", options=scenarios,
                                        value=exploration.page.policy, css_classes=["explore-policy"])
        self.priors_file = pn.widgets.TextInput(label="or world B from a priors file (path, Enter to load)",
                                                placeholder="my_priors.toml", css_classes=["explore-priors-file"])
        self.draws = pn.widgets.IntInput(label="Paired draws", value=exploration.draws, start=1, step=1000,
                                         width=190, css_classes=["explore-draws"])
        self.seed = pn.widgets.IntInput(label="Seed", value=exploration.seed, start=0, width=190,
                                        css_classes=["explore-seed"])
        self.more = pn.widgets.Button(label=f"More draws ({MORE_DRAWS_FACTOR}x, in the background)",
                                      css_classes=["explore-more"])
        self.message = pn.pane.HTML("", css_classes=["explore-message"], stylesheets=[STYLE], sizing_mode="stretch_width")
        self.status = pn.pane.HTML("Computing the first comparison (the first one compiles the model: "
                                   "seconds to a minute)...", css_classes=["explore-status"])
        self.headline = pn.pane.HTML("", css_classes=["explore-headline-pane"], stylesheets=[STYLE], sizing_mode="stretch_width")

        lever_rows = [pn.pane.Markdown("### Policy levers")]
        for name, label in exploration.page.levers:
            lever_rows.append(self._control(name, f"{label} ({name})"))
        uncertain_rows = [pn.pane.Markdown("### Uncertain parameters")]
        for name in exploration.page.uncertain:
            uncertain_rows.append(self._control(name, name))

        # Figures: Bokeh, whose sources are updated in place (fast, nothing re-rendered server-side).
        self.fan = figure(height=320, sizing_mode="stretch_width", title="Fan chart: median and 5-95% of draws",
                          x_axis_label="year", tools="pan,wheel_zoom,box_zoom,reset,save")
        self.fan_sources = []
        colours = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
        for k in range(6):
            source = ColumnDataSource({"x": [], "low": [], "mid": [], "high": []})
            self.fan.varea("x", "low", "high", source=source, alpha=0.2, color=colours[k])
            self.fan.line("x", "mid", source=source, color=colours[k], line_width=2,
                          legend_label=f"series {k}", visible=True)
            self.fan_sources.append(source)
        self.fan.legend.location = "bottom_right"
        spec = exploration.model.trajectories
        if exploration.page.fan:
            units = spec.units if isinstance(spec.units, str) else spec.units[spec.names.index(exploration.page.fan[0])]
            self.fan.yaxis.axis_label = units
        self.histograms, self.histogram_sources, self.histogram_notes = [], [], []
        for output, title in exploration.page.distributions:
            source = ColumnDataSource({"left": [], "right": [], "top": []})
            fig = figure(height=260, sizing_mode="stretch_width", title=title,
                         x_axis_label=self._units(output), y_axis_label="share of draws",
                         tools="pan,wheel_zoom,box_zoom,reset,save")
            fig.quad(left="left", right="right", top="top", bottom=0, source=source, color="#4c72b0", alpha=0.8)
            note = Title(text="", text_font_style="italic", text_font_size="11px")
            fig.add_layout(note, "above")  # above the title: the denominator of the shares
            self.histogram_notes.append(note)
            self.histograms.append(fig)
            self.histogram_sources.append(source)

        levers = [name for name, _ in exploration.page.levers]
        self.sweep_lever = pn.widgets.Select(label="Sweep world B over one lever", options=levers,
                                             value=exploration.page.sweep[0], css_classes=["explore-sweep-lever"])
        self.sweep_values = pn.widgets.TextInput(label="values (comma-separated)", value=exploration.page.sweep[1],
                                                 css_classes=["explore-sweep-values"])
        self.sweep_button = pn.widgets.Button(label="Run the sweep", css_classes=["explore-sweep"])
        self.sweep_out = pn.pane.HTML("", css_classes=["explore-sweep-out"], stylesheets=[STYLE], sizing_mode="stretch_width")

        self.stem = pn.widgets.TextInput(label="Save as (path without extension)", value="explore",
                                         css_classes=["explore-stem"])
        self.save_priors_button = pn.widgets.Button(label="Save priors files", css_classes=["explore-save-priors"])
        self.save_results_button = pn.widgets.Button(label="Save results (.nc)", css_classes=["explore-save-results"])
        self.save_report_button = pn.widgets.Button(label="Save report (.html)", css_classes=["explore-save-report"])
        self.saved = pn.pane.HTML("", css_classes=["explore-saved"], stylesheets=[STYLE], sizing_mode="stretch_width")

        self.baseline.param.watch(lambda e: self._scenario(self.x.set_baseline, e.new), "value")
        self.policy.param.watch(lambda e: self._scenario(self.x.set_policy, e.new), "value")
        self.priors_file.param.watch(lambda e: e.new.strip() and self._scenario(self.x.set_policy, e.new.strip()),
                                     "value")
        self.draws.param.watch(lambda e: self._draws(), "value")
        self.seed.param.watch(lambda e: self._draws(), "value")
        self.more.on_click(lambda e: self._more())
        self.sweep_button.on_click(lambda e: self._sweep())
        self.save_priors_button.on_click(lambda e: self._save("priors"))
        self.save_results_button.on_click(lambda e: self._save("results"))
        self.save_report_button.on_click(lambda e: self._save("report"))

        sidebar = pn.Column(
            pn.pane.Markdown(f"## overhang-jax explore: {exploration.model.name}"),
            self.baseline, self.policy, self.priors_file, pn.Row(self.draws, self.seed), self.more,
            *lever_rows, *uncertain_rows, width=430)
        main = pn.Column(
            self.message, self.status, pn.pane.Markdown("### Paired headline (B - A)"), self.headline,
            pn.pane.Bokeh(self.fan, visible=bool(self.x.page.fan)), pn.Row(*(pn.pane.Bokeh(f) for f in self.histograms)),
            pn.pane.Markdown("### Sweep"), pn.Row(self.sweep_lever, self.sweep_values, self.sweep_button),
            self.sweep_out,
            pn.pane.Markdown("### Save"), self.stem,
            pn.Row(self.save_priors_button, self.save_results_button, self.save_report_button), self.saved,
            sizing_mode="stretch_width")
        self.layout = pn.Row(sidebar, main, sizing_mode="stretch_width")
        self._doc = pn.state.curdoc if pn.state.curdoc is not None and pn.state.curdoc.session_context else None
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.onload(self.refresh)  # the page shows at once; the first run (a compile) follows
        else:
            self.refresh()

    def _units(self, output: str) -> str:
        units = next(o.units for o in self.x.model.outputs if o.name == output)
        return {"yr": "years", "1": ""}.get(units, units)

    def _control(self, name: str, label: str):
        pn = self.pn
        prior = self.x.prior(name)
        fixed = name in self.x.fixed or prior.is_point
        value = self.x.fixed.get(name, prior.point_value if prior.is_point else _middle(prior, self.x.model.parameter(name)))
        box = pn.widgets.Checkbox(label="fixed", value=fixed, width=60, margin=(28, 5, 5, 5),
                                  css_classes=[f"explore-fix-{name}"])
        entry = pn.widgets.FloatInput(label=label, value=value, step=_step(prior, value), width=320,
                                      css_classes=[f"explore-lever-{name}"])
        info = pn.pane.HTML(html.escape(self.x.describe(name)), width=390, css_classes=[f"explore-prior-{name}"],
                            styles={"font-size": "11px", "color": "#555"}, margin=(0, 10))
        self.controls[name] = (box, entry, info)
        box.param.watch(lambda e: self._control_changed(name), "value")
        entry.param.watch(lambda e: self._control_changed(name, typed=True), "value")
        return pn.Column(pn.Row(entry, box), info, margin=(0, 0, 6, 0))

    def _control_changed(self, name: str, typed: bool = False) -> None:
        if self._quiet:
            return
        box, entry, _ = self.controls[name]
        if typed and not box.value:  # typing a value fixes the parameter
            self._quiet = True
            box.value = True
            self._quiet = False
        if box.value and entry.value is None:
            return self._error(f"{name}: expected a number")
        try:
            self.x.set(name, entry.value if box.value else None)
        except PriorsError as err:
            return self._error(str(err))
        self.refresh()

    def _scenario(self, setter, value) -> None:
        if self._quiet:
            return
        try:
            setter(value)
        except PriorsError as err:
            return self._error(str(err))
        self._sync_controls()
        self.refresh()

    def _sync_controls(self) -> None:
        """The controls of parameters not fixed by hand show their (new) scenario's prior."""
        self._quiet = True
        try:
            for name, (box, entry, info) in self.controls.items():
                prior = self.x.prior(name)
                if name not in self.x.fixed:
                    box.value = prior.is_point
                    entry.value = prior.point_value if prior.is_point else _middle(prior, self.x.model.parameter(name))
                info.object = html.escape(self.x.describe(name))
        finally:
            self._quiet = False

    def _draws(self) -> None:
        try:
            self.x.set_draws(self.draws.value, self.seed.value)
        except (RunError, TypeError) as err:
            return self._error(str(err))
        self.refresh()

    def _error(self, text: str) -> None:
        self.message.object = f'<div class="explore-error">{html.escape(text)}</div>'

    def _clear(self) -> None:
        """No error: only the notes on values fixed outside their priors."""
        notes = self.x.outside_prior()
        self.message.object = "".join(f'<div class="explore-note">{html.escape(n)}</div>' for n in notes)

    def refresh(self, draws: int | None = None) -> None:
        """Compute the comparison of the current settings and show it."""
        self._generation += 1
        started, compiled = time.perf_counter(), compile_seconds()
        try:
            comparison = self.x.compare(draws)
        except (PriorsError, RunError, ResultsError) as err:
            return self._error(str(err))
        except Exception as err:  # a bug: said on the page (which keeps working), and logged by the server
            self._error(f"internal error, please report it: {type(err).__name__}: {err}")
            raise
        self.show(comparison, time.perf_counter() - started, compile_seconds() - compiled)

    def show(self, comparison, seconds: float, compiled: float = 0.0) -> None:
        self._clear()
        self.comparison = comparison
        self.headline.object = headline_html(comparison)
        why = (f", of which {compiled:.1f} s compiling a program not run before (the first run of a model or of "
               "a kind of scenario; other values reuse it)" if compiled > 0.05 else "")
        self.status.object = (f"{int(comparison.attrs['draws']):,} paired draws, seed {comparison.attrs['seed']}: "
                              f"computed in {seconds:.2f} s{why}.")
        bands = fan_bands(comparison, self.x.model)[: len(self.fan_sources)]
        for k, (source, item) in enumerate(zip(self.fan_sources, self.fan.legend.items)):
            item.visible = k < len(bands)
            if k >= len(bands):
                source.data = {"x": [], "low": [], "mid": [], "high": []}
                continue
            label, years, band = bands[k]
            finite = np.isfinite(band).all(axis=1)  # a year where a quantile is beyond the histogram: not drawn
            source.data = {"x": years[finite], "low": band[finite, 0], "mid": band[finite, 1],
                           "high": band[finite, 2]}
            item.label = {"value": label}
        for (output, _), source, note in zip(self.x.page.distributions, self.histogram_sources,
                                                 self.histogram_notes):
            values = np.asarray(comparison["prior_predictive"][output].values, np.float64).ravel()
            finite = values[np.isfinite(values)]
            left_out = values.size - finite.size
            counts, edges = np.histogram(finite, bins=60) if finite.size else (np.zeros(0), np.zeros(1))
            source.data = {"left": edges[:-1], "right": edges[1:], "top": counts / max(values.size, 1)}
            note.text = (f"share of all {values.size:,} draws; {left_out:,} not finite (not shown)" if left_out
                         else f"share of all {values.size:,} draws")

    def _more(self) -> None:
        generation = self._generation
        draws = self.x.draws * MORE_DRAWS_FACTOR
        self.status.object = f"Computing {draws:,} paired draws in the background..."

        def work():
            started, compiled = time.perf_counter(), compile_seconds()
            try:
                comparison = self.x.compare(draws)
            except (PriorsError, RunError, ResultsError) as err:
                self.status.object = f"More draws failed: {html.escape(str(err))}"
                return
            seconds, compiled = time.perf_counter() - started, compile_seconds() - compiled
            if generation != self._generation:  # a setting changed meanwhile: the result is stale
                return
            if self._doc is not None:  # Bokeh models change only on the session's own thread
                self._doc.add_next_tick_callback(lambda: self.show(comparison, seconds, compiled))
            else:
                self.show(comparison, seconds, compiled)

        threading.Thread(target=work, daemon=True).start()

    def _sweep(self) -> None:
        try:
            values = [float(v) for v in self.sweep_values.value.replace(";", ",").split(",") if v.strip()]
        except ValueError:
            return self._error(f"sweep values: expected numbers separated by commas, got '{self.sweep_values.value}'")
        self.sweep_out.object = "Sweeping..."
        try:
            result = self.x.sweep(self.sweep_lever.value, values)
        except (PriorsError, RunError) as err:
            self.sweep_out.object = ""
            return self._error(str(err))
        self._clear()
        self.sweep_out.object = f"<pre>{html.escape(format_sweep(result))}</pre>"

    def _save(self, what: str) -> None:
        stem = Path(self.stem.value.strip() or "explore").expanduser()
        try:
            if what == "priors":
                for path in (Path(f"{stem}_a.toml"), Path(f"{stem}_b.toml")):
                    check_writable(path)
                paths = self.x.save_priors(stem)
                text = (f"Wrote {', '.join(html.escape(str(p.resolve())) for p in paths)}. The same comparison "
                        "from the command line: "
                        f"<code>{html.escape(self.x.command(stem))}</code>")
            elif self.comparison is None:
                return self._error("nothing computed yet to save")
            elif what == "results":
                path = Path(f"{stem}.nc")
                check_writable(path)
                save(self.comparison, path)
                text = f"Wrote {html.escape(str(path.resolve()))} (read it with <code>oj.load</code>)."
            else:
                path = Path(f"{stem}.html")
                check_writable(path)
                write_report([self.comparison], path, sources=["overhang-jax explore"])
                text = f"Wrote {html.escape(str(path.resolve()))}."
        except (OSError, PriorsError) as err:
            return self._error(f"cannot save: {err}")
        self._clear()
        self.saved.object = f'<div class="explore-saved-text">{text}</div>'


def _middle(dist, param) -> float:
    """The prior's median (a value to start from when the user fixes the parameter)."""
    try:
        middle = float(dist.scipy().ppf(0.5))
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        middle = math.nan
    # Four significant digits: a value to start from, not a statistic.
    return float(f"{middle:.4g}") if math.isfinite(middle) else param.default


def _step(dist, value: float) -> float:
    """The spinner's step: a round tenth of the prior's middle 90% (of the value, for a fixed one)."""
    if dist.is_point:
        width = abs(value) or 1.0
    else:
        try:
            low, high = (float(x) for x in dist.scipy().ppf([0.05, 0.95]))
            width = high - low
        except (AttributeError, NotImplementedError, TypeError, ValueError):
            width = 1.0
    width = width if math.isfinite(width) and width > 0 else 1.0
    return 10.0 ** math.floor(math.log10(width / 10))


def free_port(address: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the system's choice)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def check_port(address: str, port: int) -> None:
    """Refuse a port already in use, or an address this machine does not have, with one line."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError as err:
            raise RunError(f"--port {port} on {address}: cannot listen there ({err.strerror}); choose another "
                           "port, or leave --port out for a free one") from None


def start_server(model: str = "trajectory", *, port: int | None = None, address: str = "127.0.0.1",
                 draws: int | None = None, seed: int = 0, open_browser: bool = False, threaded: bool = False):
    """Serve the page at ``http://ADDRESS:PORT/`` (a free port when ``port`` is None), each browser tab its
    own session. ``threaded`` returns the running server's thread (``.stop()`` ends it); otherwise this
    blocks until interrupted."""
    import logging

    import panel as pn

    get_model(model)  # an unknown model is refused before the server starts
    if model not in PAGES:
        raise RunError(f"explore shows the models {', '.join(PAGES)}, not '{model}'")
    port = free_port(address) if port is None else port
    check_port(address, port)
    logging.getLogger("bokeh").setLevel(logging.WARNING)  # the server's request log is not for the user
    return pn.serve({"/": lambda: explore_page(model, draws=draws, seed=seed)}, port=port, address=address,
                    websocket_origin=[f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"],
                    show=open_browser, title=f"overhang-jax explore: {model}", threaded=threaded,
                    verbose=False)  # the command line prints the address itself
