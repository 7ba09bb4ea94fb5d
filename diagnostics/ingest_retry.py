"""Handing a batch over again while the store cannot take it, the connection kept meanwhile.

`on_batch` raising `RetryableError` (the store is locked, read-only, full, or
failing I/O: `diagnostics.commits`) committed nothing. The ingest then keeps
the batch unacknowledged and hands it over again with back-off (0.1 s
doubling to 5 s) until it is taken, sending a PINGREQ each half keepalive so
the broker keeps the connection open and holds what comes after it. A stop
request ends the wait: the broker sends the batch again after a restart.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Final

from diagnostics.errors import RetryableError
from protocol.mqtt.backoff import Backoff

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from diagnostics.ingest_records import IngestStats, Received

__all__ = ["POLL_S", "RETRY_S", "hand_over"]

log = logging.getLogger("simlab.ingest")
RETRY_S: Final = (0.1, 5.0)
"""Back-off between hand-overs of a batch the store could not take: first, longest (s)."""
POLL_S: Final = 0.2
"""Longest wait at a time, so a stop is noticed."""


def hand_over(
    on_batch: Callable[[list[Received]], None],
    data: list[Received],
    *,
    stats: IngestStats,
    stopping: threading.Event,
    ping: Callable[[], None] | None,
    every: float,
) -> bool:
    """`on_batch(data)`, again while it says to try later; False when stopped first.

    `ping` (None: no connection) sends a PINGREQ, called each `every` seconds of waiting.
    """
    backoff = Backoff(*RETRY_S)
    pinged = time.monotonic()
    while True:
        try:
            on_batch(data)
        except RetryableError as exc:
            stats.retries += 1
            if stats.retries_since is None:
                stats.retries_since = time.time()
                log.warning("cannot commit (%s); trying again with back-off", exc)
        else:
            if stats.retries_since is not None:
                log.info("committing again, after %d tries in all", stats.retries)
            stats.retries_since = None
            return True
        deadline = time.monotonic() + backoff.next()
        while (left := deadline - time.monotonic()) > 0:
            if stopping.wait(min(left, POLL_S)):
                return False
            if ping is not None and every > 0 and time.monotonic() - pinged >= every:
                try:
                    ping()
                except OSError:
                    ping = None  # lost: the batch is sent again after reconnecting
                pinged = time.monotonic()
