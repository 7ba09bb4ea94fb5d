"""Correlated outages: devices quiet together in one cell, APN, firmware, account or operator.

A device that goes quiet on its own is an alarm; two hundred devices that go
quiet together in one cell are one incident, and the two hundred point to it.
The `Grouper` is handed the fleet at each sweep as plain data (per device: its
attributes in every dimension and whether it is quiet, i.e. SUSPECT or
OFFLINE) and keeps the incidents open, growing and closing.

The test, per group (every value of every dimension, e.g. cell=101): of its n
devices k are quiet. It is an outage when

* k >= `min_devices` (5; `min_named`, 3, where the network's word names it for each),
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

Devices whose quiet has an explanation of their own (`Reasons`, read by
`diagnostics.incidents_reasons`) are left out of the groups that explanation rules
out; a platform-side cause nearly every SIM of a pool or an account holds makes a group
of its own kind (`kind="platform"`, with its `cause`), never a network outage. Which
candidates are kept, the tie rule between dimensions that hold the same devices and
the narrowest scope, is `diagnostics.incidents_select`'s (a cell heard from after its
quiet devices fell silent is none: `diagnostics.incidents_timing`). Each quiet device
belongs to at most one incident.

An incident stays open while its scope is significant or at least `min_devices`
(a platform group: `platform_min_devices`) of its members are still quiet; it closes
when that ends, and its remaining quiet members get their own alarms again. `Silence`s
(a scope and an expiry) mute an incident's alerts; it is detected all the same.

Pure: no I/O, time is what the caller says it is.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Final

import numpy as np

from diagnostics.incidents_model import Evidence, Incident, IncidentSettings, Reasons, Scope
from diagnostics.incidents_readings import came_back
from diagnostics.incidents_reasons import CLASS_OF, NETWORK_DIMENSIONS, PLATFORM_KEYS, Explains
from diagnostics.incidents_select import (
    DIMENSIONS,
    Candidate,
    Encoded,
    Thresholds,
    absorbed,
    binomial_tail,
    encode,
    group_points_elsewhere,
    own_weight,
    platform_candidates,
    select,
    statistical_candidates,
)
from diagnostics.incidents_tally import Tally, group_sizes, named_quiet
from diagnostics.incidents_timing import Timing, held, joined, unheard
from diagnostics.silence import Silence

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    from protocol.causes import Cause

__all__ = [
    "DIMENSIONS",
    "Evidence",
    "Grouper",
    "Incident",
    "IncidentSettings",
    "Reasons",
    "Timing",
    "binomial_tail",
]

_SILENCEABLE = frozenset(DIMENSIONS) | frozenset(PLATFORM_KEYS)


class Grouper:
    """Finds, keeps and closes incidents; learns each group's normal quiet rate."""

    def __init__(self, settings: IncidentSettings | None = None) -> None:
        self.settings = settings or IncidentSettings()
        self.incidents: dict[str, Incident] = {}
        """Open and remembered closed incidents by id, oldest first."""
        self.silences: dict[str, Silence] = {}
        self._baseline: dict[tuple[str, str], tuple[float, float]] = {}
        """(dimension, value) -> (p0, time it was last updated)."""
        self._open: dict[Scope, str] = {}
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
        if dimension not in _SILENCEABLE:
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

    def end_silence(self, silence_id: str, now: float) -> Silence | None:
        """End a silence at `now` (None: no such silence); what it muted alerts again."""
        found = self.silences.get(silence_id)
        if found is not None:
            found = self.silences[silence_id] = found.ended(now)
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
        reasons: Reasons | None = None,
        timing: Timing | None = None,
    ) -> tuple[list[str], list[str]]:
        """Take the fleet at `now` into account; returns the ids of incidents opened and closed.

        `devices[i]` has `attributes[dimension][i]` (None: not known, in no group of that
        dimension; the platform attributes `PLATFORM_KEYS` too) and is quiet (SUSPECT or
        OFFLINE) when `quiet[i]`. `quiet_since` tells since when, for an incident's start;
        `reasons` what each device's own evidence says; `timing` when each reported.
        """
        s = self.settings
        quiet_mask = np.asarray(quiet, dtype=np.bool_)
        encoded = self._encode(attributes, DIMENSIONS)
        causes = list(reasons.causes) if reasons else [None] * len(devices)
        names = list(reasons.names) if reasons else [()] * len(devices)
        counted = _counted(encoded, causes)
        limits = Thresholds(s.min_devices, s.min_named, s.min_share, s.p_value)
        weak = reasons.weakening if reasons and reasons.weakening else [False] * len(devices)
        own = [own_weight(c, w) for c, w in zip(causes, weak, strict=True)]
        evidence = (names, own)
        late = None if timing is None else np.nan_to_num(timing.late, nan=np.inf) < now
        back = came_back(reasons.returned, timing.reported) if reasons and timing else None
        candidates = statistical_candidates(
            encoded,
            quiet_mask,
            counted,
            evidence,
            normal_rate=self.normal_rate,
            limits=limits,
            late=late,
            returned=back,
        )
        heard = unheard(candidates, encoded, quiet_mask, counted, timing)
        trimmed = [
            c for c in _joined(heard, names, timing, limits) if not held(c, causes, timing, now)
        ]
        kept = select(trimmed, cover=s.cover)
        whole = Thresholds(s.platform_min_devices, s.platform_min_devices, s.whole_share, s.p_value)
        platform = self._encode(attributes, PLATFORM_KEYS)
        kept += platform_candidates(platform, quiet_mask, causes, limits=whole)
        quiet_ids = {devices[i] for i in np.flatnonzero(quiet_mask).tolist()}
        barred = {
            d: {devices[i] for i in np.flatnonzero(~mask).tolist()} for d, mask in counted.items()
        }
        for dimension, left in _strays(heard, trimmed, devices).items():  # quiet before
            barred[dimension] = barred.get(dimension, set()) | left
        elsewhere = {
            i.scope
            for i in self.open_incidents()
            if i.kind == "outage"
            and group_points_elsewhere(
                encoded, i.scope[1:3], quiet_mask, counted, evidence, late, back
            )
        }
        tally = Tally(
            group_sizes(encoded) | group_sizes(platform),
            named_quiet(encoded, quiet_mask, names, devices),
        )
        opened, closed = self._follow(
            now, devices, kept, quiet_ids, barred, quiet_since or {}, elsewhere, tally
        )
        explained = np.zeros(len(devices), np.bool_)
        index = {d: i for i, d in enumerate(devices)}
        for incident in self.open_incidents():
            for device in incident.quiet:
                explained[index[device]] = True
        self._learn(now, encoded, quiet_mask & ~explained, counted)
        for incident in self.open_incidents():
            self._mute(incident, now)
        return opened, closed

    @staticmethod
    def _encode(
        attributes: Mapping[str, Sequence[str | None]], dimensions: Sequence[str]
    ) -> Encoded:
        encoded: Encoded = {}
        for dimension in dimensions:
            values = attributes.get(dimension)
            found = encode(values) if values is not None else None
            if found is not None:
                encoded[dimension] = found
        return encoded

    def _follow(
        self,
        now: float,
        devices: Sequence[str],
        kept: list[Candidate],
        quiet: set[str],
        barred: Mapping[str, set[str]],
        quiet_since: Mapping[str, float],
        elsewhere: set[Scope],
        tally: Tally,
    ) -> tuple[list[str], list[str]]:
        opened: list[str] = []
        row = {d: i for i, d in enumerate(devices)}
        closed: list[str] = []
        taken: set[str] = set()
        selected = {c.scope: c for c in kept}
        # Open incidents first: they keep their quiet members, unless a wider outage holds them.
        for incident in self.open_incidents():
            candidate = selected.pop(incident.scope, None)
            still = (incident.quiet | incident.members) & quiet
            if candidate is not None:
                still |= {devices[r] for r in candidate.rows}
                incident.evidence = _evidence(candidate)
            if incident.kind == "outage":  # a member explained since is the outage's no more
                still -= barred.get(incident.dimension, set())
            still -= taken
            gone = candidate is None and (
                len(still) < self.settings.least(incident.kind)
                or (
                    incident.kind == "outage"
                    and absorbed(
                        (incident.evidence.devices, incident.dimension),
                        {row[d] for d in still},
                        kept,
                        cover=self.settings.cover,
                    )
                )
                or incident.scope in elsewhere
            )
            if gone:
                incident.closed_at = now
                incident.quiet = set()
                del self._open[incident.scope]
                closed.append(incident.id)
                continue
            incident.quiet = still
            incident.members |= still
            # the group's quiet devices, those another incident holds too; else its own
            holding = {devices[r] for r in candidate.rows} if candidate is not None else still
            incident.count(now, *tally.of(incident.scope, holding))
            taken |= still
        for scope, candidate in selected.items():
            members = {devices[r] for r in candidate.rows} - taken
            if len(members) < min(self.settings.least(candidate.kind), len(candidate.rows)):
                continue
            self._serial += 1
            started = min((quiet_since.get(d, now) for d in members), default=now)
            incident = Incident(
                id=f"inc-{self._serial:06d}",
                dimension=candidate.dimension,
                value=candidate.value,
                opened_at=now,
                started_at=started,
                evidence=_evidence(candidate),
                members=set(members),
                quiet=set(members),
                kind=candidate.kind,
                cause=candidate.cause,
            )
            incident.count(now, *tally.of(scope, {devices[r] for r in candidate.rows}))
            self.incidents[incident.id] = incident
            self._open[scope] = incident.id
            taken |= members
            opened.append(incident.id)
        self._forget()
        return opened, closed

    def _learn(
        self,
        now: float,
        encoded: Encoded,
        quiet: NDArray[np.bool_],
        counted: Mapping[str, NDArray[np.bool_]],
    ) -> None:
        s = self.settings
        for dimension, (names, codes) in encoded.items():
            known = (codes >= 0) & counted[dimension]
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
        scope = (incident.dimension, incident.value)
        silence = next((s for s in self.silences.values() if s.covers(*scope, now)), None)
        incident.muted = silence is not None
        incident.silence_id = silence.id if silence else None

    def _forget(self) -> None:
        closed = [i.id for i in self.incidents.values() if not i.open]
        for incident_id in closed[: max(len(closed) - self.settings.keep_closed, 0)]:
            del self.incidents[incident_id]


