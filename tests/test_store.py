"""The diagnostics store on real SQLite files: batches, derived state, reads, crashes, speed.

Messages are real payloads: built as models, encoded, decoded on their topics and turned
into rows by `accepted`, as the ingest does. The crash test kills a writing child process
with SIGKILL and checks that every batch it reported committed is there, whole.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from diagnostics.store import (
    SCHEMA_VERSION,
    Accepted,
    DeadLetter,
    DetectionChange,
    SQLiteStore,
    Store,
    accepted,
    dead_letter,
)
from protocol.messages import (
    AttachAccepted,
    Clock,
    Detached,
    DeviceStatus,
    SessionOpened,
    SimRecord,
    Telemetry,
    UsageReported,
)
from protocol.wire import Topics, WireError, decode, encode

T0 = 1_772_409_600.0
TOPICS = Topics()
ACCOUNT = "acme"
SIM_A, SIM_B, SIM_C = "8946200050000000001", "8946200050000000002", "8946200050000000003"
ROOT = Path(__file__).resolve().parents[1]


# ---- helpers ----------------------------------------------------------------------------------


def row(message, received=None):
    """The stored form of a model, through the wire as the ingest sees it."""
    topic = TOPICS.for_message(message, ACCOUNT)
    payload = encode(message)
    route, decoded = decode(topic, payload, TOPICS)
    return accepted(
        route=route,
        message=decoded,
        topic=topic,
        payload=payload,
        received=message.t + 0.5 if received is None else received,
    )


def telemetry(device, iccid, t, seq=1):
    return row(
        Telemetry(
            t=T0 + t,
            device_id=device,
            iccid=iccid,
            imei="356938035643809",
            seq=seq,
            firmware="1.4.2",
            battery=88.0,
            supply_mv=None,
            bearer="LTE-M",
            mcc_mnc="24001",
            cell_id=4711,
            rsrp=-97.0,
            rsrq=-11.0,
            snr=6.5,
            apn="iot.acme",
            ip="10.20.0.7",
            uptime_s=3600,
        )
    )


def status(device, iccid, t, state="online", will=False):
    return row(DeviceStatus(t=T0 + t, device_id=device, iccid=iccid, status=state, will=will))


def attach(iccid, t):
    return row(AttachAccepted(t=T0 + t, iccid=iccid, mcc_mnc="24001", cell_id=4711, rat="LTE-M"))


def session(iccid, t):
    return row(SessionOpened(t=T0 + t, iccid=iccid, session_id=1, apn="iot.acme", ip="10.20.0.7"))


def usage(iccid, t):
    return row(UsageReported(t=T0 + t, iccid=iccid, bytes=512, cycle_bytes=4096, allowance=10**6))


def detach(iccid, t):
    return row(Detached(t=T0 + t, iccid=iccid, reason="network"))


def record(iccid, t, state="ACTIVATED"):
    return row(
        SimRecord(
            t=T0 + t,
            iccid=iccid,
            imsi="240011234567890",
            msisdn=None,
            state=state,
            account=ACCOUNT,
            account_name="Acme Metering",
            communication_plan="cp-lte-m",
            rate_plan="rp-10mb",
            apns=["iot.acme"],
            networks=["24001"],
            radio_types=["LTE-M"],
            imei_lock=False,
            locked_imei=None,
            data_blocked=False,
            device_name=None,
            site=None,
            time_zone=None,
        )
    )


def clock(t):
    return row(Clock(t=T0 + t))


def bad(topic, payload, received=T0):
    try:
        decode(topic, payload, TOPICS)
    except WireError as error:
        return dead_letter(error=error, payload=payload, received=received)
    raise AssertionError("expected a WireError")


@pytest.fixture
def path(tmp_path):
    return tmp_path / "diagnostics.db"


@pytest.fixture
def store(path):
    with SQLiteStore(path) as opened:
        yield opened


def kinds_and_times(messages):
    return [(m.kind, m.t - T0) for m in messages]


# ---- schema -----------------------------------------------------------------------------------


def test_the_schema_is_created_with_its_version_indexes_and_wal(path):
    with SQLiteStore(path, synchronous="FULL"):
        pass
    db = sqlite3.connect(path)
    names = {name for (name,) in db.execute("SELECT name FROM sqlite_schema")}
    assert {
        "messages",
        "records",
        "statuses",
        "verdicts",
        "current_verdicts",
        "dead_letters",
        "dead_letter_counts",
        "clock",
        "kind_counts",
        "devices",
        "sims",
        "device_sims",
        "messages_device",
        "messages_sim",
        "messages_other",
        "messages_t",
        "verdicts_device",
    } <= names
    assert db.execute("PRAGMA user_version").fetchall() == [(SCHEMA_VERSION,)]
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="schema version 99"):
        SQLiteStore(path)


def test_the_writer_runs_with_the_synchronous_level_asked_for(path):
    for level, code in (("NORMAL", 1), ("FULL", 2)):
        with SQLiteStore(path, synchronous=level) as store:
            assert store._writer.execute("PRAGMA synchronous").fetchone() == (code,)
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStore(path, synchronous="OFF")  # type: ignore[arg-type]


def test_sqlite_store_is_a_store(store):
    typed: Store = store
    assert typed.messages_count() == 0
    assert typed.last_clock() is None
    assert typed.summary().messages == 0


def test_decoded_messages_become_rows_and_wire_errors_dead_letters():
    tel = telemetry("meter-1", SIM_A, 10)
    assert (tel.kind, tel.device_id, tel.iccid, tel.account) == (
        "telemetry",
        "meter-1",
        SIM_A,
        ACCOUNT,
    )
    assert (tel.t, tel.received, tel.status) == (T0 + 10, T0 + 10.5, None)
    will = status("meter-1", None, 20, "offline", will=True)
    assert (will.kind, will.iccid, will.status, will.will) == ("status", None, "offline", True)
    event = attach(SIM_A, 30)
    assert (event.kind, event.device_id, event.iccid) == ("attach", None, SIM_A)
    assert event.topic == f"simlab/v1/acme/sim/{SIM_A}/events"
    tick = clock(40)
    assert (tick.kind, tick.device_id, tick.iccid, tick.account) == ("clock", None, None, None)
    letter = bad("simlab/v1/acme/device/meter-1/status", b'{"v": 2}', received=T0 + 5)
    assert (letter.code, letter.received, letter.payload) == ("version", T0 + 5, b'{"v": 2}')
    assert letter.reason.startswith("v: unknown schema version 2")


# ---- batches ----------------------------------------------------------------------------------


def test_a_batch_commits_as_a_whole_or_not_at_all(store):
    store.write_batch(
        messages=[telemetry("meter-1", SIM_A, 0), record(SIM_A, 0)],
        dead=[bad("simlab/v1/acme/device/meter-1/telemetry", b"{")],
        detections=[DetectionChange("meter-1", T0, "ONLINE", "REPORTING")],
        clock=T0,
    )
    before = store.summary()
    with pytest.raises(sqlite3.IntegrityError, match="REAL"):
        store.write_batch(
            messages=[telemetry("meter-1", SIM_A, 60), record(SIM_A, 60, "DEACTIVATED")],
            dead=[bad("simlab/v1/acme/device/meter-1/telemetry", b"[]")],
            detections=[DetectionChange("meter-1", "later", "LATE", "SILENT")],  # type: ignore[arg-type]
            clock=T0 + 60,
        )
    broken = dataclasses.replace(status("meter-1", SIM_A, 90), status=None)
    with pytest.raises(ValueError, match="needs device_id and status"):
        store.write_batch(messages=[telemetry("meter-1", SIM_A, 90), broken], dead=())
    assert store.summary() == before
    assert store.messages_count() == 2
    assert store.record(SIM_A).payload == record(SIM_A, 0).payload
    assert len(store.dead_letters()) == 1
    assert [v.status for v in store.detection_history("meter-1")] == ["ONLINE"]
    assert store.last_clock() == T0
    store.write_batch(messages=[telemetry("meter-1", SIM_A, 120)], dead=(), clock=T0 + 120)
    assert store.messages_count() == 3, "the store stays usable after a failed batch"
    assert store.last_clock() == T0 + 120


def test_an_empty_batch_writes_nothing(store):
    store.write_batch(messages=(), dead=())
    assert store.summary().messages == 0
    assert store.last_clock() is None


def test_a_message_stored_already_is_skipped_and_counted_once(store):
    first = [
        telemetry("meter-1", SIM_A, 0),
        status("meter-1", SIM_A, 0),
        attach(SIM_A, 0),
        record(SIM_A, 0),
        clock(0),
    ]
    assert store.write_batch(messages=first, dead=()) == 5
    before = store.summary()
    # redelivered after a crash: the same topic and payload (received later) comes again
    again = [dataclasses.replace(m, received=m.received + 99) for m in first]
    assert store.write_batch(messages=[*again, telemetry("meter-1", SIM_A, 60)], dead=()) == 1
    assert store.messages_count() == 6
    assert store.summary().kinds == {**before.kinds, "telemetry": 2}
    assert (store.summary().devices, store.summary().sims) == (before.devices, before.sims)
    twice = telemetry("meter-2", SIM_B, 0)
    assert store.write_batch(messages=[twice, twice, attach(SIM_B, 0)], dead=()) == 2
    # the same device and time with another payload is another message
    other = telemetry("meter-1", SIM_A, 0, seq=2)
    assert store.write_batch(messages=[other], dead=()) == 1
    assert store.messages_count() == 9
    stored = store._reader().execute("SELECT kind, COUNT(*) FROM messages GROUP BY kind")
    assert dict(stored) == dict(store.summary().kinds), "the counters follow the rows"
    assert all(store.contains(m) for m in [*again, twice, other])
    assert not store.contains(telemetry("meter-1", SIM_A, 120))
    assert not store.contains(clock(1))
    assert not store.contains(attach(SIM_C, 0))


def test_records_and_statuses_keep_the_newest_by_t(store):
    store.write_batch(
        messages=[record(SIM_A, 100, "ACTIVATED"), status("meter-1", SIM_A, 100, "online")],
        dead=(),
    )
    store.write_batch(  # late arrivals of older state change nothing
        messages=[record(SIM_A, 50, "TEST_READY"), status("meter-1", SIM_A, 50, "asleep")],
        dead=(),
    )
    assert store.record(SIM_A).t == T0 + 100
    assert b'"ACTIVATED"' in store.record(SIM_A).payload
    assert store.latest_status("meter-1").status == "online"
    store.write_batch(  # in one batch the newest wins, whatever the order
        messages=[
            record(SIM_A, 300, "DEACTIVATED"),
            record(SIM_A, 200, "INVENTORY"),
            status("meter-1", SIM_A, 300, "offline", will=True),
            status("meter-1", SIM_A, 200, "online"),
        ],
        dead=(),
    )
    newest = store.record(SIM_A)
    assert (newest.iccid, newest.account, newest.t) == (SIM_A, ACCOUNT, T0 + 300)
    assert b'"DEACTIVATED"' in newest.payload
    latest = store.latest_status("meter-1")
    assert (latest.status, latest.will, latest.t) == ("offline", True, T0 + 300)
    store.write_batch(messages=[status("meter-1", SIM_A, 300, "online")], dead=())
    assert store.latest_status("meter-1").status == "online", "equal t: the later arrival wins"
    assert store.record(SIM_B) is None
    assert store.latest_status("meter-2") is None
    assert store.messages_count() == 9, "every message is kept, whatever the derived state"


def test_dead_letters_are_bounded_but_their_counts_are_not(path):
    with SQLiteStore(path, dead_letter_limit=10) as store:
        topic = "simlab/v1/acme/device/meter-1/telemetry"
        letters = [
            DeadLetter(
                topic, f"bad {n}".encode(), "not_json" if n % 2 else "invalid", "why", T0 + n
            )
            for n in range(25)
        ]
        store.write_batch(messages=(), dead=letters[:7])
        store.write_batch(messages=(), dead=letters[7:9])
        store.write_batch(messages=(), dead=letters[9:])
        kept = store.dead_letters(limit=100)
        assert [d.payload for d in kept] == [f"bad {n}".encode() for n in range(24, 14, -1)]
        assert store.dead_letter_counts() == {"invalid": 13, "not_json": 12}
        assert sum(store.summary().dead_letters.values()) == 25
        first = store.dead_letters(limit=4)
        second = store.dead_letters(limit=4, before_id=first[-1].id)
        assert first + second == kept[:8]
        assert {d.code for d in store.dead_letters(code="invalid")} == {"invalid"}
        assert len(store.dead_letters(code="invalid")) == 5
        huge = b"x" * (200 * 1024)
        store.write_batch(messages=(), dead=[bad(topic, huge)])
        newest = store.dead_letters(limit=1)[0]
        assert (newest.code, newest.size, len(newest.payload)) == (
            "too_large",
            len(huge),
            64 * 1024,
        )
        assert "payload:" in newest.reason
        assert len(store.dead_letters(limit=100)) == 10


# ---- reading ----------------------------------------------------------------------------------


@pytest.fixture
def timeline_store(store):
    """meter-1 reports with SIM A, then (after a swap) SIM B; meter-2 has SIM C."""
    store.write_batch(
        messages=[
            telemetry("meter-1", SIM_A, 10),
            status("meter-1", SIM_A, 20),
            telemetry("meter-1", SIM_B, 60),
            usage(SIM_C, 30),
            record(SIM_A, 35),
            telemetry("meter-2", SIM_C, 40),
        ],
        dead=(),
    )
    store.write_batch(  # the platform's events arrive late, out of order
        messages=[attach(SIM_B, 62), detach(SIM_A, 45), session(SIM_A, 20), attach(SIM_A, 15)],
        dead=(),
        clock=T0 + 70,
    )
    store.write_batch(messages=[clock(70)], dead=())
    return store


FULL_TIMELINE = [
    ("telemetry", 10),
    ("attach", 15),
    ("status", 20),
    ("session_open", 20),
    ("detach", 45),
    ("telemetry", 60),
    ("attach", 62),
]


def test_the_timeline_joins_the_devices_messages_and_its_sims_events_in_order(timeline_store):
    whole = timeline_store.device_timeline("meter-1")
    assert kinds_and_times(whole) == FULL_TIMELINE
    same_t = [m for m in whole if m.t == T0 + 20]
    assert same_t[0].id < same_t[1].id, "equal times are ordered by id"
    assert {m.iccid for m in whole} == {SIM_A, SIM_B}
    window = timeline_store.device_timeline("meter-1", since=T0 + 15, until=T0 + 45)
    assert kinds_and_times(window) == FULL_TIMELINE[1:5]
    assert kinds_and_times(timeline_store.device_timeline("meter-2")) == [
        ("usage", 30),
        ("telemetry", 40),
    ]
    assert timeline_store.device_timeline("meter-9") == []


def test_the_timeline_pages_backwards_by_keyset(timeline_store):
    pages, before = [], None
    while page := timeline_store.device_timeline("meter-1", limit=3, before_id=before):
        pages.append(kinds_and_times(page))
        before = page[0].id
    assert pages == [FULL_TIMELINE[4:], FULL_TIMELINE[1:4], FULL_TIMELINE[:1]]
    newest_two = timeline_store.device_timeline("meter-1", limit=2)
    assert kinds_and_times(newest_two) == FULL_TIMELINE[5:]
    with pytest.raises(KeyError):
        timeline_store.device_timeline("meter-1", before_id=10**9)


def test_the_summary_counts_kinds_devices_sims_and_dead_letters(timeline_store):
    timeline_store.write_batch(
        messages=[telemetry("meter-1", SIM_B, 80)],
        dead=[bad("simlab/v1/acme/sim/x/events", b"{}"), bad("elsewhere/x", b"{}")],
    )
    summary = timeline_store.summary()
    assert dict(summary.kinds) == {
        "attach": 2,
        "clock": 1,
        "detach": 1,
        "record": 1,
        "session_open": 1,
        "status": 1,
        "telemetry": 4,
        "usage": 1,
    }
    assert (summary.devices, summary.sims, summary.messages) == (2, 3, 12)
    assert dict(summary.dead_letters) == {"topic": 1, "version": 1}
    assert timeline_store.messages_count() == 12


def test_replay_yields_the_evidence_in_time_order_in_batches(timeline_store):
    batches = list(timeline_store.replay(batch=4))
    assert [len(b) for b in batches] == [4, 4, 1]
    replayed = [m for b in batches for m in b]
    assert [(m.t, m.id) for m in replayed] == sorted((m.t, m.id) for m in replayed)
    assert {m.kind for m in replayed} == {
        "telemetry",
        "status",
        "attach",
        "session_open",
        "usage",
        "detach",
    }
    assert len(replayed) == timeline_store.messages_count() - 2, "no record, no clock"
    recent = [m for b in timeline_store.replay(since=T0 + 45) for m in b]
    assert kinds_and_times(recent) == [("detach", 45), ("telemetry", 60), ("attach", 62)]
    first = replayed[0]
    assert decode(first.topic, first.payload, TOPICS)[1].t == first.t


def test_verdict_changes_are_history_and_the_latest_is_current(store):
    store.write_batch(
        messages=(),
        dead=(),
        detections=[
            DetectionChange("meter-1", T0 + 900, "LATE", "SILENT"),
            DetectionChange("meter-2", T0 + 900, "ONLINE", "REPORTING"),
        ],
    )
    store.write_batch(
        messages=(),
        dead=(),
        detections=[DetectionChange("meter-1", T0 + 1800, "OFFLINE", "SILENT")],
    )
    history = store.detection_history("meter-1")
    assert [(v.t, v.status) for v in history] == [(T0 + 900, "LATE"), (T0 + 1800, "OFFLINE")]
    assert [v.status for v in store.detection_history("meter-1", limit=1)] == ["OFFLINE"]
    current = {c.device_id: (c.status, c.reason, c.since) for c in store.current_detections()}
    assert current == {
        "meter-1": ("OFFLINE", "SILENT", T0 + 1800),
        "meter-2": ("ONLINE", "REPORTING", T0 + 900),
    }


def test_readers_on_other_threads_see_every_commit(store):
    seen, errors = {}, []

    def read(name):
        try:
            counts = seen.setdefault(name, [])
            for _ in range(20):
                counts.append(store.messages_count())
                time.sleep(0.001)
        except Exception as exc:  # noqa: BLE001 - handed to the main thread to fail there
            errors.append(exc)

    readers = [threading.Thread(target=read, args=(n,)) for n in range(3)]
    for reader in readers:
        reader.start()
    for n in range(20):
        store.write_batch(messages=[telemetry("meter-1", SIM_A, n, seq=n)], dead=())
    for reader in readers:
        reader.join()
    assert errors == []
    for counts in seen.values():
        assert counts == sorted(counts), "a reader never sees a commit undone"
        assert set(counts) <= set(range(21))
    assert len(store._readers) == 3, "one connection per reading thread"
    assert store.messages_count() == 20
    assert len(store._readers) == 4


# ---- durability -------------------------------------------------------------------------------


def test_data_survives_close_and_reopen(path):
    with SQLiteStore(path) as store:
        store.write_batch(
            messages=[
                telemetry("meter-1", SIM_A, 10),
                record(SIM_A, 10),
                status("meter-1", SIM_A, 10),
            ],
            dead=[bad("simlab/v1/acme/clock", b"{")],
            detections=[DetectionChange("meter-1", T0 + 10, "ONLINE", "REPORTING")],
            clock=T0 + 10,
        )
        before = store.summary()
    with SQLiteStore(path) as store:
        assert store.summary() == before
        assert store.last_clock() == T0 + 10
        assert store.record(SIM_A).t == T0 + 10
        assert store.latest_status("meter-1").status == "online"
        assert [c.status for c in store.current_detections()] == ["ONLINE"]
        assert kinds_and_times(store.device_timeline("meter-1")) == [
            ("telemetry", 10),
            ("status", 10),
        ]
        store.write_batch(messages=[telemetry("meter-1", SIM_A, 20)], dead=())
        assert store.messages_count() == 4
    store.close()  # a second close is harmless
    with pytest.raises(RuntimeError, match="closed"):
        store.write_batch(messages=[telemetry("meter-1", SIM_A, 30)], dead=())


CHILD = textwrap.dedent(
    """
    import sys
    from diagnostics.store import Accepted, SQLiteStore

    store = SQLiteStore(sys.argv[1], synchronous=sys.argv[2])
    payload = b'{"v":1,"kind":"telemetry","pad":"' + b"x" * 300 + b'"}'
    n = 0
    while True:
        batch = [
            Accepted("telemetry", f"meter-{i}", f"sim-{i}", "acme", float(n), float(n),
                     f"batch/{n}", payload)
            for i in range(BATCH)
        ]
        print("writing", n, flush=True)
        store.write_batch(messages=batch, dead=(), clock=float(n))
        print("committed", n, flush=True)
        n += 1
    """
).replace("BATCH", "2000")


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_every_batch_reported_committed_survives_sigkill(path, synchronous):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), synchronous],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert child.stdout is not None
    lines = []
    try:
        for line in child.stdout:
            lines.append(line.split())
            if lines[-1] == ["writing", "12"]:
                time.sleep(0.005)  # into the batch's transaction (a batch takes ~40 ms)
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate(timeout=10)
    lines += [line.split() for line in rest.splitlines()]
    assert child.returncode == -signal.SIGKILL
    reported = [int(n) for word, n in lines if word == "committed"]
    assert reported == list(range(len(reported)))
    assert len(reported) >= 12

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()
    with SQLiteStore(path) as store:
        sizes = dict(store._reader().execute("SELECT topic, COUNT(*) FROM messages GROUP BY topic"))
        last = store.last_clock()
    committed = {int(topic.split("/")[1]): count for topic, count in sizes.items()}
    assert set(reported) <= set(committed), "a batch reported committed is missing"
    assert set(committed) - set(reported) <= {len(reported)}, "at most the unreported one"
    assert set(committed.values()) == {2000}, "no batch is there in part"
    assert last == float(max(committed))


# ---- speed ------------------------------------------------------------------------------------


def _stream(count):
    """`count` realistic rows: telemetry mostly, network events, statuses and records."""
    templates = {
        "telemetry": telemetry("meter-0", SIM_A, 0),
        "attach": attach(SIM_A, 0),
        "status": status("meter-0", SIM_A, 0),
        "record": record(SIM_A, 0),
    }
    plan = ["telemetry"] * 16 + ["attach"] * 2 + ["status", "record"]
    rows = []
    for n in range(count):
        kind = plan[n % len(plan)]
        device, iccid = f"meter-{n % 5000:05d}", f"89462000500{n % 5000:08d}"
        template = templates[kind]
        rows.append(
            Accepted(
                kind=kind,
                device_id=device if template.device_id else None,
                iccid=iccid,
                account=ACCOUNT,
                t=T0 + n,
                received=T0 + n + 0.5,
                topic=template.topic,
                payload=template.payload,
                status=template.status,
            )
        )
    return rows


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_write_throughput_with_batches_of_500(tmp_path, capsys, synchronous):
    rows = _stream(40_000)
    with SQLiteStore(tmp_path / "speed.db", synchronous=synchronous) as store:
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(rows), 500):
            store.write_batch(messages=rows[start : start + 500], dead=())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert store.messages_count() == len(rows)
    with capsys.disabled():
        print(  # noqa: T201 - the figure is what this test is for
            f"\nstore write_batch(500) synchronous={synchronous}: "
            f"{len(rows) / wall:,.0f} msg/s wall, {len(rows) / cpu:,.0f} msg/s per CPU second"
        )
