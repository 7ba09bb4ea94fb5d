"""Payload models, version 1: what devices and the connectivity platform report.

Two sources of evidence, as in the real world. Devices publish telemetry
(after LwM2M objects 3 and 4) and a status that doubles as their Last Will.
The platform publishes network events keyed by the SIM (attach and tracking
area update with the timers the network granted, reject with the EMM cause,
sessions, reject with the ESM cause, state changes, usage, limits, IMEI
changes, audit entries) and each SIM's inventory record. Every message carries
the simulated time it happened (`t`, Unix seconds) and the identifiers its
sender knows. No message names a fault.

Version 1 grows only by optional fields with a default (the granted timers,
the `tau` event): a payload written before them still decodes to the same
message.
"""

from __future__ import annotations

import sys
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "AttachAccepted",
    "AttachRejected",
    "AuditRecorded",
    "Clock",
    "DataBlocked",
    "Detached",
    "DeviceStatus",
    "FirmwareUpdate",
    "ImeiChanged",
    "Message",
    "NetworkEvent",
    "SessionClosed",
    "SessionOpened",
    "SessionRejected",
    "SimRecord",
    "StateChanged",
    "Telemetry",
    "TrackingAreaUpdated",
    "UsageReported",
]

SCHEMA_VERSION: Final = 1


MAX_T: Final = 253_402_300_800.0
"""The first second of the year 10000: no calendar names a later time (nor an earlier than 1970
the protocol uses)."""


Id = Annotated[str, AfterValidator(sys.intern)]
"""A device id, ICCID or IMEI: interned, so every message (and every table that keeps it)
of one device or SIM holds the same string, not a copy of its own."""


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    v: Literal[1] = 1
    """Schema version of the payload (SCHEMA_VERSION)."""
    t: float = Field(ge=0.0, lt=MAX_T)
    """Simulated (or real) time the thing happened, Unix seconds (1970 to the year 9999)."""


class Telemetry(_Payload):
    """A device's periodic report: LwM2M Device (3) and Connectivity Monitoring (4) fields."""

    kind: Literal["telemetry"] = "telemetry"
    device_id: Id
    iccid: Id
    imei: Id
    seq: int
    firmware: str
    battery: float | None
    """Battery level in %; None on mains power."""
    supply_mv: int | None
    bearer: str
    """Radio access technology in use, e.g. LTE-M, NB-IoT."""
    mcc_mnc: str
    cell_id: int
    rsrp: float
    """Reference signal received power, dBm."""
    rsrq: float
    snr: float
    apn: str
    ip: str
    errors: list[int] = Field(default_factory=list)
    """LwM2M error codes: 1 low battery, 2 external power off, 4 low signal, 7 no IP."""
    uptime_s: int


class DeviceStatus(_Payload):
    """A device's retained status; the `offline` one with `will=True` is its MQTT Last Will."""

    kind: Literal["status"] = "status"
    device_id: Id
    iccid: Id | None
    status: Literal["online", "asleep", "offline"]
    will: bool = False
    """True when the broker published this as the device's Last Will (connection lost)."""
    next_report: float | None = None
    """When an asleep (PSM/eDRX) device plans to report again, Unix seconds."""
    keepalive_s: int | None = None


class _SimEvent(_Payload):
    iccid: Id
    imei: Id | None = None
    """The device identity the network saw with this SIM, when it saw one."""


class _Registered(_SimEvent):
    mcc_mnc: str
    cell_id: int
    rat: str
    t3412_s: float | None = None
    """The periodic TAU timer the network granted (T3412, extended under PSM), seconds.

    The network's mobile reachable timer runs a few minutes past it; when that runs out
    without a word from the device, the network detaches it implicitly. None: not sent.
    """
    t3324_s: float | None = None
    """The active time the network granted (T3324), seconds; None: no PSM granted."""


class AttachAccepted(_Registered):
    """The SIM registered on a network."""

    kind: Literal["attach"] = "attach"


class TrackingAreaUpdated(_Registered):
    """The device's periodic tracking area update, sent each time its T3412 runs out."""

    kind: Literal["tau"] = "tau"


class AttachRejected(_SimEvent):
    """A registration was refused with an EMM cause (TS 24.301)."""

    kind: Literal["attach_reject"] = "attach_reject"
    mcc_mnc: str
    cell_id: int
    rat: str
    emm_cause: int
    backoff_s: float | None = None
    """T3346 sent with the reject (congestion), seconds."""


class Detached(_SimEvent):
    """The SIM left the network: by the device, by the network, or implicitly after silence."""

    kind: Literal["detach"] = "detach"
    reason: Literal["device", "network", "implicit"]


class SessionOpened(_SimEvent):
    """A data session (PDN connection) opened."""

    kind: Literal["session_open"] = "session_open"
    session_id: int
    apn: str
    ip: str
    tunnel: str | None = None
    """The customer's IPsec tunnel a private APN's session goes through."""


