"""The ordered checks of diagnosis.md, and `diagnose`: a case in, a diagnosis out.

The checks run in the order experienced staff use: SIM state, limits and
policy, registration, data session, behaviour, above IP, correlated incident.
Each returns a colour (`Status`), the evidence it used and the causes it points
to. The probable cause comes from the first check whose finding is *decisive*
(the network or the platform said so outright: a reject cause, a state, a
block); failing that from an incident the device is quiet in (many devices
quiet together are one outage, not many device faults); failing that from the
first check that found something by inference (a battery running down before
the silence). Where the evidence cannot separate causes, the diagnosis lists
them, most likely first, with the test that would.

Nothing here reads a clock: `case.now` is the service clock the case was built at.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections import Counter
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.causes import CAUSES
from diagnostics.diagnosis.model import (
    Candidate,
    Case,
    CheckResult,
    Diagnosis,
    Evidence,
    Status,
)
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    DataBlocked,
    Detached,
    ImeiChanged,
    SessionClosed,
    SessionOpened,
    SessionRejected,
    StateChanged,
    Telemetry,
    UsageReported,
)
from protocol.nas import EmmCause, EsmCause
from protocol.sim_state import SimState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pydantic import BaseModel

    from diagnostics.diagnosis.model import Seen
    from protocol.messages import SimRecord

__all__ = [
    "CHECKS",
    "IMEI_REFUSALS",
    "IMPLICIT_DETACH_S",
    "STORM_ATTACHES_PER_HOUR",
    "diagnose",
    "locked_imei",
    "refused_by_lock",
]

IMPLICIT_DETACH_S: Final = 3600.0
"""A network drops a device it cannot reach after its mobile reachable timer (~1 h).

