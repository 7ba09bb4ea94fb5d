"""The account tree: enterprise, customers, business units, end consumers, and their settings."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from protocol.sim_state import SimState
from simulator.platform.customer.base import Model, Name
from simulator.platform.units import ByteCount

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Account", "AccountKind", "AccountSettings", "accounts_under"]


class AccountKind(enum.StrEnum):
    """Levels of the account tree, from the top."""

    ENTERPRISE = "enterprise"
    CUSTOMER = "customer"
    BUSINESS_UNIT = "business_unit"
    END_CONSUMER = "end_consumer"


class AccountSettings(Model):
    """What the platform does by itself with an account's SIMs."""

    test_quota: ByteCount = 30_000
    """Free data a TEST_READY SIM may use before it moves on."""
    after_test: Literal[SimState.INVENTORY, SimState.ACTIVATION_READY, SimState.ACTIVATED] = (
        SimState.ACTIVATED
    )
    """Where a SIM goes when its test quota is used; INVENTORY stops service until activated."""
    trial_days: float | None = Field(default=None, gt=0)
    trial_quota: ByteCount | None = None
    after_trial: Literal[SimState.ACTIVATED, SimState.DEACTIVATED] = SimState.ACTIVATED

    @field_validator("after_test", "after_trial", mode="before")
    @classmethod
    def _state_by_name(cls, value: object) -> object:
        return SimState.parse(value) if isinstance(value, str) else value


class Account(Model):
    """One node of the account tree."""

    id: Name
    name: str = Field(min_length=1)
    kind: AccountKind
    parent: Name | None = None
    settings: AccountSettings | None = None
    """None inherits the parent's settings (the enterprise's default is AccountSettings())."""
    custom_fields: dict[str, str] = Field(default_factory=dict)


def accounts_under(accounts: Sequence[Account], top: str) -> set[str]:
    """The ids of `top` and of every account below it in the tree `accounts` make."""
    found = {top}
    for _ in accounts:  # each round adds one level
        found |= {a.id for a in accounts if a.parent in found}
    return found
