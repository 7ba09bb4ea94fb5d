"""What can happen in a scenario's world, and whether the answer key says so.

`scenario_problems` runs when a scenario file is loaded. The answer key and the
actions may name only devices, cells, operators, APNs, accounts and firmware
that exist. Every cause in the answer key must be one the world can give that
device: from a fault on the timeline that names it (following its SIM through
swaps, for faults of the SIM), a fault of its cell, operator, APN or tunnel, a
fault drawn at a rate for its group, or something that arises by itself in
this world (a battery running flat, a moving device leaving coverage or
entering a network its plan does not allow, a TEST_READY SIM whose account
stops service after the test using its quota, a device set up with an APN,
radio or credentials its plan refuses). And every device a fault on the
timeline names must be in the answer key with that fault's cause.

`truth_problems` runs after a simulation: ground truth must name the same
devices with the same causes, each starting when the answer key says or
within `start_slack` after it.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from typing import TYPE_CHECKING, Final

from protocol.causes import Cause
from protocol.sim_state import SimState
from simlab.scenario import SilenceAction
from simulator.platform.customer import (
    AccountSettings,
    Apn,
    CommunicationPlan,
    CustomerFile,
    SimRange,
)
from simulator.world.faults import CATALOGUE
from simulator.world.spec import world_problems
from simulator.yamlfile import format_loc

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from simlab.scenario import ScenarioSpec
    from simulator.world.spec import DeviceGroupSpec, WorldSpec
    from simulator.world.truth import TruthRecord

__all__ = [
    "START_SLACK_S",
    "Fleet",
    "format_span",
    "possible_causes",
    "scenario_problems",
    "start_slack",
    "truth_problems",
]

Loc = tuple[str | int, ...]
START_SLACK_S: Final = 3600.0
"""The least slack on a start (see `start_slack`): TS.34's longest back-off, and the modem reset
an hour after a permanent reject."""
SIM_CAUSES: Final = frozenset(k.id.cause for k in CATALOGUE.values() if k.scope == "sim")
"""Causes that belong to the SIM: a swap takes them to the other device."""


class Fleet:
    """A world's devices by id, found without listing them (a world may hold a million)."""

    def __init__(self, world: WorldSpec) -> None:
        self.world = world
        self._groups = [(group, _id_pattern(group)) for group in world.devices]

    def find(self, device_id: str) -> tuple[DeviceGroupSpec, int] | None:
        """The device's group and its number in the group, or None when there is no such device."""
        for group, pattern in self._groups:
            match = pattern.fullmatch(device_id)
            if match is None:
                continue
            n = int(match.group(1)) if match.groups() else 1
            if 1 <= n <= group.count and _device_id(group, n) == device_id:
                return group, n
        return None

    def describe(self) -> str:
        """The ids there are, group by group: `collar-0001…collar-0040`."""
        spans = []
        for group in self.world.devices:
            first, last = _device_id(group, 1), _device_id(group, group.count)
            spans.append(first if group.count == 1 else f"{first}…{last}")
        return ", ".join(spans)


def _device_id(group: DeviceGroupSpec, n: int) -> str:
    return group.id_format.format(group=group.name, n=n)


def _id_pattern(group: DeviceGroupSpec) -> re.Pattern[str]:
    """A pattern for the group's ids, capturing the number `{n}` fills in."""
    parts: list[str] = []
    numbered = False
    for literal, field, spec, _ in string.Formatter().parse(group.id_format):
        parts.append(re.escape(literal))
        if field == "group":
            parts.append(re.escape(format(group.name, spec or "")))
        elif field == "n":
            parts.append(r"\d+" if numbered else r"\s*(\d+)")
            numbered = True
        elif field is not None:
            return re.compile(r"(?!)")  # world_problems reports the format itself
    return re.compile("".join(parts))


# ---- what can happen to a device --------------------------------------------------------------


def _range_of(customer: CustomerFile, body: int) -> SimRange | None:
    for sims in customer.sim_ranges:
        first = sims.first_iccid.body_int
        if first <= body < first + sims.count:
            return sims
    return None


def _settings(customer: CustomerFile, account: str) -> AccountSettings:
    """An account's settings, inherited from the nearest ancestor that sets them."""
    accounts = {a.id: a for a in customer.accounts}
    node = accounts.get(account)
    while node is not None:
        if node.settings is not None:
            return node.settings
        node = accounts.get(node.parent) if node.parent else None
    return AccountSettings()


def _plan_of(customer: CustomerFile, group: DeviceGroupSpec, n: int) -> CommunicationPlan | None:
    sims = _range_of(customer, group.first_iccid.body_int + n - 1)
    if sims is None:
        return None
    return next(
        (p for p in customer.communication_plans if p.name == sims.communication_plan), None
    )


def _apn_entry(plan: CommunicationPlan | None, apn: str) -> Apn | None:
    if plan is None:
        return None
    return next((a for a in plan.apns if a.name.lower() == apn.lower()), None)


