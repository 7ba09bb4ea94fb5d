"""Network selection: which cells a device may try, by the lists the standard keeps.

A network's refusal puts it, or one of its tracking areas, on a list that keeps the
device away (TS 24.301 §5.5.1.2.5, TS 23.122 §3.1):

* EMM #11 ("PLMN not allowed"): the network goes on the SIM's forbidden-network
  list (EF_FPLMN, `sim_files`), which survives resets, power cycles and swaps;
* EMM #14 ("EPS services not allowed in this PLMN"): the network goes on the modem's
  list of forbidden networks for GPRS service;
* EMM #12, #13, #15: the tracking area (here: the cell) goes on the modem's list of
  forbidden tracking areas, and the device looks for another; that list is also
  deleted periodically, every 12 to 24 hours.

The modem's lists (`Nas`) are gone at a switch-off or modem reset, or when the SIM is
taken out; the SIM's list is not. A network selected by hand is tried once, whatever
the lists say: if it accepts the device, it comes off the SIM's list (TS 23.122 §3.1).
The attach attempt counter for other failures (T3411/T3402, see `retry`) is here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from protocol.nas import EmmCause
from simulator.world.mobility import HOUR
from simulator.world.radio import COVERAGE_FLOOR_DBM

if TYPE_CHECKING:
    from simulator.world.device import Device
    from simulator.world.network import Cell

__all__ = ["TA_CAUSES", "Barred", "Nas", "choose", "hears", "note_attempt", "note_reject"]

TA_CAUSES: Final = frozenset(
    {
        EmmCause.TRACKING_AREA_NOT_ALLOWED,
        EmmCause.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA,
        EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA,
    },
)
"""Rejects that forbid the tracking area, not the network."""
TA_LIST_HOURS: Final = (12.0, 24.0)
"""The forbidden-tracking-area list is deleted after this many hours (drawn per list)."""


@dataclass(slots=True)
class Nas:
    """What the modem remembers between attach attempts until it is switched off."""

    gprs_forbidden: set[str] = field(default_factory=set)
    """Networks refused with #14 (MCC-MNC)."""
    forbidden_tas: set[int] = field(default_factory=set)
    """Tracking areas (cells) refused with #12, #13 or #15."""
    tas_until: float = math.inf
    """When the forbidden-tracking-area list is deleted."""
    attempts: int = 0
    """The attach attempt counter for failures that forbid nothing."""
    manual: str | None = None
    """A network someone selected by hand, for the next attempt."""

    def switch_off(self) -> None:
        """A modem reset, a power cycle or a SIM taken out: the modem's lists are gone."""
        self.gprs_forbidden.clear()
        self.forbidden_tas.clear()
        self.tas_until = math.inf
        self.attempts = 0

    def holds_lists(self) -> bool:
        """Whether anything a modem reset clears keeps the device off a network or an area."""
        return bool(self.gprs_forbidden or self.forbidden_tas)


Barred = Literal["network", "area"] | None
"""What keeps a device off the cells it hears: a forbidden network, a forbidden area, or none."""


def choose(device: Device, now: float, lat: float, lon: float) -> tuple[list[Cell], Barred]:
    """The cells the device may try now, strongest first, and what bars the others it hears."""
    nas = device.nas
    if now >= nas.tas_until:
        nas.forbidden_tas.clear()
        nas.tas_until = math.inf
    network = device.world.network
    loss = device.antenna.reach_db(now)
    heard = [c for c, _ in network.audible(lat, lon, device.radio, loss)]
    if nas.manual is not None:
        chosen = [c for c in heard if c.mcc_mnc == nas.manual]
        if chosen:
            return chosen, None
        nas.manual = None  # not heard here: back to automatic selection
    assert device.sim is not None
    networks = set(device.world.sim_files.forbidden(device.sim)) | nas.gprs_forbidden
    allowed = [c for c in heard if c.mcc_mnc not in networks and c.id not in nas.forbidden_tas]
    if allowed or not heard:
        return allowed, None
    return [], "network" if any(c.mcc_mnc in networks for c in heard) else "area"


def hears(device: Device, cell: Cell, now: float) -> bool:
    """Whether the device still hears the cell it camps on (it looks before it sends a word).

    A device that wakes from PSM, or is about to report, where the signal has gone below
    what its radio can use is out of coverage: it sends nothing there (no TAU, no MQTT).
    """
    lat, lon = device.position(now)
    return cell.signal(lat, lon) - device.loss_db(now) >= COVERAGE_FLOOR_DBM[device.radio]


def note_attempt(device: Device, cell: Cell, *, accepted: bool) -> None:
    """After an attach: a manual selection is used up; one that worked lifts the SIM's entry."""
    nas = device.nas
    if nas.manual is None:
        return
    if accepted and device.sim is not None:
        device.world.sim_files.allow(device.sim, cell.mcc_mnc)
    nas.manual = None


def note_reject(device: Device, cell: Cell, cause: int, now: float) -> bool:
    """Write a list-forbidding reject where it belongs; False when `cause` forbids nothing."""
    nas = device.nas
    if cause == EmmCause.PLMN_NOT_ALLOWED:
        assert device.sim is not None
        device.world.sim_files.forbid(device.sim, cell.mcc_mnc)
    elif cause == EmmCause.EPS_SERVICES_NOT_ALLOWED_IN_THIS_PLMN:
        nas.gprs_forbidden.add(cell.mcc_mnc)
    elif cause in TA_CAUSES:
        if not nas.forbidden_tas:
            nas.tas_until = now + device.rng.uniform(*TA_LIST_HOURS) * HOUR
        nas.forbidden_tas.add(cell.id)
    else:
        return False
    return True
