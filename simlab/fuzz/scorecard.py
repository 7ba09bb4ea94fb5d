"""The scorecard of many generated worlds: figures summed over world cards, failures by class.

`figures` gives the `name=value` lines `benchmarks/diagnosis.py` and `simlab
fuzz` print, in a fixed order; `as_dict` the JSON scorecard. Both depend only
on the world cards, so the same seed gives the same scorecard byte for byte.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from protocol.inseparable import INSEPARABLE

if TYPE_CHECKING:
    from simlab.fuzz.score import WorldCard

__all__ = ["Scorecard"]

BROKEN = "world failed to run"
"""The failure class of a world that could not be run."""

SEEDS_SHOWN = 8
"""Seeds printed beside each failure class, so a class can be run again world by world."""


@dataclass(slots=True)
class Scorecard:
    """Every world's card, and their sums."""

    cards: list[WorldCard] = field(default_factory=list)
    broken: dict[int, str] = field(default_factory=dict)
    """Worlds that could not be run (seed -> why): a bug of the generator or the model."""

    def add(self, card: WorldCard) -> None:
        """Count one more world."""
        self.cards.append(card)

    def _sum(self, name: str) -> float:
        return float(sum(getattr(c, name) for c in self.cards))

    def failures(self) -> Counter[str]:
        """Failures by class over every world (a broken world is a class of its own)."""
        total: Counter[str] = Counter()
        for card in self.cards:
            total.update(card.failures)
        if self.broken:
            total[BROKEN] += len(self.broken)
        return total

    def figures(self) -> list[tuple[str, str]]:
        """The figures, as (name, value) in print order."""
        affected = self._sum("affected")
        days = self._sum("device_days")
        swaps = self._sum("swap_tests")

        def rate(n: float, d: float) -> str:
            return f"{n / d:.4f}" if d else "nan"

        return [
            ("worlds", str(len(self.cards) + len(self.broken))),
            ("worlds_failed_to_run", str(len(self.broken))),
            ("devices", str(int(self._sum("devices")))),
            ("device_days", f"{days:.1f}"),
            ("devices_affected", str(int(affected))),
            ("devices_too_recent_to_score", str(int(self._sum("too_recent")))),
            ("devices_not_sampled", str(int(self._sum("unsampled")))),
            ("cause_first_rate", rate(self._sum("cause_first"), affected)),
            ("cause_right_rate", rate(self._sum("cause_right"), affected)),
            ("inseparable_pairs", str(len(INSEPARABLE))),
            ("false_alarms", str(int(self._sum("false_alarms")))),
            ("false_alarms_per_10k_device_days", rate(1e4 * self._sum("false_alarms"), days)),
            ("spurious_incidents", str(int(self._sum("spurious_incidents")))),
            (
                "spurious_incidents_per_world",
                rate(self._sum("spurious_incidents"), len(self.cards)),
            ),
            ("missed_incidents", str(int(self._sum("missed_incidents")))),
            ("swap_tests", str(int(swaps))),
            ("swap_verdicts_right", rate(self._sum("swap_right"), swaps)),
            ("messages_checked", str(int(self._sum("messages")))),
            ("message_fact_errors", str(int(self._sum("fact_errors")))),
            ("messages_missing_facts", str(int(self._sum("missing_facts")))),
        ]

    def table(self) -> list[tuple[str, int, int]]:
        """(class, failures, worlds with it), most frequent first."""
        rows = ((k, n, len(self.seeds(k))) for k, n in self.failures().items())
        return sorted(rows, key=lambda r: (-r[1], r[0]))

    def seeds(self, kind: str) -> list[int]:
        """The seeds of the worlds with failures of class `kind`, most failures first."""
        if kind == BROKEN:
            return sorted(self.broken)
        hit = [c for c in self.cards if c.failures[kind]]
        return [c.seed for c in sorted(hit, key=lambda c: (-c.failures[kind], c.seed))]

    def lines(self) -> list[str]:
        """The figures as `name=value` lines, then the failure table with the worst seeds."""
        out = [f"{name}={value}" for name, value in self.figures()]
        out.append(f"failures by class (count, worlds, up to {SEEDS_SHOWN} seeds, worst first):")
        for kind, n, w in self.table():
            seeds = ",".join(map(str, self.seeds(kind)[:SEEDS_SHOWN]))
            out.append(f"  {n:6d} {w:4d}  {kind}  [{seeds}]")
        return out

    def as_dict(self) -> dict[str, Any]:
        """The JSON scorecard: figures, failure table, and each world's card."""
        return {
            "figures": dict(self.figures()),
            "failures": [
                {"class": k, "count": n, "worlds": w, "seeds": self.seeds(k)}
                for k, n, w in self.table()
            ],
            "broken": {str(k): v for k, v in sorted(self.broken.items())},
            "worlds": [c.as_dict() for c in sorted(self.cards, key=lambda c: c.seed)],
        }
