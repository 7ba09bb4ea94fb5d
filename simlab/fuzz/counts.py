"""What a staff summary's "Quiet with K of N devices of <group>" must count, by the truth.

The incident check states its count exactly (`diagnostics.diagnosis.checks`): N devices
of the group, K of them quiet in the incident, where quiet is the service's word for a
device silent past its SUSPECT threshold (`suspect_after` of its report intervals, plus
the detector's slack); devices that are only late, and devices quiet for reasons of
their own, are left out of K. So of the group's devices really down at the moment, K
must hold every one that is `owed`: its fault is old enough to be seen (`evident`), it
is the fault that struck the group (a fault of its own is another matter: a flat
battery in an outage cell), and by the received stream it has been silent past that
threshold. K may hold the others, and never more than are really down. A platform
group's line counts only the devices the platform refused with the group's cause
(`diagnostics.diagnosis.incident_said`): a device of it down for another cause (its
power lost before its account was struck) is not owed there.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from diagnostics.detection import DetectorSettings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from simlab.fuzz.draft import Draft
    from simulator.world.truth import TruthRecord

__all__ = [
    "DOWN_SLACK_S",
    "SWEEP_MARGIN_S",
    "down_before",
    "group_faults",
    "owed",
    "quiet_after",
    "unheard",
]

SWEEP_MARGIN_S: Final = 120.0
"""The service judges devices at the stream's watermarks, about a minute apart: a device
that crossed its threshold since the last one is not quiet to it yet."""

_DETECTOR: Final = DetectorSettings()
DOWN_SLACK_S: Final = 120.0
"""A fault that began this soon before another is of the same moment (`down_before`)."""


def down_before(truth: Sequence[TruthRecord], start: float) -> set[str]:
    """Devices already down at `start` under a fault still open then.

    A fault striking them at `start` does not make them quiet: they were (no grouping of
    quiet devices sees it).
    """
    return {
        r.device_id
        for r in truth
        if r.start < start - DOWN_SLACK_S and (r.end is None or r.end > start)
    }


def unheard(draft: Draft, heard: Mapping[str, float] | None, start: float) -> set[str]:
    """Devices of the world no report or status had come from by `start`.

    The service's detector, whose quiet devices are grouped, holds a row only for a device
    it has heard from: one that never came up is no member of any group of quiet devices.
    `heard`: each device's first word (None: all were heard from the start).
    """
    if heard is None:
        return set()
    return {d for d in draft.devices() if heard.get(d, math.inf) > start}


def group_faults(draft: Draft, dimension: str, value: str) -> frozenset[str]:
    """The faults drawn to strike the group (empty: none was; any fault may be its)."""
    return frozenset(
        str(g["fault"])
        for g in draft.incidents
        if g["dimension"] == dimension and str(g["value"]) == value and "fault" in g
    )


def owed(
    fault: TruthRecord,
    *,
    at: float,
    last_report: float | None,
    interval_s: float,
    struck_by: frozenset[str],
    evident: bool,
    counted_cause: str | None = None,
) -> bool:
    """Whether the group's count must hold this device, really down at `at` (see the module).

    `evident`: whether its fault had lasted long enough by `at` to be seen;
    `counted_cause`: the cause a platform group counts by (None: an outage's count).
    """
    if not evident:
        return False
    if struck_by and fault.fault.value not in struck_by:
        return False  # quiet for a reason of its own
    if counted_cause is not None and fault.cause.value != counted_cause:
        return False  # not refused with the group's cause: its line does not count it
    if last_report is None:
        return False  # never reported: the detector has no silence of it to measure
    return at - last_report > quiet_after(interval_s)


def quiet_after(interval_s: float) -> float:
    """Seconds of silence after which the service has seen a device of `interval_s` quiet."""
    return float(_DETECTOR.suspect_limit(interval_s)) + SWEEP_MARGIN_S
