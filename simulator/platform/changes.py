"""One audited change to one SIM: the column written and its audit entry, always together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from simulator.platform.audit import AuditField

if TYPE_CHECKING:
    from simulator.platform.audit import AuditLog
    from simulator.platform.lifecycle import Actor
    from simulator.platform.sims import SimTable

__all__ = ["COLUMNS", "Changes"]

COLUMNS: Final = {
    AuditField.STATE: "state",
    AuditField.RATE_PLAN: "rate_plan",
    AuditField.COMMUNICATION_PLAN: "comm_plan",
    AuditField.DATA_BLOCKED: "data_blocked",
    AuditField.IMEI: "imei",
    AuditField.IMEI_LOCK: "locked_imei",
}
"""The SIM table's column each audited field is kept in."""


class Changes:
    """Writes a SIM's column and records the change in the audit log, old value to new."""

    def __init__(self, sims: SimTable, audit: AuditLog) -> None:
        self.sims = sims
        self.audit = audit

    def write(
        self, row: int, field: AuditField, new: int, *, actor: Actor, reason: str, now: float
    ) -> int:
        """Set the column `field` names to `new` for the SIM in `row`; return the old value."""
        column = self.sims[COLUMNS[field]]
        old = int(column[row])
        column[row] = new
        self.audit.record(
            time=now, actor=actor, field=field, rows=row, old=old, new=new, reason=reason
        )
        return old
