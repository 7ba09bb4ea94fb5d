"""Messages as columns: what the bulk engine hands a sink a window at a time.

A `Batch` holds blocks of one message kind each, as columns, and the order in
which their rows go out (by time, then by the device's own order of steps).
A block's `columns` hold every field of its messages: an array with a value per
row, a `Coded` column (each row's code into a few values: a device's ICCID, a
cell's network), a `Masked` one (a value or None), or one value for every row.
`Block.message` turns a row back into the protocol's message, validated by its
model, so a sink that takes messages one by one receives the very messages a
device process would have sent; a sink with a `write_batch` method takes the
columns as they are. A block of messages that are built already (the platform's
audit) carries them instead (`build`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import numpy.typing as npt
    from pydantic import BaseModel

__all__ = ["Batch", "BatchSink", "Block", "Coded", "Masked", "time_order"]

BUILT_AT_ONCE: Final = 250_000
"""A block up to this many rows has its messages built all at once; a larger one (a million
SIMs' records) row by row, so that they are not all held at the same time."""

ATTACH, SESSION, STATUS, CONNECT_AUDIT, REPORT, USAGE, REPORT_AUDIT = range(7)
"""The order of one device's messages of one instant (its audit right after the use)."""


@dataclass(frozen=True, slots=True)
class Coded:
    """A column of values drawn from a few: row i's value is `values[codes[i]]`."""

    codes: npt.NDArray[np.intp]
    values: Sequence[Any]


@dataclass(frozen=True, slots=True)
class Masked:
    """A column of numbers or None: row i's value is `values[i]` where `present[i]`."""

    values: npt.NDArray[Any]
    present: npt.NDArray[np.bool_]


@dataclass(slots=True)
class Block:
    """Rows of one kind of message, as columns of its fields (or built already, `build`)."""

    kind: str
    t: npt.NDArray[np.float64]
    """Each row's simulated time."""
    device: npt.NDArray[np.int64]
    """Each row's device, as its position in the cohort."""
    step: int
    """Where this kind comes among one device's messages of the same instant."""
    model: type[BaseModel] | None = None
    """The message model the columns fill."""
    columns: dict[str, Any] = field(default_factory=dict)
    """Every field of the rows' messages, by name (see the module)."""
    accounts: Coded | None = None
    """Each row's account (its messages' topics)."""
    build: Callable[[int], tuple[BaseModel, str]] | None = None
    """Row i's message and account, for a block of messages built already."""

    def taking(self, keep: npt.NDArray[np.bool_]) -> Block:
        """The block of only the rows `keep` marks."""
        at = np.flatnonzero(keep)
        build = self.build
        return Block(
            self.kind,
            self.t[at],
            self.device[at],
            self.step,
            self.model,
            {name: _rows(column, at) for name, column in self.columns.items()},
            None if self.accounts is None else _rows(self.accounts, at),
            None if build is None else lambda i: build(int(at[i])),
        )

    def row(self, i: int) -> dict[str, Any]:
        """Row i's fields, as the message holds them."""
        return {name: value_at(column, i) for name, column in self.columns.items()}

    def built(self) -> list[tuple[BaseModel, str]]:
        """Every row's message and account, in row order (`message` of each, all at once)."""
        n = len(self.t)
        if self.build is not None:
            return [self.build(i) for i in range(n)]
        assert self.model is not None
        assert self.accounts is not None
        names = list(self.columns)
        values = [_listed(self.columns[name], n) for name in names]
        validate = self.model.model_validate
        return [
            (validate(dict(zip(names, row, strict=True))), account)
            for row, account in zip(
                zip(*values, strict=True), _listed(self.accounts, n), strict=True
            )
        ]

    def message(self, i: int) -> tuple[BaseModel, str]:
        """Row i's message and the account it goes out under."""
        if self.build is not None:
            return self.build(i)
        assert self.model is not None
        assert self.accounts is not None
        return self.model.model_validate(self.row(i)), value_at(self.accounts, i)


def _rows(column: Any, at: npt.NDArray[np.intp]) -> Any:  # noqa: ANN401 - a column of any field
    if isinstance(column, np.ndarray):
        return column[at]
    if isinstance(column, Coded):
        return Coded(column.codes[at], column.values)
    if isinstance(column, Masked):
        return Masked(column.values[at], column.present[at])
    return column


def _listed(column: Any, n: int) -> list[Any]:  # noqa: ANN401 - a column of any field
    """A column's n values, as Python values (`value_at` of each row)."""
    if isinstance(column, np.ndarray):
        listed: list[Any] = column.tolist()
        return listed
    if isinstance(column, Coded):
        values = column.values
        return [_copied(values[c]) for c in column.codes.tolist()]
    if isinstance(column, Masked):
        present = column.present.tolist()
        return [v if p else None for v, p in zip(column.values.tolist(), present, strict=True)]
    return (
        [_copied(column)] * n
        if not isinstance(column, (list, tuple))
        else [list(column) for _ in range(n)]
    )


def _copied(value: Any) -> Any:  # noqa: ANN401 - any field's value
    return list(value) if isinstance(value, (list, tuple)) else value


def value_at(column: Any, i: int) -> Any:  # noqa: ANN401 - a column holds any field
    """A column's value in row i, as a Python value."""
    if isinstance(column, np.ndarray):
        return column[i].item()
    if isinstance(column, Coded):
        return _copied(column.values[int(column.codes[i])])
    if isinstance(column, Masked):
        return column.values[i].item() if column.present[i] else None
    return _copied(column)


@dataclass(slots=True)
class Batch:
    """A window's messages from one cohort, in blocks, with the order they go out in."""

    blocks: list[Block] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(b.t) for b in self.blocks)

    def mine(self, owned: npt.NDArray[np.bool_]) -> Batch:
        """The batch of only the rows whose device `owned` marks (a shard's own)."""
        blocks = [b.taking(owned[b.device]) for b in self.blocks]
        return Batch([b for b in blocks if len(b.t)])

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
        by = time_order(t, device, step)
        return which[by], row[by]

    def messages(self) -> Iterator[tuple[BaseModel, str]]:
        """Every message with its account, in order."""
        which, row = self.order()
        blocks = self.blocks
        built = [b.built() if len(b.t) <= BUILT_AT_ONCE else None for b in blocks]
        for k, i in zip(which.tolist(), row.tolist(), strict=True):
            messages = built[k]
            yield blocks[k].message(i) if messages is None else messages[i]


def time_order(
    t: npt.NDArray[np.float64],
    device: npt.NDArray[np.integer[Any]],
    step: npt.NDArray[np.integer[Any]],
) -> npt.NDArray[np.intp]:
    """The order of rows by time, then device, then step (`np.lexsort`'s, faster without ties)."""
    by = np.argsort(t)
    sorted_t = t[by]
    if len(t) < 2 or not (sorted_t[1:] == sorted_t[:-1]).any():
        return by
    return np.lexsort((step, device, t))


@runtime_checkable
class BatchSink(Protocol):
    """A sink that takes a cohort's window of messages as columns."""

    def write_batch(self, batch: Batch) -> None:
        """Take every message of `batch` (see `Batch.messages` for them one by one)."""
