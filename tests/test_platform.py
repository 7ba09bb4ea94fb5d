"""The platform's automatic behaviour: quotas, limits, cycles, IMEI lock and automation rules."""

import pickle
from datetime import UTC, datetime

import pytest

from protocol.identifiers import Imei, iccid_range
from protocol.sim_state import SimState
from simulator.errors import (
    OnboardingConflictError,
    Problem,
    SimulatorError,
    SpecError,
    TransitionRefusedError,
    UnknownSimError,
)
from simulator.platform.audit import AuditField
from simulator.platform.lifecycle import Actor
from simulator.platform.platform import Platform
from tests.platform_fixtures import FIRST_ICCID, customer

ICCIDS = [str(i) for i in iccid_range(FIRST_ICCID, 4)]
SIM = ICCIDS[0]
PHONE = Imei.from_body("35693803564380")
OTHER_PHONE = Imei.from_body("49015420323751")
HOUR = 3600.0
DAY = 86_400.0


def onboarded(**kwargs) -> Platform:
    platform = Platform(start=datetime(2026, 3, 30, tzinfo=UTC))
    platform.onboard(customer(**kwargs))
    return platform


def state_changes(platform: Platform) -> list[tuple[float, str, str, str, str]]:
    return [
        (e.time, e.actor.name, SimState(e.old).name, SimState(e.new).name, e.reason)
        for e in platform.audit
        if e.field is AuditField.STATE and e.old >= 0
    ]


@pytest.mark.parametrize("after_test", ["ACTIVATED", "ACTIVATION_READY"])
def test_test_quota_used_moves_the_sim_on_per_account_setting(after_test):
    platform = onboarded(after_test=after_test)
    platform.record_usage(SIM, 12_000, now=10.0)
    assert platform.state(SIM) is SimState.TEST_READY
    platform.record_usage(SIM, 8_000, now=20.0)
    assert platform.state(SIM).name == after_test
    assert state_changes(platform) == [
        (20.0, "SYSTEM", "TEST_READY", after_test, "test quota of 20 KB used")
    ]
    assert platform.usage(SIM) == 0, "test data is free, not counted against the rate plan"


def test_first_data_session_activates_an_activation_ready_sim():
    platform = onboarded(state="ACTIVATION_READY")
    assert platform.open_session(SIM, now=5.0) is None
    assert platform.state(SIM) is SimState.ACTIVATED
    assert state_changes(platform) == [
        (5.0, "SYSTEM", "ACTIVATION_READY", "ACTIVATED", "first data session")
    ]
    platform.open_session(SIM, now=6.0)
    assert len(state_changes(platform)) == 1


@pytest.mark.parametrize("state", ["INVENTORY"])
def test_no_service_outside_service_states(state):
    platform = onboarded(state=state)
    assert platform.open_session(SIM, now=1.0) == "the SIM is INVENTORY"
    assert platform.attach(SIM, PHONE, now=1.0) == "the SIM is INVENTORY"
    with pytest.raises(SimulatorError, match="has no data service"):
        platform.record_usage(SIM, 1, now=1.0)


def test_data_limit_blocks_until_next_billing_cycle():
    # Start 2026-03-30 00:00 UTC: the next cycle begins 2026-04-01, 2 days later.
    platform = onboarded(state="ACTIVATED")
    platform.record_usage(SIM, 1_000_000, now=HOUR)  # the whole allowance
    assert not platform.data_blocked(SIM)
    platform.record_usage(SIM, 100_000, now=2 * HOUR)  # plus the 100 KB overage limit
    assert platform.data_blocked(SIM)
    assert platform.state(SIM) is SimState.ACTIVATED, "a data limit does not change the state"
    assert platform.open_session(SIM, now=3 * HOUR) == (
        "data is blocked: the rate plan's limit for this cycle is reached"
    )
    assert platform.open_session(SIM, now=2 * DAY - 1) is not None
    assert platform.open_session(SIM, now=2 * DAY) is None
    assert platform.usage(SIM) == 0
    blocked = [
        (e.time, e.old, e.new, e.reason)
        for e in platform.audit
        if e.field is AuditField.DATA_BLOCKED
    ]
    assert blocked == [
        (2 * HOUR, 0, 1, "data limit of rate plan small reached"),
        (2 * DAY, 1, 0, "new billing cycle"),
    ]


