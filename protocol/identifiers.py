"""Subscriber and device identifiers (ICCID, IMSI, IMEI, MSISDN) as validated value types.

The idea: an identifier that exists is a valid one. Each type is a frozen
dataclass that checks its shape in `__post_init__` and refuses a bad value with
an `InvalidIdentifierError` naming the kind, the value and what is wrong, so a
typo in an onboarding file is reported where it is read, not three services
later. ICCIDs and IMEIs end in a Luhn check digit, which catches every
single-digit error and every adjacent transposition except 09/90.

Positions in error messages count from 0, like Python indices.

Bulk onboarding works on consecutive ranges (`iccid_range` and friends): the
counting part of an identifier (the ICCID digits after "89", the IMSI's MSIN,
the IMEI's serial, the whole MSISDN) is incremented at a fixed width, and each
ICCID or IMEI gets its own check digit. A range that would outgrow that width
is refused up front rather than wrapping into a neighbouring field.

Each type is also a pydantic field type: it validates from its text form
(separators allowed in MSISDNs), serialises back to that text, and documents
itself in JSON schema with a pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic_core import core_schema

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

__all__ = [
    "MCCS_WITH_THREE_DIGIT_MNC",
    "Iccid",
    "Imei",
    "Imsi",
    "InvalidIdentifierError",
    "Msisdn",
    "iccid_range",
    "iccid_range_last",
    "imei_range",
    "imei_range_last",
    "imsi_range",
    "imsi_range_last",
    "luhn_check_digit",
    "luhn_is_valid",
    "msisdn_range",
    "msisdn_range_last",
]

MCCS_WITH_THREE_DIGIT_MNC: frozenset[str] = frozenset(
    {
        "302",  # Canada
        "310",  # United States (310-316)
        "311",
        "312",
        "313",
        "314",
        "315",
        "316",
        "334",  # Mexico
        "338",  # Jamaica
        "342",  # Barbados
        "344",  # Antigua and Barbuda
        "346",  # Cayman Islands
        "348",  # British Virgin Islands
        "354",  # Montserrat
        "356",  # Saint Kitts and Nevis
        "358",  # Saint Lucia
        "360",  # Saint Vincent and the Grenadines
        "365",  # Anguilla
        "376",  # Turks and Caicos Islands
        "405",  # India (second range)
        "708",  # Honduras
        "722",  # Argentina
        "732",  # Colombia
    }
)
"""MCCs whose networks use 3-digit MNCs; `Imsi.parse` assumes 2 digits for any other MCC.

