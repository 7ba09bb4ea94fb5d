"""Each device's latest facts (its newest telemetry and status) in columns by detector row.

`FactsTable` is what `Service.devices` is: a read-only mapping of device id to
`DeviceFacts`, each built when asked for, over numpy columns by the device's row in
the detector (`incidents_readings.Rows`). Texts most devices share (account, operator,
APN, firmware, status) are kept as codes into one list of the texts seen; the IMEI, a
device's own, as the string itself. About 80 bytes a device, where a `DeviceFacts`
object with its floats and ints is over 300. It also keeps `by_cell`: the devices of
each (operator, cell) of their newest report, a cell's peers.

The rule of each fact is the one the service always had: a telemetry message newer
than (or as new as) the device's newest report sets the telemetry facts, a status
newer than its newest status sets the status; either sets the account it came under,
when it came under one. Pure; the service calls it under its lock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final

import numpy as np

from diagnostics.service_state import DeviceFacts

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from diagnostics.incidents_readings import Rows
    from protocol.messages import DeviceStatus, Telemetry

__all__ = ["FactsTable"]

_NONE: Final = -1
"""The code of no text."""
_TEXTS: Final = ("account", "operator", "apn", "firmware", "status")
_TIMES: Final = ("last_report", "battery", "rsrp", "status_t")


class FactsTable(Mapping[str, DeviceFacts]):
    """Device id -> its `DeviceFacts`, for the devices a telemetry or status came from."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self._texts: list[str] = []
        self._code: dict[str, int] = {}
        self._size = 0
        self._present = np.zeros(0, np.bool_)
        self._codes: dict[str, NDArray[np.int32]] = {k: np.zeros(0, np.int32) for k in _TEXTS}
        self._floats: dict[str, NDArray[np.float64]] = {k: np.zeros(0) for k in _TIMES}
        self._cell = np.zeros(0, np.int64)
        self._imei = np.zeros(0, object)
        self._count = 0
        self.by_cell: dict[tuple[str | None, int | None], set[str]] = {}
        """(operator, cell) of each device's newest report -> the devices: a cell's peers."""

    # ---- the stream ---------------------------------------------------------------------------

    def report(self, message: Telemetry, account: str | None) -> None:
        """Take a telemetry message: the device's newest report, if it is."""
        row = self._row(message.device_id)
        last = self._floats["last_report"][row]
        if not math.isnan(last) and message.t < last:
            return
        self._account(row, account)
        self._imei[row] = message.imei
        self._move(message.device_id, row, message.mcc_mnc, message.cell_id)
        self._set("apn", row, message.apn)
        self._floats["last_report"][row] = message.t
        battery = message.battery
        self._floats["battery"][row] = math.nan if battery is None else battery
        self._floats["rsrp"][row] = message.rsrp
        self._set("firmware", row, message.firmware)

    def status(self, message: DeviceStatus, account: str | None) -> None:
        """Take a status message: the device's newest status, if it is."""
        row = self._row(message.device_id)
        last = self._floats["status_t"][row]
        if not math.isnan(last) and message.t < last:
            return
        self._account(row, account)
        self._set("status", row, message.status)
        self._floats["status_t"][row] = message.t

    def _row(self, device_id: str) -> int:
        row = self._rows.row(device_id)
        if row >= self._size:
            self._grow(row + 1)
        if not self._present[row]:
            self._present[row] = True
            self._count += 1
        return row

    def _grow(self, rows: int) -> None:
        size = max(rows, 2 * self._size, 1024)
        more = size - self._size
        self._present = np.concatenate([self._present, np.zeros(more, np.bool_)])
        for key, codes in self._codes.items():
            self._codes[key] = np.concatenate([codes, np.full(more, _NONE, np.int32)])
        for key, values in self._floats.items():
            self._floats[key] = np.concatenate([values, np.full(more, np.nan)])
        self._cell = np.concatenate([self._cell, np.full(more, _NONE, np.int64)])
        self._imei = np.concatenate([self._imei, np.full(more, None, object)])
        self._size = size

    def _set(self, key: str, row: int, text: str) -> None:
        code = self._code.get(text)
        if code is None:
            code = self._code[text] = len(self._texts)
            self._texts.append(text)
        self._codes[key][row] = code

    def _account(self, row: int, account: str | None) -> None:
        if account:  # a message under no account leaves the one known
            self._set("account", row, account)

    def _move(self, device_id: str, row: int, operator: str, cell: int) -> None:
        """Put the device on the cell of its newest report, in its row and in `by_cell`."""
        old = (self._text("operator", row), self._cell_of(row))
        if old != (operator, cell):
            self.by_cell.get(old, set()).discard(device_id)
            self.by_cell.setdefault((operator, cell), set()).add(device_id)
        self._set("operator", row, operator)
        self._cell[row] = cell

    # ---- questions ----------------------------------------------------------------------------

    def _text(self, key: str, row: int) -> str | None:
        code = int(self._codes[key][row])
        return None if code == _NONE else self._texts[code]

    def _cell_of(self, row: int) -> int | None:
        """Its cell: set with its first report, as its operator is."""
        return None if math.isnan(self._floats["last_report"][row]) else int(self._cell[row])

    def _float(self, key: str, row: int) -> float | None:
        value = float(self._floats[key][row])
        return None if math.isnan(value) else value

    def _present_row(self, device_id: object) -> int | None:
        row = self._rows.index.get(device_id) if isinstance(device_id, str) else None
        return row if row is not None and row < self._size and self._present[row] else None

    def __getitem__(self, device_id: str) -> DeviceFacts:
        row = self._present_row(device_id)
        if row is None:
            raise KeyError(device_id)
        text, number = self._text, self._float
        return DeviceFacts(
            device_id,
            account=text("account", row),
            imei=self._imei[row],
            operator=text("operator", row),
            cell=self._cell_of(row),
            apn=text("apn", row),
            last_report=number("last_report", row),
            battery=number("battery", row),
            rsrp=number("rsrp", row),
            firmware=text("firmware", row),
            status=text("status", row),
            status_t=number("status_t", row),
        )

    def __contains__(self, device_id: object) -> bool:
        return self._present_row(device_id) is not None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        rows = self._rows.index
        return (d for d, row in list(rows.items()) if row < self._size and self._present[row])

    def matching(
        self,
        rows: NDArray[np.int64],
        *,
        account: str | None = None,
        operator: str | None = None,
        cell: int | None = None,
    ) -> NDArray[np.int64]:
        """Those of `rows` whose facts hold every filter given (with numpy, not row by row)."""
        rows = rows[rows < self._size]
        keep = self._present[rows]
        for key, text in (("account", account), ("operator", operator)):
            if text is not None:
                code = self._code.get(text, -2)  # a text never seen matches no row
                keep &= self._codes[key][rows] == code
        if cell is not None:
            keep &= (self._cell[rows] == cell) & ~np.isnan(self._floats["last_report"][rows])
        return rows[keep]
