"""The ICCID of a SIM card (ITU-T E.118): "89" first, a Luhn check digit last, and its ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from protocol.identifiers.checks import (
    check_digits,
    check_length,
    check_luhn,
    check_prefix,
    luhn_check_digit,
    luhn_numbers,
)
from protocol.identifiers.field import LuhnNumber
from protocol.identifiers.ranges import Counter

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["ICCID_PREFIX", "Iccid", "iccid_range", "iccid_range_last", "iccid_texts"]

ICCID_PREFIX = "89"
"""ITU-T E.118's major industry identifier for telecommunications."""


@dataclass(frozen=True, slots=True)
class Iccid(LuhnNumber):
    """A SIM card's ICCID: 19 or 20 digits, "89" first, a Luhn check digit last."""

    value: str

    _KIND: ClassVar[str] = "ICCID"
    _PATTERN: ClassVar[str] = r"^89[0-9]{17,18}$"
    _DESCRIPTION: ClassVar[str] = (
        "ICCID: 19 or 20 digits starting with 89, the last a Luhn check digit"
    )

    def __post_init__(self) -> None:
        check_digits("ICCID", self.value, self.value)
        check_length("ICCID", self.value, self.value, range(19, 21))
        check_prefix("ICCID", self.value, ICCID_PREFIX)
        check_luhn("ICCID", self.value)

    @classmethod
    def from_body(cls, body: str) -> Iccid:
        """Build the ICCID whose digits before the check digit are `body` (18 or 19 digits)."""
        check_digits("ICCID body", body, body)
        check_length("ICCID body", body, body, range(18, 20))
        check_prefix("ICCID body", body, ICCID_PREFIX)
        return cls(body + str(luhn_check_digit(body)))

    @classmethod
    def from_body_int(cls, n: int) -> Iccid:
        """Build the ICCID whose body, read as a number, is `n`."""
        return cls.from_body(str(n))

    @classmethod
    def _from_text(cls, text: str) -> Iccid:
        return cls(text)

    @property
    def body_int(self) -> int:
        """The body read as a number."""
        return int(self.body)

    def last_digits(self, n: int = 4) -> str:
        """Return the last `n` digits, as shown on masked SIM listings.

        Raises:
            ValueError: If `n` is not between 1 and the ICCID's length.
        """
        if not 1 <= n <= len(self.value):
            raise ValueError(f"n must be between 1 and {len(self.value)}, got {n}")
        return self.value[-n:]


def _counter(first: Iccid) -> Counter[Iccid]:
    return Counter(
        "ICCID",
        str(first),
        first.body[len(ICCID_PREFIX) :],
        f"digits after the {ICCID_PREFIX!r} prefix",
        lambda digits: Iccid.from_body(ICCID_PREFIX + digits),
    )


def iccid_range(first: Iccid, count: int) -> Iterator[Iccid]:
    """Yield `count` ICCIDs with consecutive bodies from `first`'s, each with its check digit.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the body's length.
    """
    return _counter(first).ids(count)


def iccid_texts(first: Iccid, count: int) -> list[str]:
    """`iccid_range(first, count)` as text, all at once (the same digits, far faster)."""
    if count:
        _counter(first).last(count)  # refuses a range that outgrows its digits
    return luhn_numbers(first.body, count)


def iccid_range_last(first: Iccid, count: int) -> Iccid:
    """Return the last ICCID of `iccid_range(first, count)` without iterating (count >= 1)."""
    return _counter(first).last(count)
