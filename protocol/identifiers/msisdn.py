"""The MSISDN, a phone number in E.164 form, read with its separators, and its ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from protocol.identifiers.checks import DIGITS, InvalidIdentifierError, check_digits, check_length
from protocol.identifiers.field import TextIdentifier
from protocol.identifiers.ranges import Counter

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Msisdn", "msisdn_range", "msisdn_range_last"]

_MSISDN_SEPARATORS = frozenset(" -")


@dataclass(frozen=True, slots=True)
class Msisdn(TextIdentifier):
    """A phone number in E.164 form, stored as its 7 to 15 digits without the '+'."""

    digits: str

    _KIND: ClassVar[str] = "MSISDN"
    _PATTERN: ClassVar[str] = r"^\+?[ -]*[1-9]([ -]*[0-9]){6,14}[ -]*$"
    _DESCRIPTION: ClassVar[str] = (
        "MSISDN in E.164: 7 to 15 digits, the first not 0, with an optional leading '+'"
        " and spaces or hyphens as separators; serialised as '+' and the digits"
    )

    def __post_init__(self) -> None:
        check_digits("MSISDN", self.digits, self.digits)
        check_length("MSISDN", self.digits, self.digits, range(7, 16))
        if self.digits.startswith("0"):
            raise InvalidIdentifierError("MSISDN", self.digits, "starts with 0")

    @classmethod
    def parse(cls, text: str) -> Msisdn:
        """Read a number like "+46 70-123 45 67": an optional '+', digits, spaces and hyphens.

        Raises:
            InvalidIdentifierError: On any other character (naming it and its
                position) or if the digits are not a valid MSISDN.
        """
        start = 1 if text.startswith("+") else 0
        for position, char in enumerate(text[start:], start):
            if char not in DIGITS and char not in _MSISDN_SEPARATORS:
                reason = f"unexpected character {char!r} at position {position}"
                raise InvalidIdentifierError("MSISDN", text, reason)
        digits = "".join(char for char in text if char in DIGITS)
        try:
            return cls(digits)
        except InvalidIdentifierError as error:
            raise InvalidIdentifierError("MSISDN", text, error.reason) from None

    @classmethod
    def _from_text(cls, text: str) -> Msisdn:
        return cls.parse(text)

    def __str__(self) -> str:
        return f"+{self.digits}"


def _counter(first: Msisdn) -> Counter[Msisdn]:
    return Counter("MSISDN", str(first), first.digits, "digits", Msisdn)


def msisdn_range(first: Msisdn, count: int) -> Iterator[Msisdn]:
    """Yield `count` consecutive MSISDNs of `first`'s length.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the number's length.
    """
    return _counter(first).ids(count)


def msisdn_range_last(first: Msisdn, count: int) -> Msisdn:
    """Return the last MSISDN of `msisdn_range(first, count)` without iterating (count >= 1)."""
    return _counter(first).last(count)
