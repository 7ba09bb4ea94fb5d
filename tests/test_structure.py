"""The layout holds: imports point one way, no module grows past one idea's size.

The import graph is read from the source with `ast`, so it sees what runs: an import inside
a function counts (a deferred import is still a cycle), one under `if TYPE_CHECKING:` does not
(annotations only). `from a.b import c` is an edge to the module `a.b.c` where there is
one, else to `a.b`; never to the parent packages an import also runs, so a package that
exports its submodules' names is not a cycle with them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "simulator", "diagnostics", "simlab")
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path
    for package in PACKAGES
    for path in sorted((ROOT / package).rglob("*.py"))
}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, *, runtime: bool) -> set[str]:
    """The project modules `module` imports (at run time only, or also for types)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if runtime and isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                if MODULES[module].name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in MODULES and name != module}


def _graph(*, runtime: bool) -> dict[str, set[str]]:
    return {
        name: _imports(ast.parse(path.read_text()), name, runtime=runtime)
        for name, path in MODULES.items()
    }


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` leads to through one or more imports."""
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, through any number of steps."""
    reach = {node: _reachable(graph, node) for node in graph}
    groups = {
        frozenset({node} | {other for other in reach[node] if node in reach[other]})
        for node in graph
        if node in reach[node]
    }
    return sorted(sorted(group) for group in groups)


def test_no_module_imports_another_that_imports_it_back_at_run_time():
    assert _cycles(_graph(runtime=True)) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    ("one", "other"), [("simulator", "diagnostics"), ("diagnostics", "simulator")]
)
def test_simulator_and_diagnostics_never_import_each_other(one, other):
    graph = _graph(runtime=False)
    crossing = {
        (name, target)
        for name, targets in graph.items()
        if name.split(".")[0] == one
        for target in targets
        if target.split(".")[0] == other
    }
    assert crossing == set()


def test_protocol_imports_nothing_of_the_other_packages():
    graph = _graph(runtime=False)
    assert {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("protocol")
        for target in targets
        if not target.startswith("protocol")
    } == set()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_one_idea_needs(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(ROOT)} has {lines} lines"
