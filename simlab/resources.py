"""Files shipped with simlab: scenarios and sample customer definitions, found by name or path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["bundled", "resolve"]


def bundled() -> Path:
    """The folder of bundled scenario files (`scenarios/`, or its copy in a wheel)."""
    return Path(str(resources.files("simlab.scenarios")))


def resolve(name: str, *, folder: str = "") -> Path:
    """`name` as a path when it exists, else the bundled `scenarios/<folder>/<name>.yaml`."""
    path = Path(name)
    if path.exists():
        return path
    candidate = bundled() / folder / (name if name.endswith(".yaml") else f"{name}.yaml")
    return candidate if candidate.exists() else path
