"""One scenario end to end: world -> MQTT -> diagnostics service -> scorecard.

As the architecture has it ("one run end to end"): the broker is the
embedded default or the one given; the service runs in a thread of this
process (`simlab.service_thread`); the SimPy model runs here and feeds the MQTT
sink (and a recording). Support actions of the scenario's timeline go through
the service's REST API at their simulated moment (`simlab.support_actions`).
The run ends when the service has ingested the final watermark; the scorer
then reads the service's detection statuses, incidents and diagnoses and holds them
against the ground truth and the answer key (`simlab.findings`). What the run
leaves behind is its run directory (`simlab.rundir`).

A given broker is tried before anything starts (`check_broker`: a bad URL is a
ValueError, nothing listening an `UnreachableError`). Ctrl-C stops the run
cleanly: run.json then says `"partial": true`, what the run was doing
(`stage`) and how far the world got (`reached_s`), and `RunInterrupted`
names the directory.
"""

from __future__ import annotations

import socket
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from diagnostics.settings import Settings
from protocol.wire import Topics
from simlab.broker import embedded_broker
from simlab.broker_info import BrokerInfo, embedded_info, external_info
from simlab.findings import collect
from simlab.rundir import RunDir
from simlab.scenario import until_of, world_of
from simlab.service_thread import (
    RunError,
    ServiceProcess,
    ServiceThread,
    UnreachableError,
    caught_up,
)
from simlab.support_actions import ActionTimeline, support_actions
from simulator.transport.publisher import MqttSink
from simulator.transport.url import BrokerUrl
from simulator.world.simulate import RunResult, simulate
from simulator.world.sinks import JsonlSink, TeeSink

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from simlab.scenario import ScenarioSpec
    from simlab.scoring import Scorecard

__all__ = [
    "REACH_TIMEOUT_S",
    "RunInterrupted",
    "RunOptions",
    "RunReport",
    "check_broker",
    "run_scenario",
]

REACH_TIMEOUT_S: Final = 5.0
"""How long `check_broker` waits for the broker's port to accept a connection."""


class RunInterrupted(Exception):  # noqa: N818 - not an error: the user stopped the run
    """The run was stopped (Ctrl-C); its directory holds what was done, marked partial."""

    def __init__(self, out: Path, stage: str, reached_s: float, duration_s: float) -> None:
        super().__init__(f"stopped while {stage}, at {reached_s:.0f} of {duration_s:.0f} s")
        self.out = out
        self.stage = stage
        """What the run was doing: simulating, publishing, catching up or scoring."""
        self.reached_s = reached_s
        """How far the world had got, in simulated seconds."""
        self.duration_s = duration_s


def check_broker(url: str) -> BrokerUrl:
    """The broker URL read, and its port tried: something must accept a connection there.

    Raises:
        ValueError: the URL is not one (saying what is wrong with it).
        UnreachableError: nothing accepts a connection at its host and port.
    """
    found = BrokerUrl.parse(url)
    try:
        with socket.create_connection((found.host, found.port), REACH_TIMEOUT_S):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise UnreachableError(f"cannot reach the broker at {found}: {why}") from None
    return found


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a scenario."""

    out: Path
    speed: float | None = None
    """Simulated seconds per wall second; None: as fast as possible."""
    broker: str | None = field(default=None, repr=False)
    """mqtt://[user:password@]host:port or mqtts://; None: an embedded broker for this run.

    Not in the repr: it may hold a password (`str(BrokerUrl.parse(broker))` never does)."""
    ca: Path | None = None
    """mqtts://: the CA to trust (None: the system's CAs), for the publisher and the service."""
    cert: Path | None = None
    """mqtts://: a client certificate, with `key`, for a broker that asks for one."""
    key: Path | None = None
    record: Path | None = None
    """Where the recording goes (default: the run directory)."""
    languages: tuple[str, ...] = ("en", "sv")
    embedded: str = "auto"
    """Without `broker`: auto (Mosquitto when installed, else amqtt), mosquitto or amqtt."""
    service_process: bool = False
    """Run the service in a process of its own (`ServiceProcess`), not a thread: load runs."""


