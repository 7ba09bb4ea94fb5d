"""Radio geometry: distance, received signal strength, and what a device can hear.

The geometry is written once for a number or a numpy array alike (numpy's functions,
whose kernels give a scalar the same bits as an element of an array), so a device run
as one process and a cohort run as columns (`bulk`) hear the same signal to the bit.
"""

from __future__ import annotations

from typing import Final, TypeVar, cast

import numpy as np
import numpy.typing as npt

from simulator.platform.customer import RadioType

__all__ = [
    "COVERAGE_FLOOR_DBM",
    "LOW_SIGNAL_DBM",
    "distance_km",
    "distances_km",
    "rsrp_at",
    "rsrps_at",
]

Num = TypeVar("Num", float, npt.NDArray[np.float64])

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


def distances_km(lat1: Num, lon1: Num, lat2: Num, lon2: Num) -> Num:
    """Great-circle distance (haversine), of numbers or of arrays element by element."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    s, t = np.sin(dp / 2), np.sin(dl / 2)
    a = s * s + np.cos(p1) * np.cos(p2) * (t * t)
    return cast("Num", 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a)))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    return float(distances_km(lat1, lon1, lat2, lon2))


def rsrps_at(centre_dbm: float, radius_km: float, distance: Num) -> Num:
    """`rsrp_at` of a number or of an array element by element."""
    return centre_dbm - 35.0 * np.log10(1.0 + 9.0 * distance / radius_km)  # type: ignore[no-any-return]


def rsrp_at(centre_dbm: float, radius_km: float, distance: float) -> float:
    """Signal at `distance` from a cell: 35 dB weaker at its nominal radius, log-distance beyond."""
    return float(rsrps_at(centre_dbm, radius_km, distance))
