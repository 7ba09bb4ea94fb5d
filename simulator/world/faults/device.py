"""Faults of the device itself: its power, antenna, firmware, configuration and hardware.

Each one asks the device to do what the real thing would make it do
(`Device.lose_power`, `Device.hang_firmware`, ...); nothing here flips a
device's state behind its back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.errors import SimulatorError
from simulator.platform.customer import RadioType
from simulator.platform.lifecycle import Actor
from simulator.world.device import Device
from simulator.world.faults.kind import FaultKind, each, platform_acts, sim_of
from simulator.world.firmware import install
from simulator.world.spec import FaultId, RetryBehaviour

if TYPE_CHECKING:
    from simulator.world.spec import FaultSpec
    from simulator.world.world import World

__all__ = ["DEVICE_FAULTS"]


def _battery_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        if d.battery is None:
            raise SimulatorError(f"battery_depleted: device {d.id} is mains powered")
        d.drain_battery_fast()


def _apn_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        apn = spec.value or _typo(d.apn)
        if d.firmware != d.spec.firmware:  # a rollout installed the version that writes it
            d.install_firmware(d.firmware, apn)
        else:
            install(world, d, f"{d.spec.firmware}+ota", apn)


def _typo(apn: str) -> str:
    return apn[:-1] + ("x" if apn[-1] != "x" else "y")


def _apn_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        install(world, d, d.spec.firmware, d.spec.apn)


def _radio_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    radio = RadioType(spec.value or RadioType.NB_IOT.value)
    for d in devices:
        if radio in world.network.plan_of(sim_of(d)).radio_types:
            raise SimulatorError(
                f"radio_type_not_allowed: {radio.value} is allowed for device {d.id}'s SIM"
            )
        d.switch_radio(radio)


def _radio_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.switch_radio(d.spec.radio)


def _roam_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    cells = [c for c in world.network.cells if c.mcc_mnc == spec.operator]
    if not cells:
        raise SimulatorError(f"roaming_not_allowed: no cell of operator {spec.operator}")
    for d in devices:
        d.move_to((cells[0].spec.lat, cells[0].spec.lon))


def _roam_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.move_to(None)


def _imei_lock_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        if not world.platform.sims["imei_lock"][world.platform.row(sim_of(d))]:
            raise SimulatorError(f"imei_lock_mismatch: device {d.id}'s SIM has no IMEI lock")
        d.change_hardware()


def _imei_lock_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        reason = "IMEI lock moved to the replacement device"
        platform_acts(world, d, world.platform.relock_imei, actor=Actor.OPERATOR, reason=reason)


def _blacklist_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.blacklisted.add(d.imei.value)
        world.core.network_detach(sim_of(d))


def _blacklist_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.blacklisted.discard(d.imei.value)
        d.poke()


def _storm_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    """A reboot loop; or, with a `value`, firmware that retries as that behaviour says.

    Such firmware misbehaves only where the network asks it to wait: its truth begins at the
    first back-off it ignores (`TruthObserver.ignored_backoff`), not when it is installed.
    """
    if spec.value is None:
        each(Device.start_reboot_loop)(world, spec, devices)
        return
    misbehaving = [b.value for b in RetryBehaviour if b is not RetryBehaviour.TS34]
    if spec.value not in misbehaving:
        raise SimulatorError(
            f"reconnect_storm: value {spec.value!r} is not one of {', '.join(misbehaving)}"
        )
    for d in devices:
        d.retry_like(RetryBehaviour(spec.value))


def _storms_at_once(_world: World, spec: FaultSpec, _device: Device) -> bool:
    """A reboot loop is the cause from its start; a retry behaviour once it misbehaves."""
    return spec.value is None


F = FaultId
DEVICE_FAULTS = (
    FaultKind(
        F.BATTERY_DEPLETED,
        "device",
        "battery drains fast, then the device dies",
        _battery_on,
        each(Device.replace_battery),
    ),
    FaultKind(
        F.POWER_LOSS,
        "device",
        "mains power lost: the device dies at once",
        each(Device.lose_power),
        each(Device.restore_power),
    ),
    FaultKind(
        F.COVERAGE_LOSS,
        "device",
        "signal weakens over three hours until it is lost",
        each(Device.start_losing_signal),
        each(Device.regain_signal),
    ),
    FaultKind(
        F.RADIO_HARDWARE,
        "device",
        "its radio or antenna breaks: the signal drops 30 dB at once, then is gone within the "
        "hour; no attach reaches the network, no reject, the SIM record unchanged",
        each(Device.break_antenna),
        each(Device.regain_signal),
    ),
    FaultKind(
        F.ROAMING_NOT_ALLOWED,
        "device",
        "the device moves onto a network its plan does not allow: EMM #11",
        _roam_on,
        _roam_off,
    ),
    FaultKind(
        F.RADIO_TYPE_NOT_ALLOWED,
        "device",
        "firmware switches to a radio the plan does not allow: EMM #15 (#13 from Annex A)",
        _radio_on,
        _radio_off,
    ),
    FaultKind(
        F.WRONG_APN,
        "device",
        "a firmware update writes the wrong APN: ESM #27",
        _apn_on,
        _apn_off,
    ),
    FaultKind(
        F.PRIVATE_APN_CREDENTIALS,
        "device",
        "wrong credentials for the private APN: ESM #29",
        each(Device.break_credentials),
        each(Device.fix_credentials),
    ),
    FaultKind(
        F.IMEI_LOCK_MISMATCH,
        "device",
        "an IMEI-locked SIM ends up in replacement hardware: EMM #6",
        _imei_lock_on,
        _imei_lock_off,
    ),
    FaultKind(
        F.IMEI_BLACKLISTED,
        "device",
        "the device's IMEI is black-listed: EMM #6",
        _blacklist_on,
        _blacklist_off,
    ),
    FaultKind(
        F.FIRMWARE_HANG,
        "device",
        "the firmware hangs: registered, session up, silent",
        each(Device.hang_firmware),
        each(Device.restore_power),
    ),
    FaultKind(
        F.RECONNECT_STORM,
        "device",
        "firmware reboots every few minutes, reconnecting each time; with value tight_loop or "
        "reboot_on_failure it ignores the network's back-off timers after a failure instead",
        _storm_on,
        each(Device.stop_reboot_loop),
        victim=_storms_at_once,
    ),
    FaultKind(
        F.BROKER_UNREACHABLE,
        "device",
        "the device cannot reach its MQTT broker (above IP)",
        each(Device.lose_broker),
        each(Device.reach_broker),
    ),
)
"""The device's faults, in the catalogue's order."""
