"""MQTT ingest against a real Mosquitto: QoS 1 acknowledged only after the batch is stored."""

import threading
import time
import uuid

from diagnostics.ingest import Ingest
from simulator.transport.publisher import MqttSink
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import collars, world


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


def wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


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
