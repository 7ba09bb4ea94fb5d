"""The diagnostics service's core: batches in, verdicts out, one commit per batch.

`Service.handle` is the ingest's callback. It reads a batch (messages outside
the subscription are ignored, undecodable ones become dead letters counted per
code, one the broker sent again after a crash (DUP) and that is stored already
is skipped), feeds the good ones to the detector through `DetectorFeed`, sweeps
the detector at each watermark it meets (`Clock` messages are the service's
"now"; a batch of a fast replay spans many of them, and each verdict change
is recorded at the watermark that showed it) and writes the batch's messages,
dead letters, verdict changes and clock in ONE `write_batch`; the ingest
acknowledges the batch only after that returns. `rebuild` replays the store
into a fresh detector on start, so a restart keeps its verdicts; maintenance
silences are kept in the store as actions and taken back first.

Threads: `handle` runs in the ingest's thread, the API's readers in
a thread pool; the in-memory state (detector, device facts, counters) is
guarded by one lock, the store serves every thread on its own connection. No
FastAPI here: the API layer turns these answers into responses.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from pydantic import ValidationError

from diagnostics.detection import Detector, Reason, Verdict
from diagnostics.evidence import DetectorFeed
from diagnostics.incidents import DIMENSIONS, Grouper, Incident, Silence
from diagnostics.store import VerdictChange, accepted, dead_letter
from protocol.messages import Clock, DeviceStatus, SimRecord, Telemetry
from protocol.wire import Topics, WireError, decode, decode_any, matches

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from pydantic import BaseModel

    from diagnostics.ingest import Ingest, Received
    from diagnostics.store import (
        Accepted,
        DeadLetter,
        Store,
        StoredDeadLetter,
        StoredMessage,
        StoredVerdict,
        Summary,
    )

__all__ = [
    "DeviceDetail",
    "DeviceFacts",
    "DevicePage",
    "DeviceRow",
    "FleetSummary",
    "Health",
    "IncidentView",
    "Metric",
    "Service",
]

GROUP_EVERY_S: Final = 900.0
"""Incidents are re-examined at a sweep that changed a verdict, else this often (service clock).

The grouper's baseline is time-weighted, so skipping quiet sweeps changes nothing it learns.
"""
_QUIET: Final = (int(Verdict.SUSPECT), int(Verdict.OFFLINE))

SILENCE_ACTION: Final = "silence"
"""The store's action kind that keeps maintenance silences across restarts."""

REPLAY_SWEEP_S: Final = 60.0
"""While replaying, the detector is swept every this many seconds of message time.

The live service sweeps after every batch; sweeping the replay as it goes keeps
state that depends on earlier verdicts (a device recovering from OFFLINE) as it was.
"""


# ---- what the API is told -------------------------------------------------------------------


