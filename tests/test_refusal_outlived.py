"""A refusal whose hold is over, and a device that has not tried since: the refusal no longer
explains its silence (`diagnostics.diagnosis.outlived`; pure cases, exact)."""

from __future__ import annotations

import pytest

from diagnostics.diagnosis import Case, Seen, diagnose
from diagnostics.diagnosis.checks import check_incident, check_registration
from diagnostics.diagnosis.model import IncidentRef, Status
from diagnostics.diagnosis.outlived import ATTEMPT_DUE_S
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    SimRecord,
    StateChanged,
    Telemetry,
)

pytestmark = pytest.mark.unit

T = 1_775_001_600.0
H = 3600.0
ICCID = "8946100000000000013"
IMEI = "354321010000027"
RECORD = SimRecord(
    t=T, iccid=ICCID, imsi="240010000000013", msisdn=None, state="ACTIVATED",
    account="fjall", account_name="Fjäll Reindeer Tags AB", communication_plan="tags",
    rate_plan="tags-5mb", apns=["tags.iot"], networks=["24001"], radio_types=["LTE-M"],
    imei_lock=False, locked_imei=None, data_blocked=False, device_name="Herd tag 12",
    site="Umeå", time_zone="Europe/Stockholm",
)  # fmt: skip


def _report(t: float) -> Telemetry:
    return Telemetry(
        t=t, device_id="tag-12", iccid=ICCID, imei=IMEI, seq=int((t - T) // 600),
        firmware="2.4.1", battery=None, supply_mv=None, bearer="LTE-M", mcc_mnc="24001",
        cell_id=104, rsrp=-89.0, rsrq=-10.0, snr=8.0, apn="tags.iot", ip="10.9.0.12",
        uptime_s=int(t - T),
    )  # fmt: skip


def _reject(t: float, cause: int = 2, backoff: float | None = None) -> AttachRejected:
    return AttachRejected(
        t=t, iccid=ICCID, imei=IMEI, mcc_mnc="24001", cell_id=104, rat="LTE-M",
        emm_cause=cause, backoff_s=backoff,
    )  # fmt: skip


def _move(t: float, old: str, new: str, reason: str) -> StateChanged:
    return StateChanged(t=t, iccid=ICCID, old=old, new=new, actor="ops", reason=reason)


ATTACH = AttachAccepted(t=T + 60, iccid=ICCID, imei=IMEI, mcc_mnc="24001", cell_id=104, rat="LTE-M")
REPORTS = [_report(T + 120 + i * 600.0) for i in range(6)]  # every 10 min for an hour
PURGED = _move(T + 1.1 * H, "ACTIVATED", "PURGED", "bulk purge of retired SIMs")
REFUSED = [_reject(T + 1.1 * H + 60 + i * 720.0) for i in range(10)]  # T3402 rounds, 2 h
BACK = _move(T + 3.5 * H, "PURGED", "ACTIVATED", "re-provisioned after a purge by mistake")


def _case(*network: object, now: float, incident: IncidentRef | None = None) -> Case:
    seen = [Seen(i + 1, m) for i, m in enumerate([ATTACH, *REPORTS, *network])]  # type: ignore[arg-type]
    return Case(
        now=now, device_id="tag-12", iccid=ICCID, detection_status="OFFLINE",
        interval_s=600.0, record=RECORD, incident=incident,
        device=tuple(s for s in seen if isinstance(s.message, Telemetry)),
        network=tuple(s for s in seen if not isinstance(s.message, Telemetry)),
    )  # fmt: skip


SILENCE = {Cause.POWER_LOSS, Cause.COVERAGE_LOSS, Cause.DAMAGED_SIM, Cause.RADIO_HARDWARE}


def test_a_purged_sim_put_right_with_no_attempt_since_is_a_silence_of_its_own():
    case = _case(PURGED, *REFUSED, BACK, now=BACK.t + ATTEMPT_DUE_S + 600)
    registration = check_registration(case)
    assert registration.status is Status.BROKE
    assert not registration.decisive
    assert "no attempt since the refusal's hold ended" in registration.summary
    assert BACK.t in {e.t for e in registration.evidence}
    diagnosis = diagnose(case)
    assert diagnosis.cause in SILENCE
    assert diagnosis.cause is not Cause.SIM_PURGED


def test_a_purged_sim_put_right_lately_is_still_the_cause_the_device_waits_out():
    case = _case(PURGED, *REFUSED, BACK, now=BACK.t + ATTEMPT_DUE_S - 600)
    assert diagnose(case).cause is Cause.SIM_PURGED


def test_a_purge_never_put_right_stands_however_long_the_device_is_quiet():
    case = _case(PURGED, *REFUSED, now=T + 30 * H)
    assert diagnose(case).cause is Cause.SIM_PURGED


def test_a_congestion_whose_back_off_ran_out_long_ago_no_longer_explains_the_silence():
    waits = [_reject(T + 1.1 * H + i * 1200.0, cause=22, backoff=1200.0) for i in range(6)]
    over = waits[-1].t + 1200.0 + ATTEMPT_DUE_S
    assert diagnose(_case(*waits, now=over - 60)).cause is Cause.CONGESTION
    assert diagnose(_case(*waits, now=over + 60)).cause in SILENCE


def test_a_network_on_the_forbidden_list_is_rightly_never_tried_again():
    refused = _reject(T + 1.1 * H, cause=11)
    assert diagnose(_case(refused, now=T + 30 * H)).cause is Cause.ROAMING_NOT_ALLOWED


def test_a_platform_incident_does_not_name_its_cause_for_a_sim_whose_refusal_ended():
    incident = IncidentRef(
        id="inc-000001", dimension="account", value="fjall", started_at=T + 1.5 * H,
        kind="platform", cause=Cause.SIM_PURGED.value, members=36, quiet=36,
    )  # fmt: skip
    for now, cause in ((BACK.t + ATTEMPT_DUE_S + 600, None), (BACK.t + 600, Cause.SIM_PURGED)):
        result = check_incident(_case(PURGED, *REFUSED, BACK, now=now, incident=incident))
        assert (result.candidates[0].cause if result.candidates else None) is cause
