"""Automation rules at run time: what fires them, the latch that holds them, what they do.

Usage thresholds and data limits fire from the billing cycle, an IMEI change
from an attach, too many sessions from a session request, and no connection
from the platform's periodic sweep. A latching rule fires once per episode
(`simulator.platform.automation`); its bit in the SIM's `latched` column is
cleared when the episode ends. A rule's action changes the SIM's state or rate
plan through the platform, or leaves a `Notification` for the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

import numpy as np

from simulator.errors import TransitionRefusedError
from simulator.platform.automation import LATCHING
from simulator.platform.customer import ChangeRatePlan, ChangeState, Trigger
from simulator.platform.lifecycle import Actor

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import NDArray

    from protocol.sim_state import SimState
    from simulator.platform.automation import CompiledRule, RuleBook
    from simulator.platform.sims import SimTable

__all__ = ["DAY", "Notification", "RuleActions", "RuleRunner"]

DAY: Final = 86_400.0
_ALL_BITS: Final = 2**64 - 1


@dataclass(frozen=True, slots=True)
class Notification:
    """A message an automation rule sent to the account."""

    time: float
    rule: str
    iccid: str
    message: str


class RuleActions(Protocol):
    """The changes a rule's action makes, done by the platform (checked and audited there)."""

    def move(self, row: int, target: SimState, *, actor: Actor, reason: str, now: float) -> None:
        """Move the SIM to another lifecycle state; refused moves raise TransitionRefusedError."""

    def set_rate_plan(self, row: int, plan: str, *, actor: Actor, reason: str, now: float) -> None:
        """Put the SIM on another rate plan."""


class RuleRunner:
    """Fires the platform's automation rules on SIMs and keeps the account's notifications."""

    def __init__(self, rules: RuleBook, sims: SimTable, actions: RuleActions) -> None:
        self.rules = rules
        self.sims = sims
        self.actions = actions
        self.notifications: list[Notification] = []

    def fire(self, trigger: Trigger, row: int, now: float, detail: str) -> None:
        """Fire every rule listening to `trigger` that applies to the SIM in `row`."""
        for rule in self.rules.on(trigger):
            self.fire_rule(rule, row, now, detail)

    def fire_rule(self, rule: CompiledRule, row: int, now: float, detail: str) -> None:
        """Fire one rule on one SIM, unless its condition fails or it is latched already."""
        state, account = int(self.sims["state"][row]), int(self.sims["account"][row])
        if not rule.applies(state, account):
            return
        if rule.rule.trigger in LATCHING:
            if int(self.sims["latched"][row]) & rule.mask:
                return
            self.sims["latched"][row] |= np.uint64(rule.mask)
        reason = f"rule {rule.rule.name}: {detail}"
        action = rule.rule.action
        iccid = str(self.sims.iccid(row))
        if isinstance(action, ChangeState):
            try:
                self.actions.move(
                    row, action.change_state, actor=Actor.SYSTEM, reason=reason, now=now
                )
            except TransitionRefusedError as exc:
                self.notifications.append(
                    Notification(now, rule.rule.name, iccid, f"not applied: {exc}")
                )
        elif isinstance(action, ChangeRatePlan):
            self.actions.set_rate_plan(
                row, action.change_rate_plan, actor=Actor.SYSTEM, reason=reason, now=now
            )
        else:
            self.notifications.append(
                Notification(now, rule.rule.name, iccid, f"{action.notify} ({detail})")
            )

    def unlatch(self, rows: int | slice | NDArray[np.int64], triggers: Iterable[Trigger]) -> None:
        """Re-arm the rules of `triggers` for the SIMs in `rows`: their episode has ended."""
        self.sims["latched"][rows] &= np.uint64(~self.rules.mask(triggers) & _ALL_BITS)

    def connected(self, row: int, now: float) -> None:
        """The SIM was heard from: its silence ends."""
        self.sims["last_connection"][row] = now
        self.unlatch(row, [Trigger.NO_CONNECTION])

    def count_session(self, row: int, now: float) -> None:
        """Count a data session in the SIM's 24 h window and fire the too-many-sessions rules."""
        window = float(self.sims["session_window"][row])
        if np.isnan(window) or now - window >= DAY:
            self.sims["session_window"][row] = now
            self.sims["sessions"][row] = 0
            self.unlatch(row, [Trigger.TOO_MANY_SESSIONS])
        count = int(self.sims["sessions"][row]) + 1
        self.sims["sessions"][row] = min(count, np.iinfo(np.uint16).max)
        for rule in self.rules.on(Trigger.TOO_MANY_SESSIONS):
            if count > (rule.rule.sessions or 0):
                self.fire_rule(rule, row, now, f"{count} data sessions within 24 hours")

    def check_silence(self, now: float) -> None:
        """Fire the no-connection rules for SIMs silent for their hours and not yet latched."""
        for rule in self.rules.on(Trigger.NO_CONNECTION):
            silent_for = now - self.sims["last_connection"]
            latched = (self.sims["latched"] & np.uint64(rule.mask)) != 0
            due: NDArray[np.bool_] = (silent_for >= (rule.rule.hours or 0) * 3600) & ~latched
            for row in np.flatnonzero(due):
                self.fire_rule(rule, int(row), now, f"no connection for {rule.rule.hours:g} hours")
