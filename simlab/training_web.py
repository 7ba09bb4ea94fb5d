"""Training in the browser: `simlab serve --scenarios` gives its service this `TrainingPort`.

A trainer starts a bundled scenario from the console; it runs as `simlab train` runs it
(its own embedded broker, service and run directory, under `folder`), in a thread of its
own, while the console goes on serving the service's fleet. Once it has run, trainees
who join with its code see the briefing (`simlab.training.briefing`: the story and what
staff would see, never the causes), answer per device, and are marked against the
scenario's answer key (`simlab.training.mark`, with `explain`'s reasons). At most
`MAX_RUNNING` exercises run at once; each run's code is `CODE_LENGTH` letters and digits
that are not mistaken for one another.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from diagnostics.training_port import LookCard, MarkLine, RunCard, ScenarioCard, ScoreCard
from protocol.causes import Cause
from simlab.resources import bundled_names
from simlab.resources import scenario as scenario_path
from simlab.training import CHOICES, briefing, cause_title, explain, mark

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from simlab.scenario import ScenarioSpec
    from simlab.training import Briefing

__all__ = ["CODE_LENGTH", "MAX_RUNNING", "ScenarioTraining"]

CODE_LENGTH: Final = 6
MAX_RUNNING: Final = 2
_LETTERS: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Join-code characters: no 0/O, 1/I."""


@dataclass
class _Run:
    card: RunCard
    spec: ScenarioSpec
    out: Path
    diagnoses: list[dict[str, Any]] | None = None
    scorecard: dict[str, Any] | None = None


class ScenarioTraining:
    """Exercises of the bundled scenarios, run under `folder` (see the module)."""

    def __init__(self, folder: Path, *, decoys: int = 3, size: int | None = None) -> None:
        self.folder = folder
        self.decoys = decoys
        self.size = size
        """Devices per scenario where it is large (None: each scenario's own size)."""
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._scenarios: list[ScenarioCard] | None = None

    def scenarios(self) -> list[ScenarioCard]:
        """Every bundled scenario, by name (read once: the bundle does not change)."""
        from simlab.scenario import load_scenario  # noqa: PLC0415 - the scenario model is heavy

        with self._lock:
            if self._scenarios is None:
                cards = []
                for name in bundled_names():
                    spec = load_scenario(scenario_path(name), self.size)
                    cards.append(ScenarioCard(name, spec.title, spec.story.strip()))
                self._scenarios = cards
            return list(self._scenarios)

    def causes(self) -> list[tuple[str, str]]:
        """Every cause a trainee may name, in `simlab.training.CHOICES` order."""
        return [(c.value, cause_title(c)) for c in CHOICES]

    def start(self, scenario: str) -> RunCard:
        """Start `scenario` in a thread (KeyError: not a bundled scenario; RuntimeError: busy)."""
        from simlab.scenario import load_scenario  # noqa: PLC0415 - likewise

        if scenario not in bundled_names():
            raise KeyError(f"no bundled scenario {scenario!r}")
        spec = load_scenario(scenario_path(scenario), self.size)
        with self._lock:
            if sum(r.card.state == "running" for r in self._runs.values()) >= MAX_RUNNING:
                raise RuntimeError(f"{MAX_RUNNING} exercises are running already: wait for one")
            run_id = uuid.uuid4().hex[:8]
            code = "".join(secrets.choice(_LETTERS) for _ in range(CODE_LENGTH))
            card = RunCard(run_id, code, scenario, spec.title, spec.story.strip(), "running")
            out = self.folder / f"{scenario}-train-{time.strftime('%Y%m%d-%H%M%S')}-{run_id}"
            self._runs[run_id] = _Run(card, spec, out)
        threading.Thread(target=self._play, args=(run_id,), daemon=True).start()
        return card

    def _play(self, run_id: str) -> None:
        from simlab.run import RunOptions, run_scenario  # noqa: PLC0415
        from simlab.rundir import RunDir  # noqa: PLC0415 - only a run needs these

        run = self._runs[run_id]
        try:
            report = run_scenario(run.spec, run.card.scenario, RunOptions(out=run.out))
            world = report.result.world
            sims = world.device_sims() if world is not None else {}
            seen = briefing(
                spec=run.spec,
                scenario=run.card.scenario,
                out=run.out,
                decoys=self.decoys,
                sims=sims,
            )
            files = RunDir(run.out)
            diagnoses, scorecard = files.read_diagnoses(), files.read_scorecard()
        except Exception as error:  # noqa: BLE001 - any failure of the run is the run's state
            with self._lock:
                run.card = replace(
                    run.card, state="failed", error=str(error) or type(error).__name__
                )
            return
        with self._lock:
            run.diagnoses, run.scorecard = diagnoses, scorecard
            run.card = _ready(run.card, seen)

    def runs(self) -> list[RunCard]:
        """Every exercise started, newest first."""
        with self._lock:
            return [r.card for r in reversed(self._runs.values())]

    def run(self, run_id: str) -> RunCard | None:
        """One exercise, as it stands."""
        with self._lock:
            found = self._runs.get(run_id)
            return found.card if found is not None else None

    def answer(self, run_id: str, trainee: str, answers: Mapping[str, str | None]) -> ScoreCard:
        """Mark `answers` (device -> cause id, None: healthy) against the run's answer key."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            raise ValueError(f"no exercise {run_id!r}")
        if run.card.state != "ready" or run.diagnoses is None or run.scorecard is None:
            raise ValueError(f"exercise {run_id} is {run.card.state}, not ready to answer")
        listed = {d.device_id for d in run.card.devices}
        if set(answers) != listed:
            missing = sorted(listed - set(answers)) or sorted(set(answers) - listed)
            raise ValueError(f"answer every device on the list, and only those: {missing[0]}")
        known = {c.value for c in Cause}
        unknown = [c for c in answers.values() if c is not None and c not in known]
        if unknown:
            raise ValueError(f"no cause {unknown[0]!r}")
        given = {d: (Cause(c) if c is not None else None) for d, c in answers.items()}
        marks = mark(answers=given, spec=run.spec, diagnoses=run.diagnoses, scorecard=run.scorecard)
        lines = tuple(
            MarkLine(
                m.device_id,
                cause_title(m.answer),
                cause_title(m.truth),
                m.right,
                tuple(explain(m)),
            )
            for m in marks.marks
        )
        return ScoreCard(run_id, trainee, marks.total(), marks.service, lines)


def _ready(card: RunCard, seen: Briefing) -> RunCard:
    looks = tuple(
        LookCard(
            d.device_id,
            d.name,
            d.status,
            d.since,
            d.last_seen,
            tuple(e.text for e in d.lately),
        )
        for d in seen.devices
    )
    incidents = tuple(
        f"{i.id}: {i.scope}, {i.quiet} of {i.members} quiet, {'open' if i.open else 'closed'}"
        for i in seen.incidents
    )
    return replace(card, state="ready", fleet=dict(seen.fleet), devices=looks, incidents=incidents)
