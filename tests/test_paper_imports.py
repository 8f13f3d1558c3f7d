"""``services/paper`` has no import cycles: each module imports on its own, and the graph of the imports
between its modules (type-checking and function-level imports included) is acyclic."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import perptui.services.paper as paper

PACKAGE = "perptui.services.paper"
FOLDER = Path(paper.__file__).parent
MODULES = sorted(p.stem for p in FOLDER.glob("*.py"))


def _name(stem: str) -> str:
    return PACKAGE if stem == "__init__" else f"{PACKAGE}.{stem}"


def imports_of(stem: str) -> set[str]:
    """The package's modules ``stem`` imports anywhere in its source (``__init__``: the package itself,
    e.g. ``from perptui.services.paper import open_engine``; ``... import breaker`` is the submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((FOLDER / f"{stem}.py").read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            names = [f"{PACKAGE}.{a.name}" if a.name in MODULES else PACKAGE for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            if name == PACKAGE:
                found.add("__init__")
            elif name.removeprefix(PACKAGE + ".") in MODULES:
                found.add(name.removeprefix(PACKAGE + "."))
    found.discard(stem)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_paper_modules_import_each_other_without_a_cycle() -> None:
    graph = {stem: imports_of(stem) for stem in MODULES}
    assert "engine" in graph["__init__"] and "ledger" in graph["engine"]
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"


@pytest.mark.parametrize("stem", ["orders", "marks", "funding", "catchup"])
def test_the_event_modules_never_see_the_engine(stem: str) -> None:
    assert "engine" not in imports_of(stem) and "__init__" not in imports_of(stem)


def test_each_module_imports_on_its_own() -> None:
    """A fresh interpreter per module: a cycle would fail with a partially initialised module."""
    for stem in MODULES:
        result = subprocess.run(
            [sys.executable, "-c", f"import {_name(stem)}"], capture_output=True, text=True, check=False
        )
        last = result.stderr.strip().splitlines()[-1:]
        assert result.returncode == 0, f"import {_name(stem)} failed: {last}"
