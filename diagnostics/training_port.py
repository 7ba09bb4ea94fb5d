"""The port through which the console runs training exercises: what `simlab` gives the service.

Scenarios, their worlds and ground truth, and the marking of answers stay in `simlab`
(`simlab.training_web` implements `TrainingPort`); the service only shows what the port
hands it, as plain data, so `diagnostics` never imports the simulator. A trainer starts a
bundled scenario (`start`); it runs apart from the service's own fleet, and its run gets a
short join code. Trainees see its story and what support staff would see of it, never
the causes (`RunCard.devices`), answer per device and are marked (`answer`); any number of
trainees may answer the same run, each under their own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["LookCard", "MarkLine", "RunCard", "ScenarioCard", "ScoreCard", "TrainingPort"]


@dataclass(frozen=True, slots=True)
class ScenarioCard:
    """A scenario a trainer may start."""

    name: str
    title: str
    story: str


@dataclass(frozen=True, slots=True)
class LookCard:
    """A device the trainee looks at: what staff would see, without the service's diagnosis."""

    device_id: str
    name: str | None
    status: str
    since: float | None
    last_seen: float | None
    lately: tuple[str, ...]
    """Its timeline's newest entries, in words, newest last."""


@dataclass(frozen=True, slots=True)
class RunCard:
    """A started exercise: its scenario, whether it has run, and what trainees see of it."""

    id: str
    code: str
    """What a trainee types to join: it lets them answer this run and nothing else."""
    scenario: str
    title: str
    story: str
    state: str
    """`running`, `ready` (trainees may answer) or `failed` (`error` says why)."""
    error: str | None = None
    fleet: dict[str, int] = field(default_factory=dict)
    devices: tuple[LookCard, ...] = ()
    incidents: tuple[str, ...] = ()
    """The incidents the service opened, in words."""


@dataclass(frozen=True, slots=True)
class MarkLine:
    """One device marked: the answer, the truth, and why."""

    device_id: str
    answer: str
    truth: str
    right: bool
    explanation: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """A trainee's score on a run."""

    run_id: str
    trainee: str
    total: str
    """E.g. "4 of 5 right, 80%"."""
    service: str
    """How the service itself did, in one line."""
    lines: tuple[MarkLine, ...]


class TrainingPort(Protocol):
    """What `simlab` gives the console for training (see the module)."""

    def scenarios(self) -> list[ScenarioCard]:
        """The scenarios a trainer may start."""
        ...

    def causes(self) -> list[tuple[str, str]]:
        """(cause id, title) a trainee chooses from, in order."""
        ...

    def start(self, scenario: str) -> RunCard:
        """Start an exercise of `scenario` (KeyError: no such scenario)."""
        ...

    def runs(self) -> list[RunCard]:
        """Every exercise started, newest first."""
        ...

    def run(self, run_id: str) -> RunCard | None:
        """One exercise (None: no such run)."""
        ...

    def answer(self, run_id: str, trainee: str, answers: Mapping[str, str | None]) -> ScoreCard:
        """Mark a trainee's answers (device -> cause id, None: healthy) on a ready run.

        Raises ValueError naming what is wrong (the run is not ready, a device not on its
        list, a cause not known).
        """
        ...
