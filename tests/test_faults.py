"""Every fault of the catalogue, seen from both sides, with its ground truth.

Each fault is injected into a small seeded world at a known time (AT) for a
known duration. The tests check what the affected device itself reports
(telemetry, status, its Last Will), what the network reports for its SIM
(attach and session rejects with the exact 3GPP cause, state changes,
detaches), the ground-truth record the injection writes, that healthy devices
carry on, that the device recovers after the fault, and that no message names
the fault.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from protocol.causes import Cause
from protocol.identifiers import iccid_range, imei_range
from protocol.nas import EmmCause, EsmCause
from simulator.platform.customer import RadioType
from simulator.world.core import IMPLICIT_DETACH_S
from simulator.world.faults import CATALOGUE
from simulator.world.retry import MAX_ATTACH_ATTEMPTS, T3402_S, T3411_S
from simulator.world.simulate import RunResult, simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec import FaultId, WorldSpec
from tests.world_fixtures import CUSTOMER, FIRST_ICCID, FIRST_IMEI, START, collars, world

if TYPE_CHECKING:
    from collections.abc import Callable

    from simulator.world.world import World

H = 3600.0
AT = 2 * H
"""When every fault is injected: after the devices have settled into reporting."""
KEEPALIVE = 1200.0
"""The collars' MQTT keepalive (20 min): a Will follows 1.5 keepalives after a lost connection."""
WILL_DELAY = 1.5 * KEEPALIVE
REPORT_GAP = 15 * 60 + 30 + 60
"""Longest gap between two reports of a healthy collar (15 min ± 30 s jitter, with a margin)."""
T0 = START.timestamp()

PROMPT = 60.0
"""Recovery when the fix reaches the device itself (power back, firmware rebooted, SIM swapped)."""
SCAN = 600.0
"""Recovery when the network comes back: the next network scan (TS.34: 5-10 minutes)."""
RETRY = 1.5 * H
"""Recovery when the device cannot know the fix: its next TS.34 retry (back-off capped at an hour
with ±50 % jitter) or modem reset after a permanent reject (0.9-1.1 h)."""

ICCIDS = [str(i) for i in iccid_range(FIRST_ICCID, 6)]
IMEIS = [str(i) for i in imei_range(FIRST_IMEI, 6)]
COLLARS = ("collar-0001", "collar-0002", "collar-0003")
HERD = ("herd-0001", "herd-0002", "herd-0003")
VICTIM = COLLARS[0]
BYSTANDERS = COLLARS[1:]

REJECTS = ("attach_reject", "session_reject")
GONE = ("detach", "session_close")


# ---- worlds -----------------------------------------------------------------------------------


def herd(**overrides) -> dict:
    """A second group of three collars (SIMs 4-6), placed where a test needs it."""
    group = {
        "name": "herd",
        "name_format": "Zebra collar {n}",
        "first_iccid": ICCIDS[3],
        "first_imei": IMEIS[3],
    }
    return collars(3, **(group | overrides))


CELL_101_ONLY = collars(3, lon=34.90)
"""Collars in reach of cell 101 only (cell 102 is out of reach): no neighbour to fall back on."""
HERD_ON_102 = herd(lon=35.40)
"""A herd in reach of cell 102 only."""
HERD_ON_201 = herd(lat=-2.50)
"""A herd on Airtel TZ (cell 201), another operator."""
HERD_PUBLIC_APN = herd(apn="internet.iot")
"""A herd on the public APN, which has neither the private gateway nor the tunnel."""


def trial_customer() -> dict:
    """The customer with collar-0001's SIM on the trial account, TEST_READY, going to INVENTORY.

    The test quota is large enough (1 MB) that the collar does not use it up by itself.
    """
    customer = copy.deepcopy(CUSTOMER)
    customer["accounts"][1]["settings"]["test_quota"] = "1 MB"
    first = customer["sim_ranges"][0]
    customer["sim_ranges"] = [
        first | {"count": 1, "account": "savanna-trial", "state": "TEST_READY"},
        first | {"first_iccid": ICCIDS[1], "count": 19, "first_imsi": "240070000000001"},
    ]
    return customer


@dataclass(frozen=True)
class Scenario:
    """A world with one fault in it: where it strikes, for how long, who should be hit."""

    fault: FaultId
    target: dict[str, Any]
    """The FaultSpec fields naming where the fault strikes (devices, cell, operator, ...)."""
    affected: tuple[str, ...] = (VICTIM,)
    healthy: tuple[str, ...] = BYSTANDERS
    devices: tuple[dict, ...] = (collars(3),)
    duration: float = 4 * H
    recovery: float = PROMPT
    """How soon after the fault ends every affected device reports again."""
    tail: float = 2 * H
    """How long the run goes on after the fault ends (at least an hour past `recovery`)."""
    customer: dict | None = None

    @property
    def end(self) -> float:
        return AT + self.duration

    @property
    def until(self) -> float:
        return self.end + max(self.tail, self.recovery + H)

    def spec(self, **extra) -> WorldSpec:
        fault = {"fault": self.fault.value, "at": AT, "duration": self.duration, **self.target}
        return world(devices=list(self.devices), faults=[fault], customer=self.customer, **extra)


ONE = {"devices": [VICTIM]}
NETWORK_GROUPS = {"affected": COLLARS, "healthy": HERD}

