"""The world's output: everything it hands to the sink, stamped and filed under its account.

Three sources feed it: the devices' own messages (which the radio or the broker may
lose), the network's events for each SIM, and the platform's inventory records and
audit trail, which become events here. What an audit entry changes in the world (a
SIM losing service, a data block) is not this module's business: the world is told
through `react`, between the event and the record that follows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from protocol.messages import (
    AuditRecorded,
    Clock,
    DataBlocked,
    ImeiChanged,
    SimRecord,
    StateChanged,
)
from protocol.sim_state import SimState
from simulator.platform.audit import NONE, AuditEntry, AuditField
from simulator.world import keyed
from simulator.world.batch import Batch, BatchSink
from simulator.world.records import records

if TYPE_CHECKING:
    from collections.abc import Callable

    import simpy
    from pydantic import BaseModel

    from simulator.platform.platform import Platform
    from simulator.world.shard import Shard
    from simulator.world.sinks import Sink

__all__ = ["CustomerFields", "Output"]

CustomerFields = tuple[str, str | None, str]
"""What the customer wrote about the device holding a SIM: its name, site and time zone."""


class Output:
    """The world's side of the sink: message counts, stamps, accounts, records and audit events."""

    def __init__(
        self,
        *,
        env: simpy.Environment,
        platform: Platform,
        sink: Sink,
        start_ts: float,
        message_loss: float,
        react: Callable[[AuditEntry, str], None],
        shard: Shard | None = None,
    ) -> None:
        self.env = env
        self.platform = platform
        self.sink = sink
        self.start_ts = start_ts
        self.message_loss = message_loss
        self.react = react
        """Called with each audit entry and SIM after its event, before its record."""
        self.messages = 0
        self.lost = 0
        self.customer_fields: dict[str, CustomerFields] = {}
        """The customer's fields of every simulated SIM, by ICCID (the SIMs the world publishes)."""
        self.customer_rows: list[int] = []
        """Those SIMs' platform rows, in the same order."""
        self.shard = shard
        self.owned_rows = None if shard is None else np.zeros(len(platform.sims), dtype=bool)
        """A shard's: which SIMs (by platform row) it sends the messages of."""
        self.foreign_devices: set[str] = set()
        """A shard's: the devices whose messages another shard sends."""
        self._audit_seen = len(platform.audit)
        self._sim_accounts: dict[str, str] = {}

    # ---- messages -----------------------------------------------------------------------------

    def ts(self, now: float) -> float:
        """Simulated seconds → Unix seconds on the message, to the millisecond."""
        return round(self.start_ts + now, 3)

    def emit(self, message: BaseModel, account: str | None = None) -> None:
        """Send a message that always arrives (the platform's own), under its account."""
        if self.shard is not None and not self._mine(message):
            return
        if account is None and not isinstance(message, Clock):
            account = self.sim_account(message.iccid)  # type: ignore[attr-defined]
        self.messages += 1
        self.sink.write(message, account)

    def _mine(self, message: BaseModel) -> bool:
        """Whether this shard sends the message: its device's, else its SIM's, or the clock."""
        device = getattr(message, "device_id", None)
        if device is not None:
            return device not in self.foreign_devices
        iccid = getattr(message, "iccid", None)
        if iccid is None or self.owned_rows is None:
            return True
        return bool(self.owned_rows[self.platform.row(iccid)])

    def emit_device(self, key: int, counter: int, account: str, message: BaseModel) -> None:
        """Send a device's message, which the radio or the broker may lose.

        Whether it is lost is drawn keyed by the device's key and the message's counter.
        """
        if self.shard is not None and not self._mine(message):
            return
        if self.message_loss and keyed.uniform(key, keyed.Draw.LOSS, counter) < self.message_loss:
            self.lost += 1
            return
        self.emit(message, account)

    def emit_batch(self, batch: Batch) -> None:
        """Send a cohort's window of messages (`bulk`): as columns to a sink that takes them."""
        self.messages += len(batch)
        if isinstance(self.sink, BatchSink):
            self.sink.write_batch(batch)
            return
        for message, account in batch.messages():
            self.sink.write(message, account)

    def sim_account(self, iccid: str) -> str:
        """The id of the account a SIM belongs to (topics are grouped by account)."""
        account = self._sim_accounts.get(iccid)
        if account is None:
            row = self.platform.row(iccid)
            account = self.platform.accounts[int(self.platform.sims["account"][row])].id
            self._sim_accounts[iccid] = account
        return account

    def seen_imei(self, iccid: str) -> str | None:
        """The IMEI the platform last saw the SIM in, if any."""
        value = int(self.platform.sims["imei"][self.platform.row(iccid)])
        return f"{value:015d}" if value else None

    # ---- inventory records --------------------------------------------------------------------

    def publish_records(self) -> None:
        """Every simulated SIM's inventory record, as the platform publishes them at start."""
        if self.customer_fields:
            rows = np.array(self.customer_rows, dtype=np.intp)
            iccids = list(self.customer_fields)
            batch = Batch([records(self, iccids, self.env.now, rows=rows)])
            if self.owned_rows is not None:  # a shard's own SIMs
                batch = batch.mine(self.owned_rows[rows])
            self.emit_batch(batch)

    def record(self, iccid: str, at: float | None = None) -> SimRecord:
        """A SIM's inventory record now (or as of `at`, in simulated seconds)."""
        message, _ = records(self, [iccid], self.env.now if at is None else at).message(0)
        assert isinstance(message, SimRecord)
        return message

    # ---- the platform's audit trail becomes network events ------------------------------------

    def flush_platform(self, at: float | None = None, upto: int | None = None) -> None:
        """Publish the platform's new audit entries, and let the world act on what they change.

        Records follow as of now, or as of `at` (a bulk cohort's use, made ahead of the clock).
        `upto`: only the entries before this one.
        """
        audit = self.platform.audit
        while self._audit_seen < (len(audit) if upto is None else upto):
            entry = audit.entry(self._audit_seen)
            self._audit_seen += 1
            for row in range(entry.first, entry.first + entry.count):
                iccid = str(self.platform.sims.iccid(row))
                if iccid in self.customer_fields:
                    self.emit(self._event(entry, iccid))
                    self.react(entry, iccid)
                    if entry.old != NONE:
                        self.emit(self.record(iccid, at))

    @property
    def audit_seen(self) -> int:
        """How many of the platform's audit entries have been published."""
        return self._audit_seen

    def published(self, upto: int) -> None:
        """Take the audit entries before `upto` as published (a cohort sent them as columns)."""
        self._audit_seen = max(self._audit_seen, upto)

    def _event(self, entry: AuditEntry, iccid: str) -> BaseModel:
        t = self.ts(entry.time)
        imei = self.seen_imei(iccid)
        if entry.field is AuditField.STATE and entry.old != NONE:
            return StateChanged(
                t=t,
                iccid=iccid,
                imei=imei,
                old=SimState(entry.old).name,
                new=SimState(entry.new).name,
                actor=entry.actor.name.lower(),
                reason=entry.reason,
            )
        if entry.field is AuditField.DATA_BLOCKED:
            return self._data_blocked(entry, iccid, imei)
        if entry.field is AuditField.IMEI:
            return ImeiChanged(
                t=t, iccid=iccid, imei=f"{entry.new:015d}", old_imei=f"{entry.old:015d}"
            )
        return AuditRecorded(
            t=t,
            iccid=iccid,
            imei=imei,
            field=entry.field.name.lower(),
            old=self._audit_value(entry.field, entry.old),
            new=self._audit_value(entry.field, entry.new),
            actor=entry.actor.name.lower(),
            reason=entry.reason,
        )

    def _data_blocked(self, entry: AuditEntry, iccid: str, imei: str | None) -> DataBlocked:
        """A block names the limit, the pool that is used up and when it lifts by itself."""
        t = self.ts(entry.time)
        if not entry.new:
            return DataBlocked(t=t, iccid=iccid, imei=imei, blocked=False, reason=entry.reason)
        standing = self.platform.standing(iccid)
        pool = self.platform.pool(iccid)
        return DataBlocked(
            t=t,
            iccid=iccid,
            imei=imei,
            blocked=True,
            reason=entry.reason,
            limit=standing.limit,
            pool=pool,
            pool_sims=standing.sims if pool is not None else None,
            until=self.ts(standing.cycle_end),
        )

    def _audit_value(self, field: AuditField, value: int) -> str:
        if value == NONE:
            return ""
        if field is AuditField.RATE_PLAN:
            return self.platform.rate_plans[value].name
        if field is AuditField.COMMUNICATION_PLAN:
            return self.platform.comm_plans[value].name
        return f"{value:015d}" if value else ""
