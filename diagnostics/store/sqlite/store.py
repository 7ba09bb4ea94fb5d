"""`SQLiteStore`: the diagnostics store on one SQLite file, its writer and its readers.

- WAL journal, one writer and many readers that never block each other.
- `synchronous=NORMAL` (default): in WAL mode a commit appends to the WAL
  without an fsync; the WAL is synced at checkpoints. A committed transaction
  survives a crash of the process (SIGKILL, OOM kill: the OS page cache holds
  it), but a power loss or kernel crash may lose the last transactions
  committed before the latest checkpoint - never corrupting the file. Messages
  acknowledged in that window are lost. `synchronous="FULL"` syncs the WAL on
  every commit and makes an acknowledged batch survive power loss too, at
  the cost of one fsync per batch. Measured here (tests/test_store.py, 2
  cores, batches of 500 realistic messages, fresh file): NORMAL about 50,000
  msg/s, FULL about 46,000 (an fsync of this disk takes ~0.5 ms, small next
  to a batch); with 600,000 messages of 5,000 devices stored, about 30,000,
  as every message dirties its device's page of the (device_id, t) index.
- The WAL is checkpointed every ~64 MiB (16,000 pages) rather than SQLite's
  4 MiB: a hot index page rewritten by many batches is copied back once, not
  once per batch (a third more throughput on a grown file); the price is a
  checkpoint of up to 64 MiB inside an occasional commit, and as much WAL to
  scan when opening after a crash.
- Threading: one writer connection (`check_same_thread=False`) serialised by
  a lock, so any thread may call `write_batch`, one at a time. Readers are
  those of `SQLiteReader`: one read-only connection per thread.
- A write the file cannot take now (a lock held past the busy timeout, an I/O
  error, a full or read-only disk) raises `StoreUnavailableError` and commits
  nothing; the connection is still good, and the same write succeeds once the
  file can be written again (the service retries it, `diagnostics.service`).
- The file must be on a local file system (WAL needs shared memory), so not
  ":memory:" and not NFS. SQLite 3.37 or newer (STRICT tables).
- Dead letters are kept newest first, bounded by rows (`dead_letter_limit`) and by the
  bytes of their payloads (`dead_letter_bytes`): the writer keeps the total as it goes
  (counted once on opening), so a batch's trim reads only the rows it deletes. Another
  process writing dead letters into the same file is not in this process's total until
  it opens the file again.
- Opening lays the tables out in a new file and migrates an older one
  (`diagnostics.store.sqlite.schema`); a newer or foreign file is refused.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from diagnostics.errors import StoreUnavailableError
from diagnostics.store.sqlite.reader import SQLiteReader
from diagnostics.store.sqlite.schema import StoreFileError, prepare
from diagnostics.store.sqlite.writer import (
    kept_dead_bytes,
    put_action,
    set_clock,
    transaction,
    write_dead,
    write_detections,
    write_messages,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Sequence

    from diagnostics.store.interface import Store, StoreReader
    from diagnostics.store.records import Accepted, DeadLetter, DetectionChange

__all__ = ["DEAD_LETTER_BUDGET", "SQLiteStore", "Synchronous"]

Synchronous = Literal["NORMAL", "FULL"]
DEAD_LETTER_BUDGET: Final = 64 * 1024 * 1024
"""Payload bytes of kept dead letters at most, by default (beside `dead_letter_limit` rows)."""


class SQLiteStore(SQLiteReader):
    """`Store` on one SQLite file (see the module for durability and threading)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "NORMAL",
        dead_letter_limit: int = 10_000,
        dead_letter_bytes: int | None = DEAD_LETTER_BUDGET,
        busy_timeout: float = 5.0,
    ) -> None:
        if sqlite3.sqlite_version_info < (3, 37, 0):
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is older than 3.37 (STRICT)")
        if synchronous not in {"NORMAL", "FULL"}:
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        if dead_letter_limit < 1:
            raise ValueError(f"dead_letter_limit must be positive, not {dead_letter_limit}")
        if dead_letter_bytes is not None and dead_letter_bytes < 1:
            raise ValueError(f"dead_letter_bytes must be positive, not {dead_letter_bytes}")
        super().__init__(path, busy_timeout=busy_timeout)
        self.synchronous = synchronous
        self.dead_letter_limit = dead_letter_limit
        self.dead_letter_bytes = dead_letter_bytes
        """Payload bytes of kept dead letters at most (None: bounded by rows only)."""
        self._dead_kept = 0
        """The payload bytes of the kept dead letters, as of the last commit."""
        self._write_lock = threading.Lock()
        self._writer = self._connect()
        try:
            self._open_writer()
        except BaseException:
            self._writer.close()
            raise

    @staticmethod
    def open_readonly(path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> SQLiteReader:
        """The reads of an existing store file, opened read-only (nothing is created or migrated).

        Raises:
            StoreFileError: the file is missing, not a database, not a store, or of
                another version than this code's (both named).
        """
        if not Path(path).is_file():
            raise StoreFileError(f"{path}: no such file")
        reader = SQLiteReader(path, busy_timeout=busy_timeout)
        reader.check_version()
        return reader

    @staticmethod
    def settle(path: str | os.PathLike[str]) -> None:
        """Leave a closed store file as one file, so that reading it leaves nothing beside it.

        The store writes in WAL mode; a read-only reader of a WAL database makes `-wal`
        and `-shm` files it cannot remove. A rollback journal needs neither, so the file
        is switched to one (the store switches back to WAL when it is opened for writing).
        A file with unsaved WAL content (a store still open) is left alone, and so is a
        file that is not a database: reading it says so.
        """
        file = Path(path)
        wal = file.with_name(f"{file.name}-wal")
        if not file.is_file() or (wal.is_file() and wal.stat().st_size > 0):
            return
        try:
            conn = sqlite3.connect(file, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = DELETE")
            finally:
                conn.close()
        except sqlite3.Error:
            return
        for suffix in ("-wal", "-shm"):
            file.with_name(f"{file.name}{suffix}").unlink(missing_ok=True)

    # ---- connections ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE ... COMMIT
            check_same_thread=False,  # used by one thread at a time (the lock, or per thread)
        )

    def _connect_reader(self) -> sqlite3.Connection:
        """A reader of the file this store writes (it may be created a moment ago)."""
        conn = self._connect()
        conn.execute("PRAGMA query_only = ON")
        return conn

    def _open_writer(self) -> None:
        conn = self._writer
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreFileError(f"{self.path}: not a database ({exc})") from None
        if str(mode).lower() != "wal":
            raise RuntimeError(f"{self.path}: WAL journal refused (got {mode!r}); a local file?")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA cache_size = -32768")  # KiB: 32 MiB for the indexes' hot pages
        conn.execute("PRAGMA wal_autocheckpoint = 16000")  # pages: checkpoint every ~64 MiB of WAL
        conn.execute("PRAGMA journal_size_limit = 67108864")  # a reset WAL is cut back to 64 MiB
        prepare(conn, self.path)
        self._dead_kept = kept_dead_bytes(conn)

    def close(self) -> None:
        """Close the writer and every reader connection (a running replay keeps its own)."""
        with self._write_lock, self._readers_lock:
            if self._closed:
                return
            self._closed = True
            self._close_readers()
            with suppress(sqlite3.Error):
                self._writer.execute("PRAGMA optimize")  # keeps the planner's statistics fresh
            self._writer.close()

    # ---- writing ----------------------------------------------------------------------------

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """SQLite's "cannot write now" as `StoreUnavailableError`: nothing was committed.

        A lock held past the busy timeout, an I/O error, a full or read-only disk: the same
        write may succeed later. Other errors (a constraint, a bug) pass unchanged.
        """
        try:
            yield
        except (sqlite3.OperationalError, OSError) as exc:
            raise StoreUnavailableError(f"{self.path}: cannot write now ({exc})") from exc

    def write_batch(
        self,
        *,
        messages: Sequence[Accepted],
        dead: Sequence[DeadLetter],
        detections: Sequence[DetectionChange] = (),
        clock: float | None = None,
    ) -> int:
        """Commit everything in one transaction: all of it, or (on any error) none of it.

        Returns how many of `messages` were new: one stored already (the same topic and
        payload, see `diagnostics.store.sqlite.writer`) is skipped, and the counters count
        it once.
        """
        if not (messages or dead or detections) and clock is None:
            return 0
        with self._write_lock, self._unavailable():
            if self._closed:
                raise RuntimeError(f"{self.path}: the store is closed")
            conn = self._writer
            stored, kept = 0, self._dead_kept
            with transaction(conn):
                if messages:
                    stored = write_messages(conn, messages)
                if dead:
                    kept = write_dead(
                        conn,
                        dead,
                        self.dead_letter_limit,
                        budget=self.dead_letter_bytes,
                        kept=kept,
                    )
                if detections:
                    write_detections(conn, detections)
                if clock is not None:
                    set_clock(conn, clock)
            self._dead_kept = kept  # committed: the running total moves with the table
            return stored

    def put_action(self, kind: str, action_id: str, t: float, body: str) -> None:
        """Keep (or replace) a support action in its own transaction."""
        with self._write_lock, self._unavailable():
            if self._closed:
                raise RuntimeError(f"{self.path}: the store is closed")
            with transaction(self._writer):
                put_action(self._writer, kind, action_id, t, body)


if TYPE_CHECKING:

    def _conforms(store: SQLiteStore, reader: SQLiteReader) -> tuple[Store, StoreReader]:
        """Mypy checks here that SQLiteStore implements Store, and SQLiteReader StoreReader."""
        return store, reader
