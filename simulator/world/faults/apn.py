"""Faults behind the radio, in the packet core: an APN's gateway, a customer's IPsec tunnel.

Devices stay registered; their data sessions on the APN (or through the tunnel)
are closed by the network, and new ones are refused until the fault ends. A device
whose requests the network refuses before they reach the tunnel (wrong credentials,
a barred SIM) meets the same reject either way: the tunnel is not its cause, unless it
reaches the tunnel while it is still down (the observer writes that truth, from ESM #30).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.world.faults.kind import Action, FaultKind, sim_of
from simulator.world.spec import FaultId

if TYPE_CHECKING:
    from collections.abc import Callable

    from simulator.world.device import Device
    from simulator.world.spec import FaultSpec
    from simulator.world.world import World

__all__ = ["APN_FAULTS"]


def _outage(
    down: Callable[[World], set[str]], key: Callable[[FaultSpec], str]
) -> tuple[Action, Action]:
    """Apply and revert for a part of the core that is out: `key(spec)` in `down(world)`."""

    def on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
        down(world).add(key(spec))
        for d in devices:
            world.core.network_close_session(sim_of(d), "network")

    def off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
        down(world).discard(key(spec))
        for d in devices:
            d.poke()

    return on, off


_GATEWAY = _outage(lambda world: world.network.gateways_down, lambda s: (s.apn or "").lower())
_TUNNEL = _outage(lambda world: world.network.tunnels_down, lambda s: s.tunnel or "")


def _reaches_tunnel(world: World, _spec: FaultSpec, device: Device) -> bool:
    """A tunnel down is the cause for a device whose session requests get as far as it."""
    return device.sim is not None and world.network.reaches_tunnel(
        device.sim, device.apn, credentials_ok=device.credentials_ok
    )


F = FaultId
APN_FAULTS = (
    FaultKind(
        F.APN_GATEWAY_OUTAGE,
        "apn",
        "the gateway of an APN fails: sessions drop, new ones get ESM #38",
        *_GATEWAY,
    ),
    FaultKind(
        F.IPSEC_TUNNEL_DOWN,
        "tunnel",
        "the customer's IPsec tunnel goes down: ESM #30",
        *_TUNNEL,
        victim=_reaches_tunnel,
    ),
)
"""The packet core's faults, in the catalogue's order."""
