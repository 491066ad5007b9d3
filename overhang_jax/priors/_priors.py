"""Priors: TOML files of distributions, their validation, and the resolved priors of a run.

Rank correlations act on the unit-hypercube coordinates (see ``_sampling``)
through a Gaussian copula, then each parameter's inverse CDF (see
``_distributions``) maps its coordinate to a value. Every check runs before
any compute, and its error names the file, the parameter and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import reprlib
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._distributions import (DISTRIBUTIONS, SKEW_TRANSFORMS, TAIL_TOLERANCE, Z_90, Beta, Distribution, LogNormal,
                             LogUniform, Mixture, Normal, Point, SkewedLogUniform, Truncated, Uniform, quantile,
                             unit_margin)
from ..models._registry import SHIPPED_PRIORS_DIR
from ..models._schema import Model, Parameter

class PriorsError(ValueError):
    """A priors file or table that cannot be used; the message says where and why."""


class PriorsWarning(UserWarning):
    """A priors file that works but contains something without effect."""


# --------------------------------------------------------------------------
# Parsing and validation. Every check runs before any compute.


class _Where:
    """Where an error happened, for the first words of its message."""

    def __init__(self, source: str, param: str | None = None):
        self.source, self.param = source, param

    def error(self, message: str) -> PriorsError:
        where = f"{self.source}: parameter '{self.param}'" if self.param else self.source
        return PriorsError(f"{where}: {message}")


def _shown(value: Any) -> str:
    """A user's value for an error message: shortened, and safe for integers too long to print."""
    try:
        return reprlib.repr(value)
    except ValueError:  # an integer beyond Python's digit limit for str()
        return "a number too long to show"


def _number(where: _Where, table: Mapping[str, Any], key: str, *, positive: bool = False) -> float:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(f"'{key}' must be a number, got {_shown(value)}")
    try:
        value = float(value)
    except OverflowError:  # TOML integers are unbounded
        raise where.error(f"'{key}' is an integer beyond the float range (about ±1.8e308)") from None
    if not math.isfinite(value):
        raise where.error(f"'{key}' must be finite, got {value}")
    if positive and value <= 0:
        raise where.error(f"'{key}' must be > 0, got {value:g}")
    return value