An IMSI does not say how long its MNC is, so this is a heuristic covering the
common cases (North America, the Caribbean, India's 405 range and a few Latin
American countries). Pass `mnc_length` to `Imsi.parse` when you know better.
"""

_DIGITS = frozenset("0123456789")
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # Luhn: the digit sum of 2 * d
_ICCID_PREFIX = "89"  # ITU-T E.118 major industry identifier for telecommunications

_T = TypeVar("_T")


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


# --- Luhn ---------------------------------------------------------------------


def luhn_check_digit(body: str) -> int:
    """Return the Luhn check digit to append to `body`.

    Raises:
        ValueError: If `body` is empty or holds anything but ASCII digits.
    """
    if not body or not _DIGITS.issuperset(body):
        raise ValueError(f"Luhn body must be a non-empty string of digits, got {body!r}")
    total = sum(
        _DOUBLED[int(char)] if index % 2 == 0 else int(char)
        for index, char in enumerate(reversed(body))
    )
    return -total % 10


def luhn_is_valid(number: str) -> bool:
    """Tell whether `number` (at least two digits) ends in the Luhn check digit of the rest."""
    if len(number) < 2 or not _DIGITS.issuperset(number):
        return False
    return luhn_check_digit(number[:-1]) == int(number[-1])


# --- shared checks ------------------------------------------------------------


def _check_digits(kind: str, value: str, text: str, where: str = "") -> None:
    for position, char in enumerate(text):
        if char not in _DIGITS:
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


def _check_length(kind: str, value: str, text: str, lengths: range, what: str = "") -> None:
    if len(text) not in lengths:
        expected = _describe_lengths(lengths)
        reason = f"{what}{_count_digits(len(text))}, expected {expected}"
        raise InvalidIdentifierError(kind, value, reason)


def _check_prefix(kind: str, value: str, prefix: str) -> None:
    if not value.startswith(prefix):
        head = value[: len(prefix)]
        raise InvalidIdentifierError(kind, value, f"starts with {head!r}, expected {prefix!r}")


def _check_luhn(kind: str, value: str) -> None:
    expected = luhn_check_digit(value[:-1])
    actual = int(value[-1])
    if actual != expected:
        reason = f"check digit is {actual}, expected {expected}"
        raise InvalidIdentifierError(kind, value, reason)


# --- pydantic support ---------------------------------------------------------


class _TextIdentifier:
    """Mixin making an identifier a pydantic field type that travels as its text form."""

    __slots__ = ()
    _KIND: ClassVar[str]
    _PATTERN: ClassVar[str]
    _DESCRIPTION: ClassVar[str]

    @classmethod
    def _from_text(cls, text: str) -> _TextIdentifier:
        raise NotImplementedError

    @classmethod
    def _validate(cls, value: object) -> _TextIdentifier:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls._from_text(value)
        kind, got = cls._KIND, type(value).__name__
        raise ValueError(f"invalid {kind}: expected a string or {cls.__name__}, got {got}")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: type[Any], _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": cls._PATTERN, "description": cls._DESCRIPTION}


# --- ICCID --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Iccid(_TextIdentifier):
    """A SIM card's ICCID: 19 or 20 digits, "89" first, a Luhn check digit last."""

    value: str

    _KIND: ClassVar[str] = "ICCID"
    _PATTERN: ClassVar[str] = r"^89[0-9]{17,18}$"
    _DESCRIPTION: ClassVar[str] = (
        "ICCID: 19 or 20 digits starting with 89, the last a Luhn check digit"
    )

    def __post_init__(self) -> None:
        _check_digits("ICCID", self.value, self.value)
        _check_length("ICCID", self.value, self.value, range(19, 21))
        _check_prefix("ICCID", self.value, _ICCID_PREFIX)
        _check_luhn("ICCID", self.value)

    @classmethod
    def from_body(cls, body: str) -> Iccid:
        """Build the ICCID whose digits before the check digit are `body` (18 or 19 digits)."""
        _check_digits("ICCID body", body, body)
        _check_length("ICCID body", body, body, range(18, 20))
        _check_prefix("ICCID body", body, _ICCID_PREFIX)
        return cls(body + str(luhn_check_digit(body)))

    @classmethod
    def from_body_int(cls, n: int) -> Iccid:
        """Build the ICCID whose body, read as a number, is `n`."""
        return cls.from_body(str(n))

    @classmethod
    def _from_text(cls, text: str) -> Iccid:
        return cls(text)

    @property
    def body(self) -> str:
        """The digits before the check digit."""
        return self.value[:-1]

    @property
    def check_digit(self) -> int:
        """The Luhn check digit (the last digit)."""
        return int(self.value[-1])

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

    def __str__(self) -> str:
        return self.value


