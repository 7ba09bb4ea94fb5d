"""Drawing a world's timeline: faults at random moments and scopes, swaps, support's actions.

Faults come from the catalogue; support's actions are a swap test or a maintenance silence.

A fault strikes one device, a subset, a whole account (its devices named, or the
account itself for the platform's faults that strike an account) or firmware version
(the devices are named), or a shared pool, a cell, an operator, an APN or a tunnel. Each device
carries at most one injected fault at a time, and a fault of the network has
the world to itself while it lasts, so the ground truth names one cause per
device at any moment. A congestion may come with devices whose firmware stops waiting its turn (a
reconnect storm with a retry behaviour for `value`); elsewhere such firmware is
latent until the network asks it to wait. Faults are drawn only where the world allows them (a
battery to drain, a test SIM to use up, an active SIM to purge, a SIM locked to
its IMEI, a radio type the plan refuses, a network abroad the plan leaves out);
the catalogue's own checks say the same, and a fault it rejects would be a bug
of this module. A fault new to the catalogue is drawn as it is; one that needs
something of the world gets its line in `eligible`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from simlab.fuzz.draft import Draft, Group, span
from simulator.world.faults import CATALOGUE
from simulator.world.spec import FaultId, parse_duration

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "SWAPPABLE",
    "add_fault",
    "draw_actions",
    "draw_faults",
    "draw_swaps",
    "eligible",
    "free",
    "moment",
]

H: Final = 3600.0
F = FaultId
ACCOUNT_SHARE: Final = 0.25
"""How often a platform fault that can strike a whole account strikes one (the fleet allowing)."""
ACCOUNT_NAMED: Final = 0.125
"""Of those draws, the ones below this write `account:`; the others name its devices."""
STORM_VALUES: Final = ("tight_loop", "reboot_on_failure")
"""How a reconnect storm's firmware retries when it is not a reboot loop."""
FIRMWARE_WIDE: Final = frozenset({F.FIRMWARE_HANG, F.RECONNECT_STORM, F.WRONG_APN})
"""Faults of the software that can strike every device of a firmware version at once."""
SWAPPABLE: Final = frozenset(
    {
        F.DAMAGED_SIM,
        F.SIM_DEACTIVATED,
        F.SIM_PURGED,
        F.POWER_LOSS,
        F.FIRMWARE_HANG,
        F.BATTERY_DEPLETED,
        F.RADIO_HARDWARE,
    }
)
"""Faults a cross-swap test tells apart by where they go (the SIM or the device)."""


def _busy(d: Draft) -> dict[str, list[tuple[float, float]]]:
    busy: dict[str, list[tuple[float, float]]] = {k: list(v) for k, v in d.reserved.items()}
    for rate in d.fault_rates:  # faults at random times: the group is never free of them
        for device in next(g for g in d.groups if g.spec["name"] == rate["group"]).ids:
            busy.setdefault(device, []).append((0.0, d.duration))
    for fault in d.faults:
        start = fault["_at"]
        end = start + fault["_for"] if fault["_for"] else d.duration
        for device in fault["_devices"]:
            busy.setdefault(device, []).append((start, end))
    return busy


def _free(
    busy: dict[str, list[tuple[float, float]]], device: str, start: float, end: float
) -> bool:
    return all(end + H <= a or start >= b + H for a, b in busy.get(device, []))


def free(d: Draft, devices: list[str], start: float, end: float) -> bool:
    """Whether `devices` are free of faults (and the network of its own) from `start` to `end`."""
    busy = _busy(d)
    return not _network_at(d, start, end) and all(_free(busy, i, start, end) for i in devices)


