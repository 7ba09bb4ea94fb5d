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
two. The group's heard devices are those not quiet whose newest report came through it.
Only where the quiet is silent: where the network's own word names the group for its
devices (a congestion, a core or gateway reject, an update not reported since), it
said what happened, and none of this applies. `heard_since` says it of a candidate;
`unheard` keeps the others.

Pure: numbers in, a yes or no out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from diagnostics.incidents_reasons import NETWORK_DIMENSIONS

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from numpy.typing import NDArray

    from diagnostics.incidents_select import Candidate, Encoded

__all__ = ["MOST", "Timing", "heard_since", "together", "unheard"]

MOST: Final = 0.5
"""Share of a group's quiet devices that makes "most": late when the group was heard from,
or silent from one moment (the rest may have been quiet for reasons of their own before)."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Per device, in the fleet's order: when it last reported and from when it is late."""

    reported: NDArray[np.float64]
    """Its newest report's time (nan: none)."""
    late: NDArray[np.float64]
    """From when its next report is late (nan: it never reported)."""


def together(rows: Collection[int], timing: Timing) -> bool:
    """Whether `MOST` of these devices fell silent at one moment.

    Each fell silent between its last report and the moment it was late; the moment most
    of these spans hold is the start of one of them.
    """
    picked = sorted(rows)
    start, end = timing.reported[picked], timing.late[picked]
    known = ~np.isnan(start)
    start, end = np.sort(start[known]), np.sort(end[known])
    if not start.size:
        return False
    held = np.searchsorted(start, start, "right") - np.searchsorted(end, start, "left")
    return bool(held.max() >= MOST * len(picked))


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
    times = times[~np.isnan(times)]
    if not times.size:
        return False
    late = timing.late[sorted(candidate.rows)]
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