SCENARIOS: dict[FaultId, Scenario] = {
    s.fault: s
    for s in (
        # the battery needs about 3.5 h of fast drain to run out
        Scenario(FaultId.BATTERY_DEPLETED, ONE, duration=5 * H),
        Scenario(FaultId.POWER_LOSS, ONE, duration=3 * H),
        # the signal fades over three hours; the collar is lost after a little over two
        Scenario(FaultId.COVERAGE_LOSS, ONE, duration=4 * H, recovery=SCAN),
        # the antenna is repaired and the device looks for its cell at once
        Scenario(FaultId.RADIO_HARDWARE, ONE, duration=3 * H),
        Scenario(
            FaultId.CELL_OUTAGE,
            {"cell": 101},
            devices=(CELL_101_ONLY, HERD_ON_102),
            duration=3 * H,
            recovery=SCAN,
            **NETWORK_GROUPS,
        ),
        Scenario(
            FaultId.OPERATOR_OUTAGE,
            {"operator": "63902"},
            devices=(collars(3), HERD_ON_201),
            duration=3 * H,
            recovery=SCAN,
            **NETWORK_GROUPS,
        ),
        Scenario(
            FaultId.APN_GATEWAY_OUTAGE,
            {"apn": "iot.savanna"},
            devices=(collars(3), HERD_PUBLIC_APN),
            duration=3 * H,
            recovery=RETRY,
            **NETWORK_GROUPS,
        ),
        # T3346 (15-30 min) and the TS.34 back-off may keep a collar away ~2 h after the end
        Scenario(
            FaultId.CONGESTION,
            {"cell": 101},
            devices=(CELL_101_ONLY, HERD_ON_102),
            duration=3 * H,
            recovery=2.5 * H,
            **NETWORK_GROUPS,
        ),
        Scenario(FaultId.SIM_DEACTIVATED, ONE, recovery=RETRY),
        Scenario(FaultId.SIM_NOT_PROVISIONED, ONE, recovery=RETRY),
        Scenario(FaultId.SIM_PURGED, ONE, recovery=RETRY),
        Scenario(FaultId.TEST_QUOTA_USED, ONE, recovery=RETRY, customer=trial_customer()),
        Scenario(FaultId.DATA_LIMIT_REACHED, ONE, recovery=RETRY),
        Scenario(FaultId.ROAMING_NOT_ALLOWED, ONE | {"operator": "20801"}, recovery=SCAN),
        Scenario(FaultId.RADIO_TYPE_NOT_ALLOWED, ONE | {"value": "NB-IoT"}),
        Scenario(FaultId.WRONG_APN, ONE | {"value": "iot.savana"}),
        Scenario(FaultId.PRIVATE_APN_CREDENTIALS, ONE),
        Scenario(
            FaultId.IPSEC_TUNNEL_DOWN,
            {"tunnel": "hq"},
            devices=(collars(3), HERD_PUBLIC_APN),
            duration=3 * H,
            recovery=RETRY,
            **NETWORK_GROUPS,
        ),
        Scenario(FaultId.IMEI_LOCK_MISMATCH, ONE, recovery=RETRY),
        Scenario(FaultId.IMEI_BLACKLISTED, ONE, recovery=RETRY),
        Scenario(FaultId.DAMAGED_SIM, ONE, duration=3 * H),
        Scenario(FaultId.FIRMWARE_HANG, ONE, duration=3 * H),
        # the storm ends between two reports: the next one comes on the usual schedule
        Scenario(FaultId.RECONNECT_STORM, ONE, duration=1 * H, recovery=REPORT_GAP),
        Scenario(FaultId.BROKER_UNREACHABLE, ONE, duration=3 * H, recovery=RETRY),
    )
}


# ---- runs -------------------------------------------------------------------------------------


@dataclass
class Run:
    """One finished run and ways to look at it; times are seconds since the world's start."""

    scenario: Scenario
    result: RunResult
    sink: MemorySink
    iccid: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> list:
        return self.sink.messages

    @property
    def world(self) -> World:
        assert self.result.world is not None
        return self.result.world

    @staticmethod
    def rel(message) -> float:
        return round(message.t - T0, 3)

    def own(self, device: str, *kinds: str, since=-math.inf, until=math.inf) -> list:
        """The device's own messages (telemetry, status and its Will) in [since, until)."""
        return [
            m
            for m in self.messages
            if getattr(m, "device_id", None) == device
            and (not kinds or m.kind in kinds)
            and since <= self.rel(m) < until
        ]

    def net(self, device: str, *kinds: str, since=-math.inf, until=math.inf) -> list:
        """The network's and platform's messages about the device's SIM in [since, until)."""
        iccid = self.iccid[device]
        return [
            m
            for m in self.messages
            if not hasattr(m, "device_id")
            and getattr(m, "iccid", None) == iccid
            and (not kinds or m.kind in kinds)
            and since <= self.rel(m) < until
        ]

    def telemetry(self, device: str, since=-math.inf, until=math.inf) -> list:
        return self.own(device, "telemetry", since=since, until=until)

    def wills(self, device: str, since=-math.inf, until=math.inf) -> list[float]:
        """When the broker published the device's Last Will."""
        return [
            self.rel(m)
            for m in self.own(device, "status", since=since, until=until)
            if m.status == "offline" and m.will
        ]

    def during(self, device: str, *kinds: str) -> list:
        """Network messages about the device's SIM while the fault is on."""
        return self.net(device, *kinds, since=AT, until=self.scenario.end)

    def causes(self, device: str, kind: str) -> list[int]:
        """The reject causes the SIM got while the fault was on."""
        attr = "emm_cause" if kind == "attach_reject" else "esm_cause"
        return [getattr(m, attr) for m in self.during(device, kind)]


def execute(scenario: Scenario, **extra) -> Run:
    sink = MemorySink()
    result = simulate(scenario.spec(**extra), sink, until=scenario.until)
    run = Run(scenario, result, sink)
    if result.world is not None:
        run.iccid = {d.id: d.sim for d in result.world.devices if d.sim is not None}
    return run


@functools.cache
def run_of(fault: FaultId, message_loss: float | None = None) -> Run:
    """The scenario of `fault`, run once (the model is deterministic, so runs are shared)."""
    extra = {} if message_loss is None else {"message_loss": message_loss}
    run = execute(SCENARIOS[fault], **extra)
    assert run.result.error is None, run.result.error
    return run


def gaps(times: list[float], start: float, end: float) -> float:
    """The longest stretch in [start, end] without any of `times`."""
    points = [start, *sorted(t for t in times if start <= t <= end), end]
    return max(b - a for a, b in itertools.pairwise(points))


