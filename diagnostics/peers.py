"""A device's neighbours: the other devices on the cell of its last report, and their signal.

A device whose own signal collapsed while the devices around it on the same cell
report as before has a fault of its own (its radio or antenna), not a loss of
coverage. The service's hot state holds each device's newest report (its cell,
signal and time); this reads the neighbours off it for a case. Only the newest
report of each device is held, so neighbours are known for a diagnosis now, not
when looking back.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Protocol

from diagnostics.diagnosis.model import CellPeers

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Reported", "cell_peers"]


class Reported(Protocol):
    """What the hot state holds of a device's newest report."""

    device_id: str
    operator: str | None
    cell: int | None
    last_report: float | None
    rsrp: float | None


def cell_peers(devices: Iterable[Reported], device: Reported) -> CellPeers | None:
    """The devices on `device`'s last cell that reported after it; None: it never reported."""
    if device.cell is None or device.last_report is None:
        return None
    after = device.last_report
    levels = [
        d.rsrp
        for d in devices
        if d.device_id != device.device_id
        and (d.operator, d.cell) == (device.operator, device.cell)
        and d.last_report is not None
        and d.last_report > after
        and d.rsrp is not None
    ]
    median = statistics.median(levels) if levels else None
    return CellPeers(device.cell, len(levels), median)
