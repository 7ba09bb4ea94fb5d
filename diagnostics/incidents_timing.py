"""Whether a group was heard from after its quiet devices fell silent: then it is no outage.

A network element that fails fails for every device it serves at once: a cell off air
silences every device on it within one reporting interval, and no report comes through
it while it is off; nor through an operator whose cells are all off, an APN's gateway
down or a tunnel down. So when another device of the same network group
(`NETWORK_DIMENSIONS`) reported through it after most of the group's quiet devices were
already late, it was up then, and their silence is their own: a radio or antenna of
theirs broken, a SIM of theirs gone, however many they are.

A firmware's or an account's trouble may strike its devices one by one (a leak that
hangs each after so many hours up), so a group of theirs heard from since is no outage
only when its quiet devices also fell silent together (`together`): whatever struck
them at one moment struck them, not the version or the account, whose other devices
went on reporting past that moment.

A device is late from its last report plus what the detector calls late
(`DetectorSettings.late_limit`: 1.5 of its intervals), so it fell silent between the
two; sooner where the network let it go without a word from it (an implicit detach after
its newest report), which it does only once the device has been silent past its
reachable timer. The group's heard devices are those not quiet whose newest report came
through it, or, for a cell or an operator (`REGISTERED_THROUGH`), whose newest
registration did: a tracking area update is the network hearing the device in that cell,
and a sleeping fleet makes them far more often than it reports.
Only where the quiet is silent: where the network's own word names the group for its
devices (a congestion, a core or gateway reject, an update not reported since), it
said what happened, and none of this applies. `heard_since` says it of a candidate;
`unheard` keeps the others.

Nor is a device already late before the moment most of a group's quiet devices fell
silent one of its outage, unless the network's word names the group for it: it went
quiet first, for a reason of its own (`joined` keeps the others; one lost report is
allowed for, so a member is late by `JOINED_SLACK` of its lateness before the moment).

A device whose firmware hangs stays registered; one out of coverage or out of power the
network lets go of when its reachable timer runs out (an implicit detach, which names its
radio lost). So a firmware's or an account's group silent without a word of the network
`waiting` for it is `held` until then: till then it cannot be told from devices that
left together.

Pure: numbers in, a yes or no out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from diagnostics.incidents_reasons import CLASS_OF, NETWORK_DIMENSIONS, Explains

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from numpy.typing import NDArray

    from diagnostics.incidents_select import Candidate, Encoded
    from protocol.causes import Cause

__all__ = [
    "DEFAULT_T3412_S",
    "HELD_DIMENSIONS",
    "JOINED_SLACK",
    "MOST",
    "REACH_SLACK_S",
    "REGISTERED_THROUGH",
    "Timing",
    "heard_since",
    "held",
    "joined",
    "together",
    "unheard",
    "waiting",
]

MOST: Final = 0.5
"""Share of a group's quiet devices that makes "most": late when the group was heard from,
or silent from one moment (the rest may have been quiet for reasons of their own before)."""


DEFAULT_T3412_S: Final = 3240.0
"""The periodic TAU timer where the network never said one: TS 24.301's default, 54 min."""
REACH_SLACK_S: Final = 600.0
"""How much later than `Timing.reach` the network may let a device go: its timer runs from
the device's last contact (a tracking area update or a retry after its last report may
come later), and a report's jitter moves the estimate by minutes."""
HELD_DIMENSIONS: Final = frozenset({"firmware", "account"})
"""Groups a silent outage of waits for the network's reachable timers (`held`)."""
REGISTERED_THROUGH: Final = frozenset({"cell", "operator"})
"""Groups a registration through proves up: the network heard a device in that cell then."""
JOINED_SLACK: Final = 1.0
"""How many times its lateness (last report to late) a device may be late before the
moment most fell silent and still be one of them: its last report plus three intervals
(late is 1.5 intervals on), so two reports lost just before the moment keep it."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Per device, in the fleet's order: when it last reported and from when it is late."""

    reported: NDArray[np.float64]
    """Its newest report's time (nan: none)."""
    late: NDArray[np.float64]
    """From when its next report is late (nan: it never reported)."""
    reach: NDArray[np.float64] | None = None
    """By when the network would have let it go had it lost its radio (its last report, one
    interval, its T3412 and the reachable timer's margin; None: not known)."""
    contact: NDArray[np.float64] | None = None
    """When the network last registered it (an attach or tracking area update) in the cell
    and operator of its newest report (nan: not since, or elsewhere; None: not known)."""
    lost: NDArray[np.float64] | None = None
    """When the network let it go without a word from it (an implicit detach) after its
    newest report and registration (nan: it did not; None: not known)."""


