"""Reading a world from YAML: the world file may name its customer's definition file."""

from __future__ import annotations

from pathlib import Path

from simulator.platform.onboarding import load_customer
from simulator.world.spec import WorldSpec
from simulator.world.spec_problems import world_problems
from simulator.yamlfile import load_model

__all__ = ["load_world"]


def load_world(path: str | Path) -> WorldSpec:
    """Validate a world file as a whole; SpecError lists every problem by file, line and field.

    `customer:` is either the definition itself or the path of a customer file, relative to
    the world file (its problems are reported in that file's own lines).
    """
    path = Path(path)

    def prepare(data: dict[str, object]) -> dict[str, object]:
        customer = data.get("customer")
        if isinstance(customer, str):
            return {**data, "customer": load_customer(path.parent / customer)}
        return data

    return load_model(path, WorldSpec, checks=world_problems, prepare=prepare)
