"""Response models of the REST API (what the service answers, not what devices publish).

Field names are the wire's. Where the API says `verdict` it means the detection status
(`diagnostics.detection.DetectionStatus`); the `of` constructors map the service's names
to the wire's, so a later version of the API can rename the fields in one place.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from diagnostics.api.params import EARLIEST, LATEST, MAX_SILENCE_S

if TYPE_CHECKING:
    from diagnostics.store import StoredDetection
    from diagnostics.views import DevicePage, DeviceRow

__all__ = [
    "DeadLetterOut",
    "DeadLetterPage",
    "DetectionChangeOut",
    "DeviceDetailOut",
    "DeviceOut",
    "DevicePageOut",
    "FleetOut",
    "HealthOut",
    "IncidentDetailOut",
    "IncidentOut",
    "IncidentPage",
    "SilenceIn",
    "SilenceOut",
    "TimelineEntryOut",
    "TimelinePage",
]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class DeviceOut(_Out):
    """A device in the fleet list: its verdict now and where it was last seen."""

    device_id: str
    verdict: str = Field(description="UNKNOWN, ONLINE, LATE, SUSPECT, OFFLINE or ASLEEP")
    reason: str = Field(description="Why: REPORTING, SILENT, SLEEPING, CONNECTION_LOST, ...")
    since: float | None = Field(description="Service clock when the verdict or reason changed")
    account: str | None
    iccid: str | None
    operator: str | None = Field(description="MCC-MNC of its newest telemetry")
    cell: int | None = Field(description="Cell id of its newest telemetry")
    last_seen: float | None = Field(description="Time of its newest report, Unix s")

    @classmethod
    def of(cls, row: DeviceRow) -> Self:
        """The response for a row of the fleet list: its detection status is `verdict`."""
        fields = dataclasses.asdict(row)
        fields["verdict"] = fields.pop("status")
        return cls.model_validate(fields)


class DevicePageOut(_Out):
    """A page of the fleet list."""

    total: int = Field(description="Devices matching the filters, on every page")
    limit: int
    offset: int
    items: list[DeviceOut]

    @classmethod
    def of(cls, page: DevicePage) -> Self:
        """The response for a page of the fleet list."""
        items = [DeviceOut.of(row) for row in page.items]
        return cls(total=page.total, limit=page.limit, offset=page.offset, items=items)


class DetectionChangeOut(_Out):
    """One change of a device's verdict."""

    id: int
    t: float = Field(description="Service clock at the change, Unix s")
    verdict: str
    reason: str

    @classmethod
    def of(cls, change: StoredDetection) -> Self:
        """The response for a stored detection change (its status is `verdict`)."""
        return cls(id=change.id, t=change.t, verdict=change.status, reason=change.reason)


class TimelineEntryOut(_Out):
    """A message of the device's timeline: its own reports and its SIMs' network events."""

    id: int = Field(description="Pagination key: pass the first entry's id as before_id")
    kind: str
    t: float
    topic: str
    payload: dict[str, Any] = Field(description="The message as published")


class TimelinePage(_Out):
    """A page of a device's timeline, oldest first."""

    device_id: str
    items: list[TimelineEntryOut]
    next_before_id: int | None = Field(description="before_id of the next, older page")


class DeviceDetailOut(DeviceOut):
    """Everything the service knows about one device."""

    interval_s: float = Field(description="Reporting interval it is judged by")
    announced_interval_s: float
    sleep_until: float | None = Field(description="End of its planned PSM/eDRX sleep")
    imei: str | None
    battery: float | None
    rsrp: float | None
    firmware: str | None
    status: str | None = Field(description="Its newest status: online, asleep or offline")
    history: list[DetectionChangeOut] = Field(description="Verdict changes, oldest first")
    timeline: list[TimelineEntryOut] = Field(description="Its newest messages, oldest first")
    record: dict[str, Any] | None = Field(description="Its SIM's inventory record")
    incident_id: str | None = Field(
        description="The open incident it is quiet in: its alarm is the incident's"
    )
    alarm: bool = Field(description="OFFLINE and in no open incident: an alarm of its own")
    identity_conflicts: int = Field(
        0, description="Its SIM claims the network disagrees with: flagged, not trusted"
    )
    sim_claim_conflict: dict[str, Any] | None = Field(
        None,
        description="The newest such claim: iccid, imei, t, why (imei or held), network_imei, "
        "holder",
    )


class FleetOut(_Out):
    """The fleet at a glance."""

    clock: float | None = Field(description="The service clock: the newest watermark, Unix s")
    devices: int
    verdicts: dict[str, int] = Field(description="Devices per verdict")
    messages: dict[str, int] = Field(description="Messages stored per kind")
    messages_total: int
    sims: int
    dead_letters: dict[str, int] = Field(description="Messages refused, ever, per code")
    alarms: int = Field(description="OFFLINE devices in no open incident: individual alarms")
    incidents_open: int
    incidents_alerting: int = Field(description="Open incidents no silence mutes")


