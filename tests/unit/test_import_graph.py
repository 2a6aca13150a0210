"""The modules of ``signaling/`` import each other without a cycle.

A cycle (it was auth -> errors -> metrics -> state -> auth) makes import
order matter and hides it behind imports inside functions; so every import
counts here, top-level or not.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "signaling"


def _local_imports(path: Path, modules: set[str]) -> set[str]:
    """The sibling modules ``path`` imports, at any depth of its syntax tree."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or (node.level == 0 and (node.module or "").split(".")[0] == "signaling"):
                parts = (node.module or "").split(".")
                head = parts[0] if node.level == 1 else (parts[1] if len(parts) > 1 else "")
                names = [head] if head else [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("signaling.")]
        found.update(n for n in names if n in modules)
    return found - {path.stem}


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    return {p.stem: _local_imports(p, modules) for p in PACKAGE.glob("*.py")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_is_read():
    graph = import_graph()
    # A few edges that must exist, so an empty (misparsed) graph cannot pass.
    assert "errors" in graph["auth"] and "store" in graph["state"] and "api" in graph["__init__"]
    assert {"sessions", "rooms", "mailboxes"} <= graph["store"] and "mailboxes" in graph["rooms"]


def test_the_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_signaling_has_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_delivery_does_not_import_the_api_views():
    assert "api" not in import_graph()["delivery"]
