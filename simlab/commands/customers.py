"""`simlab onboard`: a customer definition checked as a whole, onboarded in bulk, summarised."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from simlab.commands.exits import bad_input, bad_spec
from simlab.resources import resolve
from simulator.errors import SimulatorError, SpecError

if TYPE_CHECKING:
    from simulator.platform.platform import Platform
    from simulator.platform.summary import OnboardingSummary

__all__ = ["onboard"]

out = Console()


def onboard(
    file: Annotated[
        str, typer.Argument(help="Customer definition YAML, or the name of a bundled one.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Validate a customer definition as a whole, then onboard it in bulk and summarise."""
    from simulator.platform.onboarding import load_customer  # noqa: PLC0415 - only this command needs it
    from simulator.platform.platform import Platform  # noqa: PLC0415 - likewise

    path = resolve(file, folder="customers")
    began = time.perf_counter()
    try:
        spec = load_customer(path)
        platform = Platform()
        summary = platform.onboard(spec)
    except SpecError as exc:
        bad_spec(exc)
    except SimulatorError as exc:
        bad_input(f"{path}: {exc}")
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
