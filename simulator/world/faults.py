"""The fault catalogue: how each fault is put into the world and taken out again.

A fault changes the world the way the real thing would (a battery drains, a
cell goes off air, a SIM is deactivated by billing, a firmware update writes
the wrong APN) and nothing else: it shows only through the evidence devices
and the platform emit. Each fault declares its cause in `protocol.causes`
(`FaultId.cause`), and its injection writes ground truth for every device it
reaches.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from protocol.identifiers import Imei
from protocol.sim_state import SimState
from simulator.errors import SimulatorError
from simulator.platform.customer import RadioType
from simulator.platform.lifecycle import Actor
from simulator.world.spec import FaultId, FaultSpec
from simulator.world.truth import TruthRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    import simpy

    from simulator.world.device import Device
    from simulator.world.spec import FaultRateSpec
    from simulator.world.world import World

__all__ = ["CATALOGUE", "FaultKind", "affected", "draw", "schedule"]

Scope = Literal["device", "sim", "cell", "operator", "apn", "tunnel"]
Action = "Callable[[World, FaultSpec, list[Device]], None]"


@dataclass(frozen=True, slots=True)
class FaultKind:
    """One entry of the catalogue."""

    id: FaultId
    scope: Scope
    summary: str
    apply: Callable[[World, FaultSpec, list[Device]], None]
    revert: Callable[[World, FaultSpec, list[Device]], None]


def _sim(device: Device) -> str:
    if device.sim is None:
        raise SimulatorError(f"device {device.id} holds no SIM for this fault")
    return device.sim


# ---- device faults --------------------------------------------------------------------------


def _battery_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        if d.battery is None:
            raise SimulatorError(f"battery_depleted: device {d.id} is mains powered")
        d.fast_drain = True
        d.poke()


def _battery_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.fast_drain = False
        d.battery = 100.0
        d.battery_at = world.env.now
        _power_back(world, d)


def _power_back(world: World, d: Device) -> None:
    d.powered = True
    d.hung = False
    d.reboot(world.env.now)
    d.poke()


def _power_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.powered = False
        world.device_lost_network(d, detach=False)


def _power_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        _power_back(world, d)


def _coverage_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.loss_since = world.env.now


def _coverage_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.loss_since = None
        d.poke()


def _hang_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.hung = True
        world.drop_mqtt(d)


def _storm_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.reboot_loop = True
        d.crash_at = world.env.now + d.rng.uniform(60, 180)
        d.poke()


def _storm_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.reboot_loop = False
        d.crash_at = float("inf")


def _broker_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.broker_ok = False
        world.drop_mqtt(d)
        d.poke()


def _broker_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.broker_ok = True
        d.poke()


def _apn_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.apn = spec.value or _typo(d.apn)
        d.firmware = f"{d.spec.firmware}+ota"
        d.reboot(world.env.now)
        d.poke()


def _typo(apn: str) -> str:
    return apn[:-1] + ("x" if apn[-1] != "x" else "y")


def _apn_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.apn = d.spec.apn
        d.firmware = d.spec.firmware
        d.reboot(world.env.now)
        d.poke()


def _credentials_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.credentials_ok = False
        d.reboot(world.env.now)
        d.poke()


def _credentials_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.credentials_ok = True
        d.poke()


def _radio_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    radio = RadioType(spec.value or RadioType.NB_IOT.value)
    for d in devices:
        if radio in world.network.plan_of(_sim(d)).radio_types:
            raise SimulatorError(
                f"radio_type_not_allowed: {radio.value} is allowed for device {d.id}'s SIM"
            )
        d.radio = radio
        d.reboot(world.env.now)
        d.poke()


def _radio_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.radio = d.spec.radio
        d.reboot(world.env.now)
        d.poke()


def _roam_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    cells = [c for c in world.network.cells if c.mcc_mnc == spec.operator]
    if not cells:
        raise SimulatorError(f"roaming_not_allowed: no cell of operator {spec.operator}")
    for d in devices:
        d.relocated = (cells[0].spec.lat, cells[0].spec.lon)
        world.device_lost_network(d, detach=False)
        d.poke()


def _roam_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        d.relocated = None
        world.device_lost_network(d, detach=False)
        d.poke()


def _imei_lock_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        if not world.platform.sims["imei_lock"][world.platform.row(_sim(d))]:
            raise SimulatorError(f"imei_lock_mismatch: device {d.id}'s SIM has no IMEI lock")
        serial = (int(d.imei.serial) + 500_000) % 1_000_000
        d.reboot(world.env.now)  # the old hardware powers off ...
        d.imei = Imei.from_body(
            f"{d.imei.tac}{serial:06d}"
        )  # ... and the SIM goes into new hardware
        d.poke()


def _imei_lock_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.platform.relock_imei(
            _sim(d),
            actor=Actor.OPERATOR,
            reason="IMEI lock moved to the replacement device",
            now=world.env.now,
        )
        world.flush_platform()
        d.poke()


def _blacklist_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.blacklisted.add(d.imei.value)
        world.network_detach(_sim(d))


def _blacklist_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.blacklisted.discard(d.imei.value)
        d.poke()


# ---- SIM and subscription faults ------------------------------------------------------------


def _damaged_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.damaged_sims.add(_sim(d))
        d.poke()


def _damaged_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.damaged_sims.discard(_sim(d))
        d.reboot(world.env.now)
        d.poke()


def _state(world: World, d: Device, target: SimState, actor: Actor, reason: str) -> None:
    world.platform.change_state(_sim(d), target, actor=actor, reason=reason, now=world.env.now)
    world.flush_platform()
    d.poke()


def _deactivate_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        _state(world, d, SimState.DEACTIVATED, Actor.OPERATOR, "billing: invoice overdue")


def _deactivate_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        _state(world, d, SimState.ACTIVATED, Actor.OPERATOR, "billing: invoice paid")


def _unprovisioned_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.unprovisioned.add(_sim(d))
        world.network_detach(_sim(d))


def _unprovisioned_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.unprovisioned.discard(_sim(d))
        d.poke()


def _quota_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        iccid = _sim(d)
        if world.platform.state(iccid) is not SimState.TEST_READY:
            raise SimulatorError(f"test_quota_used: device {d.id}'s SIM is not TEST_READY")
        if world.platform.after_test(iccid) is not SimState.INVENTORY:
            raise SimulatorError(
                f"test_quota_used: device {d.id}'s account keeps service after the test"
            )
        world.platform.record_usage(iccid, world.platform.test_quota_left(iccid), now=world.env.now)
        world.flush_platform()


def _quota_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        _state(world, d, SimState.ACTIVATED, Actor.CUSTOMER, "activated by the customer")


def _limit_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        iccid = _sim(d)
        left = world.platform.bytes_to_limit(iccid)
        if left is None:
            raise SimulatorError(
                f"data_limit_reached: device {d.id}'s rate plan has no overage limit"
            )
        world.platform.record_usage(iccid, left, now=world.env.now)  # a runaway upload
        world.flush_platform()


def _limit_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.platform.override_data_limit(
            _sim(d),
            actor=Actor.CUSTOMER,
            reason="extra data bundle bought",
            now=world.env.now,
        )
        world.flush_platform()
        d.poke()


# ---- network faults -------------------------------------------------------------------------


def _cell_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for cell in _cells(world, spec):
        cell.up = False
    for d in devices:
        d.poke()


def _cell_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for cell in _cells(world, spec):
        cell.up = True
    _wake_all(world)


def _operator_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    world.network.operators[_operator(spec)].up = False
    for d in devices:
        d.poke()


def _operator_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    world.network.operators[_operator(spec)].up = True
    _wake_all(world)


def _congestion_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    if spec.cell is not None:
        world.network.cell(spec.cell).congested = True
    else:
        world.network.operators[_operator(spec)].congested = True
    for d in devices:
        world.network_detach(_sim(d))


def _congestion_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    if spec.cell is not None:
        world.network.cell(spec.cell).congested = False
    else:
        world.network.operators[_operator(spec)].congested = False


def _gateway_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    apn = (spec.apn or "").lower()
    world.network.gateways_down.add(apn)
    for d in devices:
        world.network_close_session(_sim(d), "network")


def _gateway_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    world.network.gateways_down.discard((spec.apn or "").lower())
    for d in devices:
        d.poke()


def _tunnel_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    world.network.tunnels_down.add(spec.tunnel or "")
    for d in devices:
        world.network_close_session(_sim(d), "network")


def _tunnel_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    world.network.tunnels_down.discard(spec.tunnel or "")
    for d in devices:
        d.poke()


def _cells(world: World, spec: FaultSpec) -> list:  # type: ignore[type-arg]
    if spec.cell is None:
        raise SimulatorError(f"{spec.fault.value}: say which cell")
    return [world.network.cell(spec.cell)]


def _operator(spec: FaultSpec) -> str:
    if spec.operator is None:
        raise SimulatorError(f"{spec.fault.value}: say which operator")
    return spec.operator


def _wake_all(world: World) -> None:
    for d in world.devices:
        if d.cell is None:
            d.poke()


F = FaultId
CATALOGUE: Final = {
    k.id: k
    for k in (
        FaultKind(
            F.BATTERY_DEPLETED,
            "device",
            "battery drains fast, then the device dies",
            _battery_on,
            _battery_off,
        ),
        FaultKind(
            F.POWER_LOSS,
            "device",
            "mains power lost: the device dies at once",
            _power_on,
            _power_off,
        ),
        FaultKind(
            F.COVERAGE_LOSS,
            "device",
            "signal weakens over three hours until it is lost",
            _coverage_on,
            _coverage_off,
        ),
        FaultKind(F.CELL_OUTAGE, "cell", "a cell goes off air", _cell_on, _cell_off),
        FaultKind(
            F.OPERATOR_OUTAGE,
            "operator",
            "every cell of an operator goes off air",
            _operator_on,
            _operator_off,
        ),
        FaultKind(
            F.APN_GATEWAY_OUTAGE,
            "apn",
            "the gateway of an APN fails: sessions drop, new ones get ESM #38",
            _gateway_on,
            _gateway_off,
        ),
        FaultKind(
            F.CONGESTION,
            "cell",
            "a cell or operator is congested: attaches get EMM #22 with T3346",
            _congestion_on,
            _congestion_off,
        ),
        FaultKind(
            F.SIM_DEACTIVATED, "sim", "billing deactivates the SIM", _deactivate_on, _deactivate_off
        ),
        FaultKind(
            F.SIM_NOT_PROVISIONED,
            "sim",
            "the home network does not know the SIM: EMM #2",
            _unprovisioned_on,
            _unprovisioned_off,
        ),
        FaultKind(
            F.TEST_QUOTA_USED,
            "sim",
            "the test quota runs out and the SIM goes to INVENTORY",
            _quota_on,
            _quota_off,
        ),
        FaultKind(
            F.DATA_LIMIT_REACHED,
            "sim",
            "a runaway upload reaches the rate plan's limit",
            _limit_on,
            _limit_off,
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
            "firmware switches to a radio the plan does not allow: EMM #15",
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
            _credentials_on,
            _credentials_off,
        ),
        FaultKind(
            F.IPSEC_TUNNEL_DOWN,
            "tunnel",
            "the customer's IPsec tunnel goes down: ESM #30",
            _tunnel_on,
            _tunnel_off,
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
            F.DAMAGED_SIM,
            "sim",
            "the SIM can no longer be read: the device goes silent",
            _damaged_on,
            _damaged_off,
        ),
        FaultKind(
            F.FIRMWARE_HANG,
            "device",
            "the firmware hangs: registered, session up, silent",
            _hang_on,
            _power_off,
        ),
        FaultKind(
            F.RECONNECT_STORM,
            "device",
            "firmware reboots every few minutes, reconnecting each time",
            _storm_on,
            _storm_off,
        ),
        FaultKind(
            F.BROKER_UNREACHABLE,
            "device",
            "the device cannot reach its MQTT broker (above IP)",
            _broker_on,
            _broker_off,
        ),
    )
}
"""Every fault the simulator can inject, by id."""


def affected(world: World, spec: FaultSpec) -> list[Device]:
    """The devices a fault reaches when it starts."""
    kind = CATALOGUE[spec.fault]
    if kind.scope in {"device", "sim"}:
        if not spec.devices:
            raise SimulatorError(f"{spec.fault.value}: say which devices")
        missing = [i for i in spec.devices if i not in world.by_id]
        if missing:
            raise SimulatorError(f"{spec.fault.value}: no device {missing[0]!r} in this world")
        return [world.by_id[i] for i in spec.devices]
    if spec.fault is F.CONGESTION or kind.scope in {"cell", "operator"}:
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


def schedule(world: World, spec: FaultSpec) -> Generator[simpy.Event, object, None]:
    """A SimPy process that injects `spec` at its time and reverts it after its duration."""
    yield world.env.timeout(spec.at)
    yield from _inject(world, spec)


def draw(world: World, rate: FaultRateSpec) -> Generator[simpy.Event, object, None]:
    """A SimPy process injecting `rate.fault` at random times on random devices (a Poisson process)."""
    kind = CATALOGUE[rate.fault]
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
        world.env.process(_inject(world, spec))


def _inject(world: World, spec: FaultSpec) -> Generator[simpy.Event, object, None]:
    kind = CATALOGUE[spec.fault]
    devices = affected(world, spec)
    sims = [d.sim for d in devices]
    for d in devices:
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
