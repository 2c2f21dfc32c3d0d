"""The package's import rules, read from the source (as aiohttp's test_imports.py checks its own).

The data flows one way: socket event -> namespace -> conversation service -> bot / store -> emit.
So: the namespaces never touch SQL; the store never knows about the bot, the emitter or Socket.IO;
the bot's readers (matcher, understanding, red flags) know nothing of sockets or the database; and no
module imports, directly or through others, a module that imports it back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "chatbot"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (imports for the type checker only, never run)."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports when it runs, at its top or inside functions (``from x import y``: x and x.y)."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


GRAPH = {_module(path): _imports(path) for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}


def _uses(module: str, prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in GRAPH[module])


@pytest.mark.parametrize("module", ["chatbot.chat.visitors", "chatbot.chat.agents"])
def test_namespaces_never_import_sqlalchemy(module: str) -> None:
    assert not _uses(module, "sqlalchemy")


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith("chatbot.store")))
def test_the_store_never_imports_the_bot_the_conversation_or_socketio(module: str) -> None:
    for forbidden in ("chatbot.bot", "chatbot.chat", "chatbot.web", "chatbot.admin", "socketio"):
        assert not _uses(module, forbidden), (module, forbidden)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith("chatbot.bot")))
def test_the_bot_knows_nothing_of_sockets_the_database_or_the_conversation(module: str) -> None:
    for forbidden in ("socketio", "sqlalchemy", "aiohttp", "chatbot.store", "chatbot.chat", "chatbot.web"):
        assert not _uses(module, forbidden), (module, forbidden)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if not m.startswith("chatbot.store")))
def test_sql_lives_in_the_store(module: str) -> None:
    assert not _uses(module, "sqlalchemy")


LAYERS = ("cli", "web", "admin", "quality", "chat", "content", "bot", "integrations", "store", "shared")
"""Top to bottom: a package imports only packages below it (``shared`` is what every layer may use)."""


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.count(".") >= 2 and m.split(".")[1] in LAYERS))
def test_no_import_runs_back_up_the_layers(module: str) -> None:
    own = LAYERS.index(module.split(".")[1])
    for name in GRAPH[module]:
        parts = name.split(".")
        if parts[0] == "chatbot" and len(parts) > 1 and parts[1] in LAYERS:
            assert LAYERS.index(parts[1]) >= own, f"{module} imports {name}, above it"


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


def _readme_modules() -> set[str]:
    """The paths the README's module table names (a folder ending in / stands for everything in it)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("| module | concept |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `chatbot/")]
    return {path for row in rows for path in re.findall(r"`(chatbot/[\w/.]+)`", row.split("|")[1])}


def test_the_readme_module_table_names_every_module_and_nothing_else() -> None:
    named = _readme_modules()
    modules = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    packages = {f"{Path(m).parent}/" for m in modules}

    def covered(module: str) -> bool:
        return module in named or any(module.startswith(n) for n in named if n.endswith("/") and n != "chatbot/")

    inits = {m for m in modules if m.endswith("__init__.py") and f"{Path(m).parent}/" not in named}
    assert sorted(m for m in modules - inits if not covered(m)) == []
    assert sorted(n for n in named if n not in modules and n not in packages) == []


@pytest.mark.parametrize("path", sorted(
    p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" and "migrations" not in p.parts
), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_has_its_test_file_or_says_where_its_tests_are(path: Path) -> None:
    if (ROOT / "tests" / f"test_{path.stem}.py").exists():
        return
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    named = re.findall(r"tests/(test_\w+\.py)", doc.split("Tested in", 1)[1]) if "Tested in" in doc else []
    assert named, f"{path.name}: no tests/test_{path.stem}.py and no 'Tested in tests/...' in its docstring"
    assert all((ROOT / "tests" / name).exists() for name in named), named
