"""Sleep schedules that survive loss: the timers the network grants, and when it lets go."""

import pytest

from diagnostics.detection import DetectionStatus, Detector, Reason
from diagnostics.evidence import DetectorFeed
from protocol.messages import (
    AttachAccepted,
    Detached,
    DeviceStatus,
    Telemetry,
    TrackingAreaUpdated,
)
from simulator.world.psm import REACHABLE_MARGIN_S, grant, timer3_ceil, timer3_floor
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import OPERATORS, world

T0 = 1_772_409_600.0
H = 3600.0
ICCID = "8946200050000000009"


def report(t):
    return Telemetry(t=t, device_id="meter-1", iccid=ICCID, imei="356938030000005", seq=1,
                     firmware="1.0", battery=90.0, supply_mv=4000, bearer="NB-IoT",
                     mcc_mnc="63902", cell_id=101, rsrp=-90.0, rsrq=-9.0, snr=9.0,
                     apn="iot", ip="10.0.0.1", uptime_s=1)  # fmt: skip


def fed(*messages):
    detector = Detector()
    feed = DetectorFeed(detector)
    for m in messages:
        feed.apply(m)
    return detector, detector.row("meter-1")


def judge(d, row, now):
    d.sweep(now)
    return d.status(row)


def test_a_lost_sleep_status_is_covered_by_the_psm_timer_the_network_granted():
    attach = AttachAccepted(t=T0 - 5, iccid=ICCID, mcc_mnc="63902", cell_id=101, rat="NB-IoT",
                            t3412_s=25 * H, t3324_s=60.0)  # fmt: skip
    d, row = fed(attach, report(T0))  # the attach came first; its "asleep until" status is lost
    for hours in (2, 12, 24):
        assert judge(d, row, T0 + hours * H) == (DetectionStatus.ASLEEP, Reason.SLEEPING)
    d2, row2 = fed(report(T0))  # without the grant: not OFFLINE before a day's sleep is over
    assert judge(d2, row2, T0 + 24 * H + 60)[0] is not DetectionStatus.OFFLINE
    assert judge(d2, row2, T0 + 26 * H)[0] is DetectionStatus.OFFLINE


def test_the_implicit_detach_after_the_last_report_ends_the_sleep_at_once():
    attach = AttachAccepted(t=T0 - 5, iccid=ICCID, mcc_mnc="63902", cell_id=101, rat="NB-IoT",
                            t3412_s=7 * H, t3324_s=60.0)  # fmt: skip
    asleep = DeviceStatus(t=T0, device_id="meter-1", iccid=ICCID, status="asleep",
                          next_report=T0 + 6 * H)  # fmt: skip
    gone = Detached(t=T0 + 7 * H + REACHABLE_MARGIN_S, iccid=ICCID, reason="implicit")
    d, row = fed(attach, report(T0), asleep)
    assert judge(d, row, gone.t - 60)[0] is not DetectionStatus.OFFLINE
    d, row = fed(attach, report(T0), asleep, gone)
    assert judge(d, row, gone.t + 60) == (DetectionStatus.OFFLINE, Reason.NETWORK_LOST)


def test_the_network_grants_less_than_asked_in_gprs_timer_3_steps():
    assert timer3_ceil(12 * H + 600) == 13 * H
    assert timer3_floor(10.5 * H) == 10 * H
    assert grant(psm=True, sleep=12 * H, network_max=None).t3412 == 12 * H
    stingy = grant(psm=True, sleep=12 * H, network_max=10 * H)
    assert (stingy.t3412, stingy.t3324) == (10 * H, 60.0)
    assert grant(psm=False, sleep=12 * H, network_max=10 * H).psm is False


@pytest.fixture(scope="module")
def sleepers():
    operators = [{**OPERATORS[0], "psm_max_t3412": "4h"}, *OPERATORS[1:]]
    meters = {"name": "meter", "count": 1, "first_iccid": ICCID, "first_imei": "356938030000005",
              "apn": "internet.iot", "lat": -1.40, "lon": 35.00, "report_interval": "6h",
              "report_jitter": "0s", "psm": True, "keepalive": "20m"}  # fmt: skip
    faults = [{"fault": "power_loss", "at": "15h", "devices": ["meter-0001"]}]
    sink = MemorySink()
    result = simulate(world(devices=[meters], faults=faults, operators=operators), sink,
                      until=30 * H)  # fmt: skip
    assert result.error is None
    return [m for m in sink.messages if getattr(m, "iccid", None) == ICCID]


def test_a_device_granted_less_than_it_sleeps_does_periodic_taus_with_the_timers(sleepers):
    (attach,) = [m for m in sleepers if isinstance(m, AttachAccepted)]
    assert (attach.t3412_s, attach.t3324_s) == (4 * H, 60.0)
    reports = [m.t for m in sleepers if isinstance(m, Telemetry)]
    taus = [m for m in sleepers if isinstance(m, TrackingAreaUpdated)]
    assert taus, "a 6 h sleep on a 4 h T3412 needs a TAU in between"
    assert {(m.t3412_s, m.t3324_s) for m in taus} == {(4 * H, 60.0)}
    assert taus[0].t == pytest.approx(reports[0] + 4 * H, abs=1.0)


def test_the_implicit_detach_comes_t3412_and_its_margin_after_the_last_contact(sleepers):
    contacts = [m.t for m in sleepers if isinstance(m, Telemetry | TrackingAreaUpdated)]
    (detach,) = [m for m in sleepers if isinstance(m, Detached)]
    assert detach.reason == "implicit"
    assert detach.t == pytest.approx(max(contacts) + 4 * H + REACHABLE_MARGIN_S, abs=1.0)