def _parse_distribution(where: _Where, spec: Any) -> Distribution:
    if isinstance(spec, bool) or not isinstance(spec, (int, float, dict)):
        raise where.error(
            f"expected a number or a table like {{ dist = \"normal\", mean = 1, sd = 0.5 }}, got {_shown(spec)}"
        )
    if not isinstance(spec, dict):
        return Point(_number(where, {"value": spec}, "value"))
    spec = dict(spec)
    kind = spec.pop("dist", None)
    if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
        known = ", ".join(DISTRIBUTIONS)
        hint = difflib.get_close_matches(str(kind), DISTRIBUTIONS, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise where.error(f"unknown dist {_shown(kind)}{suggestion}; known: {known}")
    trunc_min = _number(where, spec, "min") if "min" in spec else -math.inf
    trunc_max = _number(where, spec, "max") if "max" in spec else math.inf
    spec.pop("min", None)
    spec.pop("max", None)

    dist = _parse_base(where, kind, spec)
    if trunc_min == -math.inf and trunc_max == math.inf:
        return dist
    if dist.is_point or isinstance(dist, Mixture):
        raise where.error("'min'/'max' truncate a continuous distribution, not a point or mixture")
    if trunc_min >= trunc_max:
        raise where.error(f"truncation needs min < max, got min = {trunc_min:g}, max = {trunc_max:g}")
    truncated = Truncated(dist, trunc_min, trunc_max)
    cdf_min, cdf_max = truncated.cdf_bounds
    if cdf_max - cdf_min < 1e-6:
        raise where.error(
            f"truncation to [{trunc_min:g}, {trunc_max:g}] keeps only {cdf_max - cdf_min:.1e} of the "
            f"{kind} distribution's probability; move the bounds or the distribution"
        )
    return truncated


def _expect_keys(where: _Where, kind: str, spec: Mapping[str, Any], required: Sequence[str],
                 optional: Sequence[str] = ()) -> None:
    missing = [k for k in required if k not in spec]
    unknown = [k for k in spec if k not in required and k not in optional]
    allowed = ", ".join([*required, *optional, "min", "max"]) if kind != "mixture" else "components, weights"
    if missing:
        raise where.error(f"dist = \"{kind}\" needs {', '.join(missing)} (keys: {allowed})")
    if unknown:
        raise where.error(f"dist = \"{kind}\" has unknown key(s) {', '.join(unknown)} (keys: {allowed})")


def _parse_base(where: _Where, kind: str, spec: dict[str, Any]) -> Distribution:
    if kind == "point":
        _expect_keys(where, kind, spec, ["value"])
        return Point(_number(where, spec, "value"))
    if kind in ("uniform", "loguniform", "lognormal"):
        _expect_keys(where, kind, spec, ["lo", "hi"])
        lo, hi = _number(where, spec, "lo"), _number(where, spec, "hi")
        if lo >= hi:
            raise where.error(f"dist = \"{kind}\" needs lo < hi, got lo = {lo:g}, hi = {hi:g}")
        if kind != "uniform" and lo <= 0:
            raise where.error(f"dist = \"{kind}\" needs lo > 0, got lo = {lo:g}")
        return {"uniform": Uniform, "loguniform": LogUniform, "lognormal": LogNormal}[kind](lo, hi)
    if kind == "normal":
        if "lo" in spec or "hi" in spec:
            # A normal may also be given by its 90% interval, like the lognormal.
            _expect_keys(where, kind, spec, ["lo", "hi"])
            lo, hi = _number(where, spec, "lo"), _number(where, spec, "hi")
            if lo >= hi:
                raise where.error(f"dist = \"normal\" needs lo < hi, got lo = {lo:g}, hi = {hi:g}")
            return Normal(0.5 * (lo + hi), (hi - lo) / (2 * Z_90))
        _expect_keys(where, kind, spec, ["mean", "sd"])
        mean = _number(where, spec, "mean")
        sd = _number(where, spec, "sd")
        if sd <= 0:
            raise where.error(f"dist = \"normal\" needs sd > 0, got sd = {sd:g}")
        return Normal(mean, sd)
    if kind == "skewed_loguniform":
        _expect_keys(where, kind, spec, ["lo", "median", "hi"], ["transform"])
        lo, median, hi = (_number(where, spec, key) for key in ("lo", "median", "hi"))
        transform = spec.get("transform", "pos")
        if transform not in SKEW_TRANSFORMS:
            raise where.error(f"dist = \"skewed_loguniform\" has transform {transform!r}; choose one of "
                              f"{', '.join(SKEW_TRANSFORMS)}")
        if not lo < median < hi:
            raise where.error(f"dist = \"skewed_loguniform\" needs lo < median < hi, got lo = {lo:g}, "
                              f"median = {median:g}, hi = {hi:g}")
        domain = {"pos": (lo > 0, "lo > 0"), "neg": (hi < 0, "hi < 0"), "frac": (lo > 0 and hi < 1, "0 < lo, hi < 1"),
                  "inv_frac": (lo > 1, "lo > 1")}[transform]
        if not domain[0]:
            raise where.error(f"dist = \"skewed_loguniform\" with transform = \"{transform}\" needs {domain[1]}, "
                              f"got lo = {lo:g}, hi = {hi:g}")
        return SkewedLogUniform(lo, median, hi, transform)
    if kind == "beta":
        _expect_keys(where, kind, spec, ["a", "b"], ["lo", "hi"])
        a = _number(where, spec, "a", positive=True)
        b = _number(where, spec, "b", positive=True)
        lo = _number(where, spec, "lo") if "lo" in spec else 0.0
        hi = _number(where, spec, "hi") if "hi" in spec else 1.0
        if lo >= hi:
            raise where.error(f"dist = \"beta\" needs lo < hi, got lo = {lo:g}, hi = {hi:g}")
        return Beta(a, b, lo, hi)
    # mixture
    _expect_keys(where, kind, spec, ["components", "weights"])
    components, weights = spec["components"], spec["weights"]
    if not isinstance(components, list) or not components:
        raise where.error("mixture 'components' must be a non-empty list of distributions")
    if not isinstance(weights, list) or len(weights) != len(components):
        raise where.error(f"mixture needs one weight per component ({len(components)}), got {_shown(weights)}")
    parsed_weights = tuple(_number(where, {"weight": w}, "weight") for w in weights)
    if any(w <= 0 for w in parsed_weights) or abs(sum(parsed_weights) - 1) > 1e-6:
        raise where.error(f"mixture weights must be > 0 and sum to 1, got {list(parsed_weights)} "
                          f"(sum {sum(parsed_weights):g})")
    parsed = []
    for component in components:
        dist = _parse_distribution(where, component)
        if isinstance(dist, Mixture):
            raise where.error("a mixture component cannot itself be a mixture")
        parsed.append(dist)
    return Mixture(tuple(parsed), parsed_weights)


def _check_finite(where: _Where, dist: Distribution) -> None:
    """Refuse parameters so large that the distribution overflows (uniform(-1e308, 1e308): hi - lo is inf)."""
    with np.errstate(all="ignore"):
        low, high = _support(dist)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise where.error(f"{dist.kind} prior overflows the float range (about ±1.8e308); use smaller numbers, "
                          "for example in another unit")


def _check_allowed(where: _Where, param: Parameter, dist: Distribution) -> None:
    if param.static and not dist.is_point:
        raise where.error(f"must be a point value {param.allowed()}, not a distribution: it fixes the shape "
                          f"of the computation ({param.doc})")
    if param.values is not None:
        points = dist.components if isinstance(dist, Mixture) else (dist,)
        if all(isinstance(c, Point) and param.contains(c.value) for c in points):
            return
        raise where.error(f"is a switch: use a point value {param.allowed()}, or a mixture of such points")
    outside = dist.mass_outside(param)
    if outside > TAIL_TOLERANCE:
        if isinstance(dist, Point):
            raise where.error(f"value {dist.value:g} is not allowed; must be {param.allowed()} ({param.doc})")
        raise where.error(
            f"{dist.kind} prior puts {outside:.2g} of its probability outside the allowed range "
            f"({param.allowed()}); narrow it or add min/max to truncate it"
        )


@dataclasses.dataclass(frozen=True)
class Correlation:
    first: str
    second: str
    rank: float
    """Spearman rank correlation of the two parameters."""


@dataclasses.dataclass(frozen=True)
class Priors:
    """Resolved priors of every parameter of one model.

    Build with :func:`load_priors`. ``distributions`` lists every model
    parameter in the model's order; parameters with a non-point
    distribution each take one coordinate of the unit hypercube, in that
    order (``random_names``).
    """

    model: Model
    distributions: Mapping[str, Distribution]
    correlations: tuple[Correlation, ...] = ()
    source: str = "defaults"
    """Where they came from, as error messages name it: a path, a shipped scenario's name,
    "<priors text>" or "defaults"."""
    text: str = ""
    """The user's TOML text, as read (empty for the shipped defaults)."""
    name: str = "defaults"
    """What results and printouts call them: a shipped scenario's name, a file's stem,
    "priors text" or "defaults"."""

    @property
    def random_names(self) -> tuple[str, ...]:
        return tuple(n for n, d in self.distributions.items() if not d.is_point)

    @property
    def dimension(self) -> int:
        return len(self.random_names)

    def copula_cholesky(self) -> np.ndarray | None:
        """Lower Cholesky factor of the Gaussian copula's correlation matrix (or None)."""
        if not self.correlations:
            return None
        index = {n: i for i, n in enumerate(self.random_names)}
        matrix = np.eye(self.dimension)
        for c in self.correlations:
            # Spearman's rho of a Gaussian copula is (6/pi) asin(r/2).
            pearson = 2 * math.sin(math.pi * c.rank / 6)
            i, j = index[c.first], index[c.second]
            matrix[i, j] = matrix[j, i] = pearson
        return np.linalg.cholesky(matrix)

    @property
    def point_names(self) -> tuple[str, ...]:
        return tuple(n for n, d in self.distributions.items() if d.is_point)

    def point_values(self) -> np.ndarray:
        """The fixed values, in the order of ``point_names`` (float64)."""
        return np.array([self.distributions[n].point_value for n in self.point_names], np.float64)

    def program_structure(self, random_names: Sequence[str] | None = None) -> PriorsStructure:
        """What the compiled program of these priors depends on, as a hashable value (see
        :class:`PriorsStructure`); the numbers are :meth:`program_data`.

        ``random_names`` are the parameters given a unit coordinate, in the model's order: by default
        those these priors leave uncertain. A run gives one also to each parameter the model's default
        priors leave uncertain (:func:`shared_random_names`), so that scenarios fixing some of them
        share one program; such a parameter, fixed here, keeps its default distribution's kind, and a
        flag in the data selects its fixed value.
        """
        names = self.random_names if random_names is None else tuple(random_names)
        missing = [n for n in self.random_names if n not in names]
        if missing:
            raise ValueError(f"random_names must include every uncertain parameter; {missing} missing")
        forms = []
        for name in names:
            dist = self.distributions[name]
            if dist.is_point:
                dist = _default_distributions(self.model)[name]
                if dist.is_point:
                    raise ValueError(f"'{name}' is a point value in these priors and in the defaults")
            forms.append((name, dist.structure()))
        points = tuple(n for n in self.model.parameter_names if n not in names)
        return PriorsStructure(self.model.name, tuple(forms), points, bool(self.correlations))

    def program_data(self, structure: PriorsStructure, dtype: Any) -> dict[str, Any]:
        """The numbers of these priors in ``structure``'s layout, as numpy arrays of ``dtype``: the
        arguments of the compiled program. Each is the float64 number the distribution's own ``ppf``
        uses, rounded once to ``dtype``, as a constant of a compiled program would be."""
        dtype = np.dtype(jnp.dtype(dtype))

        def as_data(constants):
            if isinstance(constants, tuple):
                return tuple(as_data(c) for c in constants)
            return np.asarray(constants, np.float64).astype(dtype)

        defaults = None
        fixed_here, values, constants = [], [], []
        for name, _ in structure.random:
            dist = self.distributions[name]
            fixed_here.append(dist.is_point)
            values.append(dist.point_value if dist.is_point else 0.0)
            if dist.is_point:
                defaults = defaults or _default_distributions(self.model)
                dist = defaults[name]
            constants.append(as_data(dist.constants()))
        data = {"fixed_here": np.asarray(fixed_here, bool), "fixed_value": as_data(tuple(values)),
                "constants": tuple(constants),
                "point_values": np.asarray([self.distributions[n].point_value for n in structure.points],
                                           np.float64).astype(dtype)}
        if structure.copula:
            # This priors' own factor (over its uncertain parameters), embedded with zeros: each row
            # then sums the same products in the same order as over those parameters alone.
            own = self.copula_cholesky()
            where = [structure.names.index(n) for n in self.random_names]
            factor = np.eye(len(structure.random))
            factor[np.ix_(where, where)] = own
            data["cholesky"] = factor.astype(dtype)
        return data

    def transform(self, u: jax.Array) -> dict[str, jax.Array]:
        """Map unit-hypercube points ``u`` (..., dimension) to parameter values.

        Column k of ``u`` is the coordinate of ``random_names[k]``. Point
        parameters come back as arrays of the batch shape too, so every draw
        carries every parameter.
        """
        structure = self.program_structure()
        return transform_data(self.model, structure, self.program_data(structure, u.dtype), u)

    def with_point(self, name: str, value: float) -> Priors:
        """These priors with parameter ``name`` fixed to ``value``: the same as a priors file adding
        ``name = value`` (its correlations dropped), checked as that file would be."""
        if name not in self.distributions:
            hint = difflib.get_close_matches(name, self.model.parameter_names, n=1)
            raise PriorsError(f"unknown parameter '{name}' for model '{self.model.name}'"
                              + (f"; did you mean '{hint[0]}'?" if hint else ""))
        point = Point(_number(_Where(self.source, name), {"value": value}, "value"))
        _check_allowed(_Where(self.source, name), self.model.parameter(name), point)
        fixed = dataclasses.replace(
            self, distributions={**self.distributions, name: point},
            correlations=tuple(c for c in self.correlations if name not in (c.first, c.second)))
        _check_constraints(fixed)
        return fixed

    def to_toml(self) -> str:
        """The full resolved priors as a TOML file that reproduces them."""
        lines = [f'model = "{self.model.name}"', "", "[params]"]
        lines += [f"{name} = {dist.to_toml()}" for name, dist in self.distributions.items()]
        for c in self.correlations:
            lines += ["", "[[correlations]]", f'params = ["{c.first}", "{c.second}"]', f"rank = {c.rank!r}"]
        return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class PriorsStructure:
    """The static part of priors, what their compiled program depends on: which parameters take a
    unit coordinate and the structure of each one's distribution, which parameters are point values
    in every such program, and whether a Gaussian copula correlates the coordinates. The numbers
    (each distribution's, the point values, the copula's factor) are data, :meth:`Priors.program_data`,
    passed to the program as arguments, as numpyro passes a distribution's parameters."""

    model: str
    random: tuple[tuple[str, tuple], ...]
    """(name, distribution structure) of each parameter with a unit coordinate, in the model's order."""
    points: tuple[str, ...]
    """The other parameters: a value each, the same in every draw."""
    copula: bool

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.random)


