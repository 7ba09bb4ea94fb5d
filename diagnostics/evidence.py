"""What each received message tells the detector: the service's reading of the stream.

Device messages name their device; network events name a SIM (and the IMEI it
was in), so `DetectorFeed` keeps which device the stream last saw with each
SIM and IMEI, only to put a network event on the right device's row. It also
keeps, per device, the requests made inside the network's back-off timers
(`TimerWatch`), so incidents can leave out a device that does not wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnostics.misbehaving import TimerWatch
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    DeviceStatus,
    SessionOpened,
    SessionRejected,
    Telemetry,
    UsageReported,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from diagnostics.detection import Detector

__all__ = ["DetectorFeed"]


class DetectorFeed:
    """Feeds a detector from messages; knows which device holds which SIM, as the stream says."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.device_of_sim: dict[str, str] = {}
        self.device_of_imei: dict[str, str] = {}
        self.timers = TimerWatch()

    def apply(self, message: BaseModel) -> None:
        """Take one decoded message into account."""
        d = self.detector
        if isinstance(message, Telemetry):
            row = d.row(message.device_id)
            self.device_of_sim[message.iccid] = message.device_id
            self.device_of_imei[message.imei] = message.device_id
            d.report(row, message.t)
        elif isinstance(message, DeviceStatus):
            row = d.row(message.device_id)
            if message.iccid:
                self.device_of_sim[message.iccid] = message.device_id
            if message.status == "asleep" and message.next_report is not None:
                d.asleep(row, message.t, message.next_report)
            elif message.status == "offline" and message.will:
                d.will(row, message.t)
            elif message.status == "online":
                d.online(row, message.t)
        else:
            self._network(message)

    def _network(self, message: BaseModel) -> None:
        device = self._device_of(message)
        if device is None:
            return
        row = self.detector.row(device)
        self.timers.apply(device, message)
        t = message.t  # type: ignore[attr-defined]
        if isinstance(message, AttachAccepted | SessionOpened | UsageReported):
            self.detector.network(row, t, alive=True)
        elif isinstance(message, Detached) and message.reason in {"implicit", "network"}:
            self.detector.network(row, t, lost=True)
        elif isinstance(message, AttachRejected | SessionRejected):
            self.detector.network(row, t, rejected=True)

    def _device_of(self, message: BaseModel) -> str | None:
        imei = getattr(message, "imei", None)
        if imei is not None and imei in self.device_of_imei:
            return self.device_of_imei[imei]
        iccid = getattr(message, "iccid", None)
        return self.device_of_sim.get(iccid) if iccid is not None else None