@dataclass(slots=True)
class RunReport:
    """What a run did and how the diagnostics scored."""

    scenario: str
    title: str
    out: Path
    result: RunResult
    scorecard: Scorecard
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    swap_tests: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    fleet: dict[str, int] = field(default_factory=dict)
    """Devices per detection status at the end, as the service shows them."""
    fleet_messages: list[dict[str, Any]] = field(default_factory=list)
    """One message per account and cause many devices share (beside the per-device ones)."""
    wall_s: float = 0.0
    broker: BrokerInfo = field(default_factory=lambda: BrokerInfo(""))
    """Which broker the run used: its address, and its software when simlab started it."""
    stages: dict[str, float] = field(default_factory=dict)
    """When each stage ended, in wall seconds from the start: simulating (the world's last
    message handed to the publisher), publishing (the broker has them all), catching up
    (the service has committed them all), scoring."""

    def as_dict(self) -> dict[str, Any]:
        """The scorecard, diagnoses, swap tests and incidents as data (`simlab run --json`)."""
        return {
            "scenario": self.scenario,
            "title": self.title,
            "out": str(self.out),
            "wall_s": round(self.wall_s, 3),
            "broker": self.broker.as_dict(),
            "messages": self.result.messages,
            "lost": self.result.lost,
            "scorecard": self.scorecard.as_dict(),
            "diagnoses": self.diagnoses,
            "swap_tests": self.swap_tests,
            "incidents": self.incidents,
            "fleet": self.fleet,
            "fleet_messages": self.fleet_messages,
        }


# ---- the run -----------------------------------------------------------------------------------


def run_scenario(
    spec: ScenarioSpec,
    name: str,
    options: RunOptions,
    *,
    progress: Callable[[float, float], None] | None = None,
) -> RunReport:
    """Run the scenario end to end and score it; see the module.

    The scenario is run as loaded: `load_scenario(path, size=...)` has already sized it.
    """
    began = time.perf_counter()
    world = world_of(spec)
    until = until_of(spec)
    t0 = world.start.timestamp()
    given = check_broker(options.broker) if options.broker is not None else None
    out = options.out
    directory = RunDir(out)
    database = directory.fresh_database()
    root = f"simlab/run-{uuid.uuid4().hex[:8]}"
    topics = Topics(root)
    reached, stages = [0.0], _Stages(began)

    def step(t: float) -> None:
        reached[0] = t - t0
        if progress is not None:
            progress(t - t0, until)

    recording = options.record or directory.recording
    try:
        with ExitStack() as stack:
            protocol = 5
            if given is None:
                broker = stack.enter_context(embedded_broker(prefer=options.embedded))
                url, protocol = BrokerUrl.parse(broker.url), broker.protocol
                used = embedded_info(broker)
            else:
                url = given
                used = external_info(str(url))
            settings = Settings(
                broker_host=url.host,
                broker_port=url.port,
                broker_username=url.username,
                broker_password=url.password,
                broker_tls=url.tls,
                broker_ca=options.ca if url.tls else None,
                broker_cert=options.cert if url.tls else None,
                broker_key=options.key if url.tls else None,
                mqtt_version=5 if protocol == 5 else 4,
                root=root,
                database=database,
                client_id=f"simlab-run-{uuid.uuid4().hex[:8]}",
            )
            client = stack.enter_context(_service(settings, options).running())
            recorder = JsonlSink(stack.enter_context(recording.open("wb")))
            publisher = _started(
                MqttSink(
                    url,
                    topics=topics,
                    speed=options.speed,
                    telemetry_qos=1,
                    protocol=protocol,
                    ca_file=_text(options.ca),
                    cert_file=_text(options.cert),
                    key_file=_text(options.key),
                )
            )
            swap_ids: list[str] = []
            actions = support_actions(spec, t0, client, swap_ids)
            timeline = ActionTimeline(
                TeeSink(publisher, recorder), actions, lambda t: caught_up(client, t), step
            )
            stages.to("simulating")
            result = simulate(world, timeline, until=until)
            stages.to("publishing")
            publisher.close()
            if result.error is not None:
                raise RunError(f"the world failed: {result.error}")
            stages.to("catching up")
            caught_up(client, t0 + until)
            stages.to("scoring")
            found = collect(
                client,
                spec=spec,
                database=database,
                result=result,
                t0=t0,
                until=until,
                swap_ids=swap_ids,
                languages=options.languages,
            )
    except KeyboardInterrupt:
        directory.write_partial(
            _what_ran(name, spec, options)
            | {
                "partial": True,
                "stage": stages.now,
                "reached_s": round(reached[0], 3),
                "broker": str(given) if given is not None else "embedded",
                "root": root,
                "recording": str(recording),
            }
        )
        raise RunInterrupted(out, stages.now, reached[0], until) from None
    report = RunReport(
        scenario=name,
        title=spec.title,
        out=out,
        result=result,
        scorecard=found.scorecard,
        diagnoses=found.diagnoses,
        swap_tests=found.swap_tests,
        incidents=found.incidents,
        fleet=found.fleet,
        fleet_messages=found.fleet_messages,
        wall_s=time.perf_counter() - began,
        broker=used,
        stages=stages.finished(),
    )
    directory.settle_database()
    directory.write_results(
        scorecard=report.scorecard.as_dict(),
        diagnoses=report.diagnoses,
        run=_run_json(report, spec, options, root, recording),
    )
    return report


