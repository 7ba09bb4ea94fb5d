"""Radio geometry: distance, received signal strength, and what a device can hear."""

from __future__ import annotations

import math
from typing import Final

from simulator.platform.customer import RadioType

__all__ = ["COVERAGE_FLOOR_DBM", "LOW_SIGNAL_DBM", "distance_km", "rsrp_at"]

EARTH_RADIUS_KM: Final = 6371.0
COVERAGE_FLOOR_DBM: Final = {
    RadioType.LTE: -120.0,
    RadioType.LTE_M: -125.0,
    RadioType.NB_IOT: -132.0,
    RadioType.UMTS: -115.0,
    RadioType.GSM: -110.0,
}
"""Weakest signal each radio can still register on (coverage enhancement helps LTE-M, NB-IoT)."""
LOW_SIGNAL_DBM: Final = -115.0
"""Below this, devices report LwM2M error 4 (low signal)."""


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def rsrp_at(centre_dbm: float, radius_km: float, distance: float) -> float:
    """Signal at `distance` from a cell: 35 dB weaker at its nominal radius, log-distance beyond."""
    return centre_dbm - 35.0 * math.log10(1.0 + 9.0 * distance / radius_km)
