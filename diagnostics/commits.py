"""Each batch's results written once, and kept while the store cannot take them.

The service applies a batch to its hot state, then writes what the batch
brought (messages, dead letters, detection changes, the clock) in one
transaction. When the store cannot write now (`StoreUnavailableError`: a lock
held past the busy timeout, an I/O error, a full or read-only disk), nothing
was committed and the ingest keeps the batch unacknowledged and hands it over
again with back-off. The hot state has taken the batch in already, so it must
not take it twice: `Commits` keeps the unwritten results, writes them first on
the next call, and tells the service whether that call was the same batch
again (then there is nothing more to do). A tick of the wall clock that cannot
be written is kept the same way, and written before the next batch or tick.

`Commits.failure` says what is wrong and since when (wall clock), for
`/health`; it clears at the first write that succeeds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnostics.errors import StoreUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from diagnostics.store import Accepted, DeadLetter, DetectionChange, Store

__all__ = ["Commits", "Pending", "StoreFailure"]


@dataclass(frozen=True, slots=True)
class StoreFailure:
    """The store cannot write: why (the latest error), since when, and how many tries failed."""

    reason: str
    since: float
    """Wall clock, Unix seconds: the first write that failed."""
    failures: int


@dataclass(frozen=True, slots=True)
class Pending:
    """What one batch (or tick) brought, to be written in one transaction."""

    source: object | None
    """The batch it came from (compared by identity); None for a tick."""
    messages: Sequence[Accepted]
    dead: Sequence[DeadLetter]
    detections: Sequence[DetectionChange]
    clock: float | None
    """The clock to store (None: unchanged)."""
    done: Callable[[int], None]
    """Called under the caller's lock with how many messages were new, once written."""


class Commits:
    """Writes pending results, keeping the one the store could not take (see the module)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.kept: Pending | None = None
        self.failure: StoreFailure | None = None

    def write(self, pending: Pending) -> None:
        """Write `pending`, or keep it and raise StoreUnavailableError (nothing committed)."""
        try:
            stored = self.store.write_batch(
                messages=pending.messages,
                dead=pending.dead,
                detections=pending.detections,
                clock=pending.clock,
            )
        except StoreUnavailableError as exc:
            self.kept = pending
            failed = self.failure
            self.failure = StoreFailure(
                str(exc),
                since=failed.since if failed is not None else time.time(),
                failures=(failed.failures if failed is not None else 0) + 1,
            )
            raise
        self.kept = self.failure = None
        pending.done(stored)

    def again(self, source: object | None) -> bool:
        """Write what was kept, if anything; whether it came from `source` (then it is done).

        Raises StoreUnavailableError (keeping it still) when the store cannot write yet.
        """
        kept = self.kept
        if kept is None:
            return False
        self.write(kept)
        return source is not None and kept.source is source
