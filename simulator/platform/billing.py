"""The billing cycle: data counted against rate plans, alone or pooled, and the limits it hits.

Each SIM's usage counts against its rate plan's allowance; a pooled plan counts
the usage of all an account's SIMs on that plan against one allowance per SIM.
Usage thresholds fire their rules as the count passes them; a plan with an
overage limit blocks data once allowance and overage are used, unless the SIM's
block was lifted for the cycle. Cycles begin at 00:00 UTC on the first of each
month: usage starts again from zero and blocked SIMs are unblocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from simulator.platform.audit import AuditField
from simulator.platform.automation import CYCLE_TRIGGERS
from simulator.platform.customer import Trigger
from simulator.platform.lifecycle import Actor

if TYPE_CHECKING:
    from simulator.platform.changes import Changes
    from simulator.platform.customer import RatePlan
    from simulator.platform.rule_runner import RuleRunner
    from simulator.platform.sims import SimTable

__all__ = ["Billing", "Standing", "pool_name"]


def pool_name(account: str, rate_plan: str) -> str:
    """The name of the data pool an account's SIMs on a pooled rate plan share."""
    return f"{account}/{rate_plan}"


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a SIM stands against its rate plan this cycle (a pooled plan: where its pool does)."""

    used: int
    """Bytes counted: the SIM's own, or the whole pool's."""
    allowance: int
    """The SIM's allowance, or the pool's: one allowance per SIM in it."""
    limit: int | None
    """Bytes at which data is blocked (allowance and overage); None = never blocked."""
    sims: int
    """SIMs sharing the count: 1 for a plan per SIM, the pool's size for a pooled plan."""
    cycle_end: float
    """When this billing cycle ends and a block lifts by itself, in simulated seconds."""