Until then a silent device may still look registered whatever happened to it;
after it, a device that is still registered is alive on the radio side.
"""
STORM_ATTACHES_PER_HOUR: Final = 4
"""More attaches than this in the last hour is a reconnect loop (a healthy device: one a day)."""
UNLIKELY: Final = 0.1
"""Candidates less likely than this (after the first) are left out of a diagnosis."""
LOW_BATTERY_PCT: Final = 10.0
FLAT_BATTERY_PCT: Final = 5.0
"""A last report at or below this, then silence: the battery, all but certainly."""
WEAK_SIGNAL_DBM: Final = -115.0
LWM2M_LOW_BATTERY: Final = 1
LWM2M_LOW_SIGNAL: Final = 4
USABLE_STATES: Final = frozenset(
    {SimState.ACTIVATED.name, SimState.TEST_READY.name, SimState.ACTIVATION_READY.name}
)
"""States in which a SIM gets service."""

_MOBILITY_REJECTS: Final = {
    EmmCause.PLMN_NOT_ALLOWED,
    EmmCause.TRACKING_AREA_NOT_ALLOWED,
    EmmCause.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA,
    EmmCause.EPS_SERVICES_NOT_ALLOWED_IN_THIS_PLMN,
    EmmCause.SERVICE_OPTION_NOT_AUTHORISED_IN_THIS_PLMN,
}
IMEI_REFUSALS: Final = frozenset({EmmCause.ILLEGAL_ME, EmmCause.IMEI_NOT_ACCEPTED})
"""Attach rejects for the device identity: a blacklisted IMEI, or an IMEI lock."""
_EMM_CAUSES: Final[dict[int, Cause]] = {
    EmmCause.IMSI_UNKNOWN_IN_HSS: Cause.SIM_NOT_PROVISIONED,
    EmmCause.ILLEGAL_UE: Cause.SIM_NOT_PROVISIONED,
    EmmCause.EPS_SERVICES_NOT_ALLOWED: Cause.SIM_NOT_PROVISIONED,
    EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED: Cause.SIM_DEACTIVATED,
    EmmCause.IMEI_NOT_ACCEPTED: Cause.IMEI_BLACKLISTED,
    EmmCause.ILLEGAL_ME: Cause.IMEI_BLACKLISTED,
    EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA: Cause.RADIO_TYPE_NOT_ALLOWED,
    EmmCause.CONGESTION: Cause.CONGESTION,
    **dict.fromkeys(_MOBILITY_REJECTS, Cause.ROAMING_NOT_ALLOWED),
}
"""EMM cause -> the cause it names (cause-codes.md); #17 and #19 name none by themselves."""
_ESM_CAUSES: Final[dict[int, Cause]] = {
    EsmCause.OPERATOR_DETERMINED_BARRING: Cause.DATA_LIMIT_REACHED,
    EsmCause.INSUFFICIENT_RESOURCES: Cause.CONGESTION,
    EsmCause.MISSING_OR_UNKNOWN_APN: Cause.WRONG_APN,
    EsmCause.SERVICE_OPTION_NOT_SUBSCRIBED: Cause.WRONG_APN,
    EsmCause.USER_AUTHENTICATION_FAILED: Cause.PRIVATE_APN_CREDENTIALS,
    EsmCause.REQUEST_REJECTED_BY_GATEWAY: Cause.IPSEC_TUNNEL_DOWN,
    EsmCause.NETWORK_FAILURE: Cause.APN_GATEWAY_OUTAGE,
}
"""ESM cause -> the cause it names."""
_INCIDENT_CAUSES: Final[dict[str, tuple[Cause, ...]]] = {
    "cell": (Cause.CELL_OUTAGE, Cause.OPERATOR_OUTAGE),
    "operator": (Cause.OPERATOR_OUTAGE, Cause.CELL_OUTAGE),
    "apn": (Cause.APN_GATEWAY_OUTAGE, Cause.IPSEC_TUNNEL_DOWN),
    "account": (Cause.SIM_DEACTIVATED, Cause.DATA_LIMIT_REACHED),
    "firmware": (Cause.FIRMWARE_HANG, Cause.WRONG_APN, Cause.RECONNECT_STORM),
}
SWAP_TEST: Final = (
    "a SIM swap test: the suspect SIM into a device that works, that device's SIM into this "
    "one. If the fault follows the SIM, the SIM is damaged; if it stays, the device is"
)


# ---- small readers ----------------------------------------------------------------------------


def _ev(seen: Seen, text: str) -> Evidence:
    return Evidence(seen.t, text, seen.id)


def _when(t: float) -> str:
    """A time for staff: UTC, to the second (the API also gives the number)."""
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _silence_start(case: Case) -> float:
    """Since when the trouble can have started: the device's newest report (or ever)."""
    last = case.last_report
    return last[0].t if last is not None else -math.inf


def _state(case: Case) -> tuple[str | None, Seen | None, StateChanged | None]:
    """The SIM's state now: from its newest state change, or its inventory record."""
    changes = case.events(StateChanged)
    record_t = case.record.t if case.record is not None else -math.inf
    if changes and changes[-1][0].t >= record_t:
        seen, change = changes[-1]
        return change.new, seen, change
    if case.record is not None:
        return case.record.state, None, None
    return None, None, None


def _registered(case: Case) -> tuple[bool | None, Seen | None]:
    """Whether the SIM is registered now, by its newest attach or detach (None: never seen)."""
    last: Seen | None = None
    state: bool | None = None
    for seen in case.network:
        if isinstance(seen.message, AttachAccepted):
            state, last = True, seen
        elif isinstance(seen.message, Detached):
            state, last = False, seen
    return state, last


def _session_open(case: Case) -> Seen | None:
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


