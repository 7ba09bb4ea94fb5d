"""`simlab train`: a training session at the terminal.

The trainee reads the customer's story, watches the scenario run (a progress
bar on stderr), reads the service's views of the devices to look at
(`simlab.training` decides which and what to show), names a cause for each
device, and gets the score with an explanation per device. Answers come from
prompts, re-asked until they name a cause or healthy, or from a file (checked
before the run: every answer that names no cause or no device of the run, at
once). Input that ends before every device is answered says so (exit 2);
Ctrl-C stops the session (exit 4), the run directory kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path  # noqa: TC003 - typer reads the options' annotations at run time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simlab.commands.exits import EXIT_KEY_NOT_MET, bad_input, bad_spec, cut_short
from simlab.commands.run import Size, default_out, run_with_progress, stopped
from simlab.resources import UnknownScenarioError
from simlab.resources import scenario as scenario_path
from simlab.timeline import clock
from simulator.errors import SpecError

if TYPE_CHECKING:
    from collections.abc import Callable

    from protocol.causes import Cause
    from simlab.run import RunReport
    from simlab.scenario import ScenarioSpec
    from simlab.training import Briefing, Marks

__all__ = [
    "EndOfInput",
    "TrainOptions",
    "ask_prompt",
    "show_briefing",
    "show_causes",
    "show_marks",
    "train",
    "train_session",
]

out = Console()
err_console = Console(stderr=True)


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """How a training session runs."""

    size: int | None = None
    out: Path | None = None
    """The run directory; None: simlab-runs/NAME-train-TIME, as `simlab run` names its own."""
    decoys: int = 3
    """Healthy devices mixed into the list to look at."""
    answers: Path | None = None
    """Answers from this file instead of prompts."""


class EndOfInput(Exception):  # noqa: N818 - the input ran out; not a failure of the code
    """The answers ended (end of file on stdin) before every device was answered."""


def train_session(
    scenario: str,
    options: TrainOptions,
    *,
    console: Console,
    err: Console,
    ask: Callable[[str], Cause | None],
) -> Marks:
    """One session: story, run, the service's views, answers, score.

    Raises:
        SpecError: the scenario file is not valid.
        UnknownScenarioError: there is no such scenario.
        AnswerError: the answers file cannot be used, or names a device the run never had.
        RunError: the run failed.
        RunInterrupted: the run was stopped (Ctrl-C).
        EndOfInput: `ask` found no more input.
    """
    from simlab.rundir import RunDir  # noqa: PLC0415 - likewise
    from simlab.scenario import load_scenario  # noqa: PLC0415 - only `train` needs it
    from simlab.training import (  # noqa: PLC0415 - likewise
        briefing,
        load_answers,
        mark,
        prompt_text,
    )

    path = scenario_path(scenario)
    spec = load_scenario(path, options.size)
    name = path.stem
    given = None
    if options.answers is not None:
        devices = {
            group.id_format.format(group=group.name, n=n)
            for group in spec.world.devices
            for n in range(1, group.count + 1)
        }
        given = load_answers(options.answers, devices)
    console.print(Panel(Text(spec.story.strip()), title=Text(spec.title), title_align="left"))
    out = options.out or default_out(f"{name}-train")
    report = _run(spec, name, out, err)
    world = report.result.world
    sims = world.device_sims() if world is not None else {}
    seen = briefing(spec=spec, scenario=name, out=out, decoys=options.decoys, sims=sims)
    show_briefing(console, seen)
    listed = [look.device_id for look in seen.devices]
    if given is None:
        show_causes(console)
        answers = {look.device_id: ask(prompt_text(look)) for look in seen.devices}
    else:
        answers = {d: given.get(d) for d in listed} | given
    files = RunDir(out)
    diagnoses, scorecard = files.read_diagnoses(), files.read_scorecard()
    marks = mark(answers=answers, spec=spec, diagnoses=diagnoses, scorecard=scorecard)
    show_marks(console, marks)
    console.print(Text(f"\nRun directory: {out} (simlab report {out} draws it)"))
    return marks


def train(
    scenario: Annotated[str, typer.Argument(help="A bundled scenario's name, or a scenario file.")],
    size: Size = None,
    run_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run directory (default: simlab-runs/NAME-train-TIME)."),
    ] = None,
    decoys: Annotated[
        int, typer.Option("--seed-decoys", min=0, help="Healthy devices mixed into the list.")
    ] = 3,
    answers: Annotated[
        Path | None,
        typer.Option("--answers", help="YAML or JSON mapping device to cause, for no prompts."),
    ] = None,
) -> None:
    """Training: read the story and the service's views, name each device's cause, get a score."""
    from simlab.run import RunInterrupted  # noqa: PLC0415 - only this command needs it
    from simlab.service_thread import RunError  # noqa: PLC0415 - likewise
    from simlab.training import AnswerError  # noqa: PLC0415 - likewise

    options = TrainOptions(size=size, out=run_dir, decoys=decoys, answers=answers)
    try:
        train_session(scenario, options, console=out, err=err_console, ask=ask_prompt)
    except SpecError as exc:
        bad_spec(exc)
    except UnknownScenarioError as exc:
        bad_input(str(exc))
    except AnswerError as exc:
        bad_input(str(exc))
    except RunError as exc:
        typer.echo(f"the run failed: {exc}", err=True)
        raise typer.Exit(EXIT_KEY_NOT_MET) from None
    except RunInterrupted as exc:
        cut_short(stopped(exc))
    except EndOfInput as exc:
        bad_input(
            f"the input ended before {exc} was answered: answer at a terminal, "
            "or give every answer with --answers FILE"
        )
    except KeyboardInterrupt:
        cut_short("stopped before every device was answered; nothing was scored")


def _run(spec: ScenarioSpec, name: str, out: Path, err: Console) -> RunReport:
    from simlab.run import RunOptions  # noqa: PLC0415 - only `train` needs it

    return run_with_progress(spec, name, RunOptions(out=out), err, transient=True)


def ask_prompt(question: str) -> Cause | None:
    """Ask on the terminal until the answer names a cause or healthy, saying what was wrong.

    Raises:
        EndOfInput: stdin ended (naming the device asked about).
        KeyboardInterrupt: Ctrl-C at the prompt.
    """
    try:
        answer: Cause | None = typer.prompt(
            question, default="", show_default=False, value_proc=_checked
        )
    except typer.Abort as exc:  # click's prompt turns both into Abort
        if isinstance(exc.__context__, EOFError):
            raise EndOfInput(question.split(":", 1)[0]) from None
        raise KeyboardInterrupt from None
    return answer


def _checked(text: str) -> Cause | None:
    from simlab.training import AnswerError, parse_answer  # noqa: PLC0415 - only `train` needs it

    try:
        return parse_answer(text)
    except AnswerError as exc:
        raise typer.BadParameter(str(exc)) from None  # the prompt shows it and asks again


def show_briefing(console: Console, seen: Briefing) -> None:
    """The fleet at a glance, the devices to look at and the incidents (times in UTC)."""
    fleet = ", ".join(f"{n:,} {status}" for status, n in seen.fleet.items())
    devices = sum(seen.fleet.values())
    console.print(
        f"\n[bold]Fleet at {clock(seen.end)} UTC[/bold]: {devices:,} devices ({fleet}); "
        f"{seen.messages:,} messages stored"
    )
    table = Table(title="Devices to look at (times in UTC)", title_justify="left", show_lines=True)
    table.add_column("device", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("last seen", no_wrap=True)
    table.add_column("timeline lately", overflow="fold", min_width=24)
    for look in seen.devices:
        device = look.device_id + (f"\n{look.name}" if look.name else "")
        status = look.status + (f"\n{clock(look.since)}" if look.since else "")
        lines = "\n".join(f"{clock(e.t)} {e.text}" for e in look.lately) or "nothing"
        table.add_row(Text(device), status, clock(look.last_seen), Text(lines))
    console.print(table)
    if not seen.incidents:
        console.print("Incidents: none opened.")
        return
    incidents = Table(title="Incidents", title_justify="left")
    for column in ("scope", "state", "opened", "closed", "devices", "quiet"):
        incidents.add_column(column)
    for i in seen.incidents:
        incidents.add_row(
            Text(i.scope),
            "open" if i.open else "closed",
            clock(i.opened_at),
            clock(i.closed_at) if i.closed_at else "",
            str(i.members),
            str(i.quiet),
        )
    console.print(incidents)


def show_causes(console: Console) -> None:
    """The numbered list of causes a trainee chooses from."""
    from diagnostics.diagnosis.causes import CAUSES  # noqa: PLC0415 - only `train` needs it
    from simlab.training import CHOICES  # noqa: PLC0415 - likewise

    table = Table(title="Causes (answer with a number or an id; ok if healthy)", box=None)
    half = (len(CHOICES) + 1) // 2
    for _ in range(2):
        table.add_column(justify="right", style="bold")
        table.add_column()
    for row in range(half):
        cells: list[str] = []
        for n in (row, row + half):
            if n < len(CHOICES):
                cells += [str(n + 1), f"{CHOICES[n].value}: {CAUSES[CHOICES[n]].title}"]
            else:
                cells += ["", ""]
        table.add_row(*cells)
    console.print(table)


def show_marks(console: Console, marks: Marks) -> None:
    """The score: per device answer, right answer, right or wrong, and the explanation."""
    from simlab.training import cause_title, explain, share  # noqa: PLC0415 - only `train` needs it

    console.print("\n[bold]Your score[/bold]")
    for m in marks.marks:
        mark = "[green]right[/green]" if m.right else "[red]wrong[/red]"
        console.print(
            f"\n{mark}  [bold]{escape(m.device_id)}[/bold]: you said {cause_title(m.answer)}; "
            f"the answer is {cause_title(m.truth)}"
        )
        for line in explain(m):
            console.print(Padding(Text(line), (0, 0, 0, 3)))
    console.print(f"\n[bold]Total: {marks.total()}[/bold]")
    console.print(
        f"The service on the same devices: {share(marks.service_right, len(marks.marks))}"
    )
    console.print(Text(f"The service's scorecard: {marks.service}"))
