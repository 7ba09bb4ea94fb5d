"""The IMSI of a subscriber: MCC, MNC and MSIN, the MNC"s length guessed from the MCC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from protocol.identifiers.checks import InvalidIdentifierError, check_digits, check_length
from protocol.identifiers.field import TextIdentifier
from protocol.identifiers.ranges import Counter

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["MCCS_WITH_THREE_DIGIT_MNC", "Imsi", "imsi_range", "imsi_range_last"]

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


@dataclass(frozen=True, slots=True)
class Imsi(TextIdentifier):
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
            check_digits("IMSI", whole, text, f" of the {part}")
        check_length("IMSI", whole, self.mcc, range(3, 4), "MCC has ")
        if self.mcc == "000":
            raise InvalidIdentifierError("IMSI", whole, "MCC 000 is not a country code")
        check_length("IMSI", whole, self.mnc, range(2, 4), "MNC has ")
        check_length("IMSI", whole, whole, range(15, 16))

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
        check_digits("IMSI", text, text)
        check_length("IMSI", text, text, range(15, 16))
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


def _counter(first: Imsi) -> Counter[Imsi]:
    return Counter(
        "IMSI", str(first), first.msin, "MSIN digits", lambda msin: Imsi(first.mcc, first.mnc, msin)
    )


def imsi_range(first: Imsi, count: int) -> Iterator[Imsi]:
    """Yield `count` IMSIs of `first`'s network with consecutive MSINs.

    Raises:
        ValueError: If `count` is negative.
        InvalidIdentifierError: If the range would outgrow the MSIN's length.
    """
    return _counter(first).ids(count)


def imsi_range_last(first: Imsi, count: int) -> Imsi:
    """Return the last IMSI of `imsi_range(first, count)` without iterating (count >= 1)."""
    return _counter(first).last(count)
