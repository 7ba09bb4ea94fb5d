"""A battery that fails while the device still reports: its own readings fall too fast.

A cellular IoT device's battery is sized for months or years: it loses a fraction of a
point an hour. One that loses `FAST_DRAIN_PCT_PER_H` points an hour or more over its
recent reports empties within a day: the cell is failing (or something drains it), and
the device stops when it runs out. Said while the device still reports, this gives the
customer the time to replace it first. A device already down is diagnosed by the
registration check, from the same readings (`quiet.silence_candidates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.model import Candidate, CheckResult, Evidence, Status
from diagnostics.diagnosis.readings import cite, when
from protocol.causes import Cause

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Case, Seen

__all__ = ["FAST_DRAIN_PCT_PER_H", "Drain", "check_power", "drain"]

FAST_DRAIN_PCT_PER_H: Final = 5.0
"""Battery points lost an hour at or above which the battery is failing (empty within a day)."""
DRAIN_WINDOW_S: Final = 86400.0
"""The drain is read from the reports of this last stretch of time..."""
MAX_READINGS: Final = 6
"""...at most this many of the newest."""
MIN_SPAN_S: Final = 1800.0
"""...which must span at least this long, over at least `MIN_READINGS` readings."""
MIN_READINGS: Final = 3
_HOUR: Final = 3600.0


@dataclass(frozen=True, slots=True)
class Drain:
    """A fast fall of the battery over the device's newest reports."""

    before: Seen
    """The last reading before the fall (the fall began after it)."""
    first: Seen
    """The first reading that shows the fall."""
    last: Seen
    start_pct: float
    """The level at `before`."""
    end_pct: float

    @property
    def per_hour(self) -> float:
        """Points lost an hour."""
        return (self.start_pct - self.end_pct) / ((self.last.t - self.before.t) / _HOUR)

    @property
    def empty_at(self) -> float:
        """When the battery runs out at this rate."""
        return self.last.t + self.end_pct / self.per_hour * _HOUR


def drain(case: Case) -> Drain | None:
    """The fast fall the newest reports end on (None: they do not end on one).

    The fall is the longest run of readings, back from the newest, each of which lost
    `FAST_DRAIN_PCT_PER_H` points an hour or more since the one before; it must hold at
    least `MIN_READINGS` readings over `MIN_SPAN_S`.
    """
    levels = [
        (s, m.battery)
        for s, m in case.telemetry()
        if m.battery is not None and s.t >= case.now - DRAIN_WINDOW_S
    ][-MAX_READINGS:]
    start = len(levels) - 1
    while start > 0 and _fast(levels[start - 1], levels[start]):
        start -= 1
    run = levels[start:]
    if len(run) < MIN_READINGS or run[-1][0].t - run[0][0].t < MIN_SPAN_S:
        return None
    return Drain(run[0][0], run[1][0], run[-1][0], run[0][1], run[-1][1])


def _fast(older: tuple[Seen, float], newer: tuple[Seen, float]) -> bool:
    hours = (newer[0].t - older[0].t) / _HOUR
    return hours > 0 and (older[1] - newer[1]) / hours >= FAST_DRAIN_PCT_PER_H


def check_power(case: Case) -> CheckResult:
    """5b. The device's own battery readings: one failing while the device still reports."""
    name, title = "power", "Power"
    if case.silent:
        return CheckResult(name, title, Status.UNKNOWN, "Down: the registration check reads it")
    seen = drain(case)
    if seen is None:
        return CheckResult(name, title, Status.OK, "No battery failing in the recent reports")
    rate = round(seen.per_hour, 1)
    return CheckResult(
        name,
        title,
        Status.BROKE,
        f"Battery fell from {seen.start_pct:g}% to {seen.end_pct:g}% ({rate:g} points an "
        f"hour): it runs out around {when(seen.empty_at)}",
        (
            cite(seen.first, "the first reading of the fall"),  # first: when it started
            cite(seen.before, f"battery {seen.start_pct:g}% in the reading before"),
            cite(seen.last, f"battery {seen.end_pct:g}%"),
            Evidence(case.now, f"{rate:g} points an hour, at most a fraction of one is usual"),
        ),
        (Candidate(Cause.BATTERY_DEPLETED, 1.0),),
        decisive=True,
    )
