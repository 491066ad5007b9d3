"""Given parameter sets evaluated on the runner (``overhang-jax eval``, :func:`overhang_jax.evaluate`).

Samples made elsewhere (another tool's posterior, a design of experiments,
the parameters of an earlier run) go through the same chunked, sharded
computation as a run's draws, with draw i = row i of the table: the results
have the layout of a run, and the parameters of a run evaluated this way give
that run's outputs bit for bit. Every check runs before any compute.
"""

from __future__ import annotations

import csv
import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import RunError
from ..models._schema import Model, Ordered
from ..models._registry import DEFAULT_CHUNK_SIZE, MODEL_MODULES, get_model
from .._version import __version__

GIVEN = "given"
"""The ``sampler`` attribute of evaluated parameter sets: nothing was sampled."""


def evaluate(model: str | Model, table, *, method: str | None = None, float64: bool = False,
             chunk_size: int = DEFAULT_CHUNK_SIZE, devices: Sequence[jax.Device] | None = None,
             progress: bool | None = None, label: str = "table", out: str | os.PathLike | None = None,
             nonfinite: str = "warn", max_nonfinite_share: float | None = None):
    """The model's outputs for given parameter sets: set (row) i of ``table`` is draw i.

    ``table`` is a mapping of parameter names to equal-length sequences (one
    value per set) or a :class:`pandas.DataFrame` with one column per
    parameter; a parameter it leaves out takes its default (``overhang-jax
    priors MODEL`` lists them). The values are used as given, after the
    checks a priors file gets (a known name, a number in the parameter's
    allowed range, one value for a parameter that fixes the computation's
    shape, the model's conditions between parameters), and are computed as a
    run's draws are: chunked, sharded over ``devices``, in float32 unless
    ``float64`` (or the model requires it). Returns a DataTree with a run's
    layout: the parameters given, per draw, in ``prior``; the others, once,
    in ``constant_data``; the outputs in ``prior_predictive``. ``label``
    names the table in the results and error messages (a DataFrame whose
    index is named ``line``, as :func:`read_parameter_sets` makes, has its
    sets named by line in them). ``out``, ``nonfinite`` and ``max_nonfinite_share`` are
    :func:`overhang_jax.run`'s: a results file written with the same checks and guarantees.
    """
    from .._results import estimated_bytes, planned_evaluation, save, to_datatree
    from ._guards import (as_path, check_nonfinite_mode, check_space, check_writable, nonfinite_excess,
                          nonfinite_gate, nonfinite_limit, write_or_fail)
    from ._run import compute_draws, method_of, positive_int
    from ._runtime import ensure_configured

    model = get_model(model)
    method = method_of(model, method)
    check_nonfinite_mode(nonfinite, max_nonfinite_share)
    dtype = jnp.float64 if float64 or model.requires_float64 else jnp.float32
    source = given_draws(model, table, dtype, label)
    count = len(source.table)
    chunk_size = min(positive_int("chunk_size", chunk_size), count)
    out = as_path(out)
    if out is not None:
        check_writable([("out", out)])
        check_space([(out, estimated_bytes(planned_evaluation(model, source, float64=float64),
                                           nonfinite_limit(model, max_nonfinite_share)))])
    ensure_configured()
    devices = list(devices) if devices is not None else jax.devices()
    computed, series, _ = compute_draws(model, method, source, count, chunk_size, dtype, devices, None, progress, False)
    attrs = {"model": model.name, "method": method, "version": __version__, "draws": count, "sampler": GIVEN,
             "chunk_size": chunk_size, "dtype": jnp.dtype(dtype).name, "scenario": label,
             "priors_source": f"parameter sets given ({label})", "parameter_sets": label,
             "jax_version": jax.__version__, "devices": ", ".join(str(d) for d in devices),
             "processes": jax.process_count(), "process": jax.process_index(), "draws_from_checkpoint": 0}
    results = to_datatree(model, computed, source.fixed, attrs, series)
    if out is not None and jax.process_index() == 0:
        # The sets are the user's: re-running recomputes them, there are no draws to rescue.
        write_or_fail(f"'{out}'", lambda: save(results, out), f"run the same call again once '{out}' can be written")
    nonfinite_gate([nonfinite_excess(results, nonfinite_limit(model, max_nonfinite_share))], nonfinite)
    return results


