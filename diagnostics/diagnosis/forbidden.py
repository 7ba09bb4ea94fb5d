"""A network the device will not try again: refused as not allowed, then lost where it reaches.

An attach refused with EMM cause #11 (PLMN not allowed) or #14 (EPS services not
allowed in this PLMN) writes that network into the SIM's list of forbidden networks
(3GPP TS 24.301 5.5.1.2.5; EF_FPLMN, TS 31.102), which the device does not try again
until the list is cleared (over the air, or by selecting the network by hand). A
device so refused on one network that then registers on another, and is then lost by
that one (an implicit detach: not heard for its periodic timer), has most likely left
the second network's coverage for the first's, where its plan does not let it in: it
can register nowhere, and nothing more of it reaches the wire. The registration must
have come at once after the refusal (`NEAR_S`): both networks reached where the device
stood, at the border between them. Registered minutes later, it had moved on between,
and the refusal says nothing of where it went (fresh seed 103: a fleet refused abroad,
registered at home ten minutes later and carried out of all coverage an hour after).
Had the device been lost where no network reaches at all, the wire would be the same;
the refusal, at once, is what tips it, and coverage lost stays the second candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.model import Evidence
from diagnostics.diagnosis.readings import cite, when
from protocol.causes import Cause
from protocol.messages import AttachAccepted, AttachRejected, Detached
from protocol.nas import EmmCause

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydantic import BaseModel

    from diagnostics.diagnosis.model import Case, Seen

__all__ = [
    "FORBIDDING",
    "NEAR_S",
    "ForbiddenWatch",
    "forbidden_then_lost",
    "lost_where_forbidden",
]

FORBIDDING: Final = frozenset(
    {EmmCause.PLMN_NOT_ALLOWED, EmmCause.EPS_SERVICES_NOT_ALLOWED_IN_THIS_PLMN}
)
"""EMM causes that put the network on the device's forbidden list."""
NEAR_S: Final = 120.0
"""A refusal at most this long before the registration the device was then lost from: the
device took the other network at once, where it stood (a scan takes seconds). Registered
later, it had moved on between, and the refusal says nothing of where it went."""


class ForbiddenWatch:
    """One SIM's attach accepts, forbidding refusals and detaches, read as they come."""

    __slots__ = ("lost", "refused", "registered")

    def __init__(self) -> None:
        self.refused: dict[str, AttachRejected] = {}
        """Per network, its forbidding refusal that no accept there took back."""
        self.registered: AttachAccepted | None = None
        self.lost: Detached | None = None
        """The implicit detach that is the SIM's newest word, if it is."""

    def apply(self, message: BaseModel) -> None:
        """Take one of the SIM's network events into account (others change nothing)."""
        if isinstance(message, AttachRejected):
            self.lost = None
            if message.emm_cause in FORBIDDING:
                self.refused[message.mcc_mnc] = message
        elif isinstance(message, AttachAccepted):
            self.lost, self.registered = None, message
            self.refused.pop(message.mcc_mnc, None)
        elif isinstance(message, Detached):
            self.lost = message if message.reason == "implicit" else None

    def refusal(self) -> AttachRejected | None:
        """The refusal that left the device nowhere to go, if its newest word fits.

        The newest accept, refusal or detach is an implicit detach; before it an accept on
        one network, and within `NEAR_S` before that a forbidding refusal on another.
        """
        registered = self.registered
        if self.lost is None or registered is None:
            return None
        near = [
            r
            for network, r in self.refused.items()
            if network != registered.mcc_mnc and 0 <= registered.t - r.t <= NEAR_S
        ]
        return max(near, key=lambda r: r.t, default=None)


def forbidden_then_lost(events: Iterable[BaseModel]) -> AttachRejected | None:
    """`ForbiddenWatch.refusal` of the SIM's network events in this device, oldest first."""
    watch = ForbiddenWatch()
    for message in events:
        watch.apply(message)
    return watch.refusal()


def lost_where_forbidden(
    case: Case, lost: Seen
) -> tuple[list[tuple[Cause, float]], str, list[Evidence]] | None:
    """Lost after a refusal that forbade a network in reach, if so: what the check says.

    Its candidates, its summary, and its evidence (the refusal first, the plan's networks).
    """
    refusal = forbidden_then_lost(s.message for s in case.network)
    if refusal is None:
        return None
    refused = next(s for s in case.network if s.message is refusal)
    said = [
        cite(
            refused,
            f"refused with EMM #{refusal.emm_cause} on {refusal.mcc_mnc}: its plan does not "
            "allow it, and the device does not try it again",
        )
    ]
    if case.record is not None:
        said.append(
            Evidence(case.record.t, f"plan allows networks {', '.join(case.record.networks)}")
        )
    text = (
        f"Lost by the network at {when(lost.t)}, after {refusal.mcc_mnc} refused it "
        f"(EMM #{refusal.emm_cause}) at {when(refusal.t)}: no network it may use in reach"
    )
    return [(Cause.ROAMING_NOT_ALLOWED, 0.75), (Cause.COVERAGE_LOSS, 0.25)], text, said