def strings(value: object) -> list[str]:
    """Every string anywhere in a dumped message, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


# ---- signatures -------------------------------------------------------------------------------

DEVICE_SIDE: dict[FaultId, Callable[[Run], None]] = {}
NETWORK_SIDE: dict[FaultId, Callable[[Run], None]] = {}


def device_side(fault: FaultId):
    def register(check: Callable[[Run], None]) -> Callable[[Run], None]:
        DEVICE_SIDE[fault] = check
        return check

    return register


def network_side(fault: FaultId):
    def register(check: Callable[[Run], None]) -> Callable[[Run], None]:
        NETWORK_SIDE[fault] = check
        return check

    return register


def goes_silent_at_once(run: Run, device: str) -> None:
    """No telemetry from the moment the fault strikes until it ends; the Will 1.5 keepalives on."""
    assert run.telemetry(device, until=AT), "the device reported before the fault"
    assert run.telemetry(device, since=AT, until=run.scenario.end) == []
    assert run.wills(device, since=AT, until=run.scenario.end) == [AT + WILL_DELAY]


def silent_then_implicit_detach(run: Run, device: str, lost: float) -> None:
    """The network hears nothing and detaches the SIM implicitly an hour after it was lost."""
    assert run.during(device, *REJECTS, "attach", "session_open") == []
    detaches = run.during(device, "detach")
    assert [(run.rel(m), m.reason) for m in detaches] == [(lost + IMPLICIT_DETACH_S, "implicit")]
    closes = run.during(device, "session_close")
    assert [(run.rel(m), m.reason) for m in closes] == [(lost + IMPLICIT_DETACH_S, "detach")]


def lost_when(run: Run, device: str) -> float:
    """When the network lost the device, from its implicit detach an hour later."""
    (detach,) = run.during(device, "detach")
    assert detach.reason == "implicit"
    return run.rel(detach) - IMPLICIT_DETACH_S


def detached_by_network_at_once(run: Run, device: str) -> None:
    assert [(run.rel(m), m.reason) for m in run.net(device, *GONE, since=AT, until=AT + 1)] == [
        (AT, "network"),
        (AT, "network"),
    ]
    assert run.during(device, "attach") == []


def only_cause(run: Run, device: str, kind: str, cause: int, at_least: int) -> list:
    """The SIM's rejects of `kind` during the fault all carry `cause`; the first at AT."""
    rejects = run.during(device, kind)
    assert len(rejects) >= at_least
    assert set(run.causes(device, kind)) == {cause}
    assert run.rel(rejects[0]) == AT
    return rejects


def retries_hourly(run: Run, rejects: list) -> None:
    """TS.34 after a permanent reject: no retry until a modem reset, at most one an hour."""
    times = sorted({run.rel(m) for m in rejects})
    assert len(times) >= 3
    for before, after in itertools.pairwise(times):
        assert 0.9 * H <= after - before <= 1.1 * H


def retries_t3411_t3402(run: Run, rejects: list) -> None:
    """TS 24.301 after any other failure: T3411 (10 s) between attempts, T3402 after five."""
    times = [run.rel(m) for m in rejects]
    waits = [b - a for a, b in itertools.pairwise(times)]
    assert len(waits) >= 10
    for i, wait in enumerate(waits):
        expected = T3402_S if i % MAX_ATTACH_ATTEMPTS == MAX_ATTACH_ATTEMPTS - 1 else T3411_S
        assert wait == pytest.approx(expected, abs=1e-3), (i, waits)


def backs_off(run: Run, rejects: list) -> None:
    """TS.34 after a temporary reject: the wait grows from about a minute towards an hour."""
    times = [run.rel(m) for m in rejects]
    waits = [b - a for a, b in itertools.pairwise(times)]
    assert waits[0] <= 1.5 * 60
    assert max(waits) >= 0.5 * H
    assert all(w <= 1.5 * H for w in waits)


def obeys_backoff(run: Run, rejects: list) -> None:
    """Each retry waits at least the back-off timer the previous reject carried."""
    for before, after in itertools.pairwise(rejects):
        assert before.backoff_s is not None
        assert run.rel(after) - run.rel(before) >= before.backoff_s - 1e-3


# battery_depleted ------------------------------------------------------------------------------


@device_side(FaultId.BATTERY_DEPLETED)
def _battery_device(run: Run) -> None:
    reports = run.telemetry(VICTIM, since=AT, until=run.scenario.end)
    levels = [m.battery for m in reports]
    assert len(reports) >= 8
    assert levels == sorted(levels, reverse=True)
    hours = (run.rel(reports[-1]) - run.rel(reports[0])) / H
    assert (levels[0] - levels[-1]) / hours > 20, "a healthy collar loses 0.01 % an hour"
    # low battery (LwM2M error 1) in the last reports, and only below 10 %
    assert [1 in m.errors for m in reports] == [m.battery < 10 for m in reports]
    assert 1 in reports[-1].errors
    # what is left at the last report is less than one 15-minute interval of the failing
    # cell's drain (25 % an hour, and a point a report): it empties before the next report
    assert reports[-1].battery < 25 * 0.25 + 1
    lost = lost_when(run, VICTIM)
    assert run.rel(reports[-1]) < lost < run.scenario.end
    assert run.telemetry(VICTIM, since=lost, until=run.scenario.end) == []
    assert run.wills(VICTIM, since=AT, until=run.scenario.end) == [
        pytest.approx(lost + WILL_DELAY, abs=1e-3)
    ]
    # healthy collars in the same world barely drain
    for other in BYSTANDERS:
        assert min(m.battery for m in run.telemetry(other)) > 95


@network_side(FaultId.BATTERY_DEPLETED)
def _battery_network(run: Run) -> None:
    silent_then_implicit_detach(run, VICTIM, lost_when(run, VICTIM))


# power_loss ------------------------------------------------------------------------------------


@device_side(FaultId.POWER_LOSS)
def _power_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)
    back = run.telemetry(VICTIM, since=run.scenario.end)[0]
    assert back.uptime_s < 60, "the device boots again when the power returns"


@network_side(FaultId.POWER_LOSS)
def _power_network(run: Run) -> None:
    silent_then_implicit_detach(run, VICTIM, AT)


# coverage_loss ---------------------------------------------------------------------------------


@device_side(FaultId.COVERAGE_LOSS)
def _coverage_device(run: Run) -> None:
    before = run.telemetry(VICTIM, until=AT)
    reports = run.telemetry(VICTIM, since=AT, until=run.scenario.end)
    assert all(m.rsrp > -85 and 4 not in m.errors for m in before)
    assert len(reports) >= 6
    assert reports[-1].rsrp < reports[0].rsrp - 30
    # low signal (LwM2M error 4) exactly when the RSRP is below -115 dBm, in the last reports
    assert [4 in m.errors for m in reports] == [m.rsrp < -115 for m in reports]
    assert 4 in reports[-1].errors
    assert all(m.battery > 90 and 1 not in m.errors for m in reports), "not the battery"
    lost = lost_when(run, VICTIM)
    assert run.rel(reports[-1]) < lost
    assert run.wills(VICTIM, since=AT, until=run.scenario.end) == [
        pytest.approx(lost + WILL_DELAY, abs=1e-3)
    ]
    for other in BYSTANDERS:
        assert all(4 not in m.errors for m in run.telemetry(other))


