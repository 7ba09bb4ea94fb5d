"""A firmware update the device hung in, against the refusals it had before, the data of its
newest report, and a device already quiet when the update came (pure cases, exact)."""

from __future__ import annotations

import pytest

from diagnostics.diagnosis import Case, Seen, diagnose
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    Detached,
    FirmwareUpdate,
    SessionClosed,
    SessionOpened,
    SessionRejected,
    SimRecord,
    Telemetry,
    UsageReported,
)

pytestmark = pytest.mark.unit

T = 1_775_001_600.0
ICCID = "8935100000000000011"
IMEI = "354321010000019"
APN = "harbour.private"
RECORD = SimRecord(
    t=T,
    iccid=ICCID,
    imsi="272010000000011",
    msisdn=None,
    state="ACTIVATED",
    account="portbay",
    account_name="Port Bay Cranes Ltd",
    communication_plan="crane",
    rate_plan="crane-10mb",
    apns=[APN],
    networks=["27201"],
    radio_types=["LTE-M"],
    imei_lock=False,
    locked_imei=None,
    data_blocked=False,
    device_name="Crane sensor 4",
    site="Cork",
    time_zone="Europe/Dublin",
)


def _case(*messages: object, now: float, verdict: str, interval: float | None = None) -> Case:
    seen = [Seen(i + 1, m) for i, m in enumerate(messages)]  # type: ignore[arg-type]
    return Case(
        now=now,
        device_id="crane-4",
        iccid=ICCID,
        detection_status=verdict,
        interval_s=interval,
        record=RECORD,
        device=tuple(s for s in seen if isinstance(s.message, Telemetry)),
        network=tuple(s for s in seen if not isinstance(s.message, Telemetry)),
    )


def _reject(t: float) -> SessionRejected:
    return SessionRejected(t=t, iccid=ICCID, imei=IMEI, apn=APN, esm_cause=29)


UPDATE = FirmwareUpdate(t=T + 4 * 3600 + 60, iccid=ICCID, version="3.1.0", state="updating")
REJECTS = [_reject(T + i * 1800.0) for i in range(9)]  # every 30 min until T + 4 h


def test_refusals_that_stopped_at_an_update_are_superseded_by_the_hang():
    case = _case(*REJECTS, UPDATE, now=T + 6 * 3600, verdict="UNKNOWN")
    diagnosis = diagnose(case)
    assert diagnosis.cause is Cause.FIRMWARE_HANG
    assert diagnosis.decided_by == "update"


def test_a_device_still_refused_after_its_update_keeps_the_refusal_as_its_cause():
    case = _case(*REJECTS, UPDATE, _reject(T + 5 * 3600), now=T + 8 * 3600, verdict="UNKNOWN")
    diagnosis = diagnose(case)
    assert diagnosis.cause is Cause.PRIVATE_APN_CREDENTIALS
    assert diagnosis.decided_by == "session"


def test_refusals_that_had_stopped_hours_before_the_update_keep_their_cause():
    """Refused every 30 min until 4 h, then nothing; updated at 6 h, within its two-hourly
    schedule: the refusals stopped by themselves (a network put on the forbidden list, a
    SIM held invalid), not in the hang."""
    late = FirmwareUpdate(t=T + 6 * 3600, iccid=ICCID, version="3.1.0", state="updating")
    case = _case(*REJECTS, late, now=T + 12 * 3600, verdict="UNKNOWN", interval=7200.0)
    diagnosis = diagnose(case)
    assert diagnosis.cause is Cause.PRIVATE_APN_CREDENTIALS
    assert diagnosis.decided_by == "session"


def test_hourly_refusals_an_update_came_between_are_superseded_by_the_hang():
    """Refused every hour until 8 h; the update at 9 h 10, before the next try was much
    overdue: the tries stopped in the hang (half again its cadence of an hour)."""
    hourly = [_reject(T + i * 3600.0) for i in range(9)]
    update = FirmwareUpdate(t=T + 9 * 3600 + 600, iccid=ICCID, version="3.1.0", state="updating")
    case = _case(*hourly, update, now=T + 14 * 3600, verdict="UNKNOWN", interval=7200.0)
    assert diagnose(case).cause is Cause.FIRMWARE_HANG


