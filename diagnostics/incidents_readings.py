"""What a device's own newest reports say of its quiet, for grouping quiet devices.

A device whose last reports show its signal falling away (it walked or drove out of
coverage) or its battery running down has an explanation of its own, read from its
telemetry by the same rules the diagnosis uses (`diagnostics.diagnosis.readings`):
it is no evidence of a cell, an operator, an APN or a firmware going down, however
many devices of one group leave coverage together. A cell that goes off air takes
its devices' signal away at once, with no fall first, so their quiet still counts; so
does that of a device that always reports a weak signal (it sits at the cell's edge).

`OwnReadings` keeps each device's `RECENT_REPORTS` newest reports as they arrive
(a late one is put in its place by time). Pure: no I/O.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from diagnostics.diagnosis.readings import (
    RECENT_REPORTS,
    battery_running_down_in,
    signal_falling_in,
)
from protocol.causes import Cause

if TYPE_CHECKING:
    from protocol.messages import Telemetry

__all__ = ["OwnReadings"]


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

    def _explanation(self, device_id: str) -> Cause | None:
        reports = self._reports.get(device_id)
        if not reports:
            return None
        if signal_falling_in(reports):
            return Cause.COVERAGE_LOSS
        if battery_running_down_in(reports):
            return Cause.BATTERY_DEPLETED
        return None
