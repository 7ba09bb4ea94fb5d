"""What the checks read off a case's timeline: the SIM's state, registration, sessions, trends.

Each reader answers one question about a `Case` (is the SIM registered now, since when
has the device been quiet, is its battery running down) from the messages it holds,
oldest first. The thresholds say where a reading turns: a weak signal, a flat battery,
the network's implicit detach. `customer_facts` gathers the values a customer message
may name. Nothing here reads a clock: `case.now` is the service clock the case was
built at.
"""

from __future__ import annotations

import difflib
import math
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.cause_rules import IMEI_REFUSALS
from diagnostics.diagnosis.model import Evidence
from diagnostics.diagnosis.settle import read
from diagnostics.diagnosis.staff_time import when
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    AuditRecorded,
    DataBlocked,
    Detached,
    SessionClosed,
    SessionOpened,
    SessionRejected,
    StateChanged,
    Telemetry,
    UsageReported,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pydantic import BaseModel

    from diagnostics.diagnosis.model import Case, Reported, Seen
    from protocol.messages import SimRecord

__all__ = [
    "EMPTY_WITHIN_REPORTS",
    "FLAT_BATTERY_PCT",
    "IMPLICIT_DETACH_S",
    "LWM2M_LOW_SIGNAL",
    "PLAN_FIELD",
    "RECENT_REPORTS",
    "SIM_WORKS_S",
    "WEAK_SIGNAL_DBM",
    "attached_now",
    "backoffs",
    "battery_reported",
    "battery_running_down",
    "battery_running_down_in",
    "block_facts",
    "cite",
    "customer_facts",
    "last_battery",
    "last_report_evidence",
    "locked_imei",
    "locked_imei_of",
    "open_session",
    "plan_changes",
    "refused_by_lock",
    "registration",
    "signal_fading",
    "signal_fading_in",
    "signal_falling_in",
    "silence_start",
    "sim_state",
    "sim_worked",
    "standing_rejects",
    "stopped_at",
    "weak_signal_lately",
    "when",
]

IMPLICIT_DETACH_S: Final = 3600.0
"""A network drops a device it cannot reach after its mobile reachable timer (~1 h).

Until then a silent device may still look registered whatever happened to it;
after it, a device that is still registered is alive on the radio side.
"""
FLAT_BATTERY_PCT: Final = 5.0
"""A battery running down whose last report is at or below this: the battery, all but certainly."""
EMPTY_WITHIN_REPORTS: Final = 3.0
"""A battery runs down when, at the rate its levels fall, it empties within this many report
intervals of its last report (by the time a report goes missing, with room for a fall that
began between two reports)."""
WEAK_SIGNAL_DBM: Final = -115.0
"""RSRP at or below this is the edge of coverage."""
LWM2M_LOW_SIGNAL: Final = 4
"""The LwM2M device error code for a low signal strength."""
SIM_WORKS_S: Final = 86400.0
"""The network side shows a SIM working with an accepted attach or a session this recent."""
PLAN_FIELD: Final = "communication_plan"
"""The audit field of a SIM's communication plan."""


def cite(seen: Seen, text: str) -> Evidence:
    """Evidence that cites a stored message."""
    return Evidence(seen.t, text, seen.id)


def stopped_at(case: Case) -> float | None:
    """When the device stopped, as every message says it: its newest report the service had.

    The store's answer at the case's moment (`Case.last_heard`, which looks past the evidence
    window), or the case's own newest report where it holds a newer one (a case built without
    a store). Never a detection time, nor the time of the evidence that explains the silence.
    None: the device never reported, and is not said to have stopped.
    """
    last = case.last_report
    heard = [t for t in (case.last_heard, last[0].t if last else None) if t is not None]
    return max(heard, default=None)


def silence_start(case: Case) -> float:
    """Since when the trouble can have started: the device's newest report (or ever)."""
    stopped = stopped_at(case)
    return -math.inf if stopped is None else stopped


def standing_rejects(case: Case) -> list[tuple[Seen, AttachRejected]]:
    """The attach rejects since the device went quiet that no accepted attach came after.

    A refusal the network took back (the device registered after it) says nothing of now:
    the rejects of an outage that ended are not the cause of a quiet that came later.
    """
    accepted = max((s.t for s, _ in case.events(AttachAccepted)), default=-math.inf)
    return [(s, m) for s, m in case.events(AttachRejected, silence_start(case)) if s.t > accepted]


