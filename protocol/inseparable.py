"""The causes reality cannot tell apart from the wire, and the test that separates each pair.

A pair belongs here only when both faults put the same messages on the wire
(the same kinds in the same order, saying the same things, up to identifiers
and timings): `tests/test_inseparable.py` shows it for each pair in the same
world. For such a pair a diagnosis that names one cause first and the other
as a candidate, proposing the pair's test, is right; for any other pair it is
wrong.

* power loss / damaged SIM: the device falls silent at once, its MQTT Will
  says offline, and an hour later the network closes the session and detaches
  the SIM implicitly. Neither leaves a trace of its own (a dead SIM makes no
  attach attempts at all). A SIM swap test separates them: a damaged SIM's
  fault goes with the SIM, a dead power supply stays with the device.
* power loss / coverage loss, where coverage is lost between two reports (a
  device whose reports are further apart than coverage takes to fade, a PSM device
  sleeping hours, or one carried off fast): its last report shows a good signal,
  then nothing; the network hears no detach (a device out of
  coverage cannot send one, nor can one whose power was cut) and detaches the
  SIM implicitly once its TAU timer has run out. A device that reports often
  enough shows the fade, and the pair is told apart by its own reports. A SIM
  swap test where the device is separates them: without power the fault stays
  with the device, out of coverage neither SIM gets a signal there.
* power loss / radio hardware, where the radio or antenna breaks between two reports
  further apart than a broken antenna keeps its cell (within the hour): its last report
  shows a good signal, then nothing; no attach of its own reaches the network, and the
  SIM is detached implicitly, as after a power cut. A device that reports often enough
  shows the step. A swap test leaves the fault with the device in both; a device that
  still shows power (its lights, its supply measured) has a broken radio or antenna.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from protocol.causes import Cause

__all__ = ["INSEPARABLE", "Inseparable", "separable_by"]


@dataclass(frozen=True, slots=True)
class Inseparable:
    """Two causes the wire cannot separate, and the test that does."""

    causes: frozenset[Cause]
    test: str
    """The word the diagnosis's separating test names ("swap": a SIM swap test)."""
    why: str


INSEPARABLE: Final = (
    Inseparable(
        frozenset({Cause.POWER_LOSS, Cause.DAMAGED_SIM}),
        "swap",
        "both fall silent, the Will says offline, the network detaches the SIM implicitly",
    ),
    Inseparable(
        frozenset({Cause.POWER_LOSS, Cause.COVERAGE_LOSS}),
        "swap",
        "a sparse reporter's last report is good, then nothing; no detach, an implicit one later",
    ),
    Inseparable(
        frozenset({Cause.POWER_LOSS, Cause.RADIO_HARDWARE}),
        "shows power",
        "a sparse reporter's last report is good, then nothing; no attach, an implicit detach",
    ),
)
"""Every pair of causes the wire cannot separate (see the module)."""


def separable_by(first: str, other: str) -> str | None:
    """The test that separates cause `first` from `other`, if the pair is inseparable."""
    pair = {first, other}
    return next((p.test for p in INSEPARABLE if {c.value for c in p.causes} == pair), None)
