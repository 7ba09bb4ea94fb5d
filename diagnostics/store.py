"""The diagnostics store: what the service received, what it derived, what it said.

Idea: the ingest acknowledges a QoS 1 message to the broker only after it is
committed here, so the unit of work is the batch. `write_batch` puts a batch's
accepted messages (raw JSON bytes as received, with the few fields the API
queries by), its dead letters, the verdict changes of the sweep and the
service clock's watermark in ONE transaction; the latest inventory record per
SIM, the latest retained status per device and the device-to-SIM map are
derived from the messages inside that same transaction. Everything else the
service knows (the detector's state) lives in memory and is rebuilt on start
from `replay`, which yields the stored evidence in (t, id) order.

`Store` is the interface the service codes against (so PostgreSQL can follow);
`SQLiteStore` implements it with the standard library's `sqlite3`:

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
  a lock, so any thread may call `write_batch`, one at a time. Every reading
  thread gets its own read-only connection (created on first use, closed by
  `close`); in WAL mode it reads the last committed snapshot while the writer
  writes. `replay` opens a connection of its own for its one long scan. A busy
  timeout (5 s by default) covers the rare moments SQLite locks readers out
  (WAL recovery after a crash, a second process).
- The file must be on a local file system (WAL needs shared memory), so not
  ":memory:" and not NFS. SQLite 3.37 or newer (STRICT tables).

Tables are STRICT, so a value of the wrong type fails the whole batch rather
than being stored. `messages` keeps every accepted message once; its indexes
serve the API: a device's messages by time, a SIM's network events and records
by time (partial: SIM-scoped rows only, so telemetry does not pay for it), and
time alone (replay, recent messages). Messages per kind are counters kept in
the same transaction; devices, SIMs and which device reported with which SIM
are key tables filled by INSERT OR IGNORE; so neither the summary nor the
timeline's SIM lookup scans `messages`.

Each message once: MQTT delivers QoS 1 at least once, and a batch committed
but not yet acknowledged when the service died comes again after the restart.
The key of a message is what it is about (its device; else its SIM; else its
kind: clocks), its time `t` and a 64-bit digest of its topic and payload, made
unique by the very indexes the API reads by: (device_id, t, digest) for device
messages, (iccid, t, digest) for SIM-scoped ones, (kind, t, digest) for the
rest, so the guarantee costs no index of its own. A row whose key is stored
already is skipped (`ON CONFLICT DO NOTHING`; NOT NULL and type errors still
fail the batch), and the counters and derived tables follow only the rows that
were new. Why not a key of fields such as (device_id, t, seq): only telemetry
carries a seq (and a reboot restarts it); statuses, network events and records
carry nothing that tells two of the same time apart, and the store must never
drop a message it was not given twice. Identical bytes on the same topic are
the same message.
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
import threading
import zlib
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, Self

from protocol.messages import DeviceStatus, Telemetry
from protocol.wire import MAX_PAYLOAD

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from types import TracebackType

    from pydantic import BaseModel

    from protocol.wire import Route, WireError

__all__ = [
    "SCHEMA_VERSION",
    "Accepted",
    "CurrentVerdict",
    "DeadLetter",
    "SQLiteStore",
    "Store",
    "StoredDeadLetter",
    "StoredMessage",
    "StoredRecord",
    "StoredStatus",
    "StoredVerdict",
    "Summary",
    "VerdictChange",
    "accepted",
    "dead_letter",
]

SCHEMA_VERSION: Final = 2
"""Version of the table layout; a file written by another version is refused, not guessed at."""

DEAD_LETTER_BYTES: Final = MAX_PAYLOAD
"""A dead letter's payload is kept up to this many bytes (its full size is recorded)."""


# ---- what goes in ---------------------------------------------------------------------------


@dataclass(slots=True)
class Accepted:
    """A message that passed `decode`, as it is stored.

    `kind` is the payload's kind (telemetry, status, attach, ..., record, clock);
    `device_id` is set for device messages, `iccid` for every message that names
    a SIM (telemetry and status too), `account` is the topic's. The decoded
    values the store derives state from ride along: `status` and `will` for a
    status message (required there), so the writer never parses JSON. Not
    frozen: one is built for every message, and a frozen one costs twice as much.
    """

    kind: str
    device_id: str | None
    iccid: str | None
    account: str | None
    t: float
    """The message's own time, Unix seconds."""
    received: float
    """Wall time it was received, Unix seconds."""
    topic: str
    payload: bytes
    """The raw JSON bytes as received."""
    status: str | None = None
    will: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message `decode` refused: kept (truncated) for inspection and counted by `code`."""

    topic: str
    payload: bytes
    code: str
    reason: str
    received: float


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """A device's verdict or reason changed at `t` (service clock)."""

    device_id: str
    t: float
    verdict: str
    reason: str


