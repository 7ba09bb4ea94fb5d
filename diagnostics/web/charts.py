"""The device page's small charts: battery and signal over its timeline's reports, as SVG.

Drawn on the server from the reports the page already holds (no script, no library): each
chart a polyline in a `WIDTH` x `HEIGHT` box, its scale the values' own range, with the
lowest, highest and newest values written beside it for those who cannot see the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diagnostics.store import StoredMessage

__all__ = ["HEIGHT", "WIDTH", "Chart", "charts"]

WIDTH: Final = 240
HEIGHT: Final = 48
_PAD: Final = 3


@dataclass(frozen=True, slots=True)
class Chart:
    """One series drawn: its name, unit, polyline points and the values to say in words."""

    name: str
    unit: str
    points: str
    low: float
    high: float
    newest: float
    first_t: float
    last_t: float


def charts(timeline: Sequence[StoredMessage]) -> list[Chart]:
    """The battery and signal charts of the reports in `timeline` (each needs two values)."""
    reports = [(m.t, json.loads(m.payload)) for m in timeline if m.kind == "telemetry"]
    reports.sort(key=lambda r: r[0])
    found = []
    for name, key, unit in (("Battery", "battery", "%"), ("Signal (RSRP)", "rsrp", "dBm")):
        values = [(t, float(body[key])) for t, body in reports if body.get(key) is not None]
        if len(values) >= 2:
            found.append(_chart(name, unit, values))
    return found


def _chart(name: str, unit: str, values: list[tuple[float, float]]) -> Chart:
    t0, t1 = values[0][0], values[-1][0]
    low, high = min(v for _, v in values), max(v for _, v in values)
    span_t, span_v = (t1 - t0) or 1.0, (high - low) or 1.0

    def x(t: float) -> float:
        return _PAD + (WIDTH - 2 * _PAD) * (t - t0) / span_t

    def y(v: float) -> float:
        return HEIGHT - _PAD - (HEIGHT - 2 * _PAD) * (v - low) / span_v

    points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in values)
    return Chart(name, unit, points, low, high, values[-1][1], t0, t1)
