"""Imports go one way (docs/architecture.md): a module imports its own layer and the layers
below it, never one above; only the application imports the `Config` object."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "contrastkit"

LAYERS: dict[str, int] = {
    # 0 core
    "errors": 0,
    "distributed": 0,
    "atomic": 0,
    "temporaries": 0,
    "options": 0,
    "batches": 0,
    "schedule": 0,
    "yaml_input": 0,
    "losses": 0,
    "heads": 0,
    # 1 building blocks
    "encoders": 1,
    "augment": 1,
    "audio": 1,
    "data": 1,
    "eval": 1,
    "viz": 1,
    # 2 methods, 3 modalities, 4 train
    "methods": 2,
    "modalities": 3,
    "train": 4,
    "rundir": 4,
    "destinations": 4,
    # 5 application
    "config": 5,
    "builders": 5,
    "run": 5,
    "use": 5,
    "cli": 5,
    "report": 5,
    "index": 5,
    "export": 5,
    "serve": 5,
    "sweep": 5,
    "__main__": 5,
    "__init__": 0,
}
NAMES = ("core", "building blocks", "methods", "modalities", "train", "application")


def _top(module: str) -> str:
    """'contrastkit.losses.nt_xent' -> 'losses'."""
    return module.split(".")[1] if "." in module else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every contrastkit import in a file, function-level ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, mod) for line, mod in found if mod.split(".")[0] == "contrastkit"]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_top_level_module_has_a_layer() -> None:
    tops = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in _modules()}
    assert tops <= set(LAYERS), f"add to LAYERS: {sorted(tops - set(LAYERS))}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down(path: Path) -> None:
    own = LAYERS[path.relative_to(PACKAGE).parts[0].removesuffix(".py")]
    upward = [
        f"line {line}: {module} ({NAMES[LAYERS[_top(module)]]})"
        for line, module in _imports(path)
        if LAYERS[_top(module)] > own
    ]
    assert not upward, f"{path.relative_to(PACKAGE)} ({NAMES[own]}) imports upward: {upward}"


def test_only_the_application_imports_the_config() -> None:
    users = [
        str(path.relative_to(PACKAGE))
        for path in _modules()
        if LAYERS[path.relative_to(PACKAGE).parts[0].removesuffix(".py")] < 5
        and any(module == "contrastkit.config" for _, module in _imports(path))
    ]
    assert users == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from contrastkit.train.loop import fit\n")
    assert _imports(bad) == [(2, "contrastkit.train.loop")]
