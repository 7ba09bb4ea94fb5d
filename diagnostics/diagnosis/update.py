"""A firmware update the device has not reported since: hung by its new firmware.

The device-management server has the device apply a package (LwM2M object 5) and
says so (`FirmwareUpdate`); the device resets into the new version and reports again
within its interval. One that sends nothing after the update for longer than its
schedule allows (`FIRST_REPORT_INTERVALS`; one that never reported keeps the schedule
of its refused attempts) hung in its new firmware, registered or
not: it was alive enough to apply the package, and the package was the change. That
is decisive even while the detector still calls the device only late, since its last
report came before the reset. Data flowing without a report is left to the above-IP
check (the broker); without data on the network the device does not get as far as its
broker, so a broker out of reach is no candidate. Data counted at the update's own moment
is the closing count of the session the reset ended: data sent before it.

The update explains a silence only if the device was alive when it came: its newest report,
or its newest request to the network of its own (an attach, a data session, a tracking area
update), within its schedule before the update (`alive_at`). A device already overdue then
had gone quiet for another reason (its battery ran out, say), and the update, whatever the
server says of it, is not what silenced it: the other checks read that silence.

A hung device stops asking the network for anything, so an update also supersedes the
refusals the device was getting before it (`supersedes`): rejects that stop at the update
were the device's trouble until then, and the silence after it is the new version's. A
device still rejected after its update is alive in it, and its rejects keep naming the cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.behaviour import REQUESTS
from diagnostics.diagnosis.model import Candidate, CheckResult, Status
from diagnostics.diagnosis.readings import cite, stopped_at, when
from protocol.causes import Cause
from protocol.messages import (
    AttachRejected,
    FirmwareUpdate,
    SessionRejected,
    TrackingAreaUpdated,
    UsageReported,
)

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Case

__all__ = [
    "ATTEMPT_CHECKS",
    "FIRST_REPORT_INTERVALS",
    "RETRYING_S",
    "alive_at",
    "check_update",
    "supersedes",
]

FIRST_REPORT_INTERVALS: Final = 1.5
"""Intervals after its update a device's first report is overdue (the detector's LATE)."""
CADENCE_ATTEMPTS: Final = 3
"""Gaps between its newest attempts that give a device without reports its schedule."""
ATTEMPT_CHECKS: Final = frozenset({"registration", "session"})
"""Checks whose finding is the network's answer to the device's own attempts, which a
live device keeps making."""
RETRYING_S: Final = 1800.0
"""A refused device still trying tries again within this: T3402's 12 minutes after five
failed attaches, a congestion's T3346 at most 30 (`supersedes`)."""
_OWN_WORDS: Final = (*REQUESTS, TrackingAreaUpdated)
"""Network events that only a live device's own request brings."""


def check_update(case: Case) -> CheckResult:
    """Updated, back on the network, and silent since for longer than its schedule."""
    name, title = "update", "Firmware update"
    updates = case.events(FirmwareUpdate)
    if not updates:
        return CheckResult(name, title, Status.OK, "No firmware update seen")
    seen, update = updates[-1]
    last = case.last_report
    if last is not None and last[0].t >= seen.t:
        return CheckResult(name, title, Status.OK, f"Reported since its update to {update.version}")
    interval = case.interval_s or _attempt_cadence(case, seen.t)
    due = seen.t + FIRST_REPORT_INTERVALS * (interval or 0.0)
    usage = [m for s, m in case.events(UsageReported, seen.t) if m.bytes > 0 and s.t > seen.t]
    updated = f"Updated to {update.version} at {when(seen.t)}"
    cited = (cite(seen, f"update to {update.version}"),)
    if interval is not None and not alive_at(case, seen.t, interval):
        summary = f"{updated}, when it was quiet already: not what silenced it"
        return CheckResult(name, title, Status.OK, summary, cited)
    if interval is None or case.now < due or usage:
        return CheckResult(name, title, Status.UNKNOWN, f"{updated}; no report since", cited)
    hung = (Candidate(Cause.FIRMWARE_HANG, 1.0),)
    summary = f"{updated}, and silent since"
    return CheckResult(name, title, Status.BROKE, summary, cited, hung, decisive=True)


def alive_at(case: Case, t: float, interval_s: float) -> bool:
    """Whether the device showed life within its schedule before `t` (see the module).

    Its newest report, or its newest attach, data session or tracking area update request,
    at most `FIRST_REPORT_INTERVALS` of `interval_s` before `t`. A device that never showed
    any is not said to be quiet (nothing tells its schedule apart from its silence).
    """
    signs = [s.t for s in case.network if s.t <= t and isinstance(s.message, _OWN_WORDS)]
    stopped = stopped_at(case)
    if stopped is not None:
        signs.append(stopped)
    return not signs or t - max(signs) <= FIRST_REPORT_INTERVALS * interval_s


def _attempt_cadence(case: Case, until: float) -> float | None:
    """A device that never reported: the longest gap of its last attempts before `until`.

    Its schedule is then the network's refusals of it, which come as often as it tries.
    """
    tries = [s.t for s, _ in case.events(SessionRejected) if s.t < until]
    tries += [s.t for s, _ in case.events(AttachRejected) if s.t < until]
    tries = sorted(tries)[-CADENCE_ATTEMPTS - 1 :]
    gaps = [tries[i + 1] - tries[i] for i in range(len(tries) - 1)]
    return max(gaps) if len(gaps) >= CADENCE_ATTEMPTS else None


def supersedes(result: CheckResult, first: CheckResult, case: Case) -> bool:
    """Whether a hung update (`result`) names the cause over `first`, the first decisive finding.

    It does over the network's refusals of the device's attempts when none of them came
    after the update and the device was still trying when it came (its last refusal within
    half again its cadence of attempts, or `RETRYING_S` where it made too few to give one):
    they stopped when the new version hung. Refusals that had stopped long before stopped
    by themselves (a network it put on its forbidden list, a SIM it holds invalid), and the
    update, wherever it reached the device, changed nothing.
    """
    if result.name != "update" or not result.decisive or first.name not in ATTEMPT_CHECKS:
        return False
    updated = result.evidence[0].t
    if not first.evidence or any(e.t >= updated for e in first.evidence):
        return False
    cadence = _attempt_cadence(case, updated)
    within = RETRYING_S if cadence is None else max(RETRYING_S, 1.5 * cadence)
    return updated - max(e.t for e in first.evidence) <= within
