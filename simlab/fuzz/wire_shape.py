"""What a fault puts on the wire, as a shape to compare two faults by.

`shape` is the sequence of messages that concern one device and the SIM in it
from a moment on (its telemetry, its status, its SIM's network events and
record), each reduced to what it says, without identifiers and timings: the
message kind, for a status its state, for a network event its cause codes,
SIM state, APN and radio, for a record its state and flags. Telemetry is
reduced to its battery being reported and the errors it carries (its readings
differ by chance between any two runs). Two faults whose shapes are equal in
the same world put the same messages on the wire: nothing the service can
read separates them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from protocol.messages import Clock, Telemetry

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydantic import BaseModel

__all__ = ["IGNORED", "shape"]

IGNORED: Final = frozenset(
    {
        "t",
        "seq",
        "device_id",
        "iccid",
        "imei",
        "ip",
        "uptime_s",
        "rsrp",
        "rsrq",
        "snr",
        "supply_mv",
        "cell_id",
        "bytes_up",
        "bytes_down",
        "bytes",
        "session_id",
        "at",
        "used",
        "period_end",
        "until",
        "sent_bytes",
        "received_bytes",
    }
)
"""Fields that carry identities, timings or chance readings, never a fault's signature."""


def _said(message: BaseModel) -> tuple[object, ...]:
    if isinstance(message, Telemetry):
        return ("telemetry", message.battery is not None, tuple(message.errors))
    data = message.model_dump()
    return (
        type(message).__name__,
        *sorted((k, repr(v)) for k, v in data.items() if k not in IGNORED),
    )


def shape(
    messages: Iterable[BaseModel], *, device_id: str, iccid: str, since: float, until: float
) -> list[tuple[object, ...]]:
    """The messages about the device and its SIM stamped in [since, until), as they say it."""
    out = []
    for m in messages:
        t = getattr(m, "t", 0.0)
        if isinstance(m, Clock) or not since <= t < until:
            continue
        if getattr(m, "device_id", None) == device_id or getattr(m, "iccid", None) == iccid:
            out.append(_said(m))
    return out
