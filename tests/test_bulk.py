"""The bulk engine puts on the wire, device by device, exactly what device processes would.

Each world runs twice, its groups forced to processes and then to columns
(`engine`), and every device's and SIM's messages are compared in order, field
by field: on the bundled million-meter scenario cut small (test quotas running out
into ACTIVATED, a pooled plan, a private APN, the Bergen batch refused), with and
without loss; and beside every device and SIM fault of the catalogue that a world
of collars allows, struck on one device, which then runs as a process among the
cohort. The draws' scalar and vector forms agree to the bit.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np
import pytest

from protocol.identifiers import Iccid, Imei
from simlab.scenario import load_scenario
from simulator.errors import SimulatorError
from simulator.world import keyed
from simulator.world.bulk_plan import BULK_MIN, bulk_group
from simulator.world.faults import CATALOGUE
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec import FaultSpec, WorldSpec
from tests.world_fixtures import CUSTOMER, FIRST_ICCID, collars, world

pytestmark = pytest.mark.unit

H = 3600.0


def _engine(spec: WorldSpec, engine: str, **extra) -> WorldSpec:
    data = spec.model_dump()
    data["devices"] = [dict(g, engine=engine) for g in data["devices"]]
    data.update(extra)
    return WorldSpec.model_validate(data)


def _streams(spec: WorldSpec, until: float):
    sink = MemorySink()
    result = simulate(spec, sink, until=until)
    assert result.error is None, result.error
    per: dict[str, list] = defaultdict(list)
    for message, account in zip(sink.messages, sink.accounts, strict=True):
        fields = message.model_dump()
        per[fields.get("device_id") or fields.get("iccid") or "clock"].append((account, fields))
    return per, result


def _same(spec: WorldSpec, until: float, **extra):
    processes, by_process = _streams(_engine(spec, "process", **extra), until)
    columns, by_columns = _streams(_engine(spec, "bulk", **extra), until)
    assert by_process.world is not None
    assert by_columns.world is not None
    assert not by_process.world.cohorts
    differing = [k for k in processes if processes[k] != columns.get(k)]
    assert not differing, f"{len(differing)} streams differ, first {differing[0]}"
    assert set(columns) == set(processes)
    assert by_columns.messages == by_process.messages
    assert by_columns.lost == by_process.lost
    assert by_columns.truth == by_process.truth
    return by_columns


@pytest.mark.parametrize("loss", [0.0, 0.02], ids=["whole", "lossy"])
def test_the_onboarding_day_cut_small_is_the_same_message_for_message(loss) -> None:
    spec = load_scenario("scenarios/onboarding-day.yaml", size=240).world
    result = _same(spec, 14 * H, message_loss=loss)
    assert result.world is not None
    [cohort] = result.world.cohorts
    assert len(cohort.ids) >= 200, "most meters run as columns"
    assert {d.spec.name for d in result.world.devices} >= {"vest"}, "refused SIMs run as processes"
    activated = result.world.platform.summary_by_state().get("ACTIVATED", 0)
    assert activated >= 200, "the meters' test quota ran out and they activated, in the columns"
    if loss:
        assert result.lost > 0


def _collar_world(fault: dict | None) -> WorldSpec:
    """60 mains collars on 5-minute reports: 30 SIMs ACTIVATED, 30 in TEST_READY."""
    customer = copy.deepcopy(CUSTOMER)
    customer["rate_plans"] = [{"name": "collar-5mb", "allowance": "5 MB"}]
    first = customer["sim_ranges"][0]
    first["count"] = 30
    iccid = str(Iccid.from_body(str(int(FIRST_ICCID.body) + 30)))
    second = dict(first, state="TEST_READY", first_imsi="240070000000030", first_iccid=iccid)
    customer["sim_ranges"] = [first, second]
    group = collars(30, battery_mah=None, report_interval="5m", report_jitter="40s")
    testing = collars(
        30, name="probe", first_iccid=iccid, first_imei=str(Imei.from_body("35693803000030")),
        battery_mah=None, report_interval="5m", report_jitter="40s",
    )  # fmt: skip
    return world(customer=customer, devices=[group, testing], faults=[fault] if fault else [])


ELSEWHERE = {
    "battery_depleted": "a battery: the cohort's devices are mains powered",
    "data_limit_reached": "a plan with a data limit, which the bulk engine leaves to processes",
    "test_quota_used": "an account that loses service after its test",
}
"""Faults a world the bulk engine runs cannot hold, and what they would need."""
DEVICE_FAULTS = sorted(
    f.value for f, k in CATALOGUE.items() if k.scope in {"device", "sim"} and f not in ELSEWHERE
)
SETTINGS = {
    "roaming_not_allowed": {"operator": "20801"},
    "radio_type_not_allowed": {"value": "NB-IoT"},
    "wrong_apn": {"value": "iot.savana"},
}
STRUCK = [
    pytest.param(fault, struck, id=f"{fault}-{state}")
    for fault in DEVICE_FAULTS
    for struck, state in (("collar-0003", "activated"), ("probe-0003", "testing"))
    if (fault, state) != ("sim_purged", "testing")  # the lifecycle purges no SIM in its test
]


@pytest.mark.parametrize(("fault", "struck"), STRUCK)
def test_a_device_struck_by_a_fault_runs_as_a_process_beside_the_same_cohort(fault, struck) -> None:
    at = {"at": 2 * H, "duration": 2 * H, "devices": [struck]}
    spec = _collar_world({"fault": fault, **at, **SETTINGS.get(fault, {})})
    result = _same(spec, 8 * H, message_loss=0.01)
    assert result.world is not None
    assert struck in result.world.by_id, "the struck device runs as a process"
    assert sum(len(c.ids) for c in result.world.cohorts) >= 50
    assert any(r.device_id == struck for r in result.truth), "the fault struck"


def test_without_a_fault_every_collar_but_the_edge_runs_as_columns_and_test_quotas_run_out() -> (
    None
):
    result = _same(_collar_world(None), 8 * H)
    assert result.world is not None
    cohorts = {c.group.name: len(c.ids) for c in result.world.cohorts}
    assert cohorts == {"collar": 30, "probe": 30}
    states = result.world.platform.summary_by_state()
    assert states.get("ACTIVATED") == 60, "the probes' 30 KB test quota ran out in 8 h"


def test_auto_runs_large_healthy_groups_as_columns_and_the_rest_as_processes() -> None:
    spec = _collar_world(None)
    group = spec.devices[0]
    big = group.model_copy(update={"count": BULK_MIN})
    assert bulk_group(spec, big)
    assert not bulk_group(spec, group.model_copy(update={"count": BULK_MIN - 1}))
    assert not bulk_group(spec, big.model_copy(update={"engine": "process"}))
    assert not bulk_group(spec, big.model_copy(update={"psm": True}))
    assert not bulk_group(spec, big.model_copy(update={"battery_mah": 3000.0}))
    outage = FaultSpec.model_validate({"fault": "cell_outage", "at": 3600.0, "cell": 101})
    cell_fault = spec.model_copy(update={"faults": [outage]})
    assert not bulk_group(cell_fault, big), "a fault on a cell may touch any device"


def test_the_keyed_draws_are_the_same_one_at_a_time_and_a_million_at_a_time() -> None:
    group = keyed.group_key(73, "meter")
    n = np.arange(1, 100_001, dtype=np.int64)
    keys = keyed.device_keys(group, n)
    noise, jitter = keyed.reports(keys, n)
    loss = keyed.uniforms(keys, keyed.Draw.LOSS, 7)
    for i in range(0, 100_000, 997):
        assert int(keys[i]) == keyed.device_key(group, i + 1)
        assert keyed.report(int(keys[i]), i + 1) == (noise[i], jitter[i])
        assert keyed.uniform(int(keys[i]), keyed.Draw.LOSS, 7) == loss[i]
    assert abs(noise.mean()) < 0.02
    assert abs(noise.std() - 1) < 0.02
    assert abs(jitter.mean() - 0.5) < 0.01
    assert abs(loss.mean() - 0.5) < 0.01
    assert abs(float(np.corrcoef(noise, jitter)[0, 1])) < 0.02
    assert -3.7 < noise.min() <= noise.max() < 3.7, "bounded: the edge margin relies on it"


def test_a_world_the_platform_refuses_still_says_why() -> None:
    spec = _collar_world({"fault": "battery_depleted", "at": H, "devices": ["probe-0001"]})
    sink = MemorySink()
    result = simulate(_engine(spec, "bulk"), sink, until=2 * H)
    assert result.error is not None
    assert "mains powered" in result.error
    assert SimulatorError.__name__ in result.error


def test_a_pool_passing_a_usage_threshold_fires_its_rule_at_the_same_use_in_either_engine():
    spec = load_scenario("scenarios/onboarding-day.yaml", size=240).world
    data = spec.model_dump()
    data["customer"]["rate_plans"][0]["allowance"] = 1  # a million SIMs' pool: 1 MB
    data["customer"]["automation_rules"][0]["percent"] = 20.0  # passed after activation
    spec = WorldSpec.model_validate(data)
    notices = []
    for engine in ("process", "bulk"):
        _, result = _streams(_engine(spec, engine), 14 * H)
        assert result.world is not None
        _, runner = result.world.platform.columns
        notices.append(runner.notifications)
    assert len(notices[0]) == 1, "the pool passed 20% once"
    assert notices[1] == notices[0]
    _same(spec, 14 * H)
