"""The whole customer definition, as written in an onboarding YAML file."""

from __future__ import annotations

from pydantic import Field

from simulator.platform.customer.accounts import Account
from simulator.platform.customer.base import Model
from simulator.platform.customer.plans import CommunicationPlan, RatePlan, Tunnel
from simulator.platform.customer.rules import AutomationRule
from simulator.platform.customer.sim_ranges import SimRange

__all__ = ["CustomerFile"]


class CustomerFile(Model):
    """The whole customer definition, as written in an onboarding YAML file."""

    customer: str = Field(min_length=1)
    accounts: list[Account] = Field(min_length=1)
    communication_plans: list[CommunicationPlan] = Field(min_length=1)
    rate_plans: list[RatePlan] = Field(min_length=1)
    tunnels: list[Tunnel] = Field(default_factory=list)
    sim_ranges: list[SimRange] = Field(default_factory=list)
    automation_rules: list[AutomationRule] = Field(default_factory=list)
