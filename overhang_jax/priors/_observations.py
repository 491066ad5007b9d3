"""Observations: what has been seen since the priors were set, as data a run is conditioned on.

An observations file (TOML) lists entries, each naming a quantity a model
declares observable (``Model.observables``), when it was observed, and how
precisely:

* ``value`` and ``sd``: a normal likelihood of the quantity (in its units; a
  log10 FLOP quantity is observed in logs), or Student-t with ``df`` as well;
* ``lower`` and/or ``upper``: an interval (censoring: "takeoff had not begun by
  2026.9" is ``lower = 2026.9`` on ``takeoff_year``), with hard edges, or soft
  ones with ``edge`` (the sd of a normal CDF at each edge);
* ``growth = [t0, t1]`` instead of ``year``: the quantity's average growth per
  year between t0 and t1 (OOM/yr for a log10 quantity), with either
  likelihood.

Every check runs when the file loads, before any compute; its error is one
line naming the file, the entry and the field. The checked entries become a
table of numbers (:meth:`Observations.table`) that the runner passes to its
compiled chunk as an argument, so a new set of observations compiles nothing
new; :func:`log_likelihood` evaluates it on a chunk's draws.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..models._registry import MODEL_MODULES, OBSERVATIONS_DIR
from ..models._schema import Model, Observable
from ._priors import PriorsError

LIKELIHOODS = ("normal", "student_t", "interval")
"""Likelihood kinds, by their code in :meth:`Observations.table`."""
TABLE_COLUMNS = ("observable", "t0", "t1", "growth", "likelihood", "a", "b", "c")
"""Columns of the table passed to the compiled chunk: the observable's index in the model's list;
the years (t0 = t1 for a level); 1 for a growth; the likelihood's code; its numbers (normal: value,
sd, -; student_t: value, scale, df; interval: lower, upper, edge)."""
MAX_OBSERVATIONS = 64
ENTRY_KEYS = {"name", "quantity", "year", "growth", "value", "sd", "df", "lower", "upper", "edge", "source",
              "uncertainty", "models"}
FILE_KEYS = {"description", "models", "observation", "sources", "note"}


class ObservationsError(PriorsError):
    """An observations file that cannot be used; the message names the file, the entry and the field."""


@dataclasses.dataclass(frozen=True)
class Observation:
    """One checked entry of an observations file."""

    name: str
    quantity: str
    likelihood: str
    years: tuple[float, float]
    """(t, t) for a level at year t; (t0, t1) for a growth; (nan, nan) for a quantity read once per draw."""
    growth: bool
    numbers: tuple[float, float, float]
    source: str = ""
    uncertainty: str = ""
    models: tuple[str, ...] = ()
    """Models it applies to; empty: every model of its file."""

    def describe(self, units: str) -> str:
        """The entry in words, for printouts and reports."""
        a, b, c = self.numbers
        what = (f"growth of {self.quantity} {self.years[0]:g}-{self.years[1]:g} ({units}/yr)" if self.growth
                else f"{self.quantity} in {self.years[0]:g} ({units})" if not math.isnan(self.years[0])
                else f"{self.quantity} ({units})")
        if self.likelihood == "normal":
            return f"{what} = {a:g} ± {b:g} (normal, 1 sd)"
        if self.likelihood == "student_t":
            return f"{what} = {a:g} ± {b:g} (Student-t, {c:g} degrees of freedom)"
        edge = f", soft edges of sd {c:g}" if c > 0 else ""
        if math.isinf(b):
            return f"{what} > {a:g}{edge}"
        if math.isinf(a):
            return f"{what} < {b:g}{edge}"
        return f"{what} in [{a:g}, {b:g}]{edge}"


@dataclasses.dataclass(frozen=True)
class Observations:
    """A checked observations file: its entries, and where it came from."""

    name: str
    description: str
    models: tuple[str, ...]
    entries: tuple[Observation, ...]
    source: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def for_model(self, model: Model) -> Observations:
        """The entries that apply to ``model``, each checked against what the model declares."""
        if model.name not in self.models:
            raise ObservationsError(f"{self.source}: observations for {', '.join(self.models)}, not for model "
                                    f"'{model.name}'")
        kept = tuple(e for e in self.entries if not e.models or model.name in e.models)
        if not kept:
            raise ObservationsError(f"{self.source}: no observation applies to model '{model.name}'")
        for entry in kept:
            _check_against(model, self.source, entry)
        return dataclasses.replace(self, entries=kept, models=(model.name,))

    def table(self, model: Model) -> np.ndarray:
        """The entries as numbers (rows of TABLE_COLUMNS, float64), for the compiled chunk."""
        index = [o.name for o in model.observables]
        rows = [(index.index(e.quantity), *e.years, float(e.growth), LIKELIHOODS.index(e.likelihood), *e.numbers)
                for e in self.entries]
        return np.asarray(rows, np.float64).reshape(len(rows), len(TABLE_COLUMNS))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)


def shipped_observations() -> dict[str, Path]:
    """Observation sets shipped with the package, by name."""
    return {p.stem: p for p in sorted(OBSERVATIONS_DIR.glob("*.toml"))}


def observation_headers() -> dict[str, tuple[tuple[str, ...], str, Path]]:
    """Each shipped observation set by name: (its models, its description, its file)."""
    headers = {}
    for name, path in shipped_observations().items():
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        headers[name] = (tuple(document.get("models", ())), str(document.get("description", "")), path)
    return headers


def observation_sets(model=None):
    """The shipped observation sets (of ``model``, a name or a Model, or all): a table indexed by name
    with each one's models, description and file. Pass a name to ``observe=`` of
    :func:`overhang_jax.run` or :func:`overhang_jax.compare`; docs/observations.md gives the sources."""
    import pandas as pd

    wanted = getattr(model, "name", model)
    rows = {name: {"models": ", ".join(models), "description": description, "path": str(path)}
            for name, (models, description, path) in observation_headers().items()
            if wanted is None or wanted in models}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["models", "description", "path"])
    table.index.name = "observations"
    return table


def load_observations(value: str | os.PathLike | Observations | None = None, model: Model | None = None, *,
                      text: str | None = None) -> Observations:
    """Read and check an observations file (a path or a shipped set's name), or TOML ``text``; with
    ``model`` (a Model or its name), keep the entries that apply to it, checked against its observables."""
    if model is not None and not isinstance(model, Model):
        from ..models._registry import get_model

        model = get_model(model)
    if text is not None:
        observations = parse_observations(text)
    elif isinstance(value, Observations):
        observations = value
    else:
        path = Path(value)
        if path.exists():
            name, source = path.stem, str(path)
        elif str(value) in shipped_observations():
            name, path = str(value), shipped_observations()[str(value)]
            source = name
        else:
            hint = difflib.get_close_matches(str(value), shipped_observations(), n=1)
            raise ObservationsError(f"observations file '{value}' not found, nor a shipped observation set"
                                    + (f" (did you mean '{hint[0]}'?)" if hint else "")
                                    + "; `overhang-jax observations` lists them")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ObservationsError(f"{source}: cannot read it ({err})") from None
        observations = parse_observations(text, name=name, source=source)
    return observations.for_model(model) if model is not None else observations


def parse_observations(text: str, *, name: str = "observations", source: str = "<observations text>"
                       ) -> Observations:
    """Check an observations document (TOML text) without a model: its form and numbers."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ObservationsError(f"{source}: not valid TOML ({err})") from None
    unknown = set(document) - FILE_KEYS
    if unknown:
        raise ObservationsError(f"{source}: unknown key '{sorted(unknown)[0]}'; an observations file has "
                                f"{', '.join(sorted(FILE_KEYS))}")
    models = document.get("models")
    if (not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models)):
        raise ObservationsError(f"{source}: 'models' must list the models the observations are of, for example "
                                "models = [\"trajectory\"]")
    for model in models:
        if model not in MODEL_MODULES:
            raise ObservationsError(f"{source}: unknown model '{model}' in 'models'; choose from "
                                    f"{', '.join(MODEL_MODULES)}")
    raw = document.get("observation")
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        raise ObservationsError(f"{source}: no [[observation]] entries")
    if len(raw) > MAX_OBSERVATIONS:
        raise ObservationsError(f"{source}: {len(raw)} observations, at most {MAX_OBSERVATIONS} allowed")
    entries = tuple(_parse_entry(source, k, entry, tuple(models)) for k, entry in enumerate(raw))
    seen = set()
    for entry in entries:
        if entry.name in seen:
            raise ObservationsError(f"{source}: two observations are named '{entry.name}'")
        seen.add(entry.name)
    return Observations(name, str(document.get("description", "")), tuple(models), entries, source, text)


