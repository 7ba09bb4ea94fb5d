"""Drawing what people change in a running world: firmware rollouts, interventions, SIMs moved.

Three dimensions of `simlab.fuzz.draw`, drawn after the faults so they can fit
around them:

- a firmware rollout to a group's devices on one version, to all of them or a share,
  bringing nothing but the version or one of the catalogue's firmware faults (the
  new version's devices are then a firmware group the key may expect an incident of);
- interventions on a fleet that travelled onto a network its plan refuses (EMM #11,
  written into each SIM's forbidden list): the operator changes the plan, and then
  clears the list over the air, or someone selects the network by hand, or nobody
  does and the devices stay off it;
- a device that breaks for good (a fault of its own, lasting) replaced: its SIM moved
  into another device of the fleet, which is refused when the SIM is locked to the old
  device's IMEI (the truth then has the IMEI lock on the receiving device; the giver
  keeps its own fault, so the key lists both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from simlab.fuzz.draft import span
from simlab.fuzz.timeline import SWAPPABLE, add_fault, eligible, free, moment
from simulator.world.faults import CATALOGUE
from simulator.world.spec import FaultId, parse_duration

if TYPE_CHECKING:
    from simlab.fuzz.draft import Draft, Group

__all__ = ["ROLLOUT_FAULTS", "draw_interventions", "draw_moves", "draw_rollouts"]

H: Final = 3600.0
F = FaultId
ROLLOUT_FAULTS: Final[tuple[FaultId | None, ...]] = (
    None,
    F.FIRMWARE_HANG,
    F.RECONNECT_STORM,
    F.WRONG_APN,
)
"""What a new version brings (`ROLLOUT_WEIGHTS` how often): mostly nothing but itself."""
ROLLOUT_WEIGHTS: Final = (3, 2, 1, 1)
REPLACEABLE: Final = frozenset(f for f in SWAPPABLE if CATALOGUE[f].scope == "device")
"""Faults of the device itself, for which a customer moves the SIM into other hardware."""


def _next_version(version: str) -> str:
    major, minor, _ = version.split(".")
    return f"{major}.{int(minor) + 1}.0"


def draw_rollouts(d: Draft) -> None:
    """Sometimes a new firmware version goes out over the air to a group's devices."""
    if d.rng.random() >= 0.3:
        return
    g = d.rng.choice(d.groups)
    at, duration = moment(d)
    old = g.spec["firmware"]
    version = _next_version(old)
    fault = d.rng.choices(ROLLOUT_FAULTS, ROLLOUT_WEIGHTS)[0]
    entry: dict[str, Any] = {"at": span(at), "version": version, "group": g.spec["name"]}
    entry["from_version"] = old
    share = d.rng.choice((1.0, 1.0, 0.5, 0.2))
    if share < 1.0:
        entry["share"] = share
    if any(i["dimension"] == "firmware" and i["value"] == old for i in d.incidents):
        return  # a fault of the old version as a whole is on the timeline already
    if fault is not None:
        end = at + (duration or d.duration)
        if "mobility" in g.spec or not free(d, g.ids, at, end):
            return  # any of the group's devices may be one it reaches, each where it is served
        entry["fault"] = fault.value
        if duration is not None:
            entry["duration"] = span(duration)
        d.reserve(g.ids, at, end)
        d.incidents.append(
            {"dimension": "firmware", "value": version, "start": at, "fault": fault.value}
        )
    d.rollouts.append(entry)
    brings = f", bringing {fault.value}" if fault is not None else ""
    group = g.spec["name"]
    d.notes.append(f"Firmware {version} rolls out to {share:.0%} of group {group}{brings}.")


def _trip_abroad(d: Draft, g: Group) -> tuple[float, dict[str, Any]] | None:
    """When the group's convoy arrives on a network abroad its plan refuses, and that network."""
    points = (g.spec.get("mobility") or {}).get("waypoints") or []
    if len(points) < 2:
        return None
    last = points[-1]
    cell = next((c for c in d.cells if (c["lat"], c["lon"]) == (last["lat"], last["lon"])), None)
    if cell is None:
        return None  # out of every cell's reach
    operator = next(o for o in d.operators if o["mcc_mnc"] == cell["operator"])
    plan = next(p for p in d.plans if p["name"] == g.plan)
    if operator["country"] in {n["country"] for n in plan["networks"]}:
        return None
    return float(parse_duration(last["at"])), operator  # type: ignore[arg-type]


def draw_interventions(d: Draft) -> None:
    """A fleet refused abroad: its plan is changed, and its SIMs' forbidden lists maybe cleared."""
    for g in d.groups:
        trip = _trip_abroad(d, g)
        if trip is None or d.rng.random() >= 0.9:
            continue
        arrived, operator = trip
        change = arrived + d.rng.choice((1, 2, 4)) * H
        if change > d.duration - 2 * H:
            continue
        plan = next(p for p in d.plans if p["name"] == g.plan)
        wider = plan | {"name": f"{g.plan}-travel"}
        wider["networks"] = [*plan["networks"], {"country": operator["country"]}]
        d.plans.append(wider)
        devices = list(g.ids)
        steps = [{"at": span(change), "action": "change_plan", "value": wider["name"]}]
        then = d.rng.choices(("clear_forbidden_networks", "select_network", None), (4, 3, 3))[0]
        if then is not None:
            step: dict[str, Any] = {"at": span(change + d.rng.choice((30, 60, 120)) * 60)}
            step["action"] = then
            if then == "select_network":
                step["value"] = operator["mcc_mnc"]
            steps.append(step)
        d.interventions += [s | {"devices": devices} for s in steps]
        d.notes.append(
            f"Group {g.spec['name']} is refused by {operator['name']}; its plan is widened at "
            f"{span(change)}" + (f", then {then}." if then else ", and nothing more.")
        )


def draw_moves(d: Draft) -> None:
    """Sometimes a device breaks for good and is replaced: its SIM goes into another device."""
    tied = {s[k] for s in d.swaps for k in ("device", "into")}
    tied |= {device for step in d.interventions for device in step["devices"]}
    groups = [g for g in d.groups if g.spec["count"] >= 2]
    if not groups or d.rng.random() >= 0.2:
        return
    g = d.rng.choice(groups)
    fault = d.rng.choice(sorted(f for f in REPLACEABLE if eligible(g, d, f) is not None))
    at, _ = moment(d)
    moved = at + d.rng.choice((2, 4, 8)) * H
    idle = [i for i in g.ids if i not in tied and free(d, [i], at, d.duration)]
    if moved > d.duration - 3 * H or len(idle) < 2:
        return
    giver, into = d.rng.sample(idle, 2)
    add_fault(d, fault, at, None, {"devices": [giver]}, [giver], None)
    d.moves.append({"at": span(moved), "device": giver, "into": into})
    d.reserve([into], moved, d.duration)
    locked = ", its SIM locked to the old IMEI" if g.imei_lock else ""
    d.notes.append(
        f"{giver} has {fault.value} at {span(at)}; its SIM is moved into {into} at "
        f"{span(moved)}{locked}."
    )