def accepted(
    *, route: Route, message: BaseModel, topic: str, payload: bytes, received: float
) -> Accepted:
    """The stored form of a decoded message (`decode` returned `route` and `message`)."""
    if type(message) is Telemetry:  # nearly every message: the short way
        return Accepted(
            "telemetry",
            message.device_id,
            message.iccid,
            route.account,
            message.t,
            received,
            topic,
            payload,
        )
    status, will = None, False
    if isinstance(message, Telemetry | DeviceStatus):
        device_id: str | None = message.device_id
        iccid = message.iccid
        if isinstance(message, DeviceStatus):
            status, will = message.status, message.will
    else:
        device_id, iccid = None, getattr(message, "iccid", None)
    return Accepted(
        kind=str(getattr(message, "kind", route.kind)),
        device_id=device_id,
        iccid=iccid,
        account=route.account,
        t=float(getattr(message, "t", received)),
        received=received,
        topic=topic,
        payload=payload,
        status=status,
        will=will,
    )


def dead_letter(*, error: WireError, payload: bytes, received: float) -> DeadLetter:
    """The dead letter for a message `decode` refused with `error`."""
    reason = f"{error.field}: {error.reason}" if error.field else error.reason
    return DeadLetter(
        topic=error.topic, payload=payload, code=error.code, reason=reason, received=received
    )


# ---- what comes out -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A stored message; `id` orders messages of equal `t` and is the pagination key."""

    id: int
    kind: str
    device_id: str | None
    iccid: str | None
    account: str | None
    t: float
    received: float
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A SIM's newest inventory record (by `t`)."""

    iccid: str
    account: str
    t: float
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredStatus:
    """A device's newest retained status (by `t`)."""

    device_id: str
    t: float
    status: str
    will: bool
    payload: bytes


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """A kept dead letter; `size` is the payload's length as received, before truncation."""

    id: int
    topic: str
    payload: bytes
    size: int
    code: str
    reason: str
    received: float


@dataclass(frozen=True, slots=True)
class StoredVerdict:
    """One entry of a device's verdict history."""

    id: int
    device_id: str
    t: float
    verdict: str
    reason: str


@dataclass(frozen=True, slots=True)
class CurrentVerdict:
    """A device's verdict now, and since when (service clock)."""

    device_id: str
    verdict: str
    reason: str
    since: float


@dataclass(frozen=True, slots=True)
class Summary:
    """What the store holds: messages per kind, devices, SIMs, dead letters ever per code."""

    kinds: Mapping[str, int]
    devices: int
    sims: int
    dead_letters: Mapping[str, int]

    @property
    def messages(self) -> int:
        """Messages stored, all kinds."""
        return sum(self.kinds.values())


# ---- the interface --------------------------------------------------------------------------


class Store(Protocol):
    """The service's storage: batches in, the API's questions and the replay out."""

    def write_batch(
        self,
        *,
        messages: Sequence[Accepted],
        dead: Sequence[DeadLetter],
        verdicts: Sequence[VerdictChange] = (),
        clock: float | None = None,
    ) -> int:
        """Commit everything in one transaction; on return it is durable (see the module).

        Returns how many of `messages` were new (a message stored already is skipped).
        """
        ...

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

    def put_action(self, kind: str, action_id: str, t: float, body: str) -> None:
        """Keep (or replace) a support action: a swap test, a silence; `body` is its JSON."""
        ...

    def actions(self, kind: str) -> list[tuple[str, float, str]]:
        """Every kept action of `kind` as (id, t, body), oldest first."""
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

    def verdict_history(self, device_id: str, *, limit: int = 1000) -> list[StoredVerdict]:
        """The device's newest verdict changes, oldest first."""
        ...

    def current_verdicts(self) -> list[CurrentVerdict]:
        """Every device's verdict now."""
        ...

    def last_clock(self) -> float | None:
        """The service clock's last stored watermark."""
        ...

    def messages_count(self) -> int:
        """Messages stored."""
        ...

    def replay(
        self, *, batch: int = 10_000, since: float | None = None
    ) -> Iterator[list[StoredMessage]]:
        """Stored telemetry, status and network events in (t, id) order, in batches."""
        ...

    def close(self) -> None:
        """Release the connections."""
        ...


