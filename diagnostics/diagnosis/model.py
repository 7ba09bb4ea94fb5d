"""The diagnosis's plain data: a case in (what the service saw), a diagnosis out.

Nothing here knows FastAPI, SQLite or MQTT: `diagnostics.cases` builds a `Case`
from the store and the service's hot state, `diagnose` turns it into a `Diagnosis`,
and the API and the customer messages read that. Times are Unix seconds on the service clock.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

from pydantic import BaseModel

from protocol.messages import DeviceStatus, SimRecord, Telemetry

if TYPE_CHECKING:
    from collections.abc import Iterable

    from protocol.causes import Cause

M = TypeVar("M", bound=BaseModel)

UNLIKELY: Final = 0.1
"""Candidates less likely than this (after the first) are left out of a diagnosis."""

__all__ = [
    "Candidate",
    "Case",
    "CellPeers",
    "CheckResult",
    "Diagnosis",
    "Evidence",
    "IncidentRef",
    "Reported",
    "Seen",
    "Status",
    "ranked",
]


class Reported(Protocol):
    """What the battery and signal trends read of a report (a `Telemetry`, or less)."""

    @property
    def t(self) -> float:
        """When it was sent."""
        ...

    @property
    def rsrp(self) -> float:
        """Its signal, dBm."""
        ...

    @property
    def battery(self) -> float | None:
        """Its battery level, % (None: mains power)."""
        ...


class Status(enum.StrEnum):
    """A check's colour, as a platform's diagnostics page shows it."""

    OK = "ok"
    """Green: normal."""
    BROKE = "worked_before"
    """Yellow: worked before, not now."""
    NEVER = "never_worked"
    """Red: never worked."""
    UNKNOWN = "not_enough_data"
    """Grey: not enough data to say."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One stored message: its id (the evidence reference) and what it said."""

    id: int
    message: BaseModel

    @property
    def t(self) -> float:
        """When it happened."""
        t: float = self.message.t  # type: ignore[attr-defined]
        return t


@dataclass(frozen=True, slots=True)
class IncidentRef:
    """The open incident a device is quiet in."""

    id: str
    dimension: str
    value: str
    started_at: float
    quiet: int
    """The devices of its group quiet at the case's moment (as the grouper counted them)."""
    members: int
    """The devices its group held then, quiet or not, those quiet for a reason of their own too."""
    kind: str = "outage"
    """`outage`, or `platform`: a platform-side cause the devices share (never the network)."""
    cause: str | None = None
    """A platform group's shared cause."""


@dataclass(frozen=True, slots=True)
class CellPeers:
    """The other devices on the cell of a device's last report, as they report since."""

    cell: int
    reporting: int
    """How many of them reported after the device's last report."""
    rsrp: float | None
    """Their median signal (RSRP, dBm) in those reports; None when none reported."""
    quiet_with: int = 0
    """How many of them are quiet now, their last report within a reporting interval of its."""
    quiet_fading: int = 0
    """How many of those saw their own signal fall away before they went quiet."""


