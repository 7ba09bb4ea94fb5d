"""What an incident is: its settings, its evidence, the reasons devices carry, the record.

`diagnostics.incidents` finds and follows incidents; this module holds the plain data it
works with and hands out, so that views and the support side can read an incident
without the grouping machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diagnostics.incidents_readings import Returned
    from protocol.causes import Cause

__all__ = ["Evidence", "Incident", "IncidentSettings", "Reasons", "Scope"]

Scope = tuple[str, str, str, "str | None"]
"""An incident's kind, dimension, value and (for a platform group) cause."""


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """When quiet devices are one incident."""

    min_devices: int = 5
    min_named: int = 3
    """The minimum where the network's own word names the group for each quiet device."""
    min_share: float = 0.2
    p_value: float = 0.001
    base_rate: float = 0.005
    """The prior and the floor of every group's normal quiet rate p0."""
    baseline_tau: float = 7 * 86400.0
    """Seconds: the time constant of the moving average p0 is learned by."""
    platform_min_devices: int = 3
    """Quiet devices a platform group needs (the platform names each one's cause)."""
    whole_share: float = 0.8
    """Share of a pool's or account's devices its cause must hold: it is struck whole."""
    cover: float = 0.9
    """Share of a broader group's quiet devices one narrower group must hold to explain it."""
    keep_closed: int = 100
    """Closed incidents remembered."""

    def __post_init__(self) -> None:
        if min(self.min_devices, self.platform_min_devices) < 1:
            raise ValueError("min_devices must be at least 1")
        if not 0.0 <= self.min_share <= 1.0:
            raise ValueError("min_share must be in [0, 1]")
        if not 0.0 < self.p_value <= 1.0:
            raise ValueError("p_value must be in (0, 1]")
        if not 0.0 < self.base_rate < 1.0:
            raise ValueError("base_rate must be in (0, 1)")

    def least(self, kind: str) -> int:
        """Quiet devices an incident of `kind` needs to open and to stay open."""
        return self.platform_min_devices if kind == "platform" else self.min_devices


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why the scope is an incident: k of n quiet where p0 was normal.

    For a platform group, k of the n devices of its attribute share its cause, which the
    platform named for each: `normal_rate` and `p_value` are 0.
    """

    quiet: int
    devices: int
    share: float
    normal_rate: float
    p_value: float


@dataclass(frozen=True, slots=True)
class Reasons:
    """Per device, in the fleet's order: what its own evidence says (see `incidents_reasons`)."""

    causes: Sequence[Cause | None]
    """The cause it names outright, when `CLASS_OF` holds it (None: no explanation of its own)."""
    names: Sequence[tuple[str, ...]]
    """The dimensions its evidence points at, most clearly named first."""
    weakening: Sequence[bool] = ()
    """Whether its newest report weakened (`OwnReadings.weakening`; empty: none did)."""
    returned: Sequence[Returned | None] = ()
    """Where it came back from after a silence (`OwnReadings.returned`; empty: none did)."""


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
    kind: str = "outage"
    """`outage` (many quiet beyond chance) or `platform` (a platform-side cause they share)."""
    cause: str | None = None
    """A platform group's shared cause (a `Cause` id)."""
    counts: list[tuple[float, int, int]] = field(default_factory=list)
    """(from when, devices of its group quiet, devices its group holds), a point per change:
    what its summary says at any moment it was open. The group is every device whose
    attribute puts it there, also those left out of the test for a reason of their own."""
    _order: list[str] = field(default_factory=list, repr=False, compare=False)
    """`members` sorted, as last asked for (`ordered`)."""

    def ordered(self) -> list[str]:
        """Its members by id, sorted again only when it has gained members (it never loses one)."""
        if len(self._order) != len(self.members):
            self._order = sorted(self.members)
        return self._order

    @property
    def open(self) -> bool:
        """Whether it is still going on."""
        return self.closed_at is None

    def counts_at(self, t: float) -> tuple[int, int]:
        """How many devices of its group were quiet at `t`, of how many its group held."""
        before = [c for c in self.counts if c[0] <= t]
        _, quiet, devices = before[-1] if before else (t, len(self.quiet), self.evidence.devices)
        return quiet, devices

    def count(self, now: float, quiet: int, group: int) -> None:
        """Note at `now` that `quiet` of the `group` devices of its group are quiet (if changed)."""
        point = (now, quiet, max(group, quiet))
        if not self.counts or self.counts[-1][1:] != point[1:]:
            self.counts.append(point)

    @property
    def scope(self) -> Scope:
        """Kind, dimension, value and cause: what one open incident at a time has."""
        return (self.kind, self.dimension, self.value, self.cause)
