"""The generator's dimensions beside fleet and faults: each drawn in its share of worlds, and the
world's truth and answer key right for each (a pool used up, a rollout's fault, a SIM moved into
another device)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from protocol.causes import Cause
from simlab.fuzz.draw import MAX_STORM, STORM_GAP_S, draw
from simlab.fuzz.runner import scenario_file
from simlab.fuzz.score import WorldCard
from simlab.fuzz.score_incidents import score_incidents as _incidents
from simlab.scenario import load_scenario

if TYPE_CHECKING:
    from pathlib import Path

    from simlab.scenario import ScenarioSpec


def _loaded(seed: int, tmp_path: Path) -> ScenarioSpec:
    return load_scenario(scenario_file(draw(seed), tmp_path / f"world-{seed}.yaml"))


def _observed(**fields: object) -> SimpleNamespace:
    """What `_incidents` reads of an observed world: a stream with no reports, no truth."""
    empty = {"stream": SimpleNamespace(reports={}, updates={}), "t0": 0.0}
    return SimpleNamespace(**(empty | {"result": SimpleNamespace(truth=[])} | fields))


def _report(**fields: object) -> SimpleNamespace:
    return SimpleNamespace(**({"t": 0.0, "iccid": "8946", "firmware": "1.0"} | fields))


def _answers(spec: ScenarioSpec) -> set[tuple[str, str, float]]:
    return {(a.device, a.cause.value, a.start) for a in spec.answer_key.devices}


@pytest.mark.unit
def test_each_dimension_is_drawn_in_its_share_of_the_first_hundred_worlds() -> None:
    counts: Counter[str] = Counter()
    for seed in range(1, 101):
        d = draw(seed)
        faults = d.world()["faults"]
        counts["pooled plan"] += any(g.pool is not None for g in d.groups)
        counts["pool used up"] += any(i["dimension"] == "pool" for i in d.incidents)
        counts["annex-a core"] += d.core == "annex-a"
        counts["psm grant"] += any("psm_max_t3412" in o for o in d.operators)
        counts["battery level"] += any("battery_pct" in g.spec for g in d.groups)
        counts["rollout"] += bool(d.rollouts)
        counts["rollout fault"] += any("fault" in r for r in d.rollouts)
        counts["move"] += bool(d.moves)
        counts["intervention"] += bool(d.interventions)
        counts["invoice"] += any(f["fault"] == "sim_deactivated" and "value" in f for f in faults)
        counts["tunnel"] += any("tunnel" in f for f in faults)
        counts["account"] += any("account" in f for f in faults)
        counts["storm behaviour"] += any(
            f["fault"] == "reconnect_storm" and "value" in f for f in faults
        )
    assert counts == {
        "pooled plan": 41,
        "pool used up": 4,
        "annex-a core": 30,
        "psm grant": 13,
        "battery level": 30,
        "rollout": 10,
        "rollout fault": 4,
        "move": 6,
        "intervention": 1,
        "invoice": 1,
        "tunnel": 3,
        "account": 2,
        "storm behaviour": 2,
    }


@pytest.mark.unit
def test_a_group_storming_from_its_first_minute_is_drawn_and_sized_to_fit_its_run() -> None:
    stormers = []
    for seed in [*range(1, 201), 41023]:
        d = draw(seed)
        for g in d.groups:
            if g.spec.get("apn_credentials_ok") is False and g.spec["retry"] != "ts34":
                stormers.append((seed, g.spec["count"]))
                refusals = g.spec["count"] * d.duration / STORM_GAP_S[g.spec["retry"]]
                assert refusals <= MAX_STORM or g.spec["count"] == 1, (seed, g.spec["count"])
    assert (41023, 9) in stormers  # 1,132 probes tight-looping for three days, before
    assert len(stormers) >= 3


@pytest.mark.unit
def test_a_used_up_pool_stops_every_sim_in_it_and_the_key_expects_a_pool_incident(
    tmp_path: Path,
) -> None:
    spec = _loaded(301, tmp_path)
    (fault,) = spec.world.faults
    assert (fault.fault.value, fault.devices) == ("data_limit_reached", ["g1-0001"])  # one upload
    assert _answers(spec) == {(f"g1-000{n}", "data_limit_reached", 25080.0) for n in (1, 2, 3)}
    assert [(i.dimension, i.value, i.start) for i in spec.answer_key.incidents] == [
        ("pool", "holmevendab-1/rate-1", 25080.0)
    ]


@pytest.mark.unit
def test_a_rollouts_fault_is_the_truth_of_the_devices_it_reached_and_a_firmware_group(
    tmp_path: Path,
) -> None:
    spec = _loaded(115, tmp_path)
    (rollout,) = spec.world.rollouts
    assert (rollout.version, rollout.share, rollout.fault) == ("3.8.0", 0.2, "firmware_hang")
    hung = {a for a in _answers(spec) if a[1] == "firmware_hang"}
    assert hung == {(f"g1-{n:04d}", "firmware_hang", 43560.0) for n in (3, 14, 17, 20, 23)}
    assert [(i.dimension, i.value) for i in spec.answer_key.incidents] == [("firmware", "3.8.0")]


@pytest.mark.unit
def test_a_sim_moved_into_another_device_locked_to_the_old_imei_lists_giver_and_receiver(
    tmp_path: Path,
) -> None:
    spec = _loaded(244, tmp_path)
    assert [(m.device, m.into, m.at) for m in spec.world.moves] == [("g3-0001", "g3-0002", 41760.0)]
    assert _answers(spec) == {
        ("g3-0001", "firmware_hang", 12960.0),  # the giver keeps its own fault
        ("g3-0002", "imei_lock_mismatch", 41760.0),  # the SIM's lock, in the device it went into
    }


@pytest.mark.unit
def test_a_firmware_incident_of_a_group_retrying_past_ts34_is_no_spurious_one():
    def group(firmware, retry):
        spec = {"firmware": firmware, "retry": retry}
        return SimpleNamespace(spec=spec, account="acme", ids=[firmware], pool=None)

    draft = SimpleNamespace(
        cells=[{"id": 101, "operator": "24001"}],
        incidents=[{"dimension": "operator", "value": "24001"}],
        groups=[group("2.7.7", "reboot_on_failure"), group("1.1.4", "ts34")],
    )
    opened = [{"dimension": "firmware", "value": v} for v in ("2.7.7", "1.1.4")]
    card = WorldCard(seed=1)
    _incidents(_observed(draft=draft, key={"incidents": []}, incidents=opened), card)
    assert card.spurious_incidents == 1  # the version that waits its turn had no trouble
    assert card.failures == {"spurious firmware incident": 1}


@pytest.mark.unit
def test_an_operator_heard_through_one_cell_only_is_that_cell():
    """Congestion on an operator all of whose devices sit in one of its five cells."""
    draft = SimpleNamespace(
        cells=[{"id": c, "operator": "23410"} for c in range(100, 105)],
        incidents=[{"dimension": "operator", "value": "23410"}],
        groups=[],
    )
    key = {"incidents": [{"dimension": "operator", "value": "23410"}]}
    opened = [{"dimension": "cell", "value": "104"}]

    def scored(cells):
        reports = {f"d{n}": [_report(operator="23410", cell=c)] for n, c in enumerate(cells)}
        card = WorldCard(seed=1)
        stream = SimpleNamespace(reports=reports, updates={})
        _incidents(_observed(draft=draft, key=key, incidents=opened, stream=stream), card)
        return card

    assert scored([104, 104, 104]).failures == {}
    # one device of the operator reported through another cell: the cell's incident is not the
    # operator's, which is missed
    assert scored([104, 104, 100]).failures == {"missed operator incident": 1}


@pytest.mark.unit
def test_the_key_expects_no_incident_of_devices_the_world_ended_before_they_were_quiet():
    """World 137: a gateway fails at 490 min of a 12 h world, its three meters report every
    6 h; none is quiet by the end (15.6 h of silence makes one), so no grouping can see it."""
    from simlab.fuzz.answers import answer_key  # noqa: PLC0415
    from simlab.fuzz.runner import _simulated  # noqa: PLC0415

    d = draw(137)
    assert [(i["dimension"], i["value"]) for i in d.incidents] == [("apn", "internet.m2m")]
    _, result, key = _simulated(d)
    assert {r.fault.value for r in result.truth} == {"apn_gateway_outage"}
    assert key["incidents"] == []
    longer = replace(d, duration=3 * 86400.0)
    assert [i["value"] for i in answer_key(longer, result.truth)["incidents"]] == ["internet.m2m"]


@pytest.mark.unit
def test_a_version_a_fault_brought_is_the_scope_of_that_fault_whatever_the_draw_said():
    """A wrong APN written into five of twelve lights by an update to 2.5.6+ota: every device
    on that version is refused, so an incident on it is no spurious one; drawn for the whole
    group (firmware 2.5.6), the key's incident is met by the version the devices run."""
    from simlab.fuzz.score_incidents import brought_versions as _brought  # noqa: PLC0415
    from simulator.world.spec import FaultId  # noqa: PLC0415
    from simulator.world.truth import TruthRecord  # noqa: PLC0415

    h = 3600.0
    sims = [f"894620000000000{n:04d}" for n in range(12)]
    hit = sims[:5]
    reports = {
        f"l{n}": [SimpleNamespace(t=h, iccid=s, firmware="2.5.6", operator="24201", cell=900)]
        for n, s in enumerate(sims)
    }
    updates = {s: [(10 * h, "2.5.6+ota")] for s in hit}
    truth = [
        TruthRecord(f"l{n}", s, FaultId.WRONG_APN, Cause.WRONG_APN, 10 * h + 30)
        for n, s in enumerate(hit)
    ]
    stream = SimpleNamespace(reports=reports, updates=updates)
    observed = SimpleNamespace(stream=stream, result=SimpleNamespace(truth=truth), t0=0.0)
    assert _brought(observed) == {"2.5.6+ota": "2.5.6"}
    draft = SimpleNamespace(cells=[{"id": 900, "operator": "24201"}], incidents=[], groups=[])
    opened = [{"dimension": "firmware", "value": "2.5.6+ota"}]

    def scored(key, updates):
        card = WorldCard(seed=1)
        stream.updates = updates
        _incidents(SimpleNamespace(**vars(observed), draft=draft, key=key, incidents=opened), card)
        return card.failures

    assert scored({"incidents": []}, updates) == {}
    whole = {"incidents": [{"dimension": "firmware", "value": "2.5.6"}]}
    assert scored(whole, updates) == {}
    # a sixth light updated to it and not struck: the version brought nothing, its incident
    # is spurious and the whole group's is missed
    sixth = updates | {sims[5]: [(10 * h, "2.5.6+ota")]}
    assert scored(whole, sixth) == {"spurious firmware incident": 1, "missed firmware incident": 1}


