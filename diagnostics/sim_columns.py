"""Per-key records in numpy columns, read and written through attribute descriptors.

A million SIMs each with a dozen fields of tuples, floats and small dicts cost about
700 bytes a SIM as objects. `Columns` keeps them as columns by the key's row instead:
a time (float64, nan for none) and a value code (int32) for each `Pair` field (the
newest word on something and when it was said), a value code for each `Value` field,
a float64 for each `Number` field (nan for None). Values (texts, causes, tuples of
them) are kept once each in a list that the codes index, so each SIM costs about
100 bytes and its key's row. `Columns.get(key)` gives a `Record`: a view of one row
whose fields read and write the columns as attributes would. Pure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Columns", "Number", "Pair", "Record", "Value"]

V = TypeVar("V")
R = TypeVar("R", bound="Record")
_NONE: Final = -1


class Record:
    """One row of a `Columns`: subclasses declare its fields as `Pair`, `Value`, `Number`."""

    __slots__ = ("_columns", "_row")

    def __init__(self, columns: Columns[Any], row: int) -> None:
        self._columns = columns
        self._row = row


class _Field:
    def __init__(self) -> None:
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name


class Pair(_Field, Generic[V]):
    """A (time, value) field, or None."""

    def __get__(self, record: Record, owner: type | None = None) -> tuple[float, V] | None:
        columns, row = record._columns, record._row  # noqa: SLF001 - the field's own record
        t = float(columns.times[self.name][row])
        if math.isnan(t):
            return None
        return t, cast("V", columns.value(int(columns.codes[self.name][row])))

    def __set__(self, record: Record, pair: tuple[float, V] | None) -> None:
        columns, row = record._columns, record._row  # noqa: SLF001
        columns.times[self.name][row] = math.nan if pair is None else pair[0]
        columns.codes[self.name][row] = _NONE if pair is None else columns.code(pair[1])


class Value(_Field, Generic[V]):
    """A value field (None: none)."""

    def __get__(self, record: Record, owner: type | None = None) -> V | None:
        columns, row = record._columns, record._row  # noqa: SLF001
        code = int(columns.codes[self.name][row])
        return None if code == _NONE else cast("V", columns.value(code))

    def __set__(self, record: Record, value: V | None) -> None:
        columns, row = record._columns, record._row  # noqa: SLF001
        columns.codes[self.name][row] = _NONE if value is None else columns.code(value)


class Number(_Field):
    """A float field (None: none)."""

    def __get__(self, record: Record, owner: type | None = None) -> float | None:
        value = float(record._columns.numbers[self.name][record._row])  # noqa: SLF001
        return None if math.isnan(value) else value

    def __set__(self, record: Record, value: float | None) -> None:
        columns, row = record._columns, record._row  # noqa: SLF001
        columns.numbers[self.name][row] = math.nan if value is None else value


class Columns(Generic[R]):
    """Keys to rows of `record` fields, in columns."""

    def __init__(self, record: type[R]) -> None:
        self._record = record
        fields = [f for c in record.__mro__ for f in vars(c).values() if isinstance(f, _Field)]
        self.index: dict[str, int] = {}
        self.times: dict[str, NDArray[np.float64]] = {
            f.name: np.zeros(0) for f in fields if isinstance(f, Pair)
        }
        self.codes: dict[str, NDArray[np.int32]] = {
            f.name: np.zeros(0, np.int32) for f in fields if isinstance(f, Pair | Value)
        }
        self.numbers: dict[str, NDArray[np.float64]] = {
            f.name: np.zeros(0) for f in fields if isinstance(f, Number)
        }
        self._values: list[object] = []
        self._code: dict[tuple[type, object], int] = {}
        self._size = 0

    def __contains__(self, key: object) -> bool:
        return key in self.index

    def get(self, key: str | None) -> R | None:
        """The key's record (None: none yet)."""
        row = self.index.get(key) if key is not None else None
        return None if row is None else self._record(self, row)

    def add(self, key: str) -> R:
        """The key's record, added (every field None) if it has none yet."""
        row = self.index.get(key)
        if row is None:
            row = self.index[key] = len(self.index)
            if row >= self._size:
                self._grow(max(1024, 2 * self._size))
        return self._record(self, row)

    def code(self, value: object) -> int:
        """The code of a value (kept once)."""
        key = (type(value), value)  # a StrEnum member is no plain string of its value
        code = self._code.get(key)
        if code is None:
            code = self._code[key] = len(self._values)
            self._values.append(value)
        return code

    def value(self, code: int) -> object:
        """The value of a code."""
        return self._values[code]

    def _grow(self, size: int) -> None:
        more = size - self._size
        for name, times in self.times.items():
            self.times[name] = np.concatenate([times, np.full(more, math.nan)])
        for name, codes in self.codes.items():
            self.codes[name] = np.concatenate([codes, np.full(more, _NONE, np.int32)])
        for name, numbers in self.numbers.items():
            self.numbers[name] = np.concatenate([numbers, np.full(more, math.nan)])
        self._size = size
