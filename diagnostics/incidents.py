"""Correlated outages: devices quiet together in one cell, APN, firmware, account or operator.

A device that goes quiet on its own is an alarm; two hundred devices that go
quiet together in one cell are one incident, and the two hundred point to it.
The `Grouper` is handed the fleet at each sweep as plain data (per device: its
attributes in every dimension and whether it is quiet, i.e. SUSPECT or
OFFLINE) and keeps the incidents open, growing and closing.

The test, per group (every value of every dimension, e.g. cell=101): of its n
devices k are quiet. It is an outage when

* k >= `min_devices` (5),
* k / n >= `min_share` (20%), and
* the binomial tail P(X >= k | n, p0) < `p_value` (0.001), p0 being the
  group's normal quiet rate: k quiet devices are far too many for the usual
  scattering of dead batteries and lost collars.

p0, the estimator: a time-weighted exponential moving average of the group's
quiet share, `p0 += a * (share - p0)` with `a = 1 - exp(-dt / baseline_tau)`
(a week by default) at every update, starting from `base_rate` and never below
it (0.5%: a group never seen failing is not assumed never to fail). The share
it learns from leaves out devices already explained by an open incident, so an
outage does not teach its group that outages are normal.

Narrowest scope: a cell outage also makes its operator, its APN and its
account significant. Candidates are ordered by group size, then by dimension
(cell < apn < firmware < account < operator). A broader candidate 90% of whose
quiet devices are those of ONE narrower candidate is dropped (the cell
explains the operator's quiet devices), and a narrower candidate whose quiet
devices are inside a kept broader one is absorbed by it (an operator outage
over two cells is one operator incident, not two cell incidents). Each quiet
device belongs to at most one incident.

An incident stays open while its scope is significant or at least
`min_devices` of its members are still quiet; it closes when that ends, and
its remaining quiet members get their own alarms again. `Silence`s (a scope
and an expiry) mute an incident's alerts; the incident is detected all the same.

Pure: no I/O, time is what the caller says it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

__all__ = [
    "DIMENSIONS",
    "Evidence",
    "Grouper",
    "Incident",
    "IncidentSettings",
    "Silence",
    "binomial_tail",
]

DIMENSIONS: Final = ("cell", "apn", "firmware", "account", "operator")
"""The dimensions devices are grouped by, narrowest first (the order scopes are preferred in)."""

_RANK: Final = {d: i for i, d in enumerate(DIMENSIONS)}


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """When quiet devices are one incident."""

    min_devices: int = 5
    min_share: float = 0.2
    p_value: float = 0.001
    base_rate: float = 0.005
    """The prior and the floor of every group's normal quiet rate p0."""
    baseline_tau: float = 7 * 86400.0
    """Seconds: the time constant of the moving average p0 is learned by."""
    cover: float = 0.9
    """Share of a broader group's quiet devices one narrower group must hold to explain it."""
    keep_closed: int = 100
    """Closed incidents remembered."""

    def __post_init__(self) -> None:
        if self.min_devices < 1:
            raise ValueError("min_devices must be at least 1")
        if not 0.0 <= self.min_share <= 1.0:
            raise ValueError("min_share must be in [0, 1]")
        if not 0.0 < self.p_value <= 1.0:
            raise ValueError("p_value must be in (0, 1]")
        if not 0.0 < self.base_rate < 1.0:
            raise ValueError("base_rate must be in (0, 1)")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why the scope is an outage: k of n quiet where p0 was normal."""

    quiet: int
    devices: int
    share: float
    normal_rate: float
    p_value: float


@dataclass(slots=True)
class Incident:
    """Devices quiet together in one scope."""

    id: str
    dimension: str
    value: str
    opened_at: float
    started_at: float
    """When its earliest member went quiet (as the caller said)."""
    evidence: Evidence
    members: set[str] = field(default_factory=set)
    """Every device it has held."""
    quiet: set[str] = field(default_factory=set)
    """Members quiet at the last update: these point to it instead of raising alarms."""
    closed_at: float | None = None
    muted: bool = False
    silence_id: str | None = None

    @property
    def open(self) -> bool:
        """Whether it is still going on."""
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class Silence:
    """Maintenance: incidents in this scope are muted until `until`."""

    id: str
    dimension: str
    value: str
    created_at: float
    until: float
    reason: str = ""

    def covers(self, dimension: str, value: str, now: float) -> bool:
        """Whether it mutes an incident in this scope at `now`."""
        return self.dimension == dimension and self.value == value and now < self.until


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (exact to float precision)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    total = 0.0
    mode = (n + 1) * p
    for i in range(k, n + 1):
        term = math.exp(
            log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        )
        total += term
        if i > mode and term <= total * 1e-17:
            break
    return min(total, 1.0)


@dataclass(slots=True)
class _Candidate:
    dimension: str
    value: str
    rows: frozenset[int]
    devices: int
    normal_rate: float
    p_value: float


class Grouper:
    """Finds, keeps and closes incidents; learns each group's normal quiet rate."""

    def __init__(self, settings: IncidentSettings | None = None) -> None:
        self.settings = settings or IncidentSettings()
        self.incidents: dict[str, Incident] = {}
        """Open and remembered closed incidents by id, oldest first."""
        self.silences: dict[str, Silence] = {}
        self._baseline: dict[tuple[str, str], tuple[float, float]] = {}
        """(dimension, value) -> (p0, time it was last updated)."""
        self._open: dict[tuple[str, str], str] = {}
        self._serial = 0
        self._silence_serial = 0

    # ---- what the caller asks -----------------------------------------------------------------

    def normal_rate(self, dimension: str, value: str) -> float:
        """The group's learned normal quiet rate p0."""
        found = self._baseline.get((dimension, value))
        return found[0] if found else self.settings.base_rate

    def open_incidents(self) -> list[Incident]:
        """Incidents going on, oldest first."""
        return [i for i in self.incidents.values() if i.open]

    def incident_of(self) -> dict[str, str]:
        """Quiet device -> the open incident it points to."""
        return {d: i.id for i in self.open_incidents() for d in i.quiet}

    def silence(
        self, dimension: str, value: str, *, now: float, until: float, reason: str = ""
    ) -> Silence:
        """Mute incidents in this scope until `until` (ValueError for a bad scope or expiry)."""
        if dimension not in _RANK:
            raise ValueError(f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}")
        if not value:
            raise ValueError("the scope needs a value")
        if not until > now:
            raise ValueError("the silence must expire after now")
        self._silence_serial += 1
        found = Silence(f"sil-{self._silence_serial:06d}", dimension, value, now, until, reason)
        self.silences[found.id] = found
        for incident in self.open_incidents():
            self._mute(incident, now)
        return found

    def restore(self, silence: Silence) -> None:
        """Take back a silence kept from before a restart (its id is not handed out again)."""
        self.silences[silence.id] = silence
        serial = silence.id.removeprefix("sil-")
        if serial.isdigit():
            self._silence_serial = max(self._silence_serial, int(serial))

    # ---- each sweep ---------------------------------------------------------------------------

    def update(
        self,
        now: float,
        devices: Sequence[str],
        attributes: Mapping[str, Sequence[str | None]],
        quiet: Sequence[bool] | NDArray[np.bool_],
        quiet_since: Mapping[str, float] | None = None,
    ) -> tuple[list[str], list[str]]:
        """Take the fleet at `now` into account; returns the ids of incidents opened and closed.

        `devices[i]` has `attributes[dimension][i]` (None: not known, in no group of that
        dimension) and is quiet (SUSPECT or OFFLINE) when `quiet[i]`. `quiet_since` tells
        since when, for an incident's start.
        """
        quiet_mask = np.asarray(quiet, dtype=np.bool_)
        encoded = self._encode(attributes)
        kept = self._select(self._groups(encoded, quiet_mask))
        quiet_ids = {devices[i] for i in np.flatnonzero(quiet_mask).tolist()}
        opened, closed = self._follow(now, devices, kept, quiet_ids, quiet_since or {})
        explained = np.zeros(len(devices), np.bool_)
        index = {d: i for i, d in enumerate(devices)}
        for incident in self.open_incidents():
            for device in incident.quiet:
                explained[index[device]] = True
        self._learn(now, encoded, quiet_mask & ~explained)
        for incident in self.open_incidents():
            self._mute(incident, now)
        return opened, closed

    @staticmethod
    def _encode(
        attributes: Mapping[str, Sequence[str | None]],
    ) -> dict[str, tuple[list[str], NDArray[np.int64]]]:
        """Per dimension: its values, and each device's value as an index into them (-1: none)."""
        encoded: dict[str, tuple[list[str], NDArray[np.int64]]] = {}
        for dimension in DIMENSIONS:
            values = attributes.get(dimension)
            if values is None:
                continue
            table: dict[str, int] = {}
            codes = np.fromiter(
                (-1 if v is None else table.setdefault(v, len(table)) for v in values),
                dtype=np.int64,
                count=len(values),
            )
            if table:
                encoded[dimension] = (list(table), codes)
        return encoded

    def _groups(
        self,
        encoded: dict[str, tuple[list[str], NDArray[np.int64]]],
        quiet: NDArray[np.bool_],
    ) -> list[_Candidate]:
        s = self.settings
        found: list[_Candidate] = []
        for dimension, (names, codes) in encoded.items():
            known = codes >= 0
            n = np.bincount(codes[known], minlength=len(names))
            k = np.bincount(codes[known & quiet], minlength=len(names))
            for code in np.flatnonzero((k >= s.min_devices) & (k >= s.min_share * n)):
                value = names[int(code)]
                p0 = self.normal_rate(dimension, value)
                p = binomial_tail(int(k[code]), int(n[code]), p0)
                if p < s.p_value:
                    rows = frozenset(np.flatnonzero((codes == code) & quiet).tolist())
                    found.append(_Candidate(dimension, value, rows, int(n[code]), p0, p))
        return found

    def _select(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """The narrowest scopes that explain the quiet devices, each device in one of them.

        Narrower: fewer devices in the group, then the dimension's rank (cell first).
        """
        cover = self.settings.cover

        def width(c: _Candidate) -> tuple[int, int, str]:
            return (c.devices, _RANK[c.dimension], c.value)

        def explains(narrow: _Candidate, broad: _Candidate) -> bool:
            return len(narrow.rows & broad.rows) >= cover * len(broad.rows)

        ordered = sorted(candidates, key=width)
        # A broad candidate one narrower candidate explains is that one's echo.
        broad_kept = [
            c for c in ordered if not any(width(n) < width(c) and explains(n, c) for n in ordered)
        ]
        # A narrow candidate inside a kept broader one is part of it.
        return [
            c
            for c in broad_kept
            if not any(
                width(b) > width(c) and len(c.rows & b.rows) >= cover * len(c.rows)
                for b in broad_kept
            )
        ]

    def _follow(
        self,
        now: float,
        devices: Sequence[str],
        kept: list[_Candidate],
        quiet: set[str],
        quiet_since: Mapping[str, float],
    ) -> tuple[list[str], list[str]]:
        opened: list[str] = []
        closed: list[str] = []
        taken: set[str] = set()
        selected = {(c.dimension, c.value): c for c in kept}
        # Open incidents first: they keep their quiet members.
        for incident in self.open_incidents():
            scope = (incident.dimension, incident.value)
            candidate = selected.pop(scope, None)
            still = (incident.quiet | incident.members) & quiet
            if candidate is not None:
                still |= {devices[r] for r in candidate.rows}
                incident.evidence = _evidence(candidate)
            still -= taken
            if candidate is None and len(still) < self.settings.min_devices:
                incident.closed_at = now
                incident.quiet = set()
                del self._open[scope]
                closed.append(incident.id)
                continue
            incident.quiet = still
            incident.members |= still
            taken |= still
        for scope, candidate in selected.items():
            members = {devices[r] for r in candidate.rows} - taken
            if len(members) < self.settings.min_devices:
                continue
            self._serial += 1
            started = min((quiet_since.get(d, now) for d in members), default=now)
            incident = Incident(
                id=f"inc-{self._serial:06d}",
                dimension=scope[0],
                value=scope[1],
                opened_at=now,
                started_at=started,
                evidence=_evidence(candidate),
                members=set(members),
                quiet=set(members),
            )
            self.incidents[incident.id] = incident
            self._open[scope] = incident.id
            taken |= members
            opened.append(incident.id)
        self._forget()
        return opened, closed

    def _learn(
        self,
        now: float,
        encoded: dict[str, tuple[list[str], NDArray[np.int64]]],
        quiet: NDArray[np.bool_],
    ) -> None:
        s = self.settings
        for dimension, (names, codes) in encoded.items():
            known = codes >= 0
            n = np.bincount(codes[known], minlength=len(names)).tolist()
            k = np.bincount(codes[known & quiet], minlength=len(names)).tolist()
            for value, total, down in zip(names, n, k, strict=True):
                if not total:
                    continue
                key = (dimension, value)
                p0, then = self._baseline.get(key, (s.base_rate, now))
                a = 1.0 - math.exp(-max(now - then, 0.0) / s.baseline_tau)
                self._baseline[key] = (max(s.base_rate, p0 + a * (down / total - p0)), now)

    def _mute(self, incident: Incident, now: float) -> None:
        silence = next(
            (
                s
                for s in self.silences.values()
                if s.covers(incident.dimension, incident.value, now)
            ),
            None,
        )
        incident.muted = silence is not None
        incident.silence_id = silence.id if silence else None

    def _forget(self) -> None:
        closed = [i.id for i in self.incidents.values() if not i.open]
        for incident_id in closed[: max(len(closed) - self.settings.keep_closed, 0)]:
            del self.incidents[incident_id]


def _evidence(candidate: _Candidate) -> Evidence:
    k = len(candidate.rows)
    return Evidence(
        quiet=k,
        devices=candidate.devices,
        share=k / candidate.devices,
        normal_rate=candidate.normal_rate,
        p_value=candidate.p_value,
    )
