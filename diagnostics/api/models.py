"""Response models of the REST API (what the service answers, not what devices publish)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DeadLetterOut",
    "DeadLetterPage",
    "DeviceDetailOut",
    "DeviceOut",
    "DevicePageOut",
    "FleetOut",
    "HealthOut",
    "TimelineEntryOut",
    "TimelinePage",
    "VerdictOut",
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


class DevicePageOut(_Out):
    """A page of the fleet list."""

    total: int = Field(description="Devices matching the filters, on every page")
    limit: int
    offset: int
    items: list[DeviceOut]


class VerdictOut(_Out):
    """One change of a device's verdict."""

    id: int
    t: float = Field(description="Service clock at the change, Unix s")
    verdict: str
    reason: str


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
    history: list[VerdictOut] = Field(description="Verdict changes, oldest first")
    timeline: list[TimelineEntryOut] = Field(description="Its newest messages, oldest first")
    record: dict[str, Any] | None = Field(description="Its SIM's inventory record")


class FleetOut(_Out):
    """The fleet at a glance."""

    clock: float | None = Field(description="The service clock: the newest watermark, Unix s")
    devices: int
    verdicts: dict[str, int] = Field(description="Devices per verdict")
    messages: dict[str, int] = Field(description="Messages stored per kind")
    messages_total: int
    sims: int
    dead_letters: dict[str, int] = Field(description="Messages refused, ever, per code")


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

    ok: bool
    broker_connected: bool
    ingest_error: str | None
    queue_depth: int
    clock: float | None
    devices: int