@dataclass(slots=True)
class DeviceFacts:
    """What the stream said about a device lately (its newest telemetry and status)."""

    device_id: str
    account: str | None = None
    iccid: str | None = None
    imei: str | None = None
    operator: str | None = None
    """MCC-MNC of its newest telemetry."""
    cell: int | None = None
    apn: str | None = None
    """APN of its newest telemetry (a private APN is also its tunnel)."""
    last_report: float | None = None
    """Time of its newest telemetry."""
    battery: float | None = None
    rsrp: float | None = None
    firmware: str | None = None
    status: str | None = None
    status_t: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device in the fleet list."""

    device_id: str
    verdict: str
    reason: str
    since: float | None
    account: str | None
    iccid: str | None
    operator: str | None
    cell: int | None
    last_seen: float | None


@dataclass(frozen=True, slots=True)
class DevicePage:
    """A page of the fleet list and how many devices matched in all."""

    total: int
    limit: int
    offset: int
    items: list[DeviceRow]


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    """Everything the service knows about one device."""

    device: DeviceRow
    interval_s: float
    """The reporting interval the detector judges it by (learned, or announced)."""
    announced_interval_s: float
    sleep_until: float | None
    facts: DeviceFacts
    history: list[StoredVerdict]
    timeline: list[StoredMessage]
    record: dict[str, Any] | None
    """Its SIM's newest inventory record, as published."""
    incident_id: str | None = None
    """The open incident it is quiet in: its alarm is the incident's."""
    alarm: bool = False
    """OFFLINE and in no open incident: it raises its own alarm."""


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """The fleet at a glance."""

    clock: float | None
    devices: int
    verdicts: dict[str, int]
    stored: Summary
    alarms: int = 0
    """OFFLINE devices in no open incident: individual alarms."""
    incidents_open: int = 0
    incidents_alerting: int = 0
    """Open incidents no maintenance silence mutes."""


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident as the API shows it (a copy: the committer thread updates the original)."""

    id: str
    dimension: str
    value: str
    open: bool
    opened_at: float
    started_at: float
    closed_at: float | None
    members: int
    quiet: int
    muted: bool
    silence_id: str | None
    evidence: dict[str, float]
    member_ids: list[str]

    @classmethod
    def of(cls, incident: Incident) -> IncidentView:
        """A snapshot of `incident`."""
        e = incident.evidence
        return cls(
            id=incident.id,
            dimension=incident.dimension,
            value=incident.value,
            open=incident.open,
            opened_at=incident.opened_at,
            started_at=incident.started_at,
            closed_at=incident.closed_at,
            members=len(incident.members),
            quiet=len(incident.quiet),
            muted=incident.muted,
            silence_id=incident.silence_id,
            evidence={
                "quiet": e.quiet,
                "devices": e.devices,
                "share": e.share,
                "normal_rate": e.normal_rate,
                "p_value": e.p_value,
            },
            member_ids=sorted(incident.members),
        )


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the service is taking in the stream."""

    ok: bool
    broker_connected: bool
    ingest_error: str | None
    queue_depth: int
    clock: float | None
    devices: int


@dataclass(frozen=True, slots=True)
class Metric:
    """One Prometheus metric family: samples as (labels, value)."""

    name: str
    kind: str
    help: str
    samples: list[tuple[dict[str, str], float]]


@dataclass(slots=True)
class _Counters:
    accepted: int = 0
    ignored: int = 0
    """Outside the subscription (a broker pushing foreign retained messages)."""
    duplicates: int = 0
    """Retained messages sent again on subscribing, identical to what is stored."""
    redelivered: int = 0
    """Messages stored already (sent again after a crash, or published twice): skipped."""
    batches: int = 0
    verdict_changes: int = 0
    replayed: int = 0
    unreadable: int = 0
    """Stored messages the replay could not decode (should stay 0)."""
    dead: Counter[str] = field(default_factory=Counter)


# ---- the service ----------------------------------------------------------------------------


