"""Paired comparisons of two scenarios: the table, the headline sentences and the policy
world's shares, all from one set of computed shares per output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .._results import OUTPUTS_GROUP, outputs
from ._summaries import summary

SIZE_QUANTILE = 0.95
"""How large a move is, besides its median: this quantile of its size (the maximum can be absurd)."""
UNIT_WORDS = {"yr": "years", "year": "years", "1": ""}


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
    shares = {name: _shares(everything[name]) for name in names}
    for name in unchanged:  # the default world, unchanged by construction: not scored
        shares[name].update(p_b_worse=np.nan, p_b_better=np.nan)
    table.insert(1, "worse", [everything[n].direction for n in names])
    table.insert(2, "tolerance", [everything[n].tolerance for n in names])
    for column in ("p_b_worse", "p_equal", "p_b_better"):
        table.insert(len(table.columns) - 1, column, [shares[n][column] for n in names])
    table["left_out"] = [left_out.get(n, "") for n in names]
    return table


def _shares(difference: _Difference) -> dict[str, float]:
    """Shares of the finite draws where B is above A by more than the tolerance, below it, within it,
    and which of those is worse and better (NaN for an output without a direction)."""
    finite = np.isfinite(difference.values)
    n = max(int(finite.sum()), 1)
    higher = np.count_nonzero(difference.higher() & finite) / n
    lower = np.count_nonzero(difference.lower() & finite) / n
    shares = {"higher": higher, "lower": lower, "p_equal": 1 - higher - lower if finite.any() else np.nan,
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
    shown["not finite"] = [f"{int(x):,}" for x in table["nonfinite"]]
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

    For a model with headlines (``Model.headlines``): one sentence per
    headline output, how often B moves it the worse and the better way by
    more than its tolerance, by a median and a 95th-percentile amount, and
    how often A and B are within the tolerance; then the backfire share,
    the draws where B moves any backfire output the worse way (brings TAI
    earlier, or makes growth after the cap faster). A first sentence says so
    when A and B differ in the world without the policy too. For a model
    without headlines, one sentence per output that differs. The command
    line and the report print these sentences; the numbers are those of
    :func:`compare_summary`'s shares.
    """
    differences = outputs(comparison)
    headlines = [h for h in _headlines(comparison) if h.output in differences]
    sentences = []
    moved = [(d.name, d.changed_share()) for d in (_Difference(comparison, n, differences)
                                                   for n in differences.data_vars)
             if d.without_policy and not d.same_in_every_draw()]
    if moved:
        listed = ", ".join(f"{name} in {percent(share)} of draws" for name, share in moved)
        sentences.append(f"A and B differ in the world without the policy too ({listed}): they differ in more than "
                         "their policy, and the sentences below mix the policy's effect with that difference.")
    if not headlines:
        table = compare_summary(comparison)
        sentences += [_output_sentence(_Difference(comparison, name)) for name in table.index
                      if not table.loc[name, "left_out"]]
        return sentences or ["A and B give the same value of every output in every draw."]
    backfires = [h for h in headlines if h.backfire]
    for headline in headlines:
        sentence = _headline_sentence(comparison, headline)
        if sentence:
            sentences.append(sentence)
        if backfires and headline is backfires[-1]:
            sentences.append(_backfire_sentence(comparison, backfires))
    return sentences


def _size(values: np.ndarray, difference: _Difference) -> str:
    """How large a set of moves is: the median and the 95th percentile of their size."""
    magnitude = np.abs(values)
    return (f"by a median {difference.text(float(np.median(magnitude)))}, {SIZE_QUANTILE:.0%} of them by at most "
            f"{difference.text(float(np.quantile(magnitude, SIZE_QUANTILE)))}")


def _headline_sentence(comparison: xr.DataTree, headline) -> str | None:
    difference = _Difference(comparison, headline.output)
    selected, opening, of = np.ones(difference.values.size, bool), "B", "of draws"
    if headline.given and {"a", "b"} <= set(comparison.children):
        given = [np.asarray(comparison[f"{label}/{OUTPUTS_GROUP}"][headline.given].values).ravel() == 1
                 for label in ("a", "b")]
        selected = given[0] & given[1]
        opening = (f"Where {headline.given_phrase or headline.given} in both A and B "
                   f"({percent(float(np.mean(selected)))} of draws), B")
        of = "of them"
    finite = selected & np.isfinite(difference.values)
    count = int(finite.sum())
    if not count:
        return None  # nothing to say (no evaders, say): the table says why
    moves = [(np.count_nonzero(chosen) / count, phrase, chosen)
             for phrase, chosen in ((headline.worse, difference.worse() & finite),
                                    (headline.better, difference.better() & finite)) if chosen.any()]
    moves.sort(key=lambda move: -move[0])  # the larger share first
    tail = _left_out_tail(int(selected.sum()) - count, difference.undefined)
    if not moves:
        return (f"{opening} changes {headline.output} by at most {difference.text(difference.tolerance)} in every "
                f"draw.{tail}")
    parts = [f"{phrase} in {percent(share)}{f' {of}' if k == 0 else ''} "
             f"({_size(difference.values[chosen], difference)})" for k, (share, phrase, chosen) in enumerate(moves)]
    same = 1 - sum(share for share, _, _ in moves)
    same_part = f"; A and B are {difference.same_text()} in {percent(same)}" if same > 1e-12 else ""
    return f"{opening} {'; it '.join(parts)}{same_part}.{tail}"


