"""Bounded state for devices nobody vouches for: a cap on ids no inventory or network ties to a SIM.

Every device the service hears from gets state (a row of the detector's columns, its
facts, its grouping row), and a device's topic is anyone's to publish on: a flood of
telemetry under random device ids would grow that state without bound. A device is
vouched for when the SIM its message claims is one the platform has spoken of (an
inventory record or a network event, `SimReasons.knows`) and the claim is not in
conflict with the network (`diagnostics.identity`); those are taken however many
there are (a world of a million inventoried SIMs is the platform's, not a flood).
The others, ids "unknown" to the inventory, get state up to `limit` devices; past it
a message that would give one more unknown id state is refused as a dead letter with
code `unknown_device` (counted, kept aside with the others, never a crash). A device
that already has state keeps being heard, and one vouched for later (its record came
after its first report, as a platform may send it) leaves the unknown ones (when it
reports again, or when the cap is reached and the unknown ones are looked over, at
most once every `limit // 4` refusals so a flood costs little).

Simulated worlds publish every SIM's record at start, before any report, so their
devices are never unknown. A restart counts the unknown ones again from the devices
the store gave state (`recount`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from protocol.messages import DeviceStatus, Telemetry
from protocol.wire import WireError

if TYPE_CHECKING:
    from collections.abc import Callable, Container, Iterable

    from pydantic import BaseModel

    from diagnostics.identity import IdentityGuard
    from diagnostics.incidents_reasons import SimReasons

__all__ = ["CODE", "Admission"]

CODE: Final = "unknown_device"
"""The dead-letter code of a message refused past the cap."""


class Admission:
    """Which device ids may get state (the service calls it under its lock)."""

    def __init__(
        self,
        limit: int,
        present: Container[str],
        reasons: SimReasons,
        identity: IdentityGuard,
    ) -> None:
        """`present`: the ids that have state already (the detector's index)."""
        if limit < 0:
            raise ValueError(f"limit must not be negative, not {limit}")
        self.limit = limit
        self._present = present
        self._reasons = reasons
        self._identity = identity
        self._unknown: dict[str, str | None] = {}
        """Unknown ids given state -> the SIM each claimed last (None: none)."""
        self._refused_since = 0
        self.refused = 0
        """Messages refused past the cap, ever (since this start)."""

    @property
    def unknown(self) -> int:
        """Unknown ids that have state now."""
        return len(self._unknown)

    def check(self, topic: str, message: BaseModel) -> WireError | None:
        """Why a device message may not give its device state, or None when it may."""
        kind = type(message)
        if kind is not Telemetry and kind is not DeviceStatus:
            return None
        fields = vars(message)
        device_id = fields["device_id"]
        iccid = fields["iccid"]
        unknown = self._unknown
        if device_id in self._present and device_id not in unknown:
            return None
        if self._vouched(message, iccid):
            unknown.pop(device_id, None)
            return None
        if device_id in unknown:
            unknown[device_id] = iccid or unknown[device_id]
            return None
        if len(unknown) >= self.limit and not self._looked_over():
            self.refused += 1
            self._refused_since += 1
            return WireError(
                topic,
                "device_id",
                f"{device_id!r} is in no inventory record and no network event, and "
                f"{len(unknown)} such devices are known already (max_unknown_devices)",
                CODE,
            )
        unknown[device_id] = iccid
        return None

    def recount(
        self,
        ids: Iterable[str],
        sim_of: Callable[[str], str | None],
        record: Callable[[str], object | None],
    ) -> None:
        """After a restart: the devices with state whose SIM nobody vouches for are unknown.

        `record` is the store's: a restart replays no records (`Store.replay`).
        """
        knows = self._reasons.knows
        self._unknown = {
            d: sim
            for d in ids
            if (sim := sim_of(d)) is None or not (knows(sim) or record(sim) is not None)
        }

    def _vouched(self, message: BaseModel, iccid: str | None) -> bool:
        if not iccid:
            return False
        return self._reasons.knows(iccid) and self._identity.trusted(message)

    def _looked_over(self) -> bool:
        """At the cap: drop the unknown ids vouched for since; whether that made room.

        At most once every `limit // 4` refusals (see the module).
        """
        if self._refused_since < max(1, self.limit // 4) and self.refused:
            return False
        self._refused_since = 0
        knows = self._reasons.knows
        self._unknown = {d: sim for d, sim in self._unknown.items() if not (sim and knows(sim))}
        return len(self._unknown) < self.limit
