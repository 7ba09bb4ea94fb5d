"""SIMs that move: one device <-> SIM map, and each device diagnosed with the SIM it holds now.

Seeded worlds move a collar's SIM into another collar for good (`world.moves`) or
cross-swap two collars' SIMs; the stream goes to a real service (SQLite store) in
order, reversed and shuffled, and support diagnoses both devices afterwards.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from diagnostics.diagnosis.messages import customer_message
from diagnostics.diagnosis.swap import SwapOutcome
from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.sim_map import SimMap
from diagnostics.store import SQLiteStore
from diagnostics.support import Support
from protocol.causes import Cause
from protocol.messages import AttachRejected, AuditRecorded, Clock, StateChanged, Telemetry
from protocol.wire import Topics, encode
from simlab.resources import bundled
from simlab.scenario import load_scenario
from simlab.scenario.checks import scenario_problems
from simlab.scenario.model import AnswerKey
from simlab.scenario.possible import possible_causes
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec import SwapSpec
from simulator.world.spec_problems import world_problems
from tests.diagnosis_worlds import T0, serve
from tests.test_swap_tests import unlocked_customer
from tests.world_fixtures import collars, world

if TYPE_CHECKING:
    from pathlib import Path

H = 3600.0
AT = 2 * H
MOVE_AT = AT + H
GIVER, RECEIVER = "collar-0001", "collar-0002"
SWAP_ASK = "swapping SIM cards"
"""How the customer message asks for a swap test (languages/en.yaml, tests.swap.intro)."""


def moved_world(*, faults: list[dict], locked: bool, swaps=(), moves=None):
    return world(
        devices=[collars(4)],
        faults=faults,
        swaps=list(swaps),
        moves=[{"at": MOVE_AT, "device": GIVER, "into": RECEIVER}] if moves is None else moves,
        customer=None if locked else unlocked_customer(),
        seed=11,
    )


def _first_sim(support: Support, device_id: str) -> str | None:
    from diagnostics.cases import sim_before  # noqa: PLC0415

    return sim_before(support.service.store, device_id, T0 + AT)


# ---- the map --------------------------------------------------------------------------------


def test_out_of_order_delivery_gives_the_same_map() -> None:
    spec = moved_world(
        faults=[],
        locked=False,
        swaps=[{"at": AT, "device": "collar-0003", "into": "collar-0004"}],
    )
    sink = MemorySink()
    result = simulate(spec, sink, until=MOVE_AT + 2 * H)
    assert result.error is None, result.error
    messages = list(sink.messages)
    shuffled = list(messages)
    random.Random(3).shuffle(shuffled)
    maps = []
    for order in (messages, list(reversed(messages)), shuffled):
        sims = SimMap()
        for message in order:
            sims.observe(message)
        maps.append(sims)
    world_now = {d.id: d.sim for d in result.world.devices}  # type: ignore[union-attr]
    iccids = {getattr(m, "iccid", None) for m in messages} - {None, ""}
    answers = [
        (
            {i: m.holder(i) for i in sorted(iccids)},  # type: ignore[arg-type]
            {d: m.sim_of(d) for d in sorted(world_now)},
        )
        for m in maps
    ]
    assert answers[0] == answers[1] == answers[2]
    # and the map is the world's: the swapped pair crossed, the move reached its new device
    assert answers[0][1] == world_now | {GIVER: None}
    assert world_now[GIVER] is None


def test_the_platforms_word_names_an_old_imei_and_pairs_nothing() -> None:
    # SIM B went from device 2 (IMEI ...2) into device 1 (IMEI ...1) and was refused there;
    # the platform last saw B in IMEI ...2, and its later audit entry and state change say so
    a, b = "8946000000000000011", "8946000000000000029"
    imei1, imei2 = "350000000000011", "350000000000029"
    sims = SimMap()
    for message in (
        _report("dev-1", a, imei1, 100.0),
        _report("dev-2", b, imei2, 100.0),
        AttachRejected(t=200.0, iccid=b, imei=imei1, mcc_mnc="64101", cell_id=9, rat="LTE-M",
                       emm_cause=11),
        AuditRecorded(t=300.0, iccid=b, imei=imei2, field="comm_plan", old="p1", new="p2",
                      actor="user", reason="travel plan"),
        StateChanged(t=300.0, iccid=b, imei=imei2, old="ACTIVATED", new="DEACTIVATED",
                     actor="user", reason="billing"),
    ):  # fmt: skip
        sims.observe(message)
    assert sims.holder(b) == "dev-1"
    assert sims.sim_of("dev-1") == b
    assert sims.sim_of("dev-2") is None


def test_a_map_rebuilt_before_the_devices_first_report_knows_it_by_its_hardware() -> None:
    # a past moment before dev-4 first reported: the network had refused its SIM in its IMEI
    iccid, imei = "8946000000000000037", "350000000000037"
    owners = {imei: "dev-4"}  # the whole map: dev-4 reports with this IMEI later
    refused = AttachRejected(t=200.0, iccid=iccid, imei=imei, mcc_mnc="26201", cell_id=9,
                             rat="LTE-M", emm_cause=11)  # fmt: skip
    then = SimMap(owners=owners.get)
    then.observe(refused)
    assert then.holder(iccid) == "dev-4"
    assert then.sim_of("dev-4") is None  # the device's own IMEIs are not in this part
    then.known_imeis("dev-4", frozenset({imei}))
    assert then.sim_of("dev-4") == iccid
    assert then.sim_of("dev-5") is None


def _report(device_id: str, iccid: str, imei: str, t: float) -> Telemetry:
    return Telemetry(
        t=t, device_id=device_id, iccid=iccid, imei=imei, seq=1, firmware="1.0", battery=None,
        supply_mv=None, bearer="LTE-M", mcc_mnc="64101", cell_id=9, rsrp=-80.0, rsrq=-10.0,
        snr=8.0, apn="iot", ip="10.0.0.7", uptime_s=100,
    )  # fmt: skip


def test_the_service_keeps_one_map_whatever_the_delivery_order(tmp_path: Path) -> None:
    spec = moved_world(faults=[], locked=True)
    sink = MemorySink()
    assert simulate(spec, sink, until=MOVE_AT + 2 * H).error is None
    topics = Topics("diag/simlab")
    items = [
        Received(topics.for_message(m, a), encode(m), 1, n, 0.0)
        for n, (m, a) in enumerate(zip(sink.messages, sink.accounts, strict=True), start=1)
        if a and not isinstance(m, Clock)
    ]
    shuffled = list(items)
    random.Random(5).shuffle(shuffled)
    now = T0 + MOVE_AT + 2 * H
    answers = []
    for k, order in enumerate((items, shuffled)):
        service = Service(store=SQLiteStore(tmp_path / f"{k}.sqlite"), topics=topics)
        for start in range(0, len(order), 400):
            service.handle(order[start : start + 400])
        service.handle([Received(topics.clock(), encode(Clock(t=now)), 1, 0, 0.0)])
        sims = service.sims
        devices = sorted(service.detector.ids)
        receiver = Support(service).diagnose_device(RECEIVER)
        answers.append(({d: sims.sim_of(d) for d in devices}, receiver.cause, receiver.iccid))
        assert service.feed.sims is sims  # detection reads the same map
    assert answers[0] == answers[1]
    held, cause, iccid = answers[0]
    assert held[GIVER] is None
    assert (cause, iccid) == (Cause.IMEI_LOCK_MISMATCH, held[RECEIVER])


# ---- the receiving device: IMEI lock or black-listed IMEI -----------------------------------


def test_a_locked_sim_moved_into_a_new_device_is_its_imei_lock(tmp_path: Path) -> None:
    # the giver dies first; its SIM, locked to the giver's IMEI, goes into the receiver
    spec = moved_world(faults=[{"fault": "power_loss", "at": AT, "devices": [GIVER]}], locked=True)
    support, truth, _ = serve(spec, MOVE_AT + 3 * H, tmp_path)
    moved = _first_sim(support, GIVER)
    assert {(r.device_id, r.cause) for r in truth} >= {
        (GIVER, Cause.POWER_LOSS),
        (RECEIVER, Cause.IMEI_LOCK_MISMATCH),
    }
    receiver = support.diagnose_device(RECEIVER)
    assert (receiver.cause, receiver.iccid) == (Cause.IMEI_LOCK_MISMATCH, moved)
    giver_imei = next(iter(support.service.sims.imeis(GIVER)))
    assert receiver.facts["imei_locked"] == giver_imei
    # the giver is diagnosed from its SIM's events while it held it, not the refusals after
    giver = support.diagnose_device(GIVER)
    assert giver.iccid is None
    # its SIM was read in the other device (not damaged); coverage lost, or a radio broken,
    # between reports is not ruled out by anything on the wire
    assert [c.cause for c in giver.candidates] == [
        Cause.POWER_LOSS,
        Cause.COVERAGE_LOSS,
        Cause.RADIO_HARDWARE,
    ]
    assert "IMEI" not in giver.summary
    # the SIM's own diagnosis goes through the device that holds it now
    assert support.diagnose_sim(moved or "").device_id == RECEIVER


def test_a_device_that_gave_its_sim_away_is_not_asked_to_swap_a_sim_it_does_not_hold(
    tmp_path: Path,
) -> None:
    spec = moved_world(faults=[], locked=False)
    support, _, _ = serve(spec, MOVE_AT + 3 * H, tmp_path)
    giver = support.diagnose_device(GIVER)
    assert giver.iccid is None
    assert "Quiet since its SIM went into another device" in giver.summary
    assert any(
        e.text == "its SIM tried to register in another device"
        for c in giver.checks
        for e in c.evidence
    )
    assert not _asks_for_a_swap(support, GIVER)
    assert support.diagnose_device(RECEIVER).healthy


def test_an_unlocked_sim_refused_in_a_blacklisted_device_is_that_device_identity(
    tmp_path: Path,
) -> None:
    spec = moved_world(
        faults=[{"fault": "imei_blacklisted", "at": AT, "devices": [RECEIVER]}], locked=False
    )
    support, _, _ = serve(spec, MOVE_AT + 3 * H, tmp_path)
    receiver = support.diagnose_device(RECEIVER)
    assert receiver.iccid == _first_sim(support, GIVER)
    assert receiver.cause is Cause.IMEI_BLACKLISTED
    assert "imei_locked" not in receiver.facts


def test_a_locked_sim_refused_in_a_blacklisted_device_it_is_locked_to_is_the_blacklist(
    tmp_path: Path,
) -> None:
    # the receiver's own SIM is locked to the receiver: its IMEI cause there is the device's
    spec = moved_world(
        faults=[{"fault": "imei_blacklisted", "at": AT, "devices": [RECEIVER]}],
        locked=True,
        moves=[],
    )
    support, _, _ = serve(spec, AT + 2 * H, tmp_path)
    receiver = support.diagnose_device(RECEIVER)
    assert receiver.cause is Cause.IMEI_BLACKLISTED
    assert receiver.iccid == _first_sim(support, RECEIVER)


# ---- a swap verdict changes both devices' diagnoses and messages -----------------------------


def _swap(fault: str, tmp_path: Path) -> tuple[Support, str]:
    swap_at = AT + 2 * H
    spec = world(
        devices=[collars(4)],
        faults=[{"fault": fault, "at": AT, "devices": [GIVER]}],
        swaps=[{"at": swap_at, "device": GIVER, "into": RECEIVER}],
        customer=unlocked_customer(),
        seed=5,
    )
    support, _, _ = serve(spec, swap_at + 2 * H, tmp_path)
    before = support.diagnose_device(GIVER, at=T0 + swap_at - 60)
    assert SWAP_ASK in customer_message(before).body  # asked for before the test
    test = support.register_swap(suspect_device=GIVER, good_device=RECEIVER, at=T0 + swap_at)
    return support, support.swap_result(test.id).outcome


def _asks_for_a_swap(support: Support, device_id: str) -> bool:
    diagnosis = support.diagnose_device(device_id)
    return diagnosis.separating_test is not None or SWAP_ASK in customer_message(diagnosis).body


def test_after_stays_with_the_device_the_device_fault_comes_first(tmp_path: Path) -> None:
    support, outcome = _swap("power_loss", tmp_path)
    assert outcome is SwapOutcome.STAYS_WITH_DEVICE
    suspect = support.diagnose_device(GIVER)
    # a swap leaves both a power cut and a broken radio with the device
    assert [c.cause for c in suspect.candidates] == [Cause.POWER_LOSS, Cause.RADIO_HARDWARE]
    assert suspect.decided_by == "swap_test"
    assert not _asks_for_a_swap(support, GIVER)
    assert not _asks_for_a_swap(support, RECEIVER)
    assert support.diagnose_device(RECEIVER).cause is None


def test_after_follows_the_sim_the_device_holding_it_has_the_sim_fault(tmp_path: Path) -> None:
    support, outcome = _swap("damaged_sim", tmp_path)
    assert outcome is SwapOutcome.FOLLOWS_SIM
    holder = support.diagnose_device(RECEIVER)
    assert [c.cause for c in holder.candidates] == [Cause.DAMAGED_SIM]
    assert "damaged" in customer_message(holder).body.lower()
    assert not _asks_for_a_swap(support, RECEIVER)
    assert not _asks_for_a_swap(support, GIVER)
    assert support.diagnose_device(GIVER).cause is None


# ---- the format --------------------------------------------------------------------------------


def test_an_answer_key_may_hold_the_imei_lock_on_the_device_a_locked_sim_moved_into() -> None:
    locked = possible_causes(moved_world(faults=[], locked=True), RECEIVER)
    unlocked = possible_causes(moved_world(faults=[], locked=False), RECEIVER)
    assert Cause.IMEI_LOCK_MISMATCH in locked
    assert Cause.IMEI_LOCK_MISMATCH not in unlocked
    # a SIM fault goes where the move takes the SIM
    damaged = moved_world(
        faults=[{"fault": "damaged_sim", "at": AT, "devices": [GIVER]}], locked=False
    )
    assert Cause.DAMAGED_SIM in possible_causes(damaged, RECEIVER)


def test_a_move_names_two_devices_of_the_world() -> None:
    spec = moved_world(
        faults=[],
        locked=False,
        moves=[
            {"at": MOVE_AT, "device": GIVER, "into": GIVER},
            {"at": MOVE_AT, "device": GIVER, "into": "collar-0099"},
        ],
    )
    assert world_problems(spec) == [
        (("moves", 0, "into"), "a SIM moves between two devices"),
        (("moves", 1, "into"), "unknown device 'collar-0099'"),
    ]


def test_a_device_a_sim_is_moved_out_of_must_be_in_the_answer_key() -> None:
    spec = load_scenario(bundled() / "sim-moved-into-spare-monitor.yaml")
    assert scenario_problems(spec) == []
    kept = [a for a in spec.answer_key.devices if a.device != "farm-0007"]
    dropped = spec.model_copy(
        update={
            "answer_key": AnswerKey(devices=kept),
            "world": spec.world.model_copy(update={"faults": []}),
        }
    )
    quiet = (
        "farm-0007 is left without a SIM at 9h and goes quiet; answer_key.devices must list it "
        "with the fault that stopped it first"
    )
    assert scenario_problems(dropped) == [(("world", "moves", 0, "device"), quiet)]


def test_a_past_moment_is_diagnosed_with_the_sim_the_device_held_then(tmp_path: Path) -> None:
    spec = moved_world(faults=[], locked=False, moves=[])
    spec = spec.model_copy(update={"swaps": [SwapSpec(at=AT, device=GIVER, into=RECEIVER)]})
    support, _, _ = serve(spec, AT + 2 * H, tmp_path)
    before = {d: _first_sim(support, d) for d in (GIVER, RECEIVER)}
    then = support.diagnose_device(GIVER, at=T0 + AT - 120)
    now = support.diagnose_device(GIVER)
    assert (then.iccid, now.iccid) == (before[GIVER], before[RECEIVER])


def test_a_lock_moved_since_is_read_as_it_stood_when_the_device_was_refused(
    tmp_path: Path,
) -> None:
    """A locked SIM put into replacement hardware at 1 h and refused #6 until the operator
    moves the lock at 4 h; asked afterwards about 3 h, support reads the lock as it was."""
    fault = {
        "fault": "imei_lock_mismatch",
        "at": "1h",
        "duration": "3h",
        "devices": ["collar-0001"],
    }
    support, truth, _ = serve(world(devices=[collars(3)], faults=[fault]), 6 * H, tmp_path)
    assert {(r.device_id, r.cause) for r in truth} == {("collar-0001", Cause.IMEI_LOCK_MISMATCH)}
    then = support.diagnose_device("collar-0001", at=T0 + 3 * H)
    assert then.cause is Cause.IMEI_LOCK_MISMATCH
    assert support.diagnose_device("collar-0001").healthy, "the lock moved: it works now"
