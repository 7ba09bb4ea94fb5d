"""`simlab run`: a scenario end to end, then its diagnoses, customer messages and scorecard."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from simlab.commands.exits import (
    EXIT_KEY_NOT_MET,
    EXIT_OK,
    bad_input,
    bad_spec,
    cut_short,
    unreachable,
)
from simlab.resources import UnknownScenarioError
from simlab.resources import scenario as scenario_path
from simulator.errors import SpecError

if TYPE_CHECKING:
    from simlab.run import RunInterrupted, RunOptions, RunReport
    from simlab.scenario import ScenarioSpec

__all__ = [
    "STATUS_STYLES",
    "Size",
    "default_out",
    "fleet_line",
    "render",
    "run",
    "run_with_progress",
    "status",
    "stopped",
    "tls_files",
    "tried",
]

MESSAGES_SHOWN = 3
"""Customer messages printed in full; the rest are in the run directory."""


Size = Annotated[
    int | None, typer.Option("--size", min=1, help="Fleet size, for scenarios that scale.")
]
"""The `--size` option of the commands that run a scenario."""


def default_out(name: str) -> Path:
    """A new run directory: simlab-runs/NAME-TIME, the time in UTC."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Path("simlab-runs") / f"{name}-{stamp}"


def _hours(seconds: float) -> str:
    return f"{int(seconds // 3600):d}:{int(seconds % 3600 // 60):02d}"


def run(  # noqa: PLR0913, PLR0917 - the command's options
    scenario: Annotated[str, typer.Argument(help="A bundled scenario's name or a YAML file.")],
    speed: Annotated[
        str, typer.Option("--speed", help="Simulated seconds per wall second, or max.")
    ] = "max",
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="mqtt://[user:password@]host:port, mqtts:// for TLS; default: an embedded "
            "broker. The publisher and the service both log in with it.",
        ),
    ] = None,
    ca: Annotated[
        Path | None, typer.Option("--ca", help="mqtts://: the CA certificate to trust.")
    ] = None,
    cert: Annotated[
        Path | None, typer.Option("--cert", help="mqtts://: a client certificate, with --key.")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="mqtts://: the client certificate's key.")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Write the recording here too.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Run directory (default: simlab-runs/NAME-TIME)."),
    ] = None,
    size: Size = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the scorecard and verdicts as JSON.")
    ] = False,
) -> None:
    """Run a scenario end to end: world, MQTT, diagnostics service, diagnoses and scorecard.

    Exit code 0 when the run meets its answer key, 1 when it does not, 2 on bad input,
    3 when the broker cannot be reached, 4 when stopped by Ctrl-C (the run directory
    then holds what was done, its run.json marked partial).
    """
    from simlab.publishing import parse_speed  # noqa: PLC0415 - only this command needs it
    from simlab.run import RunInterrupted, RunOptions  # noqa: PLC0415 - likewise
    from simlab.scenario import device_count, load_scenario  # noqa: PLC0415 - likewise
    from simlab.service_thread import RunError, UnreachableError  # noqa: PLC0415 - likewise

    err = Console(stderr=True)
    try:
        path = scenario_path(scenario)
        spec = load_scenario(path, size=size)
    except SpecError as exc:
        bad_spec(exc)
    except UnknownScenarioError as exc:
        bad_input(str(exc))
    name = path.stem
    try:
        pace = parse_speed(speed)
    except ValueError as exc:
        bad_input(f"--speed: {exc}")
    tls_files(broker, ca=ca, cert=cert, key=key)
    if broker is not None:
        tried(broker)
    options = RunOptions(
        out=out or default_out(name),
        speed=pace,
        broker=broker,
        record=record,
        ca=ca,
        cert=cert,
        key=key,
    )
    devices = device_count(spec)
    if not as_json:
        err.print(Panel(spec.story.strip(), title=spec.title, subtitle=name, expand=False))
    try:
        report = run_with_progress(spec, name, options, err, transient=as_json)
    except UnreachableError as exc:
        unreachable(str(exc))
    except RunError as exc:
        err.print(f"run failed: {exc}")
        raise typer.Exit(EXIT_KEY_NOT_MET) from None
    except RunInterrupted as exc:
        cut_short(stopped(exc))
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        render(report, Console(), devices=devices)
    raise typer.Exit(EXIT_OK if report.scorecard.passed else EXIT_KEY_NOT_MET)


