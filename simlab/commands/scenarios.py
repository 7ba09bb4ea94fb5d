"""`simlab scenarios`: list, show, validate, describe the scenario bank, and start a new file.

`show` prints what a trainee may read (the story, the fleet, support's
actions); the answer key, the trainers' tags and the world's timeline of
faults and swaps, which would give the story away, only with `--answers`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from simlab.commands.exits import EXIT_BAD_INPUT, bad_input, bad_spec
from simlab.resources import UnknownScenarioError
from simlab.resources import scenario as scenario_path
from simulator.errors import SpecError

if TYPE_CHECKING:
    from simlab.scenario import ScenarioSpec

__all__ = ["scenarios_app"]

scenarios_app = typer.Typer(
    help="The scenario bank: stories, worlds and answer keys.", no_args_is_help=True
)
out = Console()

Size = Annotated[
    int | None,
    typer.Option("--size", min=1, help="Scale the device group the scenario's run.size names."),
]


@scenarios_app.command("list")
def list_scenarios() -> None:
    """List the bundled scenarios: name, title, who they are for, devices, duration."""
    from simlab.scenario import device_count, format_span, load_scenario, scenario_files  # noqa: PLC0415 - only this command needs it

    table = Table(title="Scenarios", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("title", overflow="fold")
    table.add_column("for", overflow="fold")
    table.add_column("devices", justify="right")
    table.add_column("duration", justify="right")
    for path in scenario_files():
        try:
            spec = load_scenario(path)
        except SpecError as exc:
            table.add_row(path.stem, f"[red]invalid: {exc.problems[0]}[/red]", "", "", "")
            continue
        table.add_row(
            path.stem,
            spec.title,
            ", ".join(user.value for user in spec.users),
            f"{device_count(spec):,}",
            format_span(spec.run.duration),
        )
    out.print(table)


@scenarios_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A bundled scenario's name, or a scenario file.")],
    answers: Annotated[
        bool, typer.Option("--answers", help="Also print the answer key and the timeline.")
    ] = False,
    size: Size = None,
) -> None:
    """Print a scenario's story and its world; --answers adds what really happens."""
    path = _scenario_or_exit(name)
    spec = _load_or_exit(path, size)
    out.print(f"[bold]{spec.title}[/bold]  ({path.stem})")
    out.print(spec.summary)
    out.print(f"For {', '.join(u.value for u in spec.users)}")
    out.print(Panel(spec.story.rstrip(), title="Story", title_align="left"))
    _print_world(spec)
    if spec.actions:
        _print_actions(spec)
    if answers:
        _print_answers(spec)
        _print_timeline(spec)


