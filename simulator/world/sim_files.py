"""What each SIM card keeps on itself: its forbidden-network list (EF_FPLMN).

A network that refuses a device with EMM #11 ("PLMN not allowed") goes into the
SIM's EF_FPLMN file (TS 31.102 §4.2.16; TS 24.301 §5.5.1.2.5). The file lives on
the card, not in the modem: it survives modem resets, power cycles and SIM swaps,
and in automatic network selection the device never tries a network on it again
(TS 23.122 §3.1). Only two things take a network off: the operator rewriting the
file over the air, and a manual selection of that network that succeeds.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FPLMN_ENTRIES", "SimFiles"]

FPLMN_ENTRIES: Final = 4
"""How many networks EF_FPLMN holds (TS 31.102: at least four); the oldest gives way."""


class SimFiles:
    """The forbidden-network list of every SIM card in the world, by ICCID."""

    def __init__(self) -> None:
        self._fplmn: dict[str, list[str]] = {}

    def forbidden(self, iccid: str) -> tuple[str, ...]:
        """The networks on the SIM's forbidden list, oldest first."""
        return tuple(self._fplmn.get(iccid, ()))

    def forbid(self, iccid: str, mcc_mnc: str) -> None:
        """A network refused the SIM with #11: it goes on the card's list."""
        entries = self._fplmn.setdefault(iccid, [])
        if mcc_mnc in entries:
            return
        entries.append(mcc_mnc)
        del entries[:-FPLMN_ENTRIES]

    def allow(self, iccid: str, mcc_mnc: str) -> None:
        """A manual selection of the network succeeded: it comes off the card's list."""
        entries = self._fplmn.get(iccid, [])
        if mcc_mnc in entries:
            entries.remove(mcc_mnc)

    def clear(self, iccid: str) -> None:
        """The operator rewrites the card's list over the air: it is empty."""
        self._fplmn.pop(iccid, None)