@network_side(FaultId.COVERAGE_LOSS)
@network_side(FaultId.RADIO_HARDWARE)
def _coverage_network(run: Run) -> None:
    silent_then_implicit_detach(run, VICTIM, lost_when(run, VICTIM))


@device_side(FaultId.RADIO_HARDWARE)
def _radio_device(run: Run) -> None:
    before = run.telemetry(VICTIM, until=AT)
    reports = run.telemetry(VICTIM, since=AT, until=run.scenario.end)
    # a report or two at once far below what it had (and its neighbours have), then nothing
    assert 1 <= len(reports) <= 4
    assert all(before[-1].rsrp - m.rsrp >= 25 for m in reports)
    assert [4 in m.errors for m in reports] == [m.rsrp < -115 for m in reports]
    lost = lost_when(run, VICTIM)
    assert run.rel(reports[-1]) < lost < AT + H
    assert run.wills(VICTIM, since=AT, until=run.scenario.end) == [
        pytest.approx(lost + WILL_DELAY, abs=1e-3)
    ]
    for other in BYSTANDERS:
        assert all(4 not in m.errors for m in run.telemetry(other))


# cell_outage and operator_outage ---------------------------------------------------------------


@device_side(FaultId.CELL_OUTAGE)
@device_side(FaultId.OPERATOR_OUTAGE)
def _outage_device(run: Run) -> None:
    for device in COLLARS:
        goes_silent_at_once(run, device)


@network_side(FaultId.CELL_OUTAGE)
def _cell_outage_network(run: Run) -> None:
    for device in COLLARS:
        assert {m.cell_id for m in run.net(device, "attach", until=AT)} == {101}
        # no neighbour to move to: not a single attach attempt, then an implicit detach
        silent_then_implicit_detach(run, device, AT)
        assert {m.cell_id for m in run.net(device, "attach", since=run.scenario.end)} == {101}
    for device in HERD:
        assert {m.cell_id for m in run.telemetry(device)} == {102}


@network_side(FaultId.OPERATOR_OUTAGE)
def _operator_outage_network(run: Run) -> None:
    for device in COLLARS:
        assert {m.mcc_mnc for m in run.net(device, "attach", until=AT)} == {"63902"}
        # the core fails, its cells stay on air: every registration dropped at once, and
        # every attach refused with #17 (network failure), retried by T3411/T3402
        detached_by_network_at_once(run, device)
        rejects = only_cause(run, device, "attach_reject", EmmCause.NETWORK_FAILURE, at_least=10)
        assert {m.mcc_mnc for m in rejects} == {"63902"}
        assert all(m.backoff_s is None for m in rejects)
        retries_t3411_t3402(run, rejects)
    for device in HERD:
        assert {(m.mcc_mnc, m.cell_id) for m in run.telemetry(device)} == {("64005", 201)}


# apn_gateway_outage and ipsec_tunnel_down ------------------------------------------------------


@device_side(FaultId.APN_GATEWAY_OUTAGE)
@device_side(FaultId.IPSEC_TUNNEL_DOWN)
def _session_outage_device(run: Run) -> None:
    for device in COLLARS:
        goes_silent_at_once(run, device)
    for device in HERD:
        assert {m.apn for m in run.telemetry(device)} == {"internet.iot"}


def session_refused(run: Run, cause: int) -> None:
    for device in COLLARS:
        closes = run.during(device, "session_close")
        assert [(run.rel(m), m.reason, m.apn) for m in closes] == [(AT, "network", "iot.savanna")]
        rejects = only_cause(run, device, "session_reject", cause, at_least=5)
        assert {m.apn for m in rejects} == {"iot.savanna"}
        assert all(m.backoff_s is None for m in rejects)
        backs_off(run, rejects)
        # the SIM stays registered: the trouble is above the radio
        assert run.during(device, "detach", "attach", "attach_reject") == []


@network_side(FaultId.APN_GATEWAY_OUTAGE)
def _gateway_network(run: Run) -> None:
    session_refused(run, EsmCause.NETWORK_FAILURE)  # 38


@network_side(FaultId.IPSEC_TUNNEL_DOWN)
def _tunnel_network(run: Run) -> None:
    session_refused(run, EsmCause.REQUEST_REJECTED_BY_GATEWAY)  # 30


# congestion ------------------------------------------------------------------------------------


@device_side(FaultId.CONGESTION)
def _congestion_device(run: Run) -> None:
    for device in COLLARS:
        goes_silent_at_once(run, device)


@network_side(FaultId.CONGESTION)
def _congestion_network(run: Run) -> None:
    for device in COLLARS:
        detached_by_network_at_once(run, device)
        rejects = only_cause(run, device, "attach_reject", EmmCause.CONGESTION, at_least=4)
        assert {m.cell_id for m in rejects} == {101}
        assert all(900 <= m.backoff_s <= 1800 for m in rejects), "T3346 of 15-30 minutes"
        obeys_backoff(run, rejects)


# the SIM's subscription: deactivated, not provisioned, test quota used -------------------------


@device_side(FaultId.SIM_DEACTIVATED)
def _deactivated_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)


@network_side(FaultId.SIM_DEACTIVATED)
def _deactivated_network(run: Run) -> None:
    changes = run.during(VICTIM, "state_change")
    assert [(m.old, m.new, m.actor, m.reason) for m in changes] == [
        ("ACTIVATED", "DEACTIVATED", "billing", "invoice overdue")
    ]
    assert run.rel(changes[0]) == AT
    assert [m.state for m in run.during(VICTIM, "record")] == ["DEACTIVATED"]
    detached_by_network_at_once(run, VICTIM)
    # TS.34: a permanent reject, retried about once an hour after a modem reset
    rejects = only_cause(
        run, VICTIM, "attach_reject", EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED, at_least=4
    )
    retries_hourly(run, rejects)
    changes = run.net(VICTIM, "state_change", since=run.scenario.end)
    assert [(m.old, m.new, m.actor) for m in changes] == [("DEACTIVATED", "ACTIVATED", "billing")]


