"""Which device holds which SIM: one map with one rule, read by detection, support and diagnosis.

Device messages pair a device with the SIM it reports with (telemetry also with
its IMEI); network events pair a SIM with the IMEI of the device it is in. The
rule: a SIM is where its newest pairing puts it, newest by the message's own
timestamp: in the device that reported with it, or in the device that reports
with the IMEI the network saw it with. A network pairing with an IMEI no device
has reported with (new hardware that never got online, refused by a lock, say)
leaves the SIM with the device that last reported with it.

Every pairing is kept as the newest by (timestamp, kind, name), never by arrival,
so the same messages delivered in any order give the same map; at one instant a
detach is older than what else is said (the SIM left one device for another). A Last Will is no
pairing: the broker sends it late, naming the SIM of a connection that may be gone. Nor
is the platform's own word (a state change, a data block, an audit entry): the IMEI it
names is the one the platform last saw the SIM in, an old sighting, not one at its time
(a SIM swapped since and refused in its new device is still named in the old one).
Pure and in memory; `SimMap.observe` takes each decoded message once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias

from diagnostics.compact import Many, add, values
from protocol.messages import (
    AuditRecorded,
    DataBlocked,
    Detached,
    DeviceStatus,
    SimRecord,
    StateChanged,
    Telemetry,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

__all__ = ["Sighting", "SimMap"]

_DETACHED: Final = 0
_NETWORK: Final = 1
_DEVICE: Final = 2
_PLATFORM_SAID: Final = frozenset({SimRecord, StateChanged, DataBlocked, AuditRecorded})
"""Kinds that pair nothing: the platform's word, with the IMEI it last saw (see the module)."""


Sighting: TypeAlias = tuple[float, int, str]
"""One pairing of a SIM, compared as a plain tuple: (t, rank, name).

`rank` says what says so, which settles a tie: 0 the network's detach (the SIM left that
device), 1 any other network event (the IMEI it is in), 2 a device's own report. `name` is
the device id (a report) or the IMEI (the network). A plain tuple, as fast as the stream.
"""


