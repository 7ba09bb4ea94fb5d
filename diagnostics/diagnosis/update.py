"""A firmware update the device has not reported since: hung by its new firmware.

The device-management server has the device apply a package (LwM2M object 5) and
says so (`FirmwareUpdate`); the device resets into the new version and reports again
within its interval. One that sends nothing after the update for longer than its
schedule allows (`FIRST_REPORT_INTERVALS`) hung in its new firmware, registered or
not: it was alive enough to apply the package, and the package was the change. That
is decisive even while the detector still calls the device only late, since its last
report came before the reset. Data flowing without a report is left to the above-IP
check (the broker); without data on the network the device does not get as far as its
broker, so a broker out of reach is no candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.model import Candidate, CheckResult, Status
from diagnostics.diagnosis.readings import cite, when
from protocol.causes import Cause
from protocol.messages import FirmwareUpdate, UsageReported

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Case

__all__ = ["FIRST_REPORT_INTERVALS", "check_update"]

FIRST_REPORT_INTERVALS: Final = 1.5
"""Intervals after its update a device's first report is overdue (the detector's LATE)."""


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
    due = seen.t + FIRST_REPORT_INTERVALS * (case.interval_s or 0.0)
    usage = [m for _, m in case.events(UsageReported, seen.t) if m.bytes > 0]
    updated = f"Updated to {update.version} at {when(seen.t)}"
    cited = (cite(seen, f"update to {update.version}"),)
    if case.interval_s is None or case.now < due or usage:
        return CheckResult(name, title, Status.UNKNOWN, f"{updated}; no report since", cited)
    hung = (Candidate(Cause.FIRMWARE_HANG, 1.0),)
    summary = f"{updated}, and silent since"
    return CheckResult(name, title, Status.BROKE, summary, cited, hung, decisive=True)
