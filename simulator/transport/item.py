"""What travels from the model to the publisher thread (`Item`), and what the publisher counts."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Item", "PublishStats"]


@dataclass(slots=True)
class PublishStats:
    """What the publisher did."""

    queued: int = 0
    published: int = 0
    acked: int = 0
    dropped_qos0: int = 0
    """QoS 0 messages dropped: the queue was full, or the broker was unreachable."""
    max_lag_s: float = 0.0
    """How far behind sim time / speed the publisher fell at worst, in wall seconds."""
    late: int = 0
    """Messages released more than a second after their due wall time."""
    connects: int = 0
    disconnects: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    """One message on its way: where it goes, how, and when it happened (sim time, Unix s)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    t: float
    clock: bool = False
    device: str | None = None
    """The device whose own message this is (telemetry, status), else None."""
    will: bool = False
    """A Last Will the world emitted: the broker, not the sink, should publish it."""
