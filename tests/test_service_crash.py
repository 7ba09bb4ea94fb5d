"""The service killed with SIGKILL mid-ingest and restarted loses no QoS 1 message.

A Mosquitto of this test's own with persistence, the service as a real process
(`simlab serve`), a seeded world published with every message at QoS 1. The
service is killed while it is ingesting (some, not all, of the stream stored),
restarted with the same MQTT client id and database, and the store must then
hold every message the simulator sent exactly once: the broker delivers at least
once (what was committed but not yet acknowledged at the kill comes again, marked
DUP), and the service skips what it has stored already.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import httpx
import pytest

from diagnostics.store import SQLiteStore
from protocol.wire import Topics, encode
from simlab.broker import MosquittoBroker, free_port
from simulator.transport.publisher import MqttSink
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink, relative_topic
from tests.waiting import ended, wait
from tests.world_fixtures import CUSTOMER, collars, world

pytestmark = pytest.mark.broker

DEVICES = 40
HOURS = 24
KILL_DELAY_S = 0.03
DEADLINE_S = 90.0
"""No wait of this test lasts longer than this (the whole test takes ~10-20 s)."""


def crash_world():
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["count"] = DEVICES
    return world(devices=[collars(DEVICES, report_interval="5m")], customer=customer, seed=11)


class ServiceProcess:
    """`simlab serve` as a child process on a free port."""

    def __init__(self, *, broker, root, database, client_id, log):
        self.port = free_port()
        self.command = [
            sys.executable,
            "-c",
            "from simlab.commands import main; main()",
            "serve",
            "--broker",
            broker.url,
            "--root",
            root,
            "--db",
            str(database),
            "--port",
            str(self.port),
            "--client-id",
            client_id,
        ]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5)

    def start(self):
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        ok = wait(self._healthy, timeout=30)
        assert ok, f"the service did not become healthy: {self.log.read_text()[-2000:]}"
        time.sleep(0.5)  # /health says connected; give the SUBSCRIBE time to be acknowledged
        return self

    def _healthy(self):
        assert self.process is not None
        assert self.process.poll() is None, f"the service exited: {self.log.read_text()[-2000:]}"
        with contextlib.suppress(httpx.HTTPError):
            return self.http.get("/health").status_code == 200
        return False

    def stored(self):
        """Messages stored (all kinds), per /api/fleet."""
        return int(self.http.get("/api/fleet").json()["messages_total"])

    def metric(self, name):
        """One unlabelled sample of /metrics."""
        for line in self.http.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise KeyError(name)

    def kill(self):
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.http.close()

    def stop(self):
        ended(self.process)
        self.http.close()


def stored_pairs(database):
    """(topic, payload) of every stored message, read-only (the service may be writing)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return Counter(conn.execute("SELECT topic, payload FROM messages"))
    finally:
        conn.close()


@pytest.fixture
def broker():
    broker = MosquittoBroker(persistence=True).start()
    yield broker
    broker.remove()


def test_a_service_killed_mid_batch_and_restarted_loses_no_qos1_message(broker, tmp_path):
    topics = Topics(f"crash-{uuid.uuid4().hex[:10]}/simlab")
    memory = MemorySink()
    assert simulate(crash_world(), memory, until=HOURS * 3600).error is None
    sent = Counter(
        (f"{topics.root}/{relative_topic(m, a)}", encode(m))
        for m, a in zip(memory.messages, memory.accounts, strict=True)
    )
    total = sum(sent.values())
    database = tmp_path / "diagnostics.sqlite"
    settings = {
        "broker": broker,
        "root": topics.root,
        "database": database,
        "client_id": f"crash-{uuid.uuid4().hex[:8]}",
        "log": tmp_path / "service.log",
    }

    service = ServiceProcess(**settings).start()
    try:
        published = threading.Event()
        failure: list[BaseException] = []

        def publish():
            try:
                sink = MqttSink(broker.url, topics=topics, speed=None, telemetry_qos=1).start()
                for message, account in zip(memory.messages, memory.accounts, strict=True):
                    sink.write(message, account)
                stats = sink.close(timeout=DEADLINE_S)
                assert stats.dropped_qos0 == 0
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                failure.append(exc)
            finally:
                published.set()

        publisher = threading.Thread(target=publish, name="crash-publisher", daemon=True)
        publisher.start()
        started = wait(lambda: service.stored() >= total // 5, timeout=DEADLINE_S, step=0.01)
        assert started, f"the service stored {service.stored()} of {total} messages"
        # A count just went up: a batch was committed and is being acknowledged. Wait a
        # little so the kill lands inside the next batch (decoding or writing it).
        time.sleep(KILL_DELAY_S)
        service.kill()
        stored_at_kill = sum(stored_pairs(database).values())
        assert stored_at_kill < total, "killed too late: the whole stream was already stored"

        assert published.wait(DEADLINE_S), "the publisher did not finish"
        assert not failure, f"the publisher failed: {failure[0]!r}"

        service = ServiceProcess(**settings).start()
        missing: Counter[tuple[str, bytes]] = Counter()

        def complete():
            nonlocal missing
            missing = Counter(sent.keys() - stored_pairs(database).keys())
            return not missing

        everything = wait(complete, timeout=DEADLINE_S, step=0.25)
        assert everything, (
            f"{len(missing)} of {len(sent)} distinct sent messages are not in the store, e.g. "
            f"{sorted(missing)[:3]}"
        )
        wait(lambda: service.stored() >= total, timeout=5)
        skipped = service.metric("simlab_redelivered_total")
    finally:
        service.stop()

    assert service.process is not None
    # uvicorn shuts down gracefully on SIGTERM, then dies of the signal it caught
    assert service.process.returncode in {0, -signal.SIGTERM}, service.log.read_text()[-2000:]
    assert_stored_exactly_once(database, sent, stored_at_kill, skipped)


def assert_stored_exactly_once(database, sent, stored_at_kill, skipped):
    """Every sent message stored once (sent ones are all distinct), nothing foreign, sound file."""
    assert set(sent.values()) == {1}, "the world sends no message twice"
    total = sum(sent.values())
    stored = stored_pairs(database)
    short = {pair: n for pair, n in sent.items() if stored[pair] < n}
    assert not short, f"{len(short)} sent messages stored fewer times than sent"
    foreign = stored.keys() - sent.keys()
    assert not foreign, f"{len(foreign)} stored messages were never sent"
    twice = {pair: n for pair, n in stored.items() if n > 1}
    assert not twice, f"{len(twice)} messages stored more than once, e.g. {sorted(twice)[:2]}"
    print(  # noqa: T201 - what the kill left to redeliver
        f"sent={total} stored={sum(stored.values())} stored_at_kill={stored_at_kill}"
        f" redelivered_and_skipped={skipped}"
    )

    with SQLiteStore(database) as store:
        kinds = store.summary().kinds
        assert store.messages_count() == sum(stored.values())
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        by_kind = dict(conn.execute("SELECT kind, COUNT(*) FROM messages GROUP BY kind"))
    finally:
        conn.close()
    assert kinds == by_kind, "the kind counters agree with the messages table"