@device_side(FaultId.SIM_NOT_PROVISIONED)
@device_side(FaultId.SIM_PURGED)
def _unprovisioned_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)


def unknown_subscriber(run: Run) -> None:
    """Detached at once, then refused as a subscriber the network does not know (#2)."""
    detached_by_network_at_once(run, VICTIM)
    rejects = only_cause(run, VICTIM, "attach_reject", EmmCause.IMSI_UNKNOWN_IN_HSS, at_least=4)
    retries_t3411_t3402(run, rejects)


@network_side(FaultId.SIM_NOT_PROVISIONED)
def _unprovisioned_network(run: Run) -> None:
    unknown_subscriber(run)
    # the platform still thinks all is well: no state change, no record
    assert run.during(VICTIM, "state_change", "record", "audit") == []


@network_side(FaultId.SIM_PURGED)
def _purged_network(run: Run) -> None:
    unknown_subscriber(run)
    # the audit trail: retired and purged by the operator at once, re-provisioned at the end
    moves = [(run.rel(m), m.old, m.new, m.actor) for m in run.net(VICTIM, "state_change")]
    assert moves == [
        (AT, "ACTIVATED", "RETIRED", "operator"),
        (AT, "RETIRED", "PURGED", "operator"),
        (run.scenario.end, "PURGED", "ACTIVATED", "operator"),
    ]
    # nothing tells the device: it is back at its own next attempt (T3402 at most)
    (back, *_) = run.net(VICTIM, "attach", since=run.scenario.end)
    assert 0 < run.rel(back) - run.scenario.end <= T3402_S + 1


@device_side(FaultId.TEST_QUOTA_USED)
def _quota_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)


@network_side(FaultId.TEST_QUOTA_USED)
def _quota_network(run: Run) -> None:
    (record,) = run.net(VICTIM, "record", until=1)
    assert (record.state, record.account) == ("TEST_READY", "savanna-trial")
    changes = run.during(VICTIM, "state_change")
    assert [(run.rel(m), m.old, m.new, m.actor, m.reason) for m in changes] == [
        (AT, "TEST_READY", "INVENTORY", "system", "test quota of 1 MB used")
    ]
    detached_by_network_at_once(run, VICTIM)
    rejects = only_cause(
        run, VICTIM, "attach_reject", EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED, at_least=4
    )
    retries_hourly(run, rejects)
    changes = run.net(VICTIM, "state_change", since=run.scenario.end)
    assert [(m.old, m.new, m.actor) for m in changes] == [("INVENTORY", "ACTIVATED", "customer")]
    # the other SIMs are ACTIVATED on the main account and never change state
    for other in BYSTANDERS:
        assert run.net(other, "state_change") == []


# data_limit_reached ----------------------------------------------------------------------------


@device_side(FaultId.DATA_LIMIT_REACHED)
def _limit_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)


@network_side(FaultId.DATA_LIMIT_REACHED)
def _limit_network(run: Run) -> None:
    blocks = run.net(VICTIM, "data_blocked")
    assert [(run.rel(m), m.blocked, m.reason) for m in blocks] == [
        (AT, True, "data limit of rate plan collar-5mb reached"),
        (run.scenario.end, False, "extra data bundle bought"),
    ]
    assert [(run.rel(m), m.reason) for m in run.during(VICTIM, "session_close")] == [(AT, "limit")]
    (usage,) = run.net(VICTIM, "usage", since=AT, until=AT + 1)
    assert usage.cycle_bytes >= 6_000_000, "allowance (5 MB) plus overage limit (1 MB) used"
    assert [m.data_blocked for m in run.during(VICTIM, "record")] == [True]
    rejects = only_cause(
        run, VICTIM, "session_reject", EsmCause.OPERATOR_DETERMINED_BARRING, at_least=5
    )
    backs_off(run, rejects)
    # the SIM stays registered; only data is barred
    assert run.during(VICTIM, "detach", "attach_reject", "state_change") == []


# roaming_not_allowed ---------------------------------------------------------------------------


@device_side(FaultId.ROAMING_NOT_ALLOWED)
def _roaming_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)
    assert {m.mcc_mnc for m in run.telemetry(VICTIM)} == {"63902"}


@network_side(FaultId.ROAMING_NOT_ALLOWED)
def _roaming_network(run: Run) -> None:
    rejects = only_cause(run, VICTIM, "attach_reject", EmmCause.PLMN_NOT_ALLOWED, at_least=1)
    assert {(m.mcc_mnc, m.cell_id) for m in rejects} == {("20801", 301)}
    # the network goes on the SIM's forbidden list, which no modem reset clears: one try
    assert len(rejects) == 1
    (record,) = run.net(VICTIM, "record", until=1)
    assert "20801" not in record.networks
    assert "FR" not in record.networks
    assert run.during(VICTIM, "attach", "session_open") == []


# radio_type_not_allowed ------------------------------------------------------------------------


@device_side(FaultId.RADIO_TYPE_NOT_ALLOWED)
def _radio_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)
    assert {m.bearer for m in run.telemetry(VICTIM)} == {"LTE-M"}


@network_side(FaultId.RADIO_TYPE_NOT_ALLOWED)
def _radio_network(run: Run) -> None:
    # the firmware switch resets the modem, which detaches first
    assert [(run.rel(m), m.reason) for m in run.during(VICTIM, "detach")] == [(AT, "device")]
    rejects = only_cause(
        run, VICTIM, "attach_reject", EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA, at_least=2
    )
    assert {m.rat for m in rejects} == {RadioType.NB_IOT.value}
    # #15 forbids the tracking area: each NB-IoT cell (one area each) is tried once, at once,
    # and not again until the forbidden-area list is deleted 12-24 h later
    assert sorted(m.cell_id for m in rejects) == [101, 102]
    assert run.rel(rejects[-1]) - AT <= 20
    (record,) = run.net(VICTIM, "record", until=1)
    assert record.radio_types == ["LTE-M"]
    assert run.during(VICTIM, "attach") == []


# wrong_apn and private_apn_credentials ---------------------------------------------------------


