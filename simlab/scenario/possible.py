"""What can happen to a device of a world: the causes its faults and its set-up can give.

A device can get a cause from a fault on the timeline that names it (following
its SIM through swaps, for faults of the SIM), a fault of its cell, operator,
APN, tunnel, shared data pool or account, a fault drawn at a rate for its group, a firmware
rollout that may reach it, or something that arises
by itself in this world (a battery running flat, a moving device leaving
coverage or entering a network its plan does not allow, a TEST_READY SIM whose
account stops service after the test using its quota, a device set up with an
APN, radio or credentials its plan refuses, firmware that ignores the network's
back-off timers turning a congestion into a reconnect storm).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Final

from protocol.causes import Cause
from protocol.sim_state import SimState
from simlab.scenario.devices import DeviceIds
from simulator.platform.billing import pool_name
from simulator.platform.customer import AccountSettings, accounts_under
from simulator.world.faults import CATALOGUE
from simulator.world.spec import RetryBehaviour

if TYPE_CHECKING:
    from simulator.platform.customer import Apn, CommunicationPlan, CustomerFile, SimRange
    from simulator.world.spec import DeviceGroupSpec, FaultSpec, WorldSpec

__all__ = ["SIM_CAUSES", "Timeline", "causes_for", "possible_causes"]

SIM_CAUSES: Final = frozenset(k.id.cause for k in CATALOGUE.values() if k.scope == "sim")
"""Causes that belong to the SIM: a swap takes them to the other device."""


def _range_of(customer: CustomerFile, body: int) -> SimRange | None:
    for sims in customer.sim_ranges:
        first = sims.first_iccid.body_int
        if first <= body < first + sims.count:
            return sims
    return None


def _settings(customer: CustomerFile, account: str) -> AccountSettings:
    """An account's settings, inherited from the nearest ancestor that sets them."""
    accounts = {a.id: a for a in customer.accounts}
    node = accounts.get(account)
    while node is not None:
        if node.settings is not None:
            return node.settings
        node = accounts.get(node.parent) if node.parent else None
    return AccountSettings()


def _plan_of(customer: CustomerFile, group: DeviceGroupSpec, n: int) -> CommunicationPlan | None:
    sims = _range_of(customer, group.first_iccid.body_int + n - 1)
    if sims is None:
        return None
    return next(
        (p for p in customer.communication_plans if p.name == sims.communication_plan), None
    )


def _pool_of(customer: CustomerFile, group: DeviceGroupSpec, n: int) -> str | None:
    """The shared data pool device `n`'s SIM counts against (`account/rate plan`), if any."""
    sims = _range_of(customer, group.first_iccid.body_int + n - 1)
    pooled = {r.name for r in customer.rate_plans if r.pooled}
    if sims is None or sims.rate_plan not in pooled:
        return None
    return pool_name(sims.account, sims.rate_plan)


def _account_of(customer: CustomerFile, group: DeviceGroupSpec, n: int) -> str | None:
    """The account device `n`'s SIM belongs to, if the customer's SIM ranges hold it."""
    sims = _range_of(customer, group.first_iccid.body_int + n - 1)
    return None if sims is None else sims.account


def _apn_entry(plan: CommunicationPlan | None, apn: str) -> Apn | None:
    if plan is None:
        return None
    return next((a for a in plan.apns if a.name.lower() == apn.lower()), None)


def _locked(customer: CustomerFile, found: tuple[DeviceGroupSpec, int] | None) -> bool:
    """Whether the SIM a device was delivered with is locked to its IMEI."""
    if found is None:
        return False
    sims = _range_of(customer, found[0].first_iccid.body_int + found[1] - 1)
    return sims is not None and sims.imei_lock


def _follow_sims(named: dict[str, set[Cause]], world: WorldSpec) -> None:
    """SIM causes go where swaps and moves (`world.moves`) take the SIM.

    And an IMEI-locked SIM is refused in the device a swap or a move puts it into: an IMEI
    lock mismatch there.
    """
    moves = [(m.device, m.into) for m in world.moves]
    swaps = [(s.device, s.into) for s in world.swaps]
    changes = swaps + [(into, device) for device, into in swaps] + moves
    for _ in changes:  # a SIM may pass through several swaps and moves
        for device, into in changes:
            named[into] |= named[device] & SIM_CAUSES
    fleet = DeviceIds(world)
    for device, into in changes:
        if _locked(world.customer, fleet.find(device)):
            named[into].add(Cause.IMEI_LOCK_MISMATCH)