def tls_files(broker: str | None, *, ca: Path | None, cert: Path | None, key: Path | None) -> None:
    """Check `--ca`, `--cert`, `--key`: mqtts:// only, cert with key, files there (else exit 2)."""
    files = {"--ca": ca, "--cert": cert, "--key": key}
    given = {flag: file for flag, file in files.items() if file is not None}
    if given and not (broker or "").startswith("mqtts://"):
        bad_input(f"{', '.join(given)}: only with --broker mqtts://")
    if (cert is None) != (key is None):
        bad_input("--cert and --key go together: give both or neither")
    for flag, file in given.items():
        if not file.is_file():
            bad_input(f"{flag} {file}: no such file")


def tried(broker: str) -> None:
    """Check `--broker` before anything starts: exit 2 on a bad URL, 3 when nothing answers."""
    from simlab.run import check_broker  # noqa: PLC0415 - only the commands that run need it
    from simlab.service_thread import UnreachableError  # noqa: PLC0415 - likewise

    try:
        check_broker(broker)
    except ValueError as exc:
        bad_input(f"--broker: {exc}")
    except UnreachableError as exc:
        unreachable(str(exc))


def stopped(exc: RunInterrupted) -> str:
    """The line said when a run is stopped: how far it got, and where its partial directory is."""
    return (
        f"stopped while {exc.stage}, the world at {_hours(exc.reached_s)} of "
        f"{_hours(exc.duration_s)} simulated; "
        f"the partial run is in {exc.out} (its run.json says partial: true)"
    )


def run_with_progress(
    spec: ScenarioSpec, name: str, options: RunOptions, err: Console, *, transient: bool
) -> RunReport:
    """`run_scenario` behind a progress bar of simulated time, wall time so far and left."""
    from simlab.run import run_scenario  # noqa: PLC0415 - only the commands that run need it
    from simlab.scenario import device_count, until_of  # noqa: PLC0415 - likewise

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[sim]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        transient=transient,
    ) as progress:
        task = progress.add_task(
            f"{device_count(spec)} devices", total=until_of(spec), sim=_hours(0)
        )

        def step(done: float, total: float) -> None:
            progress.update(task, completed=done, sim=f"{_hours(done)} / {_hours(total)}")

        return run_scenario(spec, name, options, progress=step)


STATUS_STYLES = {
    "OFFLINE": "bold red",
    "SUSPECT": "yellow",
    "LATE": "yellow",
    "ONLINE": "green",
    "ASLEEP": "blue",
    "UNKNOWN": "dim",
}
"""How each status the service gives a device is coloured."""


def status(name: str) -> Text:
    """A device's detection status, coloured as STATUS_STYLES says."""
    return Text(name, style=STATUS_STYLES.get(name, ""))


def fleet_line(fleet: dict[str, int]) -> Text:
    """`40 ASLEEP, 0 OFFLINE`: devices per status at the end, coloured."""
    line = Text()
    for n, (name, count) in enumerate(fleet.items()):
        line.append(", " if n else "")
        line.append(f"{count:,} {name}", style=STATUS_STYLES.get(name, ""))
    return line


