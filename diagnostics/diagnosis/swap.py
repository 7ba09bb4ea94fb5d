"""SIM swap tests: does the fault follow the SIM or stay with the device?

A cross-swap puts the suspect SIM into a device that works and that device's
SIM into the suspect device. Afterwards each pairing either reports (telemetry
from the device carrying that SIM's ICCID) or does not. `compare` reads both
pairings after the swap and gives the swap's result with its evidence:

- fault follows the SIM: the suspect SIM fails in the good device, the good SIM works
  in the suspect device (or reaches the network there and is refused for its own
  subscription, not for the device's identity: the device's radio and SIM reader work);
- fault stays with the device: the other way round;
- both work now: something transient was cleared by the swap (a back-off timer, the
  modem's list of forbidden areas; the SIM's forbidden-network list goes with the SIM):
  re-test the original pairing;
- inconclusive: an IMEI lock refuses a SIM in the other device, both pairings fail,
  or not enough time has passed;
- impossible: the SIM is out of reach; the result says what the network's evidence
  about the SIM can still tell, and how to learn more without the swap.

A pairing works when its device reported with the SIM within the wait after the swap
(`_wait`): a pairing that stayed silent or refused past it failed the test, even where it
works later, once its fault was repaired.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.cause_rules import IMEI_REFUSALS
from diagnostics.diagnosis.causes import CAUSES, Lives
from diagnostics.diagnosis.model import Candidate, Evidence
from diagnostics.diagnosis.readings import refused_by_lock
from protocol.causes import Cause
from protocol.messages import AttachRejected, Telemetry

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Diagnosis, Seen

__all__ = [
    "MIN_WAIT_S",
    "Pairing",
    "SwapOutcome",
    "SwapResult",
    "SwapTest",
    "compare",
    "weigh_swap",
]

MIN_WAIT_S: Final = 1800.0
"""At least this long after the swap before a silent pairing counts as failing."""
WAIT_INTERVALS: Final = 3.0
"""...and at least this many of the device's reporting intervals."""


class SwapOutcome(enum.StrEnum):
    """The outcome of a swap test."""

    FOLLOWS_SIM = "follows_sim"
    STAYS_WITH_DEVICE = "stays_with_device"
    BOTH_WORK = "both_work"
    INCONCLUSIVE = "inconclusive"
    IMPOSSIBLE = "impossible"
    PENDING = "pending"
    """Not enough time yet: look again at `check_after`."""


@dataclass(frozen=True, slots=True)
class SwapTest:
    """A swap test as support registered it."""

    id: str
    created: float
    at: float
    """When the SIMs were swapped."""
    suspect_device: str
    suspect_iccid: str | None
    good_device: str | None = None
    good_iccid: str | None = None
    impossible: str | None = None
    """Why the swap cannot be done (the SIM is out of reach), when it cannot."""


@dataclass(frozen=True, slots=True)
class Pairing:
    """What one device did with one SIM after the swap."""

    device_id: str
    iccid: str | None
    reports: tuple[Seen, ...] = ()
    """The device's telemetry carrying that SIM, after the swap."""
    rejects: tuple[Seen, ...] = ()
    """The SIM's attach rejects after the swap."""
    interval_s: float | None = None
    locked_imei: str | None = None
    """The IMEI the SIM is locked to, when it is locked."""

    def worked_by(self, t: float) -> bool:
        """The device reported with this SIM at or before `t`."""
        return any(s.t <= t for s in self.reports)

    def answered(self) -> bool:
        """The network refused the SIM here, but not for the device's identity.

        The device reached the network and read the SIM: its radio and SIM reader work.
        """
        return any(
            isinstance(s.message, AttachRejected) and s.message.emm_cause not in IMEI_REFUSALS
            for s in self.rejects
        )

    def lock_refused(self) -> Seen | None:
        """An IMEI-lock refusal of the SIM in this device, if any."""
        if self.locked_imei is None:
            return None
        locked = self.locked_imei
        return next((s for s in self.rejects if refused_by_lock(s.message, locked)), None)


@dataclass(frozen=True, slots=True)
class SwapResult:
    """The answer of a swap test, with its evidence and what to do next."""

    test: SwapTest
    outcome: SwapOutcome
    summary: str
    next_step: str | None
    evidence: tuple[Evidence, ...] = ()
    check_after: float | None = None
    """PENDING: when the test can be judged."""
    conclusions: tuple[str, ...] = field(default_factory=tuple)
    """IMPOSSIBLE: what can be concluded without the swap."""


def _wait(pairing: Pairing) -> float:
    return max(MIN_WAIT_S, WAIT_INTERVALS * (pairing.interval_s or 0.0))