def sim_worked(case: Case) -> float | None:
    """When the network side last showed the SIM working in this device, if lately.

    An accepted attach or an opened data session within `SIM_WORKS_S` of the case's moment
    (the case holds the SIM's events while this device held it). None: the network has not
    shown it lately, and no message says the SIM card works.
    """
    worked = [s.t for s in case.network if isinstance(s.message, AttachAccepted | SessionOpened)]
    latest = max(worked, default=None)
    return latest if latest is not None and case.now - latest <= SIM_WORKS_S else None


def attached_now(case: Case) -> float | None:
    """When the SIM's attach the network still stands by was accepted (None: not attached now).

    The network's last word on the SIM in this device decides: an accepted attach, not
    followed by a detach or a rejected attach. None: it detached or refused the SIM since, or
    never said, and no message says the SIM card is connected to the mobile network.
    """
    said = [
        s for s in case.network if isinstance(s.message, AttachAccepted | AttachRejected | Detached)
    ]
    last = max(said, key=lambda s: s.t, default=None)
    return last.t if last is not None and isinstance(last.message, AttachAccepted) else None


def battery_reported(case: Case) -> float | None:
    """When the device's newest report with a battery level was sent (None: it never gave one)."""
    levels = [s.t for s, m in case.telemetry() if m.battery is not None]
    return levels[-1] if levels else None


def sim_state(case: Case) -> tuple[str | None, Seen | None, StateChanged | None]:
    """The SIM's state now: from its newest state change, or its inventory record.

    A record published after the change that still shows the state it moved to keeps
    the change: who made it, why and when.
    """
    changes = case.events(StateChanged)
    record = case.record
    record_t, record_state = (record.t, record.state) if record is not None else (-math.inf, None)
    if changes and (changes[-1][0].t >= record_t or changes[-1][1].new == record_state):
        seen, change = changes[-1]
        return change.new, seen, change
    if case.record is not None:
        return case.record.state, None, None
    return None, None, None


def registration(case: Case) -> tuple[bool | None, Seen | None]:
    """Whether the SIM is registered now, by its newest attach or detach (None: never seen)."""
    last: Seen | None = None
    state: bool | None = None
    for seen in case.network:
        if isinstance(seen.message, AttachAccepted):
            state, last = True, seen
        elif isinstance(seen.message, Detached):
            state, last = False, seen
    return state, last


def open_session(case: Case) -> Seen | None:
    """The data session open now, if any."""
    open_: dict[int, Seen] = {}
    for seen in case.network:
        message = seen.message
        if isinstance(message, SessionOpened):
            open_[message.session_id] = seen
        elif isinstance(message, SessionClosed):
            open_.pop(message.session_id, None)
        elif isinstance(message, Detached):
            open_.clear()
    return max(open_.values(), key=lambda s: s.t) if open_ else None


def plan_changes(case: Case) -> list[float]:
    """When the SIM's communication plan changed, oldest first (the audit trail says)."""
    return [s.t for s, m in case.events(AuditRecorded) if m.field == PLAN_FIELD]


def backoffs(case: Case, since: float = -math.inf) -> list[tuple[Seen, float]]:
    """Rejects that came with a back-off timer, and when each timer ends."""
    found: list[tuple[Seen, float]] = [
        (s, s.t + m.backoff_s) for s, m in case.events(AttachRejected, since) if m.backoff_s
    ]
    found += [(s, s.t + m.backoff_s) for s, m in case.events(SessionRejected, since) if m.backoff_s]
    return sorted(found, key=lambda pair: pair[0].t)


def locked_imei(record: SimRecord | None, network: Iterable[Seen]) -> str | None:
    """The IMEI an IMEI-locked SIM is held to: the record's, else the one it last worked in.

    The platform learns the lock's IMEI at the first attach but publishes no new record
    then, so the SIM's last accepted attach (in `network`, oldest first) stands in for it.
    """
    if record is None or not record.imei_lock:
        return None
    if record.locked_imei:
        return record.locked_imei
    worked = [s.message.imei for s in network if isinstance(s.message, AttachAccepted)]
    known = [imei for imei in worked if imei is not None]
    return known[-1] if known else None


