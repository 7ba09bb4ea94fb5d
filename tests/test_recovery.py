"""Ingest that recovers by itself: a locked or immutable database, and a stalled broker.

The real app under uvicorn, a real Mosquitto (with `max_queued_messages 0`, so the
broker itself drops nothing while the service waits), real HTTP. The store is made
to refuse writes from outside, as bad luck would, then given back; every QoS 1
message must be stored exactly once, and /health must say what was wrong meanwhile.
"""

import os
import signal
import sqlite3
import subprocess
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from diagnostics.settings import Settings
from simlab.broker import MosquittoBroker
from tests.test_service import caught_up, dying_world, final_clock, publish_world, running
from tests.waiting import wait

pytestmark = pytest.mark.broker

H = 3600.0


def settings_on(broker_port, topics, database, **extra):
    return Settings(
        broker_port=broker_port,
        root=topics.root,
        database=database,
        client_id=f"recover-{uuid.uuid4().hex[:8]}",
        **extra,
    )


def sent_by_kind(memory):
    sent = {}
    for m in memory.messages:
        sent[m.kind] = sent.get(m.kind, 0) + 1
    return sent


def stored_all(client, memory):
    """Wait until the store holds every message sent, once (the hot state's clock runs ahead
    of a commit the store is still to take, so a caught-up clock alone does not say it)."""
    sent = sent_by_kind(memory)
    return wait(lambda: client.get("/api/fleet").json()["messages"] == sent, timeout=30)


def refused(client):
    health = client.get("/health")
    return health.status_code == 503 and health.json()["store_error"] is not None


def test_a_database_locked_for_ten_seconds_delays_ingest_and_loses_nothing(
    mosquitto, topics, tmp_path
):
    database = tmp_path / "diagnostics.sqlite"
    with running(settings_on(mosquitto.port, topics, database)) as client:
        lock = sqlite3.connect(database, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        locked = time.monotonic()
        try:
            memory = publish_world(mosquitto, topics, dying_world(), until=6 * H)
            assert wait(lambda: refused(client), timeout=30)
            health = client.get("/health").json()
            assert "locked" in health["store_error"]
            assert health["store_error_since"] <= time.time()
            time.sleep(max(0.0, 10.0 - (time.monotonic() - locked)))
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert caught_up(client, final_clock(memory))
        assert stored_all(client, memory), "every message stored, once"
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["store_error"] is None
        assert health.json()["store_retries"] >= 1


def chattr(flag, *paths):
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


def test_a_database_made_immutable_then_writable_again_resumes_by_itself(
    mosquitto, topics, tmp_path
):
    database = tmp_path / "diagnostics.sqlite"
    files = [database, database.with_name(database.name + "-wal")]
    with running(settings_on(mosquitto.port, topics, database)) as client:
        assert all(f.exists() for f in files)
        chattr("+i", *files)  # root writes through chmod 0444; not through this
        try:
            memory = publish_world(mosquitto, topics, dying_world(), until=6 * H)
            assert wait(lambda: refused(client), timeout=30)
            assert client.get("/health").json()["ok"] is False
        finally:
            chattr("-i", *files)
        assert caught_up(client, final_clock(memory))
        assert stored_all(client, memory), "every message stored, once"
        assert client.get("/health").status_code == 200


def test_a_stalled_broker_is_said_within_two_keepalives_and_left_behind_when_it_wakes(
    topics, tmp_path
):
    broker = MosquittoBroker().start()
    settings = settings_on(broker.port, topics, tmp_path / "d.sqlite", keepalive=2)
    try:
        with running(settings) as client:
            assert client.get("/health").json()["pings_unanswered"] <= 1
            os.kill(broker.process.pid, signal.SIGSTOP)
            stopped = time.monotonic()
            try:
                assert wait(lambda: client.get("/health").json()["broker_stalls"] == 1, 20)
                took = time.monotonic() - stopped
                health = client.get("/health")
                assert health.status_code == 503
                assert health.json()["broker_connected"] is False
                assert "answered none of 2 PINGREQs" in health.json()["broker_error"]
                assert took <= 2 * 2 + 1.0, f"two keepalives, not {took:.1f} s"
            finally:
                os.kill(broker.process.pid, signal.SIGCONT)
            assert wait(lambda: client.get("/health").status_code == 200, timeout=30)
            publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            publisher.connect("127.0.0.1", broker.port)
            publisher.loop_start()
            publisher.publish(f"{topics.root}/clock", b'{"v":1,"t":1e9,"kind":"clock"}', 1)
            publisher.loop_stop()
            assert wait(lambda: client.get("/api/fleet").json()["clock"] == 1e9)
    finally:
        broker.remove()
