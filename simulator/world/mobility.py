"""Where a device is: placed around its group's spot, walking, on a route, or carried away.

Each device places itself once, at random within its group's spread (a draw keyed by
the device, see `keyed`, so either engine places it alike), and may then walk at
random an hour at a time (never leaving its radius, drawn from the device's own
generator), follow waypoints, or be carried somewhere else by a fault.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simulator.world import keyed
from simulator.world.radio import Num, distance_km

if TYPE_CHECKING:
    import random

    from simulator.world.spec import DeviceGroupSpec, Waypoint

__all__ = ["Whereabouts", "place", "places"]

HOUR = 3600.0


class Whereabouts:
    """A device's position over time."""

    def __init__(self, spec: DeviceGroupSpec, rng: random.Random, key: int) -> None:
        self.spec = spec
        self.rng = rng
        self.home = place(
            spec,
            keyed.uniform(key, keyed.Draw.PLACE_RADIUS),
            keyed.uniform(key, keyed.Draw.PLACE_ANGLE),
        )
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


def place(spec: DeviceGroupSpec, radius_u: float, angle_u: float) -> tuple[float, float]:
    """A device's home from its two placement draws: uniform over its group's spread disc."""
    if spec.spread_km <= 0:
        return (spec.lat, spec.lon)
    lat, lon = places(spec, radius_u, angle_u)
    return float(lat), float(lon)


def places(spec: DeviceGroupSpec, radius_u: Num, angle_u: Num) -> tuple[Num, Num]:
    """`place` of numbers or of arrays element by element (numpy's kernels: the same bits)."""
    r = spec.spread_km * np.sqrt(radius_u)
    angle = 2 * math.pi * angle_u
    return _offset(spec.lat, spec.lon, r * np.cos(angle), r * np.sin(angle))


def _offset(lat: float, lon: float, north_km: Num, east_km: Num) -> tuple[Num, Num]:
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
