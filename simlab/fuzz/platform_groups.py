"""The platform groups a world's truth makes: a pool or an account struck whole by one cause.

The service opens a platform group (`diagnostics.incidents_select.platform_candidates`)
where nearly all (`IncidentSettings.whole_share`) of a pool's or an account's devices hold
the same platform- or plan-side cause at once (`Explains.PLATFORM`: SIMs deactivated, a
pool used up, roaming refused to a fleet that moved abroad together) and at least
`IncidentSettings.platform_min_devices` of them are quiet. That is a true statement
whether a fault was drawn against the account or each SIM met the cause by itself, so
the answer key expects it wherever the truth says so (`expected_platform_groups`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Final

from diagnostics.incidents import IncidentSettings
from diagnostics.incidents_reasons import CLASS_OF, Explains
from simlab.fuzz.counts import down_before, quiet_after, unheard
from simulator.world.spec import parse_duration

if TYPE_CHECKING:
    from collections.abc import Mapping

    from protocol.causes import Cause
    from simlab.fuzz.draft import Draft
    from simulator.world.truth import TruthRecord

__all__ = ["expected_platform_groups", "report_intervals"]

_SETTINGS: Final = IncidentSettings()


def expected_platform_groups(
    draft: Draft, truth: list[TruthRecord], heard: Mapping[str, float] | None = None
) -> list[dict[str, Any]]:
    """Per pool or account the truth strikes whole: its dimension, value and first moment.

    A device the service had not heard from when the cause struck it is quiet by no cause
    (`counts.unheard`; `heard` its first words). As the service does, the narrowest group
    comes first (fewest devices, a pool before its account) and takes the quiet devices it
    holds: an account whose quiet devices of that cause are all its pool's is the pool's
    incident, not a second one.
    """
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    interval = report_intervals(draft)
    for g in draft.groups:
        for device in g.ids:
            if g.pool is not None:
                members["pool", g.pool].append(device)
            members["account", g.account].append(device)
    taken: dict[Cause, set[str]] = defaultdict(set)
    found = []
    for (dimension, value), devices in sorted(members.items(), key=lambda m: len(m[1])):
        inside = set(devices)
        held = [r for r in truth if r.device_id in inside]
        for cause, at, silent in _struck_whole(held, len(devices), interval, draft, heard):
            if len(silent - taken[cause]) >= _SETTINGS.platform_min_devices:
                found.append({"dimension": dimension, "value": value, "start": round(at, 3)})
            taken[cause] |= silent
    return sorted(found, key=lambda i: (i["start"], i["dimension"], i["value"]))


def report_intervals(draft: Draft) -> dict[str, float]:
    """Each device's report interval, in seconds."""
    return {
        device: float(parse_duration(g.spec["report_interval"]))  # type: ignore[arg-type]
        for g in draft.groups
        for device in g.ids
    }


def _struck_whole(
    records: list[TruthRecord],
    devices: int,
    interval: dict[str, float],
    draft: Draft,
    heard: Mapping[str, float] | None,
) -> list[tuple[Cause, float, set[str]]]:
    """Each platform-side cause that holds the group whole with enough of it quiet.

    With the first such moment and the devices quiet with that cause then; a device already
    down under another fault when the cause struck it is not quiet by it (`down_before`).
    """
    by_cause: dict[Cause, list[TruthRecord]] = defaultdict(list)
    for r in records:
        if CLASS_OF.get(r.cause) is Explains.PLATFORM:
            by_cause[r.cause].append(r)
    for cause, held in by_cause.items():  # a device already down is not quiet by this cause
        down = {
            r.start: down_before(records, r.start) | unheard(draft, heard, r.start) for r in held
        }
        by_cause[cause] = [r for r in held if r.device_id not in down[r.start]]
    found = []
    for cause, held in by_cause.items():
        quiet = {id(r): r.start + quiet_after(interval[r.device_id]) for r in held}
        for t in sorted(quiet.values()):
            open_ = [r for r in held if r.start <= t and (r.end is None or r.end > t)]
            sharing = {r.device_id for r in open_}
            silent = {r.device_id for r in open_ if quiet[id(r)] <= t}
            if (
                len(sharing) >= _SETTINGS.whole_share * devices
                and len(silent) >= _SETTINGS.platform_min_devices
            ):
                found.append((cause, t, silent))
                break
    return found
