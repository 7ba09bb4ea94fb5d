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
(a late one is put in its place by time), in numpy columns by the device's row: only
what these rules read of each (`Reading`). Pure: no I/O.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

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
    from collections.abc import Callable, Collection, Mapping, Sequence

    from numpy.typing import NDArray

    from protocol.messages import Telemetry

__all__ = [
    "LATE_GAPS",
    "RETURN_SLACK_S",
    "WEAKENING_DB",
    "OwnReadings",
    "Reading",
    "Returned",
    "Rows",
    "came_back",
]

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


class Reading(NamedTuple):
    """One kept report: what the trends and the flight read of it."""

    t: float
    rsrp: float
    battery: float | None
    cell_id: int
    mcc_mnc: str


class Rows(Protocol):
    """Device ids to rows, added on first sight (a `diagnostics.detection.Detector` is one)."""

    @property
    def index(self) -> Mapping[str, int]:
        """The rows of the devices seen."""
        ...

    def row(self, device_id: str) -> int:
        """The device's row, added on first sight."""
        ...


class _OwnRows:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def row(self, device_id: str) -> int:
        return self.index.setdefault(device_id, len(self.index))


_FIELDS: Final = 4
"""Per kept report: t, rsrp, battery (nan: none) and its cell and operator in one number."""
_CELL_SPAN: Final = 1 << 32
"""A cell id is below this (LTE's are 28 bits); the operator's code times it is added."""
_EXPLAINED: Final = (None, None, Cause.COVERAGE_LOSS, Cause.BATTERY_DEPLETED)
"""`explanation` kept per row by code: 0 to read again, 1 none, then the causes."""


class OwnReadings:
    """Per device, its newest reports and the cause they name for its quiet.

    Kept in columns by the device's row in `rows` (the detector's, so one index serves
    both): each row holds its `RECENT_REPORTS` newest reports oldest first, each report as
    `_FIELDS` float64s, about 130 bytes a device instead of four whole `Telemetry`.
    """

    def __init__(self, rows: Rows | None = None) -> None:
        self._rows: Rows = rows if rows is not None else _OwnRows()
        self._kept = np.full((0, RECENT_REPORTS, _FIELDS), np.nan)
        self._count = np.zeros(0, np.uint8)
        self._explained = np.zeros(0, np.uint8)
        """Row -> `explanation` by its code in `_EXPLAINED`, until its next report."""
        self._operators: list[str] = []
        self._operator_code: dict[str, int] = {}
        self._fled: set[str] = set()
        """Devices that weakened to the edge on their last cell and are weak on this one since."""

    def apply(self, report: Telemetry) -> None:
        """Take one telemetry report into account."""
        row = self._rows.row(report.device_id)
        if row >= self._count.shape[0]:
            self._grow(row + 1)
        n = int(self._count[row])
        kept = self._readings(row, n)
        if kept and report.t >= kept[-1].t:
            self._note_flight(kept, report)
        code = self._operator_code.setdefault(report.mcc_mnc, len(self._operators))
        if code == len(self._operators):
            self._operators.append(report.mcc_mnc)
        battery = np.nan if report.battery is None else report.battery
        place = float(code * _CELL_SPAN + report.cell_id)
        values = self._kept[row, :n].tolist()
        at = bisect.bisect_right([v[0] for v in values], report.t)
        values.insert(at, [report.t, report.rsrp, battery, place])
        values = values[-RECENT_REPORTS:]
        self._kept[row, : len(values)] = values
        self._count[row] = len(values)
        self._explained[row] = 0

    def _grow(self, rows: int) -> None:
        size = max(rows, 2 * self._count.shape[0], 1024)
        kept = np.full((size, RECENT_REPORTS, _FIELDS), np.nan)
        kept[: self._kept.shape[0]] = self._kept
        self._kept = kept
        self._count = np.concatenate([self._count, np.zeros(size - self._count.size, np.uint8)])
        explained = np.zeros(size - self._explained.size, np.uint8)
        self._explained = np.concatenate([self._explained, explained])

    def _readings(self, row: int, n: int) -> list[Reading]:
        """The row's `n` kept reports, oldest first."""
        operators = self._operators
        found = []
        for t, rsrp, battery, place in self._kept[row, :n].tolist():
            code, cell = divmod(int(place), _CELL_SPAN)
            level = None if math.isnan(battery) else battery
            found.append(Reading(t, rsrp, level, cell, operators[code]))
        return found

    def _reports(self, device_id: str) -> list[Reading]:
        row = self._rows.index.get(device_id)
        if row is None or row >= self._count.shape[0]:
            return []
        return self._readings(row, int(self._count[row]))

    def explanation(self, device_id: str, reports: list[Reading] | None = None) -> Cause | None:
        """The cause the device's newest reports name for its quiet, if they name one.

        `reports`: its kept reports, read already (else read here if need be).
        """
        row = self._rows.index.get(device_id)
        if row is None or row >= self._count.shape[0]:
            return None
        code = int(self._explained[row])
        if code:
            return _EXPLAINED[code]
        found = self._explanation(device_id, reports)
        self._explained[row] = _EXPLAINED.index(found, 1)
        return found

    def weakening(self, device_id: str) -> bool:
        """Whether its newest of 3+ recent reports is `WEAKENING_DB` below the others' best."""
        return _weakening(self._reports(device_id))

    def returned(self, device_id: str) -> Returned | None:
        """Where the device was before a silence past its lateness it came back from elsewhere."""
        return _returned(self._reports(device_id))

    def read(self, device_id: str) -> tuple[Cause | None, bool, Returned | None]:
        """`explanation`, `weakening` and `returned` at once, its reports read once."""
        reports = self._reports(device_id)
        return self.explanation(device_id, reports), _weakening(reports), _returned(reports)

    def _note_flight(self, kept: Sequence[Reading], report: Telemetry) -> None:
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

    def _explanation(self, device_id: str, reports: list[Reading] | None) -> Cause | None:
        if reports is None:
            reports = self._reports(device_id)
        if not reports:
            return None
        if device_id in self._fled or signal_falling_in(reports):
            return Cause.COVERAGE_LOSS
        if battery_running_down_in(reports):
            return Cause.BATTERY_DEPLETED
        return None


def _weakening(reports: Sequence[Reading]) -> bool:
    if len(reports) < 3:
        return False
    return max(r.rsrp for r in reports[:-1]) - reports[-1].rsrp >= WEAKENING_DB


def _returned(reports: Sequence[Reading]) -> Returned | None:
    for i in range(len(reports) - 1, 1, -1):
        before, after = reports[i - 1], reports[i]
        usual = max(b.t - a.t for a, b in itertools.pairwise(reports[:i]))
        moved = (before.cell_id, before.mcc_mnc) != (after.cell_id, after.mcc_mnc)
        if moved and after.t - before.t > LATE_GAPS * usual:
            other = before.mcc_mnc if before.mcc_mnc != after.mcc_mnc else None
            return Returned(str(before.cell_id), other, before.t)
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
