"""What every model declares: its parameters, outputs and simulation functions.

A model is data, not a class hierarchy: the runner, the priors loader, the
results writer and the CLI only ever read these tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax

Draw = Mapping[str, jax.Array]
"""One parameter draw (or a batch of them): parameter name -> value."""


class Parameter(NamedTuple):
    """An input of a model, with the range of values that make sense."""

    name: str
    default: float
    units: str
    doc: str
    lower: float = -math.inf
    upper: float = math.inf
    lower_open: bool = False
    upper_open: bool = False
    values: tuple[float, ...] | None = None
    """For switches: the only values allowed (for example (0, 1))."""
    static: bool = False
    """A numerical setting that fixes the shape of the computation (say, the number of time
    steps): every priors file must give it a point value, and the runner passes it to the
    model as a Python float, a constant of the compiled function (each value compiles its own)."""

    def contains(self, x: float) -> bool:
        if self.values is not None:
            return x in self.values
        above = x > self.lower if self.lower_open else x >= self.lower
        below = x < self.upper if self.upper_open else x <= self.upper
        return above and below and not math.isnan(x)

    def allowed(self) -> str:
        """The allowed range, as an error message shows it."""
        if self.values is not None:
            return "one of " + ", ".join(f"{v:g}" for v in self.values)
        left = "(" if self.lower_open or self.lower == -math.inf else "["
        right = ")" if self.upper_open or self.upper == math.inf else "]"
        return f"in {left}{self.lower:g}, {self.upper:g}{right}"


class Output(NamedTuple):
    """A per-draw result of a model."""

    name: str
    units: str
    doc: str
    worse: str | None = None
    """Which way is worse when two scenarios are compared: "higher", "lower" or None."""
    undefined: str = ""
    """When the output is NaN by definition, not by failure (say "no evaders"). Its NaN draws are
    still counted and kept, but do not count against a run's limit on non-finite draws."""
    tolerance: float = 0.0
    """Differences within this (in the output's units) count as "the same" when two scenarios
    are compared: 0.05 yr, 0.01 OOM; 0 for flags and counts."""
    without_policy: bool = False
    """An output of the world without the policy (the trajectory model's default world): two
    scenarios that differ only in their policy give it the same value in every draw, so a
    comparison shows it as unchanged by construction instead of scoring it."""


class Headline(NamedTuple):
    """A line that opens a comparison of scenario B with scenario A: how often, and by how much,
    B moves one output the worse way and the better way (``Output.worse``)."""

    output: str
    worse: str
    """What B does when it is worse, a verb phrase with B as its subject: "brings TAI earlier"."""
    better: str
    """The same when it is better: "delays TAI"."""
    backfire: bool = False
    """B moving this output the worse way is a backfire (the policy makes things worse)."""
    given: str = ""
    """A 0/1 output: only the draws where it is 1 in both A and B count (the overhang matters
    only where the cap ends before TAI)."""
    given_phrase: str = ""
    """Those draws in words: "the cap ends before TAI"."""


Ranges = Mapping[str, tuple[float, float]]
"""Each parameter's smallest and largest value under a set of priors."""


class Ordered(NamedTuple):
    """A constraint between two parameters: ``later >= earlier`` in every draw."""

    earlier: str
    later: str

    def problem(self, ranges: Ranges) -> str | None:
        earliest_later, latest_earlier = ranges[self.later][0], ranges[self.earlier][1]
        if earliest_later < latest_earlier:
            return (f"parameter '{self.later}' must be >= '{self.earlier}' in every draw, but its prior reaches "
                    f"{earliest_later:g} while '{self.earlier}' reaches {latest_earlier:g}")
        return None


class Check(NamedTuple):
    """A condition on the ranges of a model's parameters, checked when priors load (before compute).

    ``problem`` gets every parameter's smallest and largest value under the
    priors and returns what is wrong, in one line that names the parameters
    and the limit, or None if nothing is.
    """

    problem: Callable[[Ranges], str | None]


