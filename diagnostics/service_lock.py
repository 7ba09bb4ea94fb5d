"""The service's lock: the API's readers against the stream's writer, and the writer's pauses.

`ServiceLock` is what `Service.lock` is: held (`with service.lock:`) by each reader of the
hot state for a consistent picture, and by each write of it (`writing`: a batch, a tick,
a rebuild), which also holds the writer's own lock, so one write runs at a time. Grouping a
big fleet's quiet devices is Python per device (a million rows take tens of seconds); a
write that long calls `pause` every few thousand rows, which lets the waiting readers take
the lock a moment. Nothing changes meanwhile: no other write can start, and a reader only
reads; a reader then sees the batch's messages up to its watermark, not yet committed.

Never start a write while holding the lock as a reader: the write's pause could not give
it back to another.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

__all__ = ["ServiceLock"]


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

    def pause(self) -> None:
        """Let the readers waiting have the state's lock a moment, inside a write (else nothing)."""
        if self._depth != 1:
            return  # not inside a write, or inside one nested in another: keep the lock
        self._state.release()
        try:
            time.sleep(0)  # gives up the GIL, so a woken reader can take the lock
        finally:
            self._state.acquire()
