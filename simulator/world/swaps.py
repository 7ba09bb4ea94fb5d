"""SIM swaps: a SIM taken out of one device and put into another, with real consequences.

Both devices are powered off for the swap and on again: each detaches, its
modem's lists (forbidden areas, networks refused for service) and back-off
timers are cleared, and the network sees each SIM come back with another IMEI
(an IMEI lock refuses it). The SIM's own forbidden-network list goes with the
SIM (`sim_files`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.errors import SimulatorError
from simulator.world.faults import CATALOGUE

SIM_FAULTS = [kind.id for kind in CATALOGUE.values() if kind.scope == "sim"]
"""Faults of the SIM or its subscription: they follow the SIM into another device."""

if TYPE_CHECKING:
    from collections.abc import Generator

    import simpy

    from simulator.world.spec import SwapSpec
    from simulator.world.world import World

__all__ = ["SIM_FAULTS", "swap", "swap_process"]


def swap(world: World, device_id: str, into_id: str) -> None:
    """Exchange the SIMs of two devices now (a device without a SIM gives none back)."""
    for name in (device_id, into_id):
        if name not in world.by_id:
            raise SimulatorError(f"swap: no device {name!r} in this world")
    a, b = world.by_id[device_id], world.by_id[into_id]
    now = world.env.now
    for device in (a, b):
        device.reboot(now)
    for fault in SIM_FAULTS:  # what is wrong with a SIM goes where the SIM goes
        on_a, on_b = world.truth.active(a.id, fault), world.truth.active(b.id, fault)
        if on_a and not on_b:
            world.truth.move(fault, a.id, b.id, now, a.sim)
        elif on_b and not on_a:
            world.truth.move(fault, b.id, a.id, now, b.sim)
    a.sim, b.sim = b.sim, a.sim
    for device in (a, b):
        if device.sim is not None:
            world.by_sim[device.sim] = device
        device.poke()


def swap_process(world: World, spec: SwapSpec) -> Generator[simpy.Event, object, None]:
    """A SimPy process that performs a swap at its time, and the swap back if asked."""
    yield world.env.timeout(spec.at)
    swap(world, spec.device, spec.into)
    if spec.back_at is not None:
        yield world.env.timeout(max(0.0, spec.back_at - spec.at))
        swap(world, spec.device, spec.into)
