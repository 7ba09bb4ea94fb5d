"""The service's lock: the API's readers against the stream's writer, and the writer's pauses.

`ServiceLock` is what `Service.lock` is: held (`with service.lock:`) by each reader of the
hot state for a consistent picture, and by each write of it (`writing`: a batch, a tick,
a rebuild), which also holds the writer's own lock, so one write runs at a time. Grouping a
big fleet's quiet devices is Python per device (a million rows take tens of seconds); a
write that long calls `pause` every few thousand rows (and a batch every thousand messages),
which lets the waiting readers take the lock a moment; a batch's commit to the store runs
with the readers let in (`readers_in`). Nothing changes meanwhile: no other write can start,
and a reader only reads; it may then see part of a batch, or all of it before its commit.

Never start a write while holding the lock as a reader: the write's pause could not give
it back to another.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import TracebackType

__all__ = ["PAUSE_MESSAGES", "ServiceLock"]

T = TypeVar("T")
PAUSE_MESSAGES: Final = 1_000
"""A batch pauses after every this many messages (some 50 ms of reading them)."""


class ServiceLock:
    """One reentrant lock of the hot state, and the writer's lock beside it."""

    def __init__(self) -> None:
        self._state = threading.RLock()
        self._writer = threading.RLock()
        self._depth = 0
        """How deep the writer holds the state's lock (a pause only at depth 1)."""

    def __enter__(self) -> bool:
        return self._state.__enter__()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._state.__exit__(kind, error, traceback)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold both locks for a write of the hot state."""
        with self._writer, self._state:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1

    @contextmanager
    def readers_in(self) -> Iterator[None]:
        """Inside a write, let readers have the state's lock for this block (else nothing).

        For a part of the write that changes no hot state: committing to the store.
        """
        if self._depth != 1:
            yield  # not inside a write, or inside one nested in another: keep the lock
            return
        self._state.release()
        try:
            yield
        finally:
            self._state.acquire()

    def paced(self, items: Iterable[T], every: int = PAUSE_MESSAGES) -> Iterator[T]:
        """`items`, with a `pause` after every `every` of them."""
        for n, item in enumerate(items, 1):
            yield item
            if n % every == 0:
                self.pause()

    def pause(self) -> None:
        """Let the readers waiting have the state's lock a moment, inside a write (else nothing)."""
        with self.readers_in():
            time.sleep(0)  # gives up the GIL, so a woken reader can take the lock
