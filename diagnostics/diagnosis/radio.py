"""A broken radio or antenna, told from lost coverage by the device's reports and neighbours.

Both end the same way on the wire: the device's signal falls, it goes quiet, and no
attach of its own reaches the network (no reject, the SIM record unchanged). What
differs is how the signal fell and what the devices around it saw:

* a broken antenna takes tens of decibels away at once: between two reports less than
  `STEP_WINDOW_S` apart the signal falls by `STEP_DB` or more. Coverage fading (a
  device buried, snowed in or walking out of range) loses it over hours;
* the other devices on the same cell report as before, at a signal well above the
  device's last (`PEER_MARGIN_DB`): the cell and the coverage around it are fine.

Both seen: the radio or antenna. Only the step, or only fine neighbours: either
could be it, named with the test that separates them (`SEPARATING_TEST`). A device
that reports rarely enough to go from a good report straight to silence shows neither.

One thing outweighs a step: devices on its cell that went quiet *with* it, several of
them having seen their own signal fall away first (`diagnostics.peers`). A broken
antenna is one device's misfortune; devices leaving coverage together are carried
out of it (a convoy driving off fast falls 20 dB between two reports, as a broken
antenna does). The same peers tell a device whose last report showed nothing that
it went where they went, not that its power failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.model import Evidence
from diagnostics.diagnosis.readings import WEAK_SIGNAL_DBM, cite
from protocol.causes import Cause

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import Case, CellPeers, Seen
    from protocol.messages import Telemetry

__all__ = [
    "PEER_MARGIN_DB",
    "SEPARATING_TEST",
    "STEP_DB",
    "STEP_WINDOW_S",
    "RadioReading",
    "radio_reading",
]

STEP_DB: Final = 20.0
"""A fall at least this large between two reports is a step, not a fade..."""
STEP_WINDOW_S: Final = 1800.0
"""...when the reports are at most this far apart (a fade takes hours: 20 dB is 1 h or more);"""
FADE_DB_PER_H: Final = 25.0
"""...reports further apart (up to twice that) need a fall this much larger per hour beyond it:
more than the fastest fade could take in the time."""
STEP_LOOKBACK_S: Final = 3600.0 + STEP_WINDOW_S
"""How far before its last report a step is looked for: a broken antenna can keep its cell for
up to an hour after the step, reporting ever weaker, before it loses it."""
PEER_MARGIN_DB: Final = 20.0
"""Neighbours whose median signal is this far above the device's last report are fine."""
MIN_PEERS: Final = 2
"""At least this many neighbours must have reported after the device went quiet."""
MIN_TOGETHER: Final = 2
"""At least this many devices of its cell must have gone quiet with it..."""
FADING_SHARE: Final = 0.1
"""...this share of them (and at least one) having seen their own signal fall away first."""
UNEXPLAINED: Final = (
    (Cause.POWER_LOSS, 0.4),
    (Cause.DAMAGED_SIM, 0.3),
    (Cause.COVERAGE_LOSS, 0.15),
    (Cause.RADIO_HARDWARE, 0.15),
)
"""A quiet nothing explains: the wire is the same for all four (see `unexplained`)."""
SEPARATING_TEST: Final = (
    "a SIM swap test where the device is: its SIM into a device that works, beside it, and "
    "that device's SIM into this one. If its SIM works in the other device, the fault stays "
    "with this device: its power, or, where it still shows power (its lights, its supply "
    "measured), its radio or antenna; if the other SIM works in this one, its SIM is damaged; "
    "if neither gets a signal there, the coverage there is lost."
)


