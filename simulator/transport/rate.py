"""The per-device sink's connect rate: a token bucket the publisher thread waits on."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """At most `rate` takes a second, with a burst of ten milliseconds' worth (at least one)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.burst = 1.0 if rate is None else max(1.0, rate / 100)
        self.tokens = self.burst
        self.at = time.monotonic()

    def take(self, wait: Callable[[float], object]) -> None:
        """Spend a token; `wait(seconds)` passes the time until there is one."""
        if self.rate is None:
            return
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            wait((1 - self.tokens) / self.rate)
