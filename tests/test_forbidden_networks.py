"""The lists that keep a device off networks that refused it, and the standard's retry timers.

Seeded worlds, exact sequences: #11 writes the network into the SIM's own list
(EF_FPLMN), which outlives a power cycle and a SIM swap, so the device does not try
the network again even after the plan allows it, until the operator clears the list
over the air or someone selects the network by hand; #13 forbids only the tracking
area; #8 from an Annex A core makes the SIM invalid until the modem is switched off.
"""

from __future__ import annotations

import copy
import itertools

import pytest

from diagnostics.diagnosis.messages import customer_message
from protocol.causes import Cause
from protocol.identifiers import iccid_range, imei_range
from protocol.nas import EmmCause
from simulator.world.mobility import HOUR
from simulator.world.selection import TA_LIST_HOURS
from simulator.world.spec import CoreProfile, FaultId
from tests.diagnosis_worlds import serve
from tests.test_world_sequences import rel, run
from tests.world_fixtures import CUSTOMER, FIRST_ICCID, FIRST_IMEI, START, collars, world

T0 = START.timestamp()
MS = 1.5e-3
SIM_A, SIM_B = (str(i) for i in iccid_range(FIRST_ICCID, 2))
IMEI_A, IMEI_B = (i.value for i in imei_range(FIRST_IMEI, 2))
A, CALF = "collar-0001", "calf-0001"
FRANCE, KENYA = "20801", "63902"
TO_FRANCE = [{"at": "2h", "lat": -1.40, "lon": 35.00}, {"at": "2h", "lat": 47.0, "lon": -2.0}]


def _customer() -> dict:
    """The savanna customer without IMEI locks, and a plan that also allows France."""
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["imei_lock"] = False
    europe = copy.deepcopy(customer["communication_plans"][0])
    europe["name"] = "collar-europe"
    europe["networks"].append({"country": "FR"})
    customer["communication_plans"].append(europe)
    return customer


def _run(until: float, **parts):
    devices = [
        collars(1, mobility={"waypoints": TO_FRANCE}),
        collars(1, name="calf", first_iccid=SIM_B, first_imei=IMEI_B),
    ]
    return run(world(devices=devices, customer=_customer(), **parts), until)


def _net(messages, iccid: str, kind: str, since: float = 0.0, until: float = 1e12) -> list:
    return [
        m
        for m in messages
        if m.kind == kind and getattr(m, "iccid", None) == iccid and since <= rel(m) < until
    ]


def test_the_sims_list_outlives_a_power_cycle_and_a_swap_until_cleared_over_the_air():
    messages, result = _run(
        8 * HOUR,
        interventions=[
            {"at": "3h", "action": "change_plan", "devices": [A], "value": "collar-europe"},
            {"at": "7h", "action": "clear_forbidden_networks", "devices": [A]},
        ],
        faults=[{"fault": "power_loss", "at": "3.5h", "duration": "10m", "devices": [A]}],
        swaps=[{"at": "5h", "device": A, "into": CALF, "back_at": "6h"}],
    )
    (refused,) = _net(messages, SIM_A, "attach_reject")
    assert (refused.mcc_mnc, refused.emm_cause, refused.imei) == (FRANCE, 11, IMEI_A)
    assert 2 * HOUR < rel(refused) < 3 * HOUR
    (plan,) = _net(messages, SIM_A, "audit")
    assert (plan.field, plan.new, rel(plan)) == ("communication_plan", "collar-europe", 3 * HOUR)
    records = _net(messages, SIM_A, "record", since=3 * HOUR)
    assert "FR" in records[0].networks
    # the plan allows France from 3 h, yet SIM A tries it only after the list is cleared at 7 h:
    # not after the power cycle (3 h 40), not in the calf's collar (5-6 h), not back home
    on_france = [m for m in _net(messages, SIM_A, "attach") if m.mcc_mnc == FRANCE]
    assert [(rel(m), m.imei) for m in on_france] == [(7 * HOUR, IMEI_A)]
    in_calf = _net(messages, SIM_A, "attach", since=5 * HOUR, until=6 * HOUR)
    assert [(m.mcc_mnc, m.imei) for m in in_calf] == [(KENYA, IMEI_B)]
    # SIM B in the collar in France is refused there too, and keeps that on its own card
    (b_refused,) = _net(messages, SIM_B, "attach_reject")
    assert (b_refused.mcc_mnc, b_refused.imei) == (FRANCE, IMEI_A)
    files = result.world.sim_files
    assert (files.forbidden(SIM_A), files.forbidden(SIM_B)) == ((), (FRANCE,))
    # ground truth: the collar is off the network from the first scan after #11 to 7 h
    (roaming,) = [r for r in result.truth if r.fault is FaultId.ROAMING_NOT_ALLOWED]
    assert roaming.device_id == A
    assert 5 - MS <= roaming.start - rel(refused) <= 15 + MS
    assert roaming.end is not None
    assert 7 * HOUR <= roaming.end <= 7 * HOUR + 60


