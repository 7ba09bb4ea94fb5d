"""A maintenance silence: incidents in one scope are muted until it expires.

The incident is detected all the same; only its alerts are muted.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Silence"]


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
