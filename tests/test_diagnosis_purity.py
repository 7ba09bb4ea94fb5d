"""The diagnosis package stays pure: plain data in and out, no store, web framework or I/O.

`diagnostics.cases` reads the store for it and `diagnostics.support` holds the service
glue; `diagnostics/diagnosis/*.py` may import only the wire contract (`protocol`), its own
modules and a short list of pure libraries. Imports under `if TYPE_CHECKING:` count too:
a type taken from the store is a dependency on it all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "diagnostics" / "diagnosis"

ALLOWED = frozenset(
    {
        "__future__",
        "collections",
        "dataclasses",
        "datetime",
        "difflib",
        "enum",
        "functools",
        "importlib",
        "math",
        "string",
        "typing",
        "zoneinfo",
        "pydantic",
        "yaml",
        "protocol",
    }
)
"""Top-level modules the diagnosis may import (besides its own package)."""
OWN = "diagnostics.diagnosis"
PURE = frozenset({"diagnostics.errors"})
"""Modules of the service the diagnosis may import: the exception tree, which imports nothing."""


def imports(source: str) -> set[str]:
    """Every module a source imports, by its full dotted name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
    return found


def impure(source: str) -> set[str]:
    """The imports of a source the diagnosis may not have."""
    return {
        name
        for name in imports(source)
        if not (name == OWN or name.startswith(OWN + ".") or name in PURE)
        and name.split(".")[0] not in ALLOWED
    }


MODULES = sorted(PACKAGE.glob("*.py"))


def test_the_package_has_modules():
    assert len(MODULES) > 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_diagnosis_module_imports_nothing_impure(path):
    assert impure(path.read_text(encoding="utf-8")) == set(), path.name


@pytest.mark.parametrize(
    "line",
    [
        "from diagnostics.store import StoredMessage",
        "import diagnostics.store.sqlite",
        "from diagnostics.service import Service",
        "from diagnostics import cases",
        "import fastapi",
        "from fastapi import APIRouter",
        "import sqlite3",
        "import socket",
        "import paho.mqtt.client",
        "if TYPE_CHECKING:\n    from diagnostics.store import Store",
    ],
)
def test_the_walk_catches_an_impure_import(line):
    assert impure(line) != set()


def test_the_service_modules_the_diagnosis_may_import_are_pure_themselves():
    root = PACKAGE.parent.parent
    for name in PURE:
        source = (root / Path(*name.split("."))).with_suffix(".py").read_text()
        assert imports(source) <= {"__future__"}, name