def transform_data(model: Model, structure: PriorsStructure, data: Mapping[str, Any], u: jax.Array
                   ) -> dict[str, jax.Array]:
    """Unit points ``u`` (..., len(structure.random)) to every parameter's values, from priors given
    as data (:meth:`Priors.program_data`): the computation a run compiles once per structure."""
    margin = unit_margin(u.dtype)
    u = jnp.clip(u, margin, 1 - margin)
    if structure.copula:
        cholesky = data["cholesky"]
        z = jax.scipy.special.ndtri(u)
        # Row by row with adds in a fixed order, not a matmul: XLA's dot may
        # sum in a different order for different batch shapes.
        rows = []
        for i in range(len(structure.random)):
            row = z[..., 0] * cholesky[i, 0]
            for j in range(1, i + 1):
                row = row + z[..., j] * cholesky[i, j]
            rows.append(row)
        z = jnp.stack(rows, axis=-1)
        u = jnp.clip(jax.scipy.special.ndtr(z), margin, 1 - margin)
    batch = u.shape[:-1]
    values = {}
    for k, (name, form) in enumerate(structure.random):
        drawn = _inside(model.parameter(name), quantile(form, data["constants"][k], u[..., k]))
        values[name] = jnp.where(data["fixed_here"][k], jnp.broadcast_to(data["fixed_value"][k], batch), drawn)
    for j, name in enumerate(structure.points):
        values[name] = jnp.broadcast_to(data["point_values"][j], batch)
    return {name: values[name] for name in model.parameter_names}