def test_override_lifts_the_block_for_the_rest_of_the_cycle():
    platform = onboarded(state="ACTIVATED")
    platform.record_usage(SIM, 1_200_000, now=HOUR)
    assert platform.data_blocked(SIM)
    platform.override_data_limit(
        SIM, actor=Actor.CUSTOMER, reason="customer pays overage", now=2 * HOUR
    )
    assert not platform.data_blocked(SIM)
    platform.record_usage(SIM, 500_000, now=3 * HOUR)
    assert not platform.data_blocked(SIM)


def test_pooled_plan_blocks_every_sim_of_the_pool():
    plan = {"name": "pool", "allowance": "1 MB", "pooled": True, "overage_limit": "0 B"}
    platform = onboarded(state="ACTIVATED", rate_plan=plan, sims=4)
    platform.record_usage(ICCIDS[0], 3_000_000, now=HOUR)
    assert not any(platform.data_blocked(i) for i in ICCIDS), "3 MB of a 4 MB pool"
    platform.record_usage(ICCIDS[1], 1_000_000, now=2 * HOUR)
    assert all(platform.data_blocked(i) for i in ICCIDS)


def test_imei_lock_refuses_another_device_and_imei_change_is_audited():
    platform = onboarded(state="ACTIVATED", imei_lock=True)
    assert platform.attach(SIM, PHONE, now=1.0) is None
    assert platform.attach(SIM, OTHER_PHONE, now=2.0) == f"the SIM is locked to IMEI {PHONE}"
    unlocked = onboarded(state="ACTIVATED")
    unlocked.attach(SIM, PHONE, now=1.0)
    unlocked.attach(SIM, OTHER_PHONE, now=2.0)
    imei = [(e.old, e.new) for e in unlocked.audit if e.field is AuditField.IMEI]
    assert imei == [(int(PHONE.value), int(OTHER_PHONE.value))]


def test_trial_ends_after_its_days_per_account_setting():
    platform = onboarded(state="INVENTORY", trial_days=2.0)
    platform.change_state(SIM, SimState.TRIAL, actor=Actor.CUSTOMER, reason="pilot", now=HOUR)
    platform.advance(HOUR + 2 * DAY - 120)
    assert platform.state(SIM) is SimState.TRIAL
    platform.advance(HOUR + 2 * DAY + 60)
    assert platform.state(SIM) is SimState.DEACTIVATED
    assert state_changes(platform)[-1][1:] == (
        "SYSTEM",
        "TRIAL",
        "DEACTIVATED",
        "trial of 2 days ended",
    )


def test_usage_threshold_rule_fires_once_per_cycle():
    rule = {
        "name": "warn",
        "trigger": "usage_threshold",
        "percent": 80,
        "action": {"notify": "80% used"},
    }
    platform = onboarded(state="ACTIVATED", rules=[rule])
    platform.record_usage(SIM, 700_000, now=HOUR)
    assert platform.notifications == []
    platform.record_usage(SIM, 200_000, now=2 * HOUR)
    platform.record_usage(SIM, 50_000, now=3 * HOUR)
    assert [(n.time, n.rule, n.iccid, n.message) for n in platform.notifications] == [
        (2 * HOUR, "warn", SIM, "80% used (usage reached 80% of the allowance)"),
    ]
    platform.record_usage(SIM, 900_000, now=2 * DAY + HOUR)  # next cycle
    assert len(platform.notifications) == 2


def test_no_connection_rule_fires_once_per_silence():
    rule = {"name": "quiet", "trigger": "no_connection", "hours": 6, "action": {"notify": "silent"}}
    platform = onboarded(state="ACTIVATED", rules=[rule])
    platform.attach(SIM, PHONE, now=0.0)
    platform.advance(6 * HOUR - 60)
    assert platform.notifications == []
    platform.advance(6 * HOUR)
    platform.advance(9 * HOUR)
    assert [(n.time, n.iccid) for n in platform.notifications] == [(6 * HOUR, SIM)]
    platform.attach(SIM, PHONE, now=10 * HOUR)
    platform.advance(16 * HOUR)
    assert [(n.time, n.iccid) for n in platform.notifications] == [
        (6 * HOUR, SIM),
        (16 * HOUR, SIM),
    ]


