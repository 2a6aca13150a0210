"""The store's modules keep their one job each, and envelopes are built in one place.

Read from the source with ``ast`` (like test_import_graph.py), so a shortcut
that mixes the jobs again fails here rather than in review.
"""

from __future__ import annotations

import ast

from tests.unit.test_import_graph import PACKAGE, import_graph

# Lower layers never reach up: a mailbox knows no rooms or sessions, a room
# no sessions; the composition (store.py) is reached only from above.
LAYERS = ["clock", "keyspace", "pipelining", "mailboxes", "rooms", "sessions", "store"]
STORE_MODULES = [*LAYERS, "directory", "envelope", "lua"]


def test_the_store_modules_are_layered():
    graph = import_graph()
    for i, module in enumerate(LAYERS):
        above = set(LAYERS[i + 1 :])
        assert not graph[module] & above, f"{module} imports {graph[module] & above}, a layer above it"


def test_each_job_depends_on_the_shared_keyspace():
    graph = import_graph()
    for job in ("sessions", "rooms", "mailboxes"):
        assert {"keyspace", "clock"} <= graph[job], job


def test_the_store_knows_nothing_of_flask():
    for module in STORE_MODULES:
        tree = ast.parse((PACKAGE / f"{module}.py").read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(name.split(".")[0] in ("flask", "werkzeug") for name in imported), module


def _builds_an_envelope(node: ast.AST) -> bool:
    """A dict display with the envelope's own keys ("from" and "type" or "from_name"),
    or text that writes one of those keys as JSON (an envelope formatted by hand)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return '"from":' in node.value or '"from_name":' in node.value
    if not isinstance(node, ast.Dict):
        return False
    keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
    return "from" in keys and bool(keys & {"type", "from_name"})


def test_envelopes_are_built_only_in_envelope_py():
    """lua.py is the one exception envelope.py documents: TOUCH_SEND appends the sender's name."""
    builders = {
        path.stem
        for path in PACKAGE.glob("*.py")
        if any(_builds_an_envelope(n) for n in ast.walk(ast.parse(path.read_text())))
    }
    assert builders == {"envelope", "lua"}


def test_the_envelope_finder_finds_one():
    tree = ast.parse('body = {"type": kind, "data": data, "from": sender}')
    assert any(_builds_an_envelope(n) for n in ast.walk(tree))
    formatted = ast.parse("""text = '{"type":"%s","from":"%s"}' % (kind, sender)""")
    assert any(_builds_an_envelope(n) for n in ast.walk(formatted))
    assert not any(_builds_an_envelope(n) for n in ast.walk(ast.parse('{"type": "x", "title": "y"}')))
