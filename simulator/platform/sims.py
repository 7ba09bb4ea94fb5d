"""Bulk SIM state as numpy columns, found by ICCID through the ranges they were onboarded in.

A SIM is a row index. SIMs arrive in ranges of consecutive ICCIDs, so the
ICCID of row i is its range's first ICCID plus the offset, and the row of an
ICCID is found by a binary search over range starts: no per-SIM dictionary.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from protocol.identifiers import Iccid
from protocol.sim_state import SimState
from simulator.errors import OnboardingConflictError, UnknownSimError
from simulator.platform.columns import Columns

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt

__all__ = ["NO_IMEI", "SimBlock", "SimTable"]

NO_IMEI: Final = 0
"""IMEI column value meaning "none seen" / "not locked"."""

SCHEMA: Final = {
    "iccid": (np.uint64, 0),  # ICCID body (without check digit)
    "imsi": (np.uint64, 0),
    "msisdn": (np.uint64, 0),  # E.164 digits, 0 = none
    "state": (np.uint8, 0),
    "account": (np.uint32, 0),  # index into the platform's account list
    "comm_plan": (np.uint16, 0),
    "rate_plan": (np.uint16, 0),
    "imei_lock": (np.bool_, False),  # lock to the first IMEI seen
    "locked_imei": (np.uint64, NO_IMEI),
    "imei": (np.uint64, NO_IMEI),  # last IMEI seen
    "usage": (np.uint64, 0),  # bytes this billing cycle
    "test_usage": (np.uint32, 0),  # bytes of the test quota used
    "data_blocked": (np.bool_, False),
    "last_connection": (np.float64, np.nan),  # sim seconds, NaN = never
    "state_since": (np.float64, 0.0),
    "session_window": (np.float64, np.nan),  # start of the 24 h session-count window
    "sessions": (np.uint16, 0),
    "latched": (np.uint64, 0),  # bit r: automation rule r fired, not yet re-armed
}


ROW_CACHE: Final = 200_000
"""At most this many ICCID texts keep their row at hand (about 20 MB)."""


@dataclass(frozen=True, slots=True)
class SimBlock:
    """Consecutive rows holding consecutive ICCIDs."""

    first_body: int
    start: int
    count: int


class SimTable:
    """Every SIM of a platform, one row each."""

    def __init__(self) -> None:
        self.columns = Columns(SCHEMA)
        self._blocks: list[SimBlock] = []
        self._starts: list[int] = []
        self._rows: dict[str, int] = {}
        """Rows of ICCIDs looked up as text (the simulated fleet), so each is validated once."""

    def __len__(self) -> int:
        return len(self.columns)

    def __getitem__(self, column: str) -> np.ndarray[Any, Any]:
        return self.columns[column]

    @property
    def blocks(self) -> list[SimBlock]:
        """The ranges of ICCIDs held, sorted by first ICCID."""
        return list(self._blocks)

    def clash(self, first: Iccid, count: int) -> Iccid | None:
        """The first ICCID of [first, first+count) already held, or None."""
        body = first.body_int
        i = bisect.bisect_right(self._starts, body + count - 1) - 1
        if i < 0:
            return None
        block = self._blocks[i]
        if block.first_body + block.count <= body:
            return None
        return Iccid.from_body_int(max(body, block.first_body))

    def add_range(self, first: Iccid, count: int, values: Mapping[str, Any]) -> slice:
        """Append `count` SIMs with consecutive ICCIDs from `first`; returns their rows.

        Raises:
            OnboardingConflictError: when any of the ICCIDs is already held.
        """
        held = self.clash(first, count)
        if held is not None:
            raise OnboardingConflictError(f"ICCID {held} is already on this platform")
        rows = self.columns.append(
            count,
            {"iccid": np.arange(first.body_int, first.body_int + count, dtype=np.uint64), **values},
        )
        block = SimBlock(first.body_int, rows.start, count)
        at = bisect.bisect_left(self._starts, block.first_body)
        self._blocks.insert(at, block)
        self._starts.insert(at, block.first_body)
        return rows

    def row(self, iccid: Iccid | str) -> int:
        """The row of a SIM; raises UnknownSimError when the platform does not hold it."""
        if isinstance(iccid, str):
            cached = self._rows.get(iccid)
            if cached is not None:
                return cached
            row = self.row(Iccid(iccid))
            if len(self._rows) < ROW_CACHE:
                self._rows[iccid] = row
            return row
        body = iccid.body_int
        i = bisect.bisect_right(self._starts, body) - 1
        if i >= 0:
            block = self._blocks[i]
            if body < block.first_body + block.count:
                return block.start + body - block.first_body
        raise UnknownSimError(str(iccid))

    def range_rows(self, first: Iccid, count: int) -> npt.NDArray[np.int64]:
        """The rows of the `count` consecutive ICCIDs from `first`, each held or UnknownSimError."""
        bodies = first.body_int + np.arange(count, dtype=np.int64)
        starts = np.array(self._starts, dtype=np.int64)
        block = np.searchsorted(starts, bodies, side="right") - 1
        table = np.array([(b.first_body, b.start, b.count) for b in self._blocks] or [(0, 0, 0)])
        within = block >= 0
        at = table[np.maximum(block, 0)]
        within &= bodies < at[:, 0] + at[:, 2]
        if not within.all():
            missing = int(np.flatnonzero(~within)[0])
            raise UnknownSimError(str(Iccid.from_body_int(int(bodies[missing]))))
        rows: npt.NDArray[np.int64] = at[:, 1] + bodies - at[:, 0]
        return rows

    def iccid(self, row: int) -> Iccid:
        """The ICCID of a row."""
        return Iccid.from_body_int(int(self.columns["iccid"][row]))

    def state(self, row: int) -> SimState:
        """The lifecycle state of a row."""
        return SimState(int(self.columns["state"][row]))
