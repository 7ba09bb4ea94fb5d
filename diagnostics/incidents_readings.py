"""What a device's own newest reports say of its quiet, for grouping quiet devices.

A device whose last reports show its signal falling away (it walked or drove out of
coverage) or its battery running down has an explanation of its own, read from its
telemetry by the same rules the diagnosis uses (`diagnostics.diagnosis.readings`):
it is no evidence of a cell, an operator, an APN or a firmware going down, however
many devices of one group leave coverage together. A cell that goes off air takes
its devices' signal away at once, with no fall first, so their quiet still counts; so
does that of a device that always reports a weak signal (it sits at the cell's edge).
A newest report `WEAKENING_DB` below the strongest of the device's other recent ones
explains nothing alone (a carried signal swings so), but a still device's fading is a
couple of dB: many of a group's quiet devices weakening so at once left together
(`weakening`, counted half in `incidents_select.points_elsewhere`).

`OwnReadings` keeps each device's `RECENT_REPORTS` newest reports as they arrive
(a late one is put in its place by time). Pure: no I/O.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.readings import (
    FALL_DB,
    RECENT_REPORTS,
    battery_running_down_in,
    signal_falling_in,
)
from protocol.causes import Cause

if TYPE_CHECKING:
    from protocol.messages import Telemetry

__all__ = ["WEAKENING_DB", "OwnReadings"]

WEAKENING_DB: Final = FALL_DB / 2
"""A newest report this far below the strongest of the device's other recent ones weakens."""


class OwnReadings:
    """Per device, its newest reports and the cause they name for its quiet."""

    def __init__(self) -> None:
        self._reports: dict[str, list[Telemetry]] = {}
        self._explained: dict[str, Cause | None] = {}
        """Device -> `explanation`, until its next report (it depends on its reports only)."""

    def apply(self, report: Telemetry) -> None:
        """Take one telemetry report into account."""
        kept = self._reports.setdefault(report.device_id, [])
        bisect.insort(kept, report, key=lambda r: r.t)
        del kept[:-RECENT_REPORTS]
        self._explained.pop(report.device_id, None)

    def explanation(self, device_id: str) -> Cause | None:
        """The cause the device's newest reports name for its quiet, if they name one."""
        if device_id in self._explained:
            return self._explained[device_id]
        found = self._explanation(device_id)
        self._explained[device_id] = found
        return found

    def weakening(self, device_id: str) -> bool:
        """Whether its newest of 3+ recent reports is `WEAKENING_DB` below the others' best."""
        reports = self._reports.get(device_id)
        if not reports or len(reports) < 3:
            return False
        return max(r.rsrp for r in reports[:-1]) - reports[-1].rsrp >= WEAKENING_DB

    def _explanation(self, device_id: str) -> Cause | None:
        reports = self._reports.get(device_id)
        if not reports:
            return None
        if signal_falling_in(reports):
            return Cause.COVERAGE_LOSS
        if battery_running_down_in(reports):
            return Cause.BATTERY_DEPLETED
        return None