_DEFAULTS: dict[tuple[str, int], Mapping[str, Distribution]] = {}


def _default_distributions(model: Model) -> Mapping[str, Distribution]:
    """The distributions of the model's shipped default priors (read once per model)."""
    key = (model.name, id(model))
    if key not in _DEFAULTS:
        _DEFAULTS[key] = load_priors(model).distributions
    return _DEFAULTS[key]


def shared_random_names(priors: Priors) -> tuple[str, ...]:
    """The parameters a run gives a unit coordinate: those ``priors`` or the model's default priors
    leave uncertain, in the model's order. Every scenario that fixes some of the defaults' uncertain
    parameters (and changes no kind) then compiles to the same program as the defaults."""
    defaults = _default_distributions(priors.model)
    return tuple(n for n in priors.model.parameter_names
                 if not priors.distributions[n].is_point or not defaults[n].is_point)


def _inside(param: Parameter, values: jax.Array) -> jax.Array:
    """Clip values into the parameter's allowed range.

    Validation already keeps all but 1e-12 of each prior inside it; this
    only undoes rounding at the edges (a float32 quantile landing exactly on
    an open bound such as a delay of 0).
    """
    if param.values is not None:
        return values
    lower, upper = param.lower, param.upper
    # The next representable value inside an open bound; at least the smallest
    # normal number, as XLA on CPU flushes subnormals to zero.
    step_in = float(jnp.finfo(values.dtype).tiny)
    if param.lower_open and math.isfinite(lower):
        lower = max(float(np.nextafter(np.asarray(lower, values.dtype), np.inf)), lower + step_in)
    if param.upper_open and math.isfinite(upper):
        upper = min(float(np.nextafter(np.asarray(upper, values.dtype), -np.inf)), upper - step_in)
    if math.isinf(lower) and math.isinf(upper):
        return values
    return jnp.clip(values, jnp.asarray(lower, values.dtype), jnp.asarray(upper, values.dtype))


