"""Files shipped with simlab: scenarios and sample customer definitions, found by name or path.

A scenario is named by a path or by a bundled scenario's name; a name that is
neither raises `UnknownScenarioError`, which suggests the nearest bundled names.
A scenario's own references (its world and customer files) are looked up
beside the scenario first, then among the bundled files (`referenced`).
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

__all__ = ["UnknownScenarioError", "bundled", "bundled_names", "referenced", "resolve", "scenario"]


class UnknownScenarioError(LookupError):
    """No scenario file or bundled scenario has that name; the message suggests near names."""


def bundled() -> Path:
    """The folder of bundled scenario files (`scenarios/`, or its copy in a wheel)."""
    return Path(str(resources.files("simlab.scenarios")))


def bundled_names() -> list[str]:
    """The bundled scenarios' names (`lost-giraffe`, ...), sorted."""
    return sorted(path.stem for path in bundled().glob("*.yaml"))


def resolve(name: str, *, folder: str = "") -> Path:
    """`name` as a path when it exists, else the bundled `scenarios/<folder>/<name>.yaml`."""
    path = Path(name)
    if path.exists():
        return path
    candidate = bundled() / folder / (name if name.endswith(".yaml") else f"{name}.yaml")
    return candidate if candidate.exists() else path


def scenario(name: str) -> Path:
    """The scenario file `name` names: a path, or a bundled scenario's name.

    A name written as a path (with a folder or `.yaml`) is returned as it is, found or not.

    Raises:
        UnknownScenarioError: neither; the message says so and suggests the nearest names.
    """
    path = resolve(name)
    if path.is_file() or path.suffix in {".yaml", ".yml"} or len(path.parts) > 1:
        return path  # a path: reading it says what is wrong with it
    stem = Path(name).name.removesuffix(".yaml")
    near = difflib.get_close_matches(stem, bundled_names(), n=1)
    hint = f"; did you mean {near[0]}?" if near else ""
    raise UnknownScenarioError(
        f"{name}: no such scenario or file{hint} (`simlab scenarios list` lists them)"
    )


def referenced(scenario_file: Path, name: str, *, folder: str) -> tuple[Path | None, list[Path]]:
    """The file a scenario names by relative path, and the places looked at, in order.

    Beside the scenario first, then among the bundled files (`scenarios/NAME`, then
    `scenarios/<folder>/NAME`, the latter also with `.yaml` added). An absolute
    path is only itself.
    """
    given = Path(name)
    if given.is_absolute():
        return (given if given.is_file() else None), [given]
    file = given.name if given.suffix in {".yaml", ".yml"} else f"{given.name}.yaml"
    places = [scenario_file.parent / name, bundled() / name, bundled() / folder / file]
    unique = list(dict.fromkeys(places))
    return next((p for p in unique if p.is_file()), None), unique
