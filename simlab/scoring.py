"""The scorecard: the service's detection statuses, incidents and diagnoses held against the truth.

Pure code over plain data: the runner collects what the service said (through
its API) and what really happened (the simulator's ground truth), and
`score` measures detection time, false alarms, incident grouping, diagnosis
accuracy and the fleet messages against the scenario's answer key. Times are
Unix seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DeviceScore",
    "DeviceView",
    "ExpectedDevice",
    "ExpectedFleetMessage",
    "ExpectedIncident",
    "FleetMessageScore",
    "IncidentScore",
    "Scorecard",
    "TruthSpan",
    "score",
]

QUIET: Final = frozenset({"SUSPECT", "OFFLINE"})


@dataclass(frozen=True, slots=True)
class TruthSpan:
    """A fault as it really happened on a device."""

    device_id: str
    cause: str
    start: float
    end: float | None


@dataclass(frozen=True, slots=True)
class ExpectedDevice:
    """The answer key's entry for a device."""

    device_id: str
    cause: str
    start: float
    sim_state: str | None = None
    """The state the service should show for the device's SIM when it is looked at."""


@dataclass(frozen=True, slots=True)
class ExpectedIncident:
    """The answer key's entry for an incident."""

    dimension: str
    value: str
    start: float
    kind: str | None = None
    """`outage` or `platform` when the answer key says which it must be (None: either)."""


@dataclass(frozen=True, slots=True)
class ExpectedFleetMessage:
    """The answer key's entry for a fleet message: one account's devices with one cause."""

    account: str
    cause: str
    count: int


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What the service said about a device."""

    device_id: str
    interval_s: float
    history: tuple[tuple[float, str], ...]
    """Detection changes (t, status), oldest first."""
    cause: str | None
    """The diagnosis's most likely cause at the moment it was asked."""
    candidates: tuple[str, ...] = ()
    separating_test: str | None = None
    started: float | None = None
    asked_at: float | None = None
    last_report: float | None = None
    """The device's newest report before it was asked about."""
    sim_state: str | None = None
    """The state the service showed for the device's SIM when it was asked."""


@dataclass(frozen=True, slots=True)
class DeviceScore:
    """One expected device: detected when, diagnosed how."""

    device_id: str
    expected: str
    diagnosed: str | None
    grade: str
    """first (named it first), candidate (among the candidates, with the separating test),
    wrong."""
    detect_s: float | None
    """From the fault's start, or the device's last report after it, to the first SUSPECT or
    OFFLINE status (None: never quiet)."""
    detect_intervals: float | None
    sim_state_expected: str | None = None
    sim_state_shown: str | None = None
    """The SIM state the service showed at the look (held against the expected one, if any)."""

    @property
    def state_right(self) -> bool:
        """The service showed the SIM state the answer key expects (or the key expects none)."""
        return self.sim_state_expected is None or self.sim_state_expected == self.sim_state_shown


@dataclass(frozen=True, slots=True)
class IncidentScore:
    """One expected incident and whether the service opened it."""

    dimension: str
    value: str
    found: bool
    delay_s: float | None


@dataclass(frozen=True, slots=True)
class FleetMessageScore:
    """One expected fleet message and what the service wrote for that account and cause."""

    account: str
    cause: str
    count: int
    shown: tuple[int, ...]
    """The count of each message the service wrote for them (one per language; none: none)."""
    found: bool
    """Each says the expected count and names only devices the key gives the cause."""


