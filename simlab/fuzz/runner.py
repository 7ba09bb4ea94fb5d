"""Running a generated world: simulated, fed to a real service, and asked what it found.

Two ways, one result. `run_direct` feeds a `diagnostics.service.Service` on a
real SQLite file straight from the world's output (no broker: fast), doing
support's actions through the service's REST API in this process at their
moments; `run_mqtt` writes the world as a scenario file and runs it end to
end through Mosquitto with `simlab run`'s own machinery. Both then ask the
service the same questions through its API (`simlab.findings.collect`: each
affected device while its fault is on, in English) and return an `Observed`
that `simlab.fuzz.score` scores the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import yaml

from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.messages import DeviceStatus, Telemetry
from protocol.wire import Topics
from simlab.direct import feed, in_process_api
from simlab.findings import collect
from simlab.fuzz.answers import answer_key
from simlab.fuzz.score import sample
from simlab.fuzz.stream import Stream
from simlab.rundir import RunDir, detection_histories, open_database
from simlab.scenario import ScenarioSpec, load_scenario
from simlab.support_actions import support_actions
from simulator.world.simulate import RunResult, simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec import WorldSpec

if TYPE_CHECKING:
    from pathlib import Path

    from simlab.fuzz.draft import Draft

__all__ = ["LANGUAGES", "Observed", "run_direct", "run_mqtt", "scenario_file"]

LANGUAGES = ("en",)
"""The language the words are checked in."""


@dataclass(slots=True)
class Observed:
    """A world's run: what the service said, what it was fed, and what really happened."""

    draft: Draft
    key: dict[str, Any]
    t0: float
    until: float
    diagnoses: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    swap_tests: list[dict[str, Any]]
    histories: dict[str, list[tuple[float, str]]]
    stream: Stream
    result: RunResult


class WorldFailedError(RuntimeError):
    """The simulator could not run a generated world (a bug of the generator or the model)."""


def _simulated(draft: Draft) -> tuple[MemorySink, RunResult, dict[str, Any]]:
    world = WorldSpec.model_validate(draft.world())
    sink = MemorySink()
    result = simulate(world, sink, until=draft.duration)
    if result.error is not None:
        raise WorldFailedError(f"world {draft.seed}: {result.error}")
    t0 = world.start.timestamp()
    heard: dict[str, float] = {}
    for message in sink.messages:  # sent in time order: the first word of each device
        if isinstance(message, Telemetry | DeviceStatus):
            heard.setdefault(message.device_id, message.t - t0)
    return sink, result, answer_key(draft, result.truth, heard)


def scenario_file(draft: Draft, path: Path) -> Path:
    """Write the world of `draft`, with its answer key, as a scenario file `simlab run` runs."""
    _, _, key = _simulated(draft)
    path.write_text(yaml.safe_dump(draft.scenario(key), sort_keys=False, allow_unicode=True))
    return path


def run_direct(draft: Draft, directory: Path) -> Observed:
    """Run the world through a service fed directly (see the module)."""
    sink, result, key = _simulated(draft)
    spec = ScenarioSpec.model_validate(draft.scenario(key))
    t0 = spec.world.start.timestamp()
    end = t0 + draft.duration
    topics = Topics("fuzz/simlab")
    database = directory / "diagnosis.sqlite"
    service = Service(store=SQLiteStore(database), topics=topics)
    swap_ids: list[str] = []
    with in_process_api(service) as client:
        fed: float | None = None
        for at, act in sorted(support_actions(spec, t0, client, swap_ids), key=lambda a: a[0]):
            feed(service, topics, sink, at, since=fed)
            fed = at
            act()
        feed(service, topics, sink, end, since=fed)
        with open_database(database) as store:
            histories = detection_histories(store)
        truth = [replace(r, start=t0 + r.start) for r in result.truth]
        found = collect(
            client,
            spec=spec,
            database=database,
            result=result,
            t0=t0,
            until=draft.duration,
            swap_ids=swap_ids,
            languages=LANGUAGES,
            only=sample(draft, truth, histories),
        )
    service.store.close()
    return Observed(
        draft,
        key,
        t0,
        draft.duration,
        found.diagnoses,
        found.incidents,
        found.swap_tests,
        histories,
        Stream.of(sink.messages, sink.accounts),
        result,
    )


def run_mqtt(draft: Draft, directory: Path) -> Observed:
    """Run the world end to end through Mosquitto, as `simlab run FILE` would."""
    from simlab.run import RunOptions, run_scenario  # noqa: PLC0415 - the broker path is heavy

    path = scenario_file(draft, directory / f"world-{draft.seed}.yaml")
    spec = load_scenario(path)
    options = RunOptions(out=directory / "run", languages=LANGUAGES, embedded="mosquitto")
    report = run_scenario(spec, path.stem, options)
    sink, _, key = _simulated(draft)  # the same seed gives the same stream the broker carried
    if report.result.messages != len(sink.messages):
        raise WorldFailedError(f"world {draft.seed}: the broker run sent another stream")
    with open_database(RunDir(report.out).database) as store:
        histories = detection_histories(store)
    return Observed(
        draft,
        key,
        spec.world.start.timestamp(),
        draft.duration,
        report.diagnoses,
        report.incidents,
        report.swap_tests,
        histories,
        Stream.of(sink.messages, sink.accounts),
        report.result,
    )