class DeadLetterOut(_Out):
    """A message the service could not read."""

    id: int
    topic: str
    code: str = Field(description="topic, too_large, not_json, version, invalid or mismatch")
    reason: str
    size: int = Field(description="Payload bytes as received")
    received: float
    payload: str = Field(description="The kept payload, as text (undecodable bytes replaced)")


class DeadLetterPage(_Out):
    """A page of dead letters, newest first."""

    items: list[DeadLetterOut]
    next_before_id: int | None


class HealthOut(_Out):
    """Whether the service takes in the stream."""

    ok: bool = Field(
        description="Connected to the broker, with the ingest running and the store writing"
    )
    broker_connected: bool
    ingest_error: str | None = Field(description="Why the ingest stopped, if it did")
    queue_depth: int = Field(description="Messages received, not yet committed")
    clock: float | None = Field(description="The service clock: the newest watermark, Unix s")
    devices: int
    client_id: str | None = Field(description="The MQTT client id: the broker's session")
    sessions_taken_over: int = Field(
        description="Times the broker gave the session to another client with the same id"
    )
    closed_by_broker: int = Field(
        description="Times the broker closed the connection without a DISCONNECT (maybe so)"
    )
    store_error: str | None = Field(
        None, description="Why the store cannot write now; batches wait unacknowledged meanwhile"
    )
    store_error_since: float | None = Field(
        None, description="Wall clock, Unix s: when the store first refused the waiting write"
    )
    store_retries: int = Field(0, description="Batches handed over again (the store refused)")
    pings_unanswered: int = Field(0, description="PINGREQs the broker has not answered yet")
    broker_stalls: int = Field(
        0, description="Connections dropped because the broker answered no PINGREQ"
    )
    oversized: int = Field(
        0, description="Messages over max_packet_bytes let pass unread (too_large dead letters)"
    )
    broker_error: str | None = Field(
        None,
        description="Why the latest connection failed or was lost, while not connected "
        "(a refusal names its reason: bad user name or password, not authorized)",
    )


Dimension = Literal["cell", "apn", "tunnel", "firmware", "pool", "account", "operator"]


class IncidentOut(_Out):
    """Devices quiet together in one scope."""

    id: str
    dimension: str = Field(description="cell, apn, tunnel, firmware, pool, account or operator")
    value: str
    kind: str = Field(
        description="outage (more quiet than chance allows) or platform (a platform-side cause "
        "the devices share, e.g. SIMs deactivated: not a network outage)"
    )
    cause: str | None = Field(description="A platform group's shared cause")
    open: bool
    opened_at: float = Field(description="Service clock when it was detected")
    started_at: float = Field(description="When its earliest member went quiet")
    closed_at: float | None
    members: int = Field(description="Devices it has held")
    quiet: int = Field(description="Members quiet now (they point to it instead of alarming)")
    muted: bool = Field(description="A maintenance silence mutes its alerts")
    silence_id: str | None
    evidence: dict[str, float] = Field(
        description="quiet of devices in the scope, share, normal_rate p0, binomial p_value"
    )


class IncidentPage(_Out):
    """Open incidents, then recently closed ones."""

    open: int
    items: list[IncidentOut]


class IncidentDetailOut(IncidentOut):
    """An incident with its members."""

    member_ids: list[str]


class SilenceIn(BaseModel):
    """Maintenance: mute incidents in a scope until an expiry (exactly one of seconds, until)."""

    model_config = ConfigDict(extra="forbid")

    dimension: Dimension
    value: str = Field(min_length=1, description="e.g. a cell id, an MCC-MNC, an APN")
    seconds: float | None = Field(
        None,
        gt=0,
        le=MAX_SILENCE_S,
        allow_inf_nan=False,
        description="Expires this long after now (at most 90 days)",
    )
    until: datetime | None = Field(
        None, description="Expires at this ISO time (with zone), from 2000 to 2100"
    )
    reason: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _one_expiry(self) -> Self:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give exactly one of seconds and until")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("until needs a time zone, e.g. 2026-03-02T12:00:00Z")
        if self.until is not None and not EARLIEST <= self.until.timestamp() <= LATEST:
            raise ValueError(f"until {self.until.isoformat()}: give a time from 2000 to 2100")
        return self


class SilenceOut(_Out):
    """A maintenance silence."""

    id: str
    dimension: str
    value: str
    created_at: float
    until: float = Field(description="When it expires (or expired), as made")
    ended_at: float | None = Field(description="When it was ended early, if it was")
    reason: str
    active: bool = Field(description="Neither expired nor ended at the service clock")
