"""Automation rules compiled for the platform: which rules listen to a trigger, and when they apply.

A rule fires at most once per episode: a usage or data-limit rule once per
billing cycle, a no-connection rule once per silence, a session rule once per
24 h window. A bit per rule in the SIM's `latched` column remembers that it
fired; the platform clears the bit when the episode ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from simulator.platform.customer import AutomationRule, Trigger

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from numpy.typing import NDArray

__all__ = ["MAX_RULES", "CompiledRule", "RuleBook"]

MAX_RULES: Final = 64
"""One bit per rule in the uint64 `latched` column."""

LATCHING: Final = frozenset(
    {
        Trigger.USAGE_THRESHOLD,
        Trigger.DATA_LIMIT_REACHED,
        Trigger.NO_CONNECTION,
        Trigger.TOO_MANY_SESSIONS,
    },
)
CYCLE_TRIGGERS: Final = frozenset({Trigger.USAGE_THRESHOLD, Trigger.DATA_LIMIT_REACHED})


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its bit and its condition as sets of column values."""

    bit: int
    rule: AutomationRule
    states: frozenset[int] | None
    accounts: frozenset[int] | None

    @property
    def mask(self) -> int:
        """This rule's bit in the `latched` column."""
        return 1 << self.bit

    def applies(self, state: int, account: int) -> bool:
        """Whether the rule's condition holds for a SIM in `state` of `account`."""
        return (self.states is None or state in self.states) and (
            self.accounts is None or account in self.accounts
        )

    def applies_to(
        self, states: NDArray[np.uint8], accounts: NDArray[np.uint32]
    ) -> NDArray[np.bool_]:
        """`applies` over whole columns."""
        ok = np.ones(states.shape, dtype=np.bool_)
        if self.states is not None:
            ok &= np.isin(states, list(self.states))
        if self.accounts is not None:
            ok &= np.isin(accounts, list(self.accounts))
        return ok


class RuleBook:
    """The platform's automation rules, by trigger."""

    def __init__(self) -> None:
        self.rules: list[CompiledRule] = []

    def add(self, rule: AutomationRule, accounts: Iterable[int] | None) -> CompiledRule:
        """Compile and add `rule`; `accounts` are the account rows it applies to (None = all)."""
        if len(self.rules) >= MAX_RULES:
            raise ValueError(f"a platform holds at most {MAX_RULES} automation rules")
        states = None if rule.states is None else frozenset(int(s) for s in rule.states)
        compiled = CompiledRule(
            len(self.rules),
            rule,
            states,
            None if accounts is None else frozenset(accounts),
        )
        self.rules.append(compiled)
        return compiled

    def on(self, trigger: Trigger) -> Sequence[CompiledRule]:
        """The rules listening to `trigger`, in the order they were defined."""
        return [r for r in self.rules if r.rule.trigger is trigger]

    def mask(self, triggers: Iterable[Trigger]) -> int:
        """The latch bits of every rule listening to one of `triggers`."""
        wanted = set(triggers)
        return sum(r.mask for r in self.rules if r.rule.trigger in wanted)
