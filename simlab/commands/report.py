"""`simlab report`: one HTML page of a run directory's plots and tables, that opens offline."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - typer reads the annotations at run time
from typing import Annotated

import typer
from rich.console import Console

from simlab.commands.exits import bad_input

__all__ = ["report"]

out = Console()


def report(
    directory: Annotated[Path, typer.Argument(help="A run directory (simlab run or train --out).")],
    output: Annotated[
        Path | None, typer.Option("--output", help="The HTML file (default: DIR/report.html).")
    ] = None,
) -> None:
    """Write a run directory's report: one HTML page of plots and tables that opens offline."""
    from simlab.report import ReportError, write_report  # noqa: PLC0415 - only this command needs it

    try:
        path = write_report(directory, output)
    except ReportError as exc:
        bad_input(str(exc))
    out.print(f"wrote {path}", highlight=False)