@device_side(FaultId.WRONG_APN)
@device_side(FaultId.PRIVATE_APN_CREDENTIALS)
def _apn_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)
    assert {m.apn for m in run.telemetry(VICTIM)} == {"iot.savanna"}


@network_side(FaultId.WRONG_APN)
def _wrong_apn_network(run: Run) -> None:
    # the OTA update resets the modem: it detaches, registers fine, and asks for the wrong APN
    assert [(run.rel(m), m.reason) for m in run.during(VICTIM, "detach")] == [(AT, "device")]
    assert [run.rel(m) for m in run.during(VICTIM, "attach")] == [AT]
    rejects = only_cause(run, VICTIM, "session_reject", EsmCause.MISSING_OR_UNKNOWN_APN, 5)
    assert {m.apn for m in rejects} == {"iot.savana"}
    (record,) = run.net(VICTIM, "record", until=1)
    assert "iot.savana" not in record.apns
    assert all(600 <= m.backoff_s <= 1200 for m in rejects), "T3396 of 10-20 minutes"
    obeys_backoff(run, rejects)


@network_side(FaultId.PRIVATE_APN_CREDENTIALS)
def _credentials_network(run: Run) -> None:
    assert [run.rel(m) for m in run.during(VICTIM, "attach")] == [AT]
    rejects = only_cause(run, VICTIM, "session_reject", EsmCause.USER_AUTHENTICATION_FAILED, 5)
    assert {m.apn for m in rejects} == {"iot.savanna"}
    assert all(m.backoff_s is None for m in rejects)
    backs_off(run, rejects)
    assert run.during(VICTIM, "attach_reject") == []


# imei_lock_mismatch and imei_blacklisted -------------------------------------------------------


@device_side(FaultId.IMEI_LOCK_MISMATCH)
@device_side(FaultId.IMEI_BLACKLISTED)
def _imei_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)


@network_side(FaultId.IMEI_LOCK_MISMATCH)
def _imei_lock_network(run: Run) -> None:
    old_imei = IMEIS[0]
    (record,) = run.net(VICTIM, "record", until=1)
    assert record.imei_lock
    # the SIM is moved into new hardware: the old device detaches, the new one is refused
    assert [(run.rel(m), m.reason) for m in run.during(VICTIM, "detach")] == [(AT, "device")]
    rejects = only_cause(run, VICTIM, "attach_reject", EmmCause.ILLEGAL_ME, at_least=4)
    retries_hourly(run, rejects)
    (new_imei,) = {m.imei for m in rejects}
    assert new_imei != old_imei
    assert new_imei[:8] == old_imei[:8], "same model (TAC), another unit"
    # the fix moves the lock; the SIM then shows up in the new device
    (audit,) = run.net(VICTIM, "audit", since=run.scenario.end)
    assert (audit.field, audit.old, audit.new, audit.actor) == (
        "imei_lock",
        old_imei,
        "",
        "operator",
    )
    (change,) = run.net(VICTIM, "imei_change", since=run.scenario.end)
    assert (change.old_imei, change.imei) == (old_imei, new_imei)


@network_side(FaultId.IMEI_BLACKLISTED)
def _blacklisted_network(run: Run) -> None:
    detached_by_network_at_once(run, VICTIM)
    rejects = only_cause(run, VICTIM, "attach_reject", EmmCause.ILLEGAL_ME, at_least=4)
    retries_hourly(run, rejects)
    assert {m.imei for m in rejects} == {IMEIS[0]}, "the same device, refused"
    assert run.net(VICTIM, "audit", "imei_change", "state_change") == []


# damaged_sim -----------------------------------------------------------------------------------


@device_side(FaultId.DAMAGED_SIM)
def _damaged_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)


@network_side(FaultId.DAMAGED_SIM)
def _damaged_network(run: Run) -> None:
    silent_then_implicit_detach(run, VICTIM, AT)


# firmware_hang ---------------------------------------------------------------------------------


@device_side(FaultId.FIRMWARE_HANG)
def _hang_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)


@network_side(FaultId.FIRMWARE_HANG)
def _hang_network(run: Run) -> None:
    # registered with a session up, yet silent: the network sees nothing at all
    (session,) = run.net(VICTIM, "session_open", until=AT)
    assert run.during(VICTIM) == []
    # only the power cycle that ends it closes the session that stayed open all along
    closes = run.net(VICTIM, "session_close", since=AT)
    assert [(run.rel(m), m.reason, m.session_id) for m in closes] == [
        (run.scenario.end, "detach", session.session_id)
    ]
    detaches = run.net(VICTIM, "detach", since=AT)
    assert [(run.rel(m), m.reason) for m in detaches] == [(run.scenario.end, "device")]


# reconnect_storm -------------------------------------------------------------------------------


@device_side(FaultId.RECONNECT_STORM)
def _storm_device(run: Run) -> None:
    end = run.scenario.end
    online = [m for m in run.own(VICTIM, "status", since=AT, until=end) if m.status == "online"]
    wills = run.wills(VICTIM, since=AT, until=end)
    assert len(online) >= 15
    assert len(wills) >= len(online) - 1
    # the device keeps reporting, but never stays up for more than a few minutes
    reports = run.telemetry(VICTIM, since=AT + 300, until=end)
    assert len(reports) >= 15
    assert max(m.uptime_s for m in reports) < 300
    calm = run.telemetry(BYSTANDERS[0], since=AT, until=end)
    assert len(run.telemetry(VICTIM, since=AT, until=end)) > 3 * len(calm)
    assert max(m.uptime_s for m in run.telemetry(VICTIM, since=end + H)) > H
    for other in BYSTANDERS:
        assert run.wills(other) == []


@network_side(FaultId.RECONNECT_STORM)
def _storm_network(run: Run) -> None:
    attaches = run.during(VICTIM, "attach")
    sessions = run.during(VICTIM, "session_open")
    detaches = run.during(VICTIM, "detach")
    assert len(attaches) >= 15
    assert len(sessions) == len(attaches)
    assert {m.reason for m in detaches} == {"device"}
    assert abs(len(detaches) - len(attaches)) <= 1
    assert run.during(VICTIM, *REJECTS) == []
    for other in BYSTANDERS:
        assert len(run.net(other, "attach")) == 1


# broker_unreachable ----------------------------------------------------------------------------