def test_refusals_too_few_to_give_a_schedule_leave_the_update_undecided():
    case = _case(*REJECTS[:3], UPDATE, now=T + 6 * 3600, verdict="UNKNOWN")
    assert diagnose(case).cause is Cause.PRIVATE_APN_CREDENTIALS


def _report(t: float, battery: float = 80.0) -> Telemetry:
    return Telemetry(
        t=t,
        device_id="crane-4",
        iccid=ICCID,
        imei=IMEI,
        seq=int((t - T) // 900),
        firmware="3.0.4",
        battery=battery,
        supply_mv=None,
        bearer="LTE-M",
        mcc_mnc="27201",
        cell_id=7,
        rsrp=-85.0,
        rsrq=-7.0,
        snr=9.0,
        apn=APN,
        ip="10.1.0.4",
        uptime_s=5000,
    )


def test_usage_counted_at_the_newest_report_is_that_reports_data_not_a_broker_fault():
    attach = AttachAccepted(t=T, iccid=ICCID, imei=IMEI, mcc_mnc="27201", cell_id=7, rat="LTE-M")
    session = SessionOpened(t=T, iccid=ICCID, imei=IMEI, session_id=1, apn=APN, ip="10.1.0.4")
    last = T + 900
    usage = UsageReported(t=last, iccid=ICCID, imei=IMEI, bytes=400, cycle_bytes=800, allowance=10)
    case = _case(
        attach,
        session,
        _report(T),
        _report(last),
        usage,
        now=T + 4 * 3600,
        verdict="OFFLINE",
        interval=900.0,
    )
    diagnosis = diagnose(case)
    assert diagnosis.cause is Cause.FIRMWARE_HANG
    assert diagnosis.decided_by == "above_ip"


ATTACH = AttachAccepted(t=T, iccid=ICCID, imei=IMEI, mcc_mnc="27201", cell_id=7, rat="LTE-M")
SESSION = SessionOpened(t=T, iccid=ICCID, imei=IMEI, session_id=1, apn=APN, ip="10.1.0.4")


def _ran_down(update_at: float) -> Case:
    """Reports every 15 min from 14% down to 2%, an implicit detach, then an update."""
    reports = [_report(T + i * 900.0, battery=14.0 - 1.5 * i) for i in range(9)]
    detach = Detached(t=T + 3 * 3600, iccid=ICCID, imei=IMEI, reason="implicit")
    update = FirmwareUpdate(t=update_at, iccid=ICCID, version="3.1.0", state="updating")
    messages = sorted([ATTACH, SESSION, *reports, detach, update], key=lambda m: m.t)
    return _case(*messages, now=T + 6 * 3600, verdict="OFFLINE", interval=900.0)


def test_an_update_that_came_when_the_device_was_quiet_already_did_not_silence_it():
    quiet = diagnose(_ran_down(T + 3.5 * 3600))  # its battery ran out at T + 2 h
    assert quiet.cause is Cause.BATTERY_DEPLETED
    update = next(c for c in quiet.checks if c.name == "update")
    assert (update.candidates, update.decisive) == ((), False)
    # the same update within its schedule after its last report: it hung in it
    hung = diagnose(_ran_down(T + 2 * 3600 + 600))
    assert (hung.cause, hung.decided_by) == (Cause.FIRMWARE_HANG, "update")


def test_data_counted_at_the_update_is_the_closing_count_of_the_data_before_it():
    at = T + 3600 + 600
    update = FirmwareUpdate(t=at, iccid=ICCID, version="3.1.0", state="updating")
    closing = UsageReported(t=at, iccid=ICCID, imei=IMEI, bytes=140, cycle_bytes=900, allowance=10)
    close = SessionClosed(
        t=at, iccid=ICCID, imei=IMEI, session_id=1, apn=APN, bytes=900, reason="detach"
    )
    reset = Detached(t=at, iccid=ICCID, imei=IMEI, reason="device")
    messages = (ATTACH, SESSION, _report(T), _report(T + 3600), update, closing, close, reset)
    diagnosis = diagnose(_case(*messages, now=T + 4 * 3600, verdict="LATE", interval=3600.0))
    assert (diagnosis.cause, diagnosis.decided_by) == (Cause.FIRMWARE_HANG, "update")