def _ranked(weights: Iterable[tuple[Cause, float]]) -> tuple[Candidate, ...]:
    """Candidates by likelihood (normalised to sum to 1), ties in the given order."""
    merged: dict[Cause, float] = {}
    for cause, weight in weights:
        merged[cause] = merged.get(cause, 0.0) + weight
    total = sum(merged.values()) or 1.0
    ordered = sorted(merged.items(), key=lambda kv: -kv[1])
    kept = [(c, w / total) for i, (c, w) in enumerate(ordered) if i == 0 or w / total >= UNLIKELY]
    total = sum(w for _, w in kept)
    return tuple(Candidate(cause, round(weight / total, 3)) for cause, weight in kept)


def _ok(name: str, title: str, summary: str, evidence: Iterable[Evidence] = ()) -> CheckResult:
    return CheckResult(name, title, Status.OK, summary, tuple(evidence))


# ---- the checks, in order ---------------------------------------------------------------------


def check_sim_state(case: Case) -> CheckResult:
    """1. Is the SIM in a state that gets service?"""
    name, title = "sim_state", "SIM state"
    state, seen, change = _state(case)
    if state is None:
        return CheckResult(name, title, Status.UNKNOWN, "No inventory record or state change seen")
    if state in USABLE_STATES:
        evidence = [_ev(seen, f"state changed to {state}")] if seen is not None else []
        return _ok(name, title, f"SIM is {state}", evidence)
    if seen is not None and change is not None:
        worked = change.old in USABLE_STATES
        quota = change.old == SimState.TEST_READY.name and state == SimState.INVENTORY.name
        cause = Cause.TEST_QUOTA_USED if quota else Cause.SIM_DEACTIVATED
        text = f"{change.old} -> {state} by {change.actor}: {change.reason}"
        return CheckResult(
            name,
            title,
            Status.BROKE if worked else Status.NEVER,
            f"SIM moved {text} at {_when(seen.t)}",
            (_ev(seen, text),),
            _ranked([(cause, 1.0)]),
            decisive=True,
        )
    return CheckResult(
        name,
        title,
        Status.NEVER,
        f"SIM is {state} in its inventory record",
        (Evidence(case.record.t if case.record else case.now, f"record state {state}"),),
        _ranked([(Cause.SIM_DEACTIVATED, 1.0)]),
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
            f"Data blocked at {_when(seen.t)}: {block.reason}",
            (_ev(seen, f"data blocked: {block.reason}"),),
            _ranked([(Cause.DATA_LIMIT_REACHED, 1.0)]),
            decisive=True,
        )
    since = _silence_start(case)
    locked = _locked_imei(case)
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
                    _ev(refused[0][0], f"refused in IMEI {reject.imei} (lock mismatch)"),
                    *(_ev(s, f"IMEI changed {m.old_imei} -> {m.imei}") for s, m in moved[-1:]),
                ),
                _ranked([(Cause.IMEI_LOCK_MISMATCH, 1.0)]),
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
            (_ev(seen, "data session barred"),),
            _ranked([(Cause.DATA_LIMIT_REACHED, 0.6), (Cause.SIM_DEACTIVATED, 0.4)]),
            decisive=True,
        )
    return _ok(name, title, "No block, barring or IMEI lock problem")


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


def _locked_imei(case: Case) -> str | None:
    return locked_imei(case.record, case.network)


