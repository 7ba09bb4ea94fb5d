"""Devices that do not wait when the network asks them to, kept as the stream arrives.

A congested cell asks every device on it to wait (T3346, T3396), and the devices
that wait go quiet together: one incident. A device that keeps asking while its
timer runs is quiet for a reason of its own, its firmware (GSMA TS.34; the
diagnosis's `behaviour` check): it is no victim of the congestion, and the service
leaves it out of the quiet devices it groups into incidents. The limits are the
diagnosis's (`diagnostics.diagnosis.behaviour`), so the two never disagree.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from diagnostics.diagnosis.behaviour import MAX_REQUESTS_IN_TIMER, WINDOW_S, Timers

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TimerWatch"]


class TimerWatch:
    """Per device, the network's back-off timers and the requests made inside them."""

    def __init__(self) -> None:
        self._timers: dict[str, Timers] = {}
        self._inside: dict[str, deque[float]] = {}

    def apply(self, device_id: str, message: BaseModel) -> None:
        """Take one network event of the device into account."""
        timers = self._timers.setdefault(device_id, Timers())
        if timers.inside(message):
            t: float = message.t  # type: ignore[attr-defined]
            times = self._inside.setdefault(device_id, deque())
            times.append(t)
            while times[0] < t - WINDOW_S:
                times.popleft()

    def ignoring(self, now: float) -> set[str]:
        """Devices that asked inside a running timer more often in the last hour than TS.34 lets."""
        found = set()
        for device_id, times in list(self._inside.items()):
            while times and times[0] < now - WINDOW_S:
                times.popleft()
            if not times:
                del self._inside[device_id]
            elif sum(t <= now for t in times) > MAX_REQUESTS_IN_TIMER:
                found.add(device_id)
        return found
