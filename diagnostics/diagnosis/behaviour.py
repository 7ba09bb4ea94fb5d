"""How a device behaves towards the network, measured against GSMA TS.34's limits.

Well-behaved firmware (GSMA TS.34, "IoT Device Connection Efficiency Guidelines")
retries with randomised, growing waits, never inside a back-off timer the network
set (T3346 after EMM #22, T3396 after some ESM rejects), resets its modem about once
an hour at most, and opens a few dozen data sessions an hour at most. A device that
breaks these limits is a firmware problem, even when the reject that set it off was
the network's congestion or its failed core: it keeps the network busy instead of waiting.

Everything is read off the network's events of the last hour (`WINDOW_S`): requests
are attach and data session requests, accepted or rejected; a modem reset is a detach
by the device followed by an attach from the same device (a SIM moved into another
device is not one); a request inside a timer is one made before the timer that the
network's last reject of its kind set had run out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    SessionOpened,
    SessionRejected,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from diagnostics.diagnosis.model import Case, Seen

__all__ = [
    "MAX_REQUESTS_IN_TIMER",
    "MAX_REQUESTS_PER_HOUR",
    "MAX_RESETS_PER_HOUR",
    "REQUESTS",
    "WAIT_CAUSES",
    "WINDOW_S",
    "Conduct",
    "Timers",
    "conduct",
]

WINDOW_S: Final = 3600.0
"""The limits are per hour: the last hour before the case's moment is measured."""
MAX_REQUESTS_PER_HOUR: Final = 30
"""TS.34: a few dozen data session requests an hour at most (attach requests count alike)."""
MAX_RESETS_PER_HOUR: Final = 1
"""TS.34: about one modem reset an hour, after a permanent reject."""
MAX_REQUESTS_IN_TIMER: Final = 1
"""TS.34: no request while T3346 or T3396 runs.

One is let pass: some modems lose the timer when they are switched off and on, once.
More is firmware that ignores the timer (TS 24.301 keeps T3346 running across a
switch-off).
"""
TIMER_SLACK_S: Final = 1.0
"""A request this close to a timer's end is after it (times on the wire are rounded)."""
WAIT_CAUSES: Final = frozenset({Cause.CONGESTION, Cause.OPERATOR_OUTAGE})
"""Causes where the network asks devices to wait: a device that does not wait is at fault.

Congestion sets T3346 with its reject; a failed core (EMM #17) the standard's own waits
after every failed attach, T3411 and after the fifth T3402 (TS 24.301 §5.5.1.2.6), which
keep a device that honours them under TS.34's hourly limit however long the outage."""

_ATTACH: Final = (AttachAccepted, AttachRejected)
_SESSION: Final = (SessionOpened, SessionRejected)
REQUESTS: Final = _ATTACH + _SESSION
"""The network events that are a device's requests: attaches and data sessions."""


@dataclass(frozen=True, slots=True)
class Conduct:
    """A device's requests and modem resets in the last hour, and which broke TS.34."""

    requests: tuple[Seen, ...]
    """Attach and data session requests, accepted or rejected."""
    resets: tuple[Seen, ...]
    """The device's detaches that were modem resets."""
    in_timer: tuple[Seen, ...]
    """Requests made while a back-off timer the network set was running."""

    @property
    def too_many_requests(self) -> bool:
        """More requests in the hour than TS.34 allows."""
        return len(self.requests) > MAX_REQUESTS_PER_HOUR

    @property
    def too_many_resets(self) -> bool:
        """More modem resets in the hour than TS.34 allows."""
        return len(self.resets) > MAX_RESETS_PER_HOUR

    @property
    def ignores_timers(self) -> bool:
        """Requests inside the network's back-off timers, beyond the one let pass."""
        return len(self.in_timer) > MAX_REQUESTS_IN_TIMER

    def breaches(self) -> list[str]:
        """The limits broken, each with the figure and the limit, for staff."""
        found = []
        if self.ignores_timers:
            found.append(
                f"{len(self.in_timer)} requests while the network's back-off timer ran "
                "(TS.34: none)"
            )
        if self.too_many_requests:
            found.append(
                f"{len(self.requests)} attach and session requests in the last hour "
                f"(TS.34: at most {MAX_REQUESTS_PER_HOUR})"
            )
        if self.too_many_resets:
            found.append(
                f"{len(self.resets)} modem resets in the last hour "
                f"(TS.34: at most {MAX_RESETS_PER_HOUR})"
            )
        return found

    def figures(self) -> str:
        """The hour's three figures, for staff."""
        return (
            f"last hour: {len(self.requests)} requests, {len(self.resets)} modem resets, "
            f"{len(self.in_timer)} inside a back-off timer"
        )

    def facts(self) -> dict[str, str | float]:
        """What the customer message may say of the device's behaviour."""
        facts: dict[str, str | float] = {"requests_last_hour": len(self.requests)}
        if self.too_many_resets:
            facts["resets_last_hour"] = len(self.resets)
        if self.ignores_timers:
            facts["requests_in_backoff"] = len(self.in_timer)
        return facts


def conduct(case: Case) -> Conduct:
    """The device's requests and resets in the last hour before `case.now`."""
    since = case.now - WINDOW_S
    network = [s for s in case.network if s.t <= case.now]
    requests = tuple(
        s for s in network if s.t >= since and isinstance(s.message, _ATTACH + _SESSION)
    )
    return Conduct(
        requests=requests,
        resets=tuple(s for s in _resets(network) if s.t >= since),
        in_timer=tuple(s for s in _in_timer(network) if s.t >= since),
    )


def _resets(network: list[Seen]) -> list[Seen]:
    """Detaches by the device followed by its next attach request from the same IMEI."""
    found = []
    for i, seen in enumerate(network):
        message = seen.message
        if not isinstance(message, Detached) or message.reason != "device":
            continue
        after = next((s.message for s in network[i + 1 :] if isinstance(s.message, _ATTACH)), None)
        if after is not None and after.imei == message.imei:
            found.append(seen)
    return found


def _in_timer(network: list[Seen]) -> list[Seen]:
    """Requests made before the back-off the last reject of their kind set had run out."""
    timers = Timers()
    return [seen for seen in network if timers.inside(seen.message)]


@dataclass(slots=True)
class Timers:
    """The back-off timers the network set for one device, read message by message.

    T3346 holds back attach requests; T3396 session requests for the APN it was set for.
    """

    t3346: float = -math.inf
    t3396: dict[str, float] = field(default_factory=dict)

    def inside(self, message: BaseModel) -> bool:
        """Whether `message` is a request made while its timer ran; a reject sets its timer."""
        if isinstance(message, _ATTACH):
            end = self.t3346
        elif isinstance(message, _SESSION):
            end = self.t3396.get(message.apn, -math.inf)
        else:
            return False
        t = message.t
        if isinstance(message, AttachRejected) and message.backoff_s:
            self.t3346 = t + message.backoff_s
        elif isinstance(message, SessionRejected) and message.backoff_s:
            self.t3396[message.apn] = t + message.backoff_s
        return t < end - TIMER_SLACK_S