@device_side(FaultId.BROKER_UNREACHABLE)
def _broker_device(run: Run) -> None:
    goes_silent_at_once(run, VICTIM)
    statuses = run.own(VICTIM, "status", since=AT, until=run.scenario.end)
    assert [m.status for m in statuses] == ["offline"], "it never gets back online"


@network_side(FaultId.BROKER_UNREACHABLE)
def _broker_network(run: Run) -> None:
    # the network is fine with the SIM: still registered, session up, and data keeps flowing
    assert run.during(VICTIM, *GONE, *REJECTS, "attach", "session_open") == []
    usage = run.during(VICTIM, "usage")
    assert len(usage) >= 2
    assert all(m.bytes > 0 for m in usage)


# ---- the catalogue is covered -----------------------------------------------------------------

FAULTS = list(CATALOGUE)


def test_every_fault_of_the_catalogue_has_a_scenario_and_both_signatures():
    assert set(FaultId) == set(CATALOGUE)
    assert set(SCENARIOS) == set(CATALOGUE)
    assert set(DEVICE_SIDE) == set(CATALOGUE)
    assert set(NETWORK_SIDE) == set(CATALOGUE)


def test_scenarios_strike_where_the_catalogue_says():
    for fault, kind in CATALOGUE.items():
        target = SCENARIOS[fault].target
        key = {"device": "devices", "sim": "devices"}.get(kind.scope, kind.scope)
        assert key in target, f"{fault}: a {kind.scope} fault needs {key}"


def signature_of(fault: FaultId) -> tuple[Scenario, Run]:
    missing = [
        name
        for name, table in (
            ("scenario", SCENARIOS),
            ("device-side signature", DEVICE_SIDE),
            ("network-side signature", NETWORK_SIDE),
        )
        if fault not in table
    ]
    if missing:
        pytest.fail(f"fault {fault.value} has no {' and no '.join(missing)} in this file")
    return SCENARIOS[fault], run_of(fault)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_device_side_signature(fault):
    _, run = signature_of(fault)
    DEVICE_SIDE[fault](run)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_network_side_signature(fault):
    _, run = signature_of(fault)
    NETWORK_SIDE[fault](run)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_ground_truth_records_the_fault_on_exactly_the_affected_devices(fault):
    scenario, run = signature_of(fault)
    records = run.result.truth
    assert {r.device_id for r in records} == set(scenario.affected)
    for record in records:
        assert record.fault is fault
        assert record.cause is fault.cause
        assert record.cause == Cause(fault.value)
        assert record.iccid == run.iccid[record.device_id]
        assert record.injected
        assert (record.start, record.end) == (AT, scenario.end)
    assert len(records) == len(scenario.affected)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_healthy_devices_keep_reporting(fault):
    scenario, run = signature_of(fault)
    assert scenario.healthy
    for device in scenario.healthy:
        times = [run.rel(m) for m in run.telemetry(device)]
        assert times, device
        assert gaps(times, times[0], scenario.until) <= REPORT_GAP, device
        assert all(m.errors == [] for m in run.telemetry(device)), device
        assert run.wills(device) == [], device
        assert run.net(device, *REJECTS, "detach", "state_change", "data_blocked") == []


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_devices_recover_after_the_fault(fault):
    scenario, run = signature_of(fault)
    for device in scenario.affected:
        back = run.telemetry(device, since=scenario.end)
        assert back, f"{device} never reported again"
        assert run.rel(back[0]) - scenario.end <= scenario.recovery, device
        assert back[0].errors == []
        times = [run.rel(m) for m in back]
        assert gaps(times, times[0], scenario.until) <= REPORT_GAP, device
        assert {m.apn for m in back} == {run.telemetry(device, until=AT)[0].apn}
        assert {m.bearer for m in back} == {"LTE-M"}


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_no_message_names_the_fault(fault):
    _, run = signature_of(fault)
    names = {f.value for f in FaultId} | {c.value for c in Cause}
    for message in run.messages:
        found = names.intersection(strings(message.model_dump(mode="json")))
        assert not found, f"{message.kind} names {found}"
    assert f'"{fault.value}"' not in run.sink.jsonl().decode()


# ---- specific properties ----------------------------------------------------------------------


def test_the_groups_of_network_scenarios_are_placed_as_intended():
    network = run_of(FaultId.CELL_OUTAGE).world.network

    def cells(group: dict) -> list[int]:
        heard = network.audible(group["lat"], group["lon"], RadioType.LTE_M, 0.0)
        return [cell.id for cell, _ in heard]

    assert cells(CELL_101_ONLY) == [101], "no neighbour cell to fall back on"
    assert cells(HERD_ON_102) == [102]
    assert cells(HERD_ON_201) == [201]
    assert cells(collars(3))[0] == 101


def test_will_follows_one_and_a_half_keepalives_after_the_connection_is_lost():
    for fault in (FaultId.POWER_LOSS, FaultId.DAMAGED_SIM, FaultId.FIRMWARE_HANG):
        run = run_of(fault)
        assert run.wills(VICTIM) == [AT + 1.5 * KEEPALIVE], fault
    for fault in (FaultId.BATTERY_DEPLETED, FaultId.COVERAGE_LOSS):
        run = run_of(fault)
        (will,) = run.wills(VICTIM)
        assert will == pytest.approx(lost_when(run, VICTIM) + 1.5 * KEEPALIVE, abs=1e-3), fault


def test_silent_faults_differ_in_what_comes_before_the_silence():
    """Battery (error 1), coverage (error 4) and power loss (nothing) look alike afterwards."""
    last = {
        fault: run_of(fault).telemetry(VICTIM, until=lost_when(run_of(fault), VICTIM))[-1]
        for fault in (FaultId.BATTERY_DEPLETED, FaultId.COVERAGE_LOSS, FaultId.POWER_LOSS)
    }
    assert last[FaultId.BATTERY_DEPLETED].errors == [1]
    assert last[FaultId.COVERAGE_LOSS].errors == [4]
    assert last[FaultId.POWER_LOSS].errors == []
    assert last[FaultId.POWER_LOSS].rsrp > -85
    assert last[FaultId.POWER_LOSS].battery > 95