def check_registration(case: Case) -> CheckResult:
    """3. Any attach at all? A reject names its cause; none at all points at the device."""
    name, title = "registration", "Registration"
    since = _silence_start(case)
    rejects = case.events(AttachRejected, since)
    ever_attached = bool(case.events(AttachAccepted))
    named = [(s, m) for s, m in rejects if m.emm_cause in _EMM_CAUSES]
    if named:
        counts = Counter(m.emm_cause for _, m in named)
        code = counts.most_common(1)[0][0]
        first = next(s for s, m in named if m.emm_cause == code)
        last_seen, last = next((s, m) for s, m in reversed(named) if m.emm_cause == code)
        cause = _EMM_CAUSES[code]
        status = Status.BROKE if ever_attached else Status.NEVER
        text = f"attach rejected {counts[code]}x with EMM #{code} on {last.mcc_mnc} ({last.rat})"
        evidence = [_ev(first, f"first reject EMM #{code}"), _ev(last_seen, text)]
        record = case.record
        if cause is Cause.ROAMING_NOT_ALLOWED and record is not None:
            evidence.append(
                Evidence(record.t, f"plan allows networks {', '.join(record.networks)}")
            )
        if cause is Cause.RADIO_TYPE_NOT_ALLOWED and record is not None:
            evidence.append(
                Evidence(record.t, f"plan allows radio types {', '.join(record.radio_types)}")
            )
        return CheckResult(
            name, title, status, text, tuple(evidence), _ranked([(cause, 1.0)]), decisive=True
        )
    registered, seen = _registered(case)
    if registered is None:
        return CheckResult(name, title, Status.UNKNOWN, "No attach or detach seen for the SIM")
    if registered:
        assert seen is not None
        return _ok(name, title, f"Registered since {_when(seen.t)}", [_ev(seen, "attached")])
    assert seen is not None
    detach = seen.message
    assert isinstance(detach, Detached)
    if not case.silent:
        return _ok(name, title, "Not registered now, and the device is not overdue")
    # detached and quiet: the device (or its SIM) is gone from the radio
    weights = _silence_candidates(case)
    return CheckResult(
        name,
        title,
        Status.BROKE if ever_attached else Status.NEVER,
        f"Detached ({detach.reason}) at {_when(seen.t)}, no attach attempt since",
        (_ev(seen, f"detached: {detach.reason}"), *_trend_evidence(case)),
        _ranked(weights),
    )


def _silence_candidates(case: Case) -> list[tuple[Cause, float]]:
    """Why a device went quiet without a word from the network, by its last reports."""
    battery, signal = _battery_running_down(case), _signal_fading(case)
    if battery and signal:
        return [(Cause.BATTERY_DEPLETED, 0.5), (Cause.COVERAGE_LOSS, 0.5)]
    if battery:
        flat = _last_battery(case) <= FLAT_BATTERY_PCT
        if flat:
            return [(Cause.BATTERY_DEPLETED, 0.95), (Cause.COVERAGE_LOSS, 0.05)]
        return [(Cause.BATTERY_DEPLETED, 0.85), (Cause.COVERAGE_LOSS, 0.15)]
    if signal:
        return [(Cause.COVERAGE_LOSS, 0.85), (Cause.BATTERY_DEPLETED, 0.15)]
    return [(Cause.POWER_LOSS, 0.55), (Cause.DAMAGED_SIM, 0.45)]


def _recent_reports(case: Case, n: int = 4) -> list[Telemetry]:
    return [m for _, m in case.telemetry()[-n:]]


def _last_battery(case: Case) -> float:
    levels = [m.battery for m in _recent_reports(case) if m.battery is not None]
    return levels[-1] if levels else math.inf


def _battery_running_down(case: Case) -> bool:
    reports = _recent_reports(case)
    levels = [m.battery for m in reports if m.battery is not None]
    if not levels:
        return False
    low = levels[-1] <= LOW_BATTERY_PCT or LWM2M_LOW_BATTERY in reports[-1].errors
    return low or (len(levels) >= 3 and levels[0] - levels[-1] >= 10)


def _signal_fading(case: Case) -> bool:
    reports = _recent_reports(case)
    if not reports:
        return False
    last = reports[-1]
    weak = last.rsrp <= WEAK_SIGNAL_DBM or LWM2M_LOW_SIGNAL in last.errors
    return weak or (len(reports) >= 3 and reports[0].rsrp - last.rsrp >= 20)


def _trend_evidence(case: Case) -> list[Evidence]:
    found = case.last_report
    if found is None:
        return [Evidence(case.now, "the device never reported")]
    seen, report = found
    battery = "mains" if report.battery is None else f"battery {report.battery:.0f}%"
    errors = f", LwM2M errors {report.errors}" if report.errors else ""
    return [_ev(seen, f"last report: {battery}, RSRP {report.rsrp:.0f} dBm{errors}")]


