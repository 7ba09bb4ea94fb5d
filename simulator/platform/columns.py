"""A growable set of equal-length numpy columns: the storage under SIMs and the audit trail.

One Python object per SIM costs ~300 bytes; a handful of numpy columns cost
tens. Columns grow by doubling, so appending a range of a million rows is a few
vectorised copies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import DTypeLike, NDArray

__all__ = ["Columns"]


class Columns:
    """Named numpy columns of one length, with amortised O(1) appends.

    Args:
        schema: column name → (dtype, fill value for new rows).
        capacity: rows to reserve up front.
    """

    def __init__(self, schema: Mapping[str, tuple[DTypeLike, Any]], capacity: int = 1024) -> None:
        self._fill = {name: fill for name, (_, fill) in schema.items()}
        self._data: dict[str, NDArray[Any]] = {
            name: np.full(capacity, fill, dtype=dtype) for name, (dtype, fill) in schema.items()
        }
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, name: str) -> NDArray[Any]:
        """The live rows of column `name` (a view: writing to it changes the column)."""
        return self._data[name][: self._len]

    @property
    def nbytes(self) -> int:
        """Bytes reserved by all columns (capacity, not just the live rows)."""
        return sum(a.nbytes for a in self._data.values())

    def reserve(self, capacity: int) -> None:
        """Make room for `capacity` rows in all, without changing the length."""
        current = next(iter(self._data.values())).shape[0]
        if capacity <= current:
            return
        for name, old in self._data.items():
            new = np.full(capacity, self._fill[name], dtype=old.dtype)
            new[: self._len] = old[: self._len]
            self._data[name] = new

    def append(self, count: int, values: Mapping[str, Any]) -> slice:
        """Append `count` rows; `values` gives a scalar or an array per column, others get the fill.

        Returns:
            The slice of the new rows.
        """
        start = self._len
        needed = start + count
        current = next(iter(self._data.values())).shape[0]
        if needed > current:
            self.reserve(max(needed, 2 * current))
        for name, value in values.items():
            self._data[name][start:needed] = value
        self._len = needed
        return slice(start, needed)
