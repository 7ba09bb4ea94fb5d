"""The store's file layout: versions, migrations from older layouts, files refused.

The old files are built here as the old code laid them out (its DDL, its rows, the
version in a `schema_version` table), so a later change of the current layout cannot
change what "a version 1 file" means.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from diagnostics.store import (
    SCHEMA_VERSION,
    Accepted,
    DetectionChange,
    SQLiteStore,
    StoreFileError,
)
from diagnostics.store.sqlite.schema import MIGRATIONS
from diagnostics.store.sqlite.writer import digest

T0 = 1_772_409_600.0
DEVICE, SIM = "meter-0001", "8946200050000000001"
TELEMETRY_TOPIC = f"simlab/v1/acme/devices/{DEVICE}/telemetry"
STATUS_TOPIC = f"simlab/v1/acme/devices/{DEVICE}/status"
SIM_TOPIC = f"simlab/v1/acme/sims/{SIM}/network"
RECORD_TOPIC = f"simlab/v1/acme/sims/{SIM}/record"

V1_TABLES = (
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
        payload BLOB NOT NULL
    ) STRICT""",
    (
        "CREATE INDEX IF NOT EXISTS messages_device ON messages (device_id, t)"
        " WHERE device_id IS NOT NULL"
    ),
    "CREATE INDEX IF NOT EXISTS messages_sim ON messages (iccid, t) WHERE device_id IS NULL",
    "CREATE INDEX IF NOT EXISTS messages_kind ON messages (kind, t)",
    "CREATE INDEX IF NOT EXISTS messages_t ON messages (t)",
    (
        "CREATE TABLE IF NOT EXISTS kind_counts (kind TEXT PRIMARY KEY, count INTEGER NOT NULL)"
        " STRICT, WITHOUT ROWID"
    ),
    "CREATE TABLE IF NOT EXISTS devices (device_id TEXT PRIMARY KEY) STRICT, WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS sims (iccid TEXT PRIMARY KEY) STRICT, WITHOUT ROWID",
    (
        "CREATE TABLE IF NOT EXISTS device_sims (device_id TEXT NOT NULL, iccid TEXT NOT NULL,"
        " PRIMARY KEY (device_id, iccid)) STRICT, WITHOUT ROWID"
    ),
    (
        "CREATE TABLE IF NOT EXISTS records (iccid TEXT NOT NULL PRIMARY KEY,"
        " account TEXT NOT NULL, t REAL NOT NULL, payload BLOB NOT NULL) STRICT"
    ),
    (
        "CREATE TABLE IF NOT EXISTS statuses (device_id TEXT NOT NULL PRIMARY KEY, t REAL NOT NULL,"
        " status TEXT NOT NULL, will INTEGER NOT NULL, payload BLOB NOT NULL) STRICT"
    ),
    (
        "CREATE TABLE IF NOT EXISTS verdicts (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL,"
        " t REAL NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL) STRICT"
    ),
    "CREATE INDEX IF NOT EXISTS verdicts_device ON verdicts (device_id, t)",
    (
        "CREATE TABLE IF NOT EXISTS current_verdicts (device_id TEXT NOT NULL PRIMARY KEY,"
        " verdict TEXT NOT NULL, reason TEXT NOT NULL, since REAL NOT NULL) STRICT"
    ),
    (
        "CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, topic TEXT NOT NULL,"
        " payload BLOB NOT NULL, size INTEGER NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,"
        " received REAL NOT NULL) STRICT"
    ),
    "CREATE INDEX IF NOT EXISTS dead_letters_code ON dead_letters (code, id)",
    (
        "CREATE TABLE IF NOT EXISTS dead_letter_counts (code TEXT PRIMARY KEY,"
        " count INTEGER NOT NULL) STRICT, WITHOUT ROWID"
    ),
    (
        "CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " t REAL NOT NULL) STRICT"
    ),
)
"""Version 1 as the first store laid it out (no actions table yet)."""
V1_ACTIONS = (
    "CREATE TABLE IF NOT EXISTS actions (kind TEXT NOT NULL, id TEXT NOT NULL, t REAL NOT NULL,"
    " body TEXT NOT NULL, PRIMARY KEY (kind, id)) STRICT, WITHOUT ROWID"
)
"""Added to version 1 later, without a new version."""
V2_MESSAGES = (
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
"""Version 2's messages: a digest, and the unique keys."""


def payload(**fields):
    return json.dumps(fields).encode()


TELEMETRY = payload(kind="telemetry", t=T0 + 60, device_id=DEVICE, iccid=SIM, seq=1)
STATUS = payload(kind="status", t=T0 + 10, device_id=DEVICE, iccid=SIM, status="online")
ATTACH = payload(kind="attach", t=T0 + 5, iccid=SIM)
RECORD = payload(kind="record", t=T0, iccid=SIM, device_name="Meter by the door")

MESSAGES = (  # kind, device_id, iccid, t, topic, payload
    ("record", None, SIM, T0, RECORD_TOPIC, RECORD),
    ("attach", None, SIM, T0 + 5, SIM_TOPIC, ATTACH),
    ("status", DEVICE, SIM, T0 + 10, STATUS_TOPIC, STATUS),
    ("telemetry", DEVICE, SIM, T0 + 60, TELEMETRY_TOPIC, TELEMETRY),
    ("telemetry", DEVICE, SIM, T0 + 60, TELEMETRY_TOPIC, TELEMETRY),  # delivered twice
)


def old_file(path, version, *, actions=True):
    """A store file of `version` (1 or 2) holding MESSAGES, a verdict and a clock."""
    db = sqlite3.connect(path)
    tables = list(V1_TABLES) + ([V1_ACTIONS] if actions else [])
    if version == 2:
        tables[1:6] = V2_MESSAGES
    for statement in tables:
        db.execute(statement)
    db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    for kind, device, iccid, t, topic, body in MESSAGES[: 5 if version == 1 else 4]:
        columns = "kind, device_id, iccid, account, t, received, topic, payload"
        values = [kind, device, iccid, "acme", t, t + 0.5, topic, body]
        if version == 2:
            columns += ", digest"
            values.append(digest(topic, body))  # as version 2 wrote it
        marks = ", ".join("?" * len(values))
        db.execute(f"INSERT INTO messages ({columns}) VALUES ({marks})", values)  # noqa: S608
    kinds = {"record": 1, "attach": 1, "status": 1, "telemetry": 2 if version == 1 else 1}
    db.executemany("INSERT INTO kind_counts VALUES (?, ?)", kinds.items())
    db.execute("INSERT INTO devices VALUES (?)", (DEVICE,))
    db.execute("INSERT INTO sims VALUES (?)", (SIM,))
    db.execute("INSERT INTO device_sims VALUES (?, ?)", (DEVICE, SIM))
    db.execute("INSERT INTO records VALUES (?, 'acme', ?, ?)", (SIM, T0, RECORD))
    db.execute("INSERT INTO statuses VALUES (?, ?, 'online', 0, ?)", (DEVICE, T0 + 10, STATUS))
    db.execute("INSERT INTO verdicts VALUES (1, ?, ?, 'ONLINE', 'reporting')", (DEVICE, T0 + 60))
    db.execute("INSERT INTO current_verdicts VALUES (?, 'ONLINE', 'reporting', ?)", (DEVICE, T0))
    db.execute("INSERT INTO clock VALUES (1, ?)", (T0 + 60,))
    db.commit()
    db.close()


def layout(path):
    """The file's tables and indexes, as SQLite keeps their definitions."""
    with sqlite3.connect(path) as db:
        return sorted(
            (kind, name, "".join(sql.split()).replace("IFNOTEXISTS", ""))
            for kind, name, sql in db.execute(
                "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL"
            )
        )


@pytest.fixture
def path(tmp_path):
    return tmp_path / "diagnostics.sqlite"


def test_every_version_has_its_migration():
    assert len(MIGRATIONS) == SCHEMA_VERSION - 1


@pytest.mark.parametrize(("version", "actions"), [(1, False), (1, True), (2, True)])
def test_an_older_file_is_migrated_and_its_data_read(path, tmp_path, version, actions):
    old_file(path, version, actions=actions)
    with SQLiteStore(path) as store:
        timeline = store.device_timeline(DEVICE)
        assert [(m.kind, m.t - T0) for m in timeline] == [
            ("attach", 5),
            ("status", 10),
            ("telemetry", 60),
        ]  # the message delivered twice is kept once
        assert timeline[-1].payload == TELEMETRY
        summary = store.summary()
        assert dict(summary.kinds) == {"attach": 1, "record": 1, "status": 1, "telemetry": 1}
        assert (summary.devices, summary.sims) == (1, 1)
        assert store.record(SIM).payload == RECORD
        assert store.latest_status(DEVICE).status == "online"
        assert [(v.status, v.t) for v in store.detection_history(DEVICE)] == [("ONLINE", T0 + 60)]
        assert store.last_clock() == T0 + 60
        assert store.actions("silence") == []
        again = Accepted("attach", None, SIM, "acme", T0 + 5, T0 + 6, SIM_TOPIC, ATTACH)
        assert store.contains(again)  # version 1: the migration computed the digests
        assert store.write_batch(messages=[again], dead=[]) == 0
        later = Accepted("attach", None, SIM, "acme", T0 + 90, T0 + 91, SIM_TOPIC, ATTACH)
        assert store.write_batch(
            messages=[later], dead=[], detections=[DetectionChange(DEVICE, T0 + 90, "LATE", "late")]
        )
        assert [m.t - T0 for m in store.sim_events(SIM)] == [5, 90]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    fresh = tmp_path / "fresh.sqlite"
    SQLiteStore(fresh).close()
    assert layout(path) == layout(fresh)  # migrated to the very layout a new file gets


def test_a_file_newer_than_the_code_is_refused_naming_both_versions(path):
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    for opening in (SQLiteStore, SQLiteStore.open_readonly):
        with pytest.raises(StoreFileError) as refused:
            opening(path)
        said = str(refused.value)
        assert str(path) in said
        assert f"schema version {SCHEMA_VERSION + 1}" in said
        assert f"this code's {SCHEMA_VERSION}" in said


def test_a_legacy_file_of_a_newer_version_is_refused(path):
    old_file(path, 2)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 7")
    with pytest.raises(StoreFileError, match="schema version 7, newer"):
        SQLiteStore(path)


def test_a_foreign_or_corrupt_file_is_refused_naming_it(path):
    path.write_bytes(b"not a database, just some text\n" * 100)
    for opening in (SQLiteStore, SQLiteStore.open_readonly):
        with pytest.raises(StoreFileError, match=f"{path}: not a database"):
            opening(path)
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    for opening in (SQLiteStore, SQLiteStore.open_readonly):
        with pytest.raises(StoreFileError, match=f"{path}: not a diagnostics store"):
            opening(path)


def test_a_read_only_open_reads_creates_nothing_and_migrates_nothing(path, tmp_path):
    with SQLiteStore(path) as store:
        store.write_batch(
            messages=[Accepted("attach", None, SIM, "acme", T0, T0, SIM_TOPIC, ATTACH)],
            dead=[],
            detections=[DetectionChange(DEVICE, T0, "ONLINE", "reporting")],
        )
    with SQLiteStore.open_readonly(path) as reader:
        assert reader.messages_count() == 1
        assert [(v.device_id, v.status) for v in reader.detections()] == [(DEVICE, "ONLINE")]
        assert not hasattr(reader, "write_batch")
    with pytest.raises(StoreFileError, match="no such file"):
        SQLiteStore.open_readonly(tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()
    old = tmp_path / "old.sqlite"
    old_file(old, 1)
    with pytest.raises(StoreFileError, match=f"{old}: schema version 1, older"):
        SQLiteStore.open_readonly(old)
    with sqlite3.connect(old) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (1,)


def test_a_path_with_uri_characters_opens_read_only(tmp_path):
    path = tmp_path / "run #1?mode=rw" / "diagnostics.sqlite"
    path.parent.mkdir()
    SQLiteStore(path).close()
    with SQLiteStore.open_readonly(path) as reader:
        assert reader.device_ids() == []