def test_imei_changed_rule_can_deactivate():
    rule = {"name": "moved", "trigger": "imei_changed", "action": {"change_state": "DEACTIVATED"}}
    platform = onboarded(state="ACTIVATED", rules=[rule])
    platform.attach(SIM, PHONE, now=1.0)
    platform.attach(SIM, OTHER_PHONE, now=2.0)
    assert platform.state(SIM) is SimState.DEACTIVATED
    assert state_changes(platform)[-1] == (
        2.0,
        "SYSTEM",
        "ACTIVATED",
        "DEACTIVATED",
        f"rule moved: IMEI changed from {PHONE} to {OTHER_PHONE}",
    )


def test_too_many_sessions_rule_and_its_24h_window():
    rule = {
        "name": "chatty",
        "trigger": "too_many_sessions",
        "sessions": 3,
        "action": {"notify": "chatty"},
    }
    platform = onboarded(state="ACTIVATED", rules=[rule])
    for minute in range(3):
        platform.open_session(SIM, now=minute * 60.0)
    assert platform.notifications == []
    platform.open_session(SIM, now=240.0)
    platform.open_session(SIM, now=300.0)
    assert [n.message for n in platform.notifications] == [
        "chatty (4 data sessions within 24 hours)"
    ]
    for minute in range(5):
        platform.open_session(SIM, now=DAY + minute * 60.0)
    assert len(platform.notifications) == 2


def test_rule_condition_on_state_and_refused_rule_action_is_reported():
    rules = [
        {
            "name": "only-active",
            "trigger": "imei_changed",
            "states": ["TRIAL"],
            "action": {"notify": "x"},
        },
        {"name": "retire", "trigger": "imei_changed", "action": {"change_state": "PURGED"}},
    ]
    platform = onboarded(state="ACTIVATED", rules=rules)
    platform.attach(SIM, PHONE, now=1.0)
    platform.attach(SIM, OTHER_PHONE, now=2.0)
    assert platform.state(SIM) is SimState.ACTIVATED
    [note] = platform.notifications
    assert note.rule == "retire"
    assert "only the operator may move" not in note.message
    assert "the lifecycle has no move from ACTIVATED to PURGED" in note.message


def test_rule_changing_rate_plan_is_audited():
    rule = {
        "name": "upgrade",
        "trigger": "usage_threshold",
        "percent": 100,
        "action": {"change_rate_plan": "large"},
    }
    platform = onboarded(state="ACTIVATED", rules=[rule])
    platform.record_usage(SIM, 1_000_000, now=HOUR)
    assert platform.rate_plan(SIM).name == "large"
    [entry] = [e for e in platform.audit if e.field is AuditField.RATE_PLAN]
    assert (entry.actor, entry.reason) == (
        Actor.SYSTEM,
        "rule upgrade: usage reached 100% of the allowance",
    )


def test_a_second_customer_cannot_reuse_imsis():
    platform = Platform()
    platform.onboard(customer(sims=10))
    other = customer(sims=10).model_copy(deep=True)
    data = other.model_dump(mode="json")
    data["customer"] = "Other AB"
    data["accounts"][0]["id"] = "other"
    data["communication_plans"][0]["name"] = "other-meters"
    data["rate_plans"] = [{**p, "name": f"other-{p['name']}"} for p in data["rate_plans"]]
    data["sim_ranges"][0].update(
        first_iccid="8946200090000001003",
        account="other",
        communication_plan="other-meters",
        rate_plan="other-small",
        first_imsi="244910000000005",
    )
    spec = type(other).model_validate(data)
    with pytest.raises(
        OnboardingConflictError, match="IMSI 244910000000005 is already on this platform"
    ):
        platform.onboard(spec)
    assert len(platform.sims) == 10


def test_errors_survive_being_rebuilt_from_their_args():
    already = "the SIM is already DEACTIVATED"
    errors = [
        TransitionRefusedError(SIM, SimState.DEACTIVATED, SimState.DEACTIVATED, already),
        UnknownSimError(SIM),
        SpecError([Problem("c.yaml", 3, "count", "must be at least 1")]),
    ]
    for error in errors:
        for rebuilt in (type(error)(*error.args), pickle.loads(pickle.dumps(error))):  # noqa: S301
            assert str(rebuilt) == str(error)
    assert str(errors[0]) == f"SIM {SIM}: DEACTIVATED → DEACTIVATED refused: {already}"
