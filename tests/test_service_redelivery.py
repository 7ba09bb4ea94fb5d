"""At-least-once delivery, exactly-once storage: a real Mosquitto, the service, a SQLite file.

The service commits a batch and dies before acknowledging it (deterministically: the
ingest's callback raises right after `Service.handle` returned). The broker keeps the
unacknowledged messages for the persistent session and sends them again, flagged DUP,
to the restarted service, which must skip what it stored already.
"""

import sqlite3
import time
import uuid
from collections import Counter

import pytest

from diagnostics.ingest import Ingest, Received
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.messages import Clock
from protocol.wire import encode
from simulator.world.sinks import relative_topic
from tests.test_service import publish_world
from tests.waiting import wait
from tests.world_fixtures import collars, world

pytestmark = pytest.mark.broker

H = 3600.0


def stored_pairs(database):
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return Counter(conn.execute("SELECT topic, payload FROM messages"))
    finally:
        conn.close()


def test_a_batch_committed_but_not_acknowledged_comes_again_and_is_stored_once(
    mosquitto, topics, tmp_path
):
    database = tmp_path / "diagnostics.sqlite"
    client_id = f"redeliver-{uuid.uuid4().hex[:8]}"
    store = SQLiteStore(database)
    service = Service(store=store, topics=topics)
    first_batch = []

    def commit_then_die(batch):
        service.handle(batch)  # committed ...
        first_batch.extend(batch)
        raise RuntimeError("killed before the PUBACKs went out")  # ... never acknowledged

    dying = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=service.subscription,
        on_batch=commit_then_die,
        client_id=client_id,
        batch_max=50,  # the first batch holds part of the stream
        probe_every=0,
    )
    dying.start()
    assert dying.connected.wait(10)
    time.sleep(0.2)  # the subscription is acknowledged
    memory = publish_world(mosquitto, topics, world(devices=[collars(3)]), until=3 * H)
    assert wait(lambda: dying.error is not None, timeout=30.0)
    dying.stop()
    store.close()
    committed = sum(stored_pairs(database).values())
    assert committed == service.counters.accepted > 0, "the first batch was committed"
    assert committed < len(memory.messages)

    store = SQLiteStore(database)
    restarted = Service(store=store, topics=topics)
    restarted.rebuild()
    ingest = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=restarted.subscription,
        on_batch=restarted.handle,
        client_id=client_id,
        probe_every=0,
    )
    ingest.start()
    try:
        assert wait(lambda: store.messages_count() >= len(memory.messages), timeout=30.0)
        time.sleep(0.3)  # anything more that would come
    finally:
        ingest.stop()
        store.close()

    sent = Counter(
        (f"{topics.root}/{relative_topic(m, a)}", encode(m))
        for m, a in zip(memory.messages, memory.accounts, strict=True)
    )
    assert stored_pairs(database) == sent, "every message stored exactly once"
    first_qos1 = [m for m in first_batch if m.qos == 1 and not m.retain]
    assert restarted.counters.redelivered >= len(first_qos1) > 0, "they came again, skipped"
    assert restarted.counters.accepted == len(memory.messages) - committed


def test_a_message_published_twice_is_stored_once_and_foreign_topics_are_ignored(topics, tmp_path):
    with SQLiteStore(tmp_path / "twice.sqlite") as store:
        service = Service(store=store, topics=topics)
        tick = Clock(t=1_772_409_600.0)
        batch = [Received(topics.clock(), encode(tick), 1, 1, 0.0)]
        service.handle(batch)
        service.handle(batch)  # a publisher's retry: not flagged DUP, the store skips it
        service.handle([Received("elsewhere/clock", encode(tick), 1, 2, 0.0)])
        service.handle([Received(topics.root, b"{}", 1, 3, 0.0)])  # root/# takes the root
        assert store.messages_count() == 1
        assert (service.counters.accepted, service.counters.redelivered) == (1, 1)
        assert service.counters.ignored == 1
        assert service.counters.dead == {"topic": 1}
