"""The scenarios shipped with the package: priors files known by name, each for one model.

Known without importing JAX, so ``overhang-jax scenarios`` answers at once. A
name is accepted wherever a priors file is (``run``, ``compare``,
``load_priors``, the command line); a path to an existing file wins over a
scenario of the same name.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path

from ..models._registry import SCENARIOS_DIR


def shipped_scenarios() -> dict[str, Path]:
    """Scenario files shipped with the package, by name (file name without .toml)."""
    return {p.stem: p for p in sorted(SCENARIOS_DIR.glob("*.toml"))}


def scenario_headers(model: str | None = None) -> dict[str, tuple[str, str, Path]]:
    """Each shipped scenario (of ``model``, or all) by name: (its model, its description, its file)."""
    headers = {}
    for name, path in shipped_scenarios().items():
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        of = str(document.get("model", ""))
        if model is None or of == model:
            headers[name] = (of, str(document.get("description", "")), path)
    return headers


def scenarios(model=None):
    """The shipped scenarios (of ``model``, a name or a Model, or all): a table indexed by name with
    each one's model, description and file.

    Pass a name to :func:`overhang_jax.run`, :func:`overhang_jax.compare` or
    :func:`overhang_jax.load_priors` to use it; docs/scenarios.md lists the
    comparisons each is meant for.
    """
    import pandas as pd

    from ..models._registry import MODEL_MODULES

    wanted = getattr(model, "name", model)
    if wanted is not None and wanted not in MODEL_MODULES:
        from .._errors import RunError

        raise RunError(f"unknown model '{wanted}'; choose one of {', '.join(MODEL_MODULES)}")
    rows = {name: {"model": of, "description": description, "path": str(path)}
            for name, (of, description, path) in scenario_headers(wanted).items()}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["model", "description", "path"])
    table.index.name = "scenario"
    return table


def resolve(value: str | os.PathLike) -> tuple[Path, str, bool]:
    """The file a priors argument names, its label, and whether it is a shipped scenario.

    ``value`` is a path to a file, or the name of a shipped scenario. The label
    is what results and printouts call it: the scenario's name, or the file's
    stem. Raises FileNotFoundError, with the closest scenario names, if it is
    neither.
    """
    path = Path(value)
    if path.exists():
        return path, path.stem, False
    shipped = shipped_scenarios()
    if str(value) in shipped:
        return shipped[str(value)], str(value), True
    hint = difflib.get_close_matches(str(value), shipped, n=1)
    raise FileNotFoundError(f"priors file '{value}' not found, nor a shipped scenario"
                            + (f" (did you mean '{hint[0]}'?)" if hint else "")
                            + "; `overhang-jax scenarios` lists them")


def scenario_model(value: str | os.PathLike) -> str:
    """The model a scenario is for: the ``model = "..."`` of the priors file ``value`` names (a path or
    a shipped scenario's name)."""
    from ._priors import PriorsError

    try:
        path = resolve(value)[0]
    except FileNotFoundError as err:
        raise PriorsError(str(err)) from None
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise PriorsError(f"{path}: cannot read a priors file: {err}") from None
    if not isinstance(document.get("model"), str):
        raise PriorsError(f'{path}: the scenario file does not say which model it is for (model = "...")')
    return document["model"]
