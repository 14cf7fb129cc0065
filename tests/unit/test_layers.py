"""The layers depend one way: bot/ -> dialogs/ -> storage/, with no cycles, botbuilder only at the
edge, and language understanding pure. Read from the source itself (every import statement, at
module level or inside a function), so a new backward arrow fails here the day it is written."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("bot", "dialogs", "storage")
RANK = {"storage": 0, "dialogs": 1, "bot": 2}  # an import may only point at the same or a lower rank
EDGE_ONLY = ("botbuilder", "botframework", "msrest")
DATABASE_LIBRARIES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "alembic")
# What language understanding may use: the standard library's pure parts, rapidfuzz, itself, and
# the read-only views of the tracker it resolves against.
LANGUAGE_MAY_IMPORT = frozenset({
    "__future__", "array", "bisect", "calendar", "collections", "dataclasses", "datetime", "enum", "functools", "heapq", "math",
    "re", "types", "typing", "unicodedata", "rapidfuzz", "dialogs.language", "storage.views", "storage.readmodel",
})  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" not in path.parts:
                out[_module_name(path)] = path
    return out


SOURCES = _sources()


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # "from dialogs.language import understand" may name a submodule
                sub = f"{base}.{alias.name}"
                yield (sub if sub in SOURCES else base), node.lineno


def _internal(name: str) -> str | None:
    """The project module an import refers to (itself, or the closest package above it)."""
    while name:
        if name in SOURCES:
            return name
        name = name.rpartition(".")[0]
    return None


GRAPH = {
    m: sorted({t for name, _ in _imports(m, p) if (t := _internal(name)) and t != m})
    for m, p in SOURCES.items()
}


def test_the_walk_sees_the_whole_project() -> None:
    assert {
        "bot.app",
        "dialogs.conversation",
        "dialogs.language.understand",
        "storage.store",
    } <= SOURCES.keys()
    assert "storage.store" in GRAPH["dialogs.conversation"]  # the walk does find real arrows


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_no_backward_arrow(module: str) -> None:
    layer = module.split(".")[0]
    backward = [t for t in GRAPH[module] if RANK[t.split(".")[0]] > RANK[layer]]
    assert not backward, f"{module} ({layer}) imports {backward}: dependencies run bot -> dialogs -> storage"


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if not m.startswith("bot")))
def test_botbuilder_only_at_the_edge(module: str) -> None:
    found = [(n, line) for n, line in _imports(module, SOURCES[module]) if n.split(".")[0] in EDGE_ONLY]
    assert not found, (
        f"{module} imports {found}: only bot/ may use botbuilder (the edge moves to the Agents SDK alone)"
    )


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m.startswith("dialogs.language")))
def test_language_understanding_is_pure(module: str) -> None:
    def allowed(name: str) -> bool:
        return any(name == a or name.startswith(a + ".") for a in LANGUAGE_MAY_IMPORT)

    found = [(n, line) for n, line in _imports(module, SOURCES[module]) if not allowed(n)]
    assert not found, f"{module} imports {found}: language understanding does no I/O and uses no storage"


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if not m.startswith("storage")))
def test_only_the_store_talks_to_the_database(module: str) -> None:
    drivers = [
        (n, line) for n, line in _imports(module, SOURCES[module]) if n.split(".")[0] in DATABASE_LIBRARIES
    ]
    assert not drivers, f"{module} imports {drivers}: outside storage/ the Store is the one way in"
    text = SOURCES[module].read_text(encoding="utf-8")
    for needle in (".sessions", "session_factory", "create_engine"):
        assert needle not in text, (
            f"{module} uses {needle}: nothing outside storage/ gets the session factory"
        )


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the module graph: every one must be a single module."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"
