"""The ordered checks: each reads one part of a case and gives a colour, evidence and causes.

The checks run in the order experienced staff use: SIM state, limits and policy,
registration, data session, behaviour, power (`battery`), firmware update (`update`),
above IP, correlated incident. Each returns a `CheckResult`: a colour (`Status`), the
evidence it used and the causes it points to, most likely first, and whether it is
*decisive* (the network or the platform said so outright: a reject cause, a state, a
block). `verdict.diagnose` chooses; the readings come from `readings`, the reject-cause
rules from `cause_rules`.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.battery import check_power
from diagnostics.diagnosis.behaviour import WINDOW_S, conduct
from diagnostics.diagnosis.cause_rules import ESM_CAUSES, INCIDENT_CAUSES, USABLE_STATES
from diagnostics.diagnosis.forbidden import lost_where_forbidden
from diagnostics.diagnosis.incident_said import incident_summary
from diagnostics.diagnosis.model import CheckResult, Evidence, Status, ranked
from diagnostics.diagnosis.outlived import standing_refusal, stopped_trying
from diagnostics.diagnosis.platform_said import block_summary, state_summary
from diagnostics.diagnosis.quiet import never_heard, silence_candidates
from diagnostics.diagnosis.radio import radio_reading
from diagnostics.diagnosis.readings import (
    IMPLICIT_DETACH_S,
    backoffs,
    cite,
    last_report_evidence,
    locked_imei_of,
    open_session,
    refused_by_lock,
    registration,
    silence_start,
    sim_state,
    weak_signal_lately,
    when,
)
from diagnostics.diagnosis.update import check_update
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    DataBlocked,
    Detached,
    ImeiChanged,
    SessionOpened,
    SessionRejected,
    UsageReported,
)
from protocol.nas import EsmCause
from protocol.sim_state import SimState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from diagnostics.diagnosis.model import Case, Seen

__all__ = [
    "CHECKS",
    "check_above_ip",
    "check_behaviour",
    "check_incident",
    "check_limits",
    "check_registration",
    "check_session",
    "check_sim_state",
]

OVERDUE_INTERVALS: Final = 1.5
"""A device silent for this many of its intervals is overdue (the detector's LATE)."""


def _ok(name: str, title: str, summary: str, evidence: Iterable[Evidence] = ()) -> CheckResult:
    return CheckResult(name, title, Status.OK, summary, tuple(evidence))


def check_sim_state(case: Case) -> CheckResult:
    """1. Is the SIM in a state that gets service?"""
    name, title = "sim_state", "SIM state"
    state, seen, change = sim_state(case)
    if state is None:
        return CheckResult(name, title, Status.UNKNOWN, "No inventory record or state change seen")
    if state in USABLE_STATES:
        evidence = [cite(seen, f"state changed to {state}")] if seen is not None else []
        return _ok(name, title, f"SIM is {state}", evidence)
    if seen is not None and change is not None:
        purged = state == SimState.PURGED.name
        worked = change.old in USABLE_STATES or (purged and bool(case.events(AttachAccepted)))
        quota = change.old == SimState.TEST_READY.name and state == SimState.INVENTORY.name
        cause = Cause.TEST_QUOTA_USED if quota else Cause.SIM_DEACTIVATED
        cause = Cause.SIM_PURGED if purged else cause
        text = f"{change.old} -> {state} by {change.actor}: {change.reason}"
        return CheckResult(
            name,
            title,
            Status.BROKE if worked else Status.NEVER,
            state_summary(change, seen.t),
            (cite(seen, text),),
            ranked([(cause, 1.0)]),
            decisive=True,
        )
    return CheckResult(
        name,
        title,
        Status.NEVER,
        f"SIM is {state} in its inventory record",
        (Evidence(case.record.t if case.record else case.now, f"record state {state}"),),
        ranked(
            [(Cause.SIM_PURGED if state == SimState.PURGED.name else Cause.SIM_DEACTIVATED, 1.0)]
        ),
        decisive=True,
    )


def check_limits(case: Case) -> CheckResult:
    """2. Data cap, barring, IMEI lock."""
    name, title = "limits", "Limits and policy"
    blocks = case.events(DataBlocked)
    if blocks and blocks[-1][1].blocked:
        seen, block = blocks[-1]
        return CheckResult(
            name,
            title,
            Status.BROKE,
            block_summary(block, seen.t),
            (cite(seen, f"data blocked: {block.reason}"),),
            ranked([(Cause.DATA_LIMIT_REACHED, 1.0)]),
            decisive=True,
        )
    since = silence_start(case)
    locked = locked_imei_of(case)
    if locked is not None:
        refused = [
            (s, m)
            for s, m in case.events(AttachRejected, since)
            if m.imei is not None and refused_by_lock(m, locked)
        ]
        moved = [(s, m) for s, m in case.events(ImeiChanged) if m.imei != locked]
        if refused:
            seen, reject = refused[-1]
            return CheckResult(
                name,
                title,
                Status.BROKE,
                f"SIM locked to IMEI {locked}, refused in IMEI {reject.imei}",
                (
                    cite(refused[0][0], f"refused in IMEI {reject.imei} (lock mismatch)"),
                    *(cite(s, f"IMEI changed {m.old_imei} -> {m.imei}") for s, m in moved[-1:]),
                ),
                ranked([(Cause.IMEI_LOCK_MISMATCH, 1.0)]),
                decisive=True,
            )
    barred = [
        (s, m)
        for s, m in case.events(SessionRejected, since)
        if m.esm_cause == EsmCause.OPERATOR_DETERMINED_BARRING
    ]
    if barred:
        seen, _ = barred[-1]
        return CheckResult(
            name,
            title,
            Status.BROKE,
            "Data sessions barred by the operator",
            (cite(seen, "data session barred"),),
            ranked([(Cause.DATA_LIMIT_REACHED, 0.6), (Cause.SIM_DEACTIVATED, 0.4)]),
            decisive=True,
        )
    return _ok(name, title, "No block, barring or IMEI lock problem")


def check_registration(case: Case) -> CheckResult:
    """3. Any attach at all? A reject names its cause; none at all points at the device."""
    name, title = "registration", "Registration"
    ever_attached = bool(case.events(AttachAccepted))
    refused = standing_refusal(case)
    if refused is not None:
        first, last_seen, last, found = refused.first, refused.seen, refused.reject, refused.found
        code, cause = last.emm_cause, found.cause
        status = Status.BROKE if ever_attached else Status.NEVER
        text = f"attach rejected {refused.count}x with EMM #{code} on {last.mcc_mnc} ({last.rat})"
        if refused.ended is not None and case.silent:
            return stopped_trying(case, last_seen, text, refused.ended)
        evidence = [cite(first, f"first reject EMM #{code}"), cite(last_seen, text)]
        record = case.record
        if found.rule is not None and record is not None:
            evidence.append(Evidence(record.t, f"settled by the SIM record: {found.rule.shows}"))
        if cause is Cause.ROAMING_NOT_ALLOWED and record is not None:
            evidence.append(
                Evidence(record.t, f"plan allows networks {', '.join(record.networks)}")
            )
        if cause is Cause.RADIO_TYPE_NOT_ALLOWED and record is not None:
            evidence.append(
                Evidence(record.t, f"plan allows radio types {', '.join(record.radio_types)}")
            )
        return CheckResult(
            name, title, status, text, tuple(evidence), ranked([(cause, 1.0)]), decisive=True
        )
    registered, seen = registration(case)
    if registered is None:
        return never_heard(case, name, title)
    if registered:
        assert seen is not None
        return _ok(name, title, f"Registered since {when(seen.t)}", [cite(seen, "attached")])
    assert seen is not None
    if not case.silent:
        return _ok(name, title, "Not registered now, and the device is not overdue")
    return _gone(case, seen, Status.BROKE if ever_attached else Status.NEVER)


def _gone(case: Case, seen: Seen, status: Status) -> CheckResult:
    """Detached and quiet: the device (or its SIM) is gone from the radio."""
    detach = seen.message
    assert isinstance(detach, Detached)
    radio = radio_reading(case)
    weights = radio.candidates() or silence_candidates(case, radio)
    evidence = [cite(seen, f"detached: {detach.reason}"), *last_report_evidence(case)]
    evidence += radio.evidence
    text = f"Detached ({detach.reason}) at {when(seen.t)}, no attach attempt since"
    forbidden = lost_where_forbidden(case, seen)
    if forbidden is not None:  # lost where only a network it may not use reaches
        weights, text, said = forbidden
        evidence = [said[0], *evidence, *said[1:]]
    elsewhere = case.sim_elsewhere
    if elsewhere is not None:
        evidence.append(cite(elsewhere, "its SIM tried to register in another device"))
        if _quiet_before(case, elsewhere.t):  # quiet with the SIM inside: the card can be read
            weights = [(c, w) for c, w in weights if c is not Cause.DAMAGED_SIM] or weights
        else:  # it went quiet when its SIM left it: what it holds now, the network has not seen
            text = f"Quiet since its SIM went into another device at {when(elsewhere.t)}"
    return CheckResult(
        "registration", "Registration", status, text, tuple(evidence), ranked(weights)
    )


def _quiet_before(case: Case, t: float) -> bool:
    """The device was overdue already at `t` (when its SIM left, say), by its own interval."""
    return t - silence_start(case) > OVERDUE_INTERVALS * (case.interval_s or 0.0)


def check_session(case: Case) -> CheckResult:
    """4. Attached but no data session: the ESM cause says why."""
    name, title = "session", "Data session"
    since = silence_start(case)
    rejects = [
        (s, m)
        for s, m in case.events(SessionRejected, since)
        if m.esm_cause in ESM_CAUSES and m.esm_cause != EsmCause.OPERATOR_DETERMINED_BARRING
    ]
    if rejects:
        counts = Counter(m.esm_cause for _, m in rejects)
        code = counts.most_common(1)[0][0]
        last_seen, last = next((s, m) for s, m in reversed(rejects) if m.esm_cause == code)
        cause = ESM_CAUSES[code]
        text = f"session on APN {last.apn!r} rejected {counts[code]}x with ESM #{code}"
        evidence = [cite(last_seen, text)]
        if cause is Cause.WRONG_APN and case.record is not None:
            evidence.append(Evidence(case.record.t, f"plan's APNs: {', '.join(case.record.apns)}"))
        opened = bool(case.events(SessionOpened))
        return CheckResult(
            name,
            title,
            Status.BROKE if opened else Status.NEVER,
            text,
            tuple(evidence),
            ranked([(cause, 1.0)]),
            decisive=True,
        )
    session = open_session(case)
    if session is not None:
        message = session.message
        assert isinstance(message, SessionOpened)
        return _ok(name, title, f"Session open on {message.apn}", [cite(session, "session open")])
    return CheckResult(name, title, Status.UNKNOWN, "No data session open now")


def check_behaviour(case: Case) -> CheckResult:
    """5. Reconnecting too often, or a back-off timer running (TS.34's limits: `behaviour`)."""
    name, title = "behaviour", "Behaviour"
    hour = case.now - WINDOW_S
    seen = conduct(case)
    breaches = seen.breaches()
    excused = not (seen.ignores_timers or seen.too_many_resets) and weak_signal_lately(case, hour)
    if breaches and not excused:
        # every breach holds requests of the hour: a reset counts only with the attach after it
        evidence = (
            cite(seen.requests[0], "first request of the hour"),
            *(cite(s, "first request while the back-off timer ran") for s in seen.in_timer[:1]),
            *(cite(s, "latest modem reset") for s in seen.resets[-1:]),
            cite(seen.requests[-1], "latest request"),
            Evidence(case.now, seen.figures()),
        )
        return CheckResult(
            name,
            title,
            Status.BROKE,
            "; ".join(breaches),
            evidence,
            ranked([(Cause.RECONNECT_STORM, 1.0)]),
            decisive=True,
        )
    if breaches:
        return CheckResult(
            name,
            title,
            Status.OK,
            f"{len(seen.requests)} attach and session requests in the last hour at the edge of "
            "coverage (weak signal): the device re-registers when the signal dips, which is not "
            "a fault of its own",
            (
                cite(seen.requests[0], "first request of the hour"),
                cite(seen.requests[-1], "latest"),
            ),
        )
    waits = [(s, until) for s, until in backoffs(case, hour) if until > case.now]
    if waits:
        last, until = waits[-1]
        return CheckResult(
            name,
            title,
            Status.BROKE,
            f"Back-off timer running until {when(until)}",
            (cite(last, "reject with a back-off timer"),),
        )
    return _ok(name, title, f"{len(seen.requests)} attach and session requests in the last hour")


def check_above_ip(case: Case) -> CheckResult:
    """6. Registered with a session, yet silent: above IP (data flows) or a hung device."""
    name, title = "above_ip", "Above IP"
    if not case.silent:
        return _ok(name, title, "The device reports")
    registered, _ = registration(case)
    session = open_session(case)
    if not registered or session is None:
        return CheckResult(name, title, Status.UNKNOWN, "No session to carry data")
    since = silence_start(case)
    # usage counted at the newest report is that report's own: only later data went astray
    usage = [(s, m) for s, m in case.events(UsageReported, since) if m.bytes > 0 and s.t > since]
    if usage:
        sent = sum(m.bytes for _, m in usage)
        return CheckResult(
            name,
            title,
            Status.BROKE,
            f"{sent} bytes sent over the network since the device went quiet",
            tuple(cite(s, f"{m.bytes} bytes used") for s, m in usage[-2:]),
            ranked([(Cause.BROKER_UNREACHABLE, 0.9), (Cause.FIRMWARE_HANG, 0.1)]),
            decisive=True,
        )
    quiet_for = case.now - since
    if quiet_for >= IMPLICIT_DETACH_S:
        return CheckResult(
            name,
            title,
            Status.BROKE,
            "Still registered with a session open, yet no data for over an hour",
            (cite(session, "session still open"),),
            ranked([(Cause.FIRMWARE_HANG, 0.8), (Cause.BROKER_UNREACHABLE, 0.2)]),
        )
    radio = radio_reading(case)
    return CheckResult(
        name,
        title,
        Status.UNKNOWN,
        "Registered with a session open; too soon to tell a hung device from a dead one",
        (cite(session, "session still open"), *radio.evidence),
        ranked(
            radio.candidates()
            or radio.together()
            or [
                (Cause.POWER_LOSS, 0.35),
                (Cause.FIRMWARE_HANG, 0.25),
                (Cause.DAMAGED_SIM, 0.2),
                (Cause.BROKER_UNREACHABLE, 0.2),
            ]
        ),
    )


def check_incident(case: Case) -> CheckResult:
    """7. Many at once: one incident, not many device faults."""
    name, title = "incident", "Correlated outage"
    incident = case.incident
    if incident is None:
        return _ok(name, title, "Not part of an open incident")
    platform = "Shared platform cause (not a network outage)"
    if incident.kind == "platform":  # a refusal of this SIM whose hold ended is history
        refused = standing_refusal(case)
        if (
            refused is not None
            and refused.ended is not None
            and refused.found.cause.value == incident.cause
            and case.silent
        ):
            summary = f"{incident_summary(incident)}; its refusal of this SIM ended since"
            return _ok(name, platform, summary, [refused.ended])
    shared = (Cause(incident.cause),) if incident.cause is not None else ()
    causes = shared or INCIDENT_CAUSES.get(incident.dimension, ())
    weights = [(c, 1.0 / (i + 1) ** 2) for i, c in enumerate(causes)]
    return CheckResult(
        name,
        platform if incident.kind == "platform" else title,
        Status.BROKE,
        incident_summary(incident),
        (Evidence(incident.started_at, f"incident {incident.id}"),),
        ranked(weights),
    )


CHECKS: Final[tuple[Callable[[Case], CheckResult], ...]] = (
    check_sim_state,
    check_limits,
    check_registration,
    check_session,
    check_behaviour,
    check_power,
    check_update,
    check_above_ip,
    check_incident,
)
"""The checks in the order staff run them: the SIM first, a correlated incident last."""