# ---- SQLite ---------------------------------------------------------------------------------

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT",
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        device_id TEXT,
        iccid TEXT,
        account TEXT,
        t REAL NOT NULL,
        received REAL NOT NULL,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        digest INTEGER NOT NULL
    ) STRICT""",
    (
        "CREATE UNIQUE INDEX IF NOT EXISTS messages_device ON messages (device_id, t, digest)"
        " WHERE device_id IS NOT NULL"
    ),
    (
        "CREATE UNIQUE INDEX IF NOT EXISTS messages_sim ON messages (iccid, t, digest)"
        " WHERE device_id IS NULL"
    ),
    (
        "CREATE UNIQUE INDEX IF NOT EXISTS messages_other ON messages (kind, t, digest)"
        " WHERE device_id IS NULL AND iccid IS NULL"
    ),
    "CREATE INDEX IF NOT EXISTS messages_t ON messages (t)",
    """CREATE TABLE IF NOT EXISTS kind_counts (
        kind TEXT PRIMARY KEY, count INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS devices (device_id TEXT PRIMARY KEY) STRICT, WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS sims (iccid TEXT PRIMARY KEY) STRICT, WITHOUT ROWID",
    """CREATE TABLE IF NOT EXISTS device_sims (
        device_id TEXT NOT NULL, iccid TEXT NOT NULL, PRIMARY KEY (device_id, iccid)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS records (
        iccid TEXT NOT NULL PRIMARY KEY,
        account TEXT NOT NULL,
        t REAL NOT NULL,
        payload BLOB NOT NULL
    ) STRICT""",
    """CREATE TABLE IF NOT EXISTS statuses (
        device_id TEXT NOT NULL PRIMARY KEY,
        t REAL NOT NULL,
        status TEXT NOT NULL,
        will INTEGER NOT NULL,
        payload BLOB NOT NULL
    ) STRICT""",
    """CREATE TABLE IF NOT EXISTS verdicts (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        t REAL NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX IF NOT EXISTS verdicts_device ON verdicts (device_id, t)",
    """CREATE TABLE IF NOT EXISTS current_verdicts (
        device_id TEXT NOT NULL PRIMARY KEY,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL,
        since REAL NOT NULL
    ) STRICT""",
    """CREATE TABLE IF NOT EXISTS dead_letters (
        id INTEGER PRIMARY KEY,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        size INTEGER NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        received REAL NOT NULL
    ) STRICT""",
    "CREATE INDEX IF NOT EXISTS dead_letters_code ON dead_letters (code, id)",
    """CREATE TABLE IF NOT EXISTS dead_letter_counts (
        code TEXT PRIMARY KEY, count INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS actions (
        kind TEXT NOT NULL, id TEXT NOT NULL, t REAL NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS clock (
        id INTEGER PRIMARY KEY CHECK (id = 1), t REAL NOT NULL
    ) STRICT""",
)

_MESSAGE_COLUMNS: Final = "id, kind, device_id, iccid, account, t, received, topic, payload"
_INSERT_MESSAGE: Final = (
    "INSERT INTO messages (kind, device_id, iccid, account, t, received, topic, payload, digest)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERTED_KEYS: Final = (
    "SELECT device_id, iccid, kind, t, digest FROM messages WHERE id > ? ORDER BY id"
)
_STORED_DEVICE: Final = "SELECT 1 FROM messages WHERE device_id = ? AND t = ? AND digest = ?"
_STORED_SIM: Final = (
    "SELECT 1 FROM messages WHERE device_id IS NULL AND iccid = ? AND t = ? AND digest = ?"
)
_STORED_OTHER: Final = (
    "SELECT 1 FROM messages"
    " WHERE device_id IS NULL AND iccid IS NULL AND kind = ? AND t = ? AND digest = ?"
)
_COUNT_KIND: Final = (
    "INSERT INTO kind_counts (kind, count) VALUES (?, ?)"
    " ON CONFLICT (kind) DO UPDATE SET count = count + excluded.count"
)
_UPSERT_RECORD: Final = (
    "INSERT INTO records (iccid, account, t, payload) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (iccid) DO UPDATE SET"
    " account = excluded.account, t = excluded.t, payload = excluded.payload"
    " WHERE excluded.t >= records.t"
)
_UPSERT_STATUS: Final = (
    "INSERT INTO statuses (device_id, t, status, will, payload) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (device_id) DO UPDATE SET"
    " t = excluded.t, status = excluded.status, will = excluded.will, payload = excluded.payload"
    " WHERE excluded.t >= statuses.t"
)
_INSERT_DEAD: Final = (
    "INSERT INTO dead_letters (topic, payload, size, code, reason, received)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_COUNT_DEAD: Final = (
    "INSERT INTO dead_letter_counts (code, count) VALUES (?, ?)"
    " ON CONFLICT (code) DO UPDATE SET count = count + excluded.count"
)
_TRIM_DEAD: Final = (
    "DELETE FROM dead_letters WHERE id <="
    " (SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET ?)"
)
_INSERT_VERDICT: Final = "INSERT INTO verdicts (device_id, t, verdict, reason) VALUES (?, ?, ?, ?)"
_UPSERT_CURRENT: Final = (
    "INSERT INTO current_verdicts (device_id, verdict, reason, since) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (device_id) DO UPDATE SET"
    " verdict = excluded.verdict, reason = excluded.reason, since = excluded.since"
)
_SET_CLOCK: Final = (
    "INSERT INTO clock (id, t) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET t = excluded.t"
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
_LAST_ID: Final = 2**63 - 1
_SIGNED: Final = 2**63
_INF: Final = float("inf")

Synchronous = Literal["NORMAL", "FULL"]


class SQLiteStore:
    """`Store` on one SQLite file (see the module for durability and threading)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "NORMAL",
        dead_letter_limit: int = 10_000,
        busy_timeout: float = 5.0,
    ) -> None:
        if sqlite3.sqlite_version_info < (3, 37, 0):
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is older than 3.37 (STRICT)")
        if synchronous not in {"NORMAL", "FULL"}:
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        if dead_letter_limit < 1:
            raise ValueError(f"dead_letter_limit must be positive, not {dead_letter_limit}")
        self.path = path
        self.synchronous = synchronous
        self.dead_letter_limit = dead_letter_limit
        self.busy_timeout = busy_timeout
        self._write_lock = threading.Lock()
        self._readers_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._closed = False
        self._writer = self._connect()
        try:
            self._open_writer()
        except BaseException:
            self._writer.close()
            raise

    # ---- connections ------------------------------------------------------------------------

    def _connect(self, *, read_only: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE ... COMMIT
            check_same_thread=False,  # used by one thread at a time (the lock, or per thread)
        )
        if read_only:
            conn.execute("PRAGMA query_only = ON")
        return conn

    def _open_writer(self) -> None:
        conn = self._writer
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"{self.path}: WAL journal refused (got {mode!r}); a local file?")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA cache_size = -32768")  # KiB: 32 MiB for the indexes' hot pages
        conn.execute("PRAGMA wal_autocheckpoint = 16000")  # pages: checkpoint every ~64 MiB of WAL
        conn.execute("PRAGMA journal_size_limit = 67108864")  # a reset WAL is cut back to 64 MiB
        with _transaction(conn):
            for statement in _SCHEMA:
                conn.execute(statement)
            found = conn.execute("SELECT version FROM schema_version").fetchall()
            if not found:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif found[0][0] != SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: schema version {found[0][0]}, this store knows "
                    f"{SCHEMA_VERSION}; migrate it or start a new file"
                )

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._readers_lock:
            if self._closed:
                raise RuntimeError(f"{self.path}: the store is closed")
            conn = self._connect(read_only=True)
            self._readers.append(conn)
        self._local.conn = conn
        return conn

    def _rows(self, sql: str, params: Iterable[object] = ()) -> list[Any]:
        """All rows of a query, read to the end so no read transaction stays open."""
        return self._reader().execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        """Close the writer and every reader connection (a running replay keeps its own)."""
        with self._write_lock, self._readers_lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            with suppress(sqlite3.Error):
                self._writer.execute("PRAGMA optimize")  # keeps the planner's statistics fresh
            self._writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ---- writing ----------------------------------------------------------------------------

    def write_batch(
        self,
        *,
        messages: Sequence[Accepted],
        dead: Sequence[DeadLetter],
        verdicts: Sequence[VerdictChange] = (),
        clock: float | None = None,
    ) -> int:
        """Commit everything in one transaction: all of it, or (on any error) none of it.

        Returns how many of `messages` were new: one stored already (the same topic and
        payload, see the module) is skipped, and the counters count it once.
        """
        if not (messages or dead or verdicts) and clock is None:
            return 0
        statuses = _status_rows(messages)
        rows = [_message_row(m) for m in messages]
        with self._write_lock:
            if self._closed:
                raise RuntimeError(f"{self.path}: the store is closed")
            conn = self._writer
            stored = 0
            with _transaction(conn):
                if messages:
                    stored = self._write_messages(conn, messages, rows, statuses)
                if dead:
                    self._write_dead(conn, dead)
                if verdicts:
                    _write_verdicts(conn, verdicts)
                if clock is not None:
                    conn.execute(_SET_CLOCK, (clock,))
            return stored

    @staticmethod
    def _write_messages(
        conn: sqlite3.Connection,
        messages: Sequence[Accepted],
        rows: list[tuple[Any, ...]],
        statuses: list[tuple[object, ...]],
    ) -> int:
        """Insert the rows; the derived tables and counters follow the rows that were new."""
        last = conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
        changes = conn.total_changes
        conn.executemany(_INSERT_MESSAGE, rows)
        if conn.total_changes - changes < len(rows):  # some were stored already
            messages = _new_ones(conn, last, messages, rows)
            statuses = _status_rows(messages)
        kinds = Counter(m.kind for m in messages)
        conn.executemany(_COUNT_KIND, kinds.items())
        devices = {(m.device_id,) for m in messages if m.device_id is not None}
        conn.executemany("INSERT OR IGNORE INTO devices (device_id) VALUES (?)", devices)
        sims = {(m.iccid,) for m in messages if m.iccid is not None}
        conn.executemany("INSERT OR IGNORE INTO sims (iccid) VALUES (?)", sims)
        pairs = {
            (m.device_id, m.iccid)
            for m in messages
            if m.device_id is not None and m.iccid is not None
        }
        conn.executemany(
            "INSERT OR IGNORE INTO device_sims (device_id, iccid) VALUES (?, ?)", pairs
        )
        if "record" in kinds:
            records = [(m.iccid, m.account, m.t, m.payload) for m in messages if m.kind == "record"]
            conn.executemany(_UPSERT_RECORD, records)
        if statuses:
            conn.executemany(_UPSERT_STATUS, statuses)
        return len(messages)

    def contains(self, message: Accepted) -> bool:
        """Whether this very message (its topic and payload) is stored already."""
        digest = _digest(message.topic, message.payload)
        if message.device_id is not None:
            found = self._rows(_STORED_DEVICE, (message.device_id, message.t, digest))
        elif message.iccid is not None:
            found = self._rows(_STORED_SIM, (message.iccid, message.t, digest))
        else:
            found = self._rows(_STORED_OTHER, (message.kind, message.t, digest))
        return bool(found)

    def _write_dead(self, conn: sqlite3.Connection, dead: Sequence[DeadLetter]) -> None:
        conn.executemany(
            _INSERT_DEAD,
            [
                (
                    d.topic,
                    d.payload[:DEAD_LETTER_BYTES],
                    len(d.payload),
                    d.code,
                    d.reason,
                    d.received,
                )
                for d in dead
            ],
        )
        conn.executemany(_COUNT_DEAD, Counter(d.code for d in dead).items())
        conn.execute(_TRIM_DEAD, (self.dead_letter_limit,))

    # ---- reading ----------------------------------------------------------------------------

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

    def put_action(self, kind: str, action_id: str, t: float, body: str) -> None:
        """Keep (or replace) a support action in its own transaction."""
        with self._write_lock:
            if self._closed:
                raise RuntimeError(f"{self.path}: the store is closed")
            with _transaction(self._writer):
                self._writer.execute(
                    "INSERT INTO actions (kind, id, t, body) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (kind, id) DO UPDATE SET t = excluded.t, body = excluded.body",
                    (kind, action_id, t, body),
                )

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

    def verdict_history(self, device_id: str, *, limit: int = 1000) -> list[StoredVerdict]:
        """The device's newest `limit` verdict changes, oldest first."""
        rows = self._rows(
            "SELECT id, device_id, t, verdict, reason FROM verdicts WHERE device_id = ?"
            " ORDER BY t DESC, id DESC LIMIT ?",
            (device_id, limit),
        )
        return [StoredVerdict(*row) for row in reversed(rows)]

    def current_verdicts(self) -> list[CurrentVerdict]:
        """Every device's verdict now (the last change written), by device id."""
        rows = self._rows(
            "SELECT device_id, verdict, reason, since FROM current_verdicts ORDER BY device_id"
        )
        return [CurrentVerdict(*row) for row in rows]

    def last_clock(self) -> float | None:
        """The service clock's last watermark written, or None before the first."""
        found = self._rows("SELECT t FROM clock WHERE id = 1")
        return float(found[0][0]) if found else None

    def replay(
        self, *, batch: int = 10_000, since: float | None = None
    ) -> Iterator[list[StoredMessage]]:
        """Stored telemetry, status and network events with t >= `since`, in (t, id) order.

        Records and clock messages are left out. It reads one snapshot on a
        connection of its own, closed when the iteration ends or is dropped.
        """
        if batch < 1:
            raise ValueError(f"batch must be positive, not {batch}")
        conn = self._connect(read_only=True)
        try:
            rows = conn.execute(_REPLAY, (-_INF if since is None else since,))
            while chunk := rows.fetchmany(batch):
                yield [StoredMessage(*row) for row in chunk]
        finally:
            with suppress(sqlite3.Error):
                conn.close()


