"""What the platform said outright, worded for staff: a data block and a SIM state change.

A data block names the limit reached and when it lifts by itself (the next billing
cycle); a pooled rate plan's block names the pool, how many SIMs share it and its size,
since every SIM in the pool is blocked with it: one used-up pool, not one SIM's cap. A
state change names who made it and why, as the audit trail gives them, and what brings
the SIM back for that actor. Nothing is added that the platform did not say: no actor,
no reason; a reason given is quoted, never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.readings import when
from protocol.sim_state import SimState

if TYPE_CHECKING:
    from protocol.messages import DataBlocked, StateChanged

__all__ = ["BACK_BY_ACTOR", "block_summary", "state_summary"]

BACK_BY_ACTOR: Final = {
    "billing": "billing deactivated it: it returns once the customer settles the invoice with "
    "billing (or shows it is paid)",
    "customer": "the customer's own users deactivated it: they can activate it again in the "
    "portal, or ask us to",
    "operator": "our staff deactivated it: check with them before activating it again",
    "system": "an automatic platform move or automation rule deactivated it: check the rule "
    "before activating it again",
}
"""Who moved a SIM out of service → what brings it back, for staff."""


def block_summary(block: DataBlocked, at: float) -> str:
    """The staff summary of a data block seen at `at`."""
    mb = None if block.limit is None else f"{block.limit / 1e6:g} MB"
    if block.pool is not None:
        shared = f" of {block.pool_sims} SIMs" if block.pool_sims is not None else ""
        size = f" ({mb})" if mb is not None else ""
        text = (
            f"Shared data pool {block.pool}{shared}{size} used up at {when(at)}: data is "
            "blocked for every SIM in the pool, not only this one"
        )
    else:
        limit = f" at its limit of {mb}" if mb is not None else ""
        text = f"Data blocked{limit} at {when(at)}: {block.reason}"
    if block.until is not None:
        text += f"; service resumes at {when(block.until)} (next billing cycle)"
    return text


def state_summary(change: StateChanged, at: float) -> str:
    """The staff summary of a state change seen at `at` that took the SIM out of service."""
    moved = f"{change.old} -> {change.new} by {change.actor}: {change.reason}"
    text = f"SIM moved {moved} at {when(at)}"
    back = BACK_BY_ACTOR.get(change.actor) if change.new == SimState.DEACTIVATED.name else None
    return f"{text}; {back}" if back is not None else text
