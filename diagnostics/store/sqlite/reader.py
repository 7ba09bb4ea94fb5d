"""Reading the SQLite store: the API's questions, the replay, a finished run's contents.

Every reading thread gets its own connection (created on first use, closed by
`close`); in WAL mode it reads the last committed snapshot while the writer
writes. `replay` opens a connection of its own for its one long scan. A busy
timeout (5 s by default) covers the rare moments SQLite locks readers out (WAL
recovery after a crash, a second process).

A `SQLiteReader` on its own (`SQLiteStore.open_readonly`) opens an existing file
read-only, by a `file:` URI with `mode=ro`; `SQLiteStore` is a reader too, over
the file it writes.
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
import threading
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

from diagnostics.store.records import (
    CurrentDetection,
    StoredDeadLetter,
    StoredDetection,
    StoredMessage,
    StoredRecord,
    StoredStatus,
    Summary,
)
from diagnostics.store.sqlite.schema import check
from diagnostics.store.sqlite.writer import digest

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator
    from types import TracebackType

    from diagnostics.store.records import Accepted

__all__ = ["SQLiteReader"]

_MESSAGE_COLUMNS: Final = "id, kind, device_id, iccid, account, t, received, topic, payload"
_STORED_DEVICE: Final = "SELECT 1 FROM messages WHERE device_id = ? AND t = ? AND digest = ?"
_STORED_SIM: Final = (
    "SELECT 1 FROM messages WHERE device_id IS NULL AND iccid = ? AND t = ? AND digest = ?"
)
_STORED_OTHER: Final = (
    "SELECT 1 FROM messages"
    " WHERE device_id IS NULL AND iccid IS NULL AND kind = ? AND t = ? AND digest = ?"
)
_DEVICE_PAGE: Final = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608 - constant column list, no input
    " WHERE device_id = ? AND t >= ? AND t <= ? AND (t, id) < (?, ?)"
    " ORDER BY t DESC, id DESC LIMIT ?"
)
_SIM_PAGE: Final = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608 - constant column list, no input
    " WHERE iccid = ? AND device_id IS NULL AND kind <> 'record'"
    " AND t >= ? AND t <= ? AND (t, id) < (?, ?)"
    " ORDER BY t DESC, id DESC LIMIT ?"
)
_REPLAY: Final = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages"  # noqa: S608 - constant column list, no input
    " WHERE t >= ? AND kind NOT IN ('record', 'clock') ORDER BY t, id"
)
_WATERMARKS: Final = "SELECT id, t FROM messages WHERE kind = 'clock' ORDER BY id"
_DETECTIONS: Final = (
    "SELECT id, device_id, t, verdict, reason FROM verdicts ORDER BY device_id, t, id"
)
_LAST_ID: Final = 2**63 - 1
_INF: Final = float("inf")


class SQLiteReader:
    """`StoreReader` on one SQLite file (see the module for the connections)."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._readers_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._closed = False

    # ---- connections ------------------------------------------------------------------------

    def _connect_reader(self) -> sqlite3.Connection:
        """A read-only connection to the file: a `file:` URI (quoted) with mode=ro."""
        return sqlite3.connect(
            f"{Path(self.path).resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,  # used by one thread at a time
        )

    def check_version(self) -> None:
        """Refuse (and close) a file that is not a store of this code's version.

        Raises:
            StoreFileError: naming the file, and both versions when they differ.
        """
        try:
            check(self._reader(), self.path)
        except BaseException:
            self.close()
            raise

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._readers_lock:
            if self._closed:
                raise RuntimeError(f"{self.path}: the store is closed")
            conn = self._connect_reader()
            self._readers.append(conn)
        self._local.conn = conn
        return conn

    def _rows(self, sql: str, params: Iterable[object] = ()) -> list[Any]:
        """All rows of a query, read to the end so no read transaction stays open."""
        return self._reader().execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        """Close every reader connection (a running replay keeps its own)."""
        with self._readers_lock:
            if self._closed:
                return
            self._closed = True
            self._close_readers()

    def _close_readers(self) -> None:
        for conn in self._readers:
            conn.close()
        self._readers.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ---- reading ----------------------------------------------------------------------------

    def contains(self, message: Accepted) -> bool:
        """Whether this very message (its topic and payload) is stored already."""
        key = digest(message.topic, message.payload)
        if message.device_id is not None:
            found = self._rows(_STORED_DEVICE, (message.device_id, message.t, key))
        elif message.iccid is not None:
            found = self._rows(_STORED_SIM, (message.iccid, message.t, key))
        else:
            found = self._rows(_STORED_OTHER, (message.kind, message.t, key))
        return bool(found)

    def summary(self) -> Summary:
        """Messages per kind, devices and SIMs seen, dead letters ever per code."""
        return Summary(
            kinds=dict(self._rows("SELECT kind, count FROM kind_counts ORDER BY kind")),
            devices=self._rows("SELECT COUNT(*) FROM devices")[0][0],
            sims=self._rows("SELECT COUNT(*) FROM sims")[0][0],
            dead_letters=self.dead_letter_counts(),
        )

    def messages_count(self) -> int:
        """Messages stored, all kinds (from the counters, not a table scan)."""
        count: int = self._rows("SELECT COALESCE(SUM(count), 0) FROM kind_counts")[0][0]
        return count

    def device_timeline(
        self,
        device_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 200,
        before_id: int | None = None,
    ) -> list[StoredMessage]:
        """A page of the device's timeline, oldest first.

        The timeline is the device's own messages (telemetry, status) and the
        network events (not records) of every ICCID it has reported with, in
        (t, id) order, `since` <= t <= `until`. A page holds the `limit` latest
        entries before the entry `before_id` (or the latest of all); the next,
        older page is asked for with the first entry's id as `before_id`.
        Raises KeyError for a `before_id` that is not a stored message.
        """
        cursor = (_INF, _LAST_ID)
        if before_id is not None:
            found = self._rows("SELECT t FROM messages WHERE id = ?", (before_id,))
            if not found:
                raise KeyError(before_id)
            cursor = (found[0][0], before_id)
        window = (-_INF if since is None else since, _INF if until is None else until)
        pages = [self._rows(_DEVICE_PAGE, (device_id, *window, *cursor, limit))]
        iccids = self._rows("SELECT iccid FROM device_sims WHERE device_id = ?", (device_id,))
        pages += [self._rows(_SIM_PAGE, (iccid, *window, *cursor, limit)) for (iccid,) in iccids]
        newest = heapq.merge(*pages, key=_time_and_id, reverse=True)
        page = [StoredMessage(*row) for row in itertools.islice(newest, limit)]
        page.reverse()
        return page

    def sim_events(
        self,
        iccid: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 500,
    ) -> list[StoredMessage]:
        """The SIM's newest `limit` network events with `since` <= t <= `until`, oldest first."""
        window = (-_INF if since is None else since, _INF if until is None else until)
        rows = self._rows(_SIM_PAGE, (iccid, *window, _INF, _LAST_ID, limit))
        return [StoredMessage(*row) for row in reversed(rows)]

    def actions(self, kind: str) -> list[tuple[str, float, str]]:
        """Every kept action of `kind` as (id, t, body), oldest first."""
        rows = self._rows("SELECT id, t, body FROM actions WHERE kind = ? ORDER BY t, id", (kind,))
        return [(str(i), float(t), str(b)) for i, t, b in rows]

    def record(self, iccid: str) -> StoredRecord | None:
        """The SIM's newest inventory record, or None."""
        found = self._rows(
            "SELECT iccid, account, t, payload FROM records WHERE iccid = ?", (iccid,)
        )
        return StoredRecord(*found[0]) if found else None

    def records(self, *, batch: int = 10_000) -> Iterator[list[StoredRecord]]:
        """Every SIM's newest inventory record, by ICCID, `batch` at a time (one snapshot)."""
        conn = self._connect_reader()
        try:
            rows = conn.execute("SELECT iccid, account, t, payload FROM records ORDER BY iccid")
            while chunk := rows.fetchmany(batch):
                yield [StoredRecord(*row) for row in chunk]
        finally:
            with suppress(sqlite3.Error):
                conn.close()

    def last_report(self, device_id: str, *, until: float | None = None) -> float | None:
        """When the device's newest stored report (telemetry) at or before `until` was sent."""
        found = self._rows(
            "SELECT max(t) FROM messages WHERE device_id = ? AND kind = 'telemetry' AND t <= ?",
            (device_id, _INF if until is None else until),
        )
        t = found[0][0] if found else None
        return None if t is None else float(t)

    def latest_status(self, device_id: str) -> StoredStatus | None:
        """The device's newest retained status, or None."""
        found = self._rows(
            "SELECT device_id, t, status, will, payload FROM statuses WHERE device_id = ?",
            (device_id,),
        )
        if not found:
            return None
        device, t, status, will, payload = found[0]
        return StoredStatus(*(device, t, status), will=bool(will), payload=payload)

    def dead_letters(
        self, *, limit: int = 100, before_id: int | None = None, code: str | None = None
    ) -> list[StoredDeadLetter]:
        """Kept dead letters, newest first; the next page starts before the last one's id."""
        sql = (
            "SELECT id, topic, payload, size, code, reason, received FROM dead_letters WHERE id < ?"
        )
        params: list[object] = [_LAST_ID if before_id is None else before_id]
        if code is not None:
            sql += " AND code = ?"
            params.append(code)
        rows = self._rows(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [StoredDeadLetter(*row) for row in rows]

    def dead_letter_counts(self) -> dict[str, int]:
        """Dead letters ever received per code (never trimmed)."""
        return dict(self._rows("SELECT code, count FROM dead_letter_counts ORDER BY code"))

    def detection_history(self, device_id: str, *, limit: int = 1000) -> list[StoredDetection]:
        """The device's newest `limit` detection changes, oldest first."""
        rows = self._rows(
            "SELECT id, device_id, t, verdict, reason FROM verdicts WHERE device_id = ?"
            " ORDER BY t DESC, id DESC LIMIT ?",
            (device_id, limit),
        )
        return [StoredDetection(*row) for row in reversed(rows)]

    def current_detections(self) -> list[CurrentDetection]:
        """Every device's detection status now (the last change written), by device id."""
        rows = self._rows(
            "SELECT device_id, verdict, reason, since FROM current_verdicts ORDER BY device_id"
        )
        return [CurrentDetection(*row) for row in rows]

    def last_clock(self) -> float | None:
        """The service clock's last watermark written, or None before the first."""
        found = self._rows("SELECT t FROM clock WHERE id = 1")
        return float(found[0][0]) if found else None

    def watermarks(self) -> list[tuple[int, float]]:
        """The stored clock messages' ids and stamps, in the order they arrived."""
        return [(int(i), float(t)) for i, t in self._rows(_WATERMARKS)]

    def replay(
        self, *, batch: int = 10_000, since: float | None = None
    ) -> Iterator[list[StoredMessage]]:
        """Stored telemetry, status and network events with t >= `since`, in (t, id) order.

        Records and clock messages are left out. It reads one snapshot on a
        connection of its own, closed when the iteration ends or is dropped.
        """
        if batch < 1:
            raise ValueError(f"batch must be positive, not {batch}")
        conn = self._connect_reader()
        try:
            rows = conn.execute(_REPLAY, (-_INF if since is None else since,))
            while chunk := rows.fetchmany(batch):
                yield [StoredMessage(*row) for row in chunk]
        finally:
            with suppress(sqlite3.Error):
                conn.close()

    def detections(self) -> list[StoredDetection]:
        """Every device's detection changes, by device id and then in (t, id) order."""
        return [StoredDetection(*row) for row in self._rows(_DETECTIONS)]

    def device_ids(self) -> list[str]:
        """Every device heard from, by id."""
        return [str(d) for (d,) in self._rows("SELECT device_id FROM devices ORDER BY device_id")]


def _time_and_id(row: tuple[Any, ...]) -> tuple[float, int]:
    """The (t, id) order key of a messages row."""
    return row[5], row[0]
