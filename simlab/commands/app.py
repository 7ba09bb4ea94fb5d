"""The `simlab` command: every command group's typer app, assembled in one place."""

from __future__ import annotations

import typer
from rich.console import Console

from simlab import __version__
from simlab.commands.broker import broker_config
from simlab.commands.customers import onboard
from simlab.commands.fuzz import fuzz
from simlab.commands.reference import faults, files
from simlab.commands.report import report
from simlab.commands.run import run
from simlab.commands.scenarios import scenarios_app
from simlab.commands.stream import protocol_app, replay, serve, simulate
from simlab.commands.train import train

__all__ = ["app", "main"]

app = typer.Typer(
    name="simlab",
    help="SIM lifecycle simulator and device diagnostics for cellular IoT operations teams.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """SIM lifecycle simulator and device diagnostics for cellular IoT operations teams."""


@app.command()
def version() -> None:
    """Print simlab's version."""
    Console().print(__version__)


app.command()(onboard)
app.command()(faults)
app.add_typer(protocol_app, name="protocol")
app.add_typer(scenarios_app, name="scenarios")
for command in (simulate, replay, serve, files, train, report, run, fuzz):
    app.command()(command)
app.command("broker-config")(broker_config)


def main() -> None:
    """Entry point of the console script."""
    app()
