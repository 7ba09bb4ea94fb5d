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
from simlab.fuzz.counts import quiet_after
from simulator.world.spec import parse_duration

if TYPE_CHECKING:
    from simlab.fuzz.draft import Draft
    from simulator.world.truth import TruthRecord

__all__ = ["expected_platform_groups", "report_intervals"]

_SETTINGS: Final = IncidentSettings()


def expected_platform_groups(draft: Draft, truth: list[TruthRecord]) -> list[dict[str, Any]]:
    """Per pool or account the truth strikes whole: its dimension, value and first moment."""
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    interval = report_intervals(draft)
    for g in draft.groups:
        for device in g.ids:
            members["account", g.account].append(device)
            if g.pool is not None:
                members["pool", g.pool].append(device)
    found = []
    for (dimension, value), devices in members.items():
        inside = set(devices)
        at = _struck_whole([r for r in truth if r.device_id in inside], len(devices), interval)
        if at is not None:
            found.append({"dimension": dimension, "value": value, "start": round(at, 3)})
    return sorted(found, key=lambda i: (i["start"], i["dimension"], i["value"]))


def report_intervals(draft: Draft) -> dict[str, float]:
    """Each device's report interval, in seconds."""
    return {
        device: float(parse_duration(g.spec["report_interval"]))  # type: ignore[arg-type]
        for g in draft.groups
        for device in g.ids
    }


def _struck_whole(
    records: list[TruthRecord], devices: int, interval: dict[str, float]
) -> float | None:
    """The first moment one platform-side cause holds the group whole with enough quiet."""
    by_cause: dict[Any, list[TruthRecord]] = defaultdict(list)
    for r in records:
        if CLASS_OF.get(r.cause) is Explains.PLATFORM:
            by_cause[r.cause].append(r)
    first: float | None = None
    for held in by_cause.values():
        quiet = {id(r): r.start + quiet_after(interval[r.device_id]) for r in held}
        for t in sorted(quiet.values()):
            open_ = [r for r in held if r.start <= t and (r.end is None or r.end > t)]
            sharing = {r.device_id for r in open_}
            silent = {r.device_id for r in open_ if quiet[id(r)] <= t}
            if (
                len(sharing) >= _SETTINGS.whole_share * devices
                and len(silent) >= _SETTINGS.platform_min_devices
            ):
                first = t if first is None else min(first, t)
                break
    return first
