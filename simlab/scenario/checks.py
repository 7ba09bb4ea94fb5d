"""Whether a scenario holds together, when it is loaded and after it has run.

`scenario_problems` runs when a scenario file is loaded. The answer key and the
actions may name only devices, cells, operators, APNs, accounts and firmware
that exist, and a fleet message no more devices than the key gives its cause.
Every cause in the answer key must be one the world can give that device
(`simlab.scenario.possible`). And every device a fault on the timeline
names must be in the answer key with that fault's cause, and so must every device
a SIM is moved out of (it is left without one).

`truth_problems` runs after a simulation: ground truth must name the same
devices with the same causes, each starting when the answer key says or
within `start_slack` after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from simlab.scenario.devices import DeviceIds
from simlab.scenario.model import SilenceAction
from simlab.scenario.possible import Timeline, causes_for
from simulator.world.spec_problems import pools, world_problems
from simulator.yamlfile import format_loc

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from protocol.causes import Cause
    from simlab.scenario.model import ScenarioSpec
    from simulator.world.spec import DeviceGroupSpec, WorldSpec
    from simulator.world.truth import TruthRecord

__all__ = [
    "START_SLACK_S",
    "format_span",
    "scenario_problems",
    "start_slack",
    "truth_problems",
]

Loc = tuple[str | int, ...]
START_SLACK_S: Final = 3600.0
"""The least slack on a start (see `start_slack`): TS.34's longest back-off, and the modem reset
an hour after a permanent reject."""


def scenario_problems(spec: ScenarioSpec, *, inline: bool = True) -> list[tuple[Loc, str]]:
    """Problems across the scenario's parts, each with the path of the field it concerns.

    `inline`: the world is written in the scenario; otherwise it came from a world file, and its
    problems (after `--size`) are reported at `world` with their path in that file.
    """
    found = world_problems(spec.world)
    if found:
        if inline:
            return [(("world", *loc), message) for loc, message in found]
        return [(("world",), f"{format_loc(loc)}: {message}") for loc, message in found]
    fleet = DeviceIds(spec.world)
    problems = _size_problems(spec)
    problems += _answer_problems(spec, fleet)
    problems += _unanswered_faults(spec, inline=inline)
    problems += _unanswered_moves(spec)
    problems += _action_problems(spec, fleet)
    problems += _incident_problems(spec)
    return problems


def _size_problems(spec: ScenarioSpec) -> list[tuple[Loc, str]]:
    size = spec.run.size
    groups = [g.name for g in spec.world.devices]
    if size is None or size.group in groups:
        return []
    return [
        (
            ("run", "size", "group"),
            f"unknown device group {size.group!r} (groups: {', '.join(groups)})",
        )
    ]


def _answer_problems(spec: ScenarioSpec, fleet: DeviceIds) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    timeline = Timeline(spec.world)
    seen: set[tuple[str, Cause]] = set()
    for i, answer in enumerate(spec.answer_key.devices):
        where: Loc = ("answer_key", "devices", i)
        found = fleet.find(answer.device)
        if found is None:
            problems.append(
                (
                    (*where, "device"),
                    f"unknown device {answer.device!r} (devices: {fleet.describe()})",
                )
            )
            continue
        if (answer.device, answer.cause) in seen:
            problems.append(
                ((*where, "device"), f"{answer.device} with {answer.cause.value} is listed twice")
            )
        seen.add((answer.device, answer.cause))
        possible = causes_for(spec.world, timeline, answer.device, *found)
        if answer.cause not in possible:
            others = ", ".join(sorted(c.value for c in possible)) or "none"
            problems.append(
                (
                    (*where, "cause"),
                    (
                        f"nothing in this world gives {answer.device} {answer.cause.value}: no "
                        f"fault names it and it cannot arise by itself here (possible: {others})"
                    ),
                )
            )
        problems += _within_run(spec, (*where, "start"), answer.start)
    return problems


def _unanswered_faults(spec: ScenarioSpec, *, inline: bool) -> list[tuple[Loc, str]]:
    """Every device a fault on the timeline names must be in the answer key with its cause."""
    answered = {(a.device, a.cause) for a in spec.answer_key.devices}
    problems: list[tuple[Loc, str]] = []
    for i, fault in enumerate(spec.world.faults):
        for j, device in enumerate(fault.devices or []):
            if (device, fault.fault.cause) in answered:
                continue
            message = (
                f"{device} gets {fault.fault.cause.value}, but answer_key.devices does not list it"
            )
            if inline:
                problems.append((("world", "faults", i, "devices", j), message))
            else:
                problems.append((("answer_key", "devices"), f"world faults[{i}]: {message}"))
    return problems


def _unanswered_moves(spec: ScenarioSpec) -> list[tuple[Loc, str]]:
    """A device a SIM is moved out of goes quiet: the answer key must say why it stopped."""
    answered = {a.device for a in spec.answer_key.devices}
    return [
        (
            ("world", "moves", i, "device"),
            (
                f"{moved.device} is left without a SIM at {format_span(moved.at)} and goes "
                "quiet; answer_key.devices must list it with the fault that stopped it first"
            ),
        )
        for i, moved in enumerate(spec.world.moves)
        if moved.device not in answered
    ]


def _action_problems(spec: ScenarioSpec, fleet: DeviceIds) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    swap_tests = 0
    for i, action in enumerate(spec.actions):
        where: Loc = ("actions", i)
        problems += _within_run(spec, (*where, "at"), action.at)
        if isinstance(action, SilenceAction):
            silence = action.silence
            problems += _value_problems(
                spec, (*where, "silence", "value"), silence.dimension.value, silence.value
            )
            continue
        test = action.swap_test
        swap_tests += 1
        named = ("sim_of", "into") if test.into is not None else ("sim_of",)
        unknown = [field for field in named if fleet.find(getattr(test, field)) is None]
        for field in unknown:
            message = f"unknown device {getattr(test, field)!r} (devices: {fleet.describe()})"
            problems.append(((*where, "swap_test", field), message))
        if unknown or test.into is None:
            continue
        if test.sim_of == test.into:
            problems.append(((*where, "swap_test", "into"), "a swap test needs two devices"))
        elif not any(
            {s.device, s.into} == {test.sim_of, test.into} and s.at >= action.at
            for s in spec.world.swaps
        ):
            problems.append(
                (
                    (*where, "swap_test"),
                    (
                        f"no SIM swap in world.swaps between {test.sim_of} and {test.into} at "
                        f"or after {format_span(action.at)}: the test would wait for nothing"
                    ),
                )
            )
    expected = spec.answer_key.swap_verdict
    if expected is not None and swap_tests == 0:
        problems.append(
            (("answer_key", "swap_verdict"), f"{expected} needs a swap_test action to judge")
        )
    return problems


def _incident_problems(spec: ScenarioSpec) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for i, incident in enumerate(spec.answer_key.incidents):
        where: Loc = ("answer_key", "incidents", i)
        problems += _value_problems(
            spec, (*where, "value"), incident.dimension.value, incident.value
        )
        problems += _within_run(spec, (*where, "start"), incident.start)
    for i, message in enumerate(spec.answer_key.fleet_messages):
        where = ("answer_key", "fleet_messages", i)
        problems += _value_problems(spec, (*where, "account"), "account", message.account)
        sharing = sum(a.cause is message.cause for a in spec.answer_key.devices)
        if message.count > sharing:
            problems.append(
                (
                    (*where, "count"),
                    (
                        f"names {message.count} devices with {message.cause.value}, but "
                        f"answer_key.devices lists {sharing}"
                    ),
                )
            )
    return problems


def _value_problems(
    spec: ScenarioSpec, where: Loc, dimension: str, value: str
) -> list[tuple[Loc, str]]:
    """An incident's value must name a cell, operator, APN, tunnel, pool, account or firmware."""
    world = spec.world
    known: dict[str, Iterable[str]] = {
        "cell": (str(c.id) for c in world.cells),
        "operator": (o.mcc_mnc for o in world.operators),
        "apn": (a.name.lower() for p in world.customer.communication_plans for a in p.apns),
        "tunnel": (t.name for t in world.customer.tunnels),
        "pool": pools(world.customer),
        "account": (a.id for a in world.customer.accounts),
        "firmware": (
            *(v for g in world.devices for v in (g.firmware, f"{g.firmware}+ota")),
            *(r.version for r in world.rollouts),
        ),
    }
    names = sorted(set(known[dimension]))
    wanted = value.lower() if dimension == "apn" else value
    if wanted in names:
        return []
    return [(where, f"unknown {dimension} {value!r} in this world (known: {', '.join(names)})")]


