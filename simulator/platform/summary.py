"""What one onboarding created: counts by kind, and each SIM range with its first and last ICCID."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OnboardingSummary", "RangeSummary"]


@dataclass(frozen=True, slots=True)
class RangeSummary:
    """One onboarded range."""

    first: str
    last: str
    count: int
    account: str
    state: str


@dataclass(slots=True)
class OnboardingSummary:
    """What one onboarding created."""

    customer: str
    accounts: int
    communication_plans: int
    rate_plans: int
    tunnels: int
    automation_rules: int
    sims: int
    ranges: list[RangeSummary] = field(default_factory=list)
    audit_entries: int = 0
