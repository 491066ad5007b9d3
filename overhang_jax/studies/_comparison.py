"""Paired comparisons of two scenarios: the table, the headline sentences and the policy
world's shares, all from one set of computed shares per output."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from .._results import OUTPUTS_GROUP, outputs
from ._summaries import summary

SIZE_QUANTILE = 0.95
"""How large a move is, besides its median: this quantile of its size (the maximum can be absurd)."""
UNIT_WORDS = {"yr": "years", "year": "years", "1": ""}


class Outcome(NamedTuple):
    """A decision-relevant outcome of a policy: one headline output of a model, with its direction.

    Built from the model's tables (``Model.headlines`` and ``Model.outputs``), so an outcome a model
    declares is part of the vocabulary without code here. See docs/outcomes.md.
    """

    output: str
    worse: str
    """What the policy does when it makes this outcome worse, a verb phrase: "brings TAI earlier"."""
    better: str
    """The same when it makes it better: "delays TAI"."""
    backfire: bool
    """Making this outcome worse is a backfire: the policy makes the world worse on what it is for."""
    direction: str
    """Which way is worse: "higher" or "lower" (``Output.worse``)."""
    tolerance: float
    """Moves within this (in ``units``) count as no change."""
    units: str
    given: str = ""
    given_phrase: str = ""


def policy_outcomes(model) -> tuple[Outcome, ...]:
    """The decision-relevant outcomes of a policy under ``model`` (a name or a ``Model``), in the order
    a comparison reports them. The backfire outcomes come first: a **backfire** is a draw where the
    policy makes one or more of them worse by more than its tolerance (for the trajectory model: TAI
    earlier, or less time in the danger band). The others (the lead over evaders; faster growth after
    the cap and the overhang, the mechanism) are reported on their own lines and never counted as a
    backfire. Every comparison, sweep, report and :func:`policy_shares` counts with these."""
    from ..models._registry import MODEL_MODULES, get_model

    if isinstance(model, str):
        if model not in MODEL_MODULES:
            return ()
        model = get_model(model)
    declared = {o.name: o for o in model.outputs}
    outcomes = [Outcome(h.output, h.worse, h.better, h.backfire, declared[h.output].worse or "",
                        declared[h.output].tolerance, declared[h.output].units, h.given, h.given_phrase)
                for h in model.headlines if h.output in declared]
    return tuple(sorted(outcomes, key=lambda o: not o.backfire))


class Moves(NamedTuple):
    """Each draw's move of one outcome, from its difference policy - no policy (or B - A)."""

    worse: np.ndarray
    better: np.ndarray
    same: np.ndarray
    defined: np.ndarray
    """Draws whose difference is not NaN. An infinite difference (a threshold reached in one world
    only, say TAI by 2100) is a move; NaN (neither world reaches it, or no evaders) is no answer."""


def moves(differences: np.ndarray, direction: str, tolerance: float) -> Moves:
    """Classify each draw's difference as worse, better or the same (within ``tolerance``)."""
    values = np.asarray(differences, np.float64)
    defined = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        higher, lower = values > tolerance, values < -tolerance
    worse, better = (higher, lower) if direction == "higher" else (lower, higher)
    return Moves(worse, better, defined & ~higher & ~lower, defined)


def backfire_table(differences: dict[str, np.ndarray], outcomes: tuple[Outcome, ...],
                   selected: np.ndarray | None = None) -> pd.DataFrame:
    """The backfire, counted once for every caller: for each backfire outcome and for "one or more"
    of them, the share of draws where the policy makes it worse, all over the **same denominator**
    (the ``selected`` draws, say those where the cap starts before TAI, where every backfire outcome
    is defined), with the count, that denominator, and the median and 95th percentile size of the
    finite worse moves (in the outcome's units).

    ``differences`` maps each backfire outcome's output to its differences policy - no policy.
    """
    backfires = [o for o in outcomes if o.backfire and o.output in differences]
    if not backfires:
        return pd.DataFrame(columns=["share", "count", "draws", "median_size", "q95_size"])
    classified = {o.output: (moves(differences[o.output], o.direction, o.tolerance),
                             np.asarray(differences[o.output], np.float64)) for o in backfires}
    common = np.logical_and.reduce([m.defined for m, _ in classified.values()])
    if selected is not None:
        common &= np.asarray(selected, bool).ravel()
    draws = int(common.sum())
    rows, any_worse = {}, np.zeros_like(common)
    for output, (move, values) in classified.items():
        worse = move.worse & common
        any_worse |= worse
        size = np.abs(values[worse & np.isfinite(values)])
        rows[output] = _backfire_row(int(worse.sum()), draws, size)
    rows["backfire"] = _backfire_row(int(any_worse.sum()), draws, np.array([]))
    return pd.DataFrame(rows).T


