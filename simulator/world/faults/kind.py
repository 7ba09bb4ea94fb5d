"""What a catalogue entry is, and the small steps many faults share.

A fault kind names where it strikes (`Scope`) and two actions: `apply` puts the
fault into the world, `revert` takes it out again. Each action takes the world,
the fault as the timeline states it, and the devices it reaches. `victim` says
which of those it is the cause for from the moment it starts: firmware that only
retries badly is the cause once it does (the observer writes that truth, as it
does for a device that skips the wait a network fault asks of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from simulator.errors import SimulatorError

if TYPE_CHECKING:
    from collections.abc import Callable

    from simulator.platform.lifecycle import Actor
    from simulator.world.device import Device
    from simulator.world.spec import FaultId, FaultSpec
    from simulator.world.world import World

__all__ = ["Action", "FaultKind", "Scope", "each", "platform_acts", "sim_of"]

Scope = Literal["device", "sim", "cell", "operator", "apn", "tunnel"]
Action: TypeAlias = "Callable[[World, FaultSpec, list[Device]], None]"
"""What `apply` and `revert` are: they act on the world, the fault and the devices it reaches."""


@dataclass(frozen=True, slots=True)
class FaultKind:
    """One entry of the catalogue."""

    id: FaultId
    scope: Scope
    summary: str
    apply: Action
    revert: Action
    pool_wide: bool = False
    """It strikes the SIM's shared data pool: every SIM in the pool with it."""
    account_wide: bool = False
    """The platform can strike every SIM of an account with it at once (`FaultSpec.account`)."""
    victim: Callable[[World, FaultSpec, Device], bool] = lambda _world, _spec, _device: True
    """Whether the fault is the cause for a device it reaches from its start (its ground truth)."""


def sim_of(device: Device) -> str:
    """The SIM in the device, which the fault needs."""
    if device.sim is None:
        raise SimulatorError(f"device {device.id} holds no SIM for this fault")
    return device.sim


def each(intent: Callable[[Device], None]) -> Action:
    """An action that has every device it reaches do `intent` (e.g. `Device.lose_power`)."""

    def act(world: World, spec: FaultSpec, devices: list[Device]) -> None:
        for device in devices:
            intent(device)

    return act


def platform_acts(
    world: World, device: Device, act: Callable[..., object], *, actor: Actor, reason: str
) -> None:
    """The platform changes the device's SIM (`act(iccid, ...)`), and the device looks again."""
    act(sim_of(device), actor=actor, reason=reason, now=world.env.now)
    world.output.flush_platform()
    device.poke()