def _within_run(spec: ScenarioSpec, where: Loc, at: float) -> list[tuple[Loc, str]]:
    if at < spec.run.duration:
        return []
    return [
        (where, f"{format_span(at)} is not before the run ends ({format_span(spec.run.duration)})")
    ]


def format_span(seconds: float) -> str:
    """90 → 90s, 5400 → 1h30m, 129600 → 36h."""
    left = round(seconds)
    out = ""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            out += f"{left // size}{unit}"
            left %= size
    return out or "0s"


# ---- after a run ----------------------------------------------------------------------------


def start_slack(group: DeviceGroupSpec) -> float:
    """How much later than the answer key's start ground truth may begin a device's fault.

    An injected fault begins at its moment exactly, and a SIM fault moved by a swap at the
    swap. A fault that arises by itself (a battery running flat, a device finding no network it
    may use, a test quota used up) begins when the device meets it: at its next report, scan or
    retry. That is at most one reporting interval with its jitter later, or an hour (TS.34's
    longest back-off, and the modem reset after a permanent reject), whichever is longer.
    """
    return max(START_SLACK_S, group.report_interval + group.report_jitter)


def truth_problems(
    spec: ScenarioSpec, truth: Sequence[TruthRecord], world: WorldSpec | None = None
) -> list[str]:
    """Where a run's ground truth and the scenario's answer key disagree; empty when they agree.

    `world` is the world that ran (the scenario's, or a resized copy from `world_of`).
    """
    fleet = DeviceIds(world or spec.world)
    began: dict[tuple[str, Cause], float] = {}
    for record in truth:
        key = (record.device_id, record.cause)
        began[key] = min(began.get(key, record.start), record.start)
    problems = []
    for answer in spec.answer_key.devices:
        key = (answer.device, answer.cause)
        if key not in began:
            problems.append(
                f"{answer.device}: the answer key says {answer.cause.value} from "
                f"{format_span(answer.start)}; ground truth has no such fault"
            )
            continue
        found = fleet.find(answer.device)
        slack = START_SLACK_S if found is None else start_slack(found[0])
        start = began.pop(key)
        if not answer.start <= start <= answer.start + slack:
            problems.append(
                f"{answer.device}: {answer.cause.value} began at {format_span(start)}; the "
                f"answer key says {format_span(answer.start)} (up to {format_span(slack)} later)"
            )
    problems += [
        f"{device}: {cause.value} from {format_span(start)} is not in the answer key"
        for (device, cause), start in sorted(began.items(), key=lambda item: item[1])
    ]
    return problems
