"""True words: what a message says of a device holds against what the service received.

* the moment a device is said to have stopped is its last report the store holds,
  never the moment it was detected nor the time of the evidence that explains it;
* a device that never reported is not said to have stopped;
* battery words only for a device that reported a battery level;
* "the SIM card works" only where the network accepted the SIM in this device lately;
* a swap test already registered is not asked for again.

Cases are read from a real SQLite store as the service reads them (`diagnostics.cases`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from diagnostics.cases import HISTORY_S, Holding, device_case, sim_case
from diagnostics.diagnosis import IncidentRef, diagnose
from diagnostics.diagnosis.messages import customer_message
from diagnostics.diagnosis.swap import SwapOutcome, SwapResult, SwapTest, weigh_swap
from diagnostics.store import SQLiteStore
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    StateChanged,
    Telemetry,
)
from tests.test_customer_messages import CASES
from tests.test_store import T0, record, row

H = 3600.0
DEVICE = "meter-0042"
SIM = "8946200050000000042"
IMEI = "356938035640042"


def report(t: float, *, battery: float | None = 80.0, rsrp: float = -95.0):
    return row(
        Telemetry(
            t=T0 + t,
            device_id=DEVICE,
            iccid=SIM,
            imei=IMEI,
            seq=int(t),
            firmware="2.0.1",
            battery=battery,
            supply_mv=None if battery is not None else 12_000,
            bearer="LTE-M",
            mcc_mnc="24001",
            cell_id=4711,
            rsrp=rsrp,
            rsrq=-11.0,
            snr=6.5,
            apn="iot.acme",
            ip="10.20.0.7",
            uptime_s=3600,
        )
    )


def attached(t: float):
    return row(
        AttachAccepted(t=T0 + t, iccid=SIM, imei=IMEI, mcc_mnc="24001", cell_id=4711, rat="LTE-M")
    )


def detached(t: float):
    return row(Detached(t=T0 + t, iccid=SIM, reason="implicit"))


@pytest.fixture
def store(tmp_path):
    with SQLiteStore(tmp_path / "diagnostics.db") as opened:
        yield opened


def case_at(store, messages, now, *, incident=None, status="OFFLINE"):
    store.write_batch(messages=[record(SIM, -HISTORY_S * 3), *messages], dead=[])
    return device_case(
        store,
        DEVICE,
        now=T0 + now,
        detection_status=status,
        detection_since=T0 + now - H,
        interval_s=900.0,
        incident=incident,
        holding=Holding(SIM, SIM, lambda _imei: None),
    )


def utc(t: float) -> str:
    """A moment as a message in UTC writes it."""
    moment = datetime.fromtimestamp(T0 + t, UTC)
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} (UTC)"


# ---- the stop moment ----------------------------------------------------------------------------


def test_a_lost_last_report_and_a_late_detection_leave_the_stop_at_the_last_report_received(
    store,
):
    # reports every 15 minutes until 01:00; the next report is lost on the way; the SIM is
    # deactivated at 01:40; the service looks six hours later, in an incident opened at 05:00
    reports = [report(n * 900.0) for n in range(5)]
    change = row(
        StateChanged(
            t=T0 + 6000, iccid=SIM, old="ACTIVATED", new="DEACTIVATED", actor="billing", reason="x"
        )
    )
    diagnosis = diagnose(case_at(store, [*reports, change], 6 * H))
    assert diagnosis.cause is Cause.SIM_DEACTIVATED
    assert diagnosis.facts["last_report"] == T0 + H
    body = customer_message(diagnosis).body
    assert f"It stopped reporting on {utc(H)}." in body
    assert utc(6000) not in body


def test_in_an_incident_the_stop_is_the_devices_last_report_not_the_incidents_detection(store):
    detected = 5 * H
    incident = IncidentRef("inc-000001", "cell", "4711", T0 + detected, 4, 4)
    diagnosis = diagnose(case_at(store, [report(0.0), report(H)], 6 * H, incident=incident))
    assert diagnosis.cause is Cause.CELL_OUTAGE
    assert diagnosis.started == T0 + H
    body = customer_message(diagnosis).body
    assert f"It stopped reporting on {utc(H)}." in body
    assert utc(detected) not in body
    assert f"the first detected at {_staff(detected)}" in diagnosis.summary


def _staff(t: float) -> str:
    return datetime.fromtimestamp(T0 + t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def test_a_last_report_older_than_the_evidence_window_is_still_the_stop(store):
    old = -HISTORY_S - 6 * H
    diagnosis = diagnose(case_at(store, [report(old)], 0.0))
    assert diagnosis.facts["last_report"] == T0 + old
    assert f"It stopped reporting on {utc(old)}." in customer_message(diagnosis).body


def test_a_device_that_never_reported_is_not_said_to_have_stopped(store):
    reject = AttachRejected(
        t=T0 + H, iccid=SIM, imei=IMEI, mcc_mnc="24001", cell_id=4711, rat="LTE-M", emm_cause=2
    )
    store.write_batch(messages=[record(SIM, -H), row(reject)], dead=[])
    case = sim_case(store, SIM, now=T0 + 3 * H)
    assert case is not None
    diagnosis = diagnose(case)
    assert diagnosis.cause is Cause.SIM_NOT_PROVISIONED
    assert "last_report" not in diagnosis.facts
    for language in ("en", "sv"):
        body = customer_message(diagnosis, language).body
        assert "stopped" not in body
        assert "slutade" not in body
    assert "We have not received any report from it yet." in customer_message(diagnosis).body


# ---- advice only where the evidence points ------------------------------------------------------


def test_a_device_without_battery_telemetry_is_never_told_about_its_battery(store):
    # a mains-powered meter whose signal fades, then silence and the network's implicit detach
    fading = [report(n * 900.0, battery=None, rsrp=-100.0 - 6 * n) for n in range(4)]
    case = case_at(store, [attached(-H), *fading, detached(2 * H)], 3 * H)
    diagnosis = diagnose(case)
    assert diagnosis.cause is Cause.COVERAGE_LOSS
    assert Cause.BATTERY_DEPLETED not in {c.cause for c in diagnosis.candidates}
    assert "battery_reported" not in diagnosis.facts
    for language in ("en", "sv"):
        body = customer_message(diagnosis, language).body.lower()
        assert "batter" not in body
    # and a battery diagnosis worded without a reported level does not send anyone to charge it
    flat = dataclasses.replace(
        CASES[str(Cause.BATTERY_DEPLETED)],
        facts={k: v for k, v in CASES["battery_depleted"].facts.items() if "battery" not in k},
    )
    for language in ("en", "sv"):
        message = customer_message(flat, language)
        assert "batter" not in message.body.lower()


def test_the_sim_card_is_said_to_work_only_where_the_network_accepted_it_lately(store):
    # battery running down, silence, the network's detach: a battery diagnosis
    falling = [report(n * 900.0, battery=9.0 - 2 * n) for n in range(4)]
    never = diagnose(case_at(store, [*falling, detached(2 * H)], 3 * H))
    assert never.cause is Cause.BATTERY_DEPLETED
    assert "sim_worked" not in never.facts
    assert "works normally" not in customer_message(never).body
    assert "fungerar normalt" not in customer_message(never, "sv").body
    # the same, with the network's accepted attach of this SIM an hour before: now it is shown
    store.write_batch(messages=[attached(-H)], dead=[])
    seen = diagnose(case_at(store, [], 3 * H))
    assert seen.facts["sim_worked"] == T0 - H
    assert "We checked the SIM card: it works normally." in customer_message(seen).body


# ---- a test already done -----------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [SwapOutcome.PENDING, SwapOutcome.IMPOSSIBLE])
def test_a_registered_swap_test_is_not_asked_for_again(outcome):
    asking = CASES["unsure-swap"]
    assert "swapping SIM cards" in customer_message(asking).body
    test = SwapTest("t1", asking.at - H, asking.at - H, "collar-0007", asking.iccid, "collar-0009")
    asking = dataclasses.replace(asking, next_step=asking.separating_test)
    weighed = weigh_swap(asking, SwapResult(test, outcome, "registered", "look again later"))
    assert weighed.next_step == "look again later"
    for language in ("en", "sv"):
        body = customer_message(weighed, language).body.lower()
        assert "swap" not in body
        assert "byta sim-kort" not in body


def test_the_store_answers_the_last_report_by_the_moment_asked(store):
    store.write_batch(messages=[report(0.0), report(H), attached(2 * H)], dead=[])
    assert store.last_report(DEVICE, until=T0 + 0.5 * H) == T0
    assert store.last_report(DEVICE) == T0 + H
    assert store.last_report("no-such-device") is None
