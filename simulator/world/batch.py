"""Messages as columns: what the bulk engine hands a sink a window at a time.

A `Batch` holds blocks of one message kind each, as columns, and the order in
which their rows go out (by time, then by the device's own order of steps).
`messages` turns it back into the protocol's messages, built by the same code
the device model uses, so a sink that takes messages one by one receives the very
messages a device process would have sent; a sink with a `write_batch` method
takes the columns as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy.typing as npt
    from pydantic import BaseModel

__all__ = ["Batch", "BatchSink", "Block"]

ATTACH, SESSION, STATUS, CONNECT_AUDIT, REPORT, USAGE, REPORT_AUDIT = range(7)
"""The order of one device's messages of one instant (its audit right after the use)."""


@dataclass(slots=True)
class Block:
    """Rows of one kind of message: `build(i)` makes row i's message and names its account."""

    kind: str
    t: npt.NDArray[np.float64]
    """Each row's simulated time."""
    device: npt.NDArray[np.int64]
    """Each row's device, as its position in the cohort."""
    step: int
    """Where this kind comes among one device's messages of the same instant."""
    build: Callable[[int], tuple[BaseModel, str]]
    columns: dict[str, Any] = field(default_factory=dict)
    """The rows' fields as arrays, for sinks that take columns."""


@dataclass(slots=True)
class Batch:
    """A window's messages from one cohort, in blocks, with the order they go out in."""

    blocks: list[Block] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(b.t) for b in self.blocks)

    def order(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """(block, row) of every message, by time, then device, then the device's step."""
        if not self.blocks:
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty
        t = np.concatenate([b.t for b in self.blocks])
        device = np.concatenate([b.device for b in self.blocks])
        step = np.concatenate([np.full(len(b.t), b.step) for b in self.blocks])
        which = np.concatenate(
            [np.full(len(b.t), k, dtype=np.intp) for k, b in enumerate(self.blocks)]
        )
        row = np.concatenate([np.arange(len(b.t), dtype=np.intp) for b in self.blocks])
        by = np.lexsort((step, device, t))
        return which[by], row[by]

    def messages(self) -> Iterator[tuple[BaseModel, str]]:
        """Every message with its account, in order."""
        which, row = self.order()
        blocks = self.blocks
        for k, i in zip(which.tolist(), row.tolist(), strict=True):
            yield blocks[k].build(i)


@runtime_checkable
class BatchSink(Protocol):
    """A sink that takes a cohort's window of messages as columns."""

    def write_batch(self, batch: Batch) -> None:
        """Take every message of `batch` (see `Batch.messages` for them one by one)."""
