"""A 64 MB message through a real Mosquitto: refused by its size, nothing stalled, nothing held.

On MQTT 5 the ingest's CONNECT says the largest packet it takes and Mosquitto drops the
message for it (and logs so); on 3.1.1 the ingest's reader lets it pass unread, counts it,
acknowledges it and keeps a too_large dead letter. Either way the message published after
it is stored at once, and the reader never held more than its cap. Mosquitto's own
`message_size_limit` is 0 by default (MQTT's 256 MiB), so the publisher's 64 MB is taken.
"""

import socket
import time
import uuid

import pytest

from diagnostics.ingest import Ingest, Received
from diagnostics.ingest_reader import MAX_PACKET
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.messages import Clock
from protocol.mqtt import codec
from protocol.wire import encode
from simlab.broker import MosquittoBroker
from tests.waiting import wait

pytestmark = pytest.mark.broker

HUGE = 64 * 1024 * 1024


class LoudMosquitto(MosquittoBroker):
    """simlab's Mosquitto, logging everything (`log_type all`): each PUBACK it receives."""

    def config(self):
        return super().config() + "log_type all\n"


@pytest.fixture(scope="module")
def loud():
    broker = LoudMosquitto().start()
    yield broker
    broker.remove()


def publish_acknowledged(port, packets):
    """Publish QoS 1 `packets` from a raw socket and wait for the broker's PUBACK of each."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            codec.connect(
                f"big-{uuid.uuid4().hex[:8]}", keepalive=60, clean_start=True, session_expiry=0,
                receive_maximum=10,
            )
        )  # fmt: skip
        for packet in packets:
            sock.sendall(packet)
        control, buf = [], b""
        while len(control) < 1 + len(packets):
            buf += sock.recv(65536)
            buf = buf[codec.parse(buf, Received, 0.0, [], control) :]
        assert [c.kind for c in control[1:]] == [codec.PUBACK] * len(packets)
        sock.sendall(codec.disconnect())


@pytest.mark.parametrize("version", [5, 4], ids=["mqtt5", "mqtt311"])
def test_a_64_mb_message_is_refused_by_size_and_the_next_one_is_stored_at_once(
    loud, topics, tmp_path, version
):
    client_id = f"bounds-{uuid.uuid4().hex[:8]}"
    store = SQLiteStore(tmp_path / "diagnostics.sqlite")
    service = Service(store=store, topics=topics)
    ingest = Ingest(
        host="127.0.0.1",
        port=loud.port,
        subscription=service.subscription,
        on_batch=service.handle,
        client_id=client_id,
        probe_every=0,
        protocol=version,
    )
    ingest.start()
    try:
        assert ingest.connected.wait(10)
        time.sleep(0.2)  # the subscription is acknowledged
        big_topic = topics.telemetry("acme", "collar-0001")
        huge = codec.publish(big_topic, b"x" * HUGE, qos=1, packet_id=1)
        tick = codec.publish(topics.clock(), encode(Clock(t=1_772_409_600.0)), qos=1, packet_id=2)
        publish_acknowledged(loud.port, [huge, tick])
        published = time.monotonic()
        assert wait(lambda: store.messages_count() == 1, timeout=10), "the next one, stored"
        assert time.monotonic() - published < 5, "not stalled behind the huge one"
        stats = ingest.stats
        assert stats.buffer_high_water <= MAX_PACKET, "never more than the cap held"
        if version == 5:
            assert wait(
                lambda: f"Dropping too large outgoing PUBLISH for {client_id}" in loud.log()
            )
            assert stats.oversized == 0, "the broker never sent it"
            assert store.dead_letters(code="too_large") == []
        else:
            size = len(huge) - 1  # as 3.1.1 sends it: no property length byte
            assert wait(lambda: stats.oversized == 1)
            assert stats.oversized_bytes == size
            assert wait(lambda: len(store.dead_letters(code="too_large")) == 1)
            [letter] = store.dead_letters(code="too_large")
            assert (letter.topic, letter.size, letter.payload) == (big_topic, size, b"")
            assert wait(lambda: loud.log().count(f"Received PUBACK from {client_id}") == 2), (
                "the huge one acknowledged too, so it is not sent again"
            )
            assert service.counters.dead["too_large"] == 1
    finally:
        ingest.stop()
        store.close()