def _backfire_sentence(comparison: xr.DataTree, backfires) -> str:
    """The draws where B moves any backfire output the worse way, and how far it moves each."""
    moved, never, any_worse = [], [], None
    for headline in backfires:
        difference = _Difference(comparison, headline.output)
        worse = difference.worse() & np.isfinite(difference.values)
        any_worse = worse if any_worse is None else any_worse | worse
        if worse.any():
            share = np.count_nonzero(worse) / np.count_nonzero(np.isfinite(difference.values))
            moved.append(f"{headline.worse} in {percent(share)} of draws "
                         f"({_size(difference.values[worse], difference)})")
        else:
            never.append(f"{headline.worse} by more than {difference.text(difference.tolerance)}")
    draws = any_worse.size
    if not moved:
        return f"Backfire: in none of the {draws:,} draws does B {' or '.join(phrase for phrase in never)}."
    tail = f", and never {' or '.join(never)}" if never else ""
    return (f"Backfire: B {', or '.join(moved)}{tail}; one or more of these in "
            f"{percent(np.count_nonzero(any_worse) / draws)} of all {draws:,} draws.")


def _output_sentence(difference: _Difference) -> str:
    """One output of a model without headlines: how often B is higher, lower or the same."""
    finite = difference.finite()
    shares = _shares(difference)
    higher, lower = shares["higher"], shares["lower"]
    direction = f" ({difference.direction} is worse)" if difference.direction else ""
    tail = _left_out_tail(difference.values.size - finite.size)
    return (f"{difference.name}{direction}: higher with B than with A in {percent(higher)} of draws, lower in "
            f"{percent(lower)}, {difference.same_text()} in {percent(1 - higher - lower)}; the median change is "
            f"{difference.text(float(np.median(finite)))}.{tail}")


def _left_out_tail(count: int, why: str = "") -> str:
    """The note on draws left out of a sentence, with why an output can have no value (say, no evaders)."""
    if not count:
        return ""
    one = count == 1
    because = f": {why}" if why else ""
    return (f" ({count:,} {'draw' if one else 'draws'} without a finite difference {'is' if one else 'are'} left "
            f"out{because}.)")


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
BACKFIRE_TOLERANCE = 0.05
"""Years by which TAI must come earlier with the cap to count as a backfire (tai_delay below minus this):
a twentieth of a year, half the model's time step, so that float rounding is never a backfire."""
FASTER_TOLERANCE = 0.01
"""OOM/yr by which growth after the cap must exceed the default world's, in the same years, to count as
faster."""
SHARE_LABELS = {
    "cap_binds": "the cap binds (withholds growth at some step)",
    "cap_ends_before_tai": "the cap ends before the default world reaches TAI",
    "backfire": f"backfire: TAI earlier than without the cap (by > {BACKFIRE_TOLERANCE:g} yr)",
    "backfire_median_years": "  backfire, median size (yr)",
    "backfire_q95_years": "  backfire, 95th percentile of its size (yr)",
    "faster_growth_after": f"growth after the cap faster than without it (by > {FASTER_TOLERANCE:g} OOM/yr)",
    "faster_growth_median_oom_per_year": "  faster growth, median excess (OOM/yr)",
}
"""The columns of :func:`policy_shares`, as a reader names them."""


def policy_shares(results: xr.DataTree, backfire_tolerance: float = BACKFIRE_TOLERANCE,
                  faster_tolerance: float = FASTER_TOLERANCE) -> pd.Series:
    """The policy world's headline shares in one trajectory run, each over all its draws.

    Both worlds of a draw share its random numbers, so each share compares the
    policy world with the default world draw by draw:

    * ``cap_binds``: the cap withheld growth at some step;
    * ``cap_ends_before_tai``: it ended before the default world reached TAI;
    * ``backfire``: the policy world reaches TAI earlier than the default world,
      by more than ``backfire_tolerance`` years (``tai_delay`` below minus it; a
      policy world reaching TAI by 2100 when the default world does not counts
      too), with the size of the backfire in years (median and 95th
      percentile over the backfire draws with a finite delay; NaN when none);
    * ``faster_growth_after``: the frontier grows faster in the five years after
      the cap than the default world in the same years, by more than
      ``faster_tolerance`` OOM/yr, with the median excess.

    :func:`overhang_jax.sweep_shares` gives them at each value of a sweep.
    """
    from .._results import ResultsError

    if results.attrs.get("model") not in POLICY_MODELS or results.attrs.get("kind", "run") != "run":
        raise ResultsError(f"policy_shares reads one run of the {', '.join(POLICY_MODELS)} model, not a "
                           f"{results.attrs.get('kind', 'run')} of '{results.attrs.get('model')}'"
                           + ("; for a sweep, use sweep_shares" if results.attrs.get("kind") == "sweep" else ""))
    data = outputs(results)

    def column(name: str) -> np.ndarray:
        return np.asarray(data[name].values, np.float64)

    delay = column("tai_delay")
    backfire = delay < -backfire_tolerance  # NaN (neither world reaches TAI) is no backfire
    size = -delay[backfire & np.isfinite(delay)]
    with np.errstate(invalid="ignore"):
        excess = column("max_growth_after_end") - column("max_growth_default")
    faster = excess > faster_tolerance
    draws = delay.size

    def quantile(values: np.ndarray, q: float) -> float:
        return float(np.quantile(values, q)) if values.size else np.nan

    return pd.Series({
        "cap_binds": np.count_nonzero(column("cap_binds") == 1) / draws,
        "cap_ends_before_tai": np.count_nonzero(column("cap_ends_before_tai") == 1) / draws,
        "backfire": np.count_nonzero(backfire) / draws,
        "backfire_median_years": quantile(size, 0.5),
        "backfire_q95_years": quantile(size, 0.95),
        "faster_growth_after": np.count_nonzero(faster) / draws,
        "faster_growth_median_oom_per_year": quantile(excess[faster], 0.5),
    })
