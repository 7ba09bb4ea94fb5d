"""Ground truth: what really happened to each device. The diagnostics service never sees it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from protocol.causes import Cause
    from simulator.world.spec import FaultId

__all__ = ["TruthLog", "TruthRecord"]


@dataclass(slots=True)
class TruthRecord:
    """A fault on a device: when it began and ended, and the cause a diagnosis should name."""

    device_id: str
    iccid: str | None
    fault: FaultId
    cause: Cause
    start: float
    end: float | None = None
    injected: bool = True
    """False when the fault arose by itself (a battery ran out, a collar walked out of coverage)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        data = asdict(self)
        data["fault"] = self.fault.value
        data["cause"] = self.cause.value
        return data


class TruthLog:
    """Every fault record of a run, in the order they began."""

    def __init__(self) -> None:
        self.records: list[TruthRecord] = []
        self._open: dict[str, dict[FaultId, TruthRecord]] = {}

    def open(self, record: TruthRecord) -> None:
        """Start a record unless the same fault is already open on the device."""
        faults = self._open.setdefault(record.device_id, {})
        if record.fault not in faults:
            faults[record.fault] = record
            self.records.append(record)

    def close(self, device_id: str, fault: FaultId, end: float) -> None:
        """End the open record of `fault` on the device, if any.

        One that ends the moment it began left nothing to see: it is no record.
        """
        record = self._open.get(device_id, {}).pop(fault, None)
        if record is None:
            return
        record.end = end
        if end <= record.start:
            self.records.remove(record)

    def active(self, device_id: str, fault: FaultId | None = None) -> bool:
        """Whether the device has an open record (of `fault`, or of any fault)."""
        faults = self._open.get(device_id, {})
        return bool(faults) if fault is None else fault in faults

    def record_of(self, device_id: str, fault: FaultId) -> TruthRecord:
        """The open record of `fault` on the device (KeyError when there is none)."""
        return self._open[device_id][fault]

    def move(self, fault: FaultId, source: str, target: str, at: float, iccid: str | None) -> None:
        """A fault that follows the SIM moves with it: closed on `source`, opened on `target`."""
        record = self._open.get(source, {}).get(fault)
        if record is None:
            return
        self.close(source, fault, at)
        self.open(TruthRecord(target, iccid, fault, record.cause, at, injected=record.injected))

    def open_faults(self, device_id: str) -> list[FaultId]:
        """The faults open on a device now."""
        return list(self._open.get(device_id, {}))
