"""Firmware rollouts: a version installed over the air on some devices, and what it brings.

At its moment a rollout picks its devices (`RolloutSpec`), and for each the
device-management server does what a real one does (LwM2M object 5): it has the
device apply the package, and the platform's stream says so (`firmware.install`: a
`FirmwareUpdate` event naming the version, state `updating`). The device then runs the new version:
it reports it in its telemetry when it reports at all, and it does whatever the
version brings, which is one of the catalogue's device faults (a hang, a reconnect
loop, a wrong APN), injected with its ground truth as a fault on the timeline is.
Nothing on the wire names the fault.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from simulator.errors import SimulatorError
from simulator.world.faults import CATALOGUE, inject
from simulator.world.firmware import install
from simulator.world.spec import FaultSpec

if TYPE_CHECKING:
    from collections.abc import Generator

    import simpy

    from simulator.world.device import Device
    from simulator.world.spec import RolloutSpec
    from simulator.world.world import World

__all__ = ["chosen", "rollout_process"]


def chosen(world: World, spec: RolloutSpec) -> list[Device]:
    """The devices the rollout reaches now: those it names, then `share` of them by the seed."""
    pool = [
        d
        for d in world.devices
        if (spec.devices is None or d.id in spec.devices)
        and (spec.group is None or d.spec.name == spec.group)
        and (spec.from_version is None or d.firmware == spec.from_version)
        and d.sim is not None
    ]
    if spec.share < 1.0:
        rng = random.Random(f"{world.seed}/rollout/{spec.version}/{spec.at}")
        pool = sorted(
            rng.sample(pool, max(1, round(spec.share * len(pool)))), key=world.devices.index
        )
    if not pool:
        raise SimulatorError(f"rollout of {spec.version}: no device to install it on")
    return pool


def rollout_process(world: World, spec: RolloutSpec) -> Generator[simpy.Event, object, None]:
    """A SimPy process that rolls `spec` out at its time (and injects what it brings)."""
    kind = CATALOGUE[spec.fault] if spec.fault is not None else None
    if kind is not None and kind.scope != "device":
        raise SimulatorError(
            f"rollout of {spec.version}: {kind.id.value} strikes a {kind.scope}, not the firmware"
        )
    yield world.env.timeout(spec.at)
    devices = chosen(world, spec)
    for d in devices:
        install(world, d, spec.version, d.apn)
    if kind is None:
        return
    fault = FaultSpec(
        fault=kind.id,
        at=world.env.now,
        duration=spec.duration,
        devices=[d.id for d in devices],
        value=spec.value,
    )
    yield from inject(world, fault, kind)
