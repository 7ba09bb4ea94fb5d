"""What the ingest hands over and what it counts: one received message, and its statistics.

`diagnostics.ingest` fills them; the service reads `Received` (an `Oversized` one is a
message too large to read, which it keeps as a `too_large` dead letter of its size
alone), `/health` and `/metrics` read `IngestStats`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from diagnostics.store.records import DeadLetter, dead_letter

if TYPE_CHECKING:
    from protocol.wire import WireError

__all__ = ["LAGS_KEPT", "IngestStats", "Oversized", "Received", "dead_letter_of"]

LAGS_KEPT: Final = 1000
"""Lag figures kept: the latest probes' and batches'."""


@dataclass(slots=True)
class Received:
    """One message as it came off the wire.

    Not frozen: a frozen dataclass costs about a microsecond more to build, on every message.
    """

    topic: str
    payload: bytes
    qos: int
    mid: int
    """The broker's packet id (0 at QoS 0): what the PUBACK names."""
    received: float
    """Wall-clock time the chunk holding it was read off the socket (Unix seconds)."""
    retain: bool = False
    """Sent from the broker's store (on subscribing), not as it happened."""
    dup: bool = False
    """Sent again by the broker (unacknowledged before a reconnect): maybe stored already."""


@dataclass(slots=True)
class Oversized(Received):
    """A PUBLISH larger than the ingest's cap, let pass unread: its topic and size, no payload.

    Its QoS 1 packet id is acknowledged with its batch like any other's.
    """

    size: int = 0
    """The whole packet's bytes."""
    limit: int = 0
    """The cap it exceeded (`Settings.max_packet_bytes`)."""

    def dead_letter(self) -> DeadLetter:
        """Its dead letter: code too_large, the size recorded, nothing of the payload."""
        reason = f"a packet of {self.size} bytes, more than the {self.limit} allowed: not read"
        return DeadLetter(
            topic=self.topic,
            payload=b"",
            code="too_large",
            reason=f"payload: {reason}",
            received=self.received,
            size=self.size,
        )


def dead_letter_of(item: Received, error: WireError) -> DeadLetter:
    """The dead letter of a message `decode` refused (an `Oversized` one's: its own)."""
    if isinstance(item, Oversized):
        return item.dead_letter()
    return dead_letter(error=error, payload=item.payload, received=item.received)


@dataclass(slots=True)
class IngestStats:
    """What the ingest did, for /metrics."""

    received: int = 0
    committed: int = 0
    batches: int = 0
    connects: int = 0
    disconnects: int = 0
    taken_over: int = 0
    """Sessions the broker took away for another client with the same id (MQTT 5)."""
    closed_by_broker: int = 0
    """Connections the broker closed without a DISCONNECT (maybe for a duplicate client id)."""
    probes: int = 0
    """Probes of ours read back (each a lag figure)."""
    forged_probes: int = 0
    """Messages on the probe topic without this process's nonce: acknowledged, not believed."""
    pings: int = 0
    """PINGREQs sent (one each half keepalive)."""
    unanswered: int = 0
    """PINGREQs of the current connection the broker has not answered yet."""
    stalls: int = 0
    """Connections dropped because the broker answered no PINGREQ (a stalled broker)."""
    retries: int = 0
    """Batches handed over again because the store could not take them (ever)."""
    retries_since: float | None = None
    """Wall clock when the batch being retried was first refused (None: none is)."""
    oversized: int = 0
    """Messages larger than the cap, let pass unread (acknowledged, kept as dead letters)."""
    oversized_bytes: int = 0
    """Their bytes in all."""
    buffer_high_water: int = 0
    """The most bytes the reader held between reads (a packet cut off, at most the cap)."""
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=LAGS_KEPT))
    """Broker to commit, seconds, of the latest probes (see the module)."""
    read_lags: deque[float] = field(default_factory=lambda: deque(maxlen=LAGS_KEPT))
    """Socket read to commit, seconds, of each recent batch's oldest message."""