def test_a_cell_outage_takes_down_every_device_on_the_cell_at_once():
    run = run_of(FaultId.CELL_OUTAGE)
    detaches = {run.rel(m) for d in COLLARS for m in run.during(d, "detach")}
    assert detaches == {AT + IMPLICIT_DETACH_S}
    for device in COLLARS:
        assert run.rel(run.net(device, "attach", since=AT)[0]) == run.scenario.end


def test_operator_outage_leaves_the_other_operator_alone():
    run = run_of(FaultId.OPERATOR_OUTAGE)
    for device in HERD:
        assert run.net(device, "attach")[0].mcc_mnc == "64005"
        assert run.during(device, "detach", *REJECTS) == []


def test_congestion_recovers_only_after_t3346_and_back_off():
    run = run_of(FaultId.CONGESTION)
    for device in COLLARS:
        last = run.during(device, "attach_reject")[-1]
        back = run.net(device, "attach", since=run.scenario.end)[0]
        assert run.rel(back) >= run.rel(last) + last.backoff_s
        assert run.net(device, "attach_reject", since=run.scenario.end) == []


def test_broker_unreachable_recovers_without_touching_the_network():
    run = run_of(FaultId.BROKER_UNREACHABLE)
    end = run.scenario.end
    statuses = run.own(VICTIM, "status", since=end, until=end + 1)
    assert [(m.status, m.will) for m in statuses] == [("online", False)]
    assert run.net(VICTIM, "attach", "session_open", since=AT) == []


def test_a_fault_aimed_at_a_missing_device_is_recorded_as_an_error():
    scenario = Scenario(FaultId.POWER_LOSS, {"devices": ["collar-0042"]})
    sink = MemorySink()
    result = simulate(scenario.spec(), sink, until=scenario.until)  # does not raise
    assert result.error is not None
    assert "collar-0042" in result.error
    assert "power_loss" in result.error
    assert result.truth == []
    # the spec is checked as a whole before anything runs: nothing was sent
    assert sink.messages == []


def test_a_battery_fault_on_a_mains_powered_device_is_recorded_as_an_error():
    scenario = Scenario(FaultId.BATTERY_DEPLETED, ONE, devices=(collars(3, battery_mah=None),))
    result = simulate(scenario.spec(), MemorySink(), until=scenario.until)
    assert result.error is not None
    assert VICTIM in result.error
    assert "mains powered" in result.error


# ---- message loss -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [FaultId.POWER_LOSS, FaultId.CONGESTION], ids=str)
def test_explicit_zero_message_loss_is_the_default(fault):
    default = run_of(fault)
    explicit = run_of(fault, 0.0)
    assert SCENARIOS[fault].spec().message_loss == 0.0
    assert explicit.sink.jsonl() == default.sink.jsonl()
    assert explicit.result.truth == default.result.truth
    assert default.result.lost == explicit.result.lost == 0


def test_same_spec_gives_the_same_messages():
    scenario = SCENARIOS[FaultId.RECONNECT_STORM]
    assert execute(scenario).sink.jsonl() == execute(scenario).sink.jsonl()


LOSS = 0.3


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_message_loss_hides_device_messages_but_not_the_faults(fault):
    scenario, lossless = signature_of(fault)
    lossy = run_of(fault, LOSS)
    assert lossy.result.lost > 0
    assert lossy.result.truth == lossless.result.truth
    for device in scenario.affected:
        # the network's own events always arrive: the same rejects, with the same causes
        for kind in REJECTS:
            assert set(lossy.causes(device, kind)) == set(lossless.causes(device, kind)), kind
        # the broker publishes the Will, so it is never lost; the device's reports may be
        assert len(lossy.wills(device, since=AT)) >= 1
        assert lossy.telemetry(device, since=scenario.end), "recovers despite the loss"

    def telemetry(run: Run) -> int:
        return sum(m.kind == "telemetry" for m in run.messages)

    assert telemetry(lossy) < telemetry(lossless)


def test_signatures_survive_message_loss_where_the_network_speaks():
    """Network-side signatures are unaffected by device message loss."""
    for fault in (
        FaultId.POWER_LOSS,
        FaultId.DAMAGED_SIM,
        FaultId.SIM_NOT_PROVISIONED,
        FaultId.DATA_LIMIT_REACHED,
        FaultId.IMEI_BLACKLISTED,
    ):
        NETWORK_SIDE[fault](run_of(fault, LOSS))


# ---- bugs -------------------------------------------------------------------------------------

PERMANENT_REJECTS = [
    FaultId.SIM_DEACTIVATED,
    FaultId.SIM_NOT_PROVISIONED,
    FaultId.TEST_QUOTA_USED,
    FaultId.IMEI_LOCK_MISMATCH,
    FaultId.IMEI_BLACKLISTED,
]


@pytest.mark.parametrize("fault", PERMANENT_REJECTS, ids=str)
def test_a_recovered_device_is_not_reset_by_a_stale_permanent_reject_timer(fault):
    scenario, run = signature_of(fault)
    (back,) = run.net(VICTIM, "attach", since=scenario.end, until=scenario.end + 1)
    assert run.rel(back) == scenario.end
    assert run.net(VICTIM, "detach", since=scenario.end) == []
    assert run.wills(VICTIM, since=scenario.end) == []


@pytest.mark.parametrize(
    ("fault", "target", "duration"),
    [
        (FaultId.POWER_LOSS, ONE, 0.5 * H),
        (FaultId.ROAMING_NOT_ALLOWED, ONE | {"operator": "20801"}, 4 * H),
    ],
    ids=["power_loss_30m", "roaming_not_allowed"],
)
def test_a_device_without_a_cell_cannot_detach(fault, target, duration):
    run = execute(Scenario(fault, target, duration=duration))
    assert run.result.error is None
    assert [m.reason for m in run.net(VICTIM, "detach", since=AT)] in ([], ["implicit"])


def test_sim_deactivation_makes_one_attach_attempt_at_a_time():
    run = run_of(FaultId.SIM_DEACTIVATED)
    times = [run.rel(m) for m in run.during(VICTIM, "attach_reject")]
    assert len(times) == len(set(times))


def test_imei_lock_mismatch_detach_names_the_imei_the_network_knew():
    run = run_of(FaultId.IMEI_LOCK_MISMATCH)
    (detach,) = run.during(VICTIM, "detach")
    assert detach.imei == IMEIS[0]