class Figure(NamedTuple):
    """One default figure of a run, as data: the presentation layer (``present/_figures.py``) draws
    each ``kind``; models never import matplotlib."""

    name: str
    """The figure's file suffix: ``<stem>_<name>.png``."""
    kind: str
    """What is drawn: "distributions", "distribution", "paired_distributions", "remaining_overhang",
    "tornado", "streams_vs_compute", "fan_chart" or "series_bands"."""
    options: Mapping[str, object] = {}
    """The drawing function's options (``names``, ``name``, ``output``)."""
    needs_parameters: bool = False
    """Drawn only when the run kept every draw's parameters (not ``--outputs-only``)."""


class Redraw(NamedTuple):
    """Parameter sets a model's own Monte Carlo rejects, and how a sampled run redraws them.

    When the static parameter ``switch`` is 1, the runner replaces a sampled draw whose set
    fails ``admissible`` by a redrawn one, inside the compiled chunk, in two stages (as the
    original ftm's Monte Carlo does): first the ``kept`` parameters alone are redrawn until
    they pass ``admissible`` with every other parameter at its smallest value under the priors
    (the most favourable set); then the kept values stay and every other parameter is redrawn
    (given them, through the priors' copula) until the whole set passes. At most
    ``max_attempts`` sets are tried per draw (the first included); a draw with none accepted
    keeps its first set. The number of sets rejected before the accepted one goes to the
    output ``count_output`` (the model's own function gives 0 there: it never redraws).
    Given parameter sets (:func:`overhang_jax.evaluate`) are never redrawn.
    """

    admissible: Callable[[Draw], jax.Array]
    """Of one draw (every parameter): True when the set is accepted."""
    kept: tuple[str, ...]
    """Parameters kept from the first set that passes the first stage."""
    switch: str
    """A static switch parameter: 1 redraws; any other value leaves the model's own function to
    mark or compute the rejected sets."""
    count_output: str
    """The output the runner writes each draw's number of rejected sets to."""
    max_attempts: int = 200
    reason: str = "the model's admissibility test"
    """What rejects a set, in words, for a run's summary."""


