"""Pacing: when a message stamped with sim time t is due on the wall clock, and how late it went."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from simulator.transport.item import PublishStats

__all__ = ["Pacer"]

log = logging.getLogger("simlab.publisher")
LAG_WARNING_S: Final = 1.0
"""A message released later than this after its due time counts as late."""
WARN_EVERY_S: Final = 10.0


class Pacer:
    """Wall time = sim time / speed, from the first message on: it is released at once."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.origin: tuple[float, float] | None = None
        """(wall time, sim time) of the first message: monotonic seconds, Unix seconds."""
        self._last_warning = 0.0

    def due(self, t: float, now: float) -> float:
        """The monotonic wall time at which the message stamped `t` is due."""
        if self.origin is None:
            self.origin = (now, t)
        wall0, t0 = self.origin
        return wall0 + (t - t0) / self.speed

    def released(self, due: float, now: float, stats: PublishStats) -> None:
        """A message due at `due` goes out at `now`: count its lag, warn now and then."""
        if due > now - 0.001:
            return
        lag = now - due
        stats.max_lag_s = max(stats.max_lag_s, lag)
        if lag > LAG_WARNING_S:
            stats.late += 1
            if now - self._last_warning > WARN_EVERY_S:
                self._last_warning = now
                log.warning("publisher is %.1f s behind sim time / speed %g", lag, self.speed)
