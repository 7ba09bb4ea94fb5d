"""What the service keeps beside the detector: each device's latest facts, and its counters.

`diagnostics.service` fills them from the stream; the views, metrics and diagnosis read them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Counters", "DeviceFacts"]


@dataclass(slots=True)
class DeviceFacts:
    """What the stream said about a device lately (its newest telemetry and status)."""

    device_id: str
    account: str | None = None
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


@dataclass(slots=True)
class Counters:
    """What the service has done with the stream since it started (dead letters: ever)."""

    accepted: int = 0
    ignored: int = 0
    """Outside the subscription (a broker pushing foreign retained messages)."""
    duplicates: int = 0
    """Retained messages sent again on subscribing, identical to what is stored."""
    redelivered: int = 0
    """Messages stored already (sent again after a crash, or published twice): skipped."""
    batches: int = 0
    detection_changes: int = 0
    replayed: int = 0
    unreadable: int = 0
    """Stored messages the replay could not decode, or stamped too far past the clock."""
    dead: Counter[str] = field(default_factory=Counter)
