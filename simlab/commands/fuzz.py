"""`simlab fuzz`: generated worlds run through the service and scored; failing ones kept as files.

Exit codes as every command's (`simlab.commands.exits`): 0 when every world
met its truth, 1 when some failed (their scenario files are in --out), 2 for
options it cannot use, 4 when stopped by Ctrl-C (the scorecard of the worlds
done so far is written).
"""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 - typer reads the annotation
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from simlab.commands.exits import EXIT_KEY_NOT_MET, EXIT_OK, bad_input, cut_short

if TYPE_CHECKING:
    from collections.abc import Callable

    from simlab.fuzz.score import WorldCard
    from simlab.fuzz.scorecard import Scorecard

__all__ = ["fuzz"]


def fuzz(
    seed: Annotated[
        int, typer.Option(help="The first world's seed; worlds take seed, seed+1, ...")
    ] = 1,
    worlds: Annotated[int, typer.Option(help="How many worlds to generate and score.")] = 20,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the JSON scorecard and every failing world's scenario file here."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worlds run at once.")] = 1,
) -> None:
    """Generate unseen worlds, run each through the service, and score it against the truth."""
    if worlds < 1:
        bad_input(f"--worlds {worlds}: give 1 or more")
    from simlab.fuzz.campaign import campaign, write_failing  # noqa: PLC0415 - heavy
    from simlab.fuzz.scorecard import Scorecard  # noqa: PLC0415

    err = Console(stderr=True)
    done = Scorecard()
    try:
        with Progress(
            TextColumn("[bold]worlds"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failing"),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("worlds", total=worlds, failed=0)

            def step(s: int, result: WorldCard | str) -> None:
                if isinstance(result, str):
                    done.broken[s] = result
                else:
                    done.add(result)
                failing = len(done.broken) + sum(c.failed for c in done.cards)
                progress.update(task, advance=1, failed=failing)

            card = campaign(seed, worlds, workers=workers, progress=step)
    except KeyboardInterrupt:
        if out is not None:
            _write(done, out, write_failing)
        cut_short(f"stopped after {len(done.cards) + len(done.broken)} of {worlds} worlds")
    for line in card.lines():
        typer.echo(line)
    if out is not None:
        files = _write(card, out, write_failing)
        typer.echo(f"{len(files)} failing worlds written to {out}")
    failed = bool(card.broken) or any(c.failed for c in card.cards)
    raise typer.Exit(EXIT_KEY_NOT_MET if failed else EXIT_OK)


def _write(
    card: Scorecard, out: Path, write_failing: Callable[[Scorecard, Path], list[Path]]
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scorecard.json").write_text(json.dumps(card.as_dict(), indent=1, sort_keys=True))
    files: list[Path] = write_failing(card, out)
    return files
