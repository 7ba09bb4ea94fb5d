"""The device's own path loss: what its antenna and surroundings take off every signal.

Two faults change it, each as the real thing does:

* coverage fading (`fade`): the device is buried, snowed in, or carried where the
  network is thin; the loss ramps up over three hours until no cell can be heard;
* a broken radio or antenna (`break_down`): an antenna snapped off or its feed cable
  cracked leaves the modem on its bare connector, tens of decibels down at once (an
  external antenna lost costs 25-40 dB); the water or strain that did it finishes the
  rest within the hour. The device still camps on its cell for a report or two, at a
  signal far below what its neighbours on the same cell report, then loses it; a new
  registration would have to reach the cell through the broken antenna at a fraction
  of the cell's transmit power (the uplink is the weaker side of the link budget), so
  no attach attempt of its own reaches the network (`reach_db`): no reject is sent, and
  the SIM record stays as it was. Put into another device, its SIM works; another SIM in
  this device does not (the fault stays with the device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from simulator.world.mobility import HOUR

__all__ = ["BROKEN_STEP_DB", "COVERAGE_FAULT_DB", "Antenna"]

COVERAGE_FAULT_DB: Final = 70.0
"""How much signal a fault takes away at its worst: no cell is heard any more."""
BROKEN_STEP_DB: Final = 30.0
"""What a broken antenna takes away at once; the rest of `COVERAGE_FAULT_DB` within an hour."""
FADE_S: Final = 3 * HOUR
"""How long coverage fading takes to reach its worst."""


@dataclass(slots=True)
class Antenna:
    """The extra path loss on the device's side, by what befell it and when."""

    since: float | None = None
    broken: bool = False

    def fade(self, now: float) -> None:
        """The signal starts fading (a coverage fault)."""
        self.since, self.broken = now, False

    def break_down(self, now: float) -> None:
        """The radio or antenna breaks."""
        self.since, self.broken = now, True

    def mend(self) -> None:
        """The signal is whole again (coverage back, or the antenna replaced)."""
        self.since, self.broken = None, False

    def reach_db(self, now: float) -> float:
        """The loss a new registration must overcome: a broken antenna's reaches no cell."""
        return COVERAGE_FAULT_DB if self.broken else self.loss_db(now)

    def loss_db(self, now: float) -> float:
        """Extra loss at `now`: a ramp over `FADE_S`, or a step and then the rest in an hour."""
        if self.since is None:
            return 0.0
        age = now - self.since
        if self.broken:
            rest = (COVERAGE_FAULT_DB - BROKEN_STEP_DB) * age / HOUR
            return min(COVERAGE_FAULT_DB, BROKEN_STEP_DB + rest)
        return min(COVERAGE_FAULT_DB, COVERAGE_FAULT_DB * age / FADE_S)