class Service:
    """Decodes, detects and stores; answers the API's questions."""

    def __init__(
        self,
        *,
        store: Store,
        topics: Topics,
        subscription: str | None = None,
        detector: Detector | None = None,
        grouper: Grouper | None = None,
        sweep_every: float = 0.0,
        wall_clock: bool = False,
    ) -> None:
        self.store = store
        self.wall_clock = wall_clock
        """Judge by the wall clock (`tick`), as for a real fleet, not by the stream's watermarks."""
        self.topics = topics
        self.subscription = subscription or topics.everything()
        self._inside = _subscription_test(self.subscription)
        self.detector = detector or Detector()
        self.feed = DetectorFeed(self.detector)
        self.grouper = grouper or Grouper()
        self.incident_of: dict[str, str] = {}
        """Quiet device -> the open incident it points to."""
        self._grouped_at = -np.inf
        self.sweep_every = sweep_every
        """Seconds of service clock between sweeps inside a batch (0: at every watermark)."""
        self.clock: float | None = None
        self.devices: dict[str, DeviceFacts] = {}
        self.device_of_sim: dict[str, str] = {}
        """ICCID -> the device whose newest report carried it."""
        self.device_of_imei: dict[str, str] = {}
        """IMEI -> the device whose newest report carried it."""
        self.since: dict[str, float] = {}
        self.counters = _Counters()
        self.ingest: Ingest | None = None
        """Set by whoever runs the ingest, for health and metrics."""
        self._lock = threading.RLock()

    # ---- the stream ---------------------------------------------------------------------------

    def handle(self, batch: list[Received]) -> None:
        """The ingest callback: decode, detect, sweep, and commit the batch in one transaction."""
        messages: list[Accepted] = []
        dead: list[DeadLetter] = []
        verdicts: list[VerdictChange] = []
        inside, topics = self._inside, self.topics
        with self._lock:
            clock = self.clock
            swept = -np.inf if clock is None else clock
            for item in batch:
                if not inside(item.topic):
                    self.counters.ignored += 1
                    continue
                try:
                    route, message = decode(item.topic, item.payload, topics)
                except WireError as error:
                    dead.append(
                        dead_letter(error=error, payload=item.payload, received=item.received)
                    )
                    continue
                if item.retain and self._stored_already(message, item.payload):
                    self.counters.duplicates += 1
                    continue
                row = accepted(
                    route=route,
                    message=message,
                    topic=item.topic,
                    payload=item.payload,
                    received=item.received,
                )
                if item.dup and self.store.contains(row):
                    self.counters.redelivered += 1  # committed before a crash, not acknowledged
                    continue
                messages.append(row)
                if not isinstance(message, Clock):
                    self._apply(message, route.account)
                elif not self.wall_clock and (clock is None or message.t > clock):
                    clock = message.t
                    if clock >= swept + self.sweep_every:
                        verdicts += self._sweep(clock)
                        swept = clock
            if clock is not None and clock != swept:
                verdicts += self._sweep(clock)
            advanced = clock if clock != self.clock else None
            stored = self.store.write_batch(
                messages=messages, dead=dead, verdicts=verdicts, clock=advanced
            )
            self.clock = clock
            self.counters.accepted += stored
            self.counters.redelivered += len(messages) - stored
            self.counters.dead.update(d.code for d in dead)
            self.counters.batches += 1
            self.counters.verdict_changes += len(verdicts)

    def tick(self, now: float) -> int:
        """Judge the fleet at wall time `now` (wall-clock mode); returns the verdicts changed."""
        with self._lock:
            if self.clock is not None and now <= self.clock:
                return 0
            verdicts = self._sweep(now)
            self.store.write_batch(messages=[], dead=[], verdicts=verdicts, clock=now)
            self.clock = now
            self.counters.verdict_changes += len(verdicts)
            return len(verdicts)

    def rebuild(self) -> int:
        """Replay the store into the detector and take up its clock; returns messages replayed.

        Verdicts the replay reaches that differ from the stored current ones (the
        store was written by an older rule set, or the service died between a
        sweep and its commit) are written as changes at the stored clock.
        """
        with self._lock:
            self.clock = self.store.last_clock()
            for _id, _t, body in self.store.actions(SILENCE_ACTION):
                self.grouper.restore(Silence(**json.loads(body)))
            swept = -np.inf
            for chunk in self.store.replay():
                for row in chunk:
                    try:
                        message = decode_any(row.payload)
                    except ValidationError:
                        self.counters.unreadable += 1
                        continue
                    if row.t >= swept + REPLAY_SWEEP_S:
                        swept = row.t if self.clock is None else min(row.t, self.clock)
                        self._group(swept, changed=self.detector.sweep(swept).size > 0)
                    self._apply(message, row.account)
                    self.counters.replayed += 1
            current = self.store.current_verdicts()
            self.since = {c.device_id: c.since for c in current}
            self.counters.dead = Counter(self.store.dead_letter_counts())
            if self.clock is not None:
                self._group(self.clock, changed=self.detector.sweep(self.clock).size > 0)
                stored = {c.device_id: (c.verdict, c.reason) for c in current}
                changes = [
                    VerdictChange(device_id, self.clock, verdict.name, reason.name)
                    for device_id, verdict, reason in self._verdicts()
                    if stored.get(device_id, ("UNKNOWN", "NONE")) != (verdict.name, reason.name)
                ]
                if changes:
                    self.store.write_batch(messages=[], dead=[], verdicts=changes)
                    self.since.update((c.device_id, c.t) for c in changes)
            return self.counters.replayed

    def _apply(self, message: BaseModel, account: str | None) -> None:
        self.feed.apply(message)
        if isinstance(message, Telemetry):
            facts = self.devices.setdefault(message.device_id, DeviceFacts(message.device_id))
            if facts.last_report is None or message.t >= facts.last_report:
                facts.account = account or facts.account
                facts.iccid, facts.imei = message.iccid, message.imei
                self.device_of_sim[message.iccid] = message.device_id
                self.device_of_imei[message.imei] = message.device_id
                facts.operator, facts.cell = message.mcc_mnc, message.cell_id
                facts.apn = message.apn
                facts.last_report = message.t
                facts.battery, facts.rsrp = message.battery, message.rsrp
                facts.firmware = message.firmware
        elif isinstance(message, DeviceStatus):
            facts = self.devices.setdefault(message.device_id, DeviceFacts(message.device_id))
            if facts.status_t is None or message.t >= facts.status_t:
                facts.account = account or facts.account
                facts.iccid = message.iccid or facts.iccid
                facts.status, facts.status_t = message.status, message.t

    def _stored_already(self, message: BaseModel, payload: bytes) -> bool:
        """A retained message the broker sent again on subscribing, identical to the stored one."""
        if isinstance(message, DeviceStatus):
            status = self.store.latest_status(message.device_id)
            return status is not None and status.payload == payload
        if isinstance(message, SimRecord):
            record = self.store.record(message.iccid)
            return record is not None and record.payload == payload
        return False

    def _sweep(self, clock: float) -> list[VerdictChange]:
        changes = []
        changed = self.detector.sweep(clock)
        for row in changed:
            verdict, reason = self.detector.verdict(int(row))
            device_id = self.detector.ids[int(row)]
            changes.append(VerdictChange(device_id, clock, verdict.name, reason.name))
            self.since[device_id] = clock
        self._group(clock, changed=changed.size > 0)
        return changes

    def _group(self, clock: float, *, changed: bool) -> None:
        """Let the grouper see the fleet after a sweep (see GROUP_EVERY_S)."""
        if not changed and clock < self._grouped_at + GROUP_EVERY_S:
            return
        self._grouped_at = clock
        ids = self.detector.ids
        if not ids:
            return
        facts = [self.devices.get(device_id) for device_id in ids]
        attributes: dict[str, list[str | None]] = {d: [] for d in DIMENSIONS}
        for f in facts:
            attributes["cell"].append(None if f is None or f.cell is None else str(f.cell))
            attributes["operator"].append(f.operator if f else None)
            attributes["apn"].append(f.apn if f else None)
            attributes["account"].append(f.account if f else None)
            attributes["firmware"].append(f.firmware if f else None)
        quiet = np.isin(self.detector.column("verdict"), _QUIET)
        self.grouper.update(clock, ids, attributes, quiet, self.since)
        self.incident_of = self.grouper.incident_of()

    def _verdicts(self) -> list[tuple[str, Verdict, Reason]]:
        return [
            (device_id, *self.detector.verdict(row))
            for row, device_id in enumerate(self.detector.ids)
        ]

    # ---- the API's questions ------------------------------------------------------------------

    def summary(self) -> FleetSummary:
        """Devices per verdict, messages per kind, dead letters per code, alarms and incidents."""
        with self._lock:
            verdicts = self.detector.counts()
            devices, clock = len(self.detector), self.clock
            alarms = self._alarms()
            incidents = self.grouper.open_incidents()
            alerting = sum(not i.muted for i in incidents)
        return FleetSummary(
            clock,
            devices,
            verdicts,
            self.store.summary(),
            alarms=alarms,
            incidents_open=len(incidents),
            incidents_alerting=alerting,
        )

    def _alarms(self) -> int:
        offline = np.flatnonzero(self.detector.column("verdict") == int(Verdict.OFFLINE))
        ids = self.detector.ids
        return sum(ids[int(row)] not in self.incident_of for row in offline)

    def incidents(self, *, open_only: bool = False) -> list[IncidentView]:
        """Open incidents, then recently closed ones (newest first within each)."""
        with self._lock:
            found = [IncidentView.of(i) for i in reversed(self.grouper.incidents.values())]
        return [i for i in found if i.open] + (
            [] if open_only else [i for i in found if not i.open]
        )

    def incident(self, incident_id: str) -> IncidentView | None:
        """One incident with its members; None if unknown (or long closed)."""
        with self._lock:
            found = self.grouper.incidents.get(incident_id)
            return IncidentView.of(found) if found else None

    def silence(
        self,
        dimension: str,
        value: str,
        *,
        until: float | None = None,
        seconds: float | None = None,
        reason: str = "",
    ) -> Silence:
        """Mute incidents in a scope until `until` or for `seconds` of service clock.

        ValueError with the reason for a bad scope or expiry.
        """
        with self._lock:
            now = self.clock if self.clock is not None else time.time()
            if (until is None) == (seconds is None):
                raise ValueError("give exactly one of until and seconds")
            expiry = now + seconds if seconds is not None else float(until or 0.0)
            found = self.grouper.silence(dimension, value, now=now, until=expiry, reason=reason)
            self.store.put_action(SILENCE_ACTION, found.id, found.created_at, _json(found))
            return found

    def silences(self) -> tuple[float | None, list[Silence]]:
        """The service clock and every silence (active ones have `until` after it)."""
        with self._lock:
            return self.clock, list(self.grouper.silences.values())

    def device_rows(
        self,
        *,
        verdict: str | None = None,
        account: str | None = None,
        operator: str | None = None,
        cell: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> DevicePage:
        """The fleet list by device id, filtered (every filter given must hold), one page."""
        with self._lock:
            rows = [self._row(device_id) for device_id in sorted(self.detector.ids)]
        wanted = [
            r
            for r in rows
            if (verdict is None or r.verdict == verdict)
            and (account is None or r.account == account)
            and (operator is None or r.operator == operator)
            and (cell is None or r.cell == cell)
        ]
        return DevicePage(len(wanted), limit, offset, wanted[offset : offset + limit])

    def device(self, device_id: str, *, timeline: int = 50) -> DeviceDetail | None:
        """One device in full, with its newest `timeline` entries; None if never seen."""
        with self._lock:
            row = self.detector.index.get(device_id)
            if row is None:
                return None
            summary = self._row(device_id)
            interval = float(self.detector.column("interval")[row])
            announced = float(self.detector.column("nominal")[row])
            sleep = float(self.detector.column("sleep_until")[row])
            facts = self.devices.get(device_id, DeviceFacts(device_id))
            facts = replace(facts)  # a copy: the committer thread updates the original
            incident_id = self.incident_of.get(device_id)
            alarm = incident_id is None and summary.verdict == Verdict.OFFLINE.name
        record = self.store.record(facts.iccid) if facts.iccid else None
        return DeviceDetail(
            device=summary,
            interval_s=interval,
            announced_interval_s=announced,
            sleep_until=None if np.isnan(sleep) else sleep,
            facts=facts,
            history=self.store.verdict_history(device_id),
            timeline=self.store.device_timeline(device_id, limit=timeline),
            record=json.loads(record.payload) if record else None,
            incident_id=incident_id,
            alarm=alarm,
        )

    def known(self, device_id: str) -> bool:
        """Whether the device has been seen."""
        with self._lock:
            return device_id in self.detector.index

    def timeline(
        self, device_id: str, *, limit: int = 100, before_id: int | None = None
    ) -> list[StoredMessage]:
        """A page of the device's timeline, oldest first (KeyError for an unknown `before_id`)."""
        return self.store.device_timeline(device_id, limit=limit, before_id=before_id)

    def dead_letters(
        self, *, code: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> Sequence[StoredDeadLetter]:
        """Kept dead letters, newest first."""
        return self.store.dead_letters(limit=limit, before_id=before_id, code=code)

    def health(self) -> Health:
        """Broker connection, ingest failure, backlog, clock."""
        ingest = self.ingest
        connected = ingest is not None and ingest.connected.is_set()
        error = None if ingest is None or ingest.error is None else repr(ingest.error)
        with self._lock:
            clock, devices = self.clock, len(self.detector)
        return Health(
            ok=connected and error is None,
            broker_connected=connected,
            ingest_error=error,
            queue_depth=ingest.queue_depth() if ingest is not None else 0,
            clock=clock,
            devices=devices,
        )

    def metrics(self) -> list[Metric]:
        """The service's metrics, for /metrics."""
        with self._lock:
            verdicts = self.detector.counts()
            counters = self.counters
            own = [
                _counter(
                    "simlab_accepted_total", "Messages decoded and stored.", counters.accepted
                ),
                _counter(
                    "simlab_ignored_total", "Messages outside the subscription.", counters.ignored
                ),
                _counter(
                    "simlab_duplicate_retained_total",
                    "Retained messages already stored.",
                    counters.duplicates,
                ),
                _counter(
                    "simlab_redelivered_total",
                    "Messages already stored (sent again after a crash, or twice), skipped.",
                    counters.redelivered,
                ),
                _counter(
                    "simlab_verdict_changes_total",
                    "Verdict changes recorded.",
                    counters.verdict_changes,
                ),
                Metric(
                    "simlab_dead_letters_total",
                    "counter",
                    "Messages refused by decode, by code (ever, across restarts).",
                    [({"code": code}, n) for code, n in sorted(counters.dead.items())],
                ),
                Metric(
                    "simlab_devices",
                    "gauge",
                    "Devices per verdict.",
                    [({"verdict": name}, n) for name, n in verdicts.items()],
                ),
                _gauge(
                    "simlab_clock_seconds",
                    "The service clock (last watermark), Unix s.",
                    self.clock or 0.0,
                ),
            ]
        return own + self._ingest_metrics()

    def _ingest_metrics(self) -> list[Metric]:
        ingest = self.ingest
        if ingest is None:
            return []
        stats = ingest.stats
        return [
            _counter(
                "simlab_ingest_received_total", "Messages received from the broker.", stats.received
            ),
            _counter(
                "simlab_ingest_committed_total",
                "Messages committed and acknowledged.",
                stats.committed,
            ),
            _counter("simlab_ingest_batches_total", "Batches committed.", stats.batches),
            _counter("simlab_ingest_connects_total", "Connections to the broker.", stats.connects),
            _gauge(
                "simlab_ingest_queue_depth", "Received, not yet committed.", ingest.queue_depth()
            ),
            _gauge(
                "simlab_ingest_connected",
                "1 while connected to the broker.",
                float(ingest.connected.is_set()),
            ),
            Metric(
                "simlab_ingest_lag_seconds",
                "summary",
                "Broker to commit: from publishing a probe to the broker (QoS 1, queued behind "
                "everything waiting for this session) to committing the batch it arrived in; "
                "recent probes, one a second.",
                _quantiles(stats.lags),
            ),
            Metric(
                "simlab_ingest_read_to_commit_seconds",
                "summary",
                "Socket read to commit of each recent batch's oldest message: the service's "
                "own share of the lag, without the broker's queue.",
                _quantiles(stats.read_lags),
            ),
        ]

    def _row(self, device_id: str) -> DeviceRow:
        row = self.detector.index[device_id]
        verdict, reason = self.detector.verdict(row)
        facts = self.devices.get(device_id)
        last = float(self.detector.column("last_seen")[row])
        return DeviceRow(
            device_id=device_id,
            verdict=verdict.name,
            reason=reason.name,
            since=self.since.get(device_id),
            account=facts.account if facts else None,
            iccid=facts.iccid if facts else None,
            operator=facts.operator if facts else None,
            cell=facts.cell if facts else None,
            last_seen=None if np.isnan(last) else last,
        )


def _subscription_test(subscription: str) -> Callable[[str], bool]:
    """Whether a topic falls under `subscription`: a prefix test for the usual `root/#`."""
    base = subscription.removesuffix("/#")
    if base != subscription and "+" not in base and "#" not in base:
        prefix = base + "/"
        return lambda topic: topic.startswith(prefix) or topic == base
    return partial(matches, subscription)


def _quantiles(values: Iterable[float]) -> list[tuple[dict[str, str], float]]:
    found = np.array(list(values), dtype=np.float64)  # a copy first: the ingest appends
    if not found.size:
        return []
    return [({"quantile": q}, float(np.quantile(found, float(q)))) for q in ("0.5", "0.99")]


def _json(silence: Silence) -> str:
    return json.dumps(asdict(silence), sort_keys=True)


def _counter(name: str, text: str, value: float) -> Metric:
    return Metric(name, "counter", text, [({}, float(value))])


def _gauge(name: str, text: str, value: float) -> Metric:
    return Metric(name, "gauge", text, [({}, float(value))])
