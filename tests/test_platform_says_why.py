"""A used-up pool blocks every SIM in it, and the platform's own word says why a SIM stopped.

A pooled rate plan runs out for all its SIMs at once: the simulator blocks each, ground truth
names each, and the platform publishes the pool, its size and when the block lifts, so the
diagnosis and the message say the shared pool is used up, not one SIM's cap. A SIM taken out
of service says who did it and why, as the audit trail gives them, and never a guessed reason.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from diagnostics.diagnosis import Case, diagnose
from diagnostics.diagnosis.messages import customer_message
from protocol.causes import Cause
from protocol.messages import DataBlocked, SimRecord, StateChanged, Telemetry
from simlab.scoring import DeviceView, ExpectedDevice, score
from simulator.errors import SimulatorError
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec_problems import world_problems
from tests.test_diagnosis import ICCID, T
from tests.test_diagnosis import _case as diagnosis_case
from tests.test_diagnosis import _record as record
from tests.test_diagnosis import _report as report
from tests.world_fixtures import CUSTOMER, collars, world

H = 3600.0
POOL = "savanna/collar-pool"


def _pooled_customer() -> dict:
    customer = copy.deepcopy(CUSTOMER)
    customer["rate_plans"].append(
        {"name": "collar-pool", "allowance": "1 MB", "pooled": True, "overage_limit": "0 MB"}
    )
    first = customer["sim_ranges"][0]
    first.update(count=10, rate_plan="collar-pool", imei_lock=False)
    return customer


def _run(**fault: object):
    spec = world(
        devices=[collars(4, battery_mah=None)],
        customer=_pooled_customer(),
        faults=[{"fault": "data_limit_reached", "at": "2h", **fault}],
    )
    sink = MemorySink()
    result = simulate(spec, sink, until=4 * H)
    assert result.error is None, result.error
    return result, list(sink.messages)


@pytest.mark.parametrize(
    "target",
    [{"devices": ["collar-0002", "collar-0003"]}, {"pool": POOL}],
    ids=["two-sims-of-the-pool-named", "pool-scope"],
)
def test_a_used_up_pool_blocks_and_names_every_sim_in_it(target):
    result, messages = _run(**target)
    assert sorted(r.device_id for r in result.truth) == [f"collar-000{n}" for n in (1, 2, 3, 4)]
    assert {r.cause for r in result.truth} == {Cause.DATA_LIMIT_REACHED}
    blocks = [m for m in messages if isinstance(m, DataBlocked) and m.blocked]
    assert len(blocks) == 4
    start = result.world.spec.start.timestamp()
    for block in blocks:
        assert (block.pool, block.pool_sims, block.limit) == (POOL, 10, 10_000_000)
        assert block.until == start + 30 * 86_400  # 2 March → the cycle of 1 April
    records = [m for m in messages if isinstance(m, SimRecord)]
    assert {r.pool for r in records} == {POOL}


def test_a_pool_nobody_has_is_refused_by_name():
    spec = world(
        customer=_pooled_customer(),
        faults=[{"fault": "data_limit_reached", "at": "1h", "pool": "savanna/collar-5mb"}],
    )
    assert (("faults", 0, "pool"), "data_limit_reached: unknown pool 'savanna/collar-5mb'") in (
        world_problems(spec)
    )


def test_a_plan_per_sim_still_blocks_only_the_sim_named():
    spec = world(
        devices=[collars(3, battery_mah=None)],
        faults=[{"fault": "data_limit_reached", "at": "1h", "devices": ["collar-0001"]}],
    )
    result = simulate(spec, MemorySink(), until=2 * H)
    assert [r.device_id for r in result.truth] == ["collar-0001"]
    assert not isinstance(result.error, SimulatorError)


# ---- the diagnosis and the message ----------------------------------------------------------


def _case(*network: object) -> Case:
    return diagnosis_case(report(T + H), *network)


def _blocked(**pool: object) -> DataBlocked:
    return DataBlocked(
        t=T + 2 * H,
        iccid=ICCID,
        blocked=True,
        reason="data limit of rate plan collar-pool reached",
        limit=10_000_000,
        until=T + 30 * 86_400,
        **pool,  # type: ignore[arg-type]
    )


def test_a_used_up_pool_says_so_with_its_size_and_when_service_resumes():
    diagnosis = diagnose(_case(_blocked(pool=POOL, pool_sims=10)))
    assert diagnosis.cause is Cause.DATA_LIMIT_REACHED
    assert diagnosis.summary == (
        "Data limit reached: Shared data pool savanna/collar-pool of 10 SIMs (10 MB) used up at "
        "2026-03-02 02:00:00 UTC: data is blocked for every SIM in the pool, not only this one; "
        "service resumes at 2026-04-01 00:00:00 UTC (next billing cycle)"
    )
    message = customer_message(diagnosis)
    assert message.subject == "Giraffe collar 1: shared data pool used up"
    assert "the data pool its SIM card shares with 9 other SIM cards was used up" in message.body
    assert "The pool holds 10 MB for all 10 SIM cards" in message.body
    assert "on 1 April 2026 at 03:00 (Africa/Nairobi time)" in message.body


def test_a_sims_own_cap_says_nothing_of_a_pool():
    diagnosis = diagnose(_case(_blocked()))
    assert "Shared data pool" not in diagnosis.summary
    assert "at its limit of 10 MB" in diagnosis.summary
    body = customer_message(diagnosis).body
    assert "pool" not in body
    assert "on 1 April 2026 at 03:00 (Africa/Nairobi time)" in body


def _deactivated(actor: str, reason: str) -> StateChanged:
    return StateChanged(
        t=T + 2 * H, iccid=ICCID, old="ACTIVATED", new="DEACTIVATED", actor=actor, reason=reason
    )


def test_a_billing_deactivation_says_so_and_what_the_customer_can_do():
    diagnosis = diagnose(_case(_deactivated("billing", "invoice INV-88 overdue")))
    assert diagnosis.cause is Cause.SIM_DEACTIVATED
    assert "by billing: invoice INV-88 overdue" in diagnosis.summary
    assert "returns once the customer settles the invoice with billing" in diagnosis.summary
    for language, said in (
        ("en", ("Our billing department deactivated", "invoice INV-88 overdue", "Settle the")),
        ("sv", ("Vår faktureringsavdelning har avaktiverat", "invoice INV-88 overdue", "Betala")),
    ):
        body = customer_message(diagnosis, language).body
        assert all(words in body for words in said), body


def test_a_deactivation_by_the_customer_says_that_instead():
    diagnosis = diagnose(_case(_deactivated("customer", "device sold")))
    body = customer_message(diagnosis).body
    assert "A user of your own account deactivated its SIM card" in body
    assert "The reason they gave: device sold." in body
    assert "billing" not in body


def test_without_the_platforms_word_no_reason_is_guessed():
    diagnosis = diagnose(dataclasses.replace(_case(), record=record(state="DEACTIVATED")))
    assert diagnosis.cause is Cause.SIM_DEACTIVATED
    body = customer_message(diagnosis).body
    assert "We are checking why the SIM card is no longer active." in body
    assert "billing" not in body
    assert "reason" not in body


# ---- the answer key's SIM state -------------------------------------------------------------


def test_the_scorer_holds_the_sim_state_shown_against_the_key():
    def card(shown: str | None):
        view = DeviceView("c-1", 900.0, ((T + H, "OFFLINE"),), "sim_deactivated", sim_state=shown)
        return score(
            expected=[ExpectedDevice("c-1", "sim_deactivated", T, sim_state="DEACTIVATED")],
            expected_incidents=[],
            truth=[],
            views={"c-1": view},
            incidents=[],
        )

    assert card("DEACTIVATED").passed
    assert not card("RETIRED").passed
    assert card("RETIRED").devices[0].sim_state_shown == "RETIRED"


# ---- a device's starting battery ------------------------------------------------------------


def test_a_device_starts_at_the_battery_level_its_group_gives():
    sink = MemorySink()
    simulate(world(devices=[collars(1, battery_pct=42)]), sink, until=H)
    levels = [m.battery for m in sink.messages if isinstance(m, Telemetry)]
    assert levels
    assert 41.0 <= levels[0] <= 42.0
