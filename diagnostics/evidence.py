"""What each received message tells the detector: the service's reading of the stream.

Device messages name their device; network events name a SIM (and the IMEI it
was in), so `DetectorFeed` asks the service's one device <-> SIM map
(`diagnostics.sim_map`) which device's row a network event belongs on. It feeds
that map too, before it reads it, so the map and the rows never disagree. The
timers granted at an attach that came before the device's first report wait
for that report, since they say how long the device may sleep. It also
keeps, per device, the requests made inside the network's back-off timers
(`TimerWatch`), so incidents can leave out a device that does not wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnostics.misbehaving import TimerWatch
from diagnostics.sim_map import SimMap
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    DeviceStatus,
    SessionOpened,
    SessionRejected,
    Telemetry,
    TrackingAreaUpdated,
    UsageReported,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from diagnostics.detection import Detector

__all__ = ["DetectorFeed"]

_Registered = AttachAccepted | TrackingAreaUpdated
_REGISTERED = (AttachAccepted, TrackingAreaUpdated)
"""Registrations: the network hears the device and says which timers it granted."""


class DetectorFeed:
    """Feeds a detector from messages, and the device <-> SIM map it reads network events by."""

    def __init__(self, detector: Detector, sims: SimMap | None = None) -> None:
        """`sims`: the service's device <-> SIM map; a feed on its own keeps its own."""
        self.detector = detector
        self.sims = sims if sims is not None else SimMap()
        self._pending_grant: dict[str, _Registered] = {}
        """Per SIM, timers granted before the stream named the SIM's device."""
        self.timers = TimerWatch()

    def apply(self, message: BaseModel) -> None:
        """Take one decoded message into account (in the map first, then on its device's row)."""
        self.sims.observe(message)
        d = self.detector
        if isinstance(message, Telemetry):
            row = d.row(message.device_id)
            pending = self._pending_grant.pop(message.iccid, None)
            if pending is not None:
                self._grant(row, pending)
            d.report(row, message.t)
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
            if isinstance(message, _REGISTERED):
                self._pending_grant[iccid] = message
            return
        row = self.detector.row(device)
        self.timers.apply(device, message)
        t = message.t  # type: ignore[attr-defined]
        if isinstance(message, _REGISTERED):
            self._grant(row, message)
        if isinstance(message, (*_REGISTERED, SessionOpened, UsageReported)):
            self.detector.network(row, t, alive=True)
        elif isinstance(message, Detached) and message.reason in {"implicit", "network"}:
            self.detector.network(row, t, lost=True)
        elif isinstance(message, AttachRejected | SessionRejected):
            self.detector.network(row, t, rejected=True)

    def _grant(self, row: int, message: _Registered) -> None:
        if message.t3412_s:
            self.detector.granted(row, t3412=message.t3412_s, psm=message.t3324_s is not None)
