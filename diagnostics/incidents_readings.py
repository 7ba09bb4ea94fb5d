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
(`weakening`, counted half in `incidents_select.points_elsewhere`). A device that was
silent past its lateness and came back on another cell (`returned`) was out of all
coverage meanwhile: a cell off air leaves its devices another cell at once, or none till it
is back. Its own group's quiet devices that fell silent with it left together
(`came_back`: a convoy through a tunnel or a valley, some of it not out yet). A device
whose signal weakened to the edge of coverage on one cell (`WEAKENING_DB` over its kept
reports) and that has heard its next one only at the edge since (`fled`) is on its way
out of coverage too, though its newest reports on the new cell, all weak, fall no further
than a few dB: a still device at a cell's edge does not leave a fading cell first.

`OwnReadings` keeps each device's `RECENT_REPORTS` newest reports as they arrive
(a late one is put in its place by time). Pure: no I/O.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np

from diagnostics.diagnosis.readings import (
    FALL_DB,
    RECENT_REPORTS,
    WEAK_SIGNAL_DBM,
    battery_running_down_in,
    signal_falling_in,
)
from protocol.causes import Cause

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from numpy.typing import NDArray

    from protocol.messages import Telemetry

__all__ = ["LATE_GAPS", "RETURN_SLACK_S", "WEAKENING_DB", "OwnReadings", "Returned", "came_back"]

LATE_GAPS: Final = 1.5
"""A gap this many times the device's longest earlier one (of its kept reports) is a silence."""
RETURN_SLACK_S: Final = 3600.0
"""A device that came back elsewhere counts for a group whose quiet devices' earliest last
report came at most this long after it left (`came_back`): the same passage."""


class Returned(NamedTuple):
    """A device silent past its lateness that came back on another cell: where it had been."""

    cell: str
    operator: str | None
    """None: it came back through the same operator (which was up, then)."""
    left: float
    """Its last report there."""


WEAKENING_DB: Final = FALL_DB / 2
"""A newest report this far below the strongest of the device's other recent ones weakens."""


class OwnReadings:
    """Per device, its newest reports and the cause they name for its quiet."""

    def __init__(self) -> None:
        self._reports: dict[str, list[Telemetry]] = {}
        self._explained: dict[str, Cause | None] = {}
        """Device -> `explanation`, until its next report (it depends on its reports only)."""
        self._fled: set[str] = set()
        """Devices that weakened to the edge on their last cell and are weak on this one since."""

    def apply(self, report: Telemetry) -> None:
        """Take one telemetry report into account."""
        kept = self._reports.setdefault(report.device_id, [])
        if kept and report.t >= kept[-1].t:
            self._note_flight(kept, report)
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

    def returned(self, device_id: str) -> Returned | None:
        """Where the device was before a silence past its lateness it came back from elsewhere."""
        reports = self._reports.get(device_id) or []
        for i in range(len(reports) - 1, 1, -1):
            before, after = reports[i - 1], reports[i]
            usual = max(b.t - a.t for a, b in itertools.pairwise(reports[:i]))
            moved = (before.cell_id, before.mcc_mnc) != (after.cell_id, after.mcc_mnc)
            if moved and after.t - before.t > LATE_GAPS * usual:
                other = before.mcc_mnc if before.mcc_mnc != after.mcc_mnc else None
                return Returned(str(before.cell_id), other, before.t)
        return None

    def _note_flight(self, kept: Sequence[Telemetry], report: Telemetry) -> None:
        """Whether `report`, the newest, keeps or ends the device's flight from a fading cell."""
        device = report.device_id
        if report.rsrp > WEAK_SIGNAL_DBM:
            self._fled.discard(device)
        elif (kept[-1].cell_id, kept[-1].mcc_mnc) != (report.cell_id, report.mcc_mnc):
            last = kept[-1].rsrp
            faded = len(kept) > 2 and kept[0].rsrp - last >= WEAKENING_DB  # a trend needs 3
            if faded and last <= WEAK_SIGNAL_DBM:
                self._fled.add(device)
            else:
                self._fled.discard(device)

    def _explanation(self, device_id: str) -> Cause | None:
        reports = self._reports.get(device_id)
        if not reports:
            return None
        if device_id in self._fled or signal_falling_in(reports):
            return Cause.COVERAGE_LOSS
        if battery_running_down_in(reports):
            return Cause.BATTERY_DEPLETED
        return None


def came_back(
    returned: Sequence[Returned | None], reported: NDArray[np.float64]
) -> Callable[[str, str, Collection[int]], int]:
    """How many devices came back from a cell or operator (`returned`) in its rows' passage.

    Those that left at most `RETURN_SLACK_S` before the earliest last report (`reported`,
    per device) of the group's quiet `rows`.
    """
    left: dict[tuple[str, str], list[float]] = defaultdict(list)
    for back in returned:
        if back is not None:
            left["cell", back.cell].append(back.left)
            if back.operator is not None:
                left["operator", back.operator].append(back.left)

    def count(dimension: str, value: str, rows: Collection[int]) -> int:
        times = left.get((dimension, value))
        if not times or not rows:
            return 0
        since = float(np.nanmin(reported[sorted(rows)])) - RETURN_SLACK_S
        return sum(t >= since for t in times)

    return count