def eligible(g: Group, d: Draft, fault: FaultId) -> dict[str, Any] | None:
    """What the fault needs from the group's devices (its `value`, `operator`), or None."""
    plan = next(p for p in d.plans if p["name"] == g.plan)
    rate = next(r for r in d.rates if r["name"] == g.rate)
    private = any(a.get("private") and a["name"] == g.spec["apn"] for a in plan["apns"])
    needs: dict[FaultId, Callable[[], dict[str, Any] | None]] = {
        F.BATTERY_DEPLETED: lambda: {} if "battery_mah" in g.spec else None,
        F.TEST_QUOTA_USED: lambda: {} if g.state == "TEST_READY" else None,
        F.SIM_PURGED: lambda: {} if g.state == "ACTIVATED" else None,  # a test SIM is not retired
        F.DATA_LIMIT_REACHED: lambda: {} if "overage_limit" in rate else None,
        F.SIM_DEACTIVATED: lambda: _invoice(d),
        F.IMEI_LOCK_MISMATCH: lambda: {} if g.imei_lock else None,
        F.PRIVATE_APN_CREDENTIALS: lambda: {} if private else None,
        F.ROAMING_NOT_ALLOWED: lambda: _abroad(d, plan),
        F.RADIO_TYPE_NOT_ALLOWED: lambda: _radio(d, plan),
        F.RECONNECT_STORM: lambda: _storm_value(d),
    }
    return needs.get(fault, dict)()


def _invoice(d: Draft) -> dict[str, Any]:
    """Billing names the overdue invoice most of the time."""
    return {"value": f"{d.start.year}-{d.rng.randint(1, 9999):04d}"} if d.rng.random() < 0.7 else {}


def _abroad(d: Draft, plan: dict[str, Any]) -> dict[str, Any] | None:
    allowed = {n["country"] for n in plan["networks"]}
    refused = [o["mcc_mnc"] for o in d.operators if o["country"] not in allowed]
    return {"operator": d.rng.choice(refused)} if refused else None


def _radio(d: Draft, plan: dict[str, Any]) -> dict[str, Any] | None:
    offered = {r for c in d.cells if c["id"] < 900 for r in c["radio_types"]}
    refused = sorted(offered - set(plan["radio_types"]))
    return {"value": d.rng.choice(refused)} if refused else None


