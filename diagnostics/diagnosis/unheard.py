"""A SIM never heard from while its cohort was: down before its first word.

The service's `diagnostics.unheard` says when a SIM with an inventory record has made
no attach attempt at all, nor carried a report, while the SIMs put into service with
it have, past their start-up (`Case.unheard_since`). Nothing on the wire tells why: a
card that cannot be read makes no attempt, nor does a device without power, nor one
installed where no cell reaches. The SIM comes first, as the one part of the device
the platform knows and no network has ever read, while its cohort's SIMs, installed
the same way, all were; a swap test beside the device separates the three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.model import Candidate, CheckResult, Evidence, Status
from diagnostics.diagnosis.readings import when
from protocol.causes import Cause

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Case

__all__ = ["NEVER_HEARD", "never_heard"]

NEVER_HEARD: Final = (
    Candidate(Cause.DAMAGED_SIM, 0.4),
    Candidate(Cause.POWER_LOSS, 0.35),
    Candidate(Cause.COVERAGE_LOSS, 0.25),
)
"""Why a SIM its cohort outlived was never heard from, most likely first (see the module)."""


def never_heard(case: Case, name: str, title: str) -> CheckResult:
    """The registration check's finding where no attach or detach was seen for the SIM."""
    since = case.unheard_since
    if since is None:
        return CheckResult(name, title, Status.UNKNOWN, "No attach or detach seen for the SIM")
    text = f"No attach attempt since its record at {when(since)}, while its cohort's SIMs attached"
    evidence = (Evidence(since, "inventory record; no attach attempt and no report since"),)
    return CheckResult(name, title, Status.NEVER, text, evidence, NEVER_HEARD)
