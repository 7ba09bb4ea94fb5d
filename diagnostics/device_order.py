"""The fleet list's order: the detector's rows sorted by device id, kept as devices arrive.

A list page must not sort a million ids under the service's lock each time it is asked.
The detector's rows only grow (a device keeps its row for good), so the order is kept
between requests: `DeviceOrder.take` merges the devices added since its last call (a
reader copies them under the service's lock with `fresh`, a slice of `Detector.ids`) into
the sorted order, outside that lock, in one pass of C-level copies. A request then reads
its page's rows from `rows`, a sorted column of row numbers, with numpy.

Thread-safe: requests run in a thread pool; the merge holds the order's own lock, and
`take` hands back arrays that are never changed after (a merge makes new ones).
"""

from __future__ import annotations

import bisect
import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

__all__ = ["DeviceOrder"]


class DeviceOrder:
    """Row numbers sorted by their device ids, for ids that are only ever appended."""

    def __init__(self) -> None:
        self._keys: list[str] = []
        """The ids sorted (the detector's own strings: no copies)."""
        self._rows: NDArray[np.int64] = np.zeros(0, np.int64)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many devices the order holds."""
        return len(self._rows)

    def fresh(self, ids: Sequence[str]) -> tuple[int, list[str]]:
        """The ids not taken yet and the row of the first (call under the ids' owner's lock)."""
        known = len(self._rows)
        return known, list(ids[known:])

    def take(self, start: int, fresh: list[str]) -> NDArray[np.int64]:
        """Merge `fresh` (the rows from `start` on) into the order; the rows by id.

        A part another request merged meanwhile is skipped.
        """
        with self._lock:
            known = len(self._rows)
            fresh = fresh[max(known - start, 0) :]
            if not fresh:
                return self._rows
            first = max(known, start)
            added = sorted(range(len(fresh)), key=fresh.__getitem__)
            new_keys = [fresh[i] for i in added]
            keys = self._keys
            if not keys:  # the first call: the whole fleet at once
                self._keys, self._rows = new_keys, np.asarray(added, np.int64) + first
                return self._rows
            places = [bisect.bisect_left(keys, key) for key in new_keys]
            merged: list[str] = []
            before = 0
            for place, key in zip(places, new_keys, strict=True):
                merged += keys[before:place]
                merged.append(key)
                before = place
            merged += keys[before:]
            new_rows = np.asarray(added, np.int64) + first
            self._keys = merged
            self._rows = np.insert(self._rows, places, new_rows)
            return self._rows
