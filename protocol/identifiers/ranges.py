"""Consecutive ranges of an identifier: its counting field incremented at a fixed width.

The counting field (the ICCID digits after "89", the IMSI's MSIN, the IMEI's
serial, the whole MSISDN) grows by one per identifier; a range that would
outgrow the field's width is refused up front rather than wrapping into a
neighbouring field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from protocol.identifiers.checks import InvalidIdentifierError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["Counter"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Counter(Generic[_T]):
    """The counting field of an identifier at the start of a range, and how to build one."""

    kind: str
    first: str
    """The range's first identifier, as text, for error messages."""
    digits: str
    """The counting field, fixed width."""
    field: str
    """How to name the field's digits in an error, e.g. "MSIN digits"."""
    build: Callable[[str], _T]
    """The identifier whose counting field holds the given digits."""

    def ids(self, count: int) -> Iterator[_T]:
        """The `count` identifiers from the first, in order.

        Raises:
            ValueError: If `count` is negative.
            InvalidIdentifierError: If the range would outgrow the counting field.
        """
        _require_count(count, 0)
        if count:
            self._require_fits(count)
        return (self.build(self._at(offset)) for offset in range(count))

    def last(self, count: int) -> _T:
        """The last of `ids(count)` without iterating (count >= 1)."""
        _require_count(count, 1)
        self._require_fits(count)
        return self.build(self._at(count - 1))

    def _require_fits(self, count: int) -> None:
        if int(self.digits) + count - 1 >= 10 ** len(self.digits):
            reason = (
                f"range of {count} starting at {self.first} does not fit"
                f" in {len(self.digits)} {self.field}"
            )
            raise InvalidIdentifierError(self.kind, self.first, reason)

    def _at(self, offset: int) -> str:
        return str(int(self.digits) + offset).zfill(len(self.digits))


def _require_count(count: int, minimum: int) -> None:
    if count < minimum:
        raise ValueError(f"count must be at least {minimum}, got {count}")
