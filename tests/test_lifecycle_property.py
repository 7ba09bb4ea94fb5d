"""No sequence of operations drives a SIM where an independent table forbids.

The oracle below is written out by hand from the platform's documentation,
not imported from the code under test.
"""

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.identifiers import Imei, iccid_range
from protocol.sim_state import SimState
from simulator.errors import SimulatorError, TransitionRefusedError
from simulator.platform.audit import AuditField
from simulator.platform.lifecycle import Actor
from simulator.platform.platform import Platform
from tests.platform_fixtures import FIRST_ICCID, customer

# (from, to): "any" = customer, operator or system; "operator" = operator only.
ORACLE = {
    ("TEST_READY", "INVENTORY"): "any",
    ("TEST_READY", "ACTIVATION_READY"): "any",
    ("TEST_READY", "ACTIVATED"): "any",
    ("TEST_READY", "TRIAL"): "any",
    ("TEST_READY", "DEACTIVATED"): "any",
    ("INVENTORY", "TEST_READY"): "operator",
    ("INVENTORY", "ACTIVATION_READY"): "any",
    ("INVENTORY", "ACTIVATED"): "any",
    ("INVENTORY", "TRIAL"): "any",
    ("TRIAL", "ACTIVATED"): "any",
    ("TRIAL", "DEACTIVATED"): "any",
    ("ACTIVATION_READY", "ACTIVATED"): "any",
    ("ACTIVATION_READY", "DEACTIVATED"): "any",
    ("ACTIVATED", "DEACTIVATED"): "any",
    ("DEACTIVATED", "ACTIVATED"): "any",
    ("ACTIVATED", "RETIRED"): "any",
    ("DEACTIVATED", "RETIRED"): "any",
    ("RETIRED", "ACTIVATED"): "operator",
    ("RETIRED", "PURGED"): "operator",
    ("PURGED", "ACTIVATED"): "operator",
}
SIMS = 3
ICCIDS = [str(i) for i in iccid_range(FIRST_ICCID, SIMS)]
IMEIS = [Imei.from_body("35693803564380"), Imei.from_body("49015420323751")]
STATES = [s.name for s in SimState]


def oracle_allows(source: str, target: str, actor: Actor) -> bool:
    who = ORACLE.get((source, target))
    return who == "any" or (who == "operator" and actor is Actor.OPERATOR)


manual = st.tuples(
    st.just("manual"),
    st.integers(0, SIMS - 1),
    st.sampled_from(STATES),
    st.sampled_from([Actor.CUSTOMER, Actor.OPERATOR]),
)
usage = st.tuples(st.just("usage"), st.integers(0, SIMS - 1), st.integers(0, 400_000))
session = st.tuples(st.just("session"), st.integers(0, SIMS - 1))
attach = st.tuples(st.just("attach"), st.integers(0, SIMS - 1), st.sampled_from(IMEIS))
wait = st.tuples(st.just("wait"), st.floats(1, 4 * 86_400))
operations = st.lists(st.one_of(manual, usage, session, attach, wait), max_size=60)

RULES = [
    {
        "name": "chatty",
        "trigger": "too_many_sessions",
        "sessions": 3,
        "action": {"change_state": "DEACTIVATED"},
    },
    {
        "name": "silent",
        "trigger": "no_connection",
        "hours": 30,
        "action": {"change_state": "RETIRED"},
    },
    {"name": "moved", "trigger": "imei_changed", "action": {"change_state": "DEACTIVATED"}},
    {"name": "over", "trigger": "data_limit_reached", "action": {"change_state": "DEACTIVATED"}},
]


def snapshot(platform: Platform) -> dict[str, np.ndarray]:
    return {
        name: platform.sims[name].copy()
        for name in ("state", "usage", "test_usage", "data_blocked")
    }


def apply(platform: Platform, op: tuple, now: float) -> None:
    kind = op[0]
    if kind == "manual":
        _, i, target, actor = op
        platform.change_state(ICCIDS[i], SimState[target], actor=actor, reason="test", now=now)
    elif kind == "usage":
        platform.record_usage(ICCIDS[op[1]], op[2], now=now)
    elif kind == "session":
        platform.open_session(ICCIDS[op[1]], now=now)
    elif kind == "attach":
        platform.attach(ICCIDS[op[1]], op[2], now=now)
    else:
        platform.advance(now)