def moment(d: Draft) -> tuple[float, float | None]:
    """When something on the timeline strikes, on the minute, and how long it lasts (None: on)."""
    at = int(d.rng.uniform(0.5 * H, d.duration - 2 * H) // 60) * 60
    lasting = d.rng.random() < 0.35
    return float(at), None if lasting else float(d.rng.choice((1, 2, 3, 5, 8)) * H)


def _device_fault(d: Draft, fault: FaultId, group: Group | None = None) -> None:
    busy = _busy(d)
    at, duration = moment(d)
    end = at + (duration or d.duration)
    g = d.rng.choice(d.groups) if group is None else group
    extra = eligible(g, d, fault)
    if extra is None:
        return
    idle = [i for i in g.ids if _free(busy, i, at, end) and not _network_at(d, at, end)]
    if not idle:
        return
    kind = d.rng.random()
    scope, dimension = "device", None
    where: dict[str, Any] = {}
    if g.pool is not None and CATALOGUE[fault].pool_wide:
        if len(idle) < len(g.ids):
            return  # it reaches every SIM of the pool
        devices, scope, dimension = idle, "pool", ("pool", g.pool)
        where = {"pool": g.pool} if kind < 0.5 else {"devices": [d.rng.choice(idle)]}
        add_fault(d, fault, at, duration, where | extra, devices, dimension)
        d.notes.append(f"{fault.value} on the pool {g.pool} ({len(devices)} SIMs) at {span(at)}.")
        return
    if kind < ACCOUNT_SHARE and CATALOGUE[fault].account_wide and len(idle) == len(g.ids) >= 3:
        devices, scope, dimension = idle, "account", ("account", g.account)
        if kind < ACCOUNT_NAMED:  # written for the account, or for each of its devices
            where = {"account": g.account}
    elif kind < 0.15 and fault in FIRMWARE_WIDE and len(idle) == len(g.ids) >= 3:
        devices, scope, dimension = idle, "firmware", ("firmware", g.spec["firmware"])
    elif kind < 0.4 and len(idle) > 2:
        devices, scope = (
            sorted(d.rng.sample(idle, d.rng.randint(2, min(10, len(idle) - 1)))),
            "subset",
        )
    else:
        devices = [d.rng.choice(idle)]
    where = where or {"devices": devices}
    add_fault(d, fault, at, duration, where | extra, devices, dimension)
    d.notes.append(f"{fault.value} on {scope} ({len(devices)} devices) at {span(at)}.")


def _network_at(d: Draft, start: float, end: float) -> bool:
    return any(
        f["_network"]
        and not (end + H <= f["_at"] or start >= f["_at"] + (f["_for"] or d.duration) + H)
        for f in d.faults
    )


def _network_fault(d: Draft, fault: FaultId) -> None:
    at, duration = moment(d)
    end = at + (duration or d.duration)
    taken = [(f["_at"], f["_at"] + (f["_for"] or d.duration)) for f in d.faults]
    taken += [window for windows in d.reserved.values() for window in windows]
    if any(not (end + H <= a or at >= b + H) for a, b in taken):
        return  # a fault of the network has the world to itself
    scope = CATALOGUE[fault].scope
    home = [c for c in d.cells if c["id"] < 900]
    if fault is F.CONGESTION and d.rng.random() < 0.3:
        scope = "operator"  # a whole network congested, not one cell
    if scope == "cell":
        cell = d.rng.choice(home)
        where, dimension = {"cell": cell["id"]}, ("cell", str(cell["id"]))
    elif scope == "operator":
        operator = d.rng.choice(sorted({c["operator"] for c in home}))
        where, dimension = {"operator": operator}, ("operator", operator)
    elif scope == "apn":
        apn = d.rng.choice(sorted({g.spec["apn"] for g in d.groups}))
        where, dimension = {"apn": apn}, ("apn", apn)
    else:
        tunnels = sorted({t for g in d.groups if (t := _tunnel(d, g)) is not None})
        if not tunnels:
            return
        tunnel = d.rng.choice(tunnels)  # a tunnel is a dimension of its own
        where, dimension = {"tunnel": tunnel}, ("tunnel", tunnel)
    devices = d.devices()  # every device is kept free of other faults meanwhile
    add_fault(d, fault, at, duration, where, devices, dimension, network=True)
    d.notes.append(f"{fault.value} on {dimension[0]} {dimension[1]} at {span(at)}.")
    if fault is F.CONGESTION:
        _storms_in_congestion(d, at, duration, where)


def _storm_value(d: Draft) -> dict[str, Any]:
    """A reboot loop, or firmware that retries without waiting (latent until a back-off)."""
    value = d.rng.choice((None, None, *STORM_VALUES))
    return {} if value is None else {"value": value}


def _storms_in_congestion(
    d: Draft, at: float, duration: float | None, where: dict[str, Any]
) -> None:
    """Sometimes devices under a congestion get firmware that does not wait its turn.

    Installed half an hour before the congestion or half an hour into it, until half an hour
    after it ends: the truth of each is the congestion until its firmware first ignores a
    back-off, a reconnect storm from then on (`TruthObserver.ignored_backoff`).
    """
    if d.rng.random() >= 0.5:
        return
    operator_of = {c["id"]: c["operator"] for c in d.cells}
    served = [
        g
        for g in d.groups
        if "mobility" not in g.spec
        and (g.cell == where.get("cell") or operator_of[g.cell] == where.get("operator"))
    ]
    if not served:
        return
    g = d.rng.choice(served)
    devices = sorted(d.rng.sample(g.ids, min(len(g.ids), d.rng.randint(1, 3))))
    start = at + d.rng.choice((-0.5, 0.5)) * H
    length = None if duration is None else at + duration + 0.5 * H - start
    value = d.rng.choice(STORM_VALUES)
    add_fault(
        d, F.RECONNECT_STORM, start, length, {"devices": devices, "value": value}, devices, None
    )
    d.notes.append(
        f"reconnect_storm ({value}) on {len(devices)} of group {g.spec['name']} at {span(start)}."
    )


def _tunnel(d: Draft, g: Group) -> str | None:
    """The tunnel behind the group's APN, if it is a private one."""
    plan = next(p for p in d.plans if p["name"] == g.plan)
    return next((a.get("tunnel") for a in plan["apns"] if a["name"] == g.spec["apn"]), None)


def add_fault(
    d: Draft,
    fault: FaultId,
    at: float,
    duration: float | None,
    where: dict[str, Any],
    devices: list[str],
    dimension: tuple[str, str] | None,
    *,
    network: bool = False,
) -> None:
    """Put `fault` on the timeline `where` it is written, reaching `devices`, maybe a group."""
    entry: dict[str, Any] = {"fault": fault.value, "at": span(at)}
    if duration is not None:
        entry["duration"] = span(duration)
    entry |= where
    d.faults.append(entry | {"_at": at, "_for": duration, "_devices": devices, "_network": network})
    if dimension is not None:
        d.incidents.append(
            {"dimension": dimension[0], "value": dimension[1], "start": at, "fault": fault.value}
        )


def draw_faults(d: Draft) -> None:
    """None to three faults of the catalogue, at random moments and scopes.

    A world with none may get faults of one kind at random times on a group (`fault_rates`).
    """
    count = d.rng.choice((0, 1, 1, 1, 2, 2, 3))
    if count == 0 and d.rng.random() < 0.3:
        g = d.rng.choice(d.groups)
        fault = d.rng.choice((F.POWER_LOSS, F.FIRMWARE_HANG, F.DAMAGED_SIM, F.COVERAGE_LOSS))
        rate = {"fault": fault.value, "per_device_day": 0.05, "duration": span(3 * H)}
        d.fault_rates.append(rate | {"group": g.spec["name"]})
        d.notes.append(f"{fault.value} strikes devices of group {g.spec['name']} at random.")
    for _ in range(count):
        fault = d.rng.choice(list(CATALOGUE))
        if CATALOGUE[fault].scope in {"device", "sim"}:
            _device_fault(d, fault)
        else:
            _network_fault(d, fault)
    for g in d.groups:  # a shared pool is used up as often as a SIM's own allowance is
        if g.pool is not None and d.rng.random() < 0.3:
            _device_fault(d, F.DATA_LIMIT_REACHED, g)


def draw_swaps(d: Draft) -> None:
    """Sometimes a cross-swap test on a device with a fault of its own, with a working partner."""
    single = [f for f in d.faults if len(f["_devices"]) == 1 and FaultId(f["fault"]) in SWAPPABLE]
    if not single or d.rng.random() > 0.8:
        return
    fault = d.rng.choice(single)
    suspect = fault["_devices"][0]
    group = next(g for g in d.groups if suspect in g.ids)
    if fault["_at"] < 2 * parse_duration(group.spec["report_interval"]):  # type: ignore[operator]
        return  # support swap-tests a device that has reported, not one it never heard from
    swap_at = fault["_at"] + d.rng.choice((1, 2, 3)) * H
    end = fault["_at"] + (fault["_for"] or d.duration)
    if group.imei_lock or swap_at + 3 * H > min(end, d.duration):
        return
    busy = _busy(d)
    partners = [i for i in group.ids if i != suspect and _free(busy, i, swap_at - H, d.duration)]
    if not partners:
        return
    partner = d.rng.choice(partners)
    swap: dict[str, Any] = {"at": span(swap_at), "device": suspect, "into": partner}
    if d.rng.random() < 0.3 and swap_at + 4 * H < min(end, d.duration):
        swap["back_at"] = span(swap_at + 3 * H)  # the SIMs go back after the test
    d.swaps.append(swap)
    d.actions.append(
        {"at": span(swap_at - 1800), "swap_test": {"sim_of": suspect, "into": partner}}
    )
    follows = CATALOGUE[FaultId(fault["fault"])].scope == "sim"
    d.swap_verdict = "follows_sim" if follows else "stays_with_device"
    d.notes.append(f"Cross-swap test of {suspect} with {partner} at {span(swap_at)}.")


def draw_actions(d: Draft) -> None:
    """Sometimes support silences the group a fault strikes, as for planned maintenance."""
    if d.incidents and d.rng.random() < 0.2:
        incident = d.rng.choice(d.incidents)
        at = incident["start"] + 1800
        d.actions.append(
            {
                "at": span(at),
                "silence": {
                    "dimension": incident["dimension"],
                    "value": incident["value"],
                    "duration": span(2 * H),
                },
                "note": "planned maintenance",
            }
        )
