"""How a command ends: the exit codes every command shares, and the one line said before them.

Every command exits with one of these (the README's table of exit codes):

    0  EXIT_OK           done, and the answer key met (where there is one)
    1  EXIT_KEY_NOT_MET  done, but the run did not meet its answer key
    2  EXIT_BAD_INPUT    input the command cannot use: a file, option, name or answer
    3  EXIT_UNREACHABLE  a broker or a store could not be reached or opened
    4  EXIT_CUT_SHORT    stopped before the end (Ctrl-C); what was done is kept
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, NoReturn

import typer

if TYPE_CHECKING:
    from simulator.errors import SpecError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CUT_SHORT",
    "EXIT_KEY_NOT_MET",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "bad_input",
    "bad_spec",
    "cut_short",
    "unreachable",
]

EXIT_OK: Final = 0
"""Done, and the answer key met (where the command has one)."""
EXIT_KEY_NOT_MET: Final = 1
"""Done, but the run did not meet its answer key (or the run failed on its way)."""
EXIT_BAD_INPUT: Final = 2
"""The exit code for input the command cannot use: a bad file, option or name."""
EXIT_UNREACHABLE: Final = 3
"""A broker or a store could not be reached or opened."""
EXIT_CUT_SHORT: Final = 4
"""Stopped before the end, by Ctrl-C; what was done so far is kept."""


def bad_spec(exc: SpecError) -> NoReturn:
    """Print every problem of a file (file:line: field: message) and exit with code 2."""
    for problem in exc.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def bad_input(message: str) -> NoReturn:
    """Print what is wrong with the input and exit with code 2."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def unreachable(message: str) -> NoReturn:
    """Print which broker or store could not be reached and exit with code 3."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_UNREACHABLE)


def cut_short(message: str) -> NoReturn:
    """Print where the command stopped and what it kept, and exit with code 4."""
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_CUT_SHORT)
