"""The connectivity platform: it holds customers' SIMs and decides what each may do.

Every change to a SIM goes through this class, is checked against the
lifecycle table, and leaves exactly one audit entry (a bulk operation leaves
one entry for its whole range). Times are simulated seconds since `start`.
Data counted against rate plans and the billing cycle are in
`simulator.platform.billing`; automation rules at run time in
`simulator.platform.rule_runner`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import numpy as np

from protocol.identifiers import Iccid, Imei, iccid_range_last
from protocol.sim_state import SimState
from simulator.errors import OnboardingConflictError, SimulatorError, TransitionRefusedError
from simulator.platform.audit import NONE, AuditField, AuditLog
from simulator.platform.automation import MAX_RULES, RuleBook
from simulator.platform.billing import Billing, Standing, pool_name
from simulator.platform.changes import Changes
from simulator.platform.customer import (
    Account,
    AccountSettings,
    CommunicationPlan,
    CustomerFile,
    RatePlan,
    Trigger,
    Tunnel,
)
from simulator.platform.lifecycle import SERVICE_STATES, Actor, refusal
from simulator.platform.rule_runner import DAY, RuleRunner
from simulator.platform.sims import NO_IMEI, SimTable
from simulator.platform.summary import OnboardingSummary, RangeSummary
from simulator.platform.units import format_bytes

if TYPE_CHECKING:
    from simulator.platform.rule_runner import Notification

__all__ = ["DEFAULT_START", "Platform"]

DEFAULT_START: Final = datetime(2026, 1, 1, tzinfo=UTC)


class Platform:
    """A connectivity platform holding any number of customers."""

    def __init__(self, *, start: datetime = DEFAULT_START, sweep_interval: float = 60.0) -> None:
        self.start = start
        self.sweep_interval = sweep_interval
        """Time-driven rules (trial end, no connection) are checked this often, in sim seconds."""
        self.accounts: list[Account] = []
        self.settings: list[AccountSettings] = []
        self.comm_plans: list[CommunicationPlan] = []
        self.rate_plans: list[RatePlan] = []
        self.tunnels: dict[str, Tunnel] = {}
        self.rules = RuleBook()
        self.sims = SimTable()
        self.audit = AuditLog()
        self._changes = Changes(self.sims, self.audit)
        self._runner = RuleRunner(self.rules, self.sims, self)
        self._billing = Billing(
            start=start, rate_plans=self.rate_plans, changes=self._changes, runner=self._runner
        )
        self._account_row: dict[str, int] = {}
        self._comm_row: dict[str, int] = {}
        self._rate_row: dict[str, int] = {}
        self._in_trial: set[int] = set()
        self._imsi_spans: list[tuple[int, int]] = []
        self._next_sweep = 0.0

    @property
    def columns(self) -> tuple[Billing, RuleRunner]:
        """The billing cycle and the rule runner, for the bulk engine's column updates."""
        return self._billing, self._runner

    @property
    def notifications(self) -> list[Notification]:
        """The messages automation rules sent to the accounts, oldest first."""
        return self._runner.notifications

    # ---- onboarding -------------------------------------------------------------------------

    def onboard(
        self, spec: CustomerFile, *, now: float = 0.0, actor: Actor = Actor.OPERATOR
    ) -> OnboardingSummary:
        """Create everything `spec` defines, or nothing if any of it clashes with what is here.

        Raises:
            OnboardingConflictError: a name or an ICCID is already on the platform.
        """
        self._check_conflicts(spec)
        for account in spec.accounts:
            self._add_account(account)
        for plan in spec.communication_plans:
            self._comm_row[plan.name] = len(self.comm_plans)
            self.comm_plans.append(plan)
        for rate in spec.rate_plans:
            self._rate_row[rate.name] = len(self.rate_plans)
            self.rate_plans.append(rate)
        self.tunnels.update((t.name, t) for t in spec.tunnels)
        for rule in spec.automation_rules:
            self.rules.add(rule, None if rule.accounts is None else self._subtree(rule.accounts))
        summary = OnboardingSummary(
            customer=spec.customer,
            accounts=len(spec.accounts),
            communication_plans=len(spec.communication_plans),
            rate_plans=len(spec.rate_plans),
            tunnels=len(spec.tunnels),
            automation_rules=len(spec.automation_rules),
            sims=0,
        )
        self.sims.columns.reserve(len(self.sims) + sum(r.count for r in spec.sim_ranges))
        for sims in spec.sim_ranges:
            rows = self.sims.add_range(
                sims.first_iccid,
                sims.count,
                {
                    "imsi": np.arange(
                        int(str(sims.first_imsi)),
                        int(str(sims.first_imsi)) + sims.count,
                        dtype=np.uint64,
                    ),
                    "msisdn": 0
                    if sims.first_msisdn is None
                    else np.arange(
                        int(sims.first_msisdn.digits),
                        int(sims.first_msisdn.digits) + sims.count,
                        dtype=np.uint64,
                    ),
                    "state": int(sims.state),
                    "account": self._account_row[sims.account],
                    "comm_plan": self._comm_row[sims.communication_plan],
                    "rate_plan": self._rate_row[sims.rate_plan],
                    "imei_lock": sims.imei_lock,
                    "state_since": now,
                },
            )
            last = iccid_range_last(sims.first_iccid, sims.count)
            self.audit.record(
                time=now,
                actor=actor,
                field=AuditField.STATE,
                rows=rows,
                old=NONE,
                new=int(sims.state),
                reason=f"onboarded for {spec.customer}: ICCIDs {sims.first_iccid} to {last}",
            )
            first_imsi = int(str(sims.first_imsi))
            self._imsi_spans.append((first_imsi, first_imsi + sims.count - 1))
            self._billing.join_pool(
                self._account_row[sims.account], self._rate_row[sims.rate_plan], sims.count
            )
            summary.sims += sims.count
            summary.audit_entries += 1
            summary.ranges.append(
                RangeSummary(
                    str(sims.first_iccid), str(last), sims.count, sims.account, sims.state.name
                ),
            )
        return summary

    def _check_conflicts(self, spec: CustomerFile) -> None:
        for kind, names, known in (
            ("account", [a.id for a in spec.accounts], self._account_row),
            ("communication plan", [p.name for p in spec.communication_plans], self._comm_row),
            ("rate plan", [p.name for p in spec.rate_plans], self._rate_row),
            ("tunnel", [t.name for t in spec.tunnels], self.tunnels),
        ):
            taken = [n for n in names if n in known]
            if taken:
                raise OnboardingConflictError(f"{kind} {taken[0]!r} is already on this platform")
        for sims in spec.sim_ranges:
            held = self.sims.clash(sims.first_iccid, sims.count)
            if held is not None:
                raise OnboardingConflictError(f"ICCID {held} is already on this platform")
        for sims in spec.sim_ranges:
            first = int(str(sims.first_imsi))
            for start, end in self._imsi_spans:
                if first <= end and start <= first + sims.count - 1:
                    shared = max(first, start)
                    raise OnboardingConflictError(f"IMSI {shared:015d} is already on this platform")
        if len(self.rules.rules) + len(spec.automation_rules) > MAX_RULES:
            raise OnboardingConflictError(f"a platform holds at most {MAX_RULES} automation rules")

    def _add_account(self, account: Account) -> None:
        parent = None if account.parent is None else self._account_row[account.parent]
        inherited = AccountSettings() if parent is None else self.settings[parent]
        self._account_row[account.id] = len(self.accounts)
        self.accounts.append(account)
        self.settings.append(account.settings or inherited)

    def _subtree(self, ids: list[str]) -> set[int]:
        rows = {self._account_row[i] for i in ids}
        grew = True
        while grew:
            children = {
                row
                for row, a in enumerate(self.accounts)
                if a.parent is not None and self._account_row[a.parent] in rows
            }
            grew = not children <= rows
            rows |= children
        return rows

    # ---- reading ----------------------------------------------------------------------------

    def row(self, iccid: Iccid | str) -> int:
        """The SIM's row; raises UnknownSimError for an ICCID not held."""
        return self.sims.row(iccid)

    def state(self, iccid: Iccid | str) -> SimState:
        """The SIM's lifecycle state."""
        return self.sims.state(self.row(iccid))

    def data_blocked(self, iccid: Iccid | str) -> bool:
        """Whether the SIM's data is blocked by its rate plan's limit."""
        return bool(self.sims["data_blocked"][self.row(iccid)])

    def rate_plan(self, iccid: Iccid | str) -> RatePlan:
        """The SIM's rate plan."""
        return self.rate_plans[int(self.sims["rate_plan"][self.row(iccid)])]

    def usage(self, iccid: Iccid | str) -> int:
        """Bytes counted against the rate plan this cycle."""
        return int(self.sims["usage"][self.row(iccid)])

    def account(self, iccid: Iccid | str) -> str:
        """The id of the account the SIM belongs to."""
        return self.accounts[int(self.sims["account"][self.row(iccid)])].id

    def pool(self, iccid: Iccid | str) -> str | None:
        """The data pool the SIM shares (`account/rate plan`), for a pooled rate plan; else None."""
        row = self.row(iccid)
        plan = self.rate_plans[int(self.sims["rate_plan"][row])]
        if not plan.pooled:
            return None
        return pool_name(self.accounts[int(self.sims["account"][row])].id, plan.name)

    def standing(self, iccid: Iccid | str) -> Standing:
        """Where the SIM (or its pool) stands against its rate plan this cycle."""
        return self._billing.standing(self.row(iccid))

    def summary_by_state(self) -> dict[str, int]:
        """Number of SIMs per lifecycle state (states with none left out)."""
        counts = np.bincount(self.sims["state"], minlength=len(SimState))
        return {s.name: int(counts[s]) for s in SimState if counts[s]}

    # ---- changes ----------------------------------------------------------------------------

    def change_state(
        self,
        iccid: Iccid | str,
        target: SimState,
        *,
        actor: Actor,
        reason: str,
        now: float,
    ) -> None:
        """Move one SIM to `target`; a refused move raises TransitionRefusedError."""
        self.move(self.row(iccid), target, actor=actor, reason=reason, now=now)

    def change_rate_plan(
        self, iccid: Iccid | str, plan: str, *, actor: Actor, reason: str, now: float
    ) -> None:
        """Put one SIM on another rate plan."""
        self.set_rate_plan(self.row(iccid), plan, actor=actor, reason=reason, now=now)

    def change_communication_plan(
        self, iccid: Iccid | str, plan: str, *, actor: Actor, reason: str, now: float
    ) -> None:
        """Put one SIM on another communication plan (other networks, radio types, APNs)."""
        new = self._comm_row.get(plan)
        if new is None:
            raise SimulatorError(f"unknown communication plan {plan!r}")
        row = self.row(iccid)
        if int(self.sims["comm_plan"][row]) != new:
            field = AuditField.COMMUNICATION_PLAN
            self._changes.write(row, field, new, actor=actor, reason=reason, now=now)

    def override_data_limit(
        self, iccid: Iccid | str, *, actor: Actor, reason: str, now: float
    ) -> None:
        """Lift a SIM's data block for the rest of the billing cycle."""
        self.advance(now)
        self._billing.lift_block(self.row(iccid), actor=actor, reason=reason, now=now)

    def bytes_to_limit(self, iccid: Iccid | str) -> int | None:
        """Data the SIM (or its pool) may still use before it is blocked; None = never blocked."""
        return self._billing.bytes_to_limit(self.row(iccid))

    def test_quota_left(self, iccid: Iccid | str) -> int:
        """Bytes of free test data a TEST_READY SIM has left."""
        row = self.row(iccid)
        quota = self.settings[int(self.sims["account"][row])].test_quota
        return max(0, quota - int(self.sims["test_usage"][row]))

    def after_test(self, iccid: Iccid | str) -> SimState:
        """Where the SIM goes when its test quota is used (its account's setting)."""
        return self.settings[int(self.sims["account"][self.row(iccid)])].after_test

    def relock_imei(self, iccid: Iccid | str, *, actor: Actor, reason: str, now: float) -> None:
        """Release an IMEI lock's device so the lock takes the next device the SIM attaches from."""
        self._changes.write(
            self.row(iccid), AuditField.IMEI_LOCK, NO_IMEI, actor=actor, reason=reason, now=now
        )

    def open_session(self, iccid: Iccid | str, *, now: float) -> str | None:
        """The platform's answer to a data session request: None when allowed, else why not.

        A first session moves an ACTIVATION_READY SIM to ACTIVATED.
        """
        self.advance(now)
        row = self.row(iccid)
        state = self.sims.state(row)
        if state not in SERVICE_STATES:
            return f"the SIM is {state.name}"
        if self.sims["data_blocked"][row]:
            return "data is blocked: the rate plan's limit for this cycle is reached"
        if state is SimState.ACTIVATION_READY:
            self.move(
                row, SimState.ACTIVATED, actor=Actor.SYSTEM, reason="first data session", now=now
            )
        self._runner.connected(row, now)
        self._runner.count_session(row, now)
        return None

    def attach(self, iccid: Iccid | str, imei: Imei, *, now: float) -> str | None:
        """Answer an attach from a device with `imei`: None if allowed, else why not."""
        self.advance(now)
        row = self.row(iccid)
        state = self.sims.state(row)
        if state not in SERVICE_STATES:
            return f"the SIM is {state.name}"
        imei_value = int(imei.value)
        if self.sims["imei_lock"][row]:
            locked = int(self.sims["locked_imei"][row])
            if locked == NO_IMEI:
                self.sims["locked_imei"][row] = imei_value
            elif locked != imei_value:
                return f"the SIM is locked to IMEI {locked:015d}"
        previous = int(self.sims["imei"][row])
        if previous in (NO_IMEI, imei_value):
            self.sims["imei"][row] = imei_value
        else:
            reason = "the SIM attached from another device"
            self._changes.write(
                row, AuditField.IMEI, imei_value, actor=Actor.SYSTEM, reason=reason, now=now
            )
            detail = f"IMEI changed from {previous:015d} to {imei.value}"
            self._runner.fire(Trigger.IMEI_CHANGED, row, now, detail)
        self._runner.connected(row, now)
        return None

    def record_usage(self, iccid: Iccid | str, nbytes: int, *, now: float) -> None:
        """Count `nbytes` of data the SIM used; this drives test quota, trial, limits and rules."""
        if nbytes < 0:
            raise ValueError(f"usage must be a byte count ≥ 0, got {nbytes}")
        self.advance(now)
        row = self.row(iccid)
        state = self.sims.state(row)
        if state not in SERVICE_STATES or self.sims["data_blocked"][row]:
            raise SimulatorError(
                f"SIM {self.sims.iccid(row)} has no data service, so it cannot use data"
            )
        if state is SimState.TEST_READY:
            self._use_test_quota(row, nbytes, now)
            return
        self._billing.use(row, nbytes, now)
        if state is SimState.TRIAL:
            quota = self.settings[int(self.sims["account"][row])].trial_quota
            if quota is not None and int(self.sims["usage"][row]) >= quota:
                self._end_trial(row, now, f"trial quota of {format_bytes(quota)} used")

    def advance(self, now: float) -> None:
        """Let time pass to `now`: billing cycles roll over, trials end, silence rules fire."""
        self._billing.advance(now)
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_interval
            self._end_trials(now)
            self._runner.check_silence(now)

    # ---- changes by row (what automation rules do, too) ---------------------------------------

    def move(self, row: int, target: SimState, *, actor: Actor, reason: str, now: float) -> None:
        """Move the SIM in `row` to `target`; a refused move raises TransitionRefusedError."""
        source = self.sims.state(row)
        why = refusal(source, target, actor)
        if why is not None:
            raise TransitionRefusedError(str(self.sims.iccid(row)), source, target, why)
        if target is SimState.TRIAL:
            self._in_trial.add(row)
        else:
            self._in_trial.discard(row)
        self.sims["state_since"][row] = now
        self._changes.write(row, AuditField.STATE, int(target), actor=actor, reason=reason, now=now)

    def set_rate_plan(self, row: int, plan: str, *, actor: Actor, reason: str, now: float) -> None:
        """Put the SIM in `row` on the rate plan named `plan`."""
        new = self._rate_row.get(plan)
        if new is None:
            raise SimulatorError(f"unknown rate plan {plan!r}")
        old = int(self.sims["rate_plan"][row])
        if old == new:
            return
        account = int(self.sims["account"][row])
        self._billing.join_pool(account, old, -1)
        self._billing.join_pool(account, new)
        self._changes.write(row, AuditField.RATE_PLAN, new, actor=actor, reason=reason, now=now)

    # ---- internals --------------------------------------------------------------------------

    def _use_test_quota(self, row: int, nbytes: int, now: float) -> None:
        settings = self.settings[int(self.sims["account"][row])]
        used = min(int(self.sims["test_usage"][row]) + nbytes, settings.test_quota)
        self.sims["test_usage"][row] = used
        if used >= settings.test_quota:
            reason = f"test quota of {format_bytes(settings.test_quota)} used"
            self.move(row, settings.after_test, actor=Actor.SYSTEM, reason=reason, now=now)

    def _end_trial(self, row: int, now: float, reason: str) -> None:
        target = self.settings[int(self.sims["account"][row])].after_trial
        self.move(row, target, actor=Actor.SYSTEM, reason=reason, now=now)

    def _end_trials(self, now: float) -> None:
        for row in sorted(self._in_trial):
            days = self.settings[int(self.sims["account"][row])].trial_days
            if days is not None and now - float(self.sims["state_since"][row]) >= days * DAY:
                self._end_trial(int(row), now, f"trial of {days:g} days ended")