@pytest.mark.parametrize("after_test", ["ACTIVATED", "ACTIVATION_READY"])
@given(ops=operations)
def test_no_sequence_reaches_a_forbidden_state(after_test, ops):
    platform = Platform(start=datetime(2026, 1, 30, tzinfo=UTC))  # a billing cycle ends on day 2
    platform.onboard(customer(sims=SIMS, after_test=after_test, rules=RULES))
    now = 0.0
    for op in ops:
        now += op[1] if op[0] == "wait" else 60.0
        before = snapshot(platform)
        audit_before = len(platform.audit)
        error = attempt(platform, op, now)
        if isinstance(error, TransitionRefusedError):
            _, i, target, actor = op
            assert not oracle_allows(SimState(before["state"][i]).name, target, actor)
            assert (error.iccid, error.target.name) == (ICCIDS[i], target)
            assert error.reason
        elif error is not None:
            assert op[0] == "usage"  # no data service for this SIM now
        elif op[0] == "manual":
            _, i, target, actor = op
            assert oracle_allows(SimState(before["state"][i]).name, target, actor)
        if error is not None:  # refused: nothing may change
            assert len(platform.audit) == audit_before
            for name, column in snapshot(platform).items():
                np.testing.assert_array_equal(column, before[name], err_msg=name)
            continue
        check_changes_are_audited(platform, before, audit_before)


def attempt(platform: Platform, op: tuple, now: float) -> SimulatorError | None:
    try:
        apply(platform, op, now)
    except SimulatorError as error:
        return error
    return None


def check_changes_are_audited(platform: Platform, before: dict, audit_before: int) -> None:
    """Each state change since `audit_before` is one allowed entry; they chain to the new state."""
    state_now = platform.sims["state"]
    expected = {i: int(before["state"][i]) for i in range(SIMS)}
    for entry in list(platform.audit)[audit_before:]:
        assert entry.count == 1
        if entry.field is not AuditField.STATE:
            continue
        row = entry.first
        assert entry.old == expected[row], "an unaudited change happened before this entry"
        assert oracle_allows(SimState(entry.old).name, SimState(entry.new).name, entry.actor)
        expected[row] = entry.new
    for row in range(SIMS):
        assert expected[row] == int(state_now[row]), (
            f"SIM row {row} changed state without an audit entry"
        )


def path_to(target: str) -> list[str]:
    """Operator moves from TEST_READY to `target`, found in the oracle (breadth first)."""
    paths = {"TEST_READY": []}
    frontier = ["TEST_READY"]
    while frontier:
        source = frontier.pop(0)
        for s, t in ORACLE:
            if s == source and t not in paths:
                paths[t] = [*paths[source], t]
                frontier.append(t)
    return paths[target]


@pytest.mark.parametrize("source", STATES)
@pytest.mark.parametrize("target", STATES)
@pytest.mark.parametrize("actor", list(Actor))
def test_every_single_move_matches_the_oracle(source, target, actor):
    platform = Platform()
    platform.onboard(customer(sims=1))
    iccid = ICCIDS[0]
    for step in path_to(source):
        platform.change_state(iccid, SimState[step], actor=Actor.OPERATOR, reason="setup", now=1.0)
    audit_before = len(platform.audit)
    if oracle_allows(source, target, actor):
        platform.change_state(iccid, SimState[target], actor=actor, reason="asked", now=2.0)
        assert platform.state(iccid).name == target
        entry = platform.audit.entry(len(platform.audit) - 1)
        assert (entry.old, entry.new, entry.actor, entry.reason, entry.time) == (
            SimState[source],
            SimState[target],
            actor,
            "asked",
            2.0,
        )
        assert len(platform.audit) == audit_before + 1
    else:
        with pytest.raises(TransitionRefusedError) as refused:
            platform.change_state(iccid, SimState[target], actor=actor, reason="asked", now=2.0)
        assert str(refused.value).startswith(f"SIM {iccid}: {source} → {target} refused: ")
        assert platform.state(iccid).name == source
        assert len(platform.audit) == audit_before
