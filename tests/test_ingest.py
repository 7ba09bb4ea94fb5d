"""MQTT ingest against a real Mosquitto: QoS 1 acknowledged only after the batch is stored."""

import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from diagnostics.ingest import Ingest
from simlab.broker import MosquittoBroker, free_port
from simulator.transport.publisher import MqttSink
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.waiting import wait
from tests.world_fixtures import collars, world

pytestmark = pytest.mark.broker


def run_world(mosquitto, topics, hours=3):
    spec = world(devices=[collars(3)])
    memory = MemorySink()
    simulate(spec, memory, until=hours * 3600)
    sink = MqttSink(mosquitto.url, topics=topics, telemetry_qos=1).start()
    simulate(spec, sink, until=hours * 3600)
    sink.close()
    return memory.messages


class Collector:
    def __init__(self, fail=False):
        self.batches = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, batch):
        if self.fail:
            raise RuntimeError("the store is gone")
        with self.lock:
            self.batches.append(batch)

    def messages(self):
        with self.lock:
            return [m for b in self.batches for m in b]


def ingest(mosquitto, topics, collector, client_id):
    consumer = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=topics.everything(),
        on_batch=collector,
        client_id=client_id,
    )
    consumer.start()
    assert consumer.connected.wait(10)
    time.sleep(0.2)  # the subscription is acknowledged
    return consumer


def test_everything_arrives_in_batches_and_acknowledged_messages_are_not_sent_again(
    mosquitto, topics
):
    client_id = f"diag-{uuid.uuid4().hex[:8]}"
    collector = Collector()
    consumer = ingest(mosquitto, topics, collector, client_id)
    sent = run_world(mosquitto, topics)
    assert wait(lambda: len(collector.messages()) >= len(sent))
    consumer.stop()
    assert len(collector.messages()) == len(sent)
    assert consumer.stats.batches < len(sent), "messages were committed in batches"
    assert consumer.stats.committed == len(sent)
    again = Collector()
    second = ingest(mosquitto, topics, again, client_id)  # the same persistent session
    time.sleep(1.0)
    second.stop()
    replayed = [m for m in again.messages() if not m.retain]
    assert replayed == [], "acknowledged messages must not be delivered again"
    retained = {m.topic.rsplit("/", 1)[1] for m in again.messages()}
    assert retained <= {"status", "record"}, "only the retained state is sent on subscribing"


def test_a_batch_that_was_not_stored_is_not_acknowledged_and_comes_again(mosquitto, topics):
    client_id = f"diag-{uuid.uuid4().hex[:8]}"
    failing = Collector(fail=True)
    consumer = ingest(mosquitto, topics, failing, client_id)
    sent = run_world(mosquitto, topics, hours=1)
    assert wait(lambda: consumer.error is not None)
    consumer.stop()
    retry = Collector()
    second = ingest(mosquitto, topics, retry, client_id)
    assert wait(lambda: len({m.payload for m in retry.messages()}) >= len(sent))
    second.stop()
    assert {m.payload for m in retry.messages()} >= {m.model_dump_json().encode() for m in sent}


# ---- the connection ---------------------------------------------------------------------------


def publisher(port):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def close(client):
    client.loop_stop()
    client.disconnect()


def test_redelivered_messages_are_flagged_dup_and_new_ones_are_not(mosquitto, topics):
    client_id = f"diag-{uuid.uuid4().hex[:8]}"
    seen = []

    def fail_after_seeing(batch):
        seen.extend(batch)
        raise RuntimeError("died before acknowledging")

    consumer = ingest(mosquitto, topics, fail_after_seeing, client_id)
    sender = publisher(mosquitto.port)
    try:
        for n in range(5):
            sender.publish(f"{topics.root}/a/{n}", f"old {n}", qos=1).wait_for_publish(5)
        assert wait(lambda: consumer.error is not None)
        consumer.stop()
        assert not consumer.connected.is_set(), "a failed ingest is not connected"
        assert seen, "the first batch was handed over"
        assert not any(m.dup for m in seen), "sent the first time"
        again = Collector()
        second = ingest(mosquitto, topics, again, client_id)
        sender.publish(f"{topics.root}/b", "new", qos=1).wait_for_publish(5)
        assert wait(lambda: len(again.messages()) >= 6)
        second.stop()
    finally:
        close(sender)
    # what went out to the failed connection (at least what it handed over) comes again
    # flagged DUP, what the broker queued after it dropped comes for the first time; all
    # once, in order, then the new one
    got = [(m.payload, m.dup) for m in again.messages()]
    assert [p for p, _dup in got] == [f"old {n}".encode() for n in range(5)] + [b"new"]
    flags = [dup for _p, dup in got]
    assert flags == sorted(flags, reverse=True), "the DUP ones come first"
    assert all(flags[: len(seen)])
    assert not flags[-1]
    assert second.stats.connects == 1, "one connection: the resumed session was read as it came"


