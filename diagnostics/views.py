"""What the API is shown: the service's hot state and store read into plain snapshots.

`ServiceView` answers the read questions of the REST API (and of the web pages
to come, which must read the same views, never a second copy of the logic):
the fleet at a glance, the device list and one device in full, incidents and
silences, dead letters, health. Each answer is taken under the service's lock
and copied, since the ingest's thread goes on updating the originals.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from diagnostics.detection import DetectionStatus
from diagnostics.service import DeviceFacts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diagnostics.incidents import Incident
    from diagnostics.search import Found
    from diagnostics.service import Service
    from diagnostics.silence import Silence
    from diagnostics.store import StoredDeadLetter, StoredDetection, StoredMessage, Summary

__all__ = [
    "DeviceDetail",
    "DevicePage",
    "DeviceRow",
    "FleetSummary",
    "Health",
    "IncidentView",
    "ServiceView",
]

MERGE_IN_LOCK: Final = 10_000
"""New devices up to this many are merged into the list's order under the lock (a few ms)."""


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device in the fleet list."""

    device_id: str
    status: str
    """Its detection status (`DetectionStatus` by name); the API calls it `verdict`."""
    reason: str
    since: float | None
    account: str | None
    iccid: str | None
    """The SIM it holds now, by the service's device <-> SIM map."""
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
    history: list[StoredDetection]
    timeline: list[StoredMessage]
    record: dict[str, Any] | None
    """Its SIM's newest inventory record, as published."""
    incident_id: str | None = None
    """The open incident it is quiet in: its alarm is the incident's."""
    alarm: bool = False
    """OFFLINE and in no open incident: it raises its own alarm."""
    identity_conflicts: int = 0
    """Its SIM claims the network disagrees with, not taken (`diagnostics.identity`)."""
    sim_claim_conflict: dict[str, Any] | None = None
    """The newest of them: the ICCID and IMEI claimed, why, and where the network puts it."""


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """The fleet at a glance."""

    clock: float | None
    devices: int
    statuses: dict[str, int]
    stored: Summary | None
    """The store's counts (None: not asked for)."""
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
    quiet_ids: list[str] = field(default_factory=list)
    """The members quiet now."""
    kind: str = "outage"
    cause: str | None = None

    @classmethod
    def of(cls, incident: Incident, *, ids: bool = True, quiet: bool = False) -> IncidentView:
        """A snapshot of `incident`.

        `ids=False`: without its members' ids, only their counts; `quiet`: with the ids of
        those quiet now.
        """
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
            member_ids=list(incident.ordered()) if ids else [],
            quiet_ids=sorted(incident.quiet) if quiet else [],
            kind=incident.kind,
            cause=incident.cause,
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
    client_id: str | None = None
    """The MQTT client id, which names the broker's persistent session."""
    sessions_taken_over: int = 0
    """Times the broker gave this session to another client with the same id."""
    closed_by_broker: int = 0
    """Times the broker closed the connection without a DISCONNECT (maybe the same cause)."""
    store_error: str | None = None
    """Why the store cannot write now (None: it can); batches wait unacknowledged meanwhile."""
    store_error_since: float | None = None
    """Wall clock, Unix seconds: when the store first refused the write now waiting."""
    store_retries: int = 0
    """Batches handed over again because the store could not take them (ever)."""
    pings_unanswered: int = 0
    """PINGREQs of the current connection the broker has not answered yet."""
    broker_stalls: int = 0
    """Connections dropped because the broker answered no PINGREQ (ever)."""
    oversized: int = 0
    """Messages larger than the packet cap, let pass unread (kept as too_large dead letters)."""
    broker_error: str | None = None
    """Why the latest connection failed or was lost (a refusal says why); None when connected."""


