"""Many generated worlds: run in worker processes, scored, summed into one scorecard.

`campaign(seed, worlds)` runs the worlds of seeds `seed`, `seed + 1`, … each
in its own temporary directory through the direct path, `workers` at a time,
and sums their cards in seed order, so the result does not depend on which
worker finished first. A world the simulator cannot run is kept as broken
(with why), never dropped; so is one whose run raised (a support action the service
refused, say). `mqtt_check` runs a few worlds again end to end
through Mosquitto and says which gave a different card.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from simlab.fuzz.draw import draw
from simlab.fuzz.runner import WorldFailedError, run_direct, run_mqtt, scenario_file
from simlab.fuzz.score import WorldCard, score_world
from simlab.fuzz.scorecard import Scorecard

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["campaign", "mqtt_check", "one_world", "write_failing"]


def one_world(seed: int) -> WorldCard | str:
    """The card of world `seed`, or why it could not be run."""
    with tempfile.TemporaryDirectory(prefix="simlab-fuzz-") as tmp:
        try:
            return score_world(run_direct(draw(seed), Path(tmp)))
        except WorldFailedError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - a world that breaks is counted, not fatal
            return f"world {seed}: {type(exc).__name__}: {exc}"


def campaign(
    seed: int,
    worlds: int,
    *,
    workers: int = 1,
    progress: Callable[[int, WorldCard | str], None] | None = None,
) -> Scorecard:
    """Run and score `worlds` worlds from `seed` on (see the module)."""
    seeds = range(seed, seed + worlds)
    card = Scorecard()
    results: Iterable[WorldCard | str]
    if workers > 1 and worlds > 1:
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers, maxtasksperchild=20) as pool:
            results = list(_each(pool.imap(one_world, seeds), seeds, progress))
    else:
        results = list(_each(map(one_world, seeds), seeds, progress))
    for s, result in zip(seeds, results, strict=True):
        if isinstance(result, str):
            card.broken[s] = result
        else:
            card.add(result)
    return card


def _each(
    results: Iterable[WorldCard | str],
    seeds: Iterable[int],
    progress: Callable[[int, WorldCard | str], None] | None,
) -> Iterable[WorldCard | str]:
    for s, result in zip(seeds, results, strict=False):
        if progress is not None:
            progress(s, result)
        yield result


def mqtt_check(seeds: Iterable[int]) -> dict[int, bool]:
    """For each world, whether its run end to end through Mosquitto gives the same card."""
    same = {}
    for s in seeds:
        direct = one_world(s)
        with tempfile.TemporaryDirectory(prefix="simlab-fuzz-mqtt-") as tmp:
            card = score_world(run_mqtt(draw(s), Path(tmp)))
        same[s] = not isinstance(direct, str) and direct.as_dict() == card.as_dict()
    return same


def write_failing(card: Scorecard, out: Path) -> list[Path]:
    """Write each failing world as a scenario file `world-<seed>.yaml` in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    failing = sorted({c.seed for c in card.cards if c.failed} | set(card.broken))
    written = []
    for s in failing:
        try:
            written.append(scenario_file(draw(s), out / f"world-{s}.yaml"))
        except WorldFailedError:
            continue  # it cannot run: the scorecard says why
    return written
