"""A device refused as not allowed on one network, registered on another, then lost by it.

The refusal wrote the first network into the SIM's forbidden list, so the device will not
try it again; lost by the second (an implicit detach), it can register nowhere, and the
wire says nothing more. The service names the plan (roaming not allowed) first, coverage
lost second, and counts the device with the others its plan refused.
"""

import pytest

from diagnostics.diagnosis.forbidden import NEAR_S, forbidden_then_lost
from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from diagnostics.support import Support
from protocol.causes import Cause
from protocol.messages import AttachAccepted, AttachRejected, Clock, Detached, Telemetry
from protocol.wire import Topics, encode

T0 = 1_780_000_000.0
ICCID, IMEI, DEVICE = "8946200050000000011", "356938030000011", "herd-0001"
HOME, ABROAD = "64002", "63902"
TOPICS = Topics("forbidden/simlab")


def accepted(t, network=HOME):
    return AttachAccepted(
        t=t, iccid=ICCID, imei=IMEI, mcc_mnc=network, cell_id=7, rat="LTE-M", t3412_s=3240.0
    )


def refused(t, network=ABROAD, cause=11):
    return AttachRejected(
        t=t, iccid=ICCID, imei=IMEI, mcc_mnc=network, cell_id=9, rat="LTE-M", emm_cause=cause
    )


def lost(t, reason="implicit"):
    return Detached(t=t, iccid=ICCID, imei=IMEI, reason=reason)


def test_a_refusal_shortly_before_the_registration_then_lost_is_the_one():
    reject = refused(T0 + 100)
    assert forbidden_then_lost([accepted(T0), reject, accepted(T0 + 110), lost(T0 + 4000)]) is (
        reject
    )


@pytest.mark.parametrize(
    "events",
    [
        [accepted(T0), refused(T0 + 100), accepted(T0 + 110)],  # not lost (yet)
        [refused(T0 + 100), accepted(T0 + 110), lost(T0 + 4000, "device")],  # switched off
        [refused(T0), accepted(T0 + NEAR_S + 1), lost(T0 + 9000)],  # registered minutes after
        [refused(T0 + 100), accepted(T0 + 110, ABROAD), lost(T0 + 4000)],  # let in after all
        [refused(T0 + 100, cause=13), accepted(T0 + 110), lost(T0 + 4000)],  # an area, not all
        [refused(T0 + 100), accepted(T0 + 110), lost(T0 + 4000), refused(T0 + 5000, HOME, 17)],
        [refused(T0 + 100, HOME), accepted(T0 + 110), lost(T0 + 4000)],  # the same network
    ],
)
def test_other_sequences_are_not(events):
    assert forbidden_then_lost(events) is None


def telemetry(t, seq):
    return Telemetry(
        t=t,
        device_id=DEVICE,
        iccid=ICCID,
        imei=IMEI,
        seq=seq,
        firmware="2.1",
        battery=None,
        supply_mv=None,
        bearer="LTE-M",
        mcc_mnc=HOME,
        cell_id=7,
        rsrp=-95.0,
        rsrq=-10.0,
        snr=5.0,
        apn="iot",
        ip="10.0.0.9",
        uptime_s=seq * 900,
    )


def test_the_service_names_the_plan_first_and_counts_the_device_with_its_refusal(tmp_path):
    stream = [accepted(T0), *(telemetry(T0 + 60 + k * 900, k) for k in range(8))]
    edge = T0 + 60 + 7 * 900  # its last report, at the border
    stream += [refused(edge - 8), accepted(edge - 1)]
    stream += [lost(edge + 3240 + 240)]  # the network's reachable timer ran out
    stream += [Clock(t=T0 + k * 60) for k in range(1, int((edge + 6 * 3600 - T0) / 60))]
    stream.sort(key=lambda m: m.t)
    batch = [
        Received(
            TOPICS.clock() if isinstance(m, Clock) else TOPICS.for_message(m, "herders"),
            encode(m),
            1,
            n,
            0.0,
        )
        for n, m in enumerate(stream)
    ]
    store = SQLiteStore(tmp_path / "f.sqlite")
    service = Service(store=store, topics=TOPICS)
    service.handle(batch)
    assert service.reasons.explanation(ICCID) is Cause.ROAMING_NOT_ALLOWED
    diagnosis = Support(service).diagnose_device(DEVICE)
    assert diagnosis.cause is Cause.ROAMING_NOT_ALLOWED
    registration = next(c for c in diagnosis.checks if c.name == "registration")
    assert [c.cause for c in registration.candidates] == [
        Cause.ROAMING_NOT_ALLOWED,
        Cause.COVERAGE_LOSS,
    ]
    assert registration.evidence[0].text == (
        f"refused with EMM #11 on {ABROAD}: its plan does not allow it, and the device does "
        "not try it again"
    )
    assert "no network it may use in reach" in registration.summary
    store.close()
