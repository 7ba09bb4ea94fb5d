"""What every identifier kind checks (digits, length, prefix, Luhn) and the error it raises.

Positions in error messages count from 0, like Python indices.
"""

from __future__ import annotations

__all__ = [
    "DIGITS",
    "InvalidIdentifierError",
    "check_digits",
    "check_length",
    "check_luhn",
    "check_prefix",
    "luhn_check_digit",
    "luhn_is_valid",
]

DIGITS = frozenset("0123456789")
"""The characters an identifier's digits are made of (ASCII only)."""
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # Luhn: the digit sum of 2 * d


class InvalidIdentifierError(ValueError):
    """An identifier's text is not a valid identifier of its kind.

    Attributes:
        kind: The kind of identifier, e.g. "ICCID".
        value: The offending text.
        reason: What is wrong with it.
    """

    def __init__(self, kind: str, value: str, reason: str) -> None:
        super().__init__(f"invalid {kind} {value!r}: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason

    def __reduce__(self) -> tuple[type[InvalidIdentifierError], tuple[str, str, str]]:
        return type(self), (self.kind, self.value, self.reason)


def luhn_check_digit(body: str) -> int:
    """Return the Luhn check digit to append to `body`.

    Raises:
        ValueError: If `body` is empty or holds anything but ASCII digits.
    """
    if not body or not DIGITS.issuperset(body):
        raise ValueError(f"Luhn body must be a non-empty string of digits, got {body!r}")
    total = sum(
        _DOUBLED[int(char)] if index % 2 == 0 else int(char)
        for index, char in enumerate(reversed(body))
    )
    return -total % 10


def luhn_numbers(first_body: str, count: int) -> list[str]:
    """The `count` numbers whose bodies count up from `first_body`, each with its check digit.

    The same as appending `luhn_check_digit` to each body, computed for all bodies at
    once (a million ICCIDs in a fraction of a second); the bodies keep `first_body`'s width.
    """
    import numpy as np  # noqa: PLC0415 - only ranges large enough to want it

    if not first_body or not DIGITS.issuperset(first_body) or int(first_body) + count >= 2**63:
        raise ValueError(f"Luhn bodies must be digits below 2**63, got {first_body!r} + {count}")
    bodies = np.arange(count, dtype=np.int64) + int(first_body)
    total = np.zeros(count, dtype=np.int64)
    rest = bodies.copy()
    doubled = np.array(_DOUBLED, dtype=np.int64)
    for index in range(len(first_body)):
        digit = rest % 10
        total += doubled[digit] if index % 2 == 0 else digit
        rest //= 10
    checks = (-total) % 10
    width = len(first_body)
    return [f"{b:0{width}d}{c}" for b, c in zip(bodies.tolist(), checks.tolist(), strict=True)]


def luhn_is_valid(number: str) -> bool:
    """Tell whether `number` (at least two digits) ends in the Luhn check digit of the rest."""
    if len(number) < 2 or not DIGITS.issuperset(number):
        return False
    return luhn_check_digit(number[:-1]) == int(number[-1])


def check_digits(kind: str, value: str, text: str, where: str = "") -> None:
    """Refuse `value` when `text` (all of it, or one part) holds a non-digit."""
    for position, char in enumerate(text):
        if char not in DIGITS:
            reason = f"non-digit character {char!r} at position {position}{where}"
            raise InvalidIdentifierError(kind, value, reason)


def _count_digits(count: int) -> str:
    return f"{count} digit" if count == 1 else f"{count} digits"


def _describe_lengths(lengths: range) -> str:
    if len(lengths) == 1:
        return str(lengths.start)
    if len(lengths) == 2:
        return f"{lengths[0]} or {lengths[1]}"
    return f"{lengths[0]} to {lengths[-1]}"


def check_length(kind: str, value: str, text: str, lengths: range, what: str = "") -> None:
    """Refuse `value` when `text` has a number of digits outside `lengths`."""
    if len(text) not in lengths:
        expected = _describe_lengths(lengths)
        reason = f"{what}{_count_digits(len(text))}, expected {expected}"
        raise InvalidIdentifierError(kind, value, reason)


def check_prefix(kind: str, value: str, prefix: str) -> None:
    """Refuse `value` when it does not start with `prefix`."""
    if not value.startswith(prefix):
        head = value[: len(prefix)]
        raise InvalidIdentifierError(kind, value, f"starts with {head!r}, expected {prefix!r}")


def check_luhn(kind: str, value: str) -> None:
    """Refuse `value` when its last digit is not the Luhn check digit of the rest."""
    expected = luhn_check_digit(value[:-1])
    actual = int(value[-1])
    if actual != expected:
        reason = f"check digit is {actual}, expected {expected}"
        raise InvalidIdentifierError(kind, value, reason)