def test_a_network_selected_by_hand_is_tried_once_and_leaves_the_sims_list():
    messages, result = _run(
        5 * HOUR,
        interventions=[
            {"at": "1h", "action": "select_network", "devices": [A], "value": FRANCE},
            {"at": "3h", "action": "change_plan", "devices": [A], "value": "collar-europe"},
            {"at": "4h", "action": "select_network", "devices": [A], "value": FRANCE},
        ],
    )
    # at 1 h France is not heard in Kenya: the selection lapses; at 4 h it is tried and accepted
    (attach,) = [m for m in _net(messages, SIM_A, "attach") if m.mcc_mnc == FRANCE]
    assert rel(attach) == 4 * HOUR
    assert len(_net(messages, SIM_A, "attach_reject")) == 1
    assert result.world.sim_files.forbidden(SIM_A) == ()


def test_13_forbids_the_tracking_area_not_the_network():
    """Annex A answers a radio type the plan leaves out with #13 (Open5GS, Diameter 5421)."""
    messages, result = _run(
        30 * HOUR,
        core=CoreProfile.ANNEX_A,
        faults=[{"fault": "radio_type_not_allowed", "at": "1h", "devices": [CALF]}],
    )
    rejects = _net(messages, SIM_B, "attach_reject")
    assert {(m.emm_cause, m.rat) for m in rejects} == {(13, "NB-IoT")}
    first, second, *later = rejects
    # both cells of 63902 are tried at once (one area each): the network itself is not barred
    assert (first.cell_id, second.cell_id) == (101, 102)
    assert rel(second) - rel(first) <= 15 + MS
    # the next try waits for the list's deletion, 12-24 h on
    lo, hi = TA_LIST_HOURS
    assert later
    assert lo * HOUR <= rel(later[0]) - rel(first) <= hi * HOUR + 600
    assert result.world.sim_files.forbidden(SIM_B) == ()


@pytest.mark.parametrize(
    ("core", "cause", "waits"),
    [
        (CoreProfile.SIMPLE, EmmCause.IMSI_UNKNOWN_IN_HSS, [10, 10, 10, 10, 720] * 3),
        (CoreProfile.ANNEX_A, EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED, None),
    ],
    ids=["simple", "annex-a"],
)
def test_an_unknown_subscriber_retries_as_its_cause_says(core, cause, waits):
    """#2 is no EPS attach cause, so T3411/T3402 apply; #8 bars the SIM until a switch-off."""
    messages, _ = _run(
        4 * HOUR,
        core=core,
        faults=[{"fault": "sim_not_provisioned", "at": "1h", "devices": [CALF]}],
    )
    rejects = _net(messages, SIM_B, "attach_reject")
    assert {m.emm_cause for m in rejects} == {cause}
    gaps = [round(rel(b) - rel(a), 3) for a, b in itertools.pairwise(rejects)]
    if waits is not None:
        assert gaps[: len(waits)] == waits
    else:  # TS.34: one modem reset about an hour after a permanent reject
        assert len(gaps) >= 2
        assert all(0.9 * HOUR <= gap <= 1.1 * HOUR + 60 for gap in gaps)


def test_support_is_told_the_sims_list_holds_the_network_the_plan_now_allows(tmp_path):
    devices = [collars(1, mobility={"waypoints": TO_FRANCE})]
    added = {"at": "3h", "action": "change_plan", "devices": [A], "value": "collar-europe"}
    spec = world(devices=devices, customer=_customer(), interventions=[added])
    support, _, _ = serve(spec, 5 * HOUR, tmp_path)
    diagnosis = support.diagnose_device(A)
    assert diagnosis.cause is Cause.ROAMING_NOT_ALLOWED
    registration = next(c for c in diagnosis.checks if c.name == "registration")
    assert any("forbidden-network list" in e.text for e in registration.evidence)
    assert diagnosis.facts["network_added"] == T0 + 3 * HOUR
    body = customer_message(diagnosis).body
    assert "Until 2 March 2026 at 06:00 (Africa/Nairobi time), that network was not" in body
    assert "We added the network for the SIM card on 2 March 2026 at 06:00" in body
    assert "connects again once we have cleared the list" in body
    assert "we will add the network" not in body