def render(report: RunReport, console: Console, *, devices: int) -> None:
    """The diagnoses, the first customer messages and the scorecard, for people."""
    console.print(
        f"[bold]{report.title}[/]: {devices} devices, {report.result.messages:,} messages, "
        f"{report.wall_s:.1f} s on {report.broker}",
        highlight=False,
    )
    console.print(Text("The service shows: ").append_text(fleet_line(report.fleet)))
    if report.diagnoses:
        console.print(_diagnosed(report))
    else:
        console.print("No device needed a diagnosis.")
    shown = [e for e in report.diagnoses if e["diagnosis"]["cause"] is not None]
    for entry in shown[:MESSAGES_SHOWN]:
        d = entry["diagnosis"]
        lines = [f"[bold]{d['summary']}[/]", f"Fix: {d['fix']}"]
        if d["next_step"]:
            lines.append(f"Next step: {d['next_step']}")
        if d["candidates"][1:]:
            others = ", ".join(f"{c['cause']} ({c['likelihood']:.2f})" for c in d["candidates"][1:])
            lines.append(f"Also possible: {others}")
        console.print(Panel("\n".join(lines), title=f"{entry['device_id']}: {d['cause']}"))
        message = entry["messages"].get("en") or next(iter(entry["messages"].values()), None)
        if message:
            console.print(
                Panel(
                    message["body"],
                    title=f"To the customer: {message['subject']}",
                    subtitle=entry["device_id"],
                    expand=False,
                ),
                markup=False,
            )
    if len(shown) > MESSAGES_SHOWN:
        from simlab.rundir import RunDir  # noqa: PLC0415 - only a finished run needs it

        console.print(
            f"{len(shown) - MESSAGES_SHOWN} more messages (English and Swedish), every one to "
            f"read in {RunDir(report.out).messages}",
            highlight=False,
        )
    _scorecard(report, console)


def _diagnosed(report: RunReport) -> Table:
    """One row per device diagnosed; the cause id is never cut, whatever the width."""
    expected = {d.device_id: d for d in report.scorecard.devices}
    table = Table(title="Devices diagnosed")
    widest = max((len(e["diagnosis"]["cause"] or "-") for e in report.diagnoses), default=1)
    table.add_column("device", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("cause", no_wrap=True, min_width=widest)
    table.add_column("confidence", no_wrap=True)
    table.add_column("found by", overflow="fold")
    table.add_column("answer key", overflow="fold")
    for entry in report.diagnoses:
        d = entry["diagnosis"]
        grade = expected[entry["device_id"]].grade if entry["device_id"] in expected else ""
        table.add_row(
            entry["device_id"],
            status(d["verdict"]),
            d["cause"] or "-",
            f"{d['confidence']:.2f}" if d["cause"] else "",
            d["decided_by"] or "",
            {"first": "[green]right[/]", "candidate": "[yellow]among candidates[/]"}.get(
                grade, "[red]wrong[/]" if grade else ""
            ),
        )
    return table


def _fmt(value: float | None, unit: str = "", scale: float = 1.0) -> str:
    return "-" if value is None else f"{value / scale:.1f}{unit}"


def _scorecard(report: RunReport, console: Console) -> None:
    card = report.scorecard
    table = Table(title="Scorecard", show_header=False)
    table.add_column("figure")
    table.add_column("value")
    rows: list[tuple[str, str]] = [
        (
            "detection p50 / p99",
            (
                f"{_fmt(card.detect_p50_s, ' min', 60)} / {_fmt(card.detect_p99_s, ' min', 60)} "
                f"({_fmt(card.detect_p50_intervals)} / {_fmt(card.detect_p99_intervals)} "
                "intervals)"
            ),
        ),
        ("false alarms", f"{len(card.false_alarms)} of {card.healthy_devices} healthy devices"),
        (
            "incidents",
            f"{sum(i.found for i in card.incidents)} of {len(card.incidents)} found"
            + (f", {len(card.spurious_incidents)} other" if card.spurious_incidents else ""),
        ),
        (
            "diagnosis",
            (
                f"{sum(d.grade == 'first' for d in card.devices)} first, "
                f"{sum(d.grade == 'candidate' for d in card.devices)} candidate, "
                f"{sum(d.grade == 'wrong' for d in card.devices)} wrong of {len(card.devices)}"
            ),
        ),
    ]
    if card.swap_expected is not None:
        rows.append(("swap test", f"{card.swap_outcome} (expected {card.swap_expected})"))
    if card.fleet_messages:
        right = sum(m.found for m in card.fleet_messages)
        rows.append(("fleet messages", f"{right} of {len(card.fleet_messages)} right"))
    for figure, value in rows:
        table.add_row(figure, value)
    console.print(table)
    outcome = "[bold green]PASSED[/]" if card.passed else "[bold red]NOT MET[/]"
    console.print(f"Answer key: {outcome}. Run directory: {report.out}")
