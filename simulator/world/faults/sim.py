"""Faults of the SIM and its subscription: a damaged card, billing, provisioning, quotas, limits.

They strike the SIM, not the device holding it: put into another device (a
swap), the SIM takes its fault along, and so does the ground truth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from protocol.causes import Cause
from protocol.sim_state import SimState
from simulator.errors import SimulatorError
from simulator.platform.lifecycle import SERVICE_STATES, Actor, refusal
from simulator.world.faults.kind import FaultKind, platform_acts, sim_of
from simulator.world.spec import FaultId

if TYPE_CHECKING:
    from simulator.world.device import Device
    from simulator.world.spec import FaultSpec
    from simulator.world.world import World

__all__ = ["SIM_FAULTS"]


def _damaged_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.damaged_sims.add(sim_of(d))
        d.poke()


def _damaged_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.damaged_sims.discard(sim_of(d))
        d.restart()


def _state(world: World, d: Device, target: SimState, actor: Actor, reason: str) -> None:
    def change(iccid: str, *, actor: Actor, reason: str, now: float) -> None:
        world.platform.change_state(iccid, target, actor=actor, reason=reason, now=now)

    platform_acts(world, d, change, actor=actor, reason=reason)


def _invoice(spec: FaultSpec) -> str:
    return "invoice" if spec.value is None else f"invoice {spec.value}"


def _deactivate_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        _state(world, d, SimState.DEACTIVATED, Actor.BILLING, f"{_invoice(spec)} overdue")


def _deactivate_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        _state(world, d, SimState.ACTIVATED, Actor.BILLING, f"{_invoice(spec)} paid")


def _unprovisioned_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.unprovisioned.add(sim_of(d))
        world.core.network_detach(sim_of(d))


def _unprovisioned_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        world.network.unprovisioned.discard(sim_of(d))
        d.poke()


_PURGE: Final = (SimState.RETIRED, SimState.PURGED)


def _purge_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    """An operator's clean-up retires and purges the SIM by mistake (value: the job's name).

    Purging is done to retired SIMs, so the mistake takes both moves, each in the audit
    trail under the operator's name. The network forgets the SIM: it detaches the device,
    and answers its attaches as for a subscriber it does not know (#2; #8 from an Annex A
    core).
    """
    job = spec.value or "bulk purge of retired SIMs"
    for d in devices:
        iccid = sim_of(d)
        state = world.platform.state(iccid)
        for target in _PURGE[_PURGE.index(state) + 1 :] if state in _PURGE else _PURGE:
            refused = refusal(world.platform.state(iccid), target, Actor.OPERATOR)
            if refused is not None:
                raise SimulatorError(f"sim_purged: device {d.id}'s SIM: {refused}")
            world.platform.change_state(
                iccid, target, actor=Actor.OPERATOR, reason=job, now=world.env.now
            )
        world.output.flush_platform()


def _purge_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    """The operator re-provisions the SIM: its subscription is on the network again.

    Nothing tells the device: it comes back at its own next attach attempt (T3402 after
    #2, within 12 minutes; after #8 it holds the SIM invalid until its modem is reset, which
    TS.34 firmware does itself about an hour after the reject).
    """
    for d in devices:
        world.platform.change_state(
            sim_of(d),
            SimState.ACTIVATED,
            actor=Actor.OPERATOR,
            reason="re-provisioned after a purge by mistake",
            now=world.env.now,
        )
    world.output.flush_platform()


def _quota_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        iccid = sim_of(d)
        if world.platform.state(iccid) is not SimState.TEST_READY:
            raise SimulatorError(f"test_quota_used: device {d.id}'s SIM is not TEST_READY")
        if world.platform.after_test(iccid) is not SimState.INVENTORY:
            raise SimulatorError(
                f"test_quota_used: device {d.id}'s account keeps service after the test"
            )
        world.platform.record_usage(iccid, world.platform.test_quota_left(iccid), now=world.env.now)
        world.output.flush_platform()


def _quota_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        _state(world, d, SimState.ACTIVATED, Actor.CUSTOMER, "activated by the customer")


def _limit_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        iccid = sim_of(d)
        if world.platform.data_blocked(iccid):
            continue  # its pool was used up with another SIM's upload
        if not _past_test_quota(world, d):
            continue
        left = world.platform.bytes_to_limit(iccid)
        if left is None:
            raise SimulatorError(
                f"data_limit_reached: device {d.id}'s rate plan has no overage limit"
            )
        world.platform.record_usage(iccid, left, now=world.env.now)  # a runaway upload
        world.output.flush_platform()


def _past_test_quota(world: World, d: Device) -> bool:
    """A runaway upload on a test SIM uses its free test quota first; whether it goes on.

    Where the account's setting ends service with the test, the upload stops there: the
    SIM's trouble is then the used test quota, and its ground truth says so.
    """
    iccid = sim_of(d)
    if world.platform.state(iccid) is not SimState.TEST_READY:
        return True
    world.platform.record_usage(iccid, world.platform.test_quota_left(iccid), now=world.env.now)
    world.output.flush_platform()
    if world.platform.state(iccid) in SERVICE_STATES:
        return True
    if world.truth.active(d.id, FaultId.DATA_LIMIT_REACHED):
        world.truth.record_of(d.id, FaultId.DATA_LIMIT_REACHED).cause = Cause.TEST_QUOTA_USED
    return False


def _limit_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    for d in devices:
        if world.platform.state(sim_of(d)) not in SERVICE_STATES:  # it stopped at its test quota
            _state(world, d, SimState.ACTIVATED, Actor.CUSTOMER, "activated by the customer")
            continue
        reason = "extra data bundle bought"
        override = world.platform.override_data_limit
        platform_acts(world, d, override, actor=Actor.CUSTOMER, reason=reason)


F = FaultId
SIM_FAULTS = (
    FaultKind(
        F.SIM_DEACTIVATED,
        "sim",
        "billing deactivates the SIM for an overdue invoice (value: the invoice number)",
        _deactivate_on,
        _deactivate_off,
        account_wide=True,
    ),
    FaultKind(
        F.SIM_NOT_PROVISIONED,
        "sim",
        "the home network does not know the SIM: EMM #2 (#8 from an Annex A core)",
        _unprovisioned_on,
        _unprovisioned_off,
        account_wide=True,
    ),
    FaultKind(
        F.SIM_PURGED,
        "sim",
        "an operator's clean-up retires and purges the SIM by mistake (value: the job): the "
        "network forgets it, EMM #2 (#8 from Annex A); the revert re-provisions it",
        _purge_on,
        _purge_off,
        account_wide=True,
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
        "a runaway upload reaches the rate plan's limit (a pool's: every SIM in the pool); a "
        "test SIM's upload uses its test quota first, which can end its service there",
        _limit_on,
        _limit_off,
        pool_wide=True,
        account_wide=True,
    ),
    FaultKind(
        F.DAMAGED_SIM,
        "sim",
        "the SIM can no longer be read: the device goes silent",
        _damaged_on,
        _damaged_off,
    ),
)
"""The SIM's faults, in the catalogue's order."""
