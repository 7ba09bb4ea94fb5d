"""Exact event sequences of small worlds, as SimPy's own tests assert (event, env.now) tuples.

Each test runs a seeded world and asserts the exact ordered list of one device's and one
SIM's messages (kind and key fields), with clock messages and other devices left out.
Times that are incidental to the seed (the first attach, the randomised back-off draws) are
read from the run; what the model promises about them is asserted as exact relations: the
Will comes 1.5 keepalives after the connection was lost, retries follow the TS.34 back-off
and the network's timers, the implicit detach comes IMPLICIT_DETACH_S after the last contact.
Message times are Unix seconds rounded to the millisecond, hence the tolerance MS.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.identifiers import iccid_range, imei_range
from protocol.nas import EmmCause, EsmCause
from simulator.world.core import IMPLICIT_DETACH_S
from simulator.world.device import HOUR, MQTT_OVERHEAD_BYTES, Device
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec import FaultId, parse_duration
from tests.world_fixtures import CUSTOMER, FIRST_ICCID, FIRST_IMEI, START, collars, world

REPO = Path(__file__).resolve().parents[1]
START_TS = START.timestamp()
MS = 1.5e-3
"""Two message times, each rounded to the millisecond, differ from the true gap by < 1 ms."""
ICCIDS = [str(i) for i in iccid_range(FIRST_ICCID, 20)]
IMEIS = [i.value for i in imei_range(FIRST_IMEI, 20)]
SIM_A, SIM_B = ICCIDS[0], ICCIDS[1]
IMEI_A, IMEI_B = IMEIS[0], IMEIS[1]
A, B = "collar-0001", "collar-0002"
KENYA, FRANCE = "63902", "20801"
APN = "iot.savanna"
KEEPALIVE = parse_duration(collars()["keepalive"])
WILL_DELAY = 1.5 * KEEPALIVE
INTERVAL = parse_duration(collars()["report_interval"])
JITTER = parse_duration(collars()["report_jitter"])

KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "attach": ("mcc_mnc", "cell_id", "imei"),
    "attach_reject": ("mcc_mnc", "emm_cause", "imei"),
    "detach": ("reason", "imei"),
    "session_open": ("apn",),
    "session_reject": ("apn", "esm_cause"),
    "session_close": ("reason",),
    "state_change": ("old", "new", "actor", "reason"),
    "record": ("state",),
    "imei_change": ("imei", "old_imei"),
    "firmware_update": ("version", "state"),
    "usage": (),
    "data_blocked": ("blocked",),
    "audit": ("field",),
    "status": ("status", "will"),
    "telemetry": ("iccid", "mcc_mnc", "cell_id"),
}


# ---- helpers --------------------------------------------------------------------------------


def run(spec, until: float):
    sink = MemorySink()
    result = simulate(spec, sink, until=until)
    assert result.error is None, result.error
    return sink.messages, result


def rel(message) -> float:
    """A message's time in seconds since the world's start."""
    return round(message.t - START_TS, 3)


def key(message) -> tuple:
    return (message.kind, *(getattr(message, f) for f in KEY_FIELDS[message.kind]))


def trace(messages, *, device=None, sim=None, since=0.0, skip=("usage",)):
    """(time, key) of one device's own messages and one SIM's network events, in order.

    Device messages (telemetry, status) are chosen by device id, network events and records
    by ICCID. Clock messages always go; `skip` leaves out further kinds (interim usage
    records by default, which a charging system writes hourly whatever else happens).
    """
    out = []
    for m in messages:
        if m.kind == "clock" or m.kind in skip or rel(m) < since:
            continue
        owner = getattr(m, "device_id", None)
        if (owner is not None and owner == device) or (owner is None and m.iccid == sim):
            out.append((rel(m), key(m)))
    return out


def kinds(events) -> list[tuple]:
    return [k for _, k in events]


def times(events, kind: str) -> list[float]:
    return [t for t, k in events if k[0] == kind]


def gaps(ts: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(ts)]


def assert_ts34_wait(gap: float, failures: int, floor: float = 0.0) -> None:
    """A TS.34 retry: randomised exponential back-off, never before the network's timer.

    After its `failures`-th failure in a row the device waits
    max(floor, min(60 s · 2^(failures-1), 1 h) · u), u uniform in [0.5, 1.5].
    """
    base = min(60.0 * 2.0 ** (failures - 1), HOUR)
    assert gap >= floor - MS, f"retry {gap:.3f}s after the reject, before its timer {floor:.3f}s"
    if gap > floor + MS:
        assert 0.5 * base - MS <= gap <= 1.5 * base + MS, (failures, gap, base)


def assert_reports_regular(ts: list[float]) -> None:
    for gap in gaps(ts):
        assert INTERVAL - JITTER - MS <= gap <= INTERVAL + JITTER + MS, gap


def customer_without_imei_lock() -> dict:
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["imei_lock"] = False
    return customer


def customer_with_test_sims(account: str) -> dict:
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["account"] = account
    customer["sim_ranges"][0]["state"] = "TEST_READY"
    return customer


@pytest.fixture
def resets(monkeypatch):
    """Every modem reset (Device.reboot) as (device id, time), observed without changing it."""
    seen: list[tuple[str, float]] = []
    original = Device.reboot

    def reboot(self, now):
        seen.append((self.id, now))
        original(self, now)

    monkeypatch.setattr(Device, "reboot", reboot)
    return seen


# ---- keys as the tests spell them -----------------------------------------------------------


def attach(imei=IMEI_A, cell=101, mcc_mnc=KENYA):
    return ("attach", mcc_mnc, cell, imei)


def reject(cause, imei=IMEI_A, mcc_mnc=KENYA):
    return ("attach_reject", mcc_mnc, cause, imei)


def telemetry(sim=SIM_A, cell=101, mcc_mnc=KENYA):
    return ("telemetry", sim, mcc_mnc, cell)


OPEN = ("session_open", APN)
ONLINE = ("status", "online", False)
WILL = ("status", "offline", True)


# ---- 1. a TEST_READY SIM uses its test quota and moves on --------------------------------------


def test_test_quota_used_moves_the_sim_to_inventory_and_the_device_is_refused():
    report_bytes = 400
    quota = 2_000  # savanna-trial: test_quota 2 KB, after_test INVENTORY
    reports = math.ceil((quota - MQTT_OVERHEAD_BYTES) / (report_bytes + MQTT_OVERHEAD_BYTES))
    assert reports == 4  # 80 bytes to connect, then 480 a report: 80 + 4 · 480 = 2000
    spec = world(
        devices=[collars(1, report_bytes=report_bytes)],
        customer=customer_with_test_sims("savanna-trial"),
    )
    messages, result = run(spec, until=6 * HOUR)
    events = trace(messages, device=A, sim=SIM_A)
    head = [
        ("record", "TEST_READY"),
        attach(),
        OPEN,
        ONLINE,
        *[telemetry()] * reports,
        ("state_change", "TEST_READY", "INVENTORY", "system", "test quota of 2 KB used"),
        ("session_close", "network"),
        ("detach", "network", IMEI_A),
        ("record", "INVENTORY"),
        reject(EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED),
        WILL,
    ]
    retries = len(events) - len(head)
    assert kinds(events) == head + [reject(EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED)] * retries
    assert retries >= 3

    (t_attach,) = times(events, "attach")
    sent = times(events, "telemetry")
    assert times(events, "session_open") == times(events, "status")[:1] == [t_attach]
    assert sent[0] == t_attach
    assert_reports_regular(sent)
    t_quota = sent[-1]  # the report that used the last byte of the quota
    at_quota = [k for t, k in events if t == t_quota]
    last_report = 4 + reports - 1
    assert at_quota == head[last_report : last_report + 6], "report to first reject: one instant"
    rejects = times(events, "attach_reject")
    (t_will,) = [t for t, k in events if k == WILL]
    assert rejects[0] == t_quota, "detached by the network, the device tries again at once"
    assert t_will - t_quota == pytest.approx(WILL_DELAY, abs=MS)
    for gap in gaps(rejects):  # #8 is permanent: a TS.34 device resets its modem after ~1 h
        assert 0.9 * HOUR - MS <= gap <= 1.1 * HOUR + MS

    (closed,) = [m for m in messages if m.kind == "session_close"]
    (usage,) = [m for m in messages if m.kind == "usage"]
    assert closed.bytes == usage.bytes == quota
    assert rel(usage) == t_quota
    assert [(r.fault, r.injected, r.start, r.end) for r in result.truth] == [
        (FaultId.TEST_QUOTA_USED, False, pytest.approx(t_quota, abs=MS), None)
    ]


def test_test_quota_used_activates_the_sim_and_the_device_keeps_reporting():
    report_bytes = 2_920
    quota = 30_000  # savanna: test_quota 30 KB, after_test ACTIVATED
    reports = math.ceil((quota - MQTT_OVERHEAD_BYTES) / (report_bytes + MQTT_OVERHEAD_BYTES))
    assert reports == 10  # 80 + 9 · 3000 = 27 080 < 30 000 ≤ 80 + 10 · 3000
    spec = world(
        devices=[collars(1, report_bytes=report_bytes)], customer=customer_with_test_sims("savanna")
    )
    messages, result = run(spec, until=5 * HOUR)
    events = trace(messages, device=A, sim=SIM_A)
    head = [
        ("record", "TEST_READY"),
        attach(),
        OPEN,
        ONLINE,
        *[telemetry()] * reports,
        ("state_change", "TEST_READY", "ACTIVATED", "system", "test quota of 30 KB used"),
        ("record", "ACTIVATED"),
    ]
    more = len(events) - len(head)
    assert kinds(events) == head + [telemetry()] * more
    assert more >= 5

    sent = times(events, "telemetry")
    assert_reports_regular(sent)  # no interruption around the state change
    t_quota = sent[reports - 1]
    assert times(events, "state_change") == times(events, "record")[1:] == [t_quota]
    reported = [m for m in messages if m.kind == "telemetry"]
    assert [m.seq for m in reported] == list(range(1, len(reported) + 1))
    assert len({m.ip for m in reported}) == 1, "one data session throughout"
    assert result.truth == []


# ---- 2. a collar crossing into a country whose network is not in its plan ----------------------

TO_FRANCE = {"lat": 47.0, "lon": -2.0}  # cell 301, Orange FR (20801): not in plan "collar"


def test_collar_carried_into_france_gets_11_then_silence(resets):
    """The collar is in Kenya until 2 h, in France from then on (it is carried across)."""
    waypoints = [{"at": "2h", "lat": -1.40, "lon": 35.00}, {"at": "2h", **TO_FRANCE}]
    spec = world(devices=[collars(1, mobility={"waypoints": waypoints})])
    messages, result = run(spec, until=7 * HOUR)
    # The device's side; how the Kenyan network ends its context is the next test's subject.
    radio = trace(messages, device=A, sim=SIM_A, skip=("usage", "session_close", "detach"))
    kenya = times(radio, "telemetry")
    # #11 writes 20801 into the SIM's forbidden list (EF_FPLMN): it is never tried again
    assert kinds(radio) == [
        ("record", "ACTIVATED"),
        attach(),
        OPEN,
        ONLINE,
        *[telemetry()] * len(kenya),
        reject(EmmCause.PLMN_NOT_ALLOWED, mcc_mnc=FRANCE),
        WILL,
    ]
    assert len(kenya) >= 5

    assert kenya[-1] < 2 * HOUR
    assert_reports_regular(kenya)
    (t_lost,) = times(radio, "attach_reject")  # the next report found Kenya gone
    assert INTERVAL - JITTER - MS <= t_lost - kenya[-1] <= INTERVAL + JITTER + MS
    (t_will,) = times(radio, "status")[1:]
    assert t_will - t_lost == pytest.approx(WILL_DELAY, abs=MS)
    # the list lives on the SIM, so a modem reset would not clear it: TS.34 firmware makes none
    assert [t for d, t in resets if d == A] == []

    (record,) = result.truth
    assert (record.device_id, record.iccid, record.fault, record.cause, record.injected) == (
        A,
        SIM_A,
        FaultId.ROAMING_NOT_ALLOWED,
        FaultId.ROAMING_NOT_ALLOWED.cause,
        False,
    )
    assert 5 - MS <= record.start - t_lost <= 15 + MS  # the first scan: only 20801, forbidden
    assert record.end is None


def test_the_kenyan_network_detaches_the_collar_that_left_implicitly():
    waypoints = [{"at": "2h", "lat": -1.40, "lon": 35.00}, {"at": "2h", **TO_FRANCE}]
    spec = world(devices=[collars(1, mobility={"waypoints": waypoints})])
    messages, _ = run(spec, until=7 * HOUR)
    events = trace(messages, device=A, sim=SIM_A)
    t_lost = times(events, "attach_reject")[0]
    context = [(t, k) for t, k in events if k[0] in {"session_close", "detach"}]
    assert kinds(context) == [("session_close", "detach"), ("detach", "implicit", IMEI_A)]
    assert context[1][0] - t_lost == pytest.approx(IMPLICIT_DETACH_S, abs=MS)


SLOW_TRIP = [{"at": "2h", "lat": -1.40, "lon": 35.00}, {"at": "8h", **TO_FRANCE}]
"""From Kenya to France over six hours: hours out of coverage, then the French cell."""


def test_collar_walking_out_of_kenya_into_france(resets):
    spec = world(devices=[collars(1, mobility={"waypoints": SLOW_TRIP})])
    messages, _ = run(spec, until=9 * HOUR)
    events = trace(messages, device=A, sim=SIM_A)
    kenya = times(events, "telemetry")
    assert kinds(events) == [
        ("record", "ACTIVATED"),
        attach(),
        OPEN,
        ONLINE,
        *[telemetry()] * len(kenya),
        WILL,
        ("session_close", "detach"),
        ("detach", "implicit", IMEI_A),
        reject(EmmCause.PLMN_NOT_ALLOWED, mcc_mnc=FRANCE),
    ]
    (t_will,) = times(events, "status")[1:]
    t_lost = t_will - WILL_DELAY  # the report after the last one found no cell
    assert INTERVAL - JITTER - MS <= t_lost - kenya[-1] <= INTERVAL + JITTER + MS
    (t_detach,) = times(events, "detach")
    assert t_detach - t_lost == pytest.approx(IMPLICIT_DETACH_S, abs=MS)
    (first,) = times(events, "attach_reject")
    assert first > 8 * HOUR - 120, "only where the French cell is heard"
    assert [t for d, t in resets if d == A] == [], "the SIM's list outlives any modem reset"


def test_ground_truth_of_the_walk_into_france_names_roaming_not_allowed():
    spec = world(devices=[collars(1, mobility={"waypoints": SLOW_TRIP})])
    messages, result = run(spec, until=9 * HOUR)
    first = times(trace(messages, device=A, sim=SIM_A), "attach_reject")[0]
    roaming = [r for r in result.truth if r.fault is FaultId.ROAMING_NOT_ALLOWED]
    assert [(r.device_id, r.injected) for r in roaming] == [(A, False)]
    assert roaming[0].start >= first


# ---- 3. a wrong APN from the start: attached, never a session ----------------------------------


def test_wrong_apn_from_the_start_is_rejected_with_27_and_backs_off():
    spec = world(devices=[collars(1, apn="iot.savana")])
    messages, _ = run(spec, until=12 * HOUR)
    events = trace(messages, device=A, sim=SIM_A)
    rejected = ("session_reject", "iot.savana", EsmCause.MISSING_OR_UNKNOWN_APN)
    n = len(events) - 2
    assert kinds(events) == [("record", "ACTIVATED"), attach(), *[rejected] * n]
    assert n >= 9

    (t_attach,) = times(events, "attach")
    rejects = [m for m in messages if m.kind == "session_reject"]
    assert rel(rejects[0]) == t_attach
    for m in rejects:
        assert 600 <= m.backoff_s <= 1200, "T3396 sent with #27"
    for k, (m, later) in enumerate(itertools.pairwise(rejects), start=1):
        assert_ts34_wait(rel(later) - rel(m), k, floor=m.backoff_s)
    # From the 7th failure on the back-off is 1 h · (0.5-1.5): longer than any T3396.
    assert all(gap >= 0.5 * HOUR - MS for gap in gaps([rel(m) for m in rejects])[6:])


# ---- 4. SIM swaps: a fault that follows the SIM, one that stays with the device ---------------

SWAP = {"at": "4h", "device": A, "into": B}
T_SWAP = 4 * HOUR


def test_swap_moves_a_deactivated_sim_and_its_failure_to_the_other_device():
    spec = world(
        devices=[collars(2)],
        customer=customer_without_imei_lock(),
        faults=[{"fault": "sim_deactivated", "at": "2h", "devices": [A]}],
        swaps=[SWAP],
    )
    messages, _ = run(spec, until=7 * HOUR)
    sim_b = trace(messages, sim=SIM_B, since=T_SWAP)  # the good SIM, now in A
    assert kinds(sim_b) == [
        ("session_close", "detach"),
        ("detach", "device", IMEI_B),
        ("imei_change", IMEI_A, IMEI_B),
        ("record", "ACTIVATED"),
        attach(IMEI_A),
        OPEN,
    ]
    assert {t for t, _ in sim_b} == {T_SWAP}
    sim_a = trace(messages, sim=SIM_A, since=T_SWAP)  # the deactivated SIM, now in B
    bad = reject(EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED, IMEI_B)
    assert kinds(sim_a) == [bad] * len(sim_a)
    assert len(sim_a) >= 2
    assert sim_a[0][0] == T_SWAP
    for gap in gaps(times(sim_a, "attach_reject")):
        assert 0.9 * HOUR - MS <= gap <= 1.1 * HOUR + MS
    device_a = trace(messages, device=A, since=T_SWAP)
    assert kinds(device_a) == [ONLINE, *[telemetry(SIM_B)] * (len(device_a) - 1)]
    assert device_a[0][0] == device_a[1][0] == T_SWAP
    assert_reports_regular(times(device_a, "telemetry"))
    device_b = trace(messages, device=B, since=T_SWAP)
    assert kinds(device_b) == [WILL]
    assert device_b[0][0] == T_SWAP + WILL_DELAY
    assert not [m for m in messages if m.kind == "imei_change" and m.iccid == SIM_A], (
        "a SIM refused at attach is not seen with the new IMEI on the platform"
    )


def test_sim_deactivated_is_refused_once_at_the_fault_start():
    spec = world(
        devices=[collars(2)],
        customer=customer_without_imei_lock(),
        faults=[{"fault": "sim_deactivated", "at": "2h", "devices": [A]}],
    )
    messages, _ = run(spec, until=3 * HOUR)
    at_start = [(t, k) for t, k in trace(messages, sim=SIM_A) if t == 2 * HOUR]
    assert kinds(at_start) == [
        ("state_change", "ACTIVATED", "DEACTIVATED", "billing", "invoice overdue"),
        ("session_close", "network"),
        ("detach", "network", IMEI_A),
        ("record", "DEACTIVATED"),
        reject(EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED),
    ]


def test_swap_moves_a_damaged_sim_and_its_silence_to_the_other_device():
    spec = world(
        devices=[collars(2)],
        customer=customer_without_imei_lock(),
        faults=[{"fault": "damaged_sim", "at": "2h", "devices": [A]}],
        swaps=[SWAP],
    )
    messages, _ = run(spec, until=7 * HOUR)
    t_fault = 2 * HOUR
    assert trace(messages, sim=SIM_A, since=t_fault) == [  # unreadable: never heard again
        (t_fault + IMPLICIT_DETACH_S, ("session_close", "detach")),
        (t_fault + IMPLICIT_DETACH_S, ("detach", "implicit", IMEI_A)),
    ]
    assert trace(messages, device=A, since=t_fault)[:2] == [
        (t_fault + WILL_DELAY, WILL),
        (T_SWAP, ONLINE),
    ]
    device_a = trace(messages, device=A, since=T_SWAP)
    assert kinds(device_a) == [ONLINE, *[telemetry(SIM_B)] * (len(device_a) - 1)]
    assert len(device_a) >= 10
    assert trace(messages, sim=SIM_B, since=T_SWAP) == [
        (T_SWAP, ("session_close", "detach")),
        (T_SWAP, ("detach", "device", IMEI_B)),
        (T_SWAP, ("imei_change", IMEI_A, IMEI_B)),
        (T_SWAP, ("record", "ACTIVATED")),
        (T_SWAP, attach(IMEI_A)),
        (T_SWAP, OPEN),
    ]
    assert kinds(trace(messages, device=B, since=T_SWAP)) == [WILL]


def test_swap_leaves_a_wrong_apn_with_the_device():
    spec = world(
        devices=[collars(2)],
        customer=customer_without_imei_lock(),
        faults=[{"fault": "wrong_apn", "at": "2h", "devices": [A], "value": "iot.savana"}],
        swaps=[SWAP],
    )
    messages, result = run(spec, until=7 * HOUR)
    t_fault = 2 * HOUR
    wrong = ("session_reject", "iot.savana", EsmCause.MISSING_OR_UNKNOWN_APN)
    before = trace(messages, sim=SIM_A, since=t_fault)[:5]
    assert before == [  # the firmware update resets the modem: a clean detach, then #27
        (t_fault, ("firmware_update", "1.0.0+ota", "updating")),  # the server says it updates
        (t_fault, ("session_close", "detach")),
        (t_fault, ("detach", "device", IMEI_A)),
        (t_fault, attach(IMEI_A)),
        (t_fault, wrong),
    ]
    sim_a = trace(messages, sim=SIM_A, since=T_SWAP)  # the good SIM, now in B: works
    assert sim_a == [
        (T_SWAP, ("detach", "device", IMEI_A)),  # A was registered, without a session
        (T_SWAP, ("imei_change", IMEI_B, IMEI_A)),
        (T_SWAP, ("record", "ACTIVATED")),
        (T_SWAP, attach(IMEI_B)),
        (T_SWAP, OPEN),
    ]
    sim_b = trace(messages, sim=SIM_B, since=T_SWAP)  # B's SIM, now in A: #27 again
    n = len(sim_b) - 5
    assert kinds(sim_b) == [
        ("session_close", "detach"),
        ("detach", "device", IMEI_B),
        ("imei_change", IMEI_A, IMEI_B),
        ("record", "ACTIVATED"),
        attach(IMEI_A),
        *[wrong] * n,
    ]
    assert n >= 5
    rejects = [m for m in messages if m.kind == "session_reject" and m.iccid == SIM_B]
    assert rel(rejects[0]) == T_SWAP
    for k, (m, later) in enumerate(itertools.pairwise(rejects), start=1):
        assert_ts34_wait(rel(later) - rel(m), k, floor=m.backoff_s)  # counted from the reset
    assert trace(messages, device=A, since=T_SWAP) == []
    device_b = trace(messages, device=B, since=T_SWAP)
    assert kinds(device_b) == [WILL, ONLINE, *[telemetry(SIM_A)] * (len(device_b) - 2)]
    assert device_b[0][0] == device_b[1][0] == device_b[2][0] == T_SWAP  # broker takeover
    assert_reports_regular(times(device_b, "telemetry"))
    assert [(r.device_id, r.fault, r.end) for r in result.truth] == [(A, FaultId.WRONG_APN, None)]


def test_swap_with_imei_lock_is_refused_with_6_in_both_devices():
    spec = world(devices=[collars(2)], swaps=[SWAP])  # the fixture customer locks IMEIs
    messages, _ = run(spec, until=7 * HOUR)
    for sim, old, new in ((SIM_A, IMEI_A, IMEI_B), (SIM_B, IMEI_B, IMEI_A)):
        events = trace(messages, sim=sim, since=T_SWAP)
        head = [("session_close", "detach"), ("detach", "device", old)]
        locked = reject(EmmCause.ILLEGAL_ME, new)
        assert kinds(events) == head + [locked] * (len(events) - 2)
        assert len(events) >= 4
        assert times(events, "attach_reject")[0] == T_SWAP
        for gap in gaps(times(events, "attach_reject")):  # #6 is permanent: reset after ~1 h
            assert 0.9 * HOUR - MS <= gap <= 1.1 * HOUR + MS
    for device in (A, B):
        assert trace(messages, device=device, since=T_SWAP) == [(T_SWAP + WILL_DELAY, WILL)]
    assert not [m for m in messages if m.kind == "imei_change"]
    assert not [m for m in messages if m.kind == "session_open" and rel(m) >= T_SWAP]


def test_the_will_after_a_swap_names_the_sim_of_the_lost_connection():
    spec = world(devices=[collars(2)], swaps=[SWAP])
    messages, _ = run(spec, until=6 * HOUR)
    wills = [(m.device_id, m.iccid) for m in messages if m.kind == "status" and m.will]
    assert wills == [(A, SIM_A), (B, SIM_B)]


@pytest.mark.parametrize("fault", ["sim_deactivated", "damaged_sim"])
def test_a_sim_fault_ends_on_its_sim_after_a_swap(fault):
    spec = world(
        devices=[collars(2)],
        customer=customer_without_imei_lock(),
        faults=[{"fault": fault, "at": "2h", "duration": "4h", "devices": [A]}],
        swaps=[SWAP],
    )
    messages, _ = run(spec, until=9 * HOUR)
    back = [m for m in messages if m.kind == "telemetry" and m.device_id == B and rel(m) > 6 * HOUR]
    assert back, "device B, holding the SIM the fault was on, reports once the fault is over"
    assert {m.iccid for m in back} == {SIM_A}


# ---- 5. a congested cell: #22 with T3346 -------------------------------------------------------

ROGUE = "rogue-0001"
SIM_R = ICCIDS[10]


def congested_world(retry: str, fault: dict | None = None):
    """Two devices that hear only cell 101 (lon 34.80), congested from 2 h for 3 h (or `fault`)."""
    return world(
        devices=[
            collars(1, lon=34.80),
            collars(
                1, name="rogue", lon=34.80, first_iccid=SIM_R, first_imei=IMEIS[10], retry=retry
            ),
        ],
        faults=[fault or {"fault": "congestion", "at": "2h", "duration": "3h", "cell": 101}],
    )


def test_congested_cell_rejects_with_22_and_a_ts34_device_obeys_t3346():
    messages, result = run(congested_world("tight_loop"), until=8 * HOUR)
    t_fault, t_end = 2 * HOUR, 5 * HOUR
    events = trace(messages, sim=SIM_A, since=t_fault)
    congested = reject(EmmCause.CONGESTION)
    n = len(events) - 4
    assert kinds(events) == [
        ("session_close", "network"),
        ("detach", "network", IMEI_A),
        *[congested] * n,
        attach(),
        OPEN,
    ]
    assert n >= 5
    assert events[0][0] == events[1][0] == events[2][0] == t_fault
    rejects = [m for m in messages if m.kind == "attach_reject" and m.iccid == SIM_A]
    assert all(900 <= m.backoff_s <= 1800 for m in rejects), "T3346 sent with #22"
    for k, (m, later) in enumerate(itertools.pairwise(rejects), start=1):
        assert_ts34_wait(rel(later) - rel(m), k, floor=m.backoff_s)
    (t_attach,) = times(events, "attach")
    assert rel(rejects[-1]) < t_end <= t_attach
    assert_ts34_wait(t_attach - rel(rejects[-1]), len(rejects), floor=rejects[-1].backoff_s)

    device = trace(messages, device=A, since=t_fault)
    assert kinds(device) == [WILL, ONLINE, *[telemetry()] * (len(device) - 2)]
    assert device[0][0] == t_fault + WILL_DELAY
    assert device[1][0] == device[2][0] == t_attach
    reports = [rel(m) for m in messages if m.kind == "telemetry" and m.device_id == ROGUE]
    back = min(t for t in reports if t > t_end)
    assert [(r.device_id, r.fault, r.start, r.end) for r in result.truth] == [
        (A, FaultId.CONGESTION, t_fault, t_end),
        # its firmware does not wait out T3346: no victim of the congestion, a storm of its own,
        # over when it reports again
        (ROGUE, FaultId.RECONNECT_STORM, t_fault, pytest.approx(back, abs=1e-3)),
    ]


def test_a_failed_core_is_the_cause_for_a_device_that_waits_and_a_storm_for_one_that_does_not():
    outage = {"fault": "operator_outage", "at": "2h", "duration": "3h", "operator": KENYA}
    messages, result = run(congested_world("tight_loop", outage), until=8 * HOUR)
    t_fault, t_end = 2 * HOUR, 5 * HOUR
    rejects = [m for m in messages if m.kind == "attach_reject" and m.iccid == SIM_R]
    assert rejects
    assert {m.emm_cause for m in rejects} == {EmmCause.NETWORK_FAILURE}
    assert all(m.backoff_s is None for m in rejects)
    # #17 owes T3411, then T3402 after the fifth attempt; a tight loop waits neither: a storm
    # of its own from its first retry (awake, that is the drop itself) to the core's return
    assert [(r.device_id, r.fault, r.start, r.end) for r in result.truth] == [
        (A, FaultId.OPERATOR_OUTAGE, t_fault, t_end),
        (ROGUE, FaultId.RECONNECT_STORM, t_fault, t_end),
    ]


@pytest.mark.parametrize("retry", ["tight_loop", "reboot_on_failure"])
def test_a_misbehaving_device_retries_far_more_often_in_congestion(retry):
    messages, _ = run(congested_world(retry), until=8 * HOUR)

    def attempts(sim):
        return [m for m in messages if m.kind == "attach_reject" and m.iccid == sim]

    assert len(attempts(SIM_R)) >= 10 * len(attempts(SIM_A))


# ---- determinism --------------------------------------------------------------------------

SCRIPT = """
import sys
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.test_world_sequences import determinism_world
sink = MemorySink()
result = simulate(determinism_world(int(sys.argv[1])), sink, until=6 * 3600)
assert result.error is None, result.error
sys.stdout.buffer.write(sink.jsonl())
"""


def determinism_world(seed: int):
    return world(
        devices=[collars(4, spread_km=8.0)],
        customer=customer_without_imei_lock(),
        faults=[
            {"fault": "wrong_apn", "at": "40m", "duration": "2h", "devices": ["collar-0003"]},
            {"fault": "congestion", "at": "1h", "duration": "1h", "cell": 101},
        ],
        swaps=[{"at": "3h", "device": A, "into": B}],
        seed=seed,
    )


def stream(seed: int, hash_seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seed)],
        env=env,
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_same_spec_and_seed_give_a_byte_identical_stream_across_processes():
    first = stream(7, "1")
    assert first == stream(7, "12345")
    sink = MemorySink()
    assert simulate(determinism_world(7), sink, until=6 * 3600).error is None
    assert sink.jsonl() == first
    kinds_seen = {m.kind for m in sink.messages}
    assert {"attach_reject", "session_reject", "imei_change", "telemetry"} <= kinds_seen
    assert stream(8, "1") != first


def test_a_refused_move_inside_the_run_keeps_its_reason_in_the_result():
    spec = world(
        faults=[
            {"fault": "sim_deactivated", "at": "1h", "devices": ["collar-0001"]},
            {"fault": "sim_deactivated", "at": "2h", "devices": ["collar-0001"]},
        ],
    )
    result = simulate(spec, MemorySink(), until=3 * HOUR)
    assert result.error is not None
    last = result.error.splitlines()[-1]
    assert last.endswith(": DEACTIVATED → DEACTIVATED refused: the SIM is already DEACTIVATED")


@pytest.mark.unit
def test_a_device_served_through_another_network_is_over_its_cells_congestion():
    """Refused #22 by its congested cell, the device reports through another network: the
    congestion has stopped taking its network away, and what silences it next is news."""
    from types import SimpleNamespace  # noqa: PLC0415

    import simpy  # noqa: PLC0415

    from protocol.causes import Cause  # noqa: PLC0415
    from simulator.world.observer import TruthObserver  # noqa: PLC0415
    from simulator.world.truth import TruthLog, TruthRecord  # noqa: PLC0415

    env, truth = simpy.Environment(), TruthLog()
    observer = TruthObserver(env, truth)
    device = SimpleNamespace(id="c-1", sim="8946200050000000005")
    truth.open(TruthRecord("c-1", device.sim, FaultId.CONGESTION, Cause.CONGESTION, 0.0))
    env.run(until=1200.0)
    observer.reported(device)
    assert [(r.fault, r.end) for r in truth.records] == [(FaultId.CONGESTION, 1200.0)]
