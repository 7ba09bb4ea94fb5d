"""A refusal that no longer explains a silence: its hold is over, and the device has not tried.

A device the network refused tries again once the refusal's hold is over: when the
back-off timer the network sent with it (T3346) has run out, or, where the SIM record
was what refused it (a SIM purged, suspended, deactivated), once the record is put
right (re-provisioned, activated). Firmware tries again within `ATTEMPT_DUE_S` of the
later of that and its last refusal: T3402's 12 minutes after five failed attempts, the
TS.34 back-off capped at an hour with its jitter, the modem reset an hour after a
refusal that holds the SIM invalid. A device that has made no attempt for that long is
silent for a reason of its own (out of coverage, without power): the refusal is
history, and the silence is read as any other (`quiet.silence_candidates`, the radio's
reading). Not a refusal that forbids a network or a tracking area: the device is right
not to try there again (`forbidden`), and the hold of a list is not on the wire.

Found by generated worlds: a fleet out of coverage by the time its purged SIMs were
re-provisioned (seed 282); a meter carried out of coverage after a congestion's back-off
ran out (seed 41). Both were told the refusal still stood, and the customer was given
nothing to do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.forbidden import FORBIDDING
from diagnostics.diagnosis.model import CheckResult, Evidence, Status, ranked
from diagnostics.diagnosis.quiet import silence_candidates
from diagnostics.diagnosis.radio import radio_reading
from diagnostics.diagnosis.readings import (
    cite,
    last_report_evidence,
    plan_changes,
    sim_state,
    standing_rejects,
    when,
)
from diagnostics.diagnosis.settle import settle, state_then
from protocol.messages import AttachRejected, SessionRejected, StateChanged
from protocol.nas import EmmCause

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diagnostics.diagnosis.model import Case, Seen
    from diagnostics.diagnosis.settle import Settled

__all__ = ["ATTEMPT_DUE_S", "Refusal", "hold_over", "standing_refusal", "stopped_trying"]

ATTEMPT_DUE_S: Final = 5400.0
"""A refused device tries again at most this long after its refusal's hold is over."""
LISTED: Final = FORBIDDING | {
    EmmCause.TRACKING_AREA_NOT_ALLOWED,
    EmmCause.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA,
    EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA,
}
"""Refusals that put a network or a tracking area on a list the device keeps to."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """The network's standing refusal of the SIM: its commonest settled cause, first and last."""

    count: int
    """The refusals with this EMM cause since the device went quiet."""
    first: Seen
    seen: Seen
    reject: AttachRejected
    """The newest of them."""
    found: Settled
    """The cause it was settled to, against the SIM's state when it came."""
    ended: Evidence | None
    """When the refusal's hold ended, where it did long enough ago (`hold_over`)."""


def standing_refusal(case: Case) -> Refusal | None:
    """The refusal the standing rejects name (`readings.standing_rejects`), if they name one.

    Each reject is settled against the SIM's state when it came (`settle.state_then`) and
    its plan's changes; of those that name a cause, the commonest EMM cause wins.
    """
    state, changes = sim_state(case)[0], plan_changes(case)
    moves = [m for _, m in case.events(StateChanged)]
    named = [
        (s, m, found)
        for s, m in standing_rejects(case)
        if (found := settle(m, case.record, state_then(m.t, moves, state), changes)) is not None
    ]
    if not named:
        return None
    counts = Counter(m.emm_cause for _, m, _ in named)
    code = counts.most_common(1)[0][0]
    first = next(s for s, m, _ in named if m.emm_cause == code)
    last = next(x for x in reversed(named) if x[1].emm_cause == code)
    ended = hold_over(case, last, moves, state, changes)
    return Refusal(counts[code], first, last[0], last[1], last[2], ended)


def hold_over(
    case: Case,
    last: tuple[Seen, AttachRejected, Settled],
    moves: Sequence[StateChanged],
    state: str | None,
    changes: Sequence[float],
) -> Evidence | None:
    """When the hold of the device's newest refusal ended, if it has, and no attempt since.

    `last`: the newest refusal, and the cause it was settled to; `moves`: the SIM's state
    changes (oldest first), `state` its state now, `changes` its plan's changes.
    """
    seen, reject, found = last
    if reject.emm_cause in LISTED:
        return None
    ended: Evidence | None = None
    if reject.backoff_s:
        end = seen.t + reject.backoff_s
        ended = Evidence(end, f"its back-off timer (T3346) ran out at {when(end)}")
    righted = [m for m in moves if m.t > seen.t]
    now = settle(reject, case.record, state, changes)
    if righted and (now is None or now.cause is not found.cause):
        move = righted[-1]
        ended = Evidence(move.t, f"SIM {move.new.lower()} at {when(move.t)}: {move.reason}")
    if ended is None or case.now - max(ended.t, seen.t) <= ATTEMPT_DUE_S:
        return None
    tried = case.events(AttachRejected, seen.t) + case.events(SessionRejected, seen.t)
    return ended if not any(s.t > seen.t for s, _ in tried) else None


def stopped_trying(case: Case, last: Seen, text: str, ended: Evidence) -> CheckResult:
    """The registration check of a device refused (`text`) whose hold ended (`ended`)."""
    radio = radio_reading(case)
    weights = radio.candidates() or silence_candidates(case, radio)
    summary = f"{text}; no attempt since the refusal's hold ended at {when(ended.t)}"
    evidence = (cite(last, text), ended, *last_report_evidence(case), *radio.evidence)
    return CheckResult(
        "registration", "Registration", Status.BROKE, summary, evidence, ranked(weights)
    )