def refused_by_lock(message: BaseModel, locked: str) -> bool:
    """An attach refused for the device identity, from a device other than the locked one."""
    return (
        isinstance(message, AttachRejected)
        and message.emm_cause in IMEI_REFUSALS
        and message.imei != locked
    )


def locked_imei_of(case: Case) -> str | None:
    """The IMEI the case's SIM is locked to, if it is IMEI-locked."""
    return locked_imei(case.record, case.network)


RECENT_REPORTS: Final = 4
"""How many of a device's newest reports its battery and signal trends are read from."""
FALL_DB: Final = 20.0
"""A fall of the signal this large over the recent reports is the device leaving coverage."""


def _recent_reports(case: Case, n: int = RECENT_REPORTS) -> list[Telemetry]:
    """The device's last `n` reports, oldest first."""
    return [m for _, m in case.telemetry()[-n:]]


def last_battery(case: Case) -> float:
    """The newest battery level of the recent reports (infinite for mains power)."""
    levels = [m.battery for m in _recent_reports(case) if m.battery is not None]
    return levels[-1] if levels else math.inf


def battery_running_down(case: Case) -> bool:
    """The recent reports show the battery falling to empty by about when they stopped."""
    return battery_running_down_in(_recent_reports(case))


def battery_running_down_in(reports: Sequence[Reported]) -> bool:
    """`battery_running_down` of these reports (oldest first).

    A low level alone is no evidence: a healthy cell loses a fraction of a point an hour,
    so one at 8% lasts for days. The levels must fall over these reports (the newest two
    may read alike: levels come to a tenth of a point) and, at the faster of their newest
    fall and their fall over them all, reach empty within `EMPTY_WITHIN_REPORTS` report
    intervals of the last (the longer of the newest spacing and the mean before: one sent early).
    """
    levels = [(m.t, m.battery) for m in reports if m.battery is not None]
    if len(levels) < 2 or levels[-1][0] <= levels[0][0] or levels[-1][1] >= levels[0][1]:
        return False
    (t0, first), (t1, before), (t2, last) = levels[0], levels[-2], levels[-1]
    per_s = max((before - last) / (t2 - t1) if t2 > t1 else 0.0, (first - last) / (t2 - t0))
    spacing = max(t2 - t1, (t1 - t0) / max(len(levels) - 2, 1))
    return last / per_s <= EMPTY_WITHIN_REPORTS * spacing


def signal_fading(case: Case) -> bool:
    """The recent reports end on a weak signal, or one that fell by 20 dB or more."""
    return signal_fading_in(_recent_reports(case))


def signal_fading_in(reports: Sequence[Telemetry]) -> bool:
    """`signal_fading` of these reports (oldest first)."""
    if not reports:
        return False
    last = reports[-1]
    weak = last.rsrp <= WEAK_SIGNAL_DBM or LWM2M_LOW_SIGNAL in last.errors
    return weak or signal_falling_in(reports)


def signal_falling_in(reports: Sequence[Reported]) -> bool:
    """These reports (oldest first, at least 3) show the signal falling by 20 dB or more.

    From the oldest to the weaker of the newest two (fading swings by several dB), the newest
    still half the fall down: one low reading is no fall. Or the newest weak, that far below
    the strongest of the others: along the edge of coverage a carried signal swings by tens
    of dB (a still one, by a few), and one ending weak after such a swing is leaving.
    """
    if len(reports) < 3:
        return False
    first, last = reports[0].rsrp, reports[-1].rsrp
    if first - min(last, reports[-2].rsrp) >= FALL_DB and first - last >= FALL_DB / 2:
        return True
    peak = max(r.rsrp for r in reports[:-1])
    return last <= WEAK_SIGNAL_DBM and peak - last >= FALL_DB


def weak_signal_lately(case: Case, since: float) -> bool:
    """Most reports since `since` at or below the weak-signal level."""
    levels = [m.rsrp for s, m in case.telemetry() if s.t >= since]
    weak = sum(level <= WEAK_SIGNAL_DBM for level in levels)
    return bool(levels) and weak * 2 > len(levels)


