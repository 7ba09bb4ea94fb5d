"""A customer definition: what an operator configures when a contract is signed.

Accounts, communication plans, rate plans, the private APN's IPsec tunnel,
SIM ranges and automation rules, as pydantic models that are also the schema
of the onboarding file: `definition` holds the whole file, one module holds
each part, and every model checks its own fields. Checks across the whole
file (references, overlaps) live in `checks`, which returns every problem
with the path of the field it concerns.
"""

from simulator.platform.customer.accounts import (
    Account,
    AccountKind,
    AccountSettings,
    accounts_under,
)
from simulator.platform.customer.checks import cross_check
from simulator.platform.customer.definition import CustomerFile
from simulator.platform.customer.plans import (
    Apn,
    CommunicationPlan,
    NetworkRule,
    RadioType,
    RatePlan,
    Service,
    Tunnel,
    Zone,
)
from simulator.platform.customer.rules import (
    AutomationRule,
    ChangeRatePlan,
    ChangeState,
    Notify,
    Trigger,
)
from simulator.platform.customer.sim_ranges import SimRange

__all__ = [
    "Account",
    "AccountKind",
    "AccountSettings",
    "Apn",
    "AutomationRule",
    "ChangeRatePlan",
    "ChangeState",
    "CommunicationPlan",
    "CustomerFile",
    "NetworkRule",
    "Notify",
    "RadioType",
    "RatePlan",
    "Service",
    "SimRange",
    "Trigger",
    "Tunnel",
    "Zone",
    "accounts_under",
    "cross_check",
]
