"""The verdict: which check's finding names the cause, and what support does next.

`diagnose` runs every check of `checks.CHECKS` on a case and chooses. The probable
cause comes from the first check whose finding is *decisive* (the network or the
platform said so outright: a reject cause, a state, a block; refusals that stopped at a
firmware update the device hung in are superseded by it, `update.supersedes`), except that a device
breaking TS.34's limits while the network asks it to wait (congestion, or a failed core's
#17 and the standard's waits after it: `WAIT_CAUSES`) is a firmware fault of its own, not
the network's victim (`behaviour`); failing that from an
incident the device is quiet in (many devices quiet together are one outage, not many
device faults); failing that from the first check that found something by inference
(a battery running down before the silence). Where the evidence cannot separate
causes, the diagnosis lists them, most likely first, with the test that would; and it
says when the trouble started, when service resumes by itself, and the next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.behaviour import WAIT_CAUSES, conduct
from diagnostics.diagnosis.causes import CAUSES
from diagnostics.diagnosis.checks import CHECKS
from diagnostics.diagnosis.model import Diagnosis
from diagnostics.diagnosis.radio import SEPARATING_TEST as RADIO_TEST
from diagnostics.diagnosis.readings import (
    IMPLICIT_DETACH_S,
    backoffs,
    customer_facts,
    silence_start,
    stopped_at,
    when,
)
from diagnostics.diagnosis.update import supersedes
from protocol.causes import Cause

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Candidate, Case, CheckResult

__all__ = ["SWAP_TEST", "diagnose"]

SWAP_TEST: Final = (
    "a SIM swap test: the suspect SIM into a device that works, that device's SIM into this "
    "one. If the fault follows the SIM, the SIM is damaged; if it stays with this device, the "
    "device is at fault."
)


def diagnose(case: Case) -> Diagnosis:
    """Run every check and name the probable cause, its fix and the next step."""
    results = tuple(check(case) for check in CHECKS)
    finding = _finding(case, results)
    facts = customer_facts(case)
    if finding is None:
        return _no_cause(case, results, facts)
    candidates = finding.candidates
    cause = candidates[0].cause
    info = CAUSES[cause]
    separating = _separating_test(candidates, swappable=case.iccid is not None)
    started = _started(case, finding)
    resumes = _resumes(case, cause)
    if resumes is not None:
        facts["backoff_until"] = resumes
    if finding.name == "behaviour":
        facts.update(conduct(case).facts())
    confidence = candidates[0].likelihood * (0.95 if finding.decisive else 0.8)
    next_step = _next_step(case, finding, separating, resumes)
    return Diagnosis(
        device_id=case.device_id,
        iccid=case.iccid,
        at=case.now,
        detection_status=case.detection_status,
        cause=cause,
        confidence=round(confidence, 3),
        candidates=candidates,
        decided_by=finding.name,
        summary=f"{info.title}: {finding.summary}",
        fix=info.fix,
        next_step=next_step,
        separating_test=separating,
        checks=results,
        started=started,
        resumes=resumes,
        facts=facts,
        record=case.record,
    )


def _finding(case: Case, results: tuple[CheckResult, ...]) -> CheckResult | None:
    """Decisive first, then an incident, then an inference (only for a device that is down)."""
    decisive = [r for r in results if r.decisive and r.candidates]
    if decisive:
        first = next((r for r in decisive if supersedes(r, decisive[0], case)), decisive[0])
        misbehaving = next((r for r in decisive if r.name == "behaviour"), None)
        if misbehaving is not None and first.candidates[0].cause in WAIT_CAUSES:
            return misbehaving  # it does not wait as the network asked: its firmware is at fault
        return first
    if not case.silent:
        return None
    incident = next((r for r in results if r.name == "incident" and r.candidates), None)
    if incident is not None:
        return incident
    return next((r for r in results if r.candidates), None)


def _no_cause(
    case: Case, results: tuple[CheckResult, ...], facts: dict[str, str | float]
) -> Diagnosis:
    if case.silent:
        summary = "Quiet, but no check found why yet"
        next_step = (
            "Wait for the network to report on the SIM (an attach, a reject or its implicit "
            "detach within about an hour), or ask the customer whether the device has power."
        )
    elif case.detection_status == "UNKNOWN":
        summary = "Not enough reports to judge the device yet"
        next_step = "Check again after a few of its reporting intervals."
    else:
        summary = f"No fault found: the device is {case.detection_status}"
        next_step = None
    return Diagnosis(
        device_id=case.device_id,
        iccid=case.iccid,
        at=case.now,
        detection_status=case.detection_status,
        cause=None,
        confidence=0.0,
        candidates=(),
        decided_by=None,
        summary=summary,
        fix=None,
        next_step=next_step,
        separating_test=None,
        checks=results,
        started=stopped_at(case) if case.silent else None,
        facts=facts,
        record=case.record,
    )


def _separating_test(candidates: tuple[Candidate, ...], *, swappable: bool = True) -> str | None:
    """The test that tells the candidates apart; a swap only for a device with a SIM we know."""
    if len(candidates) < 2:
        return None
    causes = {c.cause for c in candidates}
    on_site = Cause.COVERAGE_LOSS in causes and bool(
        {Cause.RADIO_HARDWARE, Cause.DAMAGED_SIM} & causes
    )  # only a swap beside the device tells coverage from a fault of the device or its SIM
    swap = RADIO_TEST if on_site else SWAP_TEST if Cause.DAMAGED_SIM in causes else None
    if swap is not None:
        return f"Run {swap}" if swappable else None
    if Cause.FIRMWARE_HANG in causes and Cause.BROKER_UNREACHABLE in causes:
        return (
            "Ask the customer to power-cycle the device: a hung device comes back; if it stays "
            "quiet while data flows, check the customer's broker and credentials."
        )
    if {Cause.BATTERY_DEPLETED, Cause.COVERAGE_LOSS} <= causes:
        return (
            "Ask the customer to look at the device: a recharged battery brings it back; if it "
            "has power, it is out of coverage where it is."
        )
    if {Cause.CELL_OUTAGE, Cause.OPERATOR_OUTAGE} <= causes:
        return (
            "Compare with devices on the operator's other cells: quiet there too means the "
            "operator's whole network is down."
        )
    return None


def _next_step(
    case: Case, finding: CheckResult, separating: str | None, resumes: float | None
) -> str | None:
    cause = finding.candidates[0].cause
    if resumes is not None:
        return f"Wait for the back-off to end at {when(resumes)}; do not reboot the device."
    if separating is not None:
        return separating
    if (
        cause in {Cause.POWER_LOSS, Cause.FIRMWARE_HANG}
        and case.now - silence_start(case) < IMPLICIT_DETACH_S
    ):
        return "Wait until the network has had an hour to drop the device, then diagnose again."
    if finding.name == "incident":
        return "Follow the incident; the devices in it need no action of their own."
    return None


def _started(case: Case, finding: CheckResult) -> float | None:
    if finding.name in {"sim_state", "limits"} and finding.evidence:
        return finding.evidence[0].t
    stopped = stopped_at(case)
    if finding.name == "incident" and case.incident is not None:
        # the device's own stop, not when the incident's first member was detected quiet
        return case.incident.started_at if stopped is None else stopped
    if finding.name in {"behaviour", "power"} and finding.evidence:  # it may still report
        first = finding.evidence[0].t
        return first if stopped is None else min(stopped, first)
    if stopped is not None:
        return stopped
    return finding.evidence[0].t if finding.evidence else None


def _resumes(case: Case, cause: Cause) -> float | None:
    if cause is not Cause.CONGESTION:
        return None
    ends = [until for _, until in backoffs(case)]
    return max(ends) if ends and max(ends) > case.now else None
