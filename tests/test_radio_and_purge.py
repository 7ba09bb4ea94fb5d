"""A broken radio or antenna, and a SIM purged by mistake: the world, the diagnosis, the words.

The radio fault takes 30 dB away at once and the rest within the hour: the device
reports once or twice far below its neighbours on the same cell, then no attach of
its own reaches the network. The diagnosis tells it from lost coverage by the step
and the neighbours, and names both with the test that separates them where only the
step is known. A purge is an operator's clean-up that retires and purges the SIM;
the network forgets it, and the operator's re-provisioning brings it back without
a word to the device, which returns at its own next attempt.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING

from diagnostics.diagnosis import Case, Seen, customer_message, diagnose
from diagnostics.diagnosis.model import CellPeers
from diagnostics.diagnosis.radio import SEPARATING_TEST, radio_reading
from diagnostics.diagnosis.settle import settle
from diagnostics.diagnosis.swap import SwapOutcome
from diagnostics.peers import cell_peers
from diagnostics.service import DeviceFacts
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    SessionOpened,
    SimRecord,
    StateChanged,
    Telemetry,
)
from protocol.sim_state import SimState
from simlab.scenario.possible import possible_causes
from simulator.platform.lifecycle import Actor, refusal
from simulator.world.antenna import BROKEN_STEP_DB, COVERAGE_FAULT_DB, Antenna
from simulator.world.mobility import HOUR
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec import CoreProfile
from tests.diagnosis_worlds import T0
from tests.test_faults import AT
from tests.test_swap_tests import GOOD, SUSPECT, SWAP_AT, swap_world, verdict
from tests.world_fixtures import collars, world

if TYPE_CHECKING:
    from pathlib import Path

ICCID = "89462046040000000011"
H = 3600.0


# ---- the simulator ------------------------------------------------------------------------------


def test_a_broken_antenna_steps_down_at_once_and_is_gone_within_the_hour() -> None:
    antenna = Antenna()
    antenna.break_down(100.0)
    assert antenna.loss_db(100.0) == BROKEN_STEP_DB
    assert BROKEN_STEP_DB < antenna.loss_db(100.0 + HOUR / 2) < COVERAGE_FAULT_DB
    assert antenna.loss_db(100.0 + HOUR) == COVERAGE_FAULT_DB
    antenna.fade(0.0)  # coverage fading: a ramp over three hours, no step
    assert antenna.loss_db(0.0) == 0.0
    assert antenna.loss_db(HOUR) == COVERAGE_FAULT_DB / 3
    antenna.mend()
    assert antenna.loss_db(1e6) == 0.0


def _run(fault: dict, until: float, **extra: object) -> tuple[MemorySink, list]:
    spec = world(devices=[collars(3)], faults=[{"at": AT, **fault}], seed=3, **extra)  # type: ignore[arg-type]
    sink = MemorySink()
    result = simulate(spec, sink, until=until)
    assert result.error is None, result.error
    return sink, result.truth


def _of(sink: MemorySink, device: str, iccid: str | None = None) -> list:
    return [
        m
        for m in sink.messages
        if getattr(m, "device_id", None) == device or (iccid and getattr(m, "iccid", "") == iccid)
    ]


def test_a_purge_names_its_job_and_after_8_the_device_returns_at_its_hourly_reset() -> None:
    fault = {"fault": "sim_purged", "duration": 2 * H, "devices": ["collar-0001"]}
    back = AT + 2 * H
    for core, within in ((CoreProfile.SIMPLE, 15 * 60), (CoreProfile.ANNEX_A, 1.2 * H)):
        sink, truth = _run(fault, back + 2 * H, core=core)
        iccid = next(m.iccid for m in _of(sink, "collar-0001") if m.kind == "telemetry")
        changes = [
            (m.old, m.new, m.actor, m.reason)
            for m in _of(sink, "-", iccid)
            if m.kind == "state_change"
        ]
        assert changes == [
            ("ACTIVATED", "RETIRED", "operator", "bulk purge of retired SIMs"),
            ("RETIRED", "PURGED", "operator", "bulk purge of retired SIMs"),
            ("PURGED", "ACTIVATED", "operator", "re-provisioned after a purge by mistake"),
        ]
        attaches = [m.t - T0 for m in _of(sink, "-", iccid) if m.kind == "attach"]
        returned = min(t for t in attaches if t >= back)
        assert returned - back <= within, (core, returned - back)
        rejects = [m.t for m in _of(sink, "-", iccid) if m.kind == "attach_reject"]
        if core is CoreProfile.ANNEX_A:  # #8: the SIM is invalid until the hourly modem reset
            assert all(b - a >= 0.9 * H for a, b in itertools.pairwise(rejects))
        else:  # #2: T3411 and T3402, retried by itself
            assert len(rejects) > 2 * 5
        assert [(r.cause, r.start, r.end) for r in truth] == [(Cause.SIM_PURGED, AT, back)]


def test_only_the_operator_can_undo_a_purge() -> None:
    assert refusal(SimState.PURGED, SimState.ACTIVATED, Actor.OPERATOR) is None
    for actor in (Actor.CUSTOMER, Actor.SYSTEM, Actor.BILLING):
        assert refusal(SimState.PURGED, SimState.ACTIVATED, actor) == (
            "only the operator may move a SIM from PURGED to ACTIVATED"
        )


def test_what_can_happen_knows_both_faults() -> None:
    spec = world(
        devices=[collars(3)],
        faults=[
            {"fault": "radio_hardware", "at": AT, "devices": ["collar-0001"]},
            {"fault": "sim_purged", "at": AT, "devices": ["collar-0002"]},
        ],
        swaps=[{"at": AT + H, "device": "collar-0001", "into": "collar-0002"}],
    )
    # the purge follows the SIM into collar-0001; the broken radio stays with collar-0001
    assert {Cause.RADIO_HARDWARE, Cause.SIM_PURGED} <= possible_causes(spec, "collar-0001")
    assert Cause.RADIO_HARDWARE not in possible_causes(spec, "collar-0002")
    assert Cause.SIM_PURGED in possible_causes(spec, "collar-0002")


# ---- the diagnosis, from plain data -------------------------------------------------------------


def _report(n: int, t: float, rsrp: float) -> Seen:
    return Seen(
        n,
        Telemetry(
            t=t,
            device_id="d1",
            iccid=ICCID,
            imei="356938035643809",
            seq=n,
            firmware="1.0",
            battery=None,
            supply_mv=None,
            uptime_s=3600,
            bearer="LTE-M",
            mcc_mnc="24001",
            cell_id=7,
            rsrp=rsrp,
            rsrq=-10.0,
            snr=5.0,
            apn="iot",
            ip="10.0.0.1",
        ),
    )


def _quiet_case(levels: list[float], every: float, peers: CellPeers | None) -> Case:
    reports = tuple(_report(i + 1, 1000.0 + i * every, rsrp) for i, rsrp in enumerate(levels))
    last = reports[-1].t
    detach = Seen(90, Detached(t=last + H, iccid=ICCID, reason="implicit"))
    return Case(
        now=last + 2 * H,
        device_id="d1",
        iccid=ICCID,
        detection_status="OFFLINE",
        interval_s=every,
        device=reports,
        network=(detach,),
        cell_peers=peers,
    )


FINE = CellPeers(cell=7, reporting=5, rsrp=-78.0)


def test_a_step_while_the_neighbours_are_fine_is_the_radio() -> None:
    diagnosis = diagnose(_quiet_case([-76, -77, -112, -116], 900.0, FINE))
    assert [c.cause for c in diagnosis.candidates] == [Cause.RADIO_HARDWARE]
    texts = [e.text for c in diagnosis.checks for e in c.evidence]
    assert "signal fell 35 dB at once, to -112 dBm" in texts
    assert any(t.startswith("5 other devices on cell 7 report since, at -78 dBm") for t in texts)
    for language in ("en", "sv"):
        message = customer_message(diagnosis, language)
        assert "Maasai" not in message.body  # nothing the case does not hold


def test_a_step_without_the_neighbours_names_both_with_the_test_that_separates_them() -> None:
    diagnosis = diagnose(_quiet_case([-76, -77, -112, -116], 900.0, None))
    assert [c.cause for c in diagnosis.candidates] == [Cause.RADIO_HARDWARE, Cause.COVERAGE_LOSS]
    assert diagnosis.separating_test == f"Run {SEPARATING_TEST}"
    assert "stays with this device" in diagnosis.separating_test
    message = customer_message(diagnosis)
    assert "swapping SIM cards" in message.body


def test_a_gradual_fade_or_weak_neighbours_is_coverage() -> None:
    faded = diagnose(_quiet_case([-76, -82, -88, -95, -101, -107, -116], 900.0, FINE))
    assert faded.cause is Cause.COVERAGE_LOSS
    weak = CellPeers(cell=7, reporting=4, rsrp=-117.0)  # the cell's coverage went with it
    stepped = diagnose(_quiet_case([-76, -77, -112, -116], 900.0, weak))
    assert stepped.cause is Cause.COVERAGE_LOSS
    sparse = diagnose(_quiet_case([-76, -77, -112], 2 * H, FINE))  # 35 dB in two hours: a fade
    assert sparse.cause is Cause.COVERAGE_LOSS


def test_the_neighbours_are_the_devices_that_reported_on_its_cell_since() -> None:
    me = DeviceFacts("d1", operator="24001", cell=7, last_report=100.0, rsrp=-116.0)
    others = [
        DeviceFacts("d2", operator="24001", cell=7, last_report=200.0, rsrp=-70.0),
        DeviceFacts("d3", operator="24001", cell=7, last_report=300.0, rsrp=-80.0),
        DeviceFacts("d4", operator="24001", cell=7, last_report=50.0, rsrp=-60.0),  # before
        DeviceFacts("d5", operator="24002", cell=7, last_report=300.0, rsrp=-60.0),  # other net
        DeviceFacts("d6", operator="24001", cell=8, last_report=300.0, rsrp=-60.0),  # other cell
    ]
    assert cell_peers([me, *others], me) == CellPeers(7, 2, -75.0)
    assert cell_peers(others, DeviceFacts("d7")) is None
    assert radio_reading(_quiet_case([-76], 900.0, CellPeers(7, 1, -70.0))).peers_fine is None


def test_a_purged_sim_is_named_whichever_number_the_core_sends() -> None:
    record = SimRecord(
        t=0.0, iccid=ICCID, imsi="240011234567890", msisdn=None, state="PURGED", account="acme",
        account_name="Acme", communication_plan="iot-se", rate_plan="iot-5mb", apns=["iot"],
        networks=["24001"], radio_types=["LTE-M"], imei_lock=False, locked_imei=None,
        data_blocked=False, device_name=None, site=None, time_zone=None,
    )  # fmt: skip
    for cause in (2, 8):
        reject = AttachRejected(
            t=10.0, iccid=ICCID, emm_cause=cause, mcc_mnc="24001", cell_id=7, rat="LTE-M"
        )
        settled = settle(reject, record, "PURGED")
        assert settled is not None
        assert settled.cause is Cause.SIM_PURGED
    change = StateChanged(
        t=5.0, iccid=ICCID, old="RETIRED", new="PURGED", actor="operator", reason="clean-up"
    )
    case = Case(
        now=100.0,
        device_id="d1",
        iccid=ICCID,
        detection_status="OFFLINE",
        record=record,
        network=(Seen(1, change),),
    )
    diagnosis = diagnose(case)
    assert diagnosis.cause is Cause.SIM_PURGED
    assert diagnosis.summary.startswith("SIM purged: SIM moved RETIRED -> PURGED by operator")
    assert diagnosis.started == 5.0


# ---- a swap test on a device with a broken radio ------------------------------------------------


def test_a_swap_on_a_broken_radio_says_the_fault_stays_with_the_device(tmp_path: Path) -> None:
    spec = swap_world({"fault": "radio_hardware"})
    support, _, result = verdict(spec, SWAP_AT + 2 * H, tmp_path)
    assert result.outcome is SwapOutcome.STAYS_WITH_DEVICE, result.summary
    diagnosis = support.diagnose_device(SUSPECT)
    assert diagnosis.cause is Cause.RADIO_HARDWARE
    assert support.diagnose_device(GOOD).cause is None


def test_before_the_network_lets_go_the_step_already_names_the_radio() -> None:
    case = _quiet_case([-76, -77, -112], 900.0, FINE)
    registered = (
        Seen(91, AttachAccepted(t=500.0, iccid=ICCID, imei="356938035643809", mcc_mnc="24001",
                                cell_id=7, rat="LTE-M")),
        Seen(92, SessionOpened(t=501.0, iccid=ICCID, session_id=1, apn="iot", ip="10.0.0.1")),
    )  # fmt: skip
    still_on = dataclasses.replace(case, network=registered, now=case.device[-1].t + 1800)
    diagnosis = diagnose(still_on)
    assert diagnosis.decided_by == "above_ip"
    assert [c.cause for c in diagnosis.candidates] == [Cause.RADIO_HARDWARE]
