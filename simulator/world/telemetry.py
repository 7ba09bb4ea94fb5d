"""What a device's report says, built alike for one device and for a cohort's columns.

`telemetry` makes the message from what the device measured (its raw signal, its
battery, the time); the device model calls it for each report, and `bulk` calls it
when a cohort's columns are turned back into messages, so both engines put the same
bytes on the wire. `round_half_even` rounds an array the way Python's `round` rounds
a number (to the nearest decimal, ties to even, by the binary value), for sinks that
take the columns as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from protocol.messages import Telemetry
from simulator.world.radio import LOW_SIGNAL_DBM

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["LOW_BATTERY_PCT", "round_half_even", "telemetry"]

LOW_BATTERY_PCT: Final = 10.0
"""Below this, devices report LwM2M error 1 (low battery)."""
_TIE_WINDOW: Final = 1e-6
"""Scaled values this close to a half are rounded one by one, as Python rounds them."""


def telemetry(  # noqa: PLR0913 - one argument per thing the report says
    *,
    t: float,
    device_id: str,
    iccid: str,
    imei: str,
    seq: int,
    firmware: str,
    battery: float | None,
    bearer: str,
    mcc_mnc: str,
    cell_id: int,
    rsrp: float,
    apn: str,
    ip: str,
    uptime: float,
) -> Telemetry:
    """A report from its raw measurements (`t` already the message's Unix time)."""
    errors = [1] if battery is not None and battery < LOW_BATTERY_PCT else []
    if rsrp < LOW_SIGNAL_DBM:
        errors.append(4)
    return Telemetry(
        t=t,
        device_id=device_id,
        iccid=iccid,
        imei=imei,
        seq=seq,
        firmware=firmware,
        battery=None if battery is None else round(battery, 1),
        supply_mv=None if battery is None else round(3300 + 9 * battery),
        bearer=bearer,
        mcc_mnc=mcc_mnc,
        cell_id=cell_id,
        rsrp=round(rsrp, 1),
        rsrq=round(-6.0 + (rsrp + 80) / 8, 1),
        snr=round((rsrp + 125) / 3, 1),
        apn=apn,
        ip=ip,
        errors=errors,
        uptime_s=round(uptime),
    )


def round_half_even(values: npt.NDArray[np.float64], digits: int) -> npt.NDArray[np.float64]:
    """`round(v, digits)` of each value, as Python rounds it, for an array."""
    scale = 10.0**digits
    scaled = values * scale
    rounded = np.rint(scaled) / scale
    near = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < _TIE_WINDOW)
    for i in near:  # a value this close to a tie: let Python decide by its exact binary value
        rounded[i] = round(float(values[i]), digits)
    return rounded
