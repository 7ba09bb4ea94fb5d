"""Errors raised by the simulated world.

Each keeps its constructor's arguments in `args`, so it can be rebuilt as
`type(e)(*e.args)` (SimPy does this when a process fails) or pickled.

Hierarchy::

    SimulatorError
    ├── SpecError              a definition file is invalid (lists every problem)
    ├── UnknownSimError        an ICCID the platform does not hold
    ├── OnboardingConflictError  a valid file that clashes with what the platform holds
    └── TransitionRefusedError a lifecycle move the table forbids (names SIM, from, to, why)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from protocol.sim_state import SimState

__all__ = [
    "OnboardingConflictError",
    "Problem",
    "SimulatorError",
    "SpecError",
    "TransitionRefusedError",
    "UnknownSimError",
]


class SimulatorError(Exception):
    """Base of every error the simulator raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition file: where it is and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class SpecError(SimulatorError):
    """A definition file is invalid; `problems` lists everything found, one line each."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class UnknownSimError(SimulatorError, KeyError):
    """The platform holds no SIM with this ICCID."""

    def __init__(self, iccid: str) -> None:
        self.iccid = iccid
        super().__init__(iccid)

    def __str__(self) -> str:
        return f"no SIM with ICCID {self.iccid} on this platform"


class OnboardingConflictError(SimulatorError):
    """A customer definition clashes with what the platform already holds."""


class TransitionRefusedError(SimulatorError):
    """A lifecycle move was refused; nothing was changed."""

    def __init__(self, iccid: str, source: SimState, target: SimState, reason: str) -> None:
        self.iccid = iccid
        self.source = source
        self.target = target
        self.reason = reason
        super().__init__(iccid, source, target, reason)

    def __str__(self) -> str:
        return f"SIM {self.iccid}: {self.source.name} → {self.target.name} refused: {self.reason}"
