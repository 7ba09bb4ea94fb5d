"""The SIM lifecycle: which moves exist, who may make them, and why one is refused.

This module holds the one transition table of simlab. Everything that changes
a SIM's state (a customer's request, an operator's action, an automatic move,
an automation rule) asks `refusal` first.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Final

from protocol.sim_state import SimState

__all__ = ["SERVICE_STATES", "TRANSITIONS", "Actor", "allowed_targets", "refusal"]

S = SimState


class Actor(enum.IntEnum):
    """Who made a change; stored in the audit trail."""

    CUSTOMER = 0
    """The customer's own users, through the portal or the API."""
    OPERATOR = 1
    """The connectivity operator's staff."""
    SYSTEM = 2
    """The platform itself: automatic moves and automation rules."""
    BILLING = 3
    """The operator's billing system: a SIM deactivated for an unpaid invoice, and back."""


SERVICE_STATES: Final = frozenset(
    {S.TEST_READY, S.TRIAL, S.ACTIVATION_READY, S.ACTIVATED},
)
"""The states in which a SIM gets service (attach and data)."""

_ANY: Final = frozenset(Actor)
_OPERATOR: Final = frozenset({Actor.OPERATOR})

TRANSITIONS: Final = MappingProxyType(
    {
        (S.TEST_READY, S.INVENTORY): _ANY,
        (S.TEST_READY, S.ACTIVATION_READY): _ANY,
        (S.TEST_READY, S.ACTIVATED): _ANY,
        (S.TEST_READY, S.TRIAL): _ANY,
        (S.TEST_READY, S.DEACTIVATED): _ANY,
        (S.INVENTORY, S.TEST_READY): _OPERATOR,
        (S.INVENTORY, S.ACTIVATION_READY): _ANY,
        (S.INVENTORY, S.ACTIVATED): _ANY,
        (S.INVENTORY, S.TRIAL): _ANY,
        (S.TRIAL, S.ACTIVATED): _ANY,
        (S.TRIAL, S.DEACTIVATED): _ANY,
        (S.ACTIVATION_READY, S.ACTIVATED): _ANY,
        (S.ACTIVATION_READY, S.DEACTIVATED): _ANY,
        (S.ACTIVATED, S.DEACTIVATED): _ANY,
        (S.DEACTIVATED, S.ACTIVATED): _ANY,
        (S.ACTIVATED, S.RETIRED): _ANY,
        (S.DEACTIVATED, S.RETIRED): _ANY,
        (S.RETIRED, S.ACTIVATED): _OPERATOR,
        (S.RETIRED, S.PURGED): _OPERATOR,
        (S.PURGED, S.ACTIVATED): _OPERATOR,
    },
)
"""(from, to) → the actors who may make that move. A move not listed does not exist.

PURGED → ACTIVATED is the operator re-provisioning a SIM purged by mistake: the card and
its keys still exist (the operator holds them from the SIM vendor's profile), so the
subscription can be loaded onto the network again; nobody else can undo a purge."""


def allowed_targets(source: SimState, actor: Actor) -> list[SimState]:
    """The states `actor` may move a SIM in `source` to, in state order."""
    return [t for (s, t), who in TRANSITIONS.items() if s is source and actor in who]


def refusal(source: SimState, target: SimState, actor: Actor) -> str | None:
    """Why `actor` may not move a SIM from `source` to `target`; None when allowed."""
    if source is target:
        return f"the SIM is already {source.name}"
    who = TRANSITIONS.get((source, target))
    if who is None:
        onward = ", ".join(t.name for (s, t) in TRANSITIONS if s is source)
        hint = f"from {source.name} a SIM can go to {onward}" if onward else "it is final"
        return f"the lifecycle has no move from {source.name} to {target.name} ({hint})"
    if actor not in who:
        return f"only the operator may move a SIM from {source.name} to {target.name}"
    return None
