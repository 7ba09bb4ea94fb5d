"""Whether a world holds together across its parts: `world_problems`, each with its field's path.

The models of `simulator.world.spec` check each field on its own; this module checks
what only the whole world can say: cells of known operators, device ids that fit a
topic level and SIM ranges that hold every device's SIM, and a timeline (faults, swaps,
moves, interventions, fault rates) that names only devices, cells, operators, APNs,
tunnels, pools and accounts the world has (an account only for the platform's faults that
strike a whole account).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from simulator.platform.billing import pool_name
from simulator.platform.customer import cross_check
from simulator.world.faults import CATALOGUE
from simulator.world.spec import InterventionId, device_ids

if TYPE_CHECKING:
    from simulator.platform.customer import CustomerFile
    from simulator.world.spec import FaultSpec, MoveSpec, SwapSpec, WorldSpec

__all__ = ["Loc", "pools", "world_problems"]

_TOPIC_LEVEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
Loc = tuple[str | int, ...]


def world_problems(spec: WorldSpec) -> list[tuple[Loc, str]]:
    """Problems across the world's parts, each with the path of the field it concerns."""
    problems: list[tuple[Loc, str]] = [
        (("customer", *loc), msg) for loc, msg in cross_check(spec.customer)
    ]
    problems += _network_problems(spec)
    ids = _device_problems(spec, problems)
    problems += _timeline_problems(spec, ids)
    return problems


def _network_problems(spec: WorldSpec) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    operators = {o.mcc_mnc for o in spec.operators}
    seen: set[int] = set()
    for i, cell in enumerate(spec.cells):
        if cell.operator not in operators:
            problems.append((("cells", i, "operator"), f"unknown operator {cell.operator!r}"))
        if cell.id in seen:
            problems.append((("cells", i, "id"), f"cell {cell.id} is defined twice"))
        seen.add(cell.id)
    return problems


def _device_problems(spec: WorldSpec, problems: list[tuple[Loc, str]]) -> dict[str, str]:
    """Check device groups; returns every device id with its group name."""
    spans = [
        (r.first_iccid.body_int, r.first_iccid.body_int + r.count - 1)
        for r in spec.customer.sim_ranges
    ]
    ids: dict[str, str] = {}
    for i, group in enumerate(spec.devices):
        first = group.first_iccid.body_int
        last = first + group.count - 1
        if not _covered(spans, first, last):
            problems.append(
                (
                    ("devices", i, "first_iccid"),
                    f"{group.count} SIMs from {group.first_iccid} are not all in sim_ranges",
                ),
            )
        for n in (1, group.count):
            try:
                device_id = group.id_format.format(group=group.name, n=n)
                group.name_format.format(group=group.name, n=n)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append((("devices", i, "id_format"), f"cannot be filled in: {exc}"))
                return ids
            if not _TOPIC_LEVEL.match(device_id):
                problems.append(
                    (
                        ("devices", i, "id_format"),
                        f"device id {device_id!r} must be letters, digits, '_.-'",
                    ),
                )
        for device_id in device_ids(group):
            if device_id in ids:
                problems.append(
                    (("devices", i, "id_format"), f"device id {device_id!r} is used twice")
                )
                break
            ids[device_id] = group.name
    return ids


def _covered(spans: list[tuple[int, int]], first: int, last: int) -> bool:
    """Whether the ranges `spans` hold every number from `first` to `last`."""
    reach = first - 1
    for lo, hi in sorted(spans):
        if lo > reach + 1:
            if lo <= last:
                return False
            break
        reach = max(reach, hi)
    return reach >= last


def pools(customer: CustomerFile) -> set[str]:
    """The customer's shared data pools (`account/rate plan`): accounts' SIMs on pooled plans."""
    pooled = {r.name for r in customer.rate_plans if r.pooled}
    return {pool_name(r.account, r.rate_plan) for r in customer.sim_ranges if r.rate_plan in pooled}


