"""A device's neighbours: the other devices on the cell of its last report, and their signal.

A device whose own signal collapsed while the devices around it on the same cell
report as before has a fault of its own (its radio or antenna), not a loss of
coverage. Devices that went quiet *together* with it on that cell tell the other
way: devices carried out of coverage together (a convoy, a train of containers)
fall silent within one of their reporting intervals of each other, and those whose
last reports happened to come while they were leaving saw their signal fall first
(`diagnostics.incidents_readings`). A device that reported rarely enough to go from
a good report straight to silence learns from them what it could not show itself;
a power cut at a site silences its devices together too, but nobody's signal falls
first.

The service's hot state holds each device's newest report (its cell, signal and
time); this reads the neighbours off it for a case. Only the newest report of each
device is held, so neighbours are known for a diagnosis now, not when looking back.
"""

from __future__ import annotations

import statistics
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np

from diagnostics.detection import DetectionStatus
from diagnostics.diagnosis.model import CellPeers

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from numpy.typing import NDArray

__all__ = ["OVERDUE", "Reported", "cell_peers", "overdue"]

OVERDUE: Final = (DetectionStatus.LATE, DetectionStatus.SUSPECT, DetectionStatus.OFFLINE)
"""The detector's statuses of a device that has not reported when it should have."""


class Reported(Protocol):
    """What the hot state holds of a device's newest report."""

    device_id: str
    operator: str | None
    cell: int | None
    last_report: float | None
    rsrp: float | None


def cell_peers(
    devices: Iterable[Reported],
    device: Reported,
    *,
    quiet: Mapping[str, float] = MappingProxyType({}),
    fading: Collection[str] = frozenset(),
) -> CellPeers | None:
    """The devices on `device`'s last cell: those that reported after it, those quiet with it.

    Args:
        devices: every device's newest report.
        device: the device of the case.
        quiet: the devices overdue now, with the reporting interval each is judged by.
        fading: the quiet devices whose own newest reports show their signal falling away.

    Returns:
        None when the device never reported.
    """
    if device.cell is None or device.last_report is None:
        return None
    after = device.last_report
    own = quiet.get(device.device_id, 0.0)
    levels, together = [], []
    for d in devices:
        if d.device_id == device.device_id or d.last_report is None:
            continue
        if (d.operator, d.cell) != (device.operator, device.cell):
            continue
        if d.last_report > after and d.rsrp is not None:
            levels.append(d.rsrp)
        if d.device_id in quiet and abs(d.last_report - after) <= max(own, quiet[d.device_id]):
            together.append(d.device_id)
    median = statistics.median(levels) if levels else None
    falling = sum(d in fading for d in together)
    return CellPeers(device.cell, len(levels), median, len(together), falling)


def overdue(
    ids: Sequence[str], statuses: NDArray[Any], intervals: NDArray[Any]
) -> dict[str, float]:
    """The devices overdue now (from the detector's columns), with their reporting intervals."""
    rows = np.flatnonzero(np.isin(statuses, [int(s) for s in OVERDUE]))
    return {ids[int(r)]: float(intervals[r]) for r in rows}