def given_draws(model: Model, table, dtype: Any, label: str = "table"):
    """Checked parameter sets of ``table`` (see :func:`evaluate`), as the runner's ``GivenDraws``."""
    from ._run import GivenDraws

    columns, where = _columns(model, table, label)
    count = len(next(iter(columns.values())))
    fixed = {p.name: float(p.default) for p in model.parameters if p.name not in columns}
    for name in model.static_names:
        if name in columns:
            fixed[name] = _one_value(model, name, columns.pop(name), label)
    _check_conditions(model, columns, fixed, label, where)
    _check_float_width(columns, dtype, label, where)
    varying = tuple(n for n in model.parameter_names if n in columns)
    fixed = {n: fixed[n] for n in model.parameter_names if n in fixed}  # the model's order
    values = np.stack([columns[n] for n in varying], axis=1) if varying else np.zeros((count, 0))
    return GivenDraws(varying, values, fixed)


def _columns(model: Model, table, label: str) -> tuple[dict[str, np.ndarray], Callable[[int], str]]:
    """The table's columns as float64 arrays, after checking names, numbers, lengths and ranges, and
    how to name set i in a message."""
    def where(row: int) -> str:
        return f"set {row} of {label}"

    if hasattr(table, "columns") and hasattr(table, "to_numpy"):  # a DataFrame
        if table.index.name == "line":  # read from a file: name the line
            def where(row: int) -> str:
                return f"line {table.index[row]} of {label}"

        names = [str(c) for c in table.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise RunError(f"{label}: column '{duplicated[0]}' appears more than once")
        raw = {str(name): table[name].to_numpy() for name in table.columns}
    elif isinstance(table, Mapping):
        raw = {str(name): values for name, values in table.items()}
    else:
        raise RunError(f"the parameter sets must be a mapping of parameter names to values or a pandas DataFrame, "
                       f"got {type(table).__name__}")
    if not raw:
        raise RunError(f"{label}: no columns; give one column per parameter (`overhang-jax priors {model.name}` "
                       "lists them)")
    columns = {}
    for name, values in raw.items():
        if name not in model.parameter_names:
            hint = difflib.get_close_matches(name, model.parameter_names, n=1)
            other = [m for m in MODEL_MODULES if m != model.name and name in get_model(m).parameter_names]
            raise RunError(f"{label}: unknown parameter '{name}' for model '{model.name}'"
                           + (f"; did you mean '{hint[0]}'?" if hint else "")
                           + (f" ('{name}' is a parameter of model '{other[0]}': is the table for that model?)"
                              if other and not hint else f" (`overhang-jax priors {model.name}` lists them)"))
        columns[name] = _numbers(name, values, label, where)
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} {length}" for name, length in lengths.items())
        raise RunError(f"{label}: every column needs one value per set; the lengths differ ({described})")
    if not next(iter(lengths.values())):
        raise RunError(f"{label}: no parameter sets (the columns are empty)")
    for name, values in columns.items():
        param = model.parameter(name)
        inside = np.fromiter((param.contains(float(v)) for v in values), bool, len(values)) \
            if param.values is not None else _inside(param, values)
        if not inside.all():
            row = int(np.argmin(inside))
            raise RunError(f"{label}: parameter '{name}' must be {param.allowed()} ({param.doc}), got "
                           f"{values[row]:g} in {where(row)}")
    return columns, where


def _numbers(name: str, values: Any, label: str, where: Callable[[int], str]) -> np.ndarray:
    """One column as float64, or an error naming the first value that is not a finite number."""
    raw = np.asarray(values).reshape(-1)
    try:
        if raw.dtype.kind == "b":
            raise TypeError  # True is not a parameter value
        out = raw.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        out = None
    finite = np.isfinite(out) if out is not None else np.zeros(len(raw), bool)
    if out is not None and finite.all():
        return out
    for row, item in enumerate(raw):  # (only to find and name the first bad value)
        try:
            if isinstance(item, (bool, np.bool_)) or item is None:
                raise TypeError
            number = float(item)
        except (TypeError, ValueError, OverflowError):
            raise RunError(f"{label}: parameter '{name}' must be numbers, got {str(item)!r} in "
                           f"{where(row)}") from None
        if not np.isfinite(number):
            raise RunError(f"{label}: parameter '{name}' must be finite, got {str(item)!r} in "
                           f"{where(row)}")
    raise AssertionError("unreachable: a value failed the conversion but none alone does")


def _inside(param, values: np.ndarray) -> np.ndarray:
    """Whether each value lies in the parameter's allowed range (Parameter.contains, vectorised)."""
    above = values > param.lower if param.lower_open else values >= param.lower
    below = values < param.upper if param.upper_open else values <= param.upper
    return above & below & ~np.isnan(values)


def _one_value(model: Model, name: str, values: np.ndarray, label: str) -> float:
    """A parameter that fixes the computation's shape takes one value for every set."""
    distinct = np.unique(values)
    if len(distinct) > 1:
        raise RunError(f"{label}: parameter '{name}' fixes the shape of the computation "
                       f"({model.parameter(name).doc}): give it one value for every set, not "
                       f"{distinct[0]:g} and {distinct[1]:g}; evaluate each value's sets separately")
    return float(distinct[0])