def waiting(rows: Collection[int], timing: Timing, now: float) -> bool:
    """Whether the network may still say, for `MOST` of these devices, that it lost them.

    A device whose firmware hangs stays registered; one out of coverage or power is let go
    when its reachable timer runs out. Until then a group silent without a word of the
    network (a firmware's, an account's) cannot be told from devices leaving together.
    """
    if timing.reach is None or not rows:
        return False
    reach = timing.reach[sorted(rows)] + REACH_SLACK_S
    return bool(np.count_nonzero(reach > now) >= MOST * len(rows))


def together(rows: Collection[int], timing: Timing) -> bool:
    """Whether `MOST` of these devices fell silent at one moment.

    Each fell silent between its last report and the moment it was late; the moment most
    of these spans hold is the start of one of them.
    """
    return _silent_from(sorted(rows), timing) is not None


def _silent_from(rows: Sequence[int], timing: Timing) -> float | None:
    """The moment that most of these devices' silent spans hold, if `MOST` hold one."""
    start, end = timing.reported[list(rows)], timing.late[list(rows)]
    known = ~np.isnan(start)
    start, end = np.sort(start[known]), np.sort(end[known])
    if not start.size:
        return None
    held = np.searchsorted(start, start, "right") - np.searchsorted(end, start, "left")
    best = int(held.argmax())
    return float(start[best]) if held[best] >= MOST * len(rows) else None


def joined(
    rows: Collection[int], named: Collection[int], timing: Timing, *, enough: int = 3
) -> frozenset[int]:
    """The rows that fell silent with most of them, or that the network's word names.

    Where it names `enough` of them to open the group on its own word
    (`IncidentSettings.min_named`), the moment is most of theirs. Where no moment holds
    most of them (a firmware leak striking one by one), all of them.
    """
    picked = sorted(rows)
    moment = _silent_from(sorted(named) if len(named) >= enough else picked, timing)
    if moment is None:
        return frozenset(rows)
    reported, late = timing.reported[picked], timing.late[picked]
    before = late + JOINED_SLACK * (late - reported) < moment  # nan compares False: kept
    return frozenset(r for r, b in zip(picked, before.tolist(), strict=True) if not b) | (
        frozenset(named) & frozenset(rows)
    )


def held(
    candidate: Candidate, causes: Sequence[Cause | None], timing: Timing | None, now: float
) -> bool:
    """A silent group of a firmware or an account the network may yet say it lost (`waiting`).

    Silent: nothing names it, and most of its quiet devices have no cause of their own but
    what their own reports read (a firmware's devices rebooting in a loop are heard by the
    network all the while).
    """
    if timing is None or candidate.dimension not in HELD_DIMENSIONS or candidate.named:
        return False
    readings = Explains.READINGS
    silent = [r for r in candidate.rows if (c := causes[r]) is None or CLASS_OF.get(c) is readings]
    return len(silent) >= MOST * len(candidate.rows) and waiting(silent, timing, now)


def heard_since(
    candidate: Candidate,
    encoded: Encoded,
    quiet: NDArray[np.bool_],
    counted: Mapping[str, NDArray[np.bool_]],
    timing: Timing,
) -> bool:
    """Whether the candidate's group reported after `MOST` of its quiet devices were late.

    Only a silent candidate (the network's word names it for fewer than most of its
    quiet devices: its tie-rule score below their number); outside the network's
    dimensions, only when its quiet devices fell silent `together`.
    """
    if candidate.named >= len(candidate.rows):
        return False
    values, codes = encoded[candidate.dimension]
    heard = (codes == values.index(candidate.value)) & counted[candidate.dimension] & ~quiet
    times = timing.reported[heard]
    if timing.contact is not None and candidate.dimension in REGISTERED_THROUGH:
        times = np.fmax(times, timing.contact[heard])
    times = times[~np.isnan(times)]
    if not times.size:
        return False
    late = timing.late[sorted(candidate.rows)]
    if timing.lost is not None:
        late = np.fmin(late, timing.lost[sorted(candidate.rows)])
    if np.count_nonzero(late < times.max()) < MOST * len(candidate.rows):
        return False
    return candidate.dimension in NETWORK_DIMENSIONS or together(candidate.rows, timing)


def unheard(
    candidates: Sequence[Candidate],
    encoded: Encoded,
    quiet: NDArray[np.bool_],
    counted: Mapping[str, NDArray[np.bool_]],
    timing: Timing | None,
) -> list[Candidate]:
    """The candidates not `heard_since` (all of them where no timing is known)."""
    if timing is None:
        return list(candidates)
    return [c for c in candidates if not heard_since(c, encoded, quiet, counted, timing)]
