"""Which countries a network's MCC stands for (ITU-T E.212), for the networks simlab uses.

A mobile country code names one country, or a few that share it (234 serves the
United Kingdom and the Crown Dependencies). The first country listed is the MCC's
own; the others share it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MCC_COUNTRIES", "countries_of"]

MCC_COUNTRIES: Final[dict[str, tuple[str, ...]]] = {
    "204": ("NL",),
    "208": ("FR",),
    "219": ("HR",),
    "230": ("CZ",),
    "234": ("GB", "JE", "GG", "IM"),
    "238": ("DK",),
    "240": ("SE",),
    "242": ("NO",),
    "244": ("FI",),
    "262": ("DE",),
    "293": ("SI",),
    "310": ("US",),
    "311": ("US",),
    "639": ("KE",),
    "640": ("TZ",),
    "641": ("UG",),
}
"""MCC → the ISO 3166 codes of the countries it serves, its own first."""


def countries_of(plmn: str) -> tuple[str, ...]:
    """The countries a network (MCC-MNC) may be in; empty when its MCC is not known here."""
    return MCC_COUNTRIES.get(plmn[:3], ())