def _service(settings: Settings, options: RunOptions) -> ServiceThread:
    """The run's service: in a thread of this process, or a process of its own (load runs)."""
    return ServiceProcess(settings) if options.service_process else ServiceThread(settings)


class _Stages:
    """Which stage a run is in, and when each one ended (wall seconds from its start)."""

    def __init__(self, began: float) -> None:
        self.began = began
        self.now = "starting"
        self.ended: dict[str, float] = {}

    def to(self, name: str) -> None:
        self.ended[self.now] = round(time.perf_counter() - self.began, 3)
        self.now = name

    def finished(self) -> dict[str, float]:
        """The stages' ends, the last one's now."""
        self.to("done")
        return {k: v for k, v in self.ended.items() if k != "starting"}


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _started(publisher: MqttSink) -> MqttSink:
    """The publisher connected; a broker that refuses it is an `UnreachableError` saying why."""
    try:
        return publisher.start()
    except ConnectionError as exc:
        raise UnreachableError(str(exc)) from None


def _what_ran(name: str, spec: ScenarioSpec, options: RunOptions) -> dict[str, Any]:
    """The head of run.json: which scenario, its story, from when, for how long, how fast."""
    return {
        "scenario": name,
        "title": spec.title,
        "summary": spec.summary,
        "story": spec.story,
        "seed": spec.world.seed,
        "start": spec.world.start.isoformat(),
        "duration_s": until_of(spec),
        "speed": "max" if options.speed is None else options.speed,
    }


def _run_json(
    report: RunReport, spec: ScenarioSpec, options: RunOptions, root: str, recording: Path
) -> dict[str, Any]:
    """What run.json says: what was run, how fast, on which broker, and the ground truth."""
    return _what_ran(report.scenario, spec, options) | {
        "broker": report.broker.url,
        "broker_software": report.broker.software,
        "broker_version": report.broker.version,
        "root": root,
        "wall_s": round(report.wall_s, 3),
        "stages_s": report.stages,
        "messages": report.result.messages,
        "lost": report.result.lost,
        "truth": [r.as_dict() for r in report.result.truth],
        "swap_tests": report.swap_tests,
        "incidents": report.incidents,
        "fleet": report.fleet,
        "fleet_messages": report.fleet_messages,
        "recording": str(recording),
    }
