"""A sink that sums a hash of every message per stream, from messages or from columns alike.

`ChecksumSink` holds, for each stream (a device's messages by its id, a SIM's by
its ICCID), the sum of a hash of every message in it, field by field, with the
account it went out under. A message's hash is a mix of the sum of its fields'
hashes, each keyed by the field's name, so a sink can hash a cohort's block as
columns (`write_batch`) and get the very sums it would from the same messages one
by one: two runs whose sums agree sent the same fields in each message, under the
same accounts (the order of messages within a stream aside; a field's float is
taken to the millisecond). `benchmarks/scale.py` feeds both engines to it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from simulator.world.batch import Coded, Masked

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt
    from pydantic import BaseModel

    from simulator.world.batch import Batch, Block

__all__ = ["ChecksumSink"]

U64 = np.uint64
_MASK: Final = (1 << 64) - 1
_G: Final = 0x9E3779B97F4A7C15
_M1: Final = 0xBF58476D1CE4E5B9
_M2: Final = 0x94D049BB133111EB
_SEED: Final = 0x5CA1AB1E0DDBA11
_ACCOUNT: Final = "@account"
_FEW: Final = 64
"""Coded values up to this many are kept hashed (states, plans); more, only a cohort's own."""
"""The pseudo-field a message's account is hashed under."""


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mixes(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = (z ^ (z >> U64(30))) * U64(_M1)
    z = (z ^ (z >> U64(27))) * U64(_M2)
    return z ^ (z >> U64(31))


def _text(text: str) -> int:
    """A text's hash: its code points, two to a little-endian 64-bit word, after its length."""
    data = text.encode("utf-32-le")
    h = _mix(((len(text) * _G) ^ _SEED) & _MASK)
    for k in range(0, len(data), 8):
        h = _mix(((h ^ int.from_bytes(data[k : k + 8], "little")) * _G) & _MASK)
    return h


def _texts(texts: Sequence[str]) -> npt.NDArray[np.uint64]:
    """`_text` of each text, as an array (the same bits, far faster)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    words = -(-int(lengths.max(initial=0)) // 2)
    h = _mixes((lengths.astype(U64) * U64(_G)) ^ U64(_SEED))
    if words:
        table = np.array(texts, dtype=f"U{2 * words}").view("<u8").reshape(len(texts), words)
        count = -(-lengths // 2)
        for k in range(words):
            h = np.where(k < count, _mixes((h ^ table[:, k]) * U64(_G)), h)
    return h


_NONE: Final = _text("\0none")
_LIST: Final = _text("\0list")


class ChecksumSink:
    """Per-stream sums of message hashes (see the module); takes messages or columns."""

    def __init__(self) -> None:
        self.sums: dict[str, int] = defaultdict(int)
        self.messages = 0
        self.reports = 0
        self.from_columns = 0
        """Of the messages, those hashed from a block's columns."""
        self._texts: dict[str, int] = {}
        self._coded: dict[tuple[int, str], tuple[Sequence[Any], npt.NDArray[np.uint64]]] = {}
        self._streams: dict[int, tuple[Sequence[str], npt.NDArray[np.uint64]]] = {}
        self._combined: dict[tuple[tuple[int, ...], str], npt.NDArray[np.uint64]] = {}

    # ---- one message at a time ----------------------------------------------------------------

    def write(self, message: BaseModel, account: str | None) -> None:
        """Add one message's hash to its stream's sum."""
        self.messages += 1
        self.reports += message.__class__.__name__ == "Telemetry"
        inner = self._field(_ACCOUNT, account)
        for name in type(message).model_fields:
            inner += self._field(name, getattr(message, name))
        stream = getattr(message, "device_id", None) or getattr(message, "iccid", None) or "clock"
        self.sums[stream] = (self.sums[stream] + _mix(inner & _MASK)) & _MASK

    def _field(self, name: str, value: object) -> int:
        return _mix(((self._value(value) ^ self._name(name)) * _G) & _MASK)

    def _name(self, text: str) -> int:
        h = self._texts.get(text)
        if h is None:
            h = self._texts[text] = _text(text)
        return h

    def _value(self, value: object) -> int:
        if value is None:
            return _NONE
        if isinstance(value, bool | int):
            return int(value) & _MASK
        if isinstance(value, float):
            return round(value * 1000) & _MASK
        if isinstance(value, str):
            return self._name(value)
        if isinstance(value, list | tuple):
            h = _LIST
            for item in value:
                h = _mix(((h ^ self._value(item)) * _G) & _MASK)
            return h
        raise TypeError(f"no checksum for a field of type {type(value).__name__}")

    # ---- a cohort's window as columns ---------------------------------------------------------

    def write_batch(self, batch: Batch) -> None:
        """Hash each block's rows from its columns (a block built already, one by one)."""
        for block in batch.blocks:
            if block.build is not None:
                for i in range(len(block.t)):
                    self.write(*block.build(i))
            else:
                self._block(block)

    def _block(self, block: Block) -> None:
        n = len(block.t)
        assert block.accounts is not None
        constant = 0
        inner = np.zeros(n, dtype=U64)
        shared: dict[int, tuple[npt.NDArray[np.intp], list[tuple[str, Sequence[Any]]]]] = {}
        with np.errstate(over="ignore"):
            for name, column in [(_ACCOUNT, block.accounts), *block.columns.items()]:
                if _kept(column):  # a cohort's own values: gathered once with their like below
                    assert isinstance(column, Coded)
                    codes = column.codes
                    shared.setdefault(id(codes), (codes, []))[1].append((name, column.values))
                elif isinstance(column, np.ndarray | Coded | Masked):
                    inner += self._column(name, column)
                else:  # one value for every row: its hash is added once
                    constant += self._field(name, column)
            for codes, columns in shared.values():
                inner += self._together(columns)[codes]
            h = _mixes(inner + U64(constant & _MASK))
        stream = block.columns.get("device_id", block.columns.get("iccid"))
        if not isinstance(stream, Coded):
            raise TypeError(f"a {block.kind} block's stream is not a coded column")
        _, sums = self._stream(stream.values)
        codes = stream.codes
        if len(codes) < 2 or (codes[1:] > codes[:-1]).all():  # each stream once: added at once
            sums[codes] += h
        else:
            np.add.at(sums, codes, h)
        self.messages += n
        self.from_columns += n
        if block.kind == "telemetry":
            self.reports += n

    def _column(
        self, name: str, column: npt.NDArray[Any] | Coded | Masked
    ) -> npt.NDArray[np.uint64]:
        """Each row's hash of the field: a coded column's values hashed here and let go."""
        salt = U64(self._name(name))
        if isinstance(column, np.ndarray):
            return _mixes((_numbers(column) ^ salt) * U64(_G))
        if isinstance(column, Masked):
            hashed = _mixes((_numbers(column.values) ^ salt) * U64(_G))
            return np.where(column.present, hashed, U64(self._field(name, None)))
        hashes = self._fields(name, column.values)
        return hashes[column.codes] if len(hashes) else np.zeros(0, dtype=U64)

    def _together(self, columns: list[tuple[str, Sequence[Any]]]) -> npt.NDArray[np.uint64]:
        """The sum of the hashes of coded columns that share their codes, value by value."""
        if len(columns) == 1:
            return self._coded_hashes(*columns[0])
        key = (tuple(id(values) for _, values in columns), "+".join(n for n, _ in columns))
        held = self._combined.get(key)
        if held is None:
            total = np.zeros(max(len(v) for _, v in columns), dtype=U64)
            for name, values in columns:
                total[: len(values)] += self._coded_hashes(name, values)
            held = self._combined[key] = total
        return held

    def _coded_hashes(self, name: str, values: Sequence[Any]) -> npt.NDArray[np.uint64]:
        key = (id(values), name)
        held = self._coded.get(key)
        if held is None:  # kept with their hashes, so their id stays theirs: a cohort's own
            held = self._coded[key] = (values, self._fields(name, values))
        return held[1]

    def _fields(self, name: str, values: Sequence[Any]) -> npt.NDArray[np.uint64]:
        """`_field(name, v)` for each of `values`: texts all at once, the others one by one."""
        hashes = np.zeros(len(values), dtype=U64)
        if set(map(type, values)) <= {str}:
            text = np.ones(len(values), dtype=bool)
        else:
            text = np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
        at = np.flatnonzero(text)
        if len(at):
            texts = values if len(at) == len(values) else [values[k] for k in at.tolist()]
            with np.errstate(over="ignore"):
                salt = U64(self._name(name))
                hashes[at] = _mixes((_texts(texts) ^ salt) * U64(_G))
        for k in np.flatnonzero(~text).tolist():
            hashes[k] = self._field(name, values[k])
        return hashes

    def _stream(self, names: Sequence[str]) -> tuple[Sequence[str], npt.NDArray[np.uint64]]:
        held = self._streams.get(id(names))
        if held is None:
            held = self._streams[id(names)] = (names, np.zeros(len(names), dtype=U64))
        return held

    def totals(self) -> dict[str, int]:
        """Every stream's sum, the columns' included (a sum of 0 read as no message: 2⁻⁶⁴)."""
        sums = dict(self.sums)
        for names, column in self._streams.values():
            for k in np.flatnonzero(column).tolist():
                name = names[k]
                sums[name] = (sums.get(name, 0) + int(column[k])) & _MASK
        return sums


def _kept(column: object) -> bool:
    """Whether a column is coded into values the sink keeps hashed.

    A few values (states, plans), or more values than rows (a cohort's own ids); a value per
    row is hashed and let go.
    """
    return isinstance(column, Coded) and not _FEW < len(column.values) <= len(column.codes)


def _numbers(values: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """A column's numbers as `_value` takes them: floats to the millisecond."""
    whole = np.rint(values * 1000) if values.dtype.kind == "f" else values
    numbers: npt.NDArray[np.uint64] = whole.astype(np.int64, copy=False).view(U64)
    return numbers
