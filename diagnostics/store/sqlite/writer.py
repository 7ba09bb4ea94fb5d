"""Writing a batch to the SQLite store: messages once each, their derived tables, the rest.

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

The functions here write on the connection they are given, inside the caller's
transaction (`transaction`); the store serialises the callers.
"""

from __future__ import annotations

import zlib
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from diagnostics.store.records import DEAD_LETTER_BYTES

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Sequence

    from diagnostics.store.records import Accepted, DeadLetter, DetectionChange

__all__ = [
    "digest",
    "kept_dead_bytes",
    "put_action",
    "set_clock",
    "transaction",
    "write_dead",
    "write_detections",
    "write_messages",
]

_INSERT_MESSAGE: Final = (
    "INSERT INTO messages (kind, device_id, iccid, account, t, received, topic, payload, digest)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERTED_KEYS: Final = (
    "SELECT device_id, iccid, kind, t, digest FROM messages WHERE id > ? ORDER BY id"
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
_CUT_BY_ROWS: Final = "SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET ?"
"""The newest dead letter past the row limit: it and every older one go."""
_OLDEST_DEAD: Final = "SELECT id, length(payload) FROM dead_letters ORDER BY id"
_NEWEST_DEAD: Final = "SELECT MAX(id) FROM dead_letters"
_DEAD_BYTES_UP_TO: Final = (
    "SELECT COALESCE(SUM(length(payload)), 0) FROM dead_letters WHERE id <= ?"
)
_INSERT_DETECTION: Final = (
    "INSERT INTO verdicts (device_id, t, verdict, reason) VALUES (?, ?, ?, ?)"
)
_UPSERT_CURRENT: Final = (
    "INSERT INTO current_verdicts (device_id, verdict, reason, since) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (device_id) DO UPDATE SET"
    " verdict = excluded.verdict, reason = excluded.reason, since = excluded.since"
)
_SET_CLOCK: Final = (
    "INSERT INTO clock (id, t) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET t = excluded.t"
)
_PUT_ACTION: Final = (
    "INSERT INTO actions (kind, id, t, body) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (kind, id) DO UPDATE SET t = excluded.t, body = excluded.body"
)
_SIGNED: Final = 2**63


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (take the write lock now, not at the first write) ... COMMIT or ROLLBACK."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def digest(topic: str, payload: bytes) -> int:
    """64 bits of the topic and payload: CRC-32 and Adler-32 of both, as a signed integer.

    Not cryptographic, and need not be: it tells apart messages of one device (or SIM)
    stamped with the very same time, and costs a third of a 64-bit BLAKE2b.
    """
    head = topic.encode()
    crc = zlib.crc32(payload, zlib.crc32(head))
    return ((crc << 32) | zlib.adler32(payload, zlib.adler32(head))) - _SIGNED


def write_messages(conn: sqlite3.Connection, messages: Sequence[Accepted]) -> int:
    """Insert the rows; the derived tables and counters follow the rows that were new.

    Returns how many were new.
    """
    statuses = _status_rows(messages)
    rows = [_message_row(m) for m in messages]
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
        (m.device_id, m.iccid) for m in messages if m.device_id is not None and m.iccid is not None
    }
    conn.executemany("INSERT OR IGNORE INTO device_sims (device_id, iccid) VALUES (?, ?)", pairs)
    if "record" in kinds:
        records = [(m.iccid, m.account, m.t, m.payload) for m in messages if m.kind == "record"]
        conn.executemany(_UPSERT_RECORD, records)
    if statuses:
        conn.executemany(_UPSERT_STATUS, statuses)
    return len(messages)


def write_dead(
    conn: sqlite3.Connection,
    dead: Sequence[DeadLetter],
    limit: int,
    *,
    budget: int | None = None,
    kept: int = 0,
) -> int:
    """Keep the dead letters, count them per code; returns the payload bytes kept after.

    The newest are kept: at most `limit` rows, and at most `budget` bytes of kept payloads
    (None: no bound), the oldest going first. `kept` is the bytes kept before this batch
    (`kept_dead_bytes`, then each call's result): a running total, so trimming reads only
    the rows it deletes, never the whole table. The newest letter stays even alone past
    the budget (a payload is kept up to `DEAD_LETTER_BYTES`).
    """
    rows = [
        (
            d.topic,
            d.payload[:DEAD_LETTER_BYTES],
            len(d.payload) if d.size is None else d.size,
            d.code,
            d.reason,
            d.received,
        )
        for d in dead
    ]
    conn.executemany(_INSERT_DEAD, rows)
    conn.executemany(_COUNT_DEAD, Counter(d.code for d in dead).items())
    kept += sum(len(row[1]) for row in rows)
    past = conn.execute(_CUT_BY_ROWS, (limit,)).fetchone()
    cut: int | None = None if past is None else past[0]
    if budget is not None and kept > budget:
        over, newest = kept - budget, conn.execute(_NEWEST_DEAD).fetchone()[0]
        oldest = conn.execute(_OLDEST_DEAD)  # read only as far as the rows that go
        for row_id, size in oldest:
            if over <= 0 or row_id == newest:
                break
            over -= size
            cut = row_id if cut is None else max(cut, row_id)
        oldest.close()
    if cut is not None:
        kept -= conn.execute(_DEAD_BYTES_UP_TO, (cut,)).fetchone()[0]
        conn.execute("DELETE FROM dead_letters WHERE id <= ?", (cut,))
    return kept


def kept_dead_bytes(conn: sqlite3.Connection) -> int:
    """The payload bytes of every kept dead letter (a scan: once, when the store opens)."""
    found: int = conn.execute(
        "SELECT COALESCE(SUM(length(payload)), 0) FROM dead_letters"
    ).fetchone()[0]
    return found


def write_detections(conn: sqlite3.Connection, detections: Sequence[DetectionChange]) -> None:
    """Append the detection changes to the history; each device's latest becomes its current."""
    conn.executemany(
        _INSERT_DETECTION, [(v.device_id, v.t, v.status, v.reason) for v in detections]
    )
    conn.executemany(_UPSERT_CURRENT, [(v.device_id, v.status, v.reason, v.t) for v in detections])


def set_clock(conn: sqlite3.Connection, t: float) -> None:
    """The service clock's watermark."""
    conn.execute(_SET_CLOCK, (t,))


def put_action(conn: sqlite3.Connection, kind: str, action_id: str, t: float, body: str) -> None:
    """Keep (or replace) a support action."""
    conn.execute(_PUT_ACTION, (kind, action_id, t, body))


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
        digest(m.topic, m.payload),
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
