"""The IMEI of a device: TAC, serial and a Luhn check digit, and its ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from protocol.identifiers.checks import (
    check_digits,
    check_length,
    check_luhn,
    luhn_check_digit,
    luhn_numbers,
)
from protocol.identifiers.field import LuhnNumber
from protocol.identifiers.ranges import Counter

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Imei", "imei_range", "imei_range_last", "imei_texts"]


@dataclass(frozen=True, slots=True)
class Imei(LuhnNumber):
    """A device's IMEI: an 8-digit TAC, a 6-digit serial and a Luhn check digit."""

    value: str

    _KIND: ClassVar[str] = "IMEI"
    _PATTERN: ClassVar[str] = r"^[0-9]{15}$"
    _DESCRIPTION: ClassVar[str] = "IMEI: 15 digits, TAC + serial + Luhn check digit"

    def __post_init__(self) -> None:
        check_digits("IMEI", self.value, self.value)
        check_length("IMEI", self.value, self.value, range(15, 16))
        check_luhn("IMEI", self.value)

    @classmethod
    def from_body(cls, body14: str) -> Imei:
        """Build the IMEI whose first 14 digits are `body14`, appending the check digit."""
        check_digits("IMEI body", body14, body14)
        check_length("IMEI body", body14, body14, range(14, 15))
        return cls(body14 + str(luhn_check_digit(body14)))

    @classmethod
    def _from_text(cls, text: str) -> Imei:
        return cls(text)

    @property
    def tac(self) -> str:
        """The Type Allocation Code, naming the device model (first 8 digits)."""
        return self.value[:8]

    @property
    def serial(self) -> str:
        """The serial number within the TAC (digits 9 to 14)."""
        return self.value[8:14]


def _counter(first: Imei) -> Counter[Imei]:
    return Counter(
        "IMEI",
        str(first),
        first.serial,
        "serial digits",
        lambda serial: Imei.from_body(first.tac + serial),
    )


def imei_range(first: Imei, count: int) -> Iterator[Imei]:
    """Yield `count` IMEIs of `first`'s TAC with consecutive serials, each with its check digit.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the 6 serial digits.
    """
    return _counter(first).ids(count)


def imei_texts(first: Imei, count: int) -> list[str]:
    """`imei_range(first, count)` as text, all at once (the same digits, far faster)."""
    if count:
        _counter(first).last(count)  # refuses a range that outgrows the serial
    return luhn_numbers(first.value[:-1], count)


def imei_range_last(first: Imei, count: int) -> Imei:
    """Return the last IMEI of `imei_range(first, count)` without iterating (count >= 1)."""
    return _counter(first).last(count)