def _shown(pairing: Pairing, role: str, deadline: float) -> list[Evidence]:
    if pairing.worked_by(deadline):
        seen = pairing.reports[0]
        return [Evidence(seen.t, f"{role}: {pairing.device_id} reported with this SIM", seen.id)]
    return [
        Evidence(s.t, f"{role}: attach rejected ({_reject_text(s)})", s.id)
        for s in pairing.rejects[:1]
    ]


def _reject_text(seen: Seen) -> str:
    message = seen.message
    return f"EMM #{message.emm_cause}" if isinstance(message, AttachRejected) else "rejected"


def compare(  # noqa: PLR0911 - one return per outcome
    test: SwapTest,
    now: float,
    *,
    suspect_sim_in_good: Pairing | None,
    good_sim_in_suspect: Pairing | None,
    sim_diagnosis: Diagnosis | None = None,
) -> SwapResult:
    """The result at `now` from the two pairings after the swap."""
    if test.impossible is not None or suspect_sim_in_good is None or good_sim_in_suspect is None:
        return _impossible(test, sim_diagnosis)
    a, b = suspect_sim_in_good, good_sim_in_suspect
    deadline = {p.device_id: test.at + _wait(p) for p in (a, b)}
    evidence = (
        *_shown(a, "suspect SIM in good device", deadline[a.device_id]),
        *_shown(b, "good SIM in suspect device", deadline[b.device_id]),
    )
    for pairing in (a, b):
        refused = pairing.lock_refused()
        if refused is not None:
            return SwapResult(
                test,
                SwapOutcome.INCONCLUSIVE,
                f"The IMEI lock refuses SIM {pairing.iccid} in {pairing.device_id}: "
                "the test shows nothing about the fault",
                "Lift the IMEI lock for the test (or lock it to both devices), then swap again.",
                (Evidence(refused.t, "refused by the IMEI lock", refused.id), *evidence),
            )
    works_a, works_b = (p.worked_by(min(now, deadline[p.device_id])) for p in (a, b))
    failed_a = not works_a and now >= deadline[a.device_id]
    failed_b = not works_b and now >= deadline[b.device_id]
    if works_a and works_b:
        return SwapResult(
            test,
            SwapOutcome.BOTH_WORK,
            "Both pairings work now: the swap cleared something transient "
            "(a back-off timer, or the modem's list of forbidden areas)",
            "Put the SIMs back as they were and watch the original pairing again before "
            "concluding.",
            evidence,
        )
    if failed_a and (works_b or (failed_b and b.answered())):
        other = "works with another SIM" if works_b else "reaches the network with another SIM"
        return SwapResult(
            test,
            SwapOutcome.FOLLOWS_SIM,
            f"The fault follows the SIM: SIM {a.iccid} fails in {a.device_id}, while "
            f"{b.device_id} {other}",
            "Replace the SIM or fix its subscription (state, provisioning, plan, IMEI lock).",
            evidence,
        )
    if works_a and failed_b:
        return SwapResult(
            test,
            SwapOutcome.STAYS_WITH_DEVICE,
            f"The fault stays with the device: {b.device_id} fails with a working SIM, and its "
            f"SIM works elsewhere",
            "Look at the device: power, antenna, firmware, its APN settings.",
            evidence,
        )
    if failed_a and failed_b:
        return SwapResult(
            test,
            SwapOutcome.INCONCLUSIVE,
            "Neither pairing works: faults on both sides, or the swap was not done as planned",
            "Confirm with the customer which SIM is in which device, then test again.",
            evidence,
        )
    after = test.at + max(_wait(a), _wait(b))
    return SwapResult(
        test,
        SwapOutcome.PENDING,
        "Not enough time since the swap to call a silent pairing failed",
        "Look again after the time given: a silent pairing counts as failed only then.",
        evidence,
        check_after=after,
    )


def _impossible(test: SwapTest, diagnosis: Diagnosis | None) -> SwapResult:
    reason = test.impossible or "the other device or SIM is not known"
    conclusions: list[str] = []
    evidence: tuple[Evidence, ...] = ()
    if diagnosis is not None and diagnosis.cause is not None:
        info = CAUSES[diagnosis.cause]
        decided = next((c for c in diagnosis.checks if c.name == diagnosis.decided_by), None)
        evidence = decided.evidence if decided is not None else ()
        conclusions.append(f"The evidence points to: {info.title} ({diagnosis.summary})")
        if info.lives in {Lives.SIM, Lives.NETWORK}:
            conclusions.append(
                "That is settled on our side (plan, state or network): a swap would not change "
                "the answer"
            )
        elif info.lives is Lives.DEVICE and len(diagnosis.candidates) == 1:
            conclusions.append("The network's own answer names the device's side, without a swap")
        else:
            conclusions.append(
                "Device and SIM cannot be told apart without the swap: ask whether another "
                "SIM can go into this device instead, or wait until the device can be reached"
            )
    else:
        conclusions.append("No fault found in the SIM's network record")
    conclusions.append(
        "Without the swap: watch the SIM's network events (an attach attempt shows the device "
        "and SIM alive), and ask the customer when the device can be reached"
    )
    return SwapResult(
        test,
        SwapOutcome.IMPOSSIBLE,
        f"No swap test possible: {reason}",
        diagnosis.fix if diagnosis is not None else None,
        evidence,
        conclusions=tuple(conclusions),
    )