def _backfire_row(count: int, draws: int, size: np.ndarray) -> dict[str, float]:
    return {"share": count / draws if draws else np.nan, "count": count, "draws": draws,
            "median_size": float(np.median(size)) if size.size else np.nan,
            "q95_size": float(np.quantile(size, SIZE_QUANTILE)) if size.size else np.nan}


class _Difference:
    """One output's paired differences B - A in a comparison, with what the model declares about it."""

    def __init__(self, comparison: xr.DataTree, name: str, differences: xr.Dataset | None = None):
        variable = (outputs(comparison) if differences is None else differences)[name]
        declared = _declared_output(comparison, name)
        self.name = name
        self.values = np.asarray(variable.values, np.float64).ravel()
        self.units = str(variable.attrs.get("units", ""))
        # Files written before tolerances and the default world were declared: the model's table.
        self.direction = str(variable.attrs.get("worse", getattr(declared, "worse", "") or ""))
        self.tolerance = float(variable.attrs.get("tolerance", getattr(declared, "tolerance", 0.0)))
        self.without_policy = bool(variable.attrs.get("without_policy", getattr(declared, "without_policy", False)))
        self.undefined = getattr(declared, "undefined", "")
        runs = [comparison[f"{label}/{OUTPUTS_GROUP}"][name].values.ravel() if label in comparison.children else None
                for label in ("a", "b")]
        self.a, self.b = runs

    def finite(self) -> np.ndarray:
        return self.values[np.isfinite(self.values)]

    def higher(self) -> np.ndarray:
        """Draws where B is above A by more than the tolerance (NaN: not)."""
        with np.errstate(invalid="ignore"):
            return self.values > self.tolerance

    def lower(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.values < -self.tolerance

    def worse(self) -> np.ndarray:
        return self.higher() if self.direction == "higher" else self.lower()

    def better(self) -> np.ndarray:
        return self.lower() if self.direction == "higher" else self.higher()

    def same_in_every_draw(self) -> bool:
        """A and B give the same value in every draw (NaN where both are NaN)."""
        if self.a is not None:
            return bool(np.array_equal(self.a, self.b, equal_nan=True))
        return bool(np.all((self.values == 0) | np.isnan(self.values)))

    def changed_share(self) -> float:
        """Share of draws where A and B differ."""
        if self.a is None:
            return float(np.mean(self.values != 0))
        same = (self.a == self.b) | (np.isnan(self.a) & np.isnan(self.b))
        return float(np.mean(~same))

    def text(self, x: float) -> str:
        return _quantity(x, UNIT_WORDS.get(self.units, self.units))

    def same_text(self) -> str:
        return f"within {self.text(self.tolerance)} of each other" if self.tolerance else "equal"


def _declared_output(comparison: xr.DataTree, name: str):
    """The model's Output called ``name``, or None (a comparison of a model this version does not know)."""
    from ..models._registry import MODEL_MODULES, get_model

    model = comparison.attrs.get("model")
    if model not in MODEL_MODULES:
        return None
    return next((o for o in get_model(model).outputs if o.name == name), None)


def _headlines(comparison: xr.DataTree) -> tuple:
    from ..models._registry import MODEL_MODULES, get_model

    model = comparison.attrs.get("model")
    return get_model(model).headlines if model in MODEL_MODULES else ()


def _duplicates(first: _Difference, second: _Difference) -> bool:
    """Two rows that tell the same story: the same units and direction, and differences within a tenth of
    the tolerance in every draw, a draw undefined in one (NaN) and unchanged in the other (0) agreeing.
    (tai_delay's differences are tai_year_policy's when the default world is the same in A and B.)"""
    if (first.units, first.direction) != (second.units, second.direction):
        return False
    x, y = (np.where(np.isnan(d.values), 0.0, d.values) for d in (first, second))
    with np.errstate(invalid="ignore"):
        close = (x == y) | (np.abs(x - y) <= max(first.tolerance, second.tolerance) / 10)
    return bool(np.all(close))


def compare_summary(comparison: xr.DataTree) -> pd.DataFrame:
    """The paired differences B - A of a comparison, output by output, as shares a reader can act on.

    Columns: ``units``; ``worse``, the direction that is worse from a safety
    view (earlier TAI, faster growth, a bigger overhang, a shorter takeoff;
    empty for flags and quantities that only describe a scenario); the
    ``tolerance`` within which A and B count as the same, in the output's
    units (declared with the output in the model's table); the distribution
    of the difference (mean, q5, q50, q95); ``p_b_worse``, ``p_equal`` and
    ``p_b_better``, the shares of the draws with a finite difference where B
    is worse by more than the tolerance, within it, or better by more than it
    (NaN worse and better for an output without a direction); ``nonfinite``,
    draws whose difference is not finite (left out of the shares); and
    ``left_out``, why the printed table leaves the row out (empty for the
    rows it shows): an output of the world without the policy that is the
    same in A and B in every draw (unchanged by construction, and not
    scored: NaN worse and better), any output the same in every draw, an
    output with no finite difference, or a duplicate of another row (say
    ``tai_delay``, which is ``tai_year_policy``'s row when the default world
    is unchanged; the headline outputs are the rows kept).
    """
    differences = outputs(comparison)
    names = list(differences.data_vars)
    headline = [h.output for h in _headlines(comparison) if h.output in names]
    left_out, kept, unchanged = {}, {}, set()
    everything = {name: _Difference(comparison, name, differences) for name in names}
    for name in [*headline, *(n for n in names if n not in headline)]:  # headline rows win a duplicate
        difference = everything[name]
        if difference.same_in_every_draw() and difference.without_policy:
            unchanged.add(name)
            left_out[name] = ("unchanged by construction: an output of the world without the policy, the same in A "
                              "and B in every draw")
        elif difference.same_in_every_draw():
            left_out[name] = "the same in A and B in every draw"
        elif not difference.finite().size:
            left_out[name] = "no draw has a finite difference" + (f" ({difference.undefined})"
                                                                  if difference.undefined else "")
        elif (twin := next((k for k, other in kept.items() if _duplicates(difference, other)), None)) is not None:
            left_out[name] = f"the same as {twin} in every draw"
        else:
            kept[name] = difference
    table = summary(comparison)[["units", "mean", "q5", "q50", "q95", "nonfinite"]]
    # The median over every draw with a difference, infinite ones included: the number each sentence
    # quotes (ArviZ's summary is over the finite draws only).
    table["q50"] = [float(np.median(d.values[~np.isnan(d.values)])) if (~np.isnan(d.values)).any() else np.nan
                    for d in (everything[n] for n in names)]
    shares = {name: _shares(everything[name]) for name in names}
    for name in unchanged:  # the default world, unchanged by construction: not scored
        shares[name].update(p_b_worse=np.nan, p_b_better=np.nan)
    table.insert(1, "worse", [everything[n].direction for n in names])
    table.insert(2, "tolerance", [everything[n].tolerance for n in names])
    for column in ("p_b_worse", "p_equal", "p_b_better"):
        table.insert(len(table.columns) - 1, column, [shares[n][column] for n in names])
    table["undefined"] = [int(np.count_nonzero(np.isnan(everything[n].values))) for n in names]
    table["left_out"] = [left_out.get(n, "") for n in names]
    return table


def _shares(difference: _Difference) -> dict[str, float]:
    """Shares of the draws with a difference (not NaN; an infinite one is a move) where B is above A
    by more than the tolerance, below it, within it, and which of those is worse and better (NaN for
    an output without a direction): :func:`moves`, the count every sentence uses too."""
    move = moves(difference.values, "higher", difference.tolerance)
    defined = move.defined
    n = max(int(defined.sum()), 1)
    higher = np.count_nonzero(move.worse) / n
    lower = np.count_nonzero(move.better) / n
    shares = {"higher": higher, "lower": lower, "p_equal": 1 - higher - lower if defined.any() else np.nan,
              "p_b_worse": np.nan, "p_b_better": np.nan}
    if difference.direction in ("higher", "lower"):
        worse, better = (higher, lower) if difference.direction == "higher" else (lower, higher)
        shares.update(p_b_worse=worse, p_b_better=better)
    return shares


def comparison_display(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`compare_summary` a reader needs, as they read them: strings, shares as
    percentages, "n/a" where an output has no direction."""
    table = table[table["left_out"] == ""]
    shown = pd.DataFrame(index=table.index)
    shown["units"] = table["units"]
    shown["worse if"] = [w or "n/a" for w in table["worse"]]
    shown["same within"] = [f"{t:g}" if t else "0 (equal)" for t in table["tolerance"]]
    for column, label in (("q50", "median"), ("q5", "5%"), ("q95", "95%")):
        shown[label] = [f"{x:.4g}" for x in table[column]]
    for column, label in (("p_b_worse", "B worse"), ("p_equal", "same"), ("p_b_better", "B better")):
        shown[label] = ["n/a" if np.isnan(x) else percent(x) for x in table[column]]
    shown["no difference"] = [f"{int(x):,}" for x in table["undefined"]]
    return shown


def format_comparison(table: pd.DataFrame) -> str:
    """The table of :func:`compare_summary` as text (:func:`comparison_display`), then the rows left
    out and why."""
    shown = comparison_display(table)
    lines = [shown.to_string()] if len(shown) else ["(no output differs between A and B)"]
    notes = comparison_notes(table)
    if notes:
        lines += ["Not in the table:", *(f"  {note}" for note in notes)]
    return "\n".join(lines)


def comparison_notes(table: pd.DataFrame) -> list[str]:
    """The rows :func:`compare_summary` left out, one line each: ``name: why``."""
    return [f"{name}: {reason}" for name, reason in table["left_out"].items() if reason]


def comparison_findings(comparison: xr.DataTree) -> list[str]:
    """Plain sentences on what B does relative to A, computed draw by draw: the headlines of a comparison.

    For a model with decision-relevant outcomes (:func:`policy_outcomes`): one
    sentence per outcome, how often B moves it the worse and the better way by
    more than its tolerance, by a median and a 95th-percentile amount, and how
    often A and B are within the tolerance, each share stating its denominator;
    after the backfire outcomes, the backfire sentence (:func:`backfire_table`:
    the draws where B makes one or more backfire outcomes worse, over the same
    denominator as its parts), which names the outcomes it does not count. A
    first sentence says so when A and B differ in the world without the policy
    too. For a model without headlines, one sentence per output that differs.
    The command line, the report and docs/findings.md print these sentences.
    """
    differences = outputs(comparison)
    outcomes = [o for o in policy_outcomes(str(comparison.attrs.get("model"))) if o.output in differences]
    sentences = [_policy_sentence(comparison)] if {"a", "b"} <= set(comparison.children) else []
    moved = [(d.name, d.changed_share()) for d in (_Difference(comparison, n, differences)
                                                   for n in differences.data_vars)
             if d.without_policy and not d.same_in_every_draw()]
    if moved:
        listed = ", ".join(f"{name} in {percent(share)} of draws" for name, share in moved)
        sentences.append(f"A and B differ in the world without the policy too ({listed}): they differ in more than "
                         "their policy, and the sentences below mix the policy's effect with that difference.")
    if not outcomes:
        table = compare_summary(comparison)
        sentences += [_output_sentence(_Difference(comparison, name)) for name in table.index
                      if not table.loc[name, "left_out"]]
        return sentences or ["A and B give the same value of every output in every draw."]
    backfires = [o for o in outcomes if o.backfire]
    for outcome in outcomes:
        sentence = _headline_sentence(comparison, outcome)
        if sentence:
            sentences.append(sentence)
        if backfires and outcome is backfires[-1]:
            selected, where = _given(comparison, backfires[0])
            sentences.append(backfire_sentence(
                {o.output: _Difference(comparison, o.output, differences).values for o in backfires},
                outcomes, subject="B", selected=selected, where=where))
    return sentences


def _policy_sentence(comparison: xr.DataTree) -> str:
    """What is compared, in words and numbers from each scenario's priors (:func:`policy_in_words`)."""
    from .._results import scenario_name

    described = []
    for label in ("b", "a"):
        attrs = {"model": comparison.attrs.get("model"), **comparison[label].attrs}
        name = scenario_name(str(comparison.attrs.get(f"scenario_{label}", attrs.get("priors_source", ""))))
        described.append(f"{label.upper()} = {name}: {policy_in_words(attrs)}")
    return (f"Policy compared: {described[0]}; against {described[1]}. Every share below averages over the "
            "ranges of this policy's priors (and of everything else uncertain), draw by draw.")


def _size(values: np.ndarray, difference: _Difference) -> str:
    """How large a set of moves is: the median and the 95th percentile of their finite sizes."""
    magnitude = np.abs(values[np.isfinite(values)])
    if not magnitude.size:
        return "each to or from never"
    return (f"by a median {difference.text(float(np.median(magnitude)))}, {SIZE_QUANTILE:.0%} of them by at most "
            f"{difference.text(float(np.quantile(magnitude, SIZE_QUANTILE)))}")


def _given(comparison: xr.DataTree, outcome: Outcome) -> tuple[np.ndarray | None, str]:
    """The draws an outcome is counted over (its ``given`` flag 1 in both A and B; None: every draw),
    and those draws in words: "where the cap starts before TAI ... in both A and B (62% of all draws)"."""
    if not (outcome.given and {"a", "b"} <= set(comparison.children)):
        return None, ""
    given = [np.asarray(comparison[f"{label}/{OUTPUTS_GROUP}"][outcome.given].values).ravel() == 1
             for label in ("a", "b")]
    selected = given[0] & given[1]
    return selected, (f"where {outcome.given_phrase or outcome.given} in both A and B "
                      f"({percent(float(np.mean(selected)))} of all draws)")


def _headline_sentence(comparison: xr.DataTree, outcome: Outcome) -> str | None:
    difference = _Difference(comparison, outcome.output)
    selected, opening = np.ones(difference.values.size, bool), "B"
    given, where = _given(comparison, outcome)
    if given is not None:
        selected, opening = given, f"{where[0].upper()}{where[1:]}, B"
    move = moves(difference.values, outcome.direction, outcome.tolerance)
    compared = selected & move.defined
    count = int(compared.sum())
    if not count:
        return None  # nothing to say (no evaders, say): the table says why
    of = f"of the {count:,} draws compared" if count < difference.values.size else f"of all {count:,} draws"
    found = [(np.count_nonzero(chosen) / count, phrase, chosen)
             for phrase, chosen in ((outcome.worse, move.worse & compared), (outcome.better, move.better & compared))
             if chosen.any()]
    found.sort(key=lambda item: -item[0])  # the larger share first
    tail = _left_out_tail(int(selected.sum()) - count, difference.undefined)
    if not found:
        return (f"{opening} changes {outcome.output} by at most {difference.text(difference.tolerance)} in every "
                f"one {of}.{tail}")
    parts = [f"{phrase} in {percent(share)}{f' {of}' if k == 0 else ''} "
             f"({_size(difference.values[chosen], difference)})" for k, (share, phrase, chosen) in enumerate(found)]
    same = 1 - sum(share for share, _, _ in found)
    same_part = f"; A and B are {difference.same_text()} in {percent(same)}" if same > 1e-12 else ""
    # The one number to quote for the quantity: the median change over every draw with a difference,
    # zeros included: the table's median, over all draws even where the shares above are conditional.
    # The medians in brackets are of the moves only, and say so.
    every = move.defined
    median = float(np.median(difference.values[every]))
    unchanged = np.count_nonzero(move.same) / np.count_nonzero(every)
    over = (f"all {int(every.sum()):,} draws" if every.all() else
            f"the {int(every.sum()):,} draws with a difference")
    quoted = (f" The median change in {outcome.output} over {over} (the table's median) is "
              f"{'+' if median > 0 else ''}{difference.text(median)}, with no change (within the tolerance) in "
              f"{percent(unchanged)} of them.")
    return f"{opening} {'; it '.join(parts)}{same_part}.{quoted}{tail}"


def backfire_sentence(differences: dict[str, np.ndarray], outcomes, subject: str = "the policy",
                      selected: np.ndarray | None = None, where: str = "") -> str:
    """The backfire of :func:`backfire_table` in words: the share of draws where ``subject`` makes one or
    more backfire outcomes worse, then each part, all over the same stated denominator (the
    ``selected`` draws, ``where`` in words); then the outcomes that are not counted as a backfire."""
    table = backfire_table(differences, tuple(outcomes), selected)
    backfires = [o for o in outcomes if o.backfire and o.output in differences]
    others = [o.worse for o in outcomes if not o.backfire]
    total = table.loc["backfire"]
    draws = int(total["draws"])
    phrases = " or ".join(o.worse for o in backfires)
    parts = []
    for o in backfires:
        row = table.loc[o.output]
        units = UNIT_WORDS.get(o.units, o.units)
        size = (f" (by a median {_quantity(row['median_size'], units)}, {SIZE_QUANTILE:.0%} of them by at most "
                f"{_quantity(row['q95_size'], units)})" if np.isfinite(row["median_size"]) else "")
        parts.append(f"{o.worse} in {percent(row['share'])}{size}" if row["count"] else
                     f"never {o.worse} by more than {_quantity(o.tolerance, units)}")
    considered = len(next(iter(differences.values()))) if selected is None else int(np.count_nonzero(selected))
    left = considered - draws
    of = f"of all {draws:,} draws" if not left and selected is None else f"of the {draws:,} draws compared"
    left_out = (f" ({left:,} {'draw' if left == 1 else 'draws'} without a difference to compare in one or more "
                f"of these outcomes {'is' if left == 1 else 'are'} left out.)" if left else "")
    not_counted = (f" Not counted as a backfire, each on its own line: {subject} {'; '.join(others)}."
                   if others else "")
    return (f"Backfire (the policy makes the world worse on a headline outcome: {subject} {phrases}): "
            f"{where + ', ' if where else ''}in {percent(total['share'])} {of}, {subject} does one or more of these; "
            f"it {', and '.join(parts)}.{left_out}{not_counted}")


def _output_sentence(difference: _Difference) -> str:
    """One output of a model without headlines: how often B is higher, lower or the same."""
    finite = difference.finite()
    shares = _shares(difference)
    higher, lower = shares["higher"], shares["lower"]
    direction = f" ({difference.direction} is worse)" if difference.direction else ""
    tail = _left_out_tail(int(np.count_nonzero(np.isnan(difference.values))))
    return (f"{difference.name}{direction}: higher with B than with A in {percent(higher)} of draws, lower in "
            f"{percent(lower)}, {difference.same_text()} in {percent(1 - higher - lower)}; the median change is "
            f"{difference.text(float(np.median(finite)))}.{tail}")


def _left_out_tail(count: int, why: str = "") -> str:
    """The note on draws left out of a sentence, with why an output can have no value (say, no evaders)."""
    if not count:
        return ""
    one = count == 1
    because = f": {why}" if why else ""
    return (f" ({count:,} {'draw' if one else 'draws'} without a difference to compare "
            f"{'is' if one else 'are'} left out{because}.)")


def percent(share: float) -> str:
    """A share as a percentage a reader can quote: 1.3%, 0.13%, 0.04%, 100%."""
    percent = 100 * share
    if percent in (0, 100):
        return f"{percent:.0f}%"
    if percent < 1:
        return f"{percent:.2g}%"
    if percent > 99.9:
        return "over 99.9%"
    return f"{percent:.1f}%"


def _quantity(x: float, units: str) -> str:
    """Two or three significant figures and the units: 1.9 years, 0.42 OOM, 2040 years."""
    number = f"{x:.2g}" if abs(x) < 10 else f"{x:.0f}"
    if number == "1" and units == "years":
        units = "year"
    return f"{number} {units}".strip()



POLICY_MODELS = ("trajectory",)
"""Models whose runs hold a default and a policy world (:func:`policy_shares`)."""
FASTER_TOLERANCE = 0.01
"""OOM/yr by which growth after the cap must exceed the default world's, in the same years, to count as
faster (the tolerance the model declares for growth rates)."""
SHARE_LABELS = {
    "backfire": "backfire: TAI earlier or less time in the danger band (one or more)",
    "tai_earlier": "  TAI earlier than without the cap",
    "tai_earlier_median_years": "    by a median of (years)",
    "danger_band_shorter": "  less time in the danger band than without the cap",
    "danger_band_shorter_median_years": "    by a median of (years)",
    "faster_growth_after": "mechanism, not a backfire: growth after the cap faster than without it",
    "faster_growth_median_oom_per_year": "    by a median of (OOM/yr)",
    "cap_binds": "the cap binds (withholds growth at some step)",
    "cap_ends_before_tai": "the cap ends before the default world reaches TAI",
}
"""The columns of :func:`policy_shares`, as a reader names them (the words of docs/outcomes.md)."""
SHARE_DENOMINATORS = {
    "backfire": "draws_compared", "tai_earlier": "draws_compared", "danger_band_shorter": "draws_compared",
    "faster_growth_after": "draws", "cap_binds": "draws", "cap_ends_before_tai": "draws",
}
"""Each share's denominator: the backfire and its parts over the same draws (those where the cap starts
before TAI without it and both worlds' TAI year and danger band can be compared), the others over all
draws."""


def _difference(policy: np.ndarray, default: np.ndarray) -> np.ndarray:
    """policy - default, 0 where they are equal (inf and inf included: neither reaches the threshold)."""
    with np.errstate(invalid="ignore"):
        return np.where(policy == default, 0.0, policy - default)


def _default_twin(name: str) -> str:
    """The default world's output that a policy world's output is compared with: X_policy -> X_default."""
    return name.replace("_policy", "_default")


def policy_shares(results: xr.DataTree, faster_tolerance: float = FASTER_TOLERANCE) -> pd.Series:
    """The policy world's headline shares in one trajectory run, the policy world against the default
    world draw by draw (both worlds of a draw share its random numbers).

    * ``backfire``: the share of draws where the cap makes one or more backfire outcomes worse
      (:func:`policy_outcomes`: TAI earlier, or less time in the danger band, each by more than the
      tolerance the model declares), with its parts ``tai_earlier`` and ``danger_band_shorter`` and
      their median sizes in years, all over the same denominator ``draws_compared``: the draws where
      the cap starts before TAI in the default world (the model's ``given`` flag of these outcomes:
      a cap that starts after TAI cannot move it) and both outcomes can be compared (not NaN; a world reaching TAI by 2100 when the other does not
      is a move). Counted by :func:`backfire_table`, as in every comparison.
    * ``faster_growth_after``: the mechanism, never a backfire: the frontier grows faster in the five
      years after the cap than the default world in the same years, by more than ``faster_tolerance``
      OOM/yr, with the median excess; over all ``draws``.
    * ``cap_binds`` (the cap withheld growth at some step) and ``cap_ends_before_tai`` (it ended
      before the default world reached TAI), over all ``draws``.

    :func:`overhang_jax.sweep_shares` gives them at each value of a sweep.
    """
    from .._results import ResultsError

    if results.attrs.get("model") not in POLICY_MODELS or results.attrs.get("kind", "run") != "run":
        raise ResultsError(f"policy_shares reads one run of the {', '.join(POLICY_MODELS)} model, not a "
                           f"{results.attrs.get('kind', 'run')} of '{results.attrs.get('model')}'"
                           + ("; for a sweep, use sweep_shares" if results.attrs.get("kind") == "sweep" else ""))
    data = outputs(results)

    def column(name: str) -> np.ndarray:
        return np.asarray(data[name].values, np.float64).ravel()

    outcomes = policy_outcomes(str(results.attrs["model"]))
    with np.errstate(invalid="ignore"):
        # Equal values (both worlds never reaching TAI: inf and inf) are no change, as in a comparison.
        differences = {o.output: _difference(column(o.output), column(_default_twin(o.output)))
                       for o in outcomes if o.backfire}
        excess = column("max_growth_after_end") - column("max_growth_default")
    givens = {o.given for o in outcomes if o.backfire and o.given and o.given in data}
    selected = np.logical_and.reduce([column(g) == 1 for g in givens]) if givens else None
    table = backfire_table(differences, outcomes, selected)
    faster = excess > faster_tolerance
    draws = excess.size

    def quantile(values: np.ndarray, q: float) -> float:
        return float(np.quantile(values, q)) if values.size else np.nan

    return pd.Series({
        "backfire": table.loc["backfire", "share"],
        "tai_earlier": table.loc["tai_year_policy", "share"],
        "tai_earlier_median_years": table.loc["tai_year_policy", "median_size"],
        "danger_band_shorter": table.loc["danger_band_years_policy", "share"],
        "danger_band_shorter_median_years": table.loc["danger_band_years_policy", "median_size"],
        "faster_growth_after": np.count_nonzero(faster) / draws,
        "faster_growth_median_oom_per_year": quantile(excess[faster], 0.5),
        "cap_binds": np.count_nonzero(column("cap_binds") == 1) / draws,
        "cap_ends_before_tai": np.count_nonzero(column("cap_ends_before_tai") == 1) / draws,
        "draws_compared": float(table.loc["backfire", "draws"]),
        "draws": float(draws),
    })


def _range_words(dist, units: str = "", form: str = "{:g}") -> tuple[str, bool]:
    """A prior as a range a reader can quote: its whole range when it is bounded by construction (a
    point, a uniform, a mixture of those), else its central 90%; and whether it is the 90% range."""
    import jax.numpy as jnp

    from ..priors._distributions import LogUniform, Mixture, Point, Uniform

    bounded = (Point, Uniform, LogUniform)
    whole = isinstance(dist, bounded) or (isinstance(dist, Mixture)
                                          and all(isinstance(c, bounded) for c in dist.components))
    if dist.is_point:
        return f"{form.format(dist.point_value)}{units}", False
    lo, hi = (float(x) for x in np.asarray(dist.ppf(jnp.asarray([0.0, 1.0] if whole else [0.05, 0.95]))))
    low, high = form.format(lo), form.format(hi)
    return (f"{low}{units}" if low == high else f"{low}-{high}{units}"), not whole


def _point_share(dist, value: float) -> float:
    """The prior probability of exactly ``value`` (a point, or a mixture's point components)."""
    from ..priors._distributions import Mixture

    if dist.is_point:
        return float(dist.point_value == value)
    if isinstance(dist, Mixture):
        total = sum(dist.weights)
        return sum(w for c, w in zip(dist.components, dist.weights)
                   if c.is_point and c.point_value == value) / total
    return 0.0


POLICY_PARAMETERS = {
    "trajectory": ("t_cap", "cap_headroom", "P_cap", "g_cap", "D", "p_sudden", "g_lift", "beta", "pause_deployment",
                   "e_share", "h", "alpha", "kappa", "k_max", "rho"),
    "ftm": ("cap_start_year", "cap_years", "cap_log10_flop", "cap_growth", "cap_gradual_lift", "cap_lift_growth",
            "catch_up"),
}
"""Per model, the parameters that describe the policy and what follows it (catch-up, evaders): the
priors a report shows first, since every headline averages over them."""
ASSUMPTIONS = {
    "trajectory": ("alpha", "kappa", "rho", "beta", "h", "p_sudden", "g_lift", "D", "t_cap"),
}
"""Per model, the policy and catch-up priors with no empirical source: judgement, marked as an
assumption in the priors file, docs/trajectory.md and the report."""


def policy_in_words(attrs) -> str:
    """The policy a run or scenario models, in words and numbers from its priors: "a cap at the largest
    run already trained plus 0-1 OOM (a freeze in 50% of draws), starting 2026-2030, lasting 2-15 years
    (90% of draws), repealed at once". ``attrs`` are a run's attributes (its model and ``priors_toml``);
    ranges marked "(90% of draws)" are central 90% ranges, the others the prior's whole range. Every
    comparison headline opens with it, so a figure is never quoted without the cap it averages over."""
    from ..priors._priors import load_priors

    model, text = attrs.get("model"), attrs.get("priors_toml")
    if model not in ("trajectory", "ftm") or not text:
        return str(attrs.get("description", "")) or "the policy of its priors (see the priors below)"
    priors = load_priors(model, text=str(text))
    d = priors.distributions

    def words(name: str, units: str = "", form: str = "{:g}") -> str:
        text, central = _range_words(d[name], units, form)
        return text + (" (90% of draws)" if central else "")

    if model == "ftm":
        start = d["cap_start_year"]
        if start.is_point and start.point_value > 2099.9:
            return "no cap"
        ending = ("lifted gradually, rising " + words("cap_lift_growth", " OOM/yr") if
                  _point_share(d["cap_gradual_lift"], 1) == 1 else "lifted at once"
                  if _point_share(d["cap_gradual_lift"], 0) == 1 else "lifted at once or gradually")
        growth = "" if _point_share(d["cap_growth"], 0) == 1 else f", growing {words('cap_growth', ' OOM/yr')}"
        return (f"a cap on the largest training run at 10^{words('cap_log10_flop')} FLOP{growth}, starting "
                f"{words('cap_start_year', form='{:.0f}')}, lasting {words('cap_years', ' years')}, then {ending}")
    headroom = d["cap_headroom"]
    relative = not (headroom.is_point and headroom.point_value >= 100)  # 1000 OOM of headroom: none
    absolute = not (d["P_cap"].is_point and d["P_cap"].point_value >= 100)
    if not (relative or absolute) or (d["t_cap"].is_point and d["t_cap"].point_value > 2100):
        return "no cap"
    if relative:
        height = f"a cap at the largest run already trained plus {words('cap_headroom', ' OOM')}"
        freeze = _point_share(headroom, 0)
        if 0 < freeze < 1:
            height += f" (a freeze in {freeze:.0%} of draws)"
        if absolute:
            height += f", or at 10^{words('P_cap')} FLOP if lower"
    else:
        height = f"a cap at 10^{words('P_cap')} FLOP (never below the largest run already trained)"
    if _point_share(d["g_cap"], 0) < 1:
        height += f", rising {words('g_cap', ' OOM/yr')}"
    sudden = d["p_sudden"]
    lift = f"lifted gradually, rising at {words('g_lift', form='{:.0%}')} of the uncapped world's pace"
    if sudden.is_point and sudden.point_value == 1:
        ending = "repealed at once"
    elif sudden.is_point and sudden.point_value == 0:
        ending = lift
    else:
        ending = f"repealed at once (probability {words('p_sudden')}) or else {lift}"
    return (f"{height}, starting {words('t_cap', form='{:.0f}')}, lasting {words('D', ' years', '{:.2g}')}, "
            f"{ending}")
