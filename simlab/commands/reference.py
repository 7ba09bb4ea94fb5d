"""What simlab ships: the fault catalogue a world draws on, and the bundled files."""

from __future__ import annotations

import typer
from rich.console import Console

from simlab.resources import bundled

__all__ = ["faults", "files"]

out = Console()


def faults() -> None:
    """List the fault catalogue: id, where it strikes, the cause to diagnose, what happens."""
    from simulator.world.faults import CATALOGUE  # noqa: PLC0415 - only this command needs it

    for kind in CATALOGUE.values():
        typer.echo(
            f"{kind.id.value:<24} {kind.scope:<8} cause={kind.id.cause.value:<24} {kind.summary}"
        )


def files() -> None:
    """List the bundled scenario and customer files."""
    root = bundled()
    for path in sorted(root.rglob("*.yaml")):
        out.print(str(path.relative_to(root)))
