"""PSM as the network grants it: the timers a device asks for, those it gets, when it is let go.

A PSM device asks at attach for a periodic TAU timer (T3412 extended) that
covers its sleep, and a short active time (T3324). The network grants at most
its own limit, rounded down to what GPRS Timer 3 can say (units of 2 s, 30 s,
1 min, 10 min, 1 h, 10 h and 320 h, values 0-31; TS 24.008 10.5.7.4a), so it
may grant less than asked. A device granted less than it sleeps wakes its
modem for a periodic TAU each time T3412 runs out, and its application still
reports on its own schedule. A device without PSM gets the default T3412.

The network's mobile reachable timer runs `REACHABLE_MARGIN_S` past T3412;
when it runs out without a word from the device, the network detaches it
implicitly (TS 23.401 4.3.5.2). A PSM device let go of its connection when it
went to sleep, so its timer started at its last contact; a device that stays
connected keeps its connection until it is lost, and its timer starts then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "ASKED_ACTIVE_S",
    "DEFAULT_T3412_S",
    "REACHABLE_MARGIN_S",
    "Grant",
    "grant",
    "implicit_detach_at",
    "timer3_ceil",
    "timer3_floor",
]

DEFAULT_T3412_S: Final = 54 * 60.0
"""The periodic TAU timer a network gives a device that does not ask for PSM (TS 24.301)."""
REACHABLE_MARGIN_S: Final = 4 * 60.0
"""How far the network's mobile reachable timer runs past T3412 (its default)."""
ASKED_ACTIVE_S: Final = 60.0
"""The active time (T3324) a PSM device asks for: a minute reachable after each report."""
_TIMER3_UNITS: Final = (2.0, 30.0, 60.0, 600.0, 3600.0, 36_000.0, 1_152_000.0)
_TIMER3_MAX_VALUE: Final = 31


@dataclass(frozen=True, slots=True)
class Grant:
    """The timers the network granted a SIM at its last attach; no active time: no PSM."""

    t3412: float
    t3324: float | None = None

    @property
    def psm(self) -> bool:
        """Whether the network granted power saving."""
        return self.t3324 is not None


def timer3_ceil(seconds: float) -> float:
    """The shortest GPRS Timer 3 value at least `seconds` long."""
    fits = [
        -(-seconds // unit) * unit
        for unit in _TIMER3_UNITS
        if -(-seconds // unit) <= _TIMER3_MAX_VALUE
    ]
    return min(fits) if fits else _TIMER3_UNITS[-1] * _TIMER3_MAX_VALUE


def timer3_floor(seconds: float) -> float:
    """The longest GPRS Timer 3 value at most `seconds` long."""
    return max(min(seconds // unit, _TIMER3_MAX_VALUE) * unit for unit in _TIMER3_UNITS)


def grant(*, psm: bool, sleep: float, network_max: float | None) -> Grant:
    """What the network grants a device that sleeps `sleep` seconds (with PSM) or does not."""
    if not psm:
        return Grant(DEFAULT_T3412_S)
    asked = timer3_ceil(sleep)
    granted = asked if network_max is None else min(asked, timer3_floor(network_max))
    return Grant(granted, ASKED_ACTIVE_S)


def implicit_detach_at(given: Grant | None, *, last_contact: float, lost: float) -> float:
    """When the network detaches a device that was lost at `lost` without a word."""
    if given is not None and given.psm:
        return max(lost, last_contact + given.t3412 + REACHABLE_MARGIN_S)
    t3412 = DEFAULT_T3412_S if given is None else given.t3412
    return lost + t3412 + REACHABLE_MARGIN_S