def _read_toml(source: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except ValueError as err:  # TOMLDecodeError, or an integer beyond Python's digit limit
        raise PriorsError(f"{source}: not valid TOML: {err}") from None


def _parse_params(model: Model, source: str, table: Any) -> dict[str, Distribution]:
    if not isinstance(table, dict):
        raise PriorsError(f"{source}: [params] must be a table of parameter = value")
    parsed = {}
    for name, spec in table.items():
        if name not in model.parameter_names:
            hint = difflib.get_close_matches(name, model.parameter_names, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise PriorsError(f"{source}: unknown parameter '{name}' for model '{model.name}'{suggestion} "
                              f"(`overhang-jax priors {model.name}` lists them)")
        where = _Where(source, name)
        dist = _parse_distribution(where, spec)
        _check_finite(where, dist)
        _check_allowed(where, model.parameter(name), dist)
        parsed[name] = dist
    return parsed


def _parse_correlations(source: str, entries: Any, distributions: Mapping[str, Distribution]
                        ) -> list[Correlation]:
    if not isinstance(entries, list):
        raise PriorsError(f"{source}: correlations must be [[correlations]] tables")
    parsed = []
    seen: dict[frozenset[str], int] = {}  # pair -> the correlation that gave it
    for k, entry in enumerate(entries):
        where = _Where(f"{source}: correlation {k + 1}")
        if not isinstance(entry, dict) or set(entry) != {"params", "rank"}:
            raise where.error('needs exactly: params = ["a", "b"], rank = r')
        names = entry["params"]
        if (not isinstance(names, list) or len(names) != 2 or not all(isinstance(n, str) for n in names)
                or names[0] == names[1]):
            raise where.error(f"params must name two different parameters, got {_shown(names)}")
        for name in names:
            if name not in distributions:
                hint = difflib.get_close_matches(name, distributions, n=1)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
                raise where.error(f"unknown parameter '{name}'{suggestion}")
        rank = _number(where, entry, "rank")
        if not -1 < rank < 1:
            raise where.error(f"rank must be in (-1, 1), got {rank:g}")
        pair = frozenset(names)
        if pair in seen:
            raise where.error(f"the pair {names[0]}, {names[1]} is already correlated by correlation {seen[pair]}; "
                              "give each pair once")
        seen[pair] = k + 1
        points = [n for n in names if distributions[n].is_point]
        if points:
            # A constant has no rank to correlate; the README's priors example does this.
            warnings.warn(f"{where.source}: '{points[0]}' is a point value, so its correlation with "
                          f"'{names[1] if points[0] == names[0] else names[0]}' has no effect",
                          PriorsWarning, stacklevel=4)
            continue
        parsed.append(Correlation(names[0], names[1], rank))
    return parsed


def _merge_correlations(defaults: Sequence[Correlation], user: Sequence[Correlation],
                        distributions: Mapping[str, Distribution]) -> tuple[Correlation, ...]:
    """Union of both lists; the user's entry wins for the same pair; pairs with a point value are dropped."""
    merged = {frozenset((c.first, c.second)): c for c in defaults}
    merged.update({frozenset((c.first, c.second)): c for c in user})
    return tuple(c for c in merged.values()
                 if not distributions[c.first].is_point and not distributions[c.second].is_point)


def _parse_file(model: Model, source: str, text: str) -> tuple[dict[str, Distribution], list[Correlation]]:
    document = _read_toml(source, text)
    allowed = {"model", "description", "params", "correlations"}
    for key in document:
        if key not in allowed:
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise PriorsError(f"{source}: unknown top-level key '{key}'{suggestion}; "
                              f"allowed: {', '.join(sorted(allowed))}")
    declared = document.get("model", model.name)
    if declared != model.name:
        raise PriorsError(f"{source}: file is for model '{declared}', not '{model.name}'")
    params = _parse_params(model, source, document.get("params", {}))
    return params, document.get("correlations", [])


def default_priors_path(model: Model) -> Path:
    """The model's shipped default priors (``default_priors`` may also be an absolute path, for a
    model defined outside the package)."""
    path = Path(model.default_priors)
    return path if path.is_absolute() else SHIPPED_PRIORS_DIR / path


def load_priors(model: Model | str, path: str | os.PathLike | None = None, *, text: str | None = None) -> Priors:
    """Load a priors file (or TOML text) for ``model`` on top of its shipped defaults.

    ``model`` is a Model or a model's name; ``path`` a priors file or the
    name of a shipped scenario (:func:`overhang_jax.scenarios`); both None
    give the shipped defaults. Raises :class:`PriorsError` naming the file,
    the parameter and what is allowed, before anything is computed.
    """
    from ..models._registry import get_model
    from ._scenarios import resolve

    model = get_model(model)
    default_path = default_priors_path(model)
    defaults, default_corr = _parse_file(model, f"default priors {default_path.name}",
                                         default_path.read_text(encoding="utf-8"))
    missing = [n for n in model.parameter_names if n not in defaults]
    if missing:  # a packaging error, not a user error
        raise RuntimeError(f"default priors of '{model.name}' lack {missing}")
    distributions = {n: defaults[n] for n in model.parameter_names}
    source, name, user_text, user_corr = "defaults", "defaults", "", []
    if path is not None or text is not None:
        source, name = "<priors text>", "priors text"
        if path is not None:
            try:
                path, name, shipped = resolve(path)
            except FileNotFoundError as err:
                raise PriorsError(str(err)) from None
            source = name if shipped else str(path)
        if text is None:
            try:
                raw = Path(path).read_bytes()
            except OSError as err:
                raise PriorsError(f"{source}: cannot read: {err.strerror}") from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise PriorsError(f"{source}: not UTF-8 text") from None
        user, user_corr = _parse_file(model, source, text)
        distributions.update(user)
        user_text = text
    default_list = _parse_correlations(f"default priors {default_path.name}", default_corr, defaults)
    user_list = _parse_correlations(source, user_corr, distributions)
    priors = Priors(model, distributions, _merge_correlations(default_list, user_list, distributions),
                    source, user_text, name)
    _check_constraints(priors)
    try:
        priors.copula_cholesky()
    except np.linalg.LinAlgError:
        raise PriorsError(f"{source}: the rank correlations do not form a positive-definite matrix; "
                          "weaken some of them") from None
    return priors


def _support(dist: Distribution) -> tuple[float, float]:
    """Smallest and largest values the sampler can produce."""
    if isinstance(dist, Point):
        return dist.value, dist.value
    if isinstance(dist, Mixture):
        bounds = [_support(c) for c in dist.components]
        return min(b[0] for b in bounds), max(b[1] for b in bounds)
    tail = dist.scipy().ppf([TAIL_TOLERANCE, 1 - TAIL_TOLERANCE])
    return float(tail[0]), float(tail[1])


class _Ranges(dict):
    """Each parameter's (smallest, largest) value, computed when a constraint first asks for it."""

    def __init__(self, distributions: Mapping[str, Distribution]):
        super().__init__()
        self.distributions = distributions

    def __missing__(self, name: str) -> tuple[float, float]:
        self[name] = _support(self.distributions[name])
        return self[name]


def _check_constraints(priors: Priors) -> None:
    """The model's declared conditions (``Model.constraints``) on the priors' ranges."""
    ranges = _Ranges(priors.distributions)
    for constraint in priors.model.constraints:
        problem = constraint.problem(ranges)
        if problem:
            raise PriorsError(f"{priors.source}: {problem}")


_FITS: set[tuple[str, str]] = set()
"""(priors TOML, dtype) pairs already checked by :func:`check_float_width`."""


def _numbers_in(dist, field: str = "value"):
    """(field, value) of every number that defines ``dist``: its point value, parameters and bounds."""
    if isinstance(dist, Mixture):
        for k, component in enumerate(dist.components):
            yield from _numbers_in(component, f"component {k + 1}'s value")
        return
    if isinstance(dist, Truncated):
        yield from _numbers_in(dist.base, field)
        yield from (("min", dist.min), ("max", dist.max))
        return
    keys = dist.keys if not dist.is_point else ("value",)
    for key in keys:
        value = getattr(dist, key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield (field if dist.is_point else key), float(value)


def check_float_width(priors: Priors, dtype: Any) -> None:
    """Refuse priors whose draws overflow ``dtype`` (1e39 is finite in float64, not in float32).

    Each distribution's JAX inverse CDF, the one the run uses, is evaluated
    in ``dtype`` at the extreme unit coordinates the samplers can give (and a
    mixture's at each component's): every value must be finite.
    """
    dtype = jnp.dtype(dtype)
    if (priors.to_toml(), dtype.name) in _FITS:
        return
    margin = unit_margin(dtype)
    extremes = jnp.asarray([margin, 1 - margin], dtype)
    tiny = float(jnp.finfo(dtype).tiny)
    for name, dist in priors.distributions.items():
        for field, value in _numbers_in(dist):
            # A number below the smallest normal float rounds to 0 or keeps few digits: c0 = 1e-50 made
            # every float32 output NaN with no word about c0.
            if 0 < abs(value) < tiny:
                remedy = ("compute in double precision (--float64, or float64=True)" if dtype.itemsize < 8
                          else "use larger numbers, for example in another unit")
                raise PriorsError(f"{priors.source}: parameter '{name}': {field} {value:g} is below the smallest "
                                  f"normal {dtype.name} ({tiny:.3g}), where it rounds to 0; {remedy}")
        for part in dist.components if isinstance(dist, Mixture) else (dist,):
            with np.errstate(over="ignore"):  # the overflow is the finding, reported below
                draws = np.asarray(part.ppf(extremes))
            if not np.all(np.isfinite(draws)):
                remedy = ("compute in double precision (--float64, or float64=True)" if dtype.itemsize < 8
                          else "use smaller numbers, for example in another unit")
                raise PriorsError(f"{priors.source}: parameter '{name}': its draws overflow {dtype.name} (largest "
                                  f"finite value {float(jnp.finfo(dtype).max):.3g}); {remedy}")
    _FITS.add((priors.to_toml(), dtype.name))
