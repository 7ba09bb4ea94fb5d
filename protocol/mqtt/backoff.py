"""Waiting between reconnects: a delay that doubles after each failure, up to a ceiling."""

from __future__ import annotations

__all__ = ["Backoff"]


class Backoff:
    """Delays `first`, 2 x `first`, 4 x `first` ... never more than `most`; `reset` starts again.

    The diagnostics ingest waits so long before it connects again, the publisher lets so
    long pass before its next reconnect attempt.
    """

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = most
        self._next = first

    def next(self) -> float:
        """The delay before the next attempt; the one after will be twice as long."""
        delay = self._next
        self._next = min(2 * delay, self.most)
        return delay

    def reset(self) -> None:
        """A connection succeeded: the next failure waits `first` again."""
        self._next = self.first