def _timeline_problems(spec: WorldSpec, ids: dict[str, str]) -> list[tuple[Loc, str]]:
    problems = _fault_problems(spec, ids)
    changes: list[tuple[str, int, SwapSpec | MoveSpec]] = [
        ("swaps", i, c) for i, c in enumerate(spec.swaps)
    ]
    changes += [("moves", i, c) for i, c in enumerate(spec.moves)]
    for kind, i, change in changes:
        for field in ("device", "into"):
            name = getattr(change, field)
            if name not in ids:
                problems.append(((kind, i, field), f"unknown device {name!r}"))
        if change.device == change.into:
            problems.append(((kind, i, "into"), "a SIM moves between two devices"))
    problems += _intervention_problems(spec, ids)
    groups = {g.name for g in spec.devices}
    for i, rate in enumerate(spec.fault_rates):
        if rate.group is not None and rate.group not in groups:
            problems.append((("fault_rates", i, "group"), f"unknown device group {rate.group!r}"))
    for i, rollout in enumerate(spec.rollouts):
        if rollout.group is not None and rollout.group not in groups:
            problems.append((("rollouts", i, "group"), f"unknown device group {rollout.group!r}"))
        problems += [
            (("rollouts", i, "devices", j), f"unknown device {device!r}")
            for j, device in enumerate(rollout.devices or [])
            if device not in ids
        ]
    return problems


def _intervention_problems(spec: WorldSpec, ids: dict[str, str]) -> list[tuple[Loc, str]]:
    plans = {p.name for p in spec.customer.communication_plans}
    operators = {o.mcc_mnc for o in spec.operators}
    needs = {InterventionId.CHANGE_PLAN: plans, InterventionId.SELECT_NETWORK: operators}
    problems: list[tuple[Loc, str]] = []
    for i, step in enumerate(spec.interventions):
        action = step.action.value
        problems += [
            (("interventions", i, "devices", j), f"{action}: unknown device {device!r}")
            for j, device in enumerate(step.devices)
            if device not in ids
        ]
        known = needs.get(step.action)
        if known is not None and step.value not in known:
            problems.append(
                (("interventions", i, "value"), f"{action}: unknown value {step.value!r}")
            )
    return problems


def _fault_problems(spec: WorldSpec, ids: dict[str, str]) -> list[tuple[Loc, str]]:
    known: dict[str, set[int] | set[str]] = {
        "cell": {c.id for c in spec.cells},
        "operator": {o.mcc_mnc for o in spec.operators},
        "apn": {a.name.lower() for p in spec.customer.communication_plans for a in p.apns},
        "tunnel": {t.name for t in spec.customer.tunnels},
        "pool": pools(spec.customer),
        "account": {a.id for a in spec.customer.accounts},
    }
    problems: list[tuple[Loc, str]] = []
    for i, fault in enumerate(spec.faults):
        problems += _account_scope(i, fault)
        problems += [
            (("faults", i, "devices", j), f"{fault.fault.value}: unknown device {device!r}")
            for j, device in enumerate(fault.devices or [])
            if device not in ids
        ]
        for field, names in known.items():
            value = getattr(fault, field)
            if value is not None and (value.lower() if field == "apn" else value) not in names:
                problems.append(
                    (("faults", i, field), f"{fault.fault.value}: unknown {field} {value!r}")
                )
    return problems


def _account_scope(i: int, fault: FaultSpec) -> list[tuple[Loc, str]]:
    """An account is a scope of the platform's faults, and the only one the fault then has."""
    if fault.account is None:
        return []
    if not CATALOGUE[fault.fault].account_wide:
        wide = ", ".join(f.value for f, k in CATALOGUE.items() if k.account_wide)
        message = f"{fault.fault.value} does not strike an account; these do: {wide}"
        return [(("faults", i, "account"), message)]
    if fault.devices is not None or fault.pool is not None:
        return [(("faults", i, "account"), "give the account, or devices, or a pool: one of them")]
    return []
