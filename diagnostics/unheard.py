"""SIMs never heard from while the SIMs put into service with them were: down before a first word.

A SIM whose card fails before its device's first boot (or whose device is never
switched on, or is installed out of coverage) makes no attach attempt at all: the
service has its inventory record and nothing else, names no device for it, and the
detector, which judges devices by their reports, has no row for it. On its own such
a SIM says nothing: a SIM still in stock is heard from by no one either. What tells
the two apart is its cohort, the SIMs of the same account and communication plan
whose records came with it: when they have been heard from (an attach attempt, a
session, a report) and their start-up is over, the one still unheard is down.

Start-up is over, in the detector's way of judging silence by a rhythm shown, once
twice the longest its cohort took from record to first word has passed since the
SIM's record (`FirstHeard.unheard_since`): a fleet that boots over six hours is
judged after twelve, not while its devices still come up one by one. At least
`MIN_HEARD` SIMs of the cohort, and a majority of it, must have been heard from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from diagnostics.sim_columns import Columns, Number, Record, Value
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    SessionOpened,
    SessionRejected,
    SimRecord,
    Telemetry,
    TrackingAreaUpdated,
    UsageReported,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["MIN_HEARD", "FirstHeard"]

MIN_HEARD: Final = 3
"""SIMs of a cohort heard from before its silent members count as down."""
HEARD: Final = (
    AttachAccepted,
    AttachRejected,
    SessionOpened,
    SessionRejected,
    TrackingAreaUpdated,
    UsageReported,
    Telemetry,
)
"""What shows that a SIM was read by a network: any attempt of its own, or a report through it."""


class _Sim(Record):
    """A SIM's cohort and times, a row of `FirstHeard`'s columns (`diagnostics.sim_columns`)."""

    __slots__ = ()
    cohort = Value[tuple[str, str]]()
    recorded = Number()
    heard = Number()


class FirstHeard:
    """Per SIM, when its record came and when it was first heard from (see the module)."""

    def __init__(self) -> None:
        self._sims = Columns(_Sim)
        self._cohorts: dict[tuple[str, str], set[str]] = {}

    def apply(self, message: BaseModel) -> None:
        """Take one message into account (only records and signs of a SIM's life count)."""
        iccid: str | None = getattr(message, "iccid", None)
        if iccid is None:
            return
        t: float = message.t  # type: ignore[attr-defined]
        if isinstance(message, SimRecord):
            sim = self._sims.add(iccid)
            cohort = (message.account, message.communication_plan)
            if sim.cohort != cohort:
                if sim.cohort is not None:
                    self._cohorts[sim.cohort].discard(iccid)
                self._cohorts.setdefault(cohort, set()).add(iccid)
                sim.cohort = cohort
            if sim.recorded is None or t < sim.recorded:
                sim.recorded = t
        elif isinstance(message, HEARD):
            sim = self._sims.add(iccid)
            if sim.heard is None or t < sim.heard:
                sim.heard = t

    def unheard_since(self, iccid: str, now: float) -> float | None:
        """When the SIM's record came, if it is unheard at `now` past its cohort's start-up."""
        sim = self._sims.get(iccid)
        if sim is None or sim.cohort is None or sim.recorded is None or sim.recorded > now:
            return None
        if sim.heard is not None and sim.heard <= now:
            return None
        index, times = self._sims.index, self._sims.numbers
        members = np.fromiter((index[i] for i in self._cohorts[sim.cohort]), np.int64)
        heard, recorded = times["heard"][members], times["recorded"][members]
        starts = (heard - recorded)[(heard <= now) & ~np.isnan(recorded)]  # nan: not heard
        if len(starts) < MIN_HEARD or 2 * len(starts) <= len(members):
            return None
        start_up = max(float(starts.max()), 0.0)
        if now - sim.recorded <= 2 * start_up:
            return None
        return sim.recorded
