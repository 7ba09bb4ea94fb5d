"""One scenario end to end: world -> MQTT -> diagnostics service -> scorecard.

As ARCHITECTURE.md ("One run end to end") describes: the broker is the
embedded default or the one given; the service (the FastAPI app with its
ingest and SQLite store) runs under uvicorn in a thread of this process, on a
free loopback port; the SimPy model runs here and feeds the MQTT sink (and a
recording). Support actions of the scenario's timeline (registering a swap
test, a maintenance silence) go through the service's REST API at their
simulated moment: when the sink passes that moment's watermark, the runner
waits until the service has ingested it, then calls the API, as a person
would. The run ends when the service has ingested the final watermark; the
scorer then reads the service's verdicts, incidents and diagnoses (through
the API) and holds them against the ground truth and the answer key.

The run directory keeps: `recording.jsonl` (the stream, for `simlab replay`),
`diagnostics.sqlite` (the service's database), `scorecard.json`,
`diagnoses.json` (each expected or alarmed device's diagnosis and customer
messages) and `run.json` (what was run, how fast, on which broker).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import httpx
import uvicorn

from diagnostics.main import create_app
from diagnostics.settings import Settings
from protocol.messages import Clock
from protocol.wire import Topics
from simlab.broker import embedded_broker, free_port
from simlab.scenario import SilenceAction, SwapTestAction, until_of, world_of
from simlab.scoring import (
    DeviceView,
    ExpectedDevice,
    ExpectedIncident,
    Scorecard,
    TruthSpan,
    score,
)
from simulator.transport.publisher import MqttSink
from simulator.transport.url import BrokerUrl
from simulator.world.simulate import RunResult, simulate
from simulator.world.sinks import JsonlSink, Sink, TeeSink

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from pydantic import BaseModel

    from simlab.scenario import ScenarioSpec

__all__ = ["RunError", "RunOptions", "RunReport", "ServiceThread", "run_scenario"]

CATCH_UP_S: Final = 120.0
"""How long (wall clock) the runner waits for the service to ingest a watermark."""
LOOK_BEFORE_END_S: Final = 300.0
"""A fault that ends before the run is diagnosed this long before its end (still on)."""
DIAGNOSE_ALL_UP_TO: Final = 500
"""Fleets up to this size have every device diagnosed; larger ones only the expected and
alarmed devices (the rest are checked for alarms in the verdict history)."""


class RunError(RuntimeError):
    """The run could not be completed (the service did not catch up, the world failed)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a scenario."""

    out: Path
    speed: float | None = None
    """Simulated seconds per wall second; None: as fast as possible."""
    broker: str | None = None
    """mqtt://host:port; None: an embedded broker for this run."""
    record: Path | None = None
    """Where the recording goes (default: the run directory)."""
    languages: tuple[str, ...] = ("en", "sv")
    embedded: str = "auto"
    """Without `broker`: auto (Mosquitto when installed, else amqtt), mosquitto or amqtt."""


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
    wall_s: float = 0.0
    broker: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The scorecard and verdicts as plain data (`simlab run --json`)."""
        return {
            "scenario": self.scenario,
            "title": self.title,
            "out": str(self.out),
            "wall_s": round(self.wall_s, 3),
            "messages": self.result.messages,
            "lost": self.result.lost,
            "scorecard": self.scorecard.as_dict(),
            "diagnoses": self.diagnoses,
            "swap_tests": self.swap_tests,
            "incidents": self.incidents,
        }


# ---- the service in a thread -------------------------------------------------------------------


class ServiceThread:
    """The diagnostics app under uvicorn on a free loopback port, in a daemon thread."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="simlab-service", daemon=True)

    @property
    def url(self) -> str:
        """Where its API answers."""
        return f"http://127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def running(self, timeout: float = 30.0) -> Iterator[httpx.Client]:
        """Start it, wait until it is subscribed, yield a client; stop it on exit."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        try:
            while not self.server.started:
                if not self.thread.is_alive():
                    raise RunError("the diagnostics service did not start")
                if time.monotonic() > deadline:
                    raise RunError("the diagnostics service did not start in time")
                time.sleep(0.02)
            with httpx.Client(base_url=self.url, timeout=30) as client:
                while not client.get("/health").json().get("broker_connected"):
                    if time.monotonic() > deadline:
                        raise RunError("the diagnostics service did not reach the broker")
                    time.sleep(0.05)
                yield client
        finally:
            self.server.should_exit = True
            self.thread.join(30)


def _caught_up(client: httpx.Client, t: float, timeout: float = CATCH_UP_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        clock = client.get("/api/fleet").json()["clock"]
        if clock is not None and clock >= t - 1e-6:
            return
        if time.monotonic() > deadline:
            raise RunError(f"the service did not ingest up to t={t} within {timeout:.0f} s")
        time.sleep(0.02)


class _Timeline:
    """A sink in front of the publisher: performs support actions as their watermarks pass."""

    def __init__(
        self,
        inner: Sink,
        actions: list[tuple[float, Callable[[], None]]],
        catch_up: Callable[[float], None],
        progress: Callable[[float], None] | None,
    ) -> None:
        self.inner = inner
        self.pending = sorted(actions, key=lambda pair: pair[0])
        self.catch_up = catch_up
        self.progress = progress

    def write(self, message: BaseModel, account: str | None) -> None:
        self.inner.write(message, account)
        if not isinstance(message, Clock):
            return
        if self.progress is not None:
            self.progress(message.t)
        while self.pending and self.pending[0][0] <= message.t:
            _, act = self.pending.pop(0)
            self.catch_up(message.t)
            act()


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
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    database = out / "diagnostics.sqlite"
    for stale in (database, out / "diagnostics.sqlite-wal", out / "diagnostics.sqlite-shm"):
        stale.unlink(missing_ok=True)
    root = f"simlab/run-{uuid.uuid4().hex[:8]}"
    topics = Topics(root)
    with ExitStack() as stack:
        protocol = 5
        if options.broker is None:
            broker = stack.enter_context(embedded_broker(prefer=options.embedded))
            url, protocol = BrokerUrl.parse(broker.url), broker.protocol
        else:
            url = BrokerUrl.parse(options.broker)
        settings = Settings(
            broker_host=url.host,
            broker_port=url.port,
            mqtt_version=5 if protocol == 5 else 4,
            root=root,
            database=database,
            client_id=f"simlab-run-{uuid.uuid4().hex[:8]}",
        )
        client = stack.enter_context(ServiceThread(settings).running())
        recording = options.record or out / "recording.jsonl"
        recorder = JsonlSink(stack.enter_context(recording.open("wb")))
        publisher = MqttSink(
            url, topics=topics, speed=options.speed, telemetry_qos=1, protocol=protocol
        ).start()
        swap_ids: list[str] = []
        actions = _actions(spec, t0, client, swap_ids)
        timeline = _Timeline(
            TeeSink(publisher, recorder),
            actions,
            lambda t: _caught_up(client, t),
            (lambda t: progress(t - t0, until)) if progress is not None else None,
        )
        result = simulate(world, timeline, until=until)
        publisher.close()
        if result.error is not None:
            raise RunError(f"the world failed: {result.error}")
        _caught_up(client, t0 + until)
        report = _collect(
            client,
            spec=spec,
            name=name,
            out=out,
            result=result,
            t0=t0,
            until=until,
            swap_ids=swap_ids,
            languages=options.languages,
        )
    report.wall_s = time.perf_counter() - began
    report.broker = str(url)
    _write(report, spec, options, root)
    return report


def _actions(
    spec: ScenarioSpec, t0: float, client: httpx.Client, swap_ids: list[str]
) -> list[tuple[float, Callable[[], None]]]:
    out: list[tuple[float, Callable[[], None]]] = []
    for action in spec.actions:
        at = t0 + action.at
        if isinstance(action, SwapTestAction):
            test = action.swap_test
            body = {"suspect_device": test.sim_of, "good_device": test.into, "at": at}
            if test.impossible is not None:
                body["impossible"] = test.impossible
            out.append((at, _post(client, "/api/swap-tests", body, swap_ids)))
        elif isinstance(action, SilenceAction):
            body = {
                "dimension": action.silence.dimension.value,
                "value": str(action.silence.value),
                "seconds": action.silence.duration,
                "reason": action.note or "maintenance",
            }
            out.append((at, _post(client, "/api/silences", body, None)))
    return out


def _post(
    client: httpx.Client, path: str, body: dict[str, Any], ids: list[str] | None
) -> Callable[[], None]:
    def act() -> None:
        answer = client.post(path, json=body)
        if answer.status_code >= 400:
            raise RunError(f"POST {path} {body}: {answer.status_code} {answer.text}")
        if ids is not None:
            ids.append(answer.json()["id"])

    return act


def _collect(  # noqa: PLR0913 - what the scorer needs, gathered in one place
    client: httpx.Client,
    *,
    spec: ScenarioSpec,
    name: str,
    out: Path,
    result: RunResult,
    t0: float,
    until: float,
    swap_ids: list[str],
    languages: tuple[str, ...],
) -> RunReport:
    end = t0 + until
    truth = [
        TruthSpan(r.device_id, r.cause.value, t0 + r.start, None if r.end is None else t0 + r.end)
        for r in result.truth
    ]
    expected = [
        ExpectedDevice(d.device, str(d.cause), t0 + d.start) for d in spec.answer_key.devices
    ]
    history = _histories(out / "diagnostics.sqlite")
    devices = sorted(history)
    ever_quiet = {d for d, h in history.items() if any(v == "OFFLINE" for _, v in h)}
    wanted = {e.device_id for e in expected} | {t.device_id for t in truth} | ever_quiet
    if len(devices) <= DIAGNOSE_ALL_UP_TO:
        wanted |= set(devices)
    looks = {t.device_id: _look(t, end) for t in truth}
    world = result.world
    sims = {d.id: d.sim for d in world.devices if d.sim is not None} if world is not None else {}
    views: dict[str, DeviceView] = {}
    diagnoses: list[dict[str, Any]] = []
    for device_id in sorted(wanted):
        at = looks.get(device_id, end)
        path = f"/api/devices/{device_id}"
        answer = client.get(f"{path}/diagnosis", params={"at": at})
        if answer.status_code == 404 and device_id in sims:
            # the device never reported: support looks the SIM up instead
            path = f"/api/sims/{sims[device_id]}"
            answer = client.get(f"{path}/diagnosis", params={"at": at})
        if answer.status_code == 404:  # never seen at all: nothing to diagnose
            views[device_id] = DeviceView(device_id, 0.0, tuple(history.get(device_id, ())), None)
            continue
        answer.raise_for_status()
        body = answer.json()
        detail = client.get(f"/api/devices/{device_id}")
        shown = detail.json() if detail.status_code == 200 else {}
        interval = float(shown.get("announced_interval_s") or shown.get("interval_s") or 0.0)
        views[device_id] = DeviceView(
            device_id,
            interval,
            tuple(history.get(device_id, ())),
            body["cause"],
            tuple(c["cause"] for c in body["candidates"]),
            body["separating_test"],
            body["started"],
            at,
            body["facts"].get("last_report"),
        )
        if body["cause"] is not None or device_id in looks or device_id in ever_quiet:
            messages = {
                lang: client.get(f"{path}/message", params={"at": at, "lang": lang}).json()
                for lang in languages
            }
            diagnoses.append({"device_id": device_id, "diagnosis": body, "messages": messages})
    for device_id in devices:  # devices not diagnosed still count for alarms
        views.setdefault(
            device_id, DeviceView(device_id, 0.0, tuple(history.get(device_id, ())), None)
        )
    incidents = client.get("/api/incidents").json()["items"]
    swaps = [client.get(f"/api/swap-tests/{i}", params={"at": end}).json() for i in swap_ids]
    key = spec.answer_key
    card = score(
        expected=expected,
        expected_incidents=[
            ExpectedIncident(i.dimension.value, str(i.value), t0 + i.start) for i in key.incidents
        ],
        truth=truth,
        views=views,
        incidents=[(i["dimension"], i["value"], i["opened_at"]) for i in incidents],
        swap_expected=None if key.swap_verdict is None else key.swap_verdict.value,
        swap_outcome=swaps[-1]["outcome"] if swaps else None,
    )
    return RunReport(
        scenario=name,
        title=spec.title,
        out=out,
        result=result,
        scorecard=card,
        diagnoses=diagnoses,
        swap_tests=swaps,
        incidents=incidents,
    )


def _look(truth: TruthSpan, end: float) -> float:
    """When support looks at a device: while its fault is still on."""
    if truth.end is not None and truth.end < end:
        return max(truth.start, truth.end - LOOK_BEFORE_END_S)
    return end


def _histories(database: Path) -> dict[str, list[tuple[float, str]]]:
    """Every device's verdict changes, read from the service's database after the run."""
    found: dict[str, list[tuple[float, str]]] = {}
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT device_id, t, verdict FROM verdicts ORDER BY device_id, t, id")
        for device_id, t, verdict in rows:
            found.setdefault(device_id, []).append((float(t), str(verdict)))
        for (device_id,) in conn.execute("SELECT device_id FROM devices"):
            found.setdefault(device_id, [])
    return found


def _write(report: RunReport, spec: ScenarioSpec, options: RunOptions, root: str) -> None:
    out = report.out
    (out / "scorecard.json").write_text(json.dumps(report.scorecard.as_dict(), indent=2) + "\n")
    (out / "diagnoses.json").write_text(json.dumps(report.diagnoses, indent=2) + "\n")
    run = {
        "scenario": report.scenario,
        "title": report.title,
        "seed": spec.world.seed,
        "start": spec.world.start.isoformat(),
        "duration_s": until_of(spec),
        "speed": "max" if options.speed is None else options.speed,
        "broker": report.broker,
        "root": root,
        "wall_s": round(report.wall_s, 3),
        "messages": report.result.messages,
        "lost": report.result.lost,
        "truth": [r.as_dict() for r in report.result.truth],
        "swap_tests": report.swap_tests,
        "incidents": report.incidents,
        "recording": str(options.record or out / "recording.jsonl"),
    }
    (out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
