"""The store's interface: what the service and the tools code against, whatever the backend.

`StoreReader` answers the questions asked of a store: the API's, the replay the service
rebuilds its state from, and the ones a finished run's tools ask. `Store` adds the
writes of the ingest and of support. SQLite implements both (`diagnostics.store.sqlite`);
a PostgreSQL backend would sit beside it and implement the same two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from diagnostics.store.records import (
        Accepted,
        CurrentDetection,
        DeadLetter,
        DetectionChange,
        StoredDeadLetter,
        StoredDetection,
        StoredMessage,
        StoredRecord,
        StoredStatus,
        Summary,
    )

__all__ = ["Store", "StoreReader"]


class StoreReader(Protocol):
    """A store read: the API's questions, the replay, and what a finished run holds."""

    def contains(self, message: Accepted) -> bool:
        """Whether this very message (its topic and payload) is stored already."""
        ...

    def summary(self) -> Summary:
        """Counts for the overview page."""
        ...

    def device_timeline(
        self,
        device_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 200,
        before_id: int | None = None,
    ) -> list[StoredMessage]:
        """The device's messages and its SIMs' network events, a page in (t, id) order."""
        ...

    def sim_events(
        self,
        iccid: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 500,
    ) -> list[StoredMessage]:
        """The SIM's newest `limit` network events (records left out), in (t, id) order."""
        ...

    def record(self, iccid: str) -> StoredRecord | None:
        """The SIM's newest inventory record."""
        ...

    def records(self, *, batch: int = 10_000) -> Iterator[list[StoredRecord]]:
        """Every SIM's newest inventory record, by ICCID, `batch` at a time."""
        ...

    def actions(self, kind: str) -> list[tuple[str, float, str]]:
        """Every kept action of `kind` as (id, t, body), oldest first."""
        ...

    def last_report(self, device_id: str, *, until: float | None = None) -> float | None:
        """When the device's newest report (telemetry) at or before `until` was sent.

        None: the store holds no report from it. Not bounded by any evidence window: this is
        the one answer to "when did the service last hear from the device".
        """
        ...

    def latest_status(self, device_id: str) -> StoredStatus | None:
        """The device's newest retained status."""
        ...

    def dead_letters(
        self, *, limit: int = 100, before_id: int | None = None, code: str | None = None
    ) -> list[StoredDeadLetter]:
        """Kept dead letters, newest first."""
        ...

    def dead_letter_counts(self) -> dict[str, int]:
        """Dead letters ever received, per code."""
        ...

    def detection_history(self, device_id: str, *, limit: int = 1000) -> list[StoredDetection]:
        """The device's newest detection changes, oldest first."""
        ...

    def current_detections(self) -> list[CurrentDetection]:
        """Every device's detection status now."""
        ...

    def last_clock(self) -> float | None:
        """The service clock's last stored watermark."""
        ...

    def watermarks(self) -> list[tuple[int, float]]:
        """The stored clock messages' ids and stamps, in the order they arrived."""
        ...

    def messages_count(self) -> int:
        """Messages stored."""
        ...

    def replay(
        self, *, batch: int = 10_000, since: float | None = None
    ) -> Iterator[list[StoredMessage]]:
        """Stored telemetry, status and network events in (t, id) order, in batches."""
        ...

    def detections(self) -> list[StoredDetection]:
        """Every device's detection changes, by device and then in (t, id) order."""
        ...

    def device_ids(self) -> list[str]:
        """Every device heard from, in order."""
        ...

    def close(self) -> None:
        """Release the connections."""
        ...


class Store(StoreReader, Protocol):
    """The service's storage: batches in, the API's questions and the replay out."""

    def write_batch(
        self,
        *,
        messages: Sequence[Accepted],
        dead: Sequence[DeadLetter],
        detections: Sequence[DetectionChange] = (),
        clock: float | None = None,
    ) -> int:
        """Commit everything in one transaction; on return it is durable (see the backend).

        Returns how many of `messages` were new (a message stored already is skipped).
        """
        ...

    def put_action(self, kind: str, action_id: str, t: float, body: str) -> None:
        """Keep (or replace) a support action: a swap test, a silence; `body` is its JSON."""
        ...