class Model(NamedTuple):
    """A model the runner can sweep.

    ``methods`` maps a method name to a pure function of one draw (a mapping
    of scalar parameters) returning a mapping of scalar outputs; the first
    entry is the default. The runner ``vmap``s it over draws.
    """

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    outputs: tuple[Output, ...]
    methods: Mapping[str, Callable[[Draw], dict[str, jax.Array]]]
    default_priors: str
    """File name of the shipped default priors in ``overhang_jax/priors``."""
    constraints: tuple[Ordered | Check, ...] = ()
    """Conditions every priors file must meet, checked when it loads."""
    work_estimates: Mapping[str, Callable[[Draw], jax.Array]] = {}
    """Per method, a cheap estimate of one draw's loop steps (a scalar).

    Optional. With it the runner sorts each device's draws by the estimate
    and steps them in groups of similar length, so one slow draw does not
    hold a whole batch's loop. Results do not depend on it.
    """
    fixed_length_loops: bool = False
    """Every draw's loops take the same number of steps (scans). The runner then steps a
    device's draws in groups of a fixed size, which keeps a group's state in the cache, in
    draw order: no work estimate is needed."""
    trajectories: Trajectories | None = None
    """Time series the methods return as well (see :class:`Trajectories`)."""
    requires_float64: bool = False
    """Computes in float64 whatever the run asks for (its values pass float32's range)."""
    nonfinite_share_limit: float = 0.01
    """Share of an output's draws that may be NaN or infinite before the command line exits
    with status 3 (its default for ``--max-nonfinite-share``). A model for which "not reached
    by the end of the horizon" or "a draw it leaves out" are common answers sets it higher."""
    headlines: tuple[Headline, ...] = ()
    """The lines that open a comparison of two scenarios, answering the model's questions."""
    observables: tuple[Observable, ...] = ()
    """What data can be compared with: quantities of the past that an observations file may name
    (:mod:`overhang_jax.priors._observations`)."""
    figures: tuple[Figure, ...] = ()
    """The default figures of a run (none declared: the distributions of every output)."""
    figure_outputs: tuple[str, ...] = ()
    """The outputs a figure of several shows first (a comparison's, a sweep's); none: all of them."""
    sweep_outputs: tuple[str, ...] = ()
    """The outputs a sweep's figure shows by default (none: ``figure_outputs``, else the first four)."""
    comparison_fan_chart: bool = False
    """A comparison also draws scenario B's two worlds as a fan chart (the policy models)."""
    redraw: Redraw | None = None
    """Parameter sets the model's own Monte Carlo redraws, and how (see :class:`Redraw`)."""
    horizon_note: str = ""
    """A sentence a run's summary prints under its non-finite counts: how the model's outputs count
    what is not reached by the end of its horizon."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    @property
    def default_method(self) -> str:
        return next(iter(self.methods))

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def static_names(self) -> tuple[str, ...]:
        """Parameters that fix the shape of the computation (see ``Parameter.static``)."""
        return tuple(p.name for p in self.parameters if p.static)

    def reference_draw(self) -> dict[str, float]:
        """The point values of the reference case (the ``default`` column)."""
        return {p.name: p.default for p in self.parameters}


KEPT_TRAJECTORIES = 100
"""A model's time series are kept in full for draws 0 .. KEPT_TRAJECTORIES - 1
(for spaghetti plots); every draw goes into the per-time histograms."""


class Trajectories(NamedTuple):
    """Per-draw time series a model returns besides its scalar outputs.

    The runner never keeps them for every draw: it adds each chunk to per-time
    histograms of fixed-width bins on [lower, upper) (with one underflow and
    one overflow bin), from which quantile bands are read to within one bin
    width, and keeps the full series of the first draws only. ``units``,
    ``lower``, ``upper`` and ``bin_width`` are one value for every series or a
    tuple with one value per series (see :attr:`series`).
    """

    names: tuple[str, ...]
    docs: tuple[str, ...]
    units: str | tuple[str, ...]
    dim: str
    coords: tuple[float, ...]
    lower: float | tuple[float, ...]
    upper: float | tuple[float, ...]
    bin_width: float | tuple[float, ...]

    @property
    def shared_range(self) -> bool:
        """Whether every series has the same units and histogram bins."""
        return not any(isinstance(v, tuple) for v in (self.units, self.lower, self.upper, self.bin_width))

    @property
    def bins(self) -> int:
        """Bins of the histogram when every series shares one range."""
        if not self.shared_range:
            raise ValueError("the series have their own ranges: use Trajectories.series")
        return round((self.upper - self.lower) / self.bin_width)

    @property
    def series(self) -> tuple[Series, ...]:
        """Each series with its own units and histogram range."""
        def each(value):
            return value if isinstance(value, tuple) else (value,) * len(self.names)

        return tuple(Series(*fields) for fields in zip(self.names, self.docs, each(self.units), each(self.lower),
                                                        each(self.upper), each(self.bin_width)))


class Series(NamedTuple):
    """One time series of a model's :class:`Trajectories`, with its histogram range."""

    name: str
    doc: str
    units: str
    lower: float
    upper: float
    bin_width: float

    @property
    def bins(self) -> int:
        return round((self.upper - self.lower) / self.bin_width)


class Observable(NamedTuple):
    """A quantity of a model that can be compared with data (an observation's ``quantity``).

    ``source`` names what the model's method returns for it: a yearly series (a key of its
    returned mapping with one value per year of ``Trajectories.coords``; read at an observed
    year by linear interpolation between whole years) or, with ``at_year`` False, a scalar
    output (a year of an event, say). The runner reads it from the draw's results inside the
    compiled chunk and keeps only the log likelihood, never the series.
    """

    name: str
    units: str
    doc: str
    source: str
    at_year: bool = True
    """A series read at an observed year (True), or one value per draw (False)."""
    lower: float = -math.inf
    """Smallest value the quantity can take: an observation outside [lower, upper] is impossible."""
    upper: float = math.inf
