"""A customer definition: what an operator configures when a contract is signed.

Accounts, communication plans, rate plans, the private APN's IPsec tunnel,
SIM ranges and automation rules, as one pydantic model that is also the
schema of the onboarding file. Field checks live on the models; checks across
the whole file (references, overlaps) live in `cross_check`, which returns
every problem with the path of the field it concerns.
"""

from __future__ import annotations

import enum
import re
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from protocol.identifiers import (
    Iccid,
    Imsi,
    InvalidIdentifierError,
    Msisdn,
    iccid_range_last,
    imsi_range_last,
    msisdn_range_last,
)
from protocol.sim_state import SimState
from simulator.platform.units import ByteCount

if TYPE_CHECKING:
    from collections.abc import Mapping

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
    "cross_check",
]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Loc = tuple[str | int, ...]
_APN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class AccountKind(enum.StrEnum):
    """Levels of the account tree, from the top."""

    ENTERPRISE = "enterprise"
    CUSTOMER = "customer"
    BUSINESS_UNIT = "business_unit"
    END_CONSUMER = "end_consumer"


_LEVEL = {
    AccountKind.ENTERPRISE: 0,
    AccountKind.CUSTOMER: 1,
    AccountKind.BUSINESS_UNIT: 1,
    AccountKind.END_CONSUMER: 2,
}


class AccountSettings(_Model):
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


class Account(_Model):
    """One node of the account tree."""

    id: Name
    name: str = Field(min_length=1)
    kind: AccountKind
    parent: Name | None = None
    settings: AccountSettings | None = None
    """None inherits the parent's settings (the enterprise's default is AccountSettings())."""
    custom_fields: dict[str, str] = Field(default_factory=dict)


class Service(enum.StrEnum):
    """What a communication plan lets a SIM do."""

    DATA = "data"
    SMS = "sms"
    VOICE = "voice"


class RadioType(enum.StrEnum):
    """Radio access technologies a plan may allow."""

    LTE_M = "LTE-M"
    NB_IOT = "NB-IoT"
    LTE = "LTE"
    UMTS = "3G"
    GSM = "2G"


class Apn(_Model):
    """An access point name; a private one reaches the customer through an IPsec tunnel."""

    name: str = Field(min_length=1, max_length=100)
    private: bool = False
    tunnel: Name | None = None

    @field_validator("name")
    @classmethod
    def _labels(cls, value: str) -> str:
        for label in value.split("."):
            if not _APN_LABEL.match(label):
                raise ValueError(
                    f"APN {value!r}: label {label!r} must be letters, digits and inner hyphens",
                )
        return value

    @model_validator(mode="after")
    def _tunnel_when_private(self) -> Apn:
        if self.private and self.tunnel is None:
            raise ValueError(f"private APN {self.name!r} needs the tunnel it goes through")
        if not self.private and self.tunnel is not None:
            raise ValueError(f"public APN {self.name!r} cannot go through tunnel {self.tunnel!r}")
        return self


class NetworkRule(_Model):
    """A network a SIM may attach to: one operator by MCC-MNC, or every operator of a country."""

    mcc_mnc: str | None = Field(default=None, pattern=r"^\d{5,6}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")

    @model_validator(mode="after")
    def _exactly_one(self) -> NetworkRule:
        if (self.mcc_mnc is None) == (self.country is None):
            raise ValueError("give exactly one of mcc_mnc (e.g. '24001') or country (e.g. 'SE')")
        return self


class CommunicationPlan(_Model):
    """What a SIM may do: services, APNs, networks and radio types."""

    name: Name
    services: list[Service] = Field(default_factory=lambda: [Service.DATA], min_length=1)
    apns: list[Apn] = Field(default_factory=list)
    networks: list[NetworkRule] = Field(min_length=1)
    radio_types: list[RadioType] = Field(min_length=1)

    @model_validator(mode="after")
    def _apn_for_data(self) -> CommunicationPlan:
        if Service.DATA in self.services and not self.apns:
            raise ValueError(f"plan {self.name!r} offers data, so it needs at least one APN")
        return self


class Zone(_Model):
    """A group of countries priced alike."""

    name: Name
    countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(min_length=1)
    price_per_mb: float = Field(ge=0)


class RatePlan(_Model):
    """What data costs: allowance per cycle, per SIM or pooled, and the overage limit."""

    name: Name
    allowance: ByteCount
    """Per SIM and billing cycle; for a pooled plan each SIM adds this much to the pool."""
    pooled: bool = False
    overage_limit: ByteCount | None = None
    """Data beyond the allowance before data is blocked; None = never blocked."""
    monthly_fee: float = Field(default=0.0, ge=0)
    zones: list[Zone] = Field(default_factory=list)


class Tunnel(_Model):
    """The customer's IPsec tunnel behind a private APN."""

    name: Name
    peer: IPv4Address
    """The customer's VPN gateway."""
    subnets: list[IPv4Network] = Field(min_length=1)
    """The customer's networks reached through the tunnel."""
    ike_version: Literal[1, 2] = 2