@dataclass(frozen=True, slots=True)
class RadioReading:
    """What the reports and the neighbours say of a device's signal before it went quiet."""

    step: tuple[Seen, float, float] | None
    """The report after the signal fell at once, by how much and to what, if it did."""
    peers_fine: bool | None
    """The neighbours on its cell report a good signal since (None: not known)."""
    left_together: bool
    """Devices of its cell went quiet with it, their own signal falling away first."""
    evidence: tuple[Evidence, ...]

    def candidates(self) -> list[tuple[Cause, float]] | None:
        """Radio against coverage, by how much of the evidence points at the radio."""
        if self.step is not None and self.left_together:
            return [(Cause.COVERAGE_LOSS, 0.8), (Cause.RADIO_HARDWARE, 0.2)]
        if self.step is not None and self.peers_fine:
            return [(Cause.RADIO_HARDWARE, 0.93), (Cause.COVERAGE_LOSS, 0.07)]
        if self.step is not None and self.peers_fine is None:
            return [(Cause.RADIO_HARDWARE, 0.6), (Cause.COVERAGE_LOSS, 0.4)]
        return None

    def together(self) -> list[tuple[Cause, float]] | None:
        """Where nothing of its own explains its quiet: the coverage its peers left, or power."""
        if self.left_together:
            return [(Cause.COVERAGE_LOSS, 0.8), (Cause.POWER_LOSS, 0.2)]
        return None

    def unexplained(self) -> list[tuple[Cause, float]]:
        """Quiet after a report that showed nothing, with no word from the network.

        Power, a dead SIM, coverage lost, or a radio or antenna broken, between two reports
        further apart than a fade takes or a broken antenna keeps its cell
        (`protocol.inseparable`): unless its peers left coverage with it, all four.
        """
        return self.together() or list(UNEXPLAINED)


def radio_reading(case: Case) -> RadioReading:
    """Read the device's last reports and its neighbours."""
    reports = case.telemetry()
    if reports:
        newest = reports[-1][0].t
        reports = [r for r in reports if r[0].t >= newest - STEP_LOOKBACK_S]
    step = _step(reports)
    peers = case.cell_peers
    evidence: list[Evidence] = []
    if step is not None:
        after, fall, level = step
        evidence.append(cite(after, f"signal fell {fall:.0f} dB at once, to {level:.0f} dBm"))
    fine: bool | None = None
    if peers is not None and reports and peers.reporting >= MIN_PEERS and peers.rsrp is not None:
        last = reports[-1][1].rsrp
        fine = peers.rsrp > WEAK_SIGNAL_DBM and peers.rsrp - last >= PEER_MARGIN_DB
        if fine:
            evidence.append(
                Evidence(
                    case.now,
                    f"{peers.reporting} other devices on cell {peers.cell} report since, at "
                    f"{peers.rsrp:.0f} dBm",
                )
            )
    together = _left_together(peers)
    if together and peers is not None:
        evidence.append(
            Evidence(
                case.now,
                f"{peers.quiet_with} other devices on cell {peers.cell} went quiet with it; "
                f"{peers.quiet_fading} of them saw their signal fall away first",
            )
        )
    return RadioReading(step, fine, together, tuple(evidence))


def _left_together(peers: CellPeers | None) -> bool:
    """Devices of the cell went quiet with the device, enough of them fading first."""
    if peers is None or peers.quiet_with < MIN_TOGETHER:
        return False
    return peers.quiet_fading >= max(1.0, FADING_SHARE * peers.quiet_with)


def _step(reports: list[tuple[Seen, Telemetry]]) -> tuple[Seen, float, float] | None:
    """The newest report on one cell after which the signal fell at once and never came back.

    Returns the report after the fall, by how much it fell and to what.
    """
    for i in range(len(reports) - 1, 0, -1):  # the newest pair first
        (s1, a), (s2, b) = reports[i - 1], reports[i]
        same_cell = (a.mcc_mnc, a.cell_id) == (b.mcc_mnc, b.cell_id)
        dt = s2.t - s1.t
        needed = STEP_DB + FADE_DB_PER_H * max(0.0, dt - STEP_WINDOW_S) / 3600
        if same_cell and a.rsrp - b.rsrp >= needed and dt <= 2 * STEP_WINDOW_S:
            stayed_down = all(a.rsrp - m.rsrp >= STEP_DB for _, m in reports[i:])
            return (s2, a.rsrp - b.rsrp, b.rsrp) if stayed_down else None
    return None