def _parse_entry(source: str, k: int, entry: Mapping[str, Any], models: tuple[str, ...]) -> Observation:
    label = entry.get("name", f"#{k + 1}")
    where = f"{source}: observation '{label}'"

    def fail(message: str) -> ObservationsError:
        return ObservationsError(f"{where}: {message}")

    unknown = set(entry) - ENTRY_KEYS
    if unknown:
        raise fail(f"unknown field '{sorted(unknown)[0]}'; allowed: {', '.join(sorted(ENTRY_KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise fail("'name' must be a word of letters, digits and underscores (it names a variable in the results)")
    quantity = entry.get("quantity")
    if not isinstance(quantity, str):
        raise fail("'quantity' must name what was observed, for example quantity = \"largest_training_run\"")

    def number(key: str) -> float:
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise fail(f"'{key}' must be a finite number, got {value!r}")
        return float(value)

    if "year" in entry and "growth" in entry:
        raise fail("give 'year' (a level) or 'growth = [t0, t1]' (a growth rate), not both")
    growth = "growth" in entry
    if growth:
        window = entry["growth"]
        if (not isinstance(window, list) or len(window) != 2
                or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in window)):
            raise fail("'growth' must be two years, growth = [t0, t1]")
        years = (float(window[0]), float(window[1]))
        if not years[0] < years[1]:
            raise fail(f"'growth' needs t0 < t1, got [{years[0]:g}, {years[1]:g}]")
    elif "year" in entry:
        years = (number("year"),) * 2
    else:
        years = (math.nan, math.nan)

    has_value, has_bounds = "value" in entry or "sd" in entry, "lower" in entry or "upper" in entry
    if has_value == has_bounds:
        raise fail("give either 'value' and 'sd' (a measurement) or 'lower' and/or 'upper' (an interval)")
    if has_value:
        if "value" not in entry or "sd" not in entry:
            raise fail("a measurement needs both 'value' and 'sd'")
        for key in ("lower", "upper", "edge"):
            if key in entry:
                raise fail(f"'{key}' belongs to an interval, not a measurement with 'value' and 'sd'")
        value, sd = number("value"), number("sd")
        if sd <= 0:
            raise fail(f"'sd' must be > 0, got {sd:g}")
        if "df" in entry:
            df = number("df")
            if df <= 0:
                raise fail(f"'df' must be > 0, got {df:g}")
            likelihood, numbers = "student_t", (value, sd, df)
        else:
            likelihood, numbers = "normal", (value, sd, 0.0)
    else:
        if "df" in entry:
            raise fail("'df' belongs to a measurement with 'value' and 'sd', not an interval")
        lower = number("lower") if "lower" in entry else -math.inf
        upper = number("upper") if "upper" in entry else math.inf
        if not lower < upper:
            raise fail(f"needs lower < upper, got [{lower:g}, {upper:g}]")
        edge = number("edge") if "edge" in entry else 0.0
        if edge < 0:
            raise fail(f"'edge' must be >= 0 (0: hard edges), got {edge:g}")
        likelihood, numbers = "interval", (lower, upper, edge)
    of = entry.get("models", [])
    if not isinstance(of, list) or not all(isinstance(m, str) and m in models for m in of):
        raise fail(f"'models' must list some of the file's models ({', '.join(models)}), got {of!r}")
    text = {key: entry.get(key, "") for key in ("source", "uncertainty")}
    for key, value in text.items():
        if not isinstance(value, str):
            raise fail(f"'{key}' must be text")
    return Observation(name, quantity, likelihood, years, growth, numbers, text["source"], text["uncertainty"],
                       tuple(of))