def pairing(
    device_id: str,
    iccid: str | None,
    device_messages: list[Seen],
    sim_messages: list[Seen],
    *,
    since: float,
    interval_s: float | None = None,
    locked_imei: str | None = None,
) -> Pairing:
    """One pairing from the device's messages and its new SIM's events after `since`."""
    reports = tuple(
        s
        for s in device_messages
        if isinstance(s.message, Telemetry) and s.message.iccid == iccid and s.t >= since
    )
    rejects = tuple(
        s for s in sim_messages if isinstance(s.message, AttachRejected) and s.t >= since
    )
    return Pairing(device_id, iccid, reports, rejects, interval_s, locked_imei)


_SETTLES: Final = {
    SwapOutcome.FOLLOWS_SIM: (Lives.SIM, Lives.DEVICE),
    SwapOutcome.STAYS_WITH_DEVICE: (Lives.DEVICE, Lives.SIM),
}
"""A verdict -> where it puts the fault, and the side it clears."""


def weigh_swap(diagnosis: Diagnosis, result: SwapResult) -> Diagnosis:
    """The diagnosis of one of the test's devices with the test's result weighed in.

    A test done is never asked for again: the diagnosis no longer names the swap as the
    test that would tell its candidates apart, and its next step is the result's. A fault that
    follows the SIM is a SIM or subscription cause of the device that holds the suspect SIM now
    (the good device); one that stays with the device is the suspect device's own. For that
    device the verdict's side comes first and the side it clears is left out; the other
    device of the test, which works with its new SIM, is not reordered. A test still pending,
    or impossible, weighs nothing in, but is not asked for again either (`_registered`).
    """
    if result.outcome in {SwapOutcome.IMPOSSIBLE, SwapOutcome.PENDING}:
        return _registered(diagnosis, result)
    test = result.test
    settled = _SETTLES.get(result.outcome)
    faulty = test.good_device if result.outcome is SwapOutcome.FOLLOWS_SIM else test.suspect_device
    if settled is None or diagnosis.device_id != faulty or not diagnosis.candidates:
        return _done(diagnosis, result)
    lives, cleared = settled
    fitting = [c for c in diagnosis.candidates if CAUSES[c.cause].lives is lives]
    if not fitting:
        return _done(diagnosis, result)
    kept = fitting + [  # a device of the test works where it was done: the coverage is fine
        c
        for c in diagnosis.candidates
        if CAUSES[c.cause].lives not in {lives, cleared} and c.cause is not Cause.COVERAGE_LOSS
    ]
    total = sum(c.likelihood for c in kept)
    candidates = tuple(Candidate(c.cause, round(c.likelihood / total, 3)) for c in kept)
    cause = candidates[0].cause
    return dataclasses.replace(
        diagnosis,
        cause=cause,
        candidates=candidates,
        confidence=round(max(diagnosis.confidence, 0.85 * candidates[0].likelihood), 3),
        decided_by="swap_test",
        summary=f"{CAUSES[cause].title}: {result.summary}",
        fix=CAUSES[cause].fix,
        next_step=None,
        separating_test=None,
    )


def _done(diagnosis: Diagnosis, result: SwapResult) -> Diagnosis:
    """The diagnosis without asking for the swap test that has been done."""
    if diagnosis.separating_test is None or "swap" not in diagnosis.separating_test.lower():
        return diagnosis
    return dataclasses.replace(diagnosis, separating_test=None, next_step=result.next_step)


def _registered(diagnosis: Diagnosis, result: SwapResult) -> Diagnosis:
    """The diagnosis with a swap test registered that has no verdict (pending, or impossible).

    The swap still names what would tell the candidates apart, for staff, but the test is
    underway or cannot be done: the `swap_registered` fact keeps the customer message from
    asking for it, and a next step that asked for it is the result's.
    """
    facts = diagnosis.facts | {"swap_registered": result.test.at}
    asked = diagnosis.next_step is not None and "swap" in diagnosis.next_step.lower()
    next_step = result.next_step if asked else diagnosis.next_step
    return dataclasses.replace(diagnosis, facts=facts, next_step=next_step)