# --- IMSI ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Imsi(_TextIdentifier):
    """A subscriber's IMSI: a 3-digit MCC, a 2- or 3-digit MNC and an MSIN, 15 digits in all."""

    mcc: str
    mnc: str
    msin: str

    _KIND: ClassVar[str] = "IMSI"
    _PATTERN: ClassVar[str] = r"^[0-9]{15}$"
    _DESCRIPTION: ClassVar[str] = "IMSI: 15 digits, MCC + MNC + MSIN"

    def __post_init__(self) -> None:
        whole = f"{self.mcc}{self.mnc}{self.msin}"
        for part, text in (("MCC", self.mcc), ("MNC", self.mnc), ("MSIN", self.msin)):
            _check_digits("IMSI", whole, text, f" of the {part}")
        _check_length("IMSI", whole, self.mcc, range(3, 4), "MCC has ")
        if self.mcc == "000":
            raise InvalidIdentifierError("IMSI", whole, "MCC 000 is not a country code")
        _check_length("IMSI", whole, self.mnc, range(2, 4), "MNC has ")
        _check_length("IMSI", whole, whole, range(15, 16))

    @classmethod
    def parse(cls, text: str, mnc_length: int | None = None) -> Imsi:
        """Split 15 digits into MCC, MNC and MSIN.

        Args:
            text: The IMSI's 15 digits.
            mnc_length: 2 or 3; None guesses from the MCC (3 for the MCCs in
                `MCCS_WITH_THREE_DIGIT_MNC`, else 2).

        Raises:
            InvalidIdentifierError: If `text` is not a valid IMSI.
            ValueError: If `mnc_length` is neither None, 2 nor 3.
        """
        if mnc_length not in {None, 2, 3}:
            raise ValueError(f"mnc_length must be 2, 3 or None, got {mnc_length}")
        _check_digits("IMSI", text, text)
        _check_length("IMSI", text, text, range(15, 16))
        if mnc_length is None:
            mnc_length = 3 if text[:3] in MCCS_WITH_THREE_DIGIT_MNC else 2
        end = 3 + mnc_length
        return cls(text[:3], text[3:end], text[end:])

    @classmethod
    def _from_text(cls, text: str) -> Imsi:
        return cls.parse(text)

    @property
    def plmn(self) -> str:
        """The network's PLMN id, MCC followed by MNC (e.g. "24001")."""
        return self.mcc + self.mnc

    @property
    def msin_int(self) -> int:
        """The MSIN read as a number."""
        return int(self.msin)

    def __str__(self) -> str:
        return f"{self.mcc}{self.mnc}{self.msin}"


# --- IMEI ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Imei(_TextIdentifier):
    """A device's IMEI: an 8-digit TAC, a 6-digit serial and a Luhn check digit."""

    value: str

    _KIND: ClassVar[str] = "IMEI"
    _PATTERN: ClassVar[str] = r"^[0-9]{15}$"
    _DESCRIPTION: ClassVar[str] = "IMEI: 15 digits, TAC + serial + Luhn check digit"

    def __post_init__(self) -> None:
        _check_digits("IMEI", self.value, self.value)
        _check_length("IMEI", self.value, self.value, range(15, 16))
        _check_luhn("IMEI", self.value)

    @classmethod
    def from_body(cls, body14: str) -> Imei:
        """Build the IMEI whose first 14 digits are `body14`, appending the check digit."""
        _check_digits("IMEI body", body14, body14)
        _check_length("IMEI body", body14, body14, range(14, 15))
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

    @property
    def body(self) -> str:
        """The 14 digits before the check digit."""
        return self.value[:14]

    @property
    def check_digit(self) -> int:
        """The Luhn check digit (the last digit)."""
        return int(self.value[14])

    def __str__(self) -> str:
        return self.value


# --- MSISDN -------------------------------------------------------------------

_MSISDN_SEPARATORS = frozenset(" -")


@dataclass(frozen=True, slots=True)
class Msisdn(_TextIdentifier):
    """A phone number in E.164 form, stored as its 7 to 15 digits without the '+'."""

    digits: str

    _KIND: ClassVar[str] = "MSISDN"
    _PATTERN: ClassVar[str] = r"^\+?[ -]*[1-9]([ -]*[0-9]){6,14}[ -]*$"
    _DESCRIPTION: ClassVar[str] = (
        "MSISDN in E.164: 7 to 15 digits, the first not 0, with an optional leading '+'"
        " and spaces or hyphens as separators; serialised as '+' and the digits"
    )

    def __post_init__(self) -> None:
        _check_digits("MSISDN", self.digits, self.digits)
        _check_length("MSISDN", self.digits, self.digits, range(7, 16))
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
            if char not in _DIGITS and char not in _MSISDN_SEPARATORS:
                reason = f"unexpected character {char!r} at position {position}"
                raise InvalidIdentifierError("MSISDN", text, reason)
        digits = "".join(char for char in text if char in _DIGITS)
        try:
            return cls(digits)
        except InvalidIdentifierError as error:
            raise InvalidIdentifierError("MSISDN", text, error.reason) from None

    @classmethod
    def _from_text(cls, text: str) -> Msisdn:
        return cls.parse(text)

    def __str__(self) -> str:
        return f"+{self.digits}"