def _check_against(model: Model, source: str, entry: Observation) -> None:
    """An entry against the model's observables: a known quantity, a year in the model's span, a
    possible value."""
    where = f"{source}: observation '{entry.name}'"
    known = {o.name: o for o in model.observables}
    if entry.quantity not in known:
        choices = ", ".join(known) or "none"
        raise ObservationsError(f"{where}: model '{model.name}' has no observable quantity '{entry.quantity}'; "
                                f"its observables: {choices}")
    observable: Observable = known[entry.quantity]
    timed = not math.isnan(entry.years[0])
    if observable.at_year and not timed:
        raise ObservationsError(f"{where}: '{entry.quantity}' is a yearly series: give 'year' or 'growth'")
    if not observable.at_year and timed:
        raise ObservationsError(f"{where}: '{entry.quantity}' has one value per draw: give no 'year' or "
                                "'growth' (bound the value itself, say lower = 2026.9 for 'not before 2026.9')")
    if timed:
        coords = model.trajectories.coords
        for year in entry.years:
            if not coords[0] <= year <= coords[-1]:
                raise ObservationsError(f"{where}: year {year:g} is outside model '{model.name}''s span "
                                        f"[{coords[0]:g}, {coords[-1]:g}]")
    if entry.growth:
        return  # a growth rate can take any sign
    low, high = observable.lower, observable.upper
    if entry.likelihood == "interval":
        lower, upper, _ = entry.numbers
        if upper <= low or lower >= high:
            raise ObservationsError(f"{where}: [{lower:g}, {upper:g}] lies outside the values '{entry.quantity}' "
                                    f"can take, [{low:g}, {high:g}] {observable.units}")
    elif not low <= entry.numbers[0] <= high:
        raise ObservationsError(f"{where}: value {entry.numbers[0]:g} is impossible for '{entry.quantity}', "
                                f"which lies in [{low:g}, {high:g}] {observable.units}")


