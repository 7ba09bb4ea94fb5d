"""What generated worlds are drawn from: countries and their networks, industries and devices.

Plain data. Countries carry the networks a device can meet there (MCC-MNC and
name), a place to put a fleet and the local time zone; industries the device
models, how they are powered, how often they report and whether they move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = ["COUNTRIES", "INDUSTRIES", "NEIGHBOURS", "Country", "Industry"]


@dataclass(frozen=True, slots=True)
class Country:
    """A country: its networks, a town to put a fleet in, its time zone."""

    iso: str
    operators: tuple[tuple[str, str], ...]
    """(MCC-MNC, name) of its networks."""
    town: str
    lat: float
    lon: float
    time_zone: str


COUNTRIES: Final = {
    c.iso: c
    for c in (
        Country(
            "SE", (("24001", "Telia"), ("24007", "Tele2")), "Umeå", 63.82, 20.26, "Europe/Stockholm"
        ),
        Country(
            "NO",
            (("24201", "Telenor"), ("24202", "Telia Norge")),
            "Tromsø",
            69.65,
            18.96,
            "Europe/Oslo",
        ),
        Country(
            "FI",
            (("24405", "Elisa"), ("24491", "Telia Finland")),
            "Oulu",
            65.01,
            25.47,
            "Europe/Helsinki",
        ),
        Country(
            "DK",
            (("23801", "TDC"), ("23820", "Telia DK")),
            "Aarhus",
            56.16,
            10.20,
            "Europe/Copenhagen",
        ),
        Country(
            "DE",
            (("26201", "Telekom"), ("26202", "Vodafone DE")),
            "Kassel",
            51.31,
            9.48,
            "Europe/Berlin",
        ),
        Country(
            "FR",
            (("20801", "Orange France"), ("20810", "SFR")),
            "Rennes",
            48.11,
            -1.68,
            "Europe/Paris",
        ),
        Country(
            "GB",
            (("23410", "O2 UK"), ("23415", "Vodafone UK")),
            "Leeds",
            53.80,
            -1.55,
            "Europe/London",
        ),
        Country(
            "KE",
            (("63902", "Safaricom"), ("63903", "Airtel Kenya")),
            "Nakuru",
            -0.30,
            36.07,
            "Africa/Nairobi",
        ),
        Country(
            "TZ",
            (("64002", "Tigo"), ("64005", "Airtel Tanzania")),
            "Arusha",
            -3.37,
            36.68,
            "Africa/Dar_es_Salaam",
        ),
        Country(
            "UG",
            (("64101", "Airtel Uganda"), ("64110", "MTN Uganda")),
            "Gulu",
            2.78,
            32.30,
            "Africa/Kampala",
        ),
        Country(
            "US",
            (("310410", "AT&T"), ("311480", "Verizon")),
            "Boise",
            43.62,
            -116.20,
            "America/Boise",
        ),
    )
}
"""Countries whose networks simlab's messages can name."""

NEIGHBOURS: Final = {
    "SE": ("NO", "FI", "DK"),
    "NO": ("SE", "FI"),
    "FI": ("SE", "NO"),
    "DK": ("SE", "DE"),
    "DE": ("DK", "FR"),
    "FR": ("DE", "GB"),
    "GB": ("FR",),
    "KE": ("TZ", "UG"),
    "TZ": ("KE", "UG"),
    "UG": ("KE", "TZ"),
    "US": (),
}
"""Where a device can roam to from each country."""


@dataclass(frozen=True, slots=True)
class Industry:
    """A kind of fleet: its devices, their power, their schedule and how they move."""

    name: str
    noun: str
    """What the customer calls one device ("Soil probe")."""
    models: tuple[str, ...]
    intervals: tuple[float, ...]
    """Report intervals in seconds it can have."""
    moves: str
    """none, walk (each alone) or convoy (together along waypoints)."""
    company: str
    """How its companies are named."""
    battery: bool = field(kw_only=True)
    psm: bool = field(kw_only=True)
    """Its devices sleep between reports."""


H = 3600.0
INDUSTRIES: Final = (
    Industry(
        "water metering",
        "Water meter",
        ("hydrosense-n2", "aquatick-4"),
        (6 * H, 12 * H, 24 * H),
        "none",
        "Vatten",
        battery=True,
        psm=True,
    ),
    Industry(
        "gas metering",
        "Gas meter",
        ("gasline-g7",),
        (6 * H, 12 * H, 24 * H),
        "none",
        "Gas",
        battery=True,
        psm=True,
    ),
    Industry(
        "soil sensing",
        "Soil probe",
        ("terraprobe-s3", "agrisoil-2"),
        (6 * H, 12 * H),
        "none",
        "Agri",
        battery=True,
        psm=True,
    ),
    Industry(
        "ev charging",
        "Charger",
        ("voltbox-22", "ampcharge-11"),
        (300.0, 600.0, 900.0),
        "none",
        "Charge",
        battery=False,
        psm=False,
    ),
    Industry(
        "lift monitoring",
        "Lift monitor",
        ("liftguard-7",),
        (600.0, 1200.0),
        "none",
        "Lift",
        battery=False,
        psm=False,
    ),
    Industry(
        "vending",
        "Vending machine",
        ("snackcast-3", "vendnet-5"),
        (1800.0, 3600.0),
        "none",
        "Vend",
        battery=False,
        psm=False,
    ),
    Industry(
        "street lighting",
        "Light controller",
        ("lumenode-2",),
        (1800.0, 3600.0),
        "none",
        "Lumen",
        battery=False,
        psm=False,
    ),
    Industry(
        "wildlife tracking",
        "Tracking tag",
        ("fauna-tag-l4",),
        (1800.0, 3600.0),
        "walk",
        "Wild",
        battery=True,
        psm=False,
    ),
    Industry(
        "bike sharing",
        "Bike lock",
        ("cyclelock-b5",),
        (900.0, 1800.0),
        "walk",
        "Cycle",
        battery=True,
        psm=False,
    ),
    Industry(
        "cold chain",
        "Reefer unit",
        ("coldlink-8", "frigotrack-3"),
        (600.0, 900.0),
        "convoy",
        "Cold",
        battery=False,
        psm=False,
    ),
    Industry(
        "livestock",
        "Cattle collar",
        ("herdtag-c2",),
        (1800.0, 3600.0),
        "walk",
        "Herd",
        battery=True,
        psm=False,
    ),
)
"""The fleets generated worlds hold."""
