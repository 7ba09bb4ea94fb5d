"""Checks across a whole customer definition: unique names, the account tree, references, overlaps.

`cross_check` returns every problem that spans more than one field, each with
the path of the field it concerns, so a file is reported whole, not first
problem only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.identifiers import (
    InvalidIdentifierError,
    iccid_range_last,
    imsi_range_last,
    msisdn_range_last,
)
from simulator.platform.customer.accounts import AccountKind
from simulator.platform.customer.rules import ChangeRatePlan

if TYPE_CHECKING:
    from collections.abc import Mapping

    from simulator.platform.customer.accounts import Account
    from simulator.platform.customer.base import Loc
    from simulator.platform.customer.definition import CustomerFile
    from simulator.platform.customer.plans import RatePlan
    from simulator.platform.customer.sim_ranges import SimRange

__all__ = ["cross_check"]

_LEVEL = {
    AccountKind.ENTERPRISE: 0,
    AccountKind.CUSTOMER: 1,
    AccountKind.BUSINESS_UNIT: 1,
    AccountKind.END_CONSUMER: 2,
}
"""How deep in the account tree each kind sits: a kind sits only under a shallower one."""


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
