"""Who a fault on a shared data pool or an account reaches: every device whose SIM is in it.

A pooled rate plan counts the usage of all an account's SIMs on it against one shared
allowance, so when the pool is used up every SIM in it is blocked at once, not only the
one whose upload used the last byte. A fault written for a pool (`pool: NAME`) reaches
its members; a fault that strikes a SIM's pool (`FaultKind.pool_wide`) reaches every
member of the pools its named devices' SIMs are in. A platform fault written for an
account (`account: ID`, `FaultKind.account_wide`) reaches every SIM of the account and
of the accounts under it in the customer's account tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.platform.customer import accounts_under

if TYPE_CHECKING:
    from simulator.world.device import Device
    from simulator.world.world import World

__all__ = ["account_members", "pool_members", "whole_pools"]


def pool_members(world: World, pool: str) -> list[Device]:
    """The devices whose SIMs count against `pool` now, in the world's order."""
    return [d for d in world.devices if d.sim is not None and world.platform.pool(d.sim) == pool]


def account_members(world: World, account: str) -> list[Device]:
    """The devices whose SIMs belong to `account` or an account under it now, in order."""
    accounts = accounts_under(world.spec.customer.accounts, account)
    return [
        d for d in world.devices if d.sim is not None and world.platform.account(d.sim) in accounts
    ]


def whole_pools(world: World, devices: list[Device]) -> list[Device]:
    """`devices`, and every other device sharing a data pool with one of them."""
    pools = {world.platform.pool(d.sim) for d in devices if d.sim is not None} - {None}
    if not pools:
        return devices
    named = {d.id for d in devices}
    members = [
        d
        for d in world.devices
        if d.id not in named and d.sim is not None and world.platform.pool(d.sim) in pools
    ]
    return [*devices, *members]
