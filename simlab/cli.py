"""The `simlab` command."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from simlab import __version__
from simlab.resources import bundled, resolve
from simulator.errors import SimulatorError, SpecError
from simulator.platform.onboarding import load_customer
from simulator.platform.platform import OnboardingSummary, Platform
from simulator.world.faults import CATALOGUE

__all__ = ["app", "main"]

app = typer.Typer(
    name="simlab",
    help="SIM lifecycle simulator and device diagnostics for cellular IoT operations teams.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()

EXIT_BAD_INPUT = 2


@app.callback()
def _root() -> None:
    """SIM lifecycle simulator and device diagnostics for cellular IoT operations teams."""


@app.command()
def version() -> None:
    """Print simlab's version."""
    out.print(__version__)


@app.command()
def onboard(
    file: Annotated[
        str, typer.Argument(help="Customer definition YAML, or the name of a bundled one.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Validate a customer definition as a whole, then onboard it in bulk and summarise."""
    path = resolve(file, folder="customers")
    began = time.perf_counter()
    try:
        spec = load_customer(path)
        platform = Platform()
        summary = platform.onboard(spec)
    except SpecError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except SimulatorError as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    elapsed = time.perf_counter() - began
    if as_json:
        payload = {
            **asdict(summary),
            "by_state": platform.summary_by_state(),
            "seconds": round(elapsed, 3),
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    _print_summary(summary, platform, elapsed)


def _print_summary(summary: OnboardingSummary, platform: Platform, elapsed: float) -> None:
    out.print(f"[bold]Onboarded {summary.customer}[/bold] in {elapsed:.2f} s")
    counts = Table(show_header=False, box=None, padding=(0, 2))
    for label, value in (
        ("accounts", summary.accounts),
        ("communication plans", summary.communication_plans),
        ("rate plans", summary.rate_plans),
        ("IPsec tunnels", summary.tunnels),
        ("automation rules", summary.automation_rules),
        ("SIMs", f"{summary.sims:,}"),
        ("audit entries", summary.audit_entries),
    ):
        counts.add_row(label, str(value))
    out.print(counts)
    ranges = Table(title="SIM ranges", title_justify="left", box=None)
    ranges.add_column("first ICCID", no_wrap=True, min_width=19)
    ranges.add_column("last ICCID", no_wrap=True, min_width=19)
    ranges.add_column("SIMs", justify="right")
    ranges.add_column("account", overflow="fold")
    ranges.add_column("state", overflow="fold")
    for r in summary.ranges:
        ranges.add_row(r.first, r.last, f"{r.count:,}", r.account, r.state)
    out.print(ranges)
    states = ", ".join(f"{name} {n:,}" for name, n in platform.summary_by_state().items())
    out.print(f"SIMs by state: {states}")


@app.command()
def faults() -> None:
    """List the fault catalogue: id, where it strikes, the cause to diagnose, what happens."""
    for kind in CATALOGUE.values():
        typer.echo(
            f"{kind.id.value:<24} {kind.scope:<8} cause={kind.id.cause.value:<24} {kind.summary}"
        )


@app.command("files")
def files() -> None:
    """List the bundled scenario and customer files."""
    root = bundled()
    for path in sorted(root.rglob("*.yaml")):
        out.print(str(path.relative_to(root)))


def main() -> None:
    """Entry point of the console script."""
    app()
