"""The package's import rules, read from the source (as aiohttp's test_imports.py checks its own).

The data flows one way: socket event -> namespace -> conversation service -> bot / store -> emit.
So: the namespaces never touch SQL; the store never knows about the bot, the emitter or Socket.IO;
the bot's readers (matcher, understanding, red flags) know nothing of sockets or the database; and no
module imports, directly or through others, a module that imports it back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "chatbot"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports at its top level or inside functions (``from x import y`` counts x and x.y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


GRAPH = {_module(path): _imports(path) for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}


def _uses(module: str, prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in GRAPH[module])


@pytest.mark.parametrize("module", ["chatbot.visitors", "chatbot.agents"])
def test_namespaces_never_import_sqlalchemy(module: str) -> None:
    assert not _uses(module, "sqlalchemy")


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith("chatbot.store")))
def test_the_store_never_imports_the_bot_the_emitter_or_socketio(module: str) -> None:
    for forbidden in ("chatbot.bot", "chatbot.emitter", "chatbot.matcher", "chatbot.understanding", "socketio"):
        assert not _uses(module, forbidden), (module, forbidden)


@pytest.mark.parametrize("module", sorted(
    m for m in GRAPH if m.startswith(("chatbot.matcher", "chatbot.understanding")) or m == "chatbot.redflags"
))
def test_the_readers_know_nothing_of_sockets_or_the_database(module: str) -> None:
    for forbidden in ("socketio", "sqlalchemy", "aiohttp", "chatbot.store", "chatbot.conversations"):
        assert not _uses(module, forbidden), (module, forbidden)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A chain of imports that comes back to where it started, or None (depth-first, in sorted order)."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        for name in sorted(graph.get(module, ())):
            cycle = visit(name, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles() -> None:
    internal = {
        module: {name for name in names if name in GRAPH and name != module and not name.startswith(module + ".")}
        for module, names in GRAPH.items()
    }
    assert find_cycle(internal) is None
