"""The scenario bank: the file format, its checks, the `simlab scenarios` command, and every
bundled scenario meeting its own answer key.

The bad-file tests edit BASE, a small valid scenario whose line numbers are
listed next to it, so the line each problem must point at can be read off.

Start times: ground truth starts an injected fault at its moment exactly, and
a SIM fault moved by a swap at the swap. A fault that arises by itself (a
battery running flat, a tag finding no network it may use) starts when the
device meets it, at its next report, scan or retry; so the answer key's start
is the earliest moment, and truth may start up to `start_slack` later: one
reporting interval with its jitter, or an hour (TS.34's longest back-off and
the modem reset after a permanent reject), whichever is longer.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
import yaml
from typer.testing import CliRunner

from protocol.causes import Cause
from simlab.commands.scenarios import scenarios_app
from simlab.scenario import (
    ScenarioSpec,
    SwapOutcome,
    SwapTestAction,
    load_scenario,
    possible_causes,
    scenario_files,
    scenario_schema,
    start_slack,
    truth_problems,
    until_of,
    world_of,
)
from simlab.scenario.yaml_fields import field_at
from simulator.errors import SpecError
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink

if TYPE_CHECKING:
    from pathlib import Path

BUNDLED = {path.stem: path for path in scenario_files()}
SMALL = {"onboarding-day": 40}
"""Scenarios too big to simulate in a test, and the size they are scaled down to."""
H = 3600.0

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(scenarios_app, list(args))


# ---- a compact valid scenario with known line numbers ----------------------------------------

BASE = """\
title: A collar runs flat
summary: One of three collars stops reporting.
story: |
  Collar 2 stopped reporting this morning.
users: [trainer]
world:
  start: 2026-03-02T00:00:00Z
  seed: 7
  customer:
    customer: Savanna Trackers AB
    accounts:
      - {id: savanna, name: Savanna Trackers AB, kind: enterprise}
    communication_plans:
      - name: collar
        apns:
          - name: iot.public
        networks:
          - mcc_mnc: "63902"
        radio_types: [LTE-M]
    rate_plans:
      - name: collar-5mb
        allowance: 5 MB
    sim_ranges:
      - first_iccid: "8946200050000000009"
        count: 20
        account: savanna
        communication_plan: collar
        rate_plan: collar-5mb
        first_imsi: "240070000000000"
        state: ACTIVATED
  operators:
    - {mcc_mnc: "63902", name: Safaricom, country: KE}
  cells:
    - {id: 101, operator: "63902", lat: -1.40, lon: 35.00, radius_km: 15, radio_types: [LTE-M]}
  devices:
    - name: collar
      count: 3
      first_iccid: "8946200050000000009"
      first_imei: "356938030000005"
      apn: iot.public
      lat: -1.40
      lon: 35.00
      battery_mah: 6000
  faults:
    - {fault: battery_depleted, at: 1h, devices: [collar-0002]}
run:
  duration: 6h
answer_key:
  devices:
    - {device: collar-0002, cause: battery_depleted, start: 1h}
