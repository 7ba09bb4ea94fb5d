"""Putting faults into a run: at their time on the timeline, or at random (a Poisson process).

Injection writes the ground truth of every device the fault reaches, applies the
fault, and after its duration reverts it and closes the truth. A SIM's fault is
reverted wherever the SIM has gone meanwhile.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from simulator.errors import SimulatorError
from simulator.world.faults.pools import account_members, pool_members, whole_pools
from simulator.world.spec import FaultId, FaultSpec
from simulator.world.truth import TruthRecord

if TYPE_CHECKING:
    from collections.abc import Generator

    import simpy

    from simulator.world.device import Device
    from simulator.world.faults.kind import FaultKind
    from simulator.world.spec import FaultRateSpec
    from simulator.world.world import World

__all__ = ["affected", "draw", "inject", "schedule"]


def affected(world: World, spec: FaultSpec, kind: FaultKind) -> list[Device]:
    """The devices a fault (of `kind`) reaches when it starts."""
    if kind.scope == "sim" and spec.pool is not None:
        members = pool_members(world, spec.pool)
        if not members:
            raise SimulatorError(f"{spec.fault.value}: no device's SIM is in pool {spec.pool!r}")
        return members
    if spec.account is not None:
        members = account_members(world, spec.account)
        if not members:
            raise SimulatorError(f"{spec.fault.value}: no device's SIM is in {spec.account!r}")
        return members
    if kind.scope in {"device", "sim"}:
        if not spec.devices:
            raise SimulatorError(f"{spec.fault.value}: say which devices")
        missing = [i for i in spec.devices if i not in world.by_id]
        if missing:
            raise SimulatorError(f"{spec.fault.value}: no device {missing[0]!r} in this world")
        named = [world.by_id[i] for i in spec.devices]
        return whole_pools(world, named) if kind.pool_wide else named
    if spec.fault is FaultId.CONGESTION or kind.scope in {"cell", "operator"}:
        return [d for d in world.devices if d.cell is not None and _on(d, spec)]
    if kind.scope == "apn":
        return [
            d
            for d in world.devices
            if d.session is not None and d.session.apn.lower() == (spec.apn or "").lower()
        ]
    return [
        d
        for d in world.devices
        if d.sim is not None and world.network.apn_tunnel(d.sim, d.apn) == spec.tunnel
    ]


def _on(device: Device, spec: FaultSpec) -> bool:
    assert device.cell is not None
    if spec.cell is not None:
        return device.cell.id == spec.cell
    return device.cell.mcc_mnc == spec.operator


def schedule(
    world: World, spec: FaultSpec, kind: FaultKind
) -> Generator[simpy.Event, object, None]:
    """A SimPy process that injects `spec` at its time and reverts it after its duration."""
    yield world.env.timeout(spec.at)
    yield from inject(world, spec, kind)


def draw(
    world: World, rate: FaultRateSpec, kind: FaultKind
) -> Generator[simpy.Event, object, None]:
    """A SimPy process injecting `rate.fault` at random times on random devices (a Poisson process)."""
    if kind.scope not in {"device", "sim"}:
        raise SimulatorError(
            f"fault_rates: {rate.fault.value} strikes a {kind.scope}, not a device"
        )
    pool = [d for d in world.devices if rate.group is None or d.spec.name == rate.group]
    if not pool:
        raise SimulatorError(f"fault_rates: no devices in group {rate.group!r}")
    rng = random.Random(f"{world.seed}/rate/{rate.fault.value}/{rate.group}")
    per_second = rate.per_device_day * len(pool) / 86_400
    while True:
        yield world.env.timeout(rng.expovariate(per_second))
        device = rng.choice(pool)
        if world.truth.active(device.id):
            continue  # one fault at a time per device keeps the truth unambiguous
        spec = FaultSpec(
            fault=rate.fault, at=world.env.now, duration=rate.duration, devices=[device.id]
        )
        world.env.process(inject(world, spec, kind))


def inject(world: World, spec: FaultSpec, kind: FaultKind) -> Generator[simpy.Event, object, None]:
    """Inject `spec` now, with its truth, and revert it after its duration (a SimPy process)."""
    devices = affected(world, spec, kind)
    sims = [d.sim for d in devices]
    for d in (d for d in devices if kind.victim(world, spec, d)):
        world.truth.open(TruthRecord(d.id, d.sim, spec.fault, spec.fault.cause, world.env.now))
    kind.apply(world, spec, devices)
    if spec.duration is None:
        return
    yield world.env.timeout(spec.duration)
    if kind.scope == "sim":  # the fault went wherever the SIM went
        devices = [world.by_sim[i] for i in sims if i is not None]
    kind.revert(world, spec, devices)
    for d in devices:
        world.truth.close(d.id, spec.fault, world.env.now)