class SimRange(_Model):
    """A block of consecutive SIMs delivered to one account on one pair of plans."""

    first_iccid: Iccid
    count: int = Field(ge=1, le=100_000_000)
    account: Name
    communication_plan: Name
    rate_plan: Name
    first_imsi: Imsi
    first_msisdn: Msisdn | None = None
    state: SimState = SimState.TEST_READY
    imei_lock: bool = False

    @field_validator("state", mode="before")
    @classmethod
    def _state_by_name(cls, value: object) -> object:
        return SimState.parse(value) if isinstance(value, str) else value

    @field_validator("state")
    @classmethod
    def _deliverable(cls, value: SimState) -> SimState:
        if value not in _DELIVERABLE:
            names = ", ".join(s.name for s in _DELIVERABLE)
            raise ValueError(f"SIMs are delivered in one of {names}, not {value.name}")
        return value


_DELIVERABLE = (
    SimState.TEST_READY,
    SimState.INVENTORY,
    SimState.ACTIVATION_READY,
    SimState.ACTIVATED,
)


class Trigger(enum.StrEnum):
    """Events an automation rule reacts to."""

    USAGE_THRESHOLD = "usage_threshold"
    DATA_LIMIT_REACHED = "data_limit_reached"
    NO_CONNECTION = "no_connection"
    IMEI_CHANGED = "imei_changed"
    TOO_MANY_SESSIONS = "too_many_sessions"


class ChangeState(_Model):
    """Action: move the SIM to another lifecycle state."""

    change_state: SimState

    @field_validator("change_state", mode="before")
    @classmethod
    def _state_by_name(cls, value: object) -> object:
        return SimState.parse(value) if isinstance(value, str) else value


class ChangeRatePlan(_Model):
    """Action: put the SIM on another rate plan."""

    change_rate_plan: Name


class Notify(_Model):
    """Action: send a notification to the account."""

    notify: str = Field(min_length=1)


_TRIGGER_PARAMETER = {
    Trigger.USAGE_THRESHOLD: "percent",
    Trigger.NO_CONNECTION: "hours",
    Trigger.TOO_MANY_SESSIONS: "sessions",
}


