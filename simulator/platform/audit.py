"""The audit trail: who changed what on which SIMs, when, from what to what, and why.

Entries are rows of numpy columns (about 40 bytes each); one entry may cover a
range of consecutive SIM rows, which is how a bulk operation on a million SIMs
costs one entry. Reasons are interned, since rules repeat the same sentence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from simulator.platform.columns import Columns
from simulator.platform.lifecycle import Actor

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["NONE", "AuditEntry", "AuditField", "AuditLog"]

NONE: Final = -1
"""Old value of something that did not exist before (a SIM just onboarded)."""


class AuditField(enum.IntEnum):
    """What an audit entry changed."""

    STATE = 0
    RATE_PLAN = 1
    COMMUNICATION_PLAN = 2
    DATA_BLOCKED = 3
    IMEI = 4
    IMEI_LOCK = 5


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change: rows [first, first + count) had `field` changed from `old` to `new`."""

    seq: int
    time: float
    actor: Actor
    field: AuditField
    first: int
    count: int
    old: int
    new: int
    reason: str


class AuditLog:
    """Append-only audit trail in columns."""

    def __init__(self) -> None:
        self._cols = Columns(
            {
                "time": (np.float64, 0.0),
                "actor": (np.uint8, 0),
                "field": (np.uint8, 0),
                "first": (np.uint32, 0),
                "count": (np.uint32, 0),
                "old": (np.int64, NONE),
                "new": (np.int64, NONE),
                "reason": (np.uint32, 0),
            },
            capacity=256,
        )
        self._reasons: list[str] = []
        self._reason_ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._cols)

    @property
    def nbytes(self) -> int:
        """Bytes reserved by the entry columns."""
        return self._cols.nbytes

    def record(
        self,
        *,
        time: float,
        actor: Actor,
        field: AuditField,
        rows: slice | int,
        old: int,
        new: int,
        reason: str,
    ) -> None:
        """Write one entry covering a row or a slice of consecutive rows."""
        first, count = (rows, 1) if isinstance(rows, int) else (rows.start, rows.stop - rows.start)
        reason_id = self._reason_ids.setdefault(reason, len(self._reasons))
        if reason_id == len(self._reasons):
            self._reasons.append(reason)
        self._cols.append(
            1,
            {
                "time": time,
                "actor": int(actor),
                "field": int(field),
                "first": first,
                "count": count,
                "old": old,
                "new": new,
                "reason": reason_id,
            },
        )

    def entry(self, seq: int) -> AuditEntry:
        """Entry number `seq` (0 is the oldest)."""
        c = self._cols
        return AuditEntry(
            seq=seq,
            time=float(c["time"][seq]),
            actor=Actor(int(c["actor"][seq])),
            field=AuditField(int(c["field"][seq])),
            first=int(c["first"][seq]),
            count=int(c["count"][seq]),
            old=int(c["old"][seq]),
            new=int(c["new"][seq]),
            reason=self._reasons[int(c["reason"][seq])],
        )

    def __iter__(self) -> Iterator[AuditEntry]:
        return (self.entry(i) for i in range(len(self)))

    def for_row(self, row: int) -> list[AuditEntry]:
        """Every entry that covers `row`, oldest first."""
        first = self._cols["first"]
        hits = np.flatnonzero((first <= row) & (row < first + self._cols["count"]))
        return [self.entry(int(i)) for i in hits]
