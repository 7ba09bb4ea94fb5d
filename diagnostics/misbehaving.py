"""Devices that break GSMA TS.34's limits towards the network, kept as the stream arrives.

A congested cell asks every device on it to wait (T3346, T3396), and the devices
that wait go quiet together: one incident. A device that keeps asking while its
timer runs, or resets its modem again and again, or floods the network with
requests, is in trouble for a reason of its own, its firmware (GSMA TS.34; the
diagnosis's `behaviour` check): it is no victim of a network outage, and it is
one of its firmware's troubled devices even while its reports still get through
(a reboot loop reports between crashes). The limits and the reading of a reset are
the diagnosis's (`diagnostics.diagnosis.behaviour`), so the two never disagree.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from diagnostics.diagnosis.behaviour import (
    MAX_REQUESTS_IN_TIMER,
    MAX_REQUESTS_PER_HOUR,
    MAX_RESETS_PER_HOUR,
    REQUESTS,
    WINDOW_S,
    Timers,
)
from protocol.messages import AttachAccepted, AttachRejected, Detached

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["TimerWatch"]

_LIMITS = (MAX_REQUESTS_IN_TIMER, MAX_REQUESTS_PER_HOUR, MAX_RESETS_PER_HOUR)


class TimerWatch:
    """Per device: its back-off timers, and its requests and modem resets of the last hour."""

    def __init__(self) -> None:
        self._timers: dict[str, Timers] = {}
        self._times: dict[str, tuple[deque[float], deque[float], deque[float]]] = {}
        """Per device: requests inside a timer, all requests, modem resets."""
        self._detached: dict[str, tuple[float, str | None]] = {}
        """A device's detach by itself, until its next attach says whether it was a reset."""

    def apply(self, device_id: str, message: BaseModel) -> None:
        """Take one network event of the device into account."""
        timers = self._timers.setdefault(device_id, Timers())
        t: float = message.t  # type: ignore[attr-defined]
        inside = timers.inside(message)
        if isinstance(message, Detached) and message.reason == "device":
            self._detached[device_id] = (t, message.imei)
            return
        if not isinstance(message, REQUESTS):
            return
        times = self._times.setdefault(device_id, (deque(), deque(), deque()))
        if inside:
            times[0].append(t)
        times[1].append(t)
        if isinstance(message, AttachAccepted | AttachRejected):
            detached = self._detached.pop(device_id, None)
            if detached is not None and detached[1] == message.imei:
                times[2].append(detached[0])
        for kept in times:
            while kept and kept[0] < t - WINDOW_S:
                kept.popleft()

    def misbehaving(self, now: float) -> set[str]:
        """Devices that broke any of TS.34's limits in the last hour."""
        found = set()
        for device_id, times in list(self._times.items()):
            for kept in times:
                while kept and kept[0] < now - WINDOW_S:
                    kept.popleft()
            if not any(times):
                del self._times[device_id]
            elif any(sum(t <= now for t in k) > n for k, n in zip(times, _LIMITS, strict=True)):
                found.add(device_id)
        return found
