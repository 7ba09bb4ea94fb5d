"""The platform groups a generated world's truth makes: a pool or an account struck whole."""

import random

from protocol.causes import Cause
from simlab.fuzz.draft import Draft, Group
from simlab.fuzz.platform_groups import expected_platform_groups
from simulator.world.spec import FaultId
from simulator.world.truth import TruthRecord

ROAMING = (FaultId.ROAMING_NOT_ALLOWED, Cause.ROAMING_NOT_ALLOWED)


def draft(*groups):
    """Groups as (name, count, account, pool), each reporting every 10 minutes."""
    d = Draft(seed=0, rng=random.Random(0))
    for name, count, account, pool in groups:
        spec = {"name": name, "count": count, "report_interval": "10m"}
        d.groups.append(Group(spec, None, account, "plan", "rate", "2400", pool=pool))  # type: ignore[arg-type]
    return d


def refused(ids, start, end=None, fault=ROAMING):
    return [TruthRecord(i, None, fault[0], fault[1], start, end) for i in ids]


def scopes(d, truth):
    return [(g["dimension"], g["value"], g["start"]) for g in expected_platform_groups(d, truth)]


def test_a_fleet_refused_roaming_together_is_its_pools_group_not_also_its_accounts():
    d = draft(("g1", 5, "acct", "acct/rate"))
    # quiet once silent 2.5 intervals plus the detector's slack and a sweep's margin
    assert scopes(d, refused(d.groups[0].ids, 1000.0)) == [("pool", "acct/rate", 2680.0)]


def test_an_account_struck_beyond_its_pool_is_the_accounts_too():
    d = draft(("g1", 5, "acct", "acct/rate"), ("g2", 20, "acct", None))
    truth = refused(d.groups[0].ids, 1000.0) + refused(d.groups[1].ids, 5000.0)
    assert scopes(d, truth) == [("pool", "acct/rate", 2680.0), ("account", "acct", 6680.0)]


def test_no_group_where_the_cause_holds_too_few_or_ends_before_they_fall_quiet():
    d = draft(("g1", 5, "acct", None), ("g2", 5, "other", None))
    sim_cut = (FaultId.SIM_DEACTIVATED, Cause.SIM_DEACTIVATED)
    truth = (
        refused(d.groups[0].ids[:3], 1000.0)  # 3 of 5: not whole
        + refused(d.groups[1].ids, 1000.0, 2000.0, sim_cut)  # over before they are quiet
    )
    assert scopes(d, truth) == []


def test_a_fleet_never_heard_from_when_refused_is_no_group_of_quiet_devices():
    d = draft(("g1", 5, "acct", "acct/rate"))
    ids = d.groups[0].ids
    truth = refused(ids, 1000.0)
    never = dict.fromkeys(ids, 9000.0)  # first reports long after the refusal struck
    assert [g["dimension"] for g in expected_platform_groups(d, truth, never)] == []
    heard = dict.fromkeys(ids, 100.0)
    assert [g["dimension"] for g in expected_platform_groups(d, truth, heard)] == ["pool"]