def last_report_evidence(case: Case) -> list[Evidence]:
    """What the newest report said of battery and signal, as evidence."""
    found = case.last_report
    if found is None:
        stopped = stopped_at(case)
        if stopped is not None:
            text = f"last report at {when(stopped)}, before the evidence window"
            return [Evidence(stopped, text)]
        return [Evidence(case.now, "the device never reported")]
    seen, report = found
    battery = "mains" if report.battery is None else f"battery {report.battery:.0f}%"
    errors = f", LwM2M errors {report.errors}" if report.errors else ""
    return [cite(seen, f"last report: {battery}, RSRP {report.rsrp:.0f} dBm{errors}")]


def customer_facts(case: Case) -> dict[str, str | float]:
    """What the customer message may name."""
    facts: dict[str, str | float] = {}
    evidence = {
        "last_report": stopped_at(case),
        "battery_reported": battery_reported(case),
        "sim_worked": sim_worked(case),
        "attached": attached_now(case),
    }
    facts.update({key: t for key, t in evidence.items() if t is not None})
    last = case.last_report
    if last is not None:
        _, report = last
        facts["rsrp"] = report.rsrp
        if report.battery is not None:
            facts["battery"] = report.battery
        facts["apn_used"] = report.apn
    facts.update(_platform_facts(case))
    return facts


def _apn_expected(case: Case, used: str) -> str | None:
    """The APN the device should use, when the evidence says which; None when it does not.

    The APN it last worked with (a session opened, a report sent) if the plan has it; else
    the plan's only APN; else one of the plan's APNs that is all but the same word (a typo).
    A customer types what we send, so a guess is left out.
    """
    record = case.record
    apns = record.apns if record is not None else []
    worked = [m.apn for _, m in case.events(SessionOpened)] + [m.apn for _, m in case.telemetry()]
    worked = [a for a in worked if a != used and (not apns or a in apns)]
    if worked:
        return worked[-1]
    if len(apns) == 1:
        return apns[0]
    close = difflib.get_close_matches(used, apns, n=1, cutoff=0.9)
    return close[0] if close else None


def _reject_facts(case: Case, reject: AttachRejected, state: str | None) -> dict[str, str | float]:
    """What the newest attach reject says: the network, the radio, the device, a plan since."""
    facts: dict[str, str | float] = {"network": reject.mcc_mnc, "radio": reject.rat}
    if reject.imei is not None:
        facts["imei_new"] = reject.imei
    if case.record is not None:
        added = read(reject, case.record, state, plan_changes(case)).added_since
        if added is not None:
            facts["network_added"] = added
    return facts


def _platform_facts(case: Case) -> dict[str, str | float]:
    """What the platform and the network said, for the customer message."""
    facts: dict[str, str | float] = {}
    record = case.record
    state, _, change = sim_state(case)
    if state is not None:
        facts["state"] = state
    if change is not None:
        facts["state_reason"] = change.reason
        facts["state_actor"] = change.actor
    since = silence_start(case)
    rejects = case.events(AttachRejected, since)
    if rejects:
        facts.update(_reject_facts(case, rejects[-1][1], state))
    sessions = case.events(SessionRejected, since)
    if sessions:
        facts["apn_used"] = sessions[-1][1].apn
    if record is not None:
        expected = _apn_expected(case, str(facts.get("apn_used", "")))
        if expected is not None:
            facts["apn_expected"] = expected
        facts["radio_allowed"] = ", ".join(record.radio_types)
        locked = locked_imei_of(case)
        if locked is not None:
            facts["imei_locked"] = locked
    usage = case.events(UsageReported)
    if usage:
        facts["limit_mb"] = round(usage[-1][1].allowance / 1e6, 1)
    facts.update(block_facts(case))
    return facts


def block_facts(case: Case) -> dict[str, str | float]:
    """What the platform said of the data block in force: when it lifts, and the pool used up.

    A pooled rate plan's block names the pool and how many SIMs share it: the limit reached
    is the pool's, not the SIM's own allowance, and every SIM in the pool is blocked with it.
    """
    blocks = case.events(DataBlocked)
    if not blocks or not blocks[-1][1].blocked:
        return {}
    block = blocks[-1][1]
    facts: dict[str, str | float] = {}
    if block.until is not None:
        facts["cycle_end"] = block.until
    if block.pool is not None:
        facts["pool"] = block.pool
        if block.pool_sims is not None:
            facts["pool_sims"] = block.pool_sims
        if block.limit is not None:
            facts["pool_limit_mb"] = round(block.limit / 1e6, 1)
    return facts