def check_session(case: Case) -> CheckResult:
    """4. Attached but no data session: the ESM cause says why."""
    name, title = "session", "Data session"
    since = _silence_start(case)
    rejects = [
        (s, m)
        for s, m in case.events(SessionRejected, since)
        if m.esm_cause in _ESM_CAUSES and m.esm_cause != EsmCause.OPERATOR_DETERMINED_BARRING
    ]
    if rejects:
        counts = Counter(m.esm_cause for _, m in rejects)
        code = counts.most_common(1)[0][0]
        last_seen, last = next((s, m) for s, m in reversed(rejects) if m.esm_cause == code)
        cause = _ESM_CAUSES[code]
        text = f"session on APN {last.apn!r} rejected {counts[code]}x with ESM #{code}"
        evidence = [_ev(last_seen, text)]
        if cause is Cause.WRONG_APN and case.record is not None:
            evidence.append(Evidence(case.record.t, f"plan's APNs: {', '.join(case.record.apns)}"))
        opened = bool(case.events(SessionOpened))
        return CheckResult(
            name,
            title,
            Status.BROKE if opened else Status.NEVER,
            text,
            tuple(evidence),
            _ranked([(cause, 1.0)]),
            decisive=True,
        )
    session = _session_open(case)
    if session is not None:
        message = session.message
        assert isinstance(message, SessionOpened)
        return _ok(name, title, f"Session open on {message.apn}", [_ev(session, "session open")])
    return CheckResult(name, title, Status.UNKNOWN, "No data session open now")


def check_behaviour(case: Case) -> CheckResult:
    """5. Reconnecting too often, or a back-off timer running."""
    name, title = "behaviour", "Behaviour"
    hour = case.now - 3600.0
    attaches = case.events(AttachAccepted, hour)
    if len(attaches) > STORM_ATTACHES_PER_HOUR:
        evidence = (_ev(attaches[0][0], "first attach of the hour"), _ev(attaches[-1][0], "latest"))
        if _weak_signal_lately(case, hour):
            return CheckResult(
                name,
                title,
                Status.OK,
                f"{len(attaches)} attaches in the last hour at the edge of coverage (weak signal): "
                "the device re-registers when the signal dips, which is not a fault of its own",
                evidence,
            )
        return CheckResult(
            name,
            title,
            Status.BROKE,
            f"{len(attaches)} attaches in the last hour",
            evidence,
            _ranked([(Cause.RECONNECT_STORM, 1.0)]),
            decisive=True,
        )
    waits = [(seen, until) for seen, until in _backoffs(case, hour) if until > case.now]
    if waits:
        seen, until = waits[-1]
        return CheckResult(
            name,
            title,
            Status.BROKE,
            f"Back-off timer running until {_when(until)}",
            (_ev(seen, "reject with a back-off timer"),),
        )
    return _ok(name, title, f"{len(attaches)} attaches in the last hour")


def _weak_signal_lately(case: Case, since: float) -> bool:
    """Most reports since `since` at or below the weak-signal level."""
    levels = [m.rsrp for s, m in case.telemetry() if s.t >= since]
    weak = sum(level <= WEAK_SIGNAL_DBM for level in levels)
    return bool(levels) and weak * 2 > len(levels)


