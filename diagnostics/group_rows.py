"""Each device's grouping row, kept between sweeps and worked out again where the stream touched it.

At every sweep that changed a status the grouper takes, per device, its group in every
dimension and what its SIM's own evidence says (`Service._attributes`). Worked out afresh
for the whole fleet that is Python per device per sweep, most of a big fleet's run, while
a sweep's batch touches few devices. A row depends only on the device's own facts and
reports, the SIM the map says it holds (`SimMap.sim_of`) and that SIM's word in
`SimReasons`. So a row is worked out again, at the next sweep, for every device a message
since the last one could have changed it for:

- the device of a telemetry report or status (its facts, readings, IMEIs and SIMs);
- every device paired with a SIM a message carried (`SimMap.pairing`): who holds the SIM,
  its newest pairing and its word may have changed, and `sim_of` weighs each paired SIM;
- for a report's IMEI, the same for every SIM the network saw in that IMEI: the IMEI's
  owner decides who holds the SIMs last seen in it.

Pairings are only ever added, so the devices paired with a SIM at the sweep include all
that were paired with it when the message came. Whatever changes with time alone (a
device misbehaving) is no part of a row. Pure and in memory.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, TypeAlias

from diagnostics.incidents import DIMENSIONS
from diagnostics.incidents_reasons import PLATFORM_KEYS
from diagnostics.service_state import DeviceFacts

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from pydantic import BaseModel

    from diagnostics.incidents_readings import OwnReadings
    from diagnostics.incidents_reasons import SimReasons
    from diagnostics.sim_map import SimMap

__all__ = ["PAUSE_EVERY", "ROW_KEYS", "GroupRows", "Row", "grouping_row"]

ROW_KEYS: Final = tuple(dict.fromkeys((*DIMENSIONS, *PLATFORM_KEYS)))
"""The dimensions of a device's grouping row, in the order the grouper is given them."""

PAUSE_EVERY: Final = 2_000
"""Rows worked out between two pauses of a long grouping (some 50 ms of Python)."""
Row: TypeAlias = tuple[object, ...]
"""One device's row, as the service lays it out."""


class GroupRows:
    """The rows of the fleet, each worked out by `work_out` when the stream may have changed it."""

    def __init__(
        self, work_out: Callable[[str], Row], sims: SimMap, pause: Callable[[], None] | None = None
    ) -> None:
        """`pause` is called every `PAUSE_EVERY` rows worked out (`ServiceLock.pause`)."""
        self._work_out = work_out
        self._sims = sims
        self._pause = pause
        self._rows: dict[str, Row] = {}
        self._devices: set[str] = set()
        self._iccids: set[str] = set()
        self._imeis: set[str] = set()

    def touch(self, message: BaseModel) -> None:
        """Note what a message (taken by the service) may change rows through."""
        fields = vars(message)
        device_id = fields.get("device_id")
        if device_id is not None:
            self._devices.add(device_id)
        iccid = fields.get("iccid")
        if iccid is not None:
            self._iccids.add(iccid)
        imei = fields.get("imei")
        if imei is not None and device_id is not None:
            self._imeis.add(imei)

    def rows(self, ids: Sequence[str]) -> list[Row]:
        """The row of every device of `ids`, in that order, each up to date."""
        sims, rows = self._sims, self._rows
        iccids = self._iccids
        for imei in self._imeis:
            iccids |= sims.in_imei(imei)
        stale = self._devices
        for iccid in iccids:
            stale |= sims.pairing(iccid)
        for device_id in stale:
            rows.pop(device_id, None)
        self._devices, self._iccids, self._imeis = set(), set(), set()
        work_out, pause, worked = self._work_out, self._pause, 0
        for device_id in ids:
            if device_id not in rows:
                rows[device_id] = work_out(device_id)
                worked += 1
                if pause is not None and worked % PAUSE_EVERY == 0:
                    pause()
        return [rows[device_id] for device_id in ids]


def grouping_row(
    device_id: str,
    *,
    devices: Mapping[str, DeviceFacts],
    reasons: SimReasons,
    readings: OwnReadings,
    sims: SimMap,
) -> Row:
    """A device's grouping row, as `Service._attributes` reads it.

    Its group in each of `ROW_KEYS`, then the cause its SIM's evidence names, the
    cause its own readings name, the dimensions its SIM's evidence points at
    (misbehaving is no part of it: `Service._attributes` applies that at each sweep), its
    T3412, when the network last registered it where it last reported
    (`SimReasons.contact`), when it let it go since (`SimReasons.let_go`), and whether its
    newest report weakened (`OwnReadings.weakening`) and where it came back from
    (`OwnReadings.returned`).
    """
    f = devices.get(device_id) or DeviceFacts(device_id)
    said = reasons
    iccid = sims.sim_of(device_id)
    explained, weakening, returned = readings.read(device_id)
    groups: dict[str, str | None] = {
        "cell": None if f.cell is None else str(f.cell),
        "operator": f.operator,
        "apn": f.apn,
        "tunnel": said.tunnel(iccid),
        "firmware": said.firmware(iccid, reported=f.firmware, at=f.last_report),
    }
    for key in PLATFORM_KEYS:
        groups[key] = said.record(iccid, key) or getattr(f, key, None)
    return (
        *(groups.get(key) for key in ROW_KEYS),
        said.explanation(iccid),
        explained,
        said.names(iccid, last_report=f.last_report),
        said.timer(iccid) or math.nan,
        said.contact(iccid, operator=f.operator, cell=f.cell),
        said.let_go(iccid, last_report=f.last_report),
        weakening,
        returned,
    )
