"""What the ingest hands over and what it counts: one received message, and its statistics.

`diagnostics.ingest` fills them; the service reads `Received`, `/health` and `/metrics`
read `IngestStats`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

__all__ = ["LAGS_KEPT", "IngestStats", "Received"]

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
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=LAGS_KEPT))
    """Broker to commit, seconds, of the latest probes (see the module)."""
    read_lags: deque[float] = field(default_factory=lambda: deque(maxlen=LAGS_KEPT))
    """Socket read to commit, seconds, of each recent batch's oldest message."""