def _arising(world: WorldSpec, group: DeviceGroupSpec, n: int) -> set[Cause]:
    """Causes that can arise by themselves for device `n` of `group`, no fault needed."""
    customer = world.customer
    causes: set[Cause] = set()
    if group.battery_mah is not None:
        causes.add(Cause.BATTERY_DEPLETED)
    if group.mobility is not None:
        causes |= {Cause.COVERAGE_LOSS, Cause.ROAMING_NOT_ALLOWED}
    sims = _range_of(customer, group.first_iccid.body_int + n - 1)
    if (
        sims is not None
        and sims.state is SimState.TEST_READY
        and _settings(customer, sims.account).after_test is SimState.INVENTORY
    ):
        causes.add(Cause.TEST_QUOTA_USED)
    apns = {a.name.lower() for p in customer.communication_plans for a in p.apns}
    if group.apn.lower() not in apns:
        causes.add(Cause.WRONG_APN)
    plan = _plan_of(customer, group, n)
    if plan is not None:
        if group.radio not in plan.radio_types:
            causes.add(Cause.RADIO_TYPE_NOT_ALLOWED)
        entry = _apn_entry(plan, group.apn)
        if entry is not None and entry.private and not group.apn_credentials_ok:
            causes.add(Cause.PRIVATE_APN_CREDENTIALS)
    return causes


class _Timeline:
    """The causes the world's faults can give, by device, group, APN and tunnel."""

    def __init__(self, world: WorldSpec) -> None:
        self.named: dict[str, set[Cause]] = defaultdict(set)
        self.everywhere: set[Cause] = set()
        self.by_apn: dict[str, set[Cause]] = defaultdict(set)
        self.by_tunnel: dict[str, set[Cause]] = defaultdict(set)
        self.by_group: dict[str | None, set[Cause]] = defaultdict(set)
        for fault in world.faults:
            scope, cause = CATALOGUE[fault.fault].scope, fault.fault.cause
            if scope in {"device", "sim"}:
                for device in fault.devices or []:
                    self.named[device].add(cause)
            elif scope == "apn":
                self.by_apn[(fault.apn or "").lower()].add(cause)
            elif scope == "tunnel":
                self.by_tunnel[fault.tunnel or ""].add(cause)
            else:
                self.everywhere.add(cause)
        for _ in world.swaps:  # a SIM may pass through several swaps
            for swap in world.swaps:
                moved = (self.named[swap.device] | self.named[swap.into]) & SIM_CAUSES
                self.named[swap.device] |= moved
                self.named[swap.into] |= moved
        for rate in world.fault_rates:
            self.by_group[rate.group].add(rate.fault.cause)


def possible_causes(world: WorldSpec, device_id: str) -> set[Cause]:
    """Every cause the world can give the device (empty for a device the world does not hold)."""
    found = Fleet(world).find(device_id)
    if found is None:
        return set()
    return _possible(world, _Timeline(world), device_id, *found)


def _possible(
    world: WorldSpec, timeline: _Timeline, device_id: str, group: DeviceGroupSpec, n: int
) -> set[Cause]:
    causes = set(timeline.named.get(device_id, ())) | timeline.everywhere
    causes |= timeline.by_group.get(None, set()) | timeline.by_group.get(group.name, set())
    causes |= timeline.by_apn.get(group.apn.lower(), set())
    plan = _plan_of(world.customer, group, n)
    entry = _apn_entry(plan, group.apn)
    if entry is not None and entry.tunnel is not None:
        causes |= timeline.by_tunnel.get(entry.tunnel, set())
    return causes | _arising(world, group, n)


# ---- the checks when a file is loaded ---------------------------------------------------------


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
    fleet = Fleet(spec.world)
    problems = _size_problems(spec)
    problems += _answer_problems(spec, fleet)
    problems += _unanswered_faults(spec, inline=inline)
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


def _answer_problems(spec: ScenarioSpec, fleet: Fleet) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    timeline = _Timeline(spec.world)
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
        possible = _possible(spec.world, timeline, answer.device, *found)
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


def _action_problems(spec: ScenarioSpec, fleet: Fleet) -> list[tuple[Loc, str]]:
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
    verdict = spec.answer_key.swap_verdict
    if verdict is not None and swap_tests == 0:
        problems.append(
            (("answer_key", "swap_verdict"), f"{verdict} needs a swap_test action to judge")
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
    return problems


def _value_problems(
    spec: ScenarioSpec, where: Loc, dimension: str, value: str
) -> list[tuple[Loc, str]]:
    """An incident's value must name a cell, operator, APN, account or firmware of the world."""
    world = spec.world
    known: dict[str, Iterable[str]] = {
        "cell": (str(c.id) for c in world.cells),
        "operator": (o.mcc_mnc for o in world.operators),
        "apn": (a.name.lower() for p in world.customer.communication_plans for a in p.apns),
        "account": (a.id for a in world.customer.accounts),
        "firmware": (v for g in world.devices for v in (g.firmware, f"{g.firmware}+ota")),
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
    fleet = Fleet(world or spec.world)
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
