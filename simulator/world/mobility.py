"""Where a device is: placed around its group's spot, walking, on a route, or carried away.

Each device places itself once, at random within its group's spread, and may then
walk at random an hour at a time (never leaving its radius), follow waypoints, or be
carried somewhere else by a fault. The draws come from the device's own generator.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simulator.world.radio import distance_km

if TYPE_CHECKING:
    import random

    from simulator.world.spec import DeviceGroupSpec, Waypoint

__all__ = ["Whereabouts"]

HOUR = 3600.0


class Whereabouts:
    """A device's position over time."""

    def __init__(self, spec: DeviceGroupSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self.home = self._place()
        self.pos = self.home
        self.pos_at = 0.0
        self.relocated: tuple[float, float] | None = None
        """Where a fault carried the device, if it did."""

    def at(self, now: float) -> tuple[float, float]:
        """Where the device is at `now`."""
        if self.relocated is not None:
            return self.relocated
        mobility = self.spec.mobility
        if mobility is None:
            return self.home
        if mobility.waypoints:
            return _along(mobility.waypoints, now, self.home)
        if mobility.walk_km_per_day > 0:
            self._walk(now, mobility.walk_km_per_day, mobility.walk_radius_km)
        return self.pos

    def _place(self) -> tuple[float, float]:
        spread = self.spec.spread_km
        if spread <= 0:
            return (self.spec.lat, self.spec.lon)
        r = spread * math.sqrt(self.rng.random())
        angle = self.rng.uniform(0, 2 * math.pi)
        return _offset(self.spec.lat, self.spec.lon, r * math.cos(angle), r * math.sin(angle))

    def _walk(self, now: float, km_per_day: float, radius_km: float) -> None:
        while self.pos_at + HOUR <= now:
            self.pos_at += HOUR
            step = km_per_day / 24
            angle = self.rng.uniform(0, 2 * math.pi)
            lat, lon = _offset(
                self.pos[0], self.pos[1], step * math.cos(angle), step * math.sin(angle)
            )
            if distance_km(lat, lon, *self.home) <= radius_km:
                self.pos = (lat, lon)


def _offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    dlat = north_km / 111.32
    dlon = east_km / (111.32 * max(math.cos(math.radians(lat)), 1e-6))
    return (lat + dlat, lon + dlon)


def _along(waypoints: list[Waypoint], now: float, home: tuple[float, float]) -> tuple[float, float]:
    previous = (0.0, *home)
    for point in waypoints:
        if now <= point.at:
            t0, lat0, lon0 = previous
            span = point.at - t0
            f = 1.0 if span <= 0 else (now - t0) / span
            return (lat0 + f * (point.lat - lat0), lon0 + f * (point.lon - lon0))
        previous = (point.at, point.lat, point.lon)
    return (previous[1], previous[2])