_EVERYWHERE: Final = frozenset({Explains.PLATFORM, Explains.UNIT})
"""Own explanations that keep a device out of every statistical group."""


def _counted(encoded: Encoded, causes: Sequence[Cause | None]) -> dict[str, NDArray[np.bool_]]:
    """Per dimension, the devices that count in its groups (an own explanation keeps one out)."""
    kinds = [CLASS_OF.get(c) if c is not None else None for c in causes]
    platform = np.fromiter((k in _EVERYWHERE for k in kinds), np.bool_, len(kinds))
    device = np.fromiter((k is Explains.DEVICE for k in kinds), np.bool_, len(kinds))
    return {d: ~(platform | device) if d in NETWORK_DIMENSIONS else ~platform for d in encoded}


def _joined(
    candidates: list[Candidate],
    names: Sequence[tuple[str, ...]],
    timing: Timing | None,
    limits: Thresholds,
) -> list[Candidate]:
    """The candidates with only the devices that fell silent with most of theirs (`joined`).

    One left with too few to open (`limits`) is none.
    """
    if timing is None:
        return candidates
    out = []
    for c in candidates:
        named = [r for r in c.rows if c.dimension in names[r]]
        rows = joined(c.rows, named, timing, enough=limits.min_named)
        if rows == c.rows:
            out.append(c)
        elif len(rows) >= limits.min_devices or len(named) >= limits.min_named:
            out.append(replace(c, rows=rows))
    return out


def _strays(
    candidates: list[Candidate], trimmed: list[Candidate], devices: Sequence[str]
) -> dict[str, set[str]]:
    """Per dimension, the devices `_joined` left out of its candidates: quiet before them."""
    kept = {c.scope: c.rows for c in trimmed}
    out: dict[str, set[str]] = {}
    for c in candidates:
        left = c.rows - kept.get(c.scope, frozenset())
        out.setdefault(c.dimension, set()).update(devices[r] for r in left)
    return out


def _evidence(candidate: Candidate) -> Evidence:
    k = len(candidate.rows)
    return Evidence(
        quiet=k,
        devices=candidate.devices,
        share=k / candidate.devices,
        normal_rate=candidate.normal_rate,
        p_value=candidate.p_value,
    )