class Billing:
    """Usage, pools, data blocks and the monthly cycle of the platform's SIMs."""

    def __init__(
        self,
        *,
        start: datetime,
        rate_plans: list[RatePlan],
        changes: Changes,
        runner: RuleRunner,
    ) -> None:
        self.start = start
        self.rate_plans = rate_plans
        """The platform's rate plans, by row (the same list, not a copy)."""
        self.changes = changes
        self.runner = runner
        self._pool_usage: dict[tuple[int, int], int] = {}
        self._pool_sizes: dict[tuple[int, int], int] = {}
        self._overrides: set[int] = set()
        self._cycle = 0
        self._cycle_end = self._cycle_start_time(1)

    @property
    def sims(self) -> SimTable:
        """The platform's SIMs."""
        return self.changes.sims

    def join_pool(self, account: int, rate_plan: int, count: int = 1) -> None:
        """`count` SIMs of `account` join the pool of `rate_plan` (negative: they leave it)."""
        key = (account, rate_plan)
        self._pool_sizes[key] = self._pool_sizes.get(key, 0) + count

    def use(self, row: int, nbytes: int, now: float) -> None:
        """Count `nbytes` against the SIM's allowance; fire thresholds, block at the limit."""
        plan = self.rate_plans[int(self.sims["rate_plan"][row])]
        self.sims["usage"][row] += nbytes
        if plan.pooled:
            key = self._pool_key(row)
            self._pool_usage[key] = self._pool_usage.get(key, 0) + nbytes
        after, shares = self.counted(row)
        before = after - nbytes
        allowance = plan.allowance * shares
        for rule in self.runner.rules.on(Trigger.USAGE_THRESHOLD):
            level = (rule.rule.percent or 0.0) / 100 * allowance
            if before < level <= after:
                self.runner.fire_rule(
                    rule, row, now, f"usage reached {rule.rule.percent:g}% of the allowance"
                )
        if (
            plan.overage_limit is not None
            and after >= (plan.allowance + plan.overage_limit) * shares
        ):
            self._limit_reached(row, plan, now)

    def counted(self, row: int) -> tuple[int, int]:
        """Bytes counted against the SIM's limit this cycle, and how many allowances they share.

        A pooled plan counts the pool's usage against one allowance per SIM in the pool.
        """
        if not self.rate_plans[int(self.sims["rate_plan"][row])].pooled:
            return int(self.sims["usage"][row]), 1
        key = self._pool_key(row)
        return self._pool_usage.get(key, 0), self._pool_sizes.get(key, 0)

    def standing(self, row: int) -> Standing:
        """The SIM's (or its pool's) count against its rate plan this cycle."""
        plan = self.rate_plans[int(self.sims["rate_plan"][row])]
        used, shares = self.counted(row)
        limit = None if plan.overage_limit is None else (plan.allowance + plan.overage_limit)
        return Standing(
            used=used,
            allowance=plan.allowance * shares,
            limit=None if limit is None else limit * shares,
            sims=shares,
            cycle_end=self._cycle_end,
        )

    def bytes_to_limit(self, row: int) -> int | None:
        """Data the SIM (or its pool) may still use before it is blocked; None = never blocked."""
        standing = self.standing(row)
        return None if standing.limit is None else max(0, standing.limit - standing.used)

    def lift_block(self, row: int, *, actor: Actor, reason: str, now: float) -> None:
        """Lift the SIM's data block for the rest of the billing cycle."""
        self._overrides.add(row)
        if self.sims["data_blocked"][row]:
            self._set_blocked(row, blocked=False, actor=actor, reason=reason, now=now)

    def advance(self, now: float) -> None:
        """Roll over every billing cycle that has ended by `now`."""
        while now >= self._cycle_end:
            self._new_cycle(self._cycle_end)

    @property
    def cycle_end(self) -> float:
        """When the current billing cycle ends, in simulated seconds."""
        return self._cycle_end

    def pool_key(self, row: int) -> tuple[int, int]:
        """The pool a SIM on a pooled plan counts in: its account and rate plan."""
        return self._pool_key(row)

    def pool_used(self, key: tuple[int, int]) -> int:
        """Bytes the pool has used this cycle."""
        return self._pool_usage.get(key, 0)

    def add_pool_usage(self, key: tuple[int, int], nbytes: int) -> None:
        """Count `nbytes` the pool's SIMs used, with no threshold between (the bulk engine)."""
        self._pool_usage[key] = self._pool_usage.get(key, 0) + nbytes

    def _pool_key(self, row: int) -> tuple[int, int]:
        return int(self.sims["account"][row]), int(self.sims["rate_plan"][row])

    def _set_blocked(
        self, row: int, *, blocked: bool, actor: Actor, reason: str, now: float
    ) -> None:
        self.changes.write(
            row, AuditField.DATA_BLOCKED, int(blocked), actor=actor, reason=reason, now=now
        )

    def _limit_reached(self, row: int, plan: RatePlan, now: float) -> None:
        if plan.pooled:
            mask = (self.sims["account"] == self.sims["account"][row]) & (
                self.sims["rate_plan"] == self.sims["rate_plan"][row]
            )
            rows = [int(r) for r in np.flatnonzero(mask)]
        else:
            rows = [row]
        reason = f"data limit of rate plan {plan.name} reached"
        for r in rows:
            if not self.sims["data_blocked"][r] and r not in self._overrides:
                self._set_blocked(r, blocked=True, actor=Actor.SYSTEM, reason=reason, now=now)
                self.runner.fire(Trigger.DATA_LIMIT_REACHED, r, now, reason)

    def _new_cycle(self, at: float) -> None:
        self._cycle += 1
        self._cycle_end = self._cycle_start_time(self._cycle + 1)
        self.sims["usage"][:] = 0
        self._pool_usage.clear()
        self._overrides.clear()
        self.runner.unlatch(slice(None), CYCLE_TRIGGERS)
        for row in np.flatnonzero(self.sims["data_blocked"]):
            self._set_blocked(
                int(row), blocked=False, actor=Actor.SYSTEM, reason="new billing cycle", now=at
            )

    def _cycle_start_time(self, cycle: int) -> float:
        """Simulated second at which billing cycle `cycle` (0 = the one holding `start`) begins."""
        months = self.start.year * 12 + self.start.month - 1 + cycle
        begin = datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)
        return begin.timestamp() - self.start.timestamp()
