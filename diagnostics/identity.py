"""Identity on the wire: a device's claim to a SIM is taken only where the network agrees.

Telemetry names its device, the SIM (ICCID) and the IMEI it reports with; a retained
status names the device and the SIM. Anyone who can publish on a device's topic can
claim any ICCID, and the device <-> SIM map (`diagnostics.sim_map`) would give the SIM
to the newest claimant: a forged device could take over another's SIM in a diagnosis.
The network side is harder to forge (the platform publishes it, not the devices): its
events name the SIM and the IMEI it was in, and a locked SIM's inventory record names
the IMEI it is locked to. So a claim is held against them (`IdentityGuard.read`):

    imei   the network has seen the SIM, the IMEI it saw it in last is another, and it
           never saw the SIM in the claim's IMEI within `GRACE_S` of the claim (before
           the network saw the SIM at all: the record locks it to another IMEI).
    held   the claim's IMEI (or, for a status, the one the network saw the SIM in last)
           is the one another device reports with: the SIM is in that device.

A claim in conflict is flagged, not trusted: the message is still taken and stored, for
the device's own timeline and detection (it did report), but with its SIM claim taken
out (read with an empty ICCID, stored without one), so the map leaves the device with
its previous SIM or none and the SIM with its holder; the device's view shows the
conflict (`Conflicts`), counted per device and in all. Why not a dead letter: the
report is evidence of the device's own life, and refusing it would let a forger who
copies a genuine device's ICCID by mistake (a swapped label, a stale configuration)
make that device look dead; only the claim is in doubt.

Real moves are not conflicts for long. A SIM swapped or moved into another device comes
back on the network with the new IMEI at its next attach, and a device reports only
after it attached: the network shows the move first. Messages need not arrive in that
order, so a claim in conflict is kept aside (the newest `PENDING_KEPT` per SIM), and
when the network then sees the SIM in that IMEI the claim is taken into the map after
all and no longer counted against its device (`Conflicts.confirmed` counts those). A
claim older than the network's newest word (a replay, a stream delivered backwards) is
judged by the IMEIs the network saw the SIM in around its time (first to last sighting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    AuditRecorded,
    DataBlocked,
    Detached,
    DeviceStatus,
    ImeiChanged,
    SimRecord,
    StateChanged,
    Telemetry,
    TrackingAreaUpdated,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from diagnostics.sim_map import SimMap

__all__ = ["GRACE_S", "PENDING_KEPT", "Conflict", "Conflicts", "IdentityGuard"]

GRACE_S: Final = 600.0
"""How far a claim's time may lie outside the network's sightings of the SIM in its IMEI."""
PENDING_KEPT: Final = 8
"""Claims in conflict kept per SIM, for the network to confirm late (the newest)."""
_LEFT: Final = (-math.inf, False)
"""A detach's `in`: the SIM left that IMEI, whatever else was said of it then."""
_JOINED: Final = frozenset({AttachAccepted, AttachRejected, TrackingAreaUpdated, ImeiChanged})
"""Registrations (and the platform's IMEI change): at one instant, newer than the rest."""
_SPAN: Final = 4
"""Items per IMEI in a SIM's spans: imei, first, last, in."""
_NOT_A_SIGHTING: Final = frozenset({SimRecord, StateChanged, DataBlocked, AuditRecorded})
"""The platform's word names the IMEI it last saw the SIM in, an old sighting (`sim_map`)."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A device's claim to a SIM the network puts elsewhere."""

    iccid: str
    imei: str | None
    """The IMEI the claim came with (None: a status, which names none)."""
    t: float
    why: str
    """`imei` or `held` (see the module)."""
    network_imei: str | None
    """The IMEI the network saw the SIM in last (the lock's, before any sighting)."""
    holder: str | None
    """The device that reports with that IMEI, when one does."""


@dataclass(slots=True)
class Conflicts:
    """Claims in conflict: per device, the count and the newest, and the service's totals."""

    per_device: dict[str, int] = field(default_factory=dict)
    newest: dict[str, Conflict] = field(default_factory=dict)
    flagged: int = 0
    """Claims flagged, ever (confirmed later or not)."""
    confirmed: int = 0
    """Flagged claims the network confirmed afterwards (a real move seen out of order)."""


