"""Firmware over the air: the device installs a package, and the platform's stream says so.

The device-management server (LwM2M object 5, Firmware Update) has the device apply a
package and reports it: a `FirmwareUpdate` event naming the version, state `updating`.
That is how the service knows the version of a device that never reports after updating.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.messages import FirmwareUpdate

if TYPE_CHECKING:
    from simulator.world.device import Device
    from simulator.world.world import World

__all__ = ["install"]


def install(world: World, device: Device, version: str, apn: str) -> None:
    """`device` installs `version` (which configures `apn`) and resets; the stream says so."""
    if device.sim is not None:
        world.output.emit(
            FirmwareUpdate(
                t=world.output.ts(world.env.now),
                iccid=device.sim,
                imei=device.imei.value,
                version=version,
                state="updating",
            )
        )
    device.install_firmware(version, apn)
