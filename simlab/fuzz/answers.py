"""The answer key of a generated world, written from its ground truth after it has run.

Every affected device is listed with each cause its truth records give it, from the
first record of that cause (a device that has the same trouble twice is listed once; a
record over the moment it began, a device a neighbour cell served at once, is none). An incident is
expected where a fault struck a group (a cell, an operator, an APN or tunnel,
a whole account or firmware version) and the truth holds at least
`INCIDENT_MIN_DEVICES` devices with that fault from its start that it kept quiet long
enough for the service to see (`counts.quiet_after`), before it ended or the world did:
fewer than that, or a fault over (or a world over) before its devices fell quiet, is not a
pattern any grouping of quiet devices can see; nor are devices already down then under
another fault still open (their quiet is not the group fault's doing), nor devices the
service had never heard from by then (`heard`: no report or status yet; the detector, whose
quiet devices are grouped, has no row for them). A pool or account
the truth strikes whole with one platform-side cause is expected too, drawn against it
or not (`simlab.fuzz.platform_groups`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from simlab.fuzz.counts import down_before, quiet_after, unheard
from simlab.fuzz.platform_groups import expected_platform_groups, report_intervals

if TYPE_CHECKING:
    from collections.abc import Mapping

    from simlab.fuzz.draft import Draft
    from simulator.world.truth import TruthRecord

__all__ = ["INCIDENT_MIN_DEVICES", "answer_key"]

INCIDENT_MIN_DEVICES: Final = 3
START_SLACK_S: Final = 120.0
"""A record opened this soon after the group fault's start belongs to it."""


def answer_key(
    draft: Draft, truth: list[TruthRecord], heard: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The key for the world of `draft`, whose run gave `truth` (seconds from its start).

    `heard`: when each device's first report or status was sent (seconds from the start;
    None: every device counts as heard from the start).
    """
    truth = [r for r in truth if r.end is None or r.end > r.start]  # over at once: no trouble
    first: dict[tuple[str, str], float] = {}
    for r in truth:  # the same trouble twice: named once, from its first record
        first.setdefault((r.device_id, r.cause.value), round(r.start, 3))
    devices = [{"device": d, "cause": c, "start": start} for (d, c), start in first.items()]
    incidents = []
    interval = report_intervals(draft)
    for group in draft.incidents:
        struck = (
            {
                r.device_id
                for r in truth
                if r.fault.value == group["fault"]
                and 0 <= r.start - group["start"] <= START_SLACK_S
                and (draft.duration if r.end is None else r.end) - r.start
                > quiet_after(interval[r.device_id])
            }
            - down_before(truth, group["start"])
            - unheard(draft, heard, group["start"])
        )
        if len(struck) >= INCIDENT_MIN_DEVICES:
            incidents.append(
                {"dimension": group["dimension"], "value": group["value"], "start": group["start"]}
            )
    named = {(i["dimension"], str(i["value"])) for i in incidents}
    incidents += [
        {**group, "kind": "platform"}
        for group in expected_platform_groups(draft, truth, heard)
        if (group["dimension"], group["value"]) not in named
    ]
    key: dict[str, Any] = {"devices": devices, "incidents": incidents}
    if draft.swap_verdict is not None:
        key["swap_verdict"] = draft.swap_verdict
    return key