def test_the_broker_may_send_many_unacknowledged_messages_so_batches_are_large(mosquitto, topics):
    release = threading.Event()
    sizes = []

    def slow(batch):
        sizes.append(len(batch))
        release.wait(10)

    consumer = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=topics.everything(),
        on_batch=slow,
        client_id=f"diag-{uuid.uuid4().hex[:8]}",
        batch_max=5000,
        probe_every=0,
    )
    consumer.start()
    assert consumer.connected.wait(10)
    sender = publisher(mosquitto.port)
    try:
        sender.publish(f"{topics.root}/first", b"1", qos=1).wait_for_publish(5)
        assert wait(lambda: sizes == [1])  # the first batch is being committed
        infos = [sender.publish(f"{topics.root}/m/{n}", b"x" * 50, qos=1) for n in range(3000)]
        for info in infos:
            info.wait_for_publish(10)
        time.sleep(0.5)  # the broker pushes what Receive Maximum lets it
        release.set()
        assert wait(lambda: sum(sizes) == 3001)
    finally:
        close(sender)
        consumer.stop()
    assert max(sizes[1:]) >= 2000, f"batches after the wait: {sizes[1:]}"


def test_an_idle_connection_is_kept_alive_with_pings(mosquitto, topics):
    collector = Collector()
    consumer = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=topics.everything(),
        on_batch=collector,
        client_id=f"diag-{uuid.uuid4().hex[:8]}",
        keepalive=1,
        probe_every=0,
    )
    consumer.start()
    try:
        assert consumer.connected.wait(10)
        time.sleep(4)  # the broker drops a client silent for 1.5 keepalives
        assert (consumer.stats.connects, consumer.stats.disconnects) == (1, 0)
        sender = publisher(mosquitto.port)
        try:
            sender.publish(f"{topics.root}/ping", b"still here", qos=1).wait_for_publish(5)
        finally:
            close(sender)
        assert wait(lambda: [m.payload for m in collector.messages()] == [b"still here"])
    finally:
        consumer.stop()


def test_the_ingest_waits_for_a_broker_and_comes_back_after_a_restart(topics, tmp_path):
    port = free_port()
    collector = Collector()
    consumer = Ingest(
        host="127.0.0.1",
        port=port,
        subscription=topics.everything(),
        on_batch=collector,
        client_id=f"diag-{uuid.uuid4().hex[:8]}",
        reconnect=(0.1, 0.4),
    )
    consumer.start()
    broker = MosquittoBroker(port=port, persistence=True)
    try:
        time.sleep(0.5)
        assert not consumer.connected.is_set()
        broker.start()
        assert consumer.connected.wait(10), "connected once the broker is up"
        sender = publisher(port)
        sender.publish(f"{topics.root}/one", b"1", qos=1).wait_for_publish(5)
        close(sender)
        assert wait(lambda: len(collector.messages()) == 1)
        broker.restart()
        assert wait(lambda: consumer.stats.connects == 2 and consumer.connected.is_set())
        sender = publisher(port)
        sender.publish(f"{topics.root}/two", b"2", qos=1).wait_for_publish(5)
        close(sender)
        assert wait(lambda: [m.payload for m in collector.messages()] == [b"1", b"2"])
        assert consumer.stats.disconnects == 1
        assert consumer.error is None
    finally:
        consumer.stop()
        broker.remove()


def test_lag_counts_the_wait_in_the_broker_and_read_to_commit_does_not(mosquitto, topics):
    def slow(batch):
        time.sleep(0.25)

    consumer = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=topics.everything(),
        on_batch=slow,
        client_id=f"diag-{uuid.uuid4().hex[:8]}",
        batch_max=100,
        probe_every=0.1,
    )
    consumer.start()
    assert consumer.connected.wait(10)
    sender = publisher(mosquitto.port)
    try:
        payload = b"x" * 4000  # about 60 messages a chunk read: batches of that size
        infos = [sender.publish(f"{topics.root}/m/{n}", payload, qos=1) for n in range(1500)]
        for info in infos:
            info.wait_for_publish(10)
        assert wait(lambda: consumer.stats.committed == 1500, timeout=60)
        time.sleep(0.5)  # the probes sent during the backlog are committed too
    finally:
        close(sender)
        consumer.stop()
    stats = consumer.stats
    assert stats.probes >= 3
    assert max(stats.read_lags) < 1.0, "read to commit: about one slow batch"
    assert max(stats.lags) > 2.0, "a probe waited behind the backlog in the broker"


# ---- MQTT 3.1.1, for brokers without MQTT 5 ----------------------------------------------------


def test_mqtt_3_1_1_keeps_the_session_and_acknowledges_only_what_was_stored(mosquitto, topics):
    client_id = f"diag311-{uuid.uuid4().hex[:8]}"
    failing = Collector(fail=True)
    first = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=topics.everything(),
        on_batch=failing,
        client_id=client_id,
        protocol=4,
    )
    first.start()
    assert first.connected.wait(10)
    time.sleep(0.2)
    sent = run_world(mosquitto, topics, hours=1)
    assert wait(lambda: first.error is not None)
    first.stop()
    collector = Collector()
    second = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=topics.everything(),
        on_batch=collector,
        client_id=client_id,
        protocol=4,
    )
    second.start()
    assert wait(lambda: len({m.payload for m in collector.messages()}) >= len(sent))
    second.stop()
    assert {m.payload for m in collector.messages()} >= {m.model_dump_json().encode() for m in sent}


def test_an_unknown_protocol_level_is_refused():
    import pytest  # noqa: PLC0415

    with pytest.raises(ValueError, match="give 5 or 4"):
        Ingest(host="127.0.0.1", port=1, subscription="#", on_batch=print, protocol=3)