class SessionClosed(_SimEvent):
    """A data session closed, with the bytes it carried."""

    kind: Literal["session_close"] = "session_close"
    session_id: int
    apn: str
    bytes: int
    reason: Literal["device", "network", "detach", "limit"]
    tunnel: str | None = None
    """The customer's IPsec tunnel the session went through."""


class SessionRejected(_SimEvent):
    """A data session was refused with an ESM cause (TS 24.301)."""

    kind: Literal["session_reject"] = "session_reject"
    apn: str
    esm_cause: int
    backoff_s: float | None = None
    """T3396 sent with the reject, seconds."""
    tunnel: str | None = None
    """The customer's IPsec tunnel the refused session was to go through."""


class StateChanged(_SimEvent):
    """The SIM's lifecycle state changed (an audit-trail entry)."""

    kind: Literal["state_change"] = "state_change"
    old: str
    new: str
    actor: str
    reason: str


class UsageReported(_SimEvent):
    """Data counted against the rate plan."""

    kind: Literal["usage"] = "usage"
    bytes: int
    cycle_bytes: int
    allowance: int
    pool: str | None = None
    """The shared data pool the SIM counts against (a pooled rate plan), by name."""
    pool_bytes: int | None = None
    """The whole pool's usage this cycle."""
    pool_allowance: int | None = None
    """The pool's allowance this cycle: one allowance per SIM in it."""


class DataBlocked(_SimEvent):
    """Data was blocked (limit reached) or unblocked (new cycle, override)."""

    kind: Literal["data_blocked"] = "data_blocked"
    blocked: bool
    reason: str
    limit: int | None = None
    """A block: the bytes of the limit reached (the pool's, for a pooled rate plan)."""
    pool: str | None = None
    """A block: the shared data pool that is used up, by name (None: the SIM's own limit)."""
    pool_sims: int | None = None
    """A block of a pool: how many SIMs share it (and are blocked with it)."""
    until: float | None = None
    """A block: when it lifts by itself (the next billing cycle), Unix seconds."""


class ImeiChanged(_SimEvent):
    """The SIM appeared in another device."""

    kind: Literal["imei_change"] = "imei_change"
    old_imei: str


class FirmwareUpdate(_SimEvent):
    """The device-management server's word on a firmware update (LwM2M object 5, Firmware Update).

    Sent when the server has the device apply a package and when the device tells the outcome,
    so the version is known even for a device that never reports again after updating.
    """

    kind: Literal["firmware_update"] = "firmware_update"
    version: str
    """The package's version (/5/0/7 PkgVersion)."""
    state: Literal["idle", "downloading", "downloaded", "updating"]
    """/5/0/3 State: `updating` once the server has executed the update."""
    result: int = Field(default=0, ge=0, le=9)
    """/5/0/5 Update Result: 0 initial (still going), 1 success, 2 and above failed."""


class AuditRecorded(_SimEvent):
    """Any other audit-trail entry (plan changes and the like)."""

    kind: Literal["audit"] = "audit"
    field: str
    old: str
    new: str
    actor: str
    reason: str


NetworkEvent = Annotated[
    AttachAccepted
    | TrackingAreaUpdated
    | AttachRejected
    | Detached
    | SessionOpened
    | SessionClosed
    | SessionRejected
    | StateChanged
    | UsageReported
    | DataBlocked
    | ImeiChanged
    | FirmwareUpdate
    | AuditRecorded,
    Field(discriminator="kind"),
]


class SimRecord(_Payload):
    """A SIM's inventory record as the platform's device-details page shows it (retained)."""

    kind: Literal["record"] = "record"
    iccid: Id
    imsi: str
    msisdn: str | None
    state: str
    account: str
    account_name: str
    communication_plan: str
    rate_plan: str
    pool: str | None = None
    """The shared data pool of a pooled rate plan (`account/rate plan`); None: data per SIM."""
    apns: list[str]
    networks: list[str]
    """Allowed networks: MCC-MNC codes and ISO country codes."""
    radio_types: list[str]
    imei_lock: bool
    locked_imei: str | None
    data_blocked: bool
    device_name: str | None
    site: str | None
    time_zone: str | None


class Clock(_Payload):
    """A watermark: every message stamped before `t` has been sent; `final` ends the run."""

    kind: Literal["clock"] = "clock"
    final: bool = False


Message = Annotated[
    Telemetry
    | DeviceStatus
    | AttachAccepted
    | TrackingAreaUpdated
    | AttachRejected
    | Detached
    | SessionOpened
    | SessionClosed
    | SessionRejected
    | StateChanged
    | UsageReported
    | DataBlocked
    | ImeiChanged
    | FirmwareUpdate
    | AuditRecorded
    | SimRecord
    | Clock,
    Field(discriminator="kind"),
]
