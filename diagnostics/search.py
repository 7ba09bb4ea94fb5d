"""Finding a device by what a customer calls it: name, id, ICCID (or its end), IMEI, account, site.

`DeviceSearch` is an index the service keeps as SIM records arrive (a record names the
device, its site and its account): words of names and sites, accounts, and ICCIDs by
their last `TAIL` digits, each to the ICCIDs that carry them. A query is answered by
lookups, never by reading the fleet: the device and SIM maps say which device holds each
SIM found, and exact device ids and IMEIs are looked up in them directly. A query of
several words finds what carries every word ("giraffe collar 2").

Pure and in memory; `apply` takes each SIM record once, in the service's lock.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.compact import Many, add, discard, values
from protocol.messages import SimRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pydantic import BaseModel

__all__ = ["TAIL", "DeviceSearch", "Found"]

TAIL: Final = 4
"""ICCIDs are found by at least their last this many digits."""
_WORD: Final = re.compile(r"[^\W_]+", re.UNICODE)


def _words(text: str | None) -> set[str]:
    return {sys.intern(w.casefold()) for w in _WORD.findall(text or "")}


@dataclass(frozen=True, slots=True)
class Found:
    """One match: the SIM (or device) found and what it was found by."""

    iccid: str | None
    device_id: str | None
    by: str
    """`device id`, `ICCID`, `IMEI`, `account`, or `name or site`."""
    name: str | None = None
    """The device's name, as its SIM's record gives it."""


class DeviceSearch:
    """Words, accounts and ICCID tails to the SIMs that carry them (see the module)."""

    def __init__(self) -> None:
        self._words: Many = {}
        """A word of a device's name or site -> the ICCIDs whose record carries it (one alone,
        or a set: most names have a word of their own, a number say)."""
        self._accounts: dict[str, set[str]] = {}
        self._tails: dict[str, set[str]] = {}
        """The last `TAIL` digits of an ICCID -> the ICCIDs ending so."""
        self._said: dict[str, tuple[tuple[str, ...], str, str | None]] = {}
        """ICCID -> the words, account and name its newest record gave (to unlearn them)."""

    def apply(self, message: BaseModel) -> None:
        """Take a SIM record into the index (other messages are ignored)."""
        if not isinstance(message, SimRecord):
            return
        iccid = message.iccid
        words = _words(message.device_name) | _words(message.site)
        old = self._said.get(iccid)
        if old is not None:
            for word in set(old[0]) - words:
                discard(self._words, word, iccid)
            if old[1] != message.account:
                self._accounts.get(old[1], set()).discard(iccid)
        for word in words:
            add(self._words, word, iccid)
        self._accounts.setdefault(message.account, set()).add(iccid)
        self._tails.setdefault(iccid[-TAIL:], set()).add(iccid)
        self._said[iccid] = (tuple(words), message.account, message.device_name)

    def find(
        self,
        query: str,
        *,
        device: Callable[[str], bool],
        holder: Callable[[str], str | None],
        owner: Callable[[str], str | None],
        limit: int = 50,
    ) -> list[Found]:
        """What `query` names, at most `limit`, exact matches first.

        `device(id)`: whether a device of that id has been seen; `holder(iccid)`: the device
        that holds the SIM; `owner(imei)`: the device that reports with the IMEI.
        """
        text = query.strip()
        if not text:
            return []
        found: list[Found] = []
        if device(text):
            found.append(Found(None, text, "device id"))
        digits = text.replace(" ", "")
        if digits.isdigit():
            if (imei := owner(digits)) is not None:
                found.append(Found(None, imei, "IMEI"))
            if len(digits) >= TAIL:
                tail = self._tails.get(digits[-TAIL:], set())
                found += self._sims((i for i in tail if i.endswith(digits)), "ICCID", holder)
        if text in self._accounts:
            found += self._sims(self._accounts[text], "account", holder)
        words = _words(text)
        if words:
            held = [values(self._words, w) for w in words]
            sets = [v if isinstance(v, set) else set(v) for v in held]  # a large one not copied
            found += self._sims(set.intersection(*sets), "name or site", holder)
        return _unique(found)[:limit]

    def _sims(
        self, iccids: Iterable[str], by: str, holder: Callable[[str], str | None]
    ) -> list[Found]:
        return [Found(i, holder(i), by, self.name(i)) for i in sorted(iccids)]

    def name(self, iccid: str | None) -> str | None:
        """The device name the SIM's newest record gives (None: none, or no record)."""
        said = self._said.get(iccid or "")
        return said[2] if said is not None else None


def _unique(found: list[Found]) -> list[Found]:
    """Each device (or SIM with no device) once, where it was first found."""
    seen: set[str] = set()
    out = []
    for f in found:
        key = f.device_id or f.iccid or ""
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
