"""A platform fault written for an account: every SIM of the account, and one group of its kind.

Billing deactivates an account, or an operator purges one, and every SIM in it (and in the
accounts under it) stops at once: ground truth names each SIM, the diagnosis groups the
devices as a platform-side group of kind account (never a network outage), and staff get
one fleet message for the account. The generator writes such faults too.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import pytest

from diagnostics.diagnosis.fleet import fleet_messages
from protocol.causes import Cause
from protocol.identifiers import iccid_range
from simlab.direct import serve
from simlab.fuzz.draw import draw
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec_problems import world_problems
from tests.world_fixtures import CUSTOMER, FIRST_ICCID, START, collars, world

if TYPE_CHECKING:
    from pathlib import Path

H = 3600.0
T0 = START.timestamp()
ICCIDS = [str(i) for i in iccid_range(FIRST_ICCID, 12)]


def _customer(*, nested: bool) -> dict:
    """Collars 1-4 on the enterprise's own account, 5-10 on `savanna-east`, 11-12 below it
    (`savanna-mara`) when `nested`, else on the enterprise's account too."""
    customer = copy.deepcopy(CUSTOMER)
    customer["accounts"] += [
        {"id": "savanna-east", "name": "East", "kind": "business_unit", "parent": "savanna"},
        {"id": "savanna-mara", "name": "Mara", "kind": "end_consumer", "parent": "savanna-east"},
    ]
    first = customer["sim_ranges"][0]
    ranges = []
    last = "savanna-mara" if nested else "savanna"
    for start, count, account in ((0, 4, "savanna"), (4, 6, "savanna-east"), (10, 2, last)):
        imsi = f"{int(first['first_imsi']) + start:015d}"
        ranges.append(
            first
            | {"first_iccid": ICCIDS[start], "first_imsi": imsi, "count": count, "account": account}
        )
    customer["sim_ranges"] = ranges
    return customer


def _world(fault: dict, *, nested: bool = False):
    return world(
        devices=[collars(12, battery_mah=None)],
        customer=_customer(nested=nested),
        faults=[{"fault": "sim_deactivated", "at": "2h", "value": "2026-0412", **fault}],
    )


@pytest.mark.parametrize(("nested", "reached"), [(False, 6), (True, 8)], ids=["flat", "tree"])
def test_an_account_fault_reaches_every_sim_of_the_account_and_those_below(nested, reached):
    result = simulate(_world({"account": "savanna-east"}, nested=nested), MemorySink(), until=3 * H)
    assert result.error is None, result.error
    truth = sorted((r.device_id, r.iccid, r.cause, r.start) for r in result.truth)
    assert truth == [
        (f"collar-{n:04d}", ICCIDS[n - 1], Cause.SIM_DEACTIVATED, 2 * H)
        for n in range(5, 5 + reached)
    ]


def test_an_account_is_a_scope_of_the_platforms_faults_only_and_must_exist():
    problems = world_problems(_world({"account": "savanna-west"}))
    assert (("faults", 0, "account"), "sim_deactivated: unknown account 'savanna-west'") in problems
    both = world_problems(_world({"account": "savanna-east", "devices": ["collar-0001"]}))
    assert both == [
        (("faults", 0, "account"), "give the account, or devices, or a pool: one of them")
    ]
    outage = world(faults=[{"fault": "cell_outage", "at": "1h", "cell": 101, "account": "savanna"}])
    ((where, message),) = world_problems(outage)
    assert where == ("faults", 0, "account")
    assert message == (
        "cell_outage does not strike an account; these do: sim_deactivated, sim_not_provisioned, "
        "sim_purged, data_limit_reached"
    )


def test_an_accounts_sims_are_one_platform_group_and_one_fleet_message(tmp_path: Path):
    support, _, _ = serve(_world({"account": "savanna-east"}), 5 * H, tmp_path)
    incidents = [
        (i.kind, i.dimension, i.value, i.cause, sorted(i.members))
        for i in support.service.grouper.incidents.values()
    ]
    east = [f"collar-{n:04d}" for n in range(5, 11)]
    assert incidents == [("platform", "account", "savanna-east", "sim_deactivated", east)]
    (message,) = fleet_messages(support.diagnose_down(at=T0 + 5 * H))
    assert (message.account, message.cause, message.device_ids) == (
        "savanna-east",
        Cause.SIM_DEACTIVATED,
        tuple(east),
    )
    assert message.subject == "6 of your devices: a SIM card deactivated by our billing department"


@pytest.mark.unit
def test_the_generator_writes_faults_for_an_account_and_expects_its_group():
    d = draw(28)
    (fault,) = (f for f in d.world()["faults"] if "account" in f)
    assert fault == {"fault": "sim_purged", "at": "778m", "account": "dalecycleab-1"}
    group = d.group_of("g1-0001")
    assert (group.account, len(group.ids)) == ("dalecycleab-1", 13)
    assert {"dimension": "account", "value": "dalecycleab-1", "start": 46680.0} in [
        {k: i[k] for k in ("dimension", "value", "start")} for i in d.incidents
    ]