"""

BASE_LINES = {
    5: "users: [trainer]",
    8: "  seed: 7",
    19: "        radio_types: [LTE-M]",
    28: "        rate_plan: collar-5mb",
    37: "      count: 3",
    45: "    - {fault: battery_depleted, at: 1h, devices: [collar-0002]}",
    47: "  duration: 6h",
    50: "    - {device: collar-0002, cause: battery_depleted, start: 1h}",
}


def edited(*changes: tuple[str, str], text: str = BASE) -> str:
    """BASE with each (old, new) applied; `old` must occur exactly once."""
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_base_lines_are_where_the_tests_expect():
    lines = BASE.splitlines()
    for number, content in BASE_LINES.items():
        assert lines[number - 1] == content, f"line {number}"


def test_base_loads_and_meets_its_answer_key(tmp_path):
    spec = load_scenario(write(tmp_path, BASE))
    assert spec.title == "A collar runs flat"
    assert until_of(spec) == 6 * H
    assert spec.run.pace is None
    result = simulate(world_of(spec), MemorySink(), until=until_of(spec))
    assert result.error is None
    assert truth_problems(spec, result.truth) == []


# ---- bad files: one line each, naming file, line and field, exit code 2 -----------------------

BAD_FILES = [
    pytest.param(
        edited(("      count: 3\n", "      count: 3\n      colour: blue\n")),
        38,
        "world.devices[0].colour",
        ("unknown field",),
        id="unknown-field",
    ),
    pytest.param(
        edited(("  seed: 7", "  seed: lots")),
        8,
        "world.seed",
        ("valid integer", "'lots'"),
        id="wrong-type",
    ),
    pytest.param(
        edited(("  duration: 6h", "  duration: soon")),
        47,
        "run.duration",
        ("'soon' is not a duration", "36h"),
        id="wrong-duration",
    ),
    pytest.param(
        edited(("        rate_plan: collar-5mb", "        rate_plan: collar-50mb")),
        28,
        "world.customer.sim_ranges[0].rate_plan",
        ("unknown rate plan 'collar-50mb'", "collar-5mb"),
        id="undefined-plan",
    ),
    pytest.param(
        edited(("      count: 3", "      count: -5")),
        37,
        "world.devices[0].count",
        ("greater than or equal to 1", "-5"),
        id="negative-count",
    ),
    pytest.param(
        edited(("        radio_types: [LTE-M]", "        radio_types: [LTE-M")),
        19,
        "world.customer.communication_plans[0].radio_types",
        ("not valid YAML", "flow sequence"),
        id="broken-yaml",
    ),
    pytest.param(
        edited(
            (
                "    - {device: collar-0002, cause: battery_depleted, start: 1h}",
                (
                    "    - {device: collar-0002, cause: battery_depleted, start: 1h}\n"
                    "    - {device: collar-0009, cause: battery_depleted, start: 1h}"
                ),
            )
        ),
        51,
        "answer_key.devices[1].device",
        ("unknown device 'collar-0009'", "collar-0001…collar-0003"),
        id="unknown-device-in-answer-key",
    ),
    pytest.param(
        edited(("cause: battery_depleted, start", "cause: batery_depleted, start")),
        50,
        "answer_key.devices[0].cause",
        ("unknown cause 'batery_depleted'", "did you mean 'battery_depleted'", "simlab faults"),
        id="unknown-cause",
    ),
    pytest.param(
        edited(("devices: [collar-0002]}", "devices: [collar-0002, collar-0003]}")),
        45,
        "world.faults[0].devices[1]",
        ("collar-0003 gets battery_depleted", "answer_key.devices does not list it"),
        id="fault-missing-from-answer-key",
    ),
    pytest.param(
        edited(
            ("run:\n", "actions:\n  - {at: 2h, swap_test: {sim_of: collar-0001, into: x}}\nrun:\n")
        ),
        47,
        "actions[0].swap_test.into",
        ("unknown device 'x'",),
        id="action-names-unknown-device",
    ),
    pytest.param(
        edited(("run:\n", "actions:\n  - {at: 2h, reboot: collar-0001}\nrun:\n")),
        47,
        "actions[0]",
        ("an action needs `at` and exactly one of swap_test, silence",),
        id="unknown-action",
    ),
    pytest.param(
        edited(("  duration: 6h", "  duration: 6h\n  duration: 8h")),
        48,
        "run.duration",
        ("given twice",),
        id="repeated-key",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "fragments"), BAD_FILES)
def test_bad_file_gets_one_line_naming_file_line_and_field(tmp_path, text, line, field, fragments):
    path = write(tmp_path, text)
    result = invoke("validate", str(path))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [problem] = result.stderr.splitlines()
    prefix = f"{path}:{line}: {field}: "
    assert problem.startswith(prefix), problem
    for fragment in fragments:
        assert fragment in problem, problem


def test_several_problems_are_all_reported_and_good_files_say_ok(tmp_path):
    good = write(tmp_path, BASE, "good.yaml")
    bad = write(
        tmp_path,
        edited(("  seed: 7", "  seed: lots"), ("  duration: 6h", "  duration: soon")),
        "bad.yaml",
    )
    result = invoke("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"{good}: ok"]
    assert result.stderr.splitlines() == [
        (
            f"{bad}:8: world.seed: Input should be a valid integer, unable to parse string as "
            "an integer (got 'lots')"
        ),
        f"{bad}:47: run.duration: 'soon' is not a duration; write e.g. 90s, 15m, 36h or 2d",
    ]


def test_the_answer_key_must_agree_with_the_faults(tmp_path):
    path = write(
        tmp_path, edited(("cause: battery_depleted, start", "cause: sim_deactivated, start"))
    )
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        (
            f"{path}:50: answer_key.devices[0].cause: nothing in this world gives collar-0002 "
            "sim_deactivated: no fault names it and it cannot arise by itself here (possible: "
            "battery_depleted)"
        ),
        (
            f"{path}:45: world.faults[0].devices[0]: collar-0002 gets battery_depleted, but "
            "answer_key.devices does not list it"
        ),
    ]


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path):
    result = invoke("validate", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2
    assert "absent.yaml: cannot read the file" in result.stderr


def test_the_fields_of_broken_yaml_are_read_from_indentation():
    text = "a:\n  b: |\n    c: not a key\n  d:\n    - e: 1\n      f: [2\n    - g: 3\nh: 4\n"
    assert [field_at(text, n) for n in range(1, 9)] == [
        "a",
        "a.b",
        "a.b",
        "a.d",
        "a.d[0].e",
        "a.d[0].f",
        "a.d[1].g",
        "h",
    ]


# ---- the world by path, sizes, swap tests -----------------------------------------------------


def with_world(world: str) -> str:
    """BASE with its inline world replaced by `world: <world>`."""
    head, rest = BASE.split("world:\n", 1)
    tail = rest.split("run:\n", 1)[1]
    return f"{head}world: {world}\nrun:\n{tail}"


def test_a_world_file_is_found_beside_the_scenario(tmp_path):
    (tmp_path / "worlds").mkdir()
    world = yaml.safe_dump(yaml.safe_load(BASE)["world"])
    (tmp_path / "worlds" / "herd.yaml").write_text(world, encoding="utf-8")
    spec = load_scenario(write(tmp_path, with_world("worlds/herd.yaml")))
    assert [g.count for g in spec.world.devices] == [3]
    assert spec.world.customer.customer == "Savanna Trackers AB"


def test_a_world_path_that_leads_nowhere(tmp_path):
    path = write(tmp_path, with_world("worlds/nowhere.yaml"))
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    [problem] = result.stderr.splitlines()
    assert problem.startswith(f"{path}:6: world: no world file 'worlds/nowhere.yaml'")


SIZED = edited(
    ("      count: 3\n", ""),
    ("  duration: 6h", "  duration: 6h\n  size: {group: collar, default: 3}"),
)


def test_size_scales_the_group_run_size_names(tmp_path):
    path = write(tmp_path, SIZED)
    assert [g.count for g in load_scenario(path).world.devices] == [3]
    spec = load_scenario(path, size=12)
    assert [g.count for g in spec.world.devices] == [12]
    assert [g.count for g in world_of(spec, 5).devices] == [5]
    assert invoke("validate", str(path), "--size", "12").exit_code == 0


def test_a_size_beyond_the_sims_onboarded_is_a_problem_of_the_device_group(tmp_path):
    path = write(tmp_path, SIZED)
    result = invoke("validate", str(path), "--size", "21")
    assert result.exit_code == 2
    [problem] = result.stderr.splitlines()
    assert problem.startswith(f"{path}:37: world.devices[0].first_iccid: 21 SIMs from ")


def test_size_needs_a_scenario_that_declares_one(tmp_path):
    path = write(tmp_path, BASE)
    result = invoke("validate", str(path), "--size", "5")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:46: run: --size 5: this scenario declares no run.size to scale"
    ]
    with pytest.raises(ValueError, match=r"no run\.size"):
        world_of(load_scenario(path), 5)


def test_the_size_group_must_exist_and_its_count_agree(tmp_path):
    wrong_group = write(tmp_path, SIZED.replace("group: collar,", "group: herd,"), "g.yaml")
    with pytest.raises(SpecError) as caught:
        load_scenario(wrong_group)
    assert [(p.line, p.field) for p in caught.value.problems] == [(47, "run.size.group")]
    two_counts = write(
        tmp_path,
        edited(("  duration: 6h", "  duration: 6h\n  size: {group: collar, default: 4}")),
        "c.yaml",
    )
    with pytest.raises(SpecError) as caught:
        load_scenario(two_counts)
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (37, "world.devices[0].count")


SWAP_TEST = edited(
    (
        "      battery_mah: 6000\n",
        (
            "      battery_mah: 6000\n"
            "  swaps:\n"
            "    - {at: 3h, device: collar-0002, into: collar-0001}\n"
        ),
    ),
    (
        "run:\n",
        "actions:\n  - at: 2h\n    swap_test: {sim_of: collar-0002, into: collar-0001}\nrun:\n",
    ),
    ("start: 1h}", "start: 1h}\n  swap_verdict: stays_with_device"),
)


def test_a_swap_test_and_its_verdict(tmp_path):
    spec = load_scenario(write(tmp_path, SWAP_TEST))
    [action] = spec.actions
    assert isinstance(action, SwapTestAction)
    assert (action.at, action.swap_test.sim_of, action.swap_test.into) == (
        2 * H,
        "collar-0002",
        "collar-0001",
    )
    assert spec.answer_key.swap_verdict is SwapOutcome.STAYS_WITH_DEVICE


def test_a_swap_test_needs_its_swap_in_the_world(tmp_path):
    text = SWAP_TEST.replace("{at: 3h, device:", "{at: 1h, device:")
    with pytest.raises(SpecError) as caught:
        load_scenario(write(tmp_path, text))
    [problem] = caught.value.problems
    assert problem.field == "actions[0].swap_test"
    assert "no SIM swap in world.swaps between collar-0002 and collar-0001 at or after 2h" in (
        problem.message
    )


def test_a_verdict_needs_a_swap_test(tmp_path):
    text = edited(("start: 1h}", "start: 1h}\n  swap_verdict: follows_sim"))
    with pytest.raises(SpecError) as caught:
        load_scenario(write(tmp_path, text))
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (51, "answer_key.swap_verdict")


def test_a_sim_fault_follows_its_sim_through_a_swap_in_what_the_world_can_give():
    spec = load_scenario("sim-swap-damaged-sim")
    assert Cause.DAMAGED_SIM in possible_causes(spec.world, "majorna-0003")
    assert Cause.DAMAGED_SIM not in possible_causes(spec.world, "majorna-0005")
    assert possible_causes(spec.world, "no-such-device") == set()


# ---- the bundled scenarios --------------------------------------------------------------------


def test_the_bank_holds_the_scenarios_trainers_ask_for():
    assert len(BUNDLED) >= 12
    assert {
        "lost-giraffe",
        "sea-otter-in-france",
        "onboarding-day",
        "ipsec-tunnel-down",
        "data-cap-mid-cycle",
        "wrong-apn-after-update",
        "billing-deactivation",
        "imei-lock-moved-sim",
        "parking-cell-outage",
        "reconnect-storm",
        "psm-water-meters",
        "test-quota-pilot",
        "sim-swap-damaged-sim",
    } <= set(BUNDLED)


def test_every_bundled_scenario_validates():
    result = invoke("validate", *BUNDLED)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(BUNDLED)
    assert all(line.endswith(": ok") for line in result.stdout.splitlines())


@pytest.fixture(scope="module")
def specs() -> dict[str, ScenarioSpec]:
    return {name: load_scenario(path, size=SMALL.get(name)) for name, path in BUNDLED.items()}


def test_the_story_keys_of_the_bank(specs):
    key = {name: spec.answer_key for name, spec in specs.items()}
    assert {a.cause for a in key["lost-giraffe"].devices} == {Cause.BATTERY_DEPLETED}
    assert {a.cause for a in key["sea-otter-in-france"].devices} == {Cause.ROAMING_NOT_ALLOWED}
    assert key["sea-otter-in-france"].swap_verdict is SwapOutcome.IMPOSSIBLE
    assert key["sim-swap-damaged-sim"].swap_verdict is SwapOutcome.FOLLOWS_SIM
    assert {a.cause for a in key["test-quota-pilot"].devices} == {Cause.TEST_QUOTA_USED}
    assert key["psm-water-meters"].devices == []
    assert all(g.psm for g in specs["psm-water-meters"].world.devices if g.name == "meter")
    onboarding = load_scenario(BUNDLED["onboarding-day"])
    assert onboarding.run.size is not None
    assert onboarding.run.size.default == 1_000_000
    assert sum(g.count for g in onboarding.world.devices) > 1_000_000
    for name, spec in specs.items():
        assert spec.story.strip(), name
        assert spec.world.customer.customer, name
        assert len(spec.world.devices) >= 1, name


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_bundled_scenario_meets_its_answer_key(specs, name):
    spec = specs[name]
    world = world_of(spec)
    began = time.perf_counter()
    result = simulate(world, MemorySink(), until=until_of(spec))
    assert result.error is None, result.error
    assert truth_problems(spec, result.truth, world) == []
    affected = {a.device for a in spec.answer_key.devices}
    devices = sum(g.count for g in world.devices)
    assert devices - len(affected) >= 4, "healthy devices around the affected ones"
    assert time.perf_counter() - began < 10


def test_truth_problems_say_what_disagrees(specs):
    spec = specs["lost-giraffe"]
    result = simulate(world_of(spec), MemorySink(), until=8 * H)
    [record] = result.truth
    late = type(record)(record.device_id, record.iccid, record.fault, record.cause, 8 * H)
    extra = type(record)("collar-0001", None, record.fault, record.cause, 2 * H)
    problems = truth_problems(spec, [late, extra])
    assert problems == [
        "collar-0007: battery_depleted began at 8h; the answer key says 6h (up to 1h later)",
        "collar-0001: battery_depleted from 2h is not in the answer key",
    ]
    assert truth_problems(spec, []) == [
        "collar-0007: the answer key says battery_depleted from 6h; ground truth has no such fault"
    ]
    psm = specs["psm-water-meters"].world.devices[0]
    assert start_slack(psm) == 6 * H + 20 * 60


# ---- the command ------------------------------------------------------------------------------


def test_list_names_every_bundled_scenario():
    result = runner.invoke(scenarios_app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in BUNDLED:
        assert name in result.stdout
    assert "1,000,008" in result.stdout  # the onboarding at its default size
    assert "The lost giraffe" in result.stdout


def test_show_prints_the_story_and_keeps_the_answers_for_trainers():
    spec = load_scenario(BUNDLED["sea-otter-in-france"])
    plain = runner.invoke(scenarios_app, ["show", "sea-otter-in-france"], env={"COLUMNS": "200"})
    assert plain.exit_code == 0, plain.output
    assert "Otter tag 11" in plain.stdout
    assert "Coastwatch Wildlife Telemetry Ltd" in plain.stdout
    assert "roaming_not_allowed" not in plain.stdout
    full = runner.invoke(
        scenarios_app, ["show", "sea-otter-in-france", "--answers"], env={"COLUMNS": "200"}
    )
    assert "otter-0011" in full.stdout
    assert "roaming_not_allowed" in full.stdout
    assert "Swap verdict: impossible" in full.stdout
    assert spec.tags[0] in full.stdout


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_show_gives_nothing_away(name):
    result = runner.invoke(scenarios_app, ["show", name], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for cause in Cause:
        assert cause.value not in result.stdout, f"{name} shows {cause.value}"


def test_schema_is_json_schema_naming_the_top_level_fields():
    import simlab.commands  # noqa: PLC0415 - the sub-app is reached through the main command

    result = runner.invoke(simlab.commands.app, ["scenarios", "schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    top = {"title", "summary", "story", "users", "tags", "world", "run", "actions", "answer_key"}
    assert set(schema["properties"]) == top
    assert set(schema["required"]) == top - {"tags", "actions"}
    assert schema["additionalProperties"] is False
    refs = set(re.findall(r'"#/\$defs/([^"]+)"', result.stdout))
    assert refs <= set(schema["$defs"])
    assert {"WorldSpec", "DeviceAnswer", "SwapTestAction", "SilenceAction"} <= refs


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_bundled_scenario_conforms_to_the_schema(name):
    schema = scenario_schema()
    data = yaml.safe_load(BUNDLED[name].read_text(encoding="utf-8"))
    assert conforms(data, schema, schema), name


def test_the_schema_refuses_what_the_loader_refuses():
    schema = scenario_schema()
    data = yaml.safe_load(BASE)
    assert conforms(data, schema, schema)
    assert not conforms({**data, "colour": "blue"}, schema, schema)
    assert not conforms({**data, "run": {"duration": "soon"}}, schema, schema)
    assert not conforms({**data, "actions": [{"at": "1h", "reboot": "x"}]}, schema, schema)


def conforms(value, schema, root) -> bool:  # noqa: C901, PLR0911, PLR0912 - one JSON Schema keyword a branch
    """A small JSON Schema checker: the keywords scenario_schema() uses, nothing more."""
    if "$ref" in schema:
        return conforms(value, root["$defs"][schema["$ref"].split("/")[-1]], root)
    if "anyOf" in schema and not any(conforms(value, s, root) for s in schema["anyOf"]):
        return False
    if "oneOf" in schema and sum(conforms(value, s, root) for s in schema["oneOf"]) != 1:
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict) or not set(schema.get("required", [])) <= set(value):
            return False
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False and not set(value) <= set(props):
            return False
        return all(conforms(v, props[k], root) for k, v in value.items() if k in props)
    if kind == "array":
        return isinstance(value, list) and all(conforms(v, schema["items"], root) for v in value)
    if kind == "string":
        if isinstance(value, datetime) and schema.get("format") == "date-time":
            return True  # YAML reads an ISO timestamp as a datetime
        if not isinstance(value, str) or len(value) < schema.get("minLength", 0):
            return False
        return "pattern" not in schema or re.search(schema["pattern"], value) is not None
    if kind in {"number", "integer"}:
        wanted = int if kind == "integer" else (int, float)
        if not isinstance(value, wanted) or isinstance(value, bool):
            return False
        return value >= schema.get("minimum", value) and value > schema.get(
            "exclusiveMinimum", value - 1
        )
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    return True


@pytest.mark.parametrize(
    "name",
    [
        "simlab.scenario",
        "simlab.scenario.model",
        "simlab.scenario.devices",
        "simlab.scenario.possible",
        "simlab.scenario.checks",
        "simlab.scenario.loading",
        "simlab.scenario.schema",
        "simlab.commands.scenarios",
        "simlab.scenario.yaml_fields",
    ],
)
def test_public_names_exist_and_are_documented(name):
    module = importlib.import_module(name)
    assert module.__doc__
    assert len(set(module.__all__)) == len(module.__all__)
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.__all__ names {public}, which does not exist"
