"""SIM swaps and moves: a SIM taken out of one device and put into another, with real consequences.

A swap exchanges the SIMs of two devices (a cross-swap test); a move puts one
device's SIM into another for good (replacement hardware), whose own SIM is
taken out and kept aside, and leaves the first without one. Both devices are
powered off for it and on again: each detaches, its modem's lists (forbidden
areas, networks refused for service) and back-off timers are cleared, and the
network sees each SIM come back with another IMEI (an IMEI lock refuses it:
the world's truth then has the lock on the device the SIM went into). The SIM's
own forbidden-network list goes with the SIM (`sim_files`), and so does what is
wrong with the SIM.
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

    from simulator.world.device import Device
    from simulator.world.spec import MoveSpec, SwapSpec
    from simulator.world.world import World

__all__ = ["SIM_FAULTS", "move", "move_process", "swap", "swap_process"]


def _pair(world: World, device_id: str, into_id: str, what: str) -> tuple[Device, Device]:
    for name in (device_id, into_id):
        if name not in world.by_id:
            raise SimulatorError(f"{what}: no device {name!r} in this world")
    return world.by_id[device_id], world.by_id[into_id]


def swap(world: World, device_id: str, into_id: str) -> None:
    """Exchange the SIMs of two devices now (a device without a SIM gives none back)."""
    a, b = _pair(world, device_id, into_id, "swap")
    now = world.env.now
    for device in (a, b):
        device.reboot(now)
    for fault in SIM_FAULTS:
        on_a, on_b = world.truth.active(a.id, fault), world.truth.active(b.id, fault)
        if on_a and not on_b:
            world.truth.move(fault, a.id, b.id, now, a.sim)
        elif on_b and not on_a:
            world.truth.move(fault, b.id, a.id, now, b.sim)
    a.sim, b.sim = b.sim, a.sim
    _settle(world, a, b)


def move(world: World, device_id: str, into_id: str) -> None:
    """Put the SIM of one device into another now; that one's own SIM is taken out."""
    a, b = _pair(world, device_id, into_id, "move")
    now = world.env.now
    for device in (a, b):
        device.reboot(now)
    for fault in SIM_FAULTS:
        if world.truth.active(b.id, fault):  # its own SIM's trouble leaves with that SIM
            world.truth.close(b.id, fault, now)
        if world.truth.active(a.id, fault):
            world.truth.move(fault, a.id, b.id, now, a.sim)
    a.sim, b.sim = None, a.sim
    _settle(world, a, b)


def _settle(world: World, *devices: Device) -> None:
    for device in devices:
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


def move_process(world: World, spec: MoveSpec) -> Generator[simpy.Event, object, None]:
    """A SimPy process that moves a SIM at its time."""
    yield world.env.timeout(spec.at)
    move(world, spec.device, spec.into)