# --- ranges -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Counter:
    """The counting field of an identifier at the start of a range."""

    kind: str
    first: str  # the range's first identifier, as text, for error messages
    digits: str  # the counting field, fixed width
    field: str  # how to name the field's digits in an error, e.g. "MSIN digits"

    def require_fits(self, count: int) -> None:
        if int(self.digits) + count - 1 >= 10 ** len(self.digits):
            reason = (
                f"range of {count} starting at {self.first} does not fit"
                f" in {len(self.digits)} {self.field}"
            )
            raise InvalidIdentifierError(self.kind, self.first, reason)

    def at(self, offset: int) -> str:
        return str(int(self.digits) + offset).zfill(len(self.digits))


def _require_count(count: int, minimum: int) -> None:
    if count < minimum:
        raise ValueError(f"count must be at least {minimum}, got {count}")


def _range(counter: _Counter, count: int, build: Callable[[str], _T]) -> Iterator[_T]:
    _require_count(count, 0)
    if count:
        counter.require_fits(count)
    return (build(counter.at(offset)) for offset in range(count))


def _range_last(counter: _Counter, count: int, build: Callable[[str], _T]) -> _T:
    _require_count(count, 1)
    counter.require_fits(count)
    return build(counter.at(count - 1))


def _iccid_counter(first: Iccid) -> _Counter:
    digits = first.body[len(_ICCID_PREFIX) :]
    return _Counter("ICCID", str(first), digits, f"digits after the {_ICCID_PREFIX!r} prefix")


def _iccid_build(digits: str) -> Iccid:
    return Iccid.from_body(_ICCID_PREFIX + digits)


def iccid_range(first: Iccid, count: int) -> Iterator[Iccid]:
    """Yield `count` ICCIDs with consecutive bodies from `first`'s, each with its check digit.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the body's length.
    """
    return _range(_iccid_counter(first), count, _iccid_build)


def iccid_range_last(first: Iccid, count: int) -> Iccid:
    """Return the last ICCID of `iccid_range(first, count)` without iterating (count >= 1)."""
    return _range_last(_iccid_counter(first), count, _iccid_build)


def _imsi_counter(first: Imsi) -> _Counter:
    return _Counter("IMSI", str(first), first.msin, "MSIN digits")


def imsi_range(first: Imsi, count: int) -> Iterator[Imsi]:
    """Yield `count` IMSIs of `first`'s network with consecutive MSINs.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the MSIN's length.
    """
    return _range(_imsi_counter(first), count, lambda msin: Imsi(first.mcc, first.mnc, msin))


def imsi_range_last(first: Imsi, count: int) -> Imsi:
    """Return the last IMSI of `imsi_range(first, count)` without iterating (count >= 1)."""
    return _range_last(_imsi_counter(first), count, lambda msin: Imsi(first.mcc, first.mnc, msin))


def _imei_counter(first: Imei) -> _Counter:
    return _Counter("IMEI", str(first), first.serial, "serial digits")


def imei_range(first: Imei, count: int) -> Iterator[Imei]:
    """Yield `count` IMEIs of `first`'s TAC with consecutive serials, each with its check digit.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the 6 serial digits.
    """
    return _range(_imei_counter(first), count, lambda serial: Imei.from_body(first.tac + serial))


def imei_range_last(first: Imei, count: int) -> Imei:
    """Return the last IMEI of `imei_range(first, count)` without iterating (count >= 1)."""
    return _range_last(
        _imei_counter(first), count, lambda serial: Imei.from_body(first.tac + serial)
    )


def _msisdn_counter(first: Msisdn) -> _Counter:
    return _Counter("MSISDN", str(first), first.digits, "digits")


def msisdn_range(first: Msisdn, count: int) -> Iterator[Msisdn]:
    """Yield `count` consecutive MSISDNs of `first`'s length.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the number's length.
    """
    return _range(_msisdn_counter(first), count, Msisdn)


def msisdn_range_last(first: Msisdn, count: int) -> Msisdn:
    """Return the last MSISDN of `msisdn_range(first, count)` without iterating (count >= 1)."""
    return _range_last(_msisdn_counter(first), count, Msisdn)
