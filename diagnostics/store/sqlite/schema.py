"""The SQLite store's table layout, its version, and the migrations from older layouts.

The layout's version is the file's `PRAGMA user_version`. Opening a file for writing
(`prepare`) lays the current layout out in a new, empty file; in an older file it
applies the steps of `MIGRATIONS` in order, each taking the layout from version n to
n + 1, all in one transaction that also sets the new version, so a file is at its
old version or the current one, never between. Files are refused, naming the file, when they are
newer than this code (`StoreFileError`: both versions), not a database, or a database
of something else. Opening for reading only (`check`) migrates nothing: a file of
another version is refused.

Versions 1 and 2 kept the version in a table `schema_version`, with user_version 0:

1. messages without a digest: plain (device_id, t), (iccid, t) and (kind, t) indexes;
   the first files had no actions table either.
2. each message once: a digest of topic and payload in unique (device_id, t, digest),
   (iccid, t, digest) and (kind, t, digest) keys.
3. the version in user_version (the schema_version table dropped).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Final

from diagnostics.errors import DiagnosticsError
from diagnostics.store.sqlite.writer import digest, transaction

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence

__all__ = ["MIGRATIONS", "SCHEMA", "SCHEMA_VERSION", "StoreFileError", "check", "prepare"]

SCHEMA_VERSION: Final = 3
"""Version of the table layout this code writes and reads."""


class StoreFileError(DiagnosticsError, RuntimeError):
    """A file this store will not open: newer than the code, not a database, not a store.

    `remedy` is what to do about it, where the store knows (it ends the message, after a
    semicolon); where it is None, the caller says what its user can do.
    """

    def __init__(self, problem: str, *, remedy: str | None = None) -> None:
        super().__init__(problem if remedy is None else f"{problem}; {remedy}")
        self.remedy = remedy


_MESSAGES: Final = (
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
)
"""The messages table and its keys, as of version 2."""
_ACTIONS: Final = """CREATE TABLE IF NOT EXISTS actions (
        kind TEXT NOT NULL, id TEXT NOT NULL, t REAL NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ) STRICT, WITHOUT ROWID"""
"""Kept support actions, as of version 1 (the first files had none)."""

SCHEMA: Final = (
    *_MESSAGES,
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
    # Detection changes and each device's current detection status. The tables and the
    # column keep their first names (`verdicts`, `current_verdicts`, `verdict`) so files
    # written before stay readable; the records call the column `status`.
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
    _ACTIONS,
    """CREATE TABLE IF NOT EXISTS clock (
        id INTEGER PRIMARY KEY CHECK (id = 1), t REAL NOT NULL
    ) STRICT""",
)
"""The current layout, laid out in a new file."""

_LEGACY: Final = "schema_version"
"""The table versions 1 and 2 kept their version in (user_version stayed 0)."""


def _messages_once(conn: sqlite3.Connection) -> None:
    """1 -> 2: messages get a digest and unique keys; a message stored twice is kept once.

    The table is rebuilt (ids kept) and the kind counters counted again from what is left.
    """
    conn.create_function("digest", 2, digest, deterministic=True)
    for index in ("messages_device", "messages_sim", "messages_kind", "messages_t"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    conn.execute("ALTER TABLE messages RENAME TO messages_v1")
    for statement in _MESSAGES:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO messages"
        " (id, kind, device_id, iccid, account, t, received, topic, payload, digest)"
        " SELECT id, kind, device_id, iccid, account, t, received, topic, payload,"
        " digest(topic, payload) FROM messages_v1 WHERE true ORDER BY id ON CONFLICT DO NOTHING"
    )
    conn.execute("DROP TABLE messages_v1")
    conn.execute("DELETE FROM kind_counts")
    conn.execute("INSERT INTO kind_counts SELECT kind, COUNT(*) FROM messages GROUP BY kind")
    conn.execute(_ACTIONS)


def _version_in_header(conn: sqlite3.Connection) -> None:
    """2 -> 3: the version moves to user_version (set by `prepare`)."""
    conn.execute(f"DROP TABLE {_LEGACY}")


MIGRATIONS: Final[Sequence[Callable[[sqlite3.Connection], None]]] = (
    _messages_once,
    _version_in_header,
)
"""MIGRATIONS[n - 1] takes a file from version n to n + 1."""


def prepare(conn: sqlite3.Connection, path: str | os.PathLike[str]) -> None:
    """Lay the layout out in an empty file, or migrate an older one, in one transaction.

    `conn` is the writer, in autocommit mode (isolation_level None).

    Raises:
        StoreFileError: the file is newer than this code, or not a diagnostics store.
    """
    with transaction(conn):
        found = _version(conn, path)
        if found == 0:
            for statement in SCHEMA:
                conn.execute(statement)
        else:
            for step in MIGRATIONS[found - 1 :]:
                step(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def check(conn: sqlite3.Connection, path: str | os.PathLike[str]) -> None:
    """Refuse a file opened for reading only that is not a store of this very version.

    Raises:
        StoreFileError: naming the file (and both versions when they differ).
    """
    found = _version(conn, path)
    if found == 0:
        raise StoreFileError(f"{path}: empty, not a diagnostics store")
    if found < SCHEMA_VERSION:
        raise StoreFileError(
            f"{path}: schema version {found}, older than this code's {SCHEMA_VERSION}",
            remedy="open it for writing once (start the service on it) to migrate it",
        )


def _version(conn: sqlite3.Connection, path: str | os.PathLike[str]) -> int:
    """The file's layout version; 0 for an empty file."""
    try:
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreFileError(f"{path}: not a database ({exc})") from None
    if version == 0 and _LEGACY in tables:
        found = conn.execute(f"SELECT version FROM {_LEGACY}").fetchall()  # noqa: S608
        version = int(found[0][0]) if found else -1
    if version < 0 or (tables and "messages" not in tables) or (version and not tables):
        raise StoreFileError(f"{path}: not a diagnostics store (a database of something else)")
    if version > SCHEMA_VERSION:
        raise StoreFileError(
            f"{path}: schema version {version}, newer than this code's {SCHEMA_VERSION}",
            remedy="open it with a newer version of the service, or start a new file",
        )
    return version