@dataclass(slots=True)
class Scorecard:
    """How well the diagnostics did on one run."""

    devices: list[DeviceScore] = field(default_factory=list)
    incidents: list[IncidentScore] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    """Healthy devices the service called OFFLINE, or diagnosed with a fault."""
    spurious_incidents: list[str] = field(default_factory=list)
    fleet_messages: list[FleetMessageScore] = field(default_factory=list)
    detect_p50_s: float | None = None
    detect_p99_s: float | None = None
    detect_p50_intervals: float | None = None
    detect_p99_intervals: float | None = None
    diagnosis_accuracy: float | None = None
    """Expected devices whose cause was named first or as a candidate with its test, as a share."""
    diagnosis_first: float | None = None
    incidents_found: float | None = None
    swap_expected: str | None = None
    swap_outcome: str | None = None
    healthy_devices: int = 0

    @property
    def passed(self) -> bool:
        """The answer key is met: every cause, incident and fleet message right, no false alarm."""
        return (
            all(d.grade != "wrong" and d.state_right for d in self.devices)
            and all(i.found for i in self.incidents)
            and all(m.found for m in self.fleet_messages)
            and not self.false_alarms
            and (self.swap_expected is None or self.swap_expected == self.swap_outcome)
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        data = asdict(self)
        data["passed"] = self.passed
        return data


def _grade(expected: str, view: DeviceView | None) -> str:
    if view is None or view.cause is None:
        return "wrong"
    if view.cause == expected:
        return "first"
    if expected in view.candidates and view.separating_test:
        return "candidate"
    return "wrong"


def _detected(view: DeviceView | None, start: float, end: float | None) -> float | None:
    if view is None:
        return None
    for t, status in view.history:
        if t >= start and status in QUIET and (end is None or t <= end + view.interval_s * 5):
            # a fault that silences gradually (a battery running down) counts from the silence
            last = view.last_report
            silent_from = last if last is not None and start <= last <= t else start
            return t - silent_from
    return None


def _fleet_score(
    wanted: ExpectedFleetMessage,
    expected: Sequence[ExpectedDevice],
    shown: Sequence[Mapping[str, Any]],
) -> FleetMessageScore:
    """A fleet message is found when each language's says the count and names the key's devices."""
    sharing = {e.device_id for e in expected if e.cause == wanted.cause}
    mine = [m for m in shown if (m["account"], m["cause"]) == (wanted.account, wanted.cause)]
    right = [m["count"] == wanted.count and set(m["device_ids"]) <= sharing for m in mine]
    return FleetMessageScore(
        wanted.account,
        wanted.cause,
        wanted.count,
        tuple(m["count"] for m in mine),
        found=bool(right) and all(right),
    )


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def score(  # noqa: PLR0913 - keyword-only: each is one part of what is held against the key
    *,
    expected: list[ExpectedDevice],
    expected_incidents: list[ExpectedIncident],
    truth: list[TruthSpan],
    views: dict[str, DeviceView],
    incidents: list[tuple[str, str, float, str]],
    swap_expected: str | None = None,
    swap_outcome: str | None = None,
    fleet_expected: Sequence[ExpectedFleetMessage] = (),
    fleet_shown: Sequence[Mapping[str, Any]] = (),
) -> Scorecard:
    """Hold the service's views against the answer key and the truth.

    `incidents` are the service's (dimension, value, opened_at, kind); `views` every device's
    view. An incident of the answer key's dimension and value but of another kind than it names
    is not that incident, and is spurious. `fleet_shown` are the service's fleet messages
    (as its API gives them, in each language), held against `fleet_expected`.
    """
    card = Scorecard(swap_expected=swap_expected, swap_outcome=swap_outcome)
    spans = {t.device_id: t for t in truth}
    for entry in expected:
        view = views.get(entry.device_id)
        span = spans.get(entry.device_id)
        start = span.start if span is not None else entry.start
        detect = _detected(view, start, span.end if span else None)
        interval = view.interval_s if view is not None and view.interval_s > 0 else None
        card.devices.append(
            DeviceScore(
                device_id=entry.device_id,
                expected=entry.cause,
                diagnosed=view.cause if view else None,
                grade=_grade(entry.cause, view),
                detect_s=detect,
                detect_intervals=None if detect is None or interval is None else detect / interval,
                sim_state_expected=entry.sim_state,
                sim_state_shown=view.sim_state if view else None,
            )
        )
    affected = {e.device_id for e in expected} | set(spans)
    for device_id, view in sorted(views.items()):
        if device_id in affected:
            continue
        card.healthy_devices += 1
        if view.cause is not None or any(v == "OFFLINE" for _, v in view.history):
            card.false_alarms.append(device_id)
    wanted = {(i.dimension, i.value): i for i in expected_incidents}
    seen: dict[tuple[str, str], float] = {}
    for dimension, value, opened, kind in incidents:
        expected_kind = wanted[(dimension, value)].kind if (dimension, value) in wanted else None
        if expected_kind not in {None, kind}:
            seen.setdefault((f"{dimension} ({kind})", value), opened)
            continue
        seen.setdefault((dimension, value), opened)
    for key, incident in wanted.items():
        opened_at = seen.get(key)
        card.incidents.append(
            IncidentScore(
                incident.dimension,
                incident.value,
                opened_at is not None,
                None if opened_at is None else opened_at - incident.start,
            )
        )
    card.spurious_incidents = [f"{d}={v}" for (d, v) in seen if (d, v) not in wanted]
    card.fleet_messages = [_fleet_score(e, expected, fleet_shown) for e in fleet_expected]
    detects = [d.detect_s for d in card.devices if d.detect_s is not None]
    intervals = [d.detect_intervals for d in card.devices if d.detect_intervals is not None]
    card.detect_p50_s, card.detect_p99_s = _pct(detects, 50), _pct(detects, 99)
    card.detect_p50_intervals, card.detect_p99_intervals = _pct(intervals, 50), _pct(intervals, 99)
    if card.devices:
        good = sum(d.grade != "wrong" for d in card.devices)
        card.diagnosis_accuracy = good / len(card.devices)
        card.diagnosis_first = sum(d.grade == "first" for d in card.devices) / len(card.devices)
    if card.incidents:
        card.incidents_found = sum(i.found for i in card.incidents) / len(card.incidents)
    return card
