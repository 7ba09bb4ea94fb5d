"""What each received message tells the detector: the service's reading of the stream.

Device messages name their device; network events name a SIM (and the IMEI it
was in), so `DetectorFeed` asks the service's one device <-> SIM map
(`diagnostics.sim_map`) which device's row a network event belongs on. It feeds
that map too, before it reads it, so the map and the rows never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    from diagnostics.sim_map import SimMap

__all__ = ["DetectorFeed"]


class DetectorFeed:
    """Feeds a detector from messages, and the device <-> SIM map it reads network events by."""

    def __init__(self, detector: Detector, sims: SimMap) -> None:
        self.detector = detector
        self.sims = sims

    def apply(self, message: BaseModel) -> None:
        """Take one decoded message into account (in the map first, then on its device's row)."""
        self.sims.observe(message)
        d = self.detector
        if isinstance(message, Telemetry):
            d.report(d.row(message.device_id), message.t)
        elif isinstance(message, DeviceStatus):
            row = d.row(message.device_id)
            if message.status == "asleep" and message.next_report is not None:
                d.asleep(row, message.t, message.next_report)
            elif message.status == "offline" and message.will:
                d.will(row, message.t)
            elif message.status == "online":
                d.online(row, message.t)
        else:
            self._network(message)

    def _network(self, message: BaseModel) -> None:
        iccid = getattr(message, "iccid", None)
        if iccid is None:
            return
        device = self.sims.device_of(iccid, getattr(message, "imei", None))
        if device is None:
            return
        row = self.detector.row(device)
        t = message.t  # type: ignore[attr-defined]
        if isinstance(message, AttachAccepted | SessionOpened | UsageReported):
            self.detector.network(row, t, alive=True)
        elif isinstance(message, Detached) and message.reason in {"implicit", "network"}:
            self.detector.network(row, t, lost=True)
        elif isinstance(message, AttachRejected | SessionRejected):
            self.detector.network(row, t, rejected=True)
