"""A maintenance silence: incidents in one scope are muted until it ends.

The incident is detected all the same; only its alerts are muted. A silence ends
at its `until`, or earlier when someone ends it (`ended_at`); `Silence.end` is
whichever comes first, and the one rule of whether it still mutes. The grouper
holds the silences; the store keeps each as a support action of kind
`SILENCE_ACTION` (the dataclass as JSON), written again when it is ended, so a
restart takes back (`restore_silences`) a silence ended as ended.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Final

from diagnostics.errors import SilenceError

if TYPE_CHECKING:
    from diagnostics.incidents import Grouper
    from diagnostics.store import Store

__all__ = ["SILENCE_ACTION", "Silence", "add_silence", "end_silence", "restore_silences"]

SILENCE_ACTION: Final = "silence"
"""The store's action kind that keeps maintenance silences across restarts."""


@dataclass(frozen=True, slots=True)
class Silence:
    """Maintenance: incidents in this scope are muted until `until` (or `ended_at`)."""

    id: str
    dimension: str
    value: str
    created_at: float
    until: float
    reason: str = ""
    ended_at: float | None = None
    """When it was ended before its `until`, if it was."""

    @property
    def end(self) -> float:
        """When it stops muting: its `until`, or when it was ended, if earlier."""
        return self.until if self.ended_at is None else min(self.until, self.ended_at)

    def covers(self, dimension: str, value: str, now: float) -> bool:
        """Whether it mutes an incident in this scope at `now`."""
        return self.dimension == dimension and self.value == value and now < self.end

    def ended(self, now: float) -> Silence:
        """The silence ended at `now` (itself, if it had ended already)."""
        return self if self.end <= now else replace(self, ended_at=now)


def add_silence(
    *,
    grouper: Grouper,
    store: Store,
    dimension: str,
    value: str,
    now: float,
    until: float | None = None,
    seconds: float | None = None,
    reason: str = "",
) -> Silence:
    """Mute incidents in a scope from `now` until `until` or for `seconds`, and keep it.

    Raises:
        SilenceError: a bad scope, or not exactly one expiry, or one not after `now`.
    """
    if (until is None) == (seconds is None):
        raise SilenceError("give exactly one of until and seconds")
    expiry = now + seconds if seconds is not None else float(until or 0.0)
    try:
        found = grouper.silence(dimension, value, now=now, until=expiry, reason=reason)
    except ValueError as error:
        raise SilenceError(str(error)) from error
    _keep(store, found)
    return found


def end_silence(*, grouper: Grouper, store: Store, silence_id: str, now: float) -> Silence | None:
    """End a silence at `now` and keep that; None when there is no silence of that id.

    Ending one that has ended already (expired, or ended before) changes nothing.
    """
    before = grouper.silences.get(silence_id)
    found = grouper.end_silence(silence_id, now)
    if found is not None and found != before:
        _keep(store, found)
    return found


def restore_silences(*, grouper: Grouper, store: Store) -> None:
    """Give the grouper back the silences the store kept (ended ones as ended)."""
    for _id, _t, body in store.actions(SILENCE_ACTION):
        grouper.restore(Silence(**json.loads(body)))


def _keep(store: Store, silence: Silence) -> None:
    body = json.dumps(asdict(silence), sort_keys=True)
    store.put_action(SILENCE_ACTION, silence.id, silence.created_at, body)