class IdentityGuard:
    """Holds each device's SIM claim against the network (the service calls it under its lock)."""

    def __init__(self, sims: SimMap) -> None:
        self._sims = sims
        self._spans: dict[str, list[Any]] = {}
        """ICCID -> [imei, first, last, in, imei, ...]: where the network saw it, and when.

        `first` and `last` span every sighting in that IMEI; `in` is (t, joined) of the
        newest but a detach (which says the SIM left it), a registration newer than
        anything else at one instant (the SIM came into that IMEI as it left another).
        """
        self._locks: dict[str, tuple[float, str]] = {}
        """ICCID -> (t, IMEI) of its newest record, while that locks it."""
        self._pending: dict[str, list[tuple[BaseModel, Conflict]]] = {}
        self.conflicts = Conflicts()

    def read(self, message: BaseModel) -> BaseModel:
        """The message as the service reads it: without its SIM claim when that is in conflict.

        Network events and records are noted (and may confirm claims kept aside).
        """
        kind = type(message)
        if kind is Telemetry or kind is DeviceStatus:
            return self._claim(message)
        iccid = getattr(message, "iccid", None)
        if iccid is None:
            return message
        if kind is SimRecord:
            self._record(message)  # type: ignore[arg-type]
        elif kind not in _NOT_A_SIGHTING and (imei := getattr(message, "imei", None)):
            t = message.t  # type: ignore[attr-defined]
            self._sighting(iccid, imei, t, _LEFT if kind is Detached else (t, kind in _JOINED))
        return message

    def trusted(self, message: BaseModel) -> bool:
        """Whether a device message's SIM claim stands (it has one, and no conflict)."""
        fields = vars(message)
        iccid, imei = fields.get("iccid"), fields.get("imei")
        if not iccid:
            return False
        return self._judge(fields["device_id"], iccid, imei, fields["t"]) is None

    def conflict_of(self, device_id: str) -> tuple[int, Conflict | None]:
        """How many of the device's claims are in conflict now, and the newest of them."""
        c = self.conflicts
        return c.per_device.get(device_id, 0), c.newest.get(device_id)

    # ---- claims -------------------------------------------------------------------------------

    def _claim(self, message: BaseModel) -> BaseModel:
        fields = vars(message)
        iccid = fields.get("iccid")
        if not iccid or (fields.get("will") and type(message) is DeviceStatus):
            return message  # no claim (a Last Will pairs nothing: `sim_map`)
        conflict = self._judge(fields["device_id"], iccid, fields.get("imei"), fields["t"])
        if conflict is None:
            return message
        device_id = fields["device_id"]
        c = self.conflicts
        c.flagged += 1
        c.per_device[device_id] = c.per_device.get(device_id, 0) + 1
        c.newest[device_id] = conflict
        kept = self._pending.setdefault(iccid, [])
        kept.append((message, conflict))
        del kept[:-PENDING_KEPT]
        return message.model_copy(update={"iccid": ""})

    def _judge(self, device_id: str, iccid: str, imei: str | None, t: float) -> Conflict | None:
        """Why the claim is in conflict (see the module), or None when it is not."""
        spans = self._spans.get(iccid)
        if spans is None:
            return self._locked(iccid, imei, t)
        last = _last_imei(spans)
        if imei is None:  # a status: the device the network puts the SIM in is someone else
            holder = self._sims.owner(last)
            if holder is None or holder == device_id or self._around(spans, device_id, t):
                return None
            return Conflict(iccid, None, t, "held", last, holder)
        owner = self._sims.owner(imei)
        if owner is not None and owner != device_id:
            return Conflict(iccid, imei, t, "held", last, owner)
        if imei == last or _covers(spans, imei, t):
            return None
        return Conflict(iccid, imei, t, "imei", last, self._sims.owner(last))

    def _locked(self, iccid: str, imei: str | None, t: float) -> Conflict | None:
        """Before any sighting: a claim in another IMEI than the one the record locks to."""
        lock = self._locks.get(iccid)
        if lock is None or imei is None or imei == lock[1]:
            return None
        return Conflict(iccid, imei, t, "imei", lock[1], self._sims.owner(lock[1]))

    def _around(self, spans: list[Any], device_id: str, t: float) -> bool:
        """Whether the network saw the SIM in one of the device's IMEIs around `t`."""
        return any(_covers(spans, imei, t) for imei in self._sims.imeis(device_id))

    # ---- the network's word -------------------------------------------------------------------

    def _sighting(self, iccid: str, imei: str, t: float, t_in: tuple[float, bool]) -> None:
        spans = self._spans.get(iccid)
        if spans is None:
            self._spans[iccid] = [imei, t, t, t_in]
        else:
            for n in range(0, len(spans), _SPAN):
                if spans[n] == imei:
                    spans[n + 1] = min(t, spans[n + 1])
                    spans[n + 2] = max(t, spans[n + 2])
                    spans[n + 3] = max(t_in, spans[n + 3])
                    break
            else:
                spans += [imei, t, t, t_in]
        if iccid in self._pending:
            self._confirm(iccid)

    def _record(self, record: SimRecord) -> None:
        old = self._locks.get(record.iccid)
        if old is not None and record.t < old[0]:
            return
        if record.imei_lock and record.locked_imei:
            self._locks[record.iccid] = (record.t, record.locked_imei)
        else:
            self._locks.pop(record.iccid, None)

    def _confirm(self, iccid: str) -> None:
        """Take into the map the claims kept aside that the network's word now bears out."""
        kept = []
        c = self.conflicts
        for message, conflict in self._pending.pop(iccid):
            fields = vars(message)
            device_id = fields["device_id"]
            if self._judge(device_id, iccid, fields.get("imei"), fields["t"]) is not None:
                kept.append((message, conflict))
                continue
            self._sims.observe(message)
            c.confirmed += 1
            left = c.per_device.get(device_id, 0) - 1
            if left > 0:
                c.per_device[device_id] = left
            else:
                c.per_device.pop(device_id, None)
                c.newest.pop(device_id, None)
        if kept:
            self._pending[iccid] = kept


def _last_imei(spans: list[Any]) -> str:
    """The IMEI of the network's newest sighting of the SIM."""
    newest = max(range(0, len(spans), _SPAN), key=lambda n: spans[n + 3])
    return str(spans[newest])


def _covers(spans: list[Any], imei: str, t: float) -> bool:
    """Whether the network saw the SIM in `imei` within `GRACE_S` of `t`."""
    for n in range(0, len(spans), _SPAN):
        if spans[n] == imei:
            first, last = float(spans[n + 1]), float(spans[n + 2])
            return first - GRACE_S <= t <= last + GRACE_S
    return False