def check_above_ip(case: Case) -> CheckResult:
    """6. Registered with a session, yet silent: above IP (data flows) or a hung device."""
    name, title = "above_ip", "Above IP"
    if not case.silent:
        return _ok(name, title, "The device reports")
    registered, _ = _registered(case)
    session = _session_open(case)
    if not registered or session is None:
        return CheckResult(name, title, Status.UNKNOWN, "No session to carry data")
    since = _silence_start(case)
    usage = [(s, m) for s, m in case.events(UsageReported, since) if m.bytes > 0]
    if usage:
        sent = sum(m.bytes for _, m in usage)
        return CheckResult(
            name,
            title,
            Status.BROKE,
            f"{sent} bytes sent over the network since the device went quiet",
            tuple(_ev(s, f"{m.bytes} bytes used") for s, m in usage[-2:]),
            _ranked([(Cause.BROKER_UNREACHABLE, 0.9), (Cause.FIRMWARE_HANG, 0.1)]),
            decisive=True,
        )
    quiet_for = case.now - since
    if quiet_for >= IMPLICIT_DETACH_S:
        return CheckResult(
            name,
            title,
            Status.BROKE,
            "Still registered with a session open, yet no data for over an hour",
            (_ev(session, "session still open"),),
            _ranked([(Cause.FIRMWARE_HANG, 0.8), (Cause.BROKER_UNREACHABLE, 0.2)]),
        )
    return CheckResult(
        name,
        title,
        Status.UNKNOWN,
        "Registered with a session open; too soon to tell a hung device from a dead one",
        (_ev(session, "session still open"),),
        _ranked(
            [
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
    causes = _INCIDENT_CAUSES.get(incident.dimension, ())
    weights = [(c, 1.0 / (i + 1) ** 2) for i, c in enumerate(causes)]
    return CheckResult(
        name,
        title,
        Status.BROKE,
        f"Quiet with {incident.quiet} of {incident.members} devices of {incident.dimension} "
        f"{incident.value} since {_when(incident.started_at)} (incident {incident.id})",
        (Evidence(incident.started_at, f"incident {incident.id}"),),
        _ranked(weights),
    )


CHECKS: Final[tuple[Callable[[Case], CheckResult], ...]] = (
    check_sim_state,
    check_limits,
    check_registration,
    check_session,
    check_behaviour,
    check_above_ip,
    check_incident,
)
"""The checks in the order of diagnosis.md."""


# ---- the verdict ------------------------------------------------------------------------------


def diagnose(case: Case) -> Diagnosis:
    """Run every check and name the probable cause, its fix and the next step."""
    results = tuple(check(case) for check in CHECKS)
    finding = _finding(case, results)
    facts = _facts(case)
    if finding is None:
        return _no_cause(case, results, facts)
    candidates = finding.candidates
    cause = candidates[0].cause
    info = CAUSES[cause]
    separating = _separating_test(candidates)
    started = _started(case, finding)
    resumes = _resumes(case, cause)
    if resumes is not None:
        facts["backoff_until"] = resumes
    confidence = candidates[0].likelihood * (0.95 if finding.decisive else 0.8)
    next_step = _next_step(case, finding, separating, resumes)
    return Diagnosis(
        device_id=case.device_id,
        iccid=case.iccid,
        at=case.now,
        verdict=case.verdict,
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
    decisive = next((r for r in results if r.decisive and r.candidates), None)
    if decisive is not None:
        return decisive
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
            "detach within about an hour), or ask the customer whether the device has power"
        )
    elif case.verdict == "UNKNOWN":
        summary = "Not enough reports to judge the device yet"
        next_step = "Check again after a few of its reporting intervals"
    else:
        summary = f"No fault found: the device is {case.verdict}"
        next_step = None
    return Diagnosis(
        device_id=case.device_id,
        iccid=case.iccid,
        at=case.now,
        verdict=case.verdict,
        cause=None,
        confidence=0.0,
        candidates=(),
        decided_by=None,
        summary=summary,
        fix=None,
        next_step=next_step,
        separating_test=None,
        checks=results,
        started=_silence_start(case) if case.silent else None,
        facts=facts,
        record=case.record,
    )


def _separating_test(candidates: tuple[Candidate, ...]) -> str | None:
    if len(candidates) < 2:
        return None
    causes = {c.cause for c in candidates}
    if Cause.DAMAGED_SIM in causes:
        return f"Run {SWAP_TEST}"
    if Cause.FIRMWARE_HANG in causes and Cause.BROKER_UNREACHABLE in causes:
        return (
            "Ask the customer to power-cycle the device: a hung device comes back; if it stays "
            "quiet while data flows, check the customer's broker and credentials"
        )
    if {Cause.BATTERY_DEPLETED, Cause.COVERAGE_LOSS} <= causes:
        return (
            "Ask the customer to look at the device: a recharged battery brings it back; if it "
            "has power, it is out of coverage where it is"
        )
    if {Cause.CELL_OUTAGE, Cause.OPERATOR_OUTAGE} <= causes:
        return "Compare with devices on the operator's other cells: quiet too means the operator"
    return None


def _next_step(
    case: Case, finding: CheckResult, separating: str | None, resumes: float | None
) -> str | None:
    cause = finding.candidates[0].cause
    if resumes is not None:
        return f"Wait for the back-off to end at {_when(resumes)}; do not reboot the device"
    if separating is not None:
        return separating
    if (
        cause in {Cause.POWER_LOSS, Cause.FIRMWARE_HANG}
        and case.now - _silence_start(case) < IMPLICIT_DETACH_S
    ):
        return "Wait until the network has had an hour to drop the device, then diagnose again"
    if finding.name == "incident":
        return "Follow the incident; the devices in it need no action of their own"
    return None


def _started(case: Case, finding: CheckResult) -> float | None:
    if finding.name in {"sim_state", "limits"} and finding.evidence:
        return finding.evidence[0].t
    if finding.name == "incident" and case.incident is not None:
        return case.incident.started_at
    start = _silence_start(case)
    if math.isfinite(start):
        return start
    return finding.evidence[0].t if finding.evidence else None


def _resumes(case: Case, cause: Cause) -> float | None:
    if cause is not Cause.CONGESTION:
        return None
    ends = [until for _, until in _backoffs(case)]
    return max(ends) if ends and max(ends) > case.now else None


def _backoffs(case: Case, since: float = -math.inf) -> list[tuple[Seen, float]]:
    """Rejects that came with a back-off timer, and when each timer ends."""
    found: list[tuple[Seen, float]] = [
        (s, s.t + m.backoff_s) for s, m in case.events(AttachRejected, since) if m.backoff_s
    ]
    found += [(s, s.t + m.backoff_s) for s, m in case.events(SessionRejected, since) if m.backoff_s]
    return sorted(found, key=lambda pair: pair[0].t)


def _facts(case: Case) -> dict[str, str | float]:
    """What the customer message may name."""
    facts: dict[str, str | float] = {}
    last = case.last_report
    if last is not None:
        seen, report = last
        facts["last_report"] = seen.t
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


def _platform_facts(case: Case) -> dict[str, str | float]:
    """What the platform and the network said, for the customer message."""
    facts: dict[str, str | float] = {}
    record = case.record
    state, _, change = _state(case)
    if state is not None:
        facts["state"] = state
    if change is not None:
        facts["state_reason"] = change.reason
    since = _silence_start(case)
    rejects = case.events(AttachRejected, since)
    if rejects:
        reject = rejects[-1][1]
        facts["network"] = reject.mcc_mnc
        facts["radio"] = reject.rat
        if reject.imei is not None:
            facts["imei_new"] = reject.imei
    sessions = case.events(SessionRejected, since)
    if sessions:
        facts["apn_used"] = sessions[-1][1].apn
    if record is not None:
        expected = _apn_expected(case, str(facts.get("apn_used", "")))
        if expected is not None:
            facts["apn_expected"] = expected
        facts["radio_allowed"] = ", ".join(record.radio_types)
        locked = _locked_imei(case)
        if locked is not None:
            facts["imei_locked"] = locked
    usage = case.events(UsageReported)
    if usage:
        facts["limit_mb"] = round(usage[-1][1].allowance / 1e6, 1)
    return facts
