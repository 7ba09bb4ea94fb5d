"""Why a device is quiet, from what it said before: its own reports, or nothing at all.

`silence_candidates` reads a quiet device's last reports where the network said nothing
of its own (no reject): a battery running down, a signal fading, or neither. A device
whose SIM the network has said nothing about at all (its events are not fed to the
service) is read the same way from its reports (`never_heard`).

A SIM never heard from while its cohort was is down before its first word.
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

from diagnostics.diagnosis.model import Candidate, CheckResult, Evidence, Status, ranked
from diagnostics.diagnosis.radio import radio_reading
from diagnostics.diagnosis.readings import (
    FLAT_BATTERY_PCT,
    battery_reported,
    battery_running_down,
    last_battery,
    last_report_evidence,
    signal_fading,
    when,
)
from protocol.causes import Cause

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Case
    from diagnostics.diagnosis.radio import RadioReading

__all__ = ["NEVER_HEARD", "never_heard", "silence_candidates"]

NEVER_HEARD: Final = (
    Candidate(Cause.DAMAGED_SIM, 0.4),
    Candidate(Cause.POWER_LOSS, 0.35),
    Candidate(Cause.COVERAGE_LOSS, 0.25),
)
"""Why a SIM its cohort outlived was never heard from, most likely first (see the module)."""


def never_heard(case: Case, name: str, title: str) -> CheckResult:
    """The registration check's finding where no attach or detach was seen for the SIM.

    A SIM its cohort outlived (`Case.unheard_since`); a quiet device whose SIM the network
    has said nothing about, by its own last reports; else not enough data.
    """
    since = case.unheard_since
    if since is None and case.silent and case.last_report is not None:
        radio = radio_reading(case)
        weights = radio.candidates() or silence_candidates(case, radio)
        text = "No word from the network about the SIM; quiet after its last report"
        evidence = (*last_report_evidence(case), *radio.evidence)
        return CheckResult(name, title, Status.BROKE, text, evidence, ranked(weights))
    if since is None:
        return CheckResult(name, title, Status.UNKNOWN, "No attach or detach seen for the SIM")
    text = f"No attach attempt since its record at {when(since)}, while its cohort's SIMs attached"
    evidence = (Evidence(since, "inventory record; no attach attempt and no report since"),)
    return CheckResult(name, title, Status.NEVER, text, evidence, NEVER_HEARD)


def silence_candidates(case: Case, radio: RadioReading) -> list[tuple[Cause, float]]:
    """Why a device went quiet without a word from the network, by its last reports."""
    battery, signal = battery_running_down(case), signal_fading(case)
    if battery and signal:
        return [(Cause.BATTERY_DEPLETED, 0.5), (Cause.COVERAGE_LOSS, 0.5)]
    if battery:
        flat = last_battery(case) <= FLAT_BATTERY_PCT
        if flat:
            return [(Cause.BATTERY_DEPLETED, 0.95), (Cause.COVERAGE_LOSS, 0.05)]
        return [(Cause.BATTERY_DEPLETED, 0.85), (Cause.COVERAGE_LOSS, 0.15)]
    if signal:  # a flat battery is a candidate only for a device that reports one
        other = Cause.BATTERY_DEPLETED if battery_reported(case) is not None else Cause.POWER_LOSS
        return [(Cause.COVERAGE_LOSS, 0.85), (other, 0.15)]
    return radio.unexplained()
