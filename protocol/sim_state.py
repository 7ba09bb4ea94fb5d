"""SIM lifecycle states, as a Control Center style connectivity platform names them.

The states are vocabulary shared by the simulator (which moves SIMs between
them) and the diagnostics service (which reads them from SIM records). Which
moves are allowed is the platform's business and lives in
`simulator.platform.lifecycle`.
"""

from __future__ import annotations

import enum

__all__ = ["SimState"]


class SimState(enum.IntEnum):
    """A SIM's lifecycle state; the integer values are stable (they are stored in columns)."""

    TEST_READY = 0
    INVENTORY = 1
    TRIAL = 2
    ACTIVATION_READY = 3
    ACTIVATED = 4
    DEACTIVATED = 5
    RETIRED = 6
    PURGED = 7

    @classmethod
    def parse(cls, text: str) -> SimState:
        """Read a state from its name, case-insensitively; a bad name lists the valid ones."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name for s in cls)
            raise ValueError(f"unknown SIM state {text!r}; expected one of {names}") from None