# ---- helpers --------------------------------------------------------------------------------


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (take the write lock now, not at the first write) ... COMMIT or ROLLBACK."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _digest(topic: str, payload: bytes) -> int:
    """64 bits of the topic and payload: CRC-32 and Adler-32 of both, as a signed integer.

    Not cryptographic, and need not be: it tells apart messages of one device (or SIM)
    stamped with the very same time, and costs a third of a 64-bit BLAKE2b.
    """
    head = topic.encode()
    crc = zlib.crc32(payload, zlib.crc32(head))
    return ((crc << 32) | zlib.adler32(payload, zlib.adler32(head))) - _SIGNED


def _message_row(m: Accepted) -> tuple[Any, ...]:
    return (
        m.kind,
        m.device_id,
        m.iccid,
        m.account,
        m.t,
        m.received,
        m.topic,
        m.payload,
        _digest(m.topic, m.payload),
    )


def _new_ones(
    conn: sqlite3.Connection, last: int, messages: Sequence[Accepted], rows: list[tuple[Any, ...]]
) -> list[Accepted]:
    """The messages whose rows were inserted (their ids follow `last`, in order)."""
    inserted = conn.execute(_INSERTED_KEYS, (last,)).fetchall()
    new: list[Accepted] = []
    for m, row in zip(messages, rows, strict=True):
        if len(new) < len(inserted) and inserted[len(new)] == (
            m.device_id,
            m.iccid,
            m.kind,
            m.t,
            row[-1],
        ):
            new.append(m)
    return new


def _status_rows(messages: Sequence[Accepted]) -> list[tuple[object, ...]]:
    """The statuses rows of a batch; a status message must carry its decoded status."""
    rows: list[tuple[object, ...]] = []
    for m in messages:
        if m.kind == "status":
            if m.status is None or m.device_id is None:
                raise ValueError(f"{m.topic}: a status message needs device_id and status")
            rows.append((m.device_id, m.t, m.status, int(m.will), m.payload))
    return rows


def _write_verdicts(conn: sqlite3.Connection, verdicts: Sequence[VerdictChange]) -> None:
    conn.executemany(_INSERT_VERDICT, [(v.device_id, v.t, v.verdict, v.reason) for v in verdicts])
    conn.executemany(_UPSERT_CURRENT, [(v.device_id, v.verdict, v.reason, v.t) for v in verdicts])


def _time_and_id(row: tuple[Any, ...]) -> tuple[float, int]:
    """The (t, id) order key of a messages row."""
    return row[5], row[0]


if TYPE_CHECKING:

    def _conforms(store: SQLiteStore) -> Store:
        """Mypy checks here that SQLiteStore implements Store."""
        return store
