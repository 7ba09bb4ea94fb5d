"""What a device needs of the world around it, and nothing more.

A device sees a clock, the cells it can hear, whether its SIM can still be read,
the core network it asks for service and tells of what it sends, a broker that
carries (or loses) its messages, and an observer that writes down the faults
that arise by themselves. `World` is one such world; a device never knows more
of it than this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import simpy
    from pydantic import BaseModel

    from simulator.world.core import Session
    from simulator.world.device import Device
    from simulator.world.network import Cell, Network, Refusal
    from simulator.world.selection import Barred
    from simulator.world.sim_files import SimFiles

__all__ = ["CoreSide", "DeviceObserver", "DeviceOutput", "Surroundings"]


class DeviceOutput(Protocol):
    """Where a device's own messages go."""

    def ts(self, now: float) -> float:
        """The timestamp a message made at `now` carries."""

    def emit_device(self, key: int, counter: int, account: str, message: BaseModel) -> None:
        """Publish a device's message (the radio or the broker may lose it)."""


class CoreSide(Protocol):
    """The core network and the broker, as a device meets them."""

    def attach(self, device: Device, cell: Cell) -> Refusal | None:
        """Ask to register on `cell`; None when accepted."""

    def open_session(self, device: Device) -> Session | Refusal:
        """Ask for a data session on the device's APN."""

    def count_usage(self, iccid: str, nbytes: int, now: float) -> None:
        """The device sent `nbytes` over its session."""

    def doze(self, device: Device, now: float) -> float:
        """A PSM device asleep: its periodic TAUs until its wake; how long until it looks again."""

    def device_detaches(self, device: Device) -> None:
        """The device detaches cleanly, if it is registered."""

    def device_lost_network(self, device: Device) -> None:
        """The device lost its cell without a word."""

    def drop_mqtt(self, device: Device) -> None:
        """The device's broker connection is gone uncleanly."""

    def publish_will(self, device: Device) -> None:
        """The broker publishes the device's pending Will now."""


class DeviceObserver(Protocol):
    """Hears of faults that arise in a device by themselves."""

    def battery_empty(self, device: Device) -> None:
        """The battery ran out."""

    def no_network(self, device: Device, *, barred: Barred) -> None:
        """The device hears no network it may use (`barred`: what its lists forbid it)."""

    def ignored_backoff(self, device: Device) -> None:
        """The device's firmware retries without the wait owed after a reject (T3346, T3402)."""

    def reported(self, device: Device) -> None:
        """The device reported."""


class Surroundings(Protocol):
    """The world as one device sees it."""

    @property
    def env(self) -> simpy.Environment:
        """The clock."""

    @property
    def seed(self) -> int:
        """The world's seed, from which each device draws its own random numbers."""

    @property
    def network(self) -> Network:
        """The cells around (a device asks it which it can hear)."""

    @property
    def output(self) -> DeviceOutput:
        """Where the device's messages go."""

    @property
    def core(self) -> CoreSide:
        """The core network and the broker."""

    @property
    def observer(self) -> DeviceObserver:
        """The truth observer."""

    @property
    def sim_files(self) -> SimFiles:
        """What the SIM cards keep on themselves (their forbidden-network lists)."""

    def sim_readable(self, iccid: str) -> bool:
        """Whether the SIM can still be read (a damaged one cannot)."""