@scenarios_app.command("validate")
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files, or bundled names.")],
    size: Size = None,
) -> None:
    """Check scenario files as a whole: ok, or one line per problem (file:line: field: message)."""
    from simlab.scenario import load_scenario  # noqa: PLC0415 - only this command needs it

    bad = False
    for name in files:
        try:
            path = scenario_path(name)
            load_scenario(path, size=size)
        except UnknownScenarioError as exc:
            bad = True
            typer.echo(str(exc), err=True)
        except SpecError as exc:
            bad = True
            for problem in exc.problems:
                typer.echo(str(problem), err=True)
        else:
            typer.echo(f"{path}: ok")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@scenarios_app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="The new scenario's name: writes NAME.yaml here.")],
    model: Annotated[
        str | None,
        typer.Option("--from", help="Start from this scenario (a bundled name, or a file)."),
    ] = None,
) -> None:
    """Write NAME.yaml in this directory: a commented starting scenario that validates."""
    from simlab.scenario.template import copied_from, starting_file  # noqa: PLC0415 - only `new` needs it

    stem = name.removesuffix(".yaml")
    if not stem or Path(stem).name != stem:
        bad_input(f"{name}: give a name, not a path (the file is written here as NAME.yaml)")
    target = Path(f"{stem}.yaml")
    if target.exists():
        bad_input(f"{target}: already exists; choose another name or remove it")
    text = starting_file(stem) if model is None else copied_from(_scenario_or_exit(model), stem)
    try:
        with target.open("x", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        bad_input(f"{target}: cannot write it: {exc.strerror}")
    typer.echo(f"wrote {target}; check it with `simlab scenarios validate {target}`")


@scenarios_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of scenario files, for editors."""
    from simlab.scenario import scenario_schema  # noqa: PLC0415 - only this command needs it

    typer.echo(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))


# ---- rendering --------------------------------------------------------------------------------


def _scenario_or_exit(name: str) -> Path:
    try:
        return scenario_path(name)
    except UnknownScenarioError as exc:
        bad_input(str(exc))


def _load_or_exit(path: Path, size: int | None) -> ScenarioSpec:
    from simlab.scenario import load_scenario  # noqa: PLC0415 - only `scenarios show` needs it

    try:
        return load_scenario(path, size=size)
    except SpecError as exc:
        bad_spec(exc)


def _calendar(spec: ScenarioSpec, seconds: float) -> str:
    """The moment `seconds` after the world's start: `2026-03-02 06:00 UTC`."""
    moment = spec.world.start + timedelta(seconds=seconds)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".rstrip()


def _when(spec: ScenarioSpec, seconds: float) -> str:
    """`6h (2026-03-02 06:00 UTC)`: from the world's start, and on the calendar."""
    from simlab.scenario import format_span  # noqa: PLC0415 - only `scenarios show` needs it

    return f"{format_span(seconds)} ({_calendar(spec, seconds)})"


def _print_world(spec: ScenarioSpec) -> None:
    from simlab.scenario import format_span  # noqa: PLC0415 - only `scenarios show` needs it

    world, run = spec.world, spec.run
    speed = run.speed if run.speed == "max" else f"{run.speed:g}x"
    out.print(
        f"[bold]World[/bold]: starts {_calendar(spec, 0)}, seed "
        f"{world.seed}; runs {format_span(run.duration)} at speed {speed}"
    )
    customer = world.customer
    sims = sum(r.count for r in customer.sim_ranges)
    plans = ", ".join(p.name for p in customer.communication_plans)
    out.print(f"Customer: {customer.customer}, {sims:,} SIMs; communication plans: {plans}")
    for operator in world.operators:
        cells = [str(c.id) for c in world.cells if c.operator == operator.mcc_mnc]
        where = f"cells {', '.join(cells)}" if cells else "no cells"
        out.print(f"Network: {operator.name} ({operator.mcc_mnc}, {operator.country}), {where}")
    if run.size is not None:
        out.print(f"--size scales group {run.size.group} (default {run.size.default:,})")
    if world.message_loss:
        out.print(f"Message loss: {world.message_loss:.1%} of device messages")
    table = Table(title="Devices", title_justify="left")
    for column in ("group", "devices", "names", "model", "site", "time zone", "reports", "power"):
        table.add_column(column, overflow="fold")
    for group in world.devices:
        first = group.name_format.format(group=group.name, n=1)
        power = "mains" if group.battery_mah is None else f"battery {group.battery_mah:g} mAh"
        sleeps = ", PSM" if group.psm else ""
        table.add_row(
            group.name,
            f"{group.count:,}",
            first if group.count == 1 else f"{first}, …",
            f"{group.model} {group.firmware}",
            group.site or "",
            group.time_zone,
            f"every {format_span(group.report_interval)}{sleeps}",
            power,
        )
    out.print(table)


def _print_actions(spec: ScenarioSpec) -> None:
    from simlab.scenario import SilenceAction, format_span  # noqa: PLC0415 - only `scenarios show` needs it

    table = Table(title="Support actions", title_justify="left")
    for column in ("at", "action", "note"):
        table.add_column(column, overflow="fold")
    for action in spec.actions:
        if isinstance(action, SilenceAction):
            s = action.silence
            what = f"silence {s.dimension.value} {s.value} for {format_span(s.duration)}"
        else:
            test = action.swap_test
            what = (
                f"swap test: the SIM of {test.sim_of} into {test.into}"
                if test.into is not None
                else f"swap test of the SIM of {test.sim_of}: impossible, {test.impossible}"
            )
        table.add_row(_when(spec, action.at), what, action.note or "")
    out.print(table)


def _print_answers(spec: ScenarioSpec) -> None:
    from simlab.scenario import SwapTestAction  # noqa: PLC0415 - only `scenarios show` needs it

    key = spec.answer_key
    if spec.tags:  # trainers' keywords often name the cause, so they wait for the answers
        out.print(f"Tags: {', '.join(spec.tags)}")
    table = Table(title="Answer key", title_justify="left")
    table.add_column("device", no_wrap=True)
    table.add_column("cause", no_wrap=True)  # an id to look up or type: never cut or folded
    for column in ("start", "note"):
        table.add_column(column, overflow="fold")
    for answer in key.devices:
        table.add_row(
            answer.device,
            answer.cause.value,
            _when(spec, answer.start),
            (answer.note or "").strip(),
        )
    if key.devices:
        out.print(table)
    else:
        out.print("[bold]Answer key[/bold]: no device is affected; every device is healthy.")
    for incident in key.incidents:
        note = f": {incident.note.strip()}" if incident.note else ""
        out.print(
            f"Incident: {incident.dimension.value} {incident.value} from "
            f"{_when(spec, incident.start)}{note}"
        )
    if key.swap_verdict is not None:
        why = [
            a.swap_test.impossible
            for a in spec.actions
            if isinstance(a, SwapTestAction) and a.swap_test.impossible
        ]
        reason = f" ({why[0]})" if why and key.swap_verdict.value == "impossible" else ""
        out.print(f"Swap verdict: {key.swap_verdict.value}{reason}")


def _print_timeline(spec: ScenarioSpec) -> None:
    from simlab.scenario import format_span  # noqa: PLC0415 - only `scenarios show` needs it

    world = spec.world
    lines = []
    for fault in world.faults:
        target = ", ".join(fault.devices or []) or next(
            (f"{k} {v}" for k in ("cell", "operator", "apn", "tunnel") if (v := getattr(fault, k))),
            "",
        )
        until = f" for {format_span(fault.duration)}" if fault.duration is not None else ""
        value = f" ({fault.value})" if fault.value else ""
        lines.append((fault.at, f"fault {fault.fault.value}{value} on {target}{until}"))
    for swap in world.swaps:
        back = f", back at {format_span(swap.back_at)}" if swap.back_at is not None else ""
        lines.append((swap.at, f"SIM swap: {swap.device} ↔ {swap.into}{back}"))
    lines += [(m.at, f"SIM moved: the SIM of {m.device} into {m.into}") for m in world.moves]
    for rate in world.fault_rates:
        group = f" in group {rate.group}" if rate.group else ""
        lines.append(
            (0.0, f"faults {rate.fault.value} drawn at {rate.per_device_day:g}/device-day{group}")
        )
    if not lines:
        return
    out.print("[bold]Timeline[/bold]")
    for at, line in sorted(lines, key=lambda item: item[0]):
        out.print(f"  {_when(spec, at)}: {line}")