class SimMap:
    """Device <-> SIM and IMEI -> device, as the newest pairings say."""

    def __init__(self, owners: Callable[[str], str | None] | None = None) -> None:
        """A map of the messages it is given.

        `owners` says who reports with an IMEI those messages do not show: a map rebuilt from
        part of the stream, as it stood at a past moment, asks the whole one.
        """
        self._owners = owners
        self._newest: dict[str, Sighting] = {}
        """ICCID -> its newest pairing of either kind."""
        self._reported: dict[str, Sighting] = {}
        """ICCID -> the newest device report with it."""
        self._owner: dict[str, Sighting] = {}
        """IMEI -> the newest report with it (name: the device)."""
        self._imeis: Many = {}
        """Device -> every IMEI it reported with."""
        self._direct: Many = {}
        """Device -> every SIM it reported with."""
        self._reporters: Many = {}
        """ICCID -> every device that reported with it."""
        self._last: dict[str, tuple[float, str]] = {}
        """Device -> (t, ICCID) of its newest report with a SIM."""
        self._in_imei: Many = {}
        """IMEI -> every SIM the network saw with it."""
        self._seen_in: Many = {}
        """ICCID -> every IMEI the network saw it with (`_in_imei` the other way)."""
        self._users: Many = {}
        """IMEI -> every device that reported with it (`_imeis` the other way)."""

    def observe(self, message: BaseModel) -> None:
        """Take one decoded message's pairing into account (messages without one are ignored)."""
        fields = vars(message)  # the model's field values: plain lookups, none that can raise
        iccid = fields.get("iccid")
        kind = type(message)  # compared by identity: isinstance on a model class is slow
        if not iccid or kind in _PLATFORM_SAID:
            return
        t = fields["t"]
        if kind is Telemetry:
            device_id, imei = fields["device_id"], fields["imei"]
            _keep(self._owner, imei, self._device(device_id, iccid, t))
            add(self._imeis, device_id, imei)
            add(self._users, imei, device_id)
        elif kind is DeviceStatus:
            if not fields["will"]:
                self._device(fields["device_id"], iccid, t)
        elif (imei := fields.get("imei")) is not None:
            rank = _DETACHED if kind is Detached else _NETWORK
            _keep(self._newest, iccid, (t, rank, imei))
            add(self._in_imei, imei, iccid)
            add(self._seen_in, iccid, imei)

    def known_imeis(self, device_id: str, imeis: frozenset[str]) -> None:
        """Take `imeis` as the device's, as the whole stream shows them.

        A map rebuilt as it stood at a past moment, before the device first reported, still
        knows its hardware, and so the SIM the network saw in it then.
        """
        for imei in imeis:
            add(self._imeis, device_id, imei)
            add(self._users, imei, device_id)

    def _device(self, device_id: str, iccid: str, t: float) -> Sighting:
        seen = (t, _DEVICE, device_id)
        _keep(self._newest, iccid, seen)
        _keep(self._reported, iccid, seen)
        add(self._direct, device_id, iccid)
        add(self._reporters, iccid, device_id)
        last = self._last.get(device_id)
        if last is None or (t, iccid) > last:
            self._last[device_id] = (t, iccid)
        return seen

    # ---- questions ----------------------------------------------------------------------------

    def owner(self, imei: str) -> str | None:
        """The device that reports with this IMEI (None: no device has)."""
        seen = self._owner.get(imei)
        if seen is not None:
            return seen[2]
        return self._owners(imei) if self._owners is not None else None

    def holder(self, iccid: str) -> str | None:
        """The device the SIM is in now, by the rule (None: no device is known with it)."""
        newest = self._newest.get(iccid)
        if newest is None:
            return None
        if newest[1] == _DEVICE:
            return newest[2]
        owner = self.owner(newest[2])
        if owner is not None:
            return owner
        reported = self._reported.get(iccid)
        return reported[2] if reported is not None else None

    def device_of(self, iccid: str, imei: str | None) -> str | None:
        """The device a network event about the SIM, seen with `imei`, concerns."""
        owner = self.owner(imei) if imei is not None else None
        return owner if owner is not None else self.holder(iccid)

    def sim_of(self, device_id: str) -> str | None:
        """The SIM the device holds now (None: it gave its SIM away, or never reported one)."""
        held = [iccid for iccid in self._paired(device_id) if self.holder(iccid) == device_id]
        return max(held, key=lambda iccid: (self._newest[iccid], iccid)) if held else None

    def last_sim(self, device_id: str) -> str | None:
        """The SIM the device reported with last, whether it holds it still or not."""
        last = self._last.get(device_id)
        return last[1] if last is not None else None

    def imeis(self, device_id: str) -> frozenset[str]:
        """Every IMEI the device reported with."""
        return frozenset(values(self._imeis, device_id))

    def reporters(self, iccid: str) -> frozenset[str]:
        """Every device that reported with the SIM."""
        return frozenset(values(self._reporters, iccid))

    def paired(self, device_id: str) -> frozenset[str]:
        """Every SIM the device reported with or the network saw with one of its IMEIs."""
        return frozenset(self._paired(device_id))

    def in_imei(self, imei: str) -> frozenset[str]:
        """Every SIM the network saw with this IMEI (whose holder its owner may decide)."""
        return frozenset(values(self._in_imei, imei))

    def pairing(self, iccid: str) -> set[str]:
        """Every device the SIM is `paired` with: those whose `sim_of` weighs it."""
        found = set(values(self._reporters, iccid))
        for imei in values(self._seen_in, iccid):
            found.update(values(self._users, imei))
        return found

    def _paired(self, device_id: str) -> set[str]:
        found = set(values(self._direct, device_id))
        for imei in values(self._imeis, device_id):
            found.update(values(self._in_imei, imei))
        return found


def _keep(table: dict[str, Sighting], key: str, seen: Sighting) -> None:
    """Keep `seen` if it is newer than what the table holds for `key`."""
    old = table.get(key)
    if old is None or seen > old:
        table[key] = seen