def _check_conditions(model: Model, columns: Mapping[str, np.ndarray], fixed: Mapping[str, float], label: str,
                      where: Callable[[int], str]) -> None:
    """The model's conditions between parameters: an order set by set; any other condition on the
    ranges the table spans (as for a priors file)."""
    def values_of(name):
        return columns[name] if name in columns else np.asarray([fixed[name]])

    for constraint in model.constraints:
        if isinstance(constraint, Ordered):
            earlier, later = values_of(constraint.earlier), values_of(constraint.later)
            wrong = np.broadcast_to(later < earlier, (max(len(earlier), len(later)),))
            if wrong.any():
                row = int(np.argmax(wrong))
                raise RunError(f"{label}: parameter '{constraint.later}' must be >= '{constraint.earlier}', but "
                               f"{where(row)} has {np.broadcast_to(later, wrong.shape)[row]:g} < "
                               f"{np.broadcast_to(earlier, wrong.shape)[row]:g}")
            continue
        ranges = {name: (float(np.min(values_of(name))), float(np.max(values_of(name))))
                  for name in model.parameter_names}
        problem = constraint.problem(ranges)
        if problem:
            raise RunError(f"{label}: {problem}")


def _check_float_width(columns: Mapping[str, np.ndarray], dtype: Any, label: str,
                       where: Callable[[int], str]) -> None:
    """Refuse values float32 cannot hold (they would become infinite)."""
    largest, tiny = float(jnp.finfo(dtype).max), float(jnp.finfo(dtype).tiny)
    for name, values in columns.items():
        vanishing = (values != 0) & (np.abs(values) < tiny)  # rounds to 0 or loses its digits
        if vanishing.any():
            row = int(np.argmax(vanishing))
            raise RunError(f"{label}: parameter '{name}' is {values[row]:g} in {where(row)}, below the smallest "
                           f"normal {jnp.dtype(dtype).name} ({tiny:.3g}), where it rounds to 0; compute in double "
                           "precision (--float64, or float64=True)")
        beyond = np.abs(values) > largest
        if beyond.any():
            row = int(np.argmax(beyond))
            raise RunError(f"{label}: parameter '{name}' is {values[row]:g} in {where(row)}, beyond "
                           f"{jnp.dtype(dtype).name} (largest {largest:.3g}); compute in double precision "
                           "(--float64, or float64=True)")


def read_parameter_sets(path: str | os.PathLike):
    """A CSV file of parameter sets (a header of parameter names, one set per line) as a DataFrame.

    Raises RunError, in one line, for a file that cannot be read, is empty or
    has no sets; the values are checked by :func:`evaluate`.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise RunError(f"parameter sets file '{path}' not found" if not path.exists()
                       else f"parameter sets file '{path}' is not a regular file")
    try:
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.reader(file, skipinitialspace=True, strict=True)
            header = next(reader, None)
            rows, lines = [], []
            for row in reader:
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise RunError(f"'{path}' is not a CSV file of parameter sets (not UTF-8 text)") from None
    except csv.Error as err:
        raise RunError(f"'{path}' is not a CSV file of parameter sets (line {reader.line_num}: {err})") from None
    if not header:
        raise RunError(f"'{path}' is empty: it needs a header of parameter names and one line per set")
    header = [name.strip() for name in header]
    if len(header) > 1 and header[-1] == "":
        raise RunError(f"'{path}': the header (line 1) ends with a comma, which would make an unnamed column; "
                       "remove the comma at the end of each line")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise RunError(f"'{path}': column '{duplicated[0]}' appears more than once in the header")
    if "" in header:
        raise RunError(f"'{path}': column {header.index('') + 1} has no name in the header")
    for row, line in zip(rows, lines):
        # A blank line is kept as a set without numbers (refused, unless at the end), so line numbers stay true.
        if row and len(row) != len(header):
            trailing = len(row) == len(header) + 1 and row[-1].strip() == ""
            raise RunError(f"'{path}': line {line} has {len(row)} values and the header names {len(header)} "
                           "parameters" + ("; it ends with a comma" if trailing else "")
                           + " (every line needs one value per column, in the header's order)")
    table = pd.DataFrame([[value.strip() for value in row] if row else [""] * len(header) for row in rows],
                         columns=header, dtype=str)
    table.index = lines
    blank = (table == "").all(axis=1).to_numpy()
    last = len(blank) - int(np.argmin(blank[::-1])) if not blank.all() else 0
    table = table.iloc[:last]  # blank lines at the end of the file are no sets
    if table.empty:
        raise RunError(f"'{path}' has a header but no parameter sets")
    table.index = pd.Index(table.index, name="line")  # each set's line in the file
    return table