class ServiceView:
    """The read side of a running service: each method a question the API asks."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def summary(self, *, stored: bool = True) -> FleetSummary:
        """Devices per status, messages per kind, dead letters per code, alarms and incidents.

        `stored=False`: without the store's counts (messages per kind, SIMs, dead letters),
        which count SIMs by a scan of its table: what the console's live counts leave out.
        """
        service = self.service
        with service.lock:
            statuses = service.detector.counts()
            devices, clock = len(service.detector), service.clock
            alarms = self._alarms()
            incidents = service.grouper.open_incidents()
            alerting = sum(not i.muted for i in incidents)
        return FleetSummary(
            clock,
            devices,
            statuses,
            service.store.summary() if stored else None,
            alarms=alarms,
            incidents_open=len(incidents),
            incidents_alerting=alerting,
        )

    def _alarms(self) -> int:
        service = self.service
        offline = np.flatnonzero(service.detector.column("status") == int(DetectionStatus.OFFLINE))
        ids = service.detector.ids
        return sum(ids[int(row)] not in service.incident_of for row in offline)

    def incidents(self, *, open_only: bool = False, ids: bool = True) -> list[IncidentView]:
        """Open incidents, then recently closed ones (newest first within each).

        `ids=False`: without their members' ids (an overview counts them, never lists them).
        """
        service = self.service
        with service.lock:
            found = [
                IncidentView.of(i, ids=ids)
                for i in reversed(service.grouper.incidents.values())
                if i.open or not open_only
            ]
        return [i for i in found if i.open] + (
            [] if open_only else [i for i in found if not i.open]
        )

    def search(self, query: str, *, limit: int = 50) -> list[Found]:
        """The devices (and SIMs no device holds) `query` names (`diagnostics.search`)."""
        service = self.service
        with service.lock:
            sims, search = service.sims, service.search
            found = search.find(
                query,
                device=service.detector.index.__contains__,
                holder=sims.holder,
                owner=sims.owner,
                limit=limit,
            )
            named = []
            for f in found:  # a device found by its id or IMEI is named by the SIM it holds
                if f.device_id and not f.name:
                    f = replace(f, name=search.name(sims.sim_of(f.device_id)))  # noqa: PLW2901
                named.append(f)
            return named

    def incident(self, incident_id: str, *, quiet: bool = False) -> IncidentView | None:
        """One incident with its members (`quiet`: and which are quiet now); None if unknown."""
        service = self.service
        with service.lock:
            found = service.grouper.incidents.get(incident_id)
            return IncidentView.of(found, quiet=quiet) if found else None

    def silences(self) -> tuple[float | None, list[Silence]]:
        """The service clock and every silence (active ones have `until` after it)."""
        service = self.service
        with service.lock:
            return service.clock, list(service.grouper.silences.values())

    def device_rows(
        self,
        *,
        status: str | None = None,
        account: str | None = None,
        operator: str | None = None,
        cell: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> DevicePage:
        """The fleet list by device id, filtered (every filter given must hold), one page."""
        service = self.service
        if len(service.detector) - len(service.order) > MERGE_IN_LOCK:  # a peek, to decide
            with service.lock:
                start, fresh = service.order.fresh(service.detector.ids)
            service.order.take(start, fresh)  # many new devices: sorted outside the lock
        with service.lock:
            order = service.order.take(*service.order.fresh(service.detector.ids))  # a few
            if status is not None:
                wanted = service.detector.column("status")[order] == int(DetectionStatus[status])
                order = order[wanted]
            ids = service.detector.ids
            if account is None and operator is None and cell is None:
                page = [self._row(ids[r]) for r in order[offset : offset + limit].tolist()]
                return DevicePage(len(order), limit, offset, page)
            matching = service.devices.matching(
                order, account=account, operator=operator, cell=cell
            )
            page = [self._row(ids[r]) for r in matching[offset : offset + limit].tolist()]
        return DevicePage(len(matching), limit, offset, page)

    def rows_of(self, device_ids: Sequence[str]) -> list[DeviceRow]:
        """The list rows of these devices (those seen), in the order given."""
        service = self.service
        with service.lock:
            index = service.detector.index
            return [self._row(d) for d in dict.fromkeys(device_ids) if d in index]

    def device(self, device_id: str, *, timeline: int = 50) -> DeviceDetail | None:
        """One device in full, with its newest `timeline` entries; None if never seen."""
        service = self.service
        with service.lock:
            row = service.detector.index.get(device_id)
            if row is None:
                return None
            summary = self._row(device_id)
            interval = float(service.detector.column("interval")[row])
            announced = float(service.detector.column("nominal")[row])
            sleep = float(service.detector.column("sleep_until")[row])
            facts = service.devices.get(device_id, DeviceFacts(device_id))
            facts = replace(facts)  # a copy: the committer thread updates the original
            held = service.sims.sim_of(device_id)
            incident_id = service.incident_of.get(device_id)
            alarm = incident_id is None and summary.status == DetectionStatus.OFFLINE.name
            conflicts, conflict = service.identity.conflict_of(device_id)
        record = service.store.record(held) if held else None
        return DeviceDetail(
            device=summary,
            interval_s=interval,
            announced_interval_s=announced,
            sleep_until=None if np.isnan(sleep) else sleep,
            facts=facts,
            history=service.store.detection_history(device_id),
            timeline=service.store.device_timeline(device_id, limit=timeline),
            record=json.loads(record.payload) if record else None,
            incident_id=incident_id,
            alarm=alarm,
            identity_conflicts=conflicts,
            sim_claim_conflict=None if conflict is None else asdict(conflict),
        )

    def timeline(
        self, device_id: str, *, limit: int = 100, before_id: int | None = None
    ) -> list[StoredMessage]:
        """A page of the device's timeline, oldest first (KeyError for an unknown `before_id`)."""
        return self.service.store.device_timeline(device_id, limit=limit, before_id=before_id)

    def dead_letters(
        self, *, code: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> Sequence[StoredDeadLetter]:
        """Kept dead letters, newest first."""
        return self.service.store.dead_letters(limit=limit, before_id=before_id, code=code)

    def health(self) -> Health:
        """Broker connection, ingest failure, backlog, clock."""
        service = self.service
        ingest = service.ingest
        connected = ingest is not None and ingest.connected.is_set()
        error = None if ingest is None or ingest.error is None else repr(ingest.error)
        with service.lock:
            clock, devices = service.clock, len(service.detector)
        failure = service.commits.failure
        return Health(
            ok=connected and error is None and failure is None,
            broker_connected=connected,
            ingest_error=error,
            queue_depth=ingest.queue_depth() if ingest is not None else 0,
            clock=clock,
            devices=devices,
            client_id=ingest.client_id if ingest is not None else None,
            sessions_taken_over=ingest.stats.taken_over if ingest is not None else 0,
            closed_by_broker=ingest.stats.closed_by_broker if ingest is not None else 0,
            store_error=failure.reason if failure is not None else None,
            store_error_since=failure.since if failure is not None else None,
            store_retries=ingest.stats.retries if ingest is not None else 0,
            pings_unanswered=ingest.stats.unanswered if ingest is not None else 0,
            broker_stalls=ingest.stats.stalls if ingest is not None else 0,
            oversized=ingest.stats.oversized if ingest is not None else 0,
            broker_error=ingest.broker_error if ingest is not None and not connected else None,
        )

    def _row(self, device_id: str) -> DeviceRow:
        service = self.service
        row = service.detector.index[device_id]
        status, reason = service.detector.status(row)
        facts = service.devices.get(device_id)
        last = float(service.detector.column("last_seen")[row])
        return DeviceRow(
            device_id=device_id,
            status=status.name,
            reason=reason.name,
            since=service.since.get(device_id),
            account=facts.account if facts else None,
            iccid=service.sims.sim_of(device_id),
            operator=facts.operator if facts else None,
            cell=facts.cell if facts else None,
            last_seen=None if np.isnan(last) else last,
        )
