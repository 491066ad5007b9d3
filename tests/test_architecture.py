"""The layout is the architecture: each layer imports only the layers below it, no module
imports another's private name, and docs/architecture.md names every module in the tree."""

import ast
from pathlib import Path

import overhang_jax as oj

PACKAGE = Path(oj.__file__).parent
ROOT = PACKAGE.parent

LAYERS = {
    # layer: the layers it may import (besides itself)
    "base": set(),
    "models": {"base"},
    "priors": {"base", "models"},
    "results": {"base", "models"},
    "engine": {"base", "models", "priors", "results"},
    "studies": {"base", "models", "priors", "results", "engine"},
    "present": {"base", "models", "priors", "results", "engine", "studies"},
    "cli": {"base", "models", "priors", "results", "engine", "studies", "present"},
    "api": {"base", "models", "priors", "results", "engine", "studies", "present", "cli"},
}
BASE = {"_errors", "_io", "_version"}


def layer_of(module: str) -> str:
    """``module`` is dotted inside the package, e.g. 'engine._run' or '_results'."""
    head = module.split(".")[0]
    if head in BASE:
        return "base"
    if head == "_results":
        return "results"
    if head in ("__init__", "plots"):
        return "api"
    return head


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        dotted = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        yield path, dotted


def imports(path: Path, dotted: str):
    """(imported module, imported name or None, line) for each import of the package's own code."""
    package = dotted.split(".")[:-1] if not dotted.endswith("__init__") else dotted.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("overhang_jax"):
                target = node.module.removeprefix("overhang_jax").lstrip(".")
            else:
                continue
            for alias in node.names:
                yield target, alias.name, node.lineno


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for path, dotted in modules():
        mine = layer_of(dotted)
        for target, name, line in imports(path, dotted):
            is_package = not target or (PACKAGE / Path(*target.split(".")) / "__init__.py").exists()
            full = (f"{target}.{name}" if target else name) if is_package else target
            theirs = layer_of(full)
            if theirs != mine and theirs not in LAYERS[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {full or name} ({theirs})")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_modules_private_name():
    wrong = []
    for path, dotted in modules():
        for target, name, line in imports(path, dotted):
            target_is_package = (PACKAGE / Path(*target.split(".")) / "__init__.py").exists() if target else True
            # Importing a private module (``from . import _run``) is how the layout works; a private
            # function, class or constant of another module is not.
            if name.startswith("_") and not name.startswith("__") and not target_is_package:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}.{name}")
    assert not wrong, "\n".join(wrong)


def test_the_architecture_map_names_every_module_and_no_other():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = {dotted for _, dotted in modules() if not dotted.endswith("__init__")}
    missing = sorted(m for m in named if f"`{m.replace('.', '/')}.py`" not in page)
    assert not missing, f"docs/architecture.md does not name {missing}"
    import re

    listed = {m for m in re.findall(r"`([a-z_/]+)\.py`", page) if not m.startswith(("tests/", "docs/"))}
    stale = sorted(m for m in listed if not (PACKAGE / f"{m}.py").exists())
    assert not stale, f"docs/architecture.md names modules that do not exist: {stale}"


PUBLIC_API = {
    "FTM", "INFERENCE", "TAKEOFF", "TRAJECTORY", "Model", "Output", "Parameter", "Priors", "PriorsError",
    "PriorsWarning", "ResultsError", "RunError", "__version__", "compare", "compare_summary", "configure",
    "StorageError", "NonfiniteError", "NonfiniteWarning",
    "comparison_findings", "comparison_notes", "copies_multiplier", "evaluate", "format_comparison",
    "format_summary", "format_sweep", "get_model", "load", "load_priors", "nonfinite_counts", "nonfinite_draws",
    "outputs", "parameters", "plots", "policy_in_words", "policy_outcomes", "policy_shares", "rank_correlations",
    "run", "save", "scenarios", "sobol_indices", "summary", "sweep", "sweep_conditioning", "sweep_headline",
    "sweep_run", "sweep_shares", "sweep_summary", "trajectory_bands",
    "write_report",
}


def test_the_public_api_keeps_its_names():
    # One name table (overhang_jax/__init__.py); a name may be added here with it, never lost.
    assert PUBLIC_API <= set(oj.__all__), sorted(PUBLIC_API - set(oj.__all__))