# --------------------------------------------------------------------------
# The likelihood, on a chunk's draws inside the compiled function.


def observable_series(model: Model) -> tuple[str, ...]:
    """Keys a model's method returns only to be observed (neither an output nor a trajectory)."""
    kept = set(model.output_names) | set(model.trajectories.names if model.trajectories else ())
    return tuple(dict.fromkeys(o.source for o in model.observables if o.source not in kept))


def log_likelihood(model: Model, results: Mapping[str, Any], table) -> Any:
    """Each draw's log likelihood under each observation, shape (observations, draws).

    ``results`` is what the model's method returned for the chunk's draws (series of shape
    (draws, years)); ``table`` the rows of :meth:`Observations.table` (an array argument of the
    compiled function, so its numbers are data). Computed in the run's float width; a draw whose
    quantity is NaN (a draw the model leaves out) has log likelihood -inf: no weight.
    """
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import gammaln
    from jax.scipy.stats import norm

    rows = []
    first = next(iter(results.values()))
    dtype = first.dtype
    coords = jnp.asarray(model.trajectories.coords, dtype) if model.trajectories else None
    for j in range(table.shape[0]):
        row = table[j].astype(dtype)
        which, t0, t1, growth, kind, a, b, c = (row[k] for k in range(len(TABLE_COLUMNS)))

        def read(observable: Observable, t):
            values = results[observable.source]
            if not observable.at_year:
                return values
            return jax.vmap(lambda v: jnp.interp(t, coords, v))(values)

        def value_of(observable: Observable):
            if not observable.at_year:
                return read(observable, t0)
            end = read(observable, t1)
            rate = (end - read(observable, t0)) / jnp.where(t1 > t0, t1 - t0, 1)
            return jnp.where(growth > 0, rate, end)

        candidates = jnp.stack([value_of(o) for o in model.observables])
        x = candidates[which.astype(jnp.int32)]
        z = (x - a) / b
        normal = -0.5 * z * z - jnp.log(b) - 0.5 * math.log(2 * math.pi)
        student = (gammaln((c + 1) / 2) - gammaln(c / 2) - 0.5 * jnp.log(c * math.pi) - jnp.log(b)
                   - (c + 1) / 2 * jnp.log1p(z * z / jnp.where(c > 0, c, 1)))
        inside = (x >= a) & (x <= b)
        soft = c > 0
        width = jnp.where(soft, c, 1)
        # A soft edge at each end: the product of two normal CDFs (each 1 at an infinite bound).
        # (An infinite bound adds 0, also where x is infinite: a takeoff never reached is after any year.)
        soft_edges = (jnp.where(jnp.isinf(a), 0.0, norm.logcdf((x - a) / width))
                      + jnp.where(jnp.isinf(b), 0.0, norm.logcdf((b - x) / width)))
        interval = jnp.where(soft, soft_edges, jnp.where(inside, 0.0, -jnp.inf))
        ll = jnp.select([kind == 0, kind == 1], [normal, student], interval)
        rows.append(jnp.where(jnp.isnan(ll), -jnp.inf, ll).astype(dtype))
    return jnp.stack(rows) if rows else jnp.zeros((0, first.shape[0]), dtype)
