"""How a command ends on bad input: the problems on stderr, then exit code 2."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from simulator.errors import SpecError

__all__ = ["EXIT_BAD_INPUT", "bad_input", "bad_spec"]

EXIT_BAD_INPUT = 2
"""The exit code for input the command cannot use: a bad file, option or name."""


def bad_spec(exc: SpecError) -> NoReturn:
    """Print every problem of a file (file:line: field: message) and exit with code 2."""
    for problem in exc.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def bad_input(message: str) -> NoReturn:
    """Print what is wrong with the input and exit with code 2."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)