class AutomationRule(_Model):
    """Trigger → condition → action, as the platform's rules engine runs them."""

    name: Name
    trigger: Trigger
    percent: float | None = Field(default=None, gt=0, le=1000)
    """usage_threshold: share of the allowance that fires the rule."""
    hours: float | None = Field(default=None, gt=0)
    """no_connection: hours without a connection that fire the rule."""
    sessions: int | None = Field(default=None, ge=1)
    """too_many_sessions: sessions in 24 h that fire the rule."""
    states: list[SimState] | None = None
    """Condition: the rule applies only to SIMs in these states (None = any)."""
    accounts: list[Name] | None = None
    """Condition: the rule applies only to SIMs of these accounts or their sub-accounts."""
    action: ChangeState | ChangeRatePlan | Notify

    @field_validator("states", mode="before")
    @classmethod
    def _states_by_name(cls, value: object) -> object:
        if isinstance(value, list):
            return [SimState.parse(v) if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _parameter(self) -> AutomationRule:
        needed = _TRIGGER_PARAMETER.get(self.trigger)
        for param in _TRIGGER_PARAMETER.values():
            given = getattr(self, param) is not None
            if param == needed and not given:
                raise ValueError(f"trigger {self.trigger.value} needs {param}")
            if param != needed and given:
                raise ValueError(f"{param} does not apply to trigger {self.trigger.value}")
        return self


class CustomerFile(_Model):
    """The whole customer definition, as written in an onboarding YAML file."""

    customer: str = Field(min_length=1)
    accounts: list[Account] = Field(min_length=1)
    communication_plans: list[CommunicationPlan] = Field(min_length=1)
    rate_plans: list[RatePlan] = Field(min_length=1)
    tunnels: list[Tunnel] = Field(default_factory=list)
    sim_ranges: list[SimRange] = Field(default_factory=list)
    automation_rules: list[AutomationRule] = Field(default_factory=list)


def cross_check(spec: CustomerFile) -> list[tuple[Loc, str]]:
    """Every problem that spans more than one field, with the path of the field it concerns."""
    return [
        *_duplicates(spec),
        *_account_tree(spec),
        *_references(spec),
        *_range_overlaps(spec),
    ]


def _duplicates(spec: CustomerFile) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    groups: list[tuple[str, list[str]]] = [
        ("accounts", [a.id for a in spec.accounts]),
        ("communication_plans", [p.name for p in spec.communication_plans]),
        ("rate_plans", [p.name for p in spec.rate_plans]),
        ("tunnels", [t.name for t in spec.tunnels]),
        ("automation_rules", [r.name for r in spec.automation_rules]),
    ]
    for section, names in groups:
        seen: dict[str, int] = {}
        key = "id" if section == "accounts" else "name"
        for i, name in enumerate(names):
            if name in seen:
                problems.append(
                    ((section, i, key), f"{name!r} is already defined at entry {seen[name]}")
                )
            else:
                seen[name] = i
    return problems


def _account_tree(spec: CustomerFile) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    by_id = {a.id: a for a in spec.accounts}
    roots = [i for i, a in enumerate(spec.accounts) if a.parent is None]
    if len(roots) != 1:
        problems.append(
            (("accounts",), f"needs exactly one top account without a parent, found {len(roots)}")
        )
    for i, account in enumerate(spec.accounts):
        if account.parent is None:
            if account.kind is not AccountKind.ENTERPRISE:
                problems.append(
                    ((("accounts", i, "kind")), "the top account must be an enterprise")
                )
            continue
        parent = by_id.get(account.parent)
        if parent is None:
            problems.append((("accounts", i, "parent"), _unknown("account", account.parent, by_id)))
        elif _LEVEL[account.kind] <= _LEVEL[parent.kind]:
            problems.append(
                (
                    ("accounts", i, "kind"),
                    f"a {account.kind.value} cannot sit under a {parent.kind.value}",
                ),
            )
    return problems


def _unknown(kind: str, name: str, known: Mapping[str, object]) -> str:
    names = ", ".join(sorted(known)) or "none"
    return f"unknown {kind} {name!r} (defined: {names})"


def _references(spec: CustomerFile) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    accounts = {a.id: a for a in spec.accounts}
    comm = {p.name: p for p in spec.communication_plans}
    rate = {p.name: p for p in spec.rate_plans}
    tunnels = {t.name: t for t in spec.tunnels}
    for i, plan in enumerate(spec.communication_plans):
        for j, apn in enumerate(plan.apns):
            if apn.tunnel is not None and apn.tunnel not in tunnels:
                loc: Loc = ("communication_plans", i, "apns", j, "tunnel")
                problems.append((loc, _unknown("tunnel", apn.tunnel, tunnels)))
    for i, sims in enumerate(spec.sim_ranges):
        for field, name, known, kind in (
            ("account", sims.account, accounts, "account"),
            ("communication_plan", sims.communication_plan, comm, "communication plan"),
            ("rate_plan", sims.rate_plan, rate, "rate plan"),
        ):
            if name not in known:
                problems.append((("sim_ranges", i, field), _unknown(kind, name, known)))
    problems.extend(_rule_references(spec, accounts, rate))
    return problems


def _rule_references(
    spec: CustomerFile,
    accounts: Mapping[str, Account],
    rate: Mapping[str, RatePlan],
) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for i, rule in enumerate(spec.automation_rules):
        for j, account in enumerate(rule.accounts or []):
            if account not in accounts:
                problems.append(
                    (("automation_rules", i, "accounts", j), _unknown("account", account, accounts))
                )
        if isinstance(rule.action, ChangeRatePlan) and rule.action.change_rate_plan not in rate:
            loc = ("automation_rules", i, "action", "change_rate_plan")
            problems.append((loc, _unknown("rate plan", rule.action.change_rate_plan, rate)))
    return problems


def _range_overlaps(spec: CustomerFile) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for field, span_of in (
        ("first_iccid", _iccid_span),
        ("first_imsi", _imsi_span),
        ("first_msisdn", _msisdn_span),
    ):
        spans: list[tuple[int, int, int]] = []
        for i, sims in enumerate(spec.sim_ranges):
            try:
                span = span_of(sims)
            except InvalidIdentifierError as exc:
                problems.append((("sim_ranges", i, field), exc.reason))
                continue
            if span is not None:
                spans.append((*span, i))
        problems.extend(_overlapping(spans, field))
    return problems


def _iccid_span(sims: SimRange) -> tuple[int, int]:
    return sims.first_iccid.body_int, iccid_range_last(sims.first_iccid, sims.count).body_int


def _imsi_span(sims: SimRange) -> tuple[int, int]:
    last = imsi_range_last(sims.first_imsi, sims.count)
    return int(str(sims.first_imsi)), int(str(last))


def _msisdn_span(sims: SimRange) -> tuple[int, int] | None:
    if sims.first_msisdn is None:
        return None
    last = msisdn_range_last(sims.first_msisdn, sims.count)
    return int(sims.first_msisdn.digits), int(last.digits)


def _overlapping(spans: list[tuple[int, int, int]], field: str) -> list[tuple[Loc, str]]:
    """Ranges (first, last, entry) sharing a number with an earlier one, reported on the later."""
    problems: list[tuple[Loc, str]] = []
    reach, reach_entry = -1, -1
    for start, end, entry in sorted(spans):
        if start <= reach:
            first, second = sorted((reach_entry, entry))
            what = field.removeprefix("first_").upper()
            problems.append(
                (
                    ("sim_ranges", second, field),
                    f"{what} range overlaps the one of sim_ranges[{first}]",
                ),
            )
        if end > reach:
            reach, reach_entry = end, entry
    return problems
