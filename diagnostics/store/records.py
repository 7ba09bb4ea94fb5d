"""What the store keeps and gives back: records of messages, dead letters and detection statuses.

What goes in is built by the ingest, one record per message (`accepted`, `dead_letter`)
and one per detection change of a sweep; what comes out are frozen snapshots of stored
rows. Every backend (SQLite today) speaks in these, so the service never sees a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from protocol.messages import DeviceStatus, Telemetry
from protocol.wire import MAX_PAYLOAD

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import BaseModel

    from protocol.wire import Route, WireError

__all__ = [
    "DEAD_LETTER_BYTES",
    "Accepted",
    "CurrentDetection",
    "DeadLetter",
    "DetectionChange",
    "StoredDeadLetter",
    "StoredDetection",
    "StoredMessage",
    "StoredRecord",
    "StoredStatus",
    "Summary",
    "accepted",
    "dead_letter",
]

DEAD_LETTER_BYTES: Final = MAX_PAYLOAD
"""A dead letter's payload is kept up to this many bytes (its full size is recorded)."""


# ---- what goes in ---------------------------------------------------------------------------


@dataclass(slots=True)
class Accepted:
    """A message that passed `decode`, as it is stored.

    `kind` is the payload's kind (telemetry, status, attach, ..., record, clock);
    `device_id` is set for device messages, `iccid` for every message that names
    a SIM (telemetry and status too), `account` is the topic's. The decoded
    values the store derives state from ride along: `status` and `will` for a
    status message (required there), so the writer never parses JSON. Not
    frozen: one is built for every message, and a frozen one costs twice as much.
    """

    kind: str
    device_id: str | None
    iccid: str | None
    account: str | None
    t: float
    """The message's own time, Unix seconds."""
    received: float
    """Wall time it was received, Unix seconds."""
    topic: str
    payload: bytes
    """The raw JSON bytes as received."""
    status: str | None = None
    will: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message `decode` refused: kept (truncated) for inspection and counted by `code`."""

    topic: str
    payload: bytes
    code: str
    reason: str
    received: float
    size: int | None = None
    """The message's bytes when `payload` is not all of it (None: `len(payload)`)."""


@dataclass(frozen=True, slots=True)
class DetectionChange:
    """A device's detection status or reason changed at `t` (service clock)."""

    device_id: str
    t: float
    status: str
    reason: str


def accepted(
    *, route: Route, message: BaseModel, topic: str, payload: bytes, received: float
) -> Accepted:
    """The stored form of a decoded message (`decode` returned `route` and `message`)."""
    if type(message) is Telemetry:  # nearly every message: the short way
        return Accepted(
            "telemetry",
            message.device_id,
            message.iccid,
            route.account,
            message.t,
            received,
            topic,
            payload,
        )
    status, will = None, False
    if isinstance(message, Telemetry | DeviceStatus):
        device_id: str | None = message.device_id
        iccid = message.iccid
        if isinstance(message, DeviceStatus):
            status, will = message.status, message.will
    else:
        device_id, iccid = None, getattr(message, "iccid", None)
    return Accepted(
        kind=str(getattr(message, "kind", route.kind)),
        device_id=device_id,
        iccid=iccid,
        account=route.account,
        t=float(getattr(message, "t", received)),
        received=received,
        topic=topic,
        payload=payload,
        status=status,
        will=will,
    )


def dead_letter(*, error: WireError, payload: bytes, received: float) -> DeadLetter:
    """The dead letter for a message `decode` refused with `error`."""
    reason = f"{error.field}: {error.reason}" if error.field else error.reason
    return DeadLetter(
        topic=error.topic, payload=payload, code=error.code, reason=reason, received=received
    )


# ---- what comes out -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A stored message; `id` orders messages of equal `t` and is the pagination key."""

    id: int
    kind: str
    device_id: str | None
    iccid: str | None
    account: str | None
    t: float
    received: float
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A SIM's newest inventory record (by `t`)."""

    iccid: str
    account: str
    t: float
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredStatus:
    """A device's newest retained status (by `t`)."""

    device_id: str
    t: float
    status: str
    will: bool
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """A kept dead letter; `size` is the payload's length as received, before truncation."""

    id: int
    topic: str
    payload: bytes
    size: int
    code: str
    reason: str
    received: float


@dataclass(frozen=True, slots=True)
class StoredDetection:
    """One entry of a device's detection history."""

    id: int
    device_id: str
    t: float
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class CurrentDetection:
    """A device's detection status now, and since when (service clock)."""

    device_id: str
    status: str
    reason: str
    since: float


@dataclass(frozen=True, slots=True)
class Summary:
    """What the store holds: messages per kind, devices, SIMs, dead letters ever per code."""

    kinds: Mapping[str, int]
    devices: int
    sims: int
    dead_letters: Mapping[str, int]

    @property
    def messages(self) -> int:
        """Messages stored, all kinds."""
        return sum(self.kinds.values())