@pytest.mark.unit
def test_the_key_expects_no_incident_of_devices_already_down_under_another_fault():
    """World 16: eighteen devices refused by their private APN from the start are hung by a
    rollout at 31 h; their quiet is the credentials', no grouping of quiet devices sees the
    rollout in it."""
    from simlab.fuzz.answers import answer_key  # noqa: PLC0415
    from simlab.fuzz.runner import _simulated  # noqa: PLC0415

    d = draw(16)
    _, result, key = _simulated(d)
    assert [i["dimension"] for i in key["incidents"]] == ["operator"]
    hung = {r.device_id for r in result.truth if r.fault.value == "firmware_hang"}
    assert len(hung) == 18
    fresh = [r for r in result.truth if r.fault.value != "private_apn_credentials"]
    expected = [(i["dimension"], i["value"]) for i in answer_key(d, fresh)["incidents"]]
    assert expected == [("operator", "26201"), ("firmware", "2.7.0")]


@pytest.mark.unit
def test_an_account_purged_while_its_devices_were_already_down_is_no_expected_incident():
    """Six meters refused by their private APN from the start; their account purged at 1 h:
    none of them fell quiet by the purge, so no grouping of quiet devices sees it."""
    from simlab.fuzz.platform_groups import expected_platform_groups  # noqa: PLC0415
    from simulator.world.spec import FaultId  # noqa: PLC0415
    from simulator.world.truth import TruthRecord  # noqa: PLC0415

    ids = [f"m{n}" for n in range(6)]
    group = SimpleNamespace(ids=ids, pool=None, account="acme", spec={"report_interval": "1h"})
    draft = SimpleNamespace(groups=[group])
    purged = [
        TruthRecord(d, f"8946{n}", FaultId.SIM_PURGED, Cause.SIM_PURGED, 3600.0, 30 * 3600.0)
        for n, d in enumerate(ids)
    ]
    refused = [
        TruthRecord(
            d,
            f"8946{n}",
            FaultId.PRIVATE_APN_CREDENTIALS,
            Cause.PRIVATE_APN_CREDENTIALS,
            60.0,
            injected=False,
        )
        for n, d in enumerate(ids)
    ]
    assert [g["value"] for g in expected_platform_groups(draft, purged)] == ["acme"]
    assert expected_platform_groups(draft, purged + refused) == []


@pytest.mark.unit
def test_a_pool_that_holds_an_accounts_every_sim_is_that_account():
    """An account's 193 lights all share one pool: its SIMs deactivated, the pool's incident
    is the account's; a pool that holds only some of an account's SIMs is its own."""

    def group(name, pool, ids):
        return SimpleNamespace(spec={"firmware": "1.0"}, account="dal", ids=ids, pool=pool)

    key = {"incidents": [{"dimension": "account", "value": "dal"}]}
    opened = [{"dimension": "pool", "value": "dal/rate-1"}]

    def scored(groups):
        draft = SimpleNamespace(cells=[], incidents=key["incidents"], groups=groups)
        card = WorldCard(seed=1)
        _incidents(_observed(draft=draft, key=key, incidents=opened), card)
        return card.failures

    assert scored([group("g1", "dal/rate-1", ["a", "b", "c"])]) == {}
    two = [group("g1", "dal/rate-1", ["a", "b"]), group("g2", None, ["c"])]
    assert scored(two) == {"spurious pool incident": 1, "missed account incident": 1}