@dataclass(frozen=True, slots=True)
class Case:
    """Everything the service knows about one device (or SIM) at `now`, oldest first."""

    now: float
    device_id: str | None
    iccid: str | None
    detection_status: str = "UNKNOWN"
    """The detector's status at `now` (ONLINE, LATE, SUSPECT, OFFLINE, ASLEEP, UNKNOWN)."""
    detection_since: float | None = None
    interval_s: float | None = None
    """The reporting interval the detector judges the device by."""
    record: SimRecord | None = None
    device: tuple[Seen, ...] = ()
    """The device's own messages: telemetry and status."""
    network: tuple[Seen, ...] = ()
    """The platform's events about the SIM (records left out)."""
    incident: IncidentRef | None = None
    sim_elsewhere: Seen | None = None
    """After the device gave its SIM away: that SIM's first attach attempt in another device,
    which shows the card can be read."""
    last_heard: float | None = None
    """When the newest report the service had received from the device by `now` was sent, as
    the store holds it (None: none, or the case was not read from a store). The evidence above
    looks back a window only; this does not (`readings.stopped_at`)."""
    cell_peers: CellPeers | None = None
    """Its neighbours on its last cell (None: not known, e.g. when looking back)."""
    unheard_since: float | None = None
    """A SIM never heard from while its cohort was (`diagnostics.unheard`): when its record
    came (its case is OFFLINE). None: heard from, or its silence says nothing (a SIM in
    stock, a start-up not over)."""

    # ---- views the checks share ---------------------------------------------------------

    def telemetry(self) -> list[tuple[Seen, Telemetry]]:
        """The device's reports, oldest first."""
        return [(s, s.message) for s in self.device if isinstance(s.message, Telemetry)]

    def statuses(self) -> list[tuple[Seen, DeviceStatus]]:
        """The device's status messages (and Wills), oldest first."""
        return [(s, s.message) for s in self.device if isinstance(s.message, DeviceStatus)]

    def events(self, kind: type[M], since: float = -math.inf) -> list[tuple[Seen, M]]:
        """The SIM's events of one kind at or after `since`, oldest first."""
        return [
            (s, s.message) for s in self.network if isinstance(s.message, kind) and s.t >= since
        ]

    @property
    def last_report(self) -> tuple[Seen, Telemetry] | None:
        """The newest telemetry."""
        reports = self.telemetry()
        return reports[-1] if reports else None

    @property
    def silent(self) -> bool:
        """Whether the detector has the device down (SUSPECT or OFFLINE)."""
        return self.detection_status in {"SUSPECT", "OFFLINE"}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence a check used: the message (when there is one) and what it shows."""

    t: float
    text: str
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A cause the evidence allows, with how likely the rules hold it."""

    cause: Cause
    likelihood: float


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of the ordered list: its colour, what it found, and the evidence."""

    name: str
    title: str
    status: Status
    summary: str
    evidence: tuple[Evidence, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    """Causes this check points to, most likely first (empty when it found nothing wrong)."""
    decisive: bool = False
    """The network or platform said so outright (a reject cause, a state): later checks wait."""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The probable cause with its evidence, the fix, and what to do when evidence is missing."""

    device_id: str | None
    iccid: str | None
    at: float
    detection_status: str
    """The detector's status of the device at `at` (ONLINE, LATE, ..., UNKNOWN)."""
    cause: Cause | None
    """The most likely cause; None when nothing is wrong or nothing can be said yet."""
    confidence: float
    candidates: tuple[Candidate, ...]
    """Every cause the evidence allows, most likely first (the first is `cause`)."""
    decided_by: str | None
    """The check that found it."""
    summary: str
    """One line for support staff."""
    fix: str | None
    next_step: str | None
    separating_test: str | None
    """When the candidates cannot be told apart from the evidence: the test that would."""
    checks: tuple[CheckResult, ...]
    started: float | None = None
    """When the trouble began, by the evidence."""
    resumes: float | None = None
    """When service comes back by itself (a back-off ends), when known."""
    facts: dict[str, str | float] = field(default_factory=dict)
    """Values the messages to the customer name (APNs, network, battery, state ...)."""
    record: SimRecord | None = None

    @property
    def healthy(self) -> bool:
        """Nothing wrong found and the device is not down."""
        return self.cause is None and self.detection_status not in {"SUSPECT", "OFFLINE"}

    def __post_init__(self) -> None:
        for name in ("at", "started", "resumes"):
            t = getattr(self, name)
            if t is not None and not math.isfinite(t):
                raise ValueError(f"Diagnosis.{name} must be a finite time, not {t!r}")


def ranked(weights: Iterable[tuple[Cause, float]]) -> tuple[Candidate, ...]:
    """Candidates by likelihood (normalised to sum to 1), ties in the given order."""
    merged: dict[Cause, float] = {}
    for cause, weight in weights:
        merged[cause] = merged.get(cause, 0.0) + weight
    total = sum(merged.values()) or 1.0
    ordered = sorted(merged.items(), key=lambda kv: -kv[1])
    kept = [(c, w / total) for i, (c, w) in enumerate(ordered) if i == 0 or w / total >= UNLIKELY]
    total = sum(w for _, w in kept)
    return tuple(Candidate(cause, round(weight / total, 3)) for cause, weight in kept)