def _arising(world: WorldSpec, group: DeviceGroupSpec, n: int) -> set[Cause]:
    """Causes that can arise by themselves for device `n` of `group`, no fault needed."""
    customer = world.customer
    causes: set[Cause] = set()
    if group.battery_mah is not None:
        causes.add(Cause.BATTERY_DEPLETED)
    if group.mobility is not None:
        causes |= {Cause.COVERAGE_LOSS, Cause.ROAMING_NOT_ALLOWED}
    if group.retry is not RetryBehaviour.TS34:
        causes.add(Cause.RECONNECT_STORM)
    sims = _range_of(customer, group.first_iccid.body_int + n - 1)
    if (
        sims is not None
        and sims.state is SimState.TEST_READY
        and _settings(customer, sims.account).after_test is SimState.INVENTORY
    ):
        causes.add(Cause.TEST_QUOTA_USED)
    apns = {a.name.lower() for p in customer.communication_plans for a in p.apns}
    if group.apn.lower() not in apns:
        causes.add(Cause.WRONG_APN)
    plan = _plan_of(customer, group, n)
    if plan is not None:
        if group.radio not in plan.radio_types:
            causes.add(Cause.RADIO_TYPE_NOT_ALLOWED)
        entry = _apn_entry(plan, group.apn)
        if entry is not None and entry.private and not group.apn_credentials_ok:
            causes.add(Cause.PRIVATE_APN_CREDENTIALS)
    return causes


class Timeline:
    """The causes the world's faults can give, by device, group, APN, tunnel, pool and account."""

    def __init__(self, world: WorldSpec) -> None:
        self.named: dict[str, set[Cause]] = defaultdict(set)
        self.everywhere: set[Cause] = set()
        self.by_apn: dict[str, set[Cause]] = defaultdict(set)
        self.by_tunnel: dict[str, set[Cause]] = defaultdict(set)
        self.by_group: dict[str | None, set[Cause]] = defaultdict(set)
        self.by_pool: dict[str, set[Cause]] = defaultdict(set)
        self.by_account: dict[str, set[Cause]] = defaultdict(set)
        fleet = DeviceIds(world)
        for fault in world.faults:
            scope, cause = CATALOGUE[fault.fault].scope, fault.fault.cause
            if fault.pool is not None:
                self.by_pool[fault.pool].add(cause)
            elif fault.account is not None:
                for account in accounts_under(world.customer.accounts, fault.account):
                    self.by_account[account].add(cause)
            elif scope in {"device", "sim"}:
                for device in fault.devices or []:
                    self.named[device].add(cause)
                self._pools_of_named(world, fleet, fault)
            elif scope == "apn":
                self.by_apn[(fault.apn or "").lower()].add(cause)
            elif scope == "tunnel":
                self.by_tunnel[fault.tunnel or ""].add(cause)
            else:
                self.everywhere.add(cause)
        _follow_sims(self.named, world)
        for rate in world.fault_rates:
            self.by_group[rate.group].add(rate.fault.cause)
        self._rollouts(world)

    def _rollouts(self, world: WorldSpec) -> None:
        """What a new firmware brings, to every device it may reach."""
        for rollout in world.rollouts:
            if rollout.fault is None:
                continue
            if rollout.devices:
                for device in rollout.devices:
                    self.named[device].add(rollout.fault.cause)
            else:
                self.by_group[rollout.group].add(rollout.fault.cause)

    def _pools_of_named(self, world: WorldSpec, fleet: DeviceIds, fault: FaultSpec) -> None:
        """A fault that strikes a SIM's shared pool reaches every device in the pools it names."""
        if not CATALOGUE[fault.fault].pool_wide:
            return
        for device in fault.devices or []:
            found = fleet.find(device)
            pool = None if found is None else _pool_of(world.customer, *found)
            if pool is not None:
                self.by_pool[pool].add(fault.fault.cause)


def possible_causes(world: WorldSpec, device_id: str) -> set[Cause]:
    """Every cause the world can give the device (empty for a device the world does not hold)."""
    found = DeviceIds(world).find(device_id)
    if found is None:
        return set()
    return causes_for(world, Timeline(world), device_id, *found)


def causes_for(
    world: WorldSpec, timeline: Timeline, device_id: str, group: DeviceGroupSpec, n: int
) -> set[Cause]:
    """The causes device `n` of `group` (its id `device_id`) can get, the timeline read once."""
    causes = set(timeline.named.get(device_id, ())) | timeline.everywhere
    causes |= timeline.by_group.get(None, set()) | timeline.by_group.get(group.name, set())
    causes |= timeline.by_apn.get(group.apn.lower(), set())
    pool = _pool_of(world.customer, group, n)
    if pool is not None:
        causes |= timeline.by_pool.get(pool, set())
    account = _account_of(world.customer, group, n)
    if account is not None:
        causes |= timeline.by_account.get(account, set())
    plan = _plan_of(world.customer, group, n)
    entry = _apn_entry(plan, group.apn)
    if entry is not None and entry.tunnel is not None:
        causes |= timeline.by_tunnel.get(entry.tunnel, set())
    return causes | _arising(world, group, n)
