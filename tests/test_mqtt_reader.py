"""The packet reader: reassembly in O(size), oversized packets let pass unheld, any stream.

Packets are written out byte by byte from the MQTT standards (`tests.test_mqtt5`), so the
reader and the encoders cannot agree on a mistake; every stream is cut at arbitrary points.
"""

import contextlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnostics.ingest_records import Received
from protocol.mqtt import codec
from protocol.mqtt.codec import MqttError, ProtocolError
from protocol.mqtt.reader import Reader
from tests.test_mqtt5 import publish_packet, varint

LIMIT = 300


def skipped(topic, size, qos, packet_id, received, retain, dup):
    return ("skipped", topic, size, qos, packet_id, retain, dup)


def reader(limit=LIMIT, version=5):
    return Reader(Received, skipped, limit=limit, version=version)


def feed_all(stream, cuts, *, limit=LIMIT, version=5):
    """Feed `stream` cut before each index of `cuts`; returns (read, control, reader)."""
    found, control, r = [], [], reader(limit, version)
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(stream)}), len(stream)]
    for a, b in itertools.pairwise(bounds):
        r.feed(stream[a:b], 1.0, found, control)
        assert r.held <= limit, "never more than the cap held between chunks"
    return (
        [m if isinstance(m, tuple) else (m.topic, m.payload, m.qos, m.mid) for m in found],
        [c.kind for c in control],
        r,
    )


def publish_311(topic, payload, *, qos=0, packet_id=0):
    """A PUBLISH as MQTT 3.1.1 section 3.3 lays it out (no properties)."""
    body = len(topic).to_bytes(2, "big") + topic + (packet_id.to_bytes(2, "big") if qos else b"")
    return bytes([0x30 | (qos << 1)]) + varint(len(body) + len(payload)) + body + payload


def test_an_oversized_qos1_publish_is_let_pass_its_topic_and_id_kept_in_order():
    big = publish_packet(b"a/big", b"y" * 5000, qos=1, packet_id=0x1234, retain=True)
    stream = (
        publish_packet(b"a/1", b"one", qos=1, packet_id=1)
        + big
        + publish_packet(b"a/2", b"two")
        + b"\xd0\x00"  # PINGRESP
    )
    for step in (1, 2, 3, 7, 64, 4999, len(stream)):
        read, control, r = feed_all(stream, range(0, len(stream), step))
        assert read == [
            ("a/1", b"one", 1, 1),
            ("skipped", "a/big", len(big), 1, 0x1234, True, False),
            ("a/2", b"two", 0, 0),
        ], step
        assert control == [codec.PINGRESP], step
        assert r.high_water <= 30, "nothing of the big one held, only short packets' starts"


def test_the_cap_counts_the_whole_packet_as_mqtt5_maximum_packet_size_does():
    exact = publish_packet(b"a/b", b"x" * (LIMIT - 3 - 6))  # fixed header 3, topic + props 6
    one_more = publish_packet(b"a/b", b"x" * (LIMIT - 3 - 6 + 1))
    assert (len(exact), len(one_more)) == (LIMIT, LIMIT + 1)
    read, _, _ = feed_all(exact + one_more, [])
    assert read == [
        ("a/b", b"x" * (LIMIT - 9), 0, 0),
        ("skipped", "a/b", LIMIT + 1, 0, 0, False, False),
    ]


def test_a_packet_of_311_is_let_pass_with_its_packet_id():
    big = publish_311(b"t/x", b"z" * 1000, qos=1, packet_id=77)
    read, _, _ = feed_all(big + publish_311(b"t/y", b"ok", qos=1, packet_id=78), [5], version=4)
    assert read == [("skipped", "t/x", len(big), 1, 77, False, False), ("t/y", b"ok", 1, 78)]


@pytest.mark.parametrize(
    ("stream", "why"),
    [
        (b"\x90" + varint(LIMIT) + b"\x00" * LIMIT, "packet of type 9"),  # a SUBACK over the cap
        (publish_packet(b"t" * LIMIT, b"x"), "topic alone is longer"),
        (publish_packet(b"", b"x" * LIMIT), "without a topic"),
        (publish_packet(b"\xff\xfe", b"x" * LIMIT), "not UTF-8"),
        (publish_packet(b"a", b"x" * LIMIT, qos=2, packet_id=1), "QoS 2"),
        (b"\x30" + varint(LIMIT) + b"\xff\xff" + b"x" * (LIMIT - 2), "shorter than its topic"),
    ],
)
def test_what_cannot_be_let_pass_is_a_protocol_error_at_any_cut(stream, why):
    for cut in (1, 2, 3, 4, 5, 6, 40):
        with pytest.raises(ProtocolError, match=why):
            feed_all(stream, [cut])


def test_a_packet_in_many_chunks_is_parsed_once_not_again_with_every_chunk(monkeypatch):
    """O(size), not O(size * chunks): the bytes handed to `codec.parse` in all are counted."""
    parsed = []
    real = codec.parse

    def counting(buf, *args):
        start = args[6] if len(args) > 6 else 0
        parsed.append(len(buf) - start)
        return real(buf, *args)

    monkeypatch.setattr(codec, "parse", counting)
    big = publish_packet(b"a/big", b"p" * (4 << 20), qos=1, packet_id=3)  # 4 MiB in 4 KiB reads
    stream = big + publish_packet(b"a/next", b"n")
    read, _, r = feed_all(stream, range(0, len(stream), 4096), limit=8 << 20)
    assert [m[0] for m in read] == ["a/big", "a/next"]
    assert read[0][1] == b"p" * (4 << 20)
    assert sum(parsed) <= 2 * len(stream), f"{sum(parsed):,} bytes parsed for {len(stream):,}"
    assert r.high_water == len(big)


# ---- any stream, cut anywhere ------------------------------------------------------------

topics = st.binary(min_size=1, max_size=12).map(lambda b: b.hex().encode())


@st.composite
def packets(draw, version):
    """(packet bytes, what the reader should make of it, or None for a control packet)."""
    kind = draw(st.sampled_from(["small", "big", "control"]))
    if kind == "control":
        return draw(
            st.sampled_from([b"\xd0\x00", b"\x40\x02\x00\x05", b"\x40\x03\x00\x06\x00"])
        ), None
    topic = draw(topics)
    qos = draw(st.integers(0, 1))
    packet_id = draw(st.integers(1, 65535)) if qos else 0
    size = draw(st.integers(0, 40) if kind == "small" else st.integers(LIMIT, 3 * LIMIT))
    payload = bytes([draw(st.integers(0, 255))]) * size
    if version == 5:
        packet = publish_packet(topic, payload, qos=qos, packet_id=packet_id)
    else:
        packet = publish_311(topic, payload, qos=qos, packet_id=packet_id)
    if len(packet) > LIMIT:
        return packet, ("skipped", topic.decode(), len(packet), qos, packet_id, False, False)
    return packet, (topic.decode(), payload, qos, packet_id)


def cuts(size):
    return st.lists(st.integers(0, size), max_size=30)


@given(st.data(), st.sampled_from([5, 4]))
def test_valid_streams_cut_anywhere_read_the_same_and_hold_at_most_the_cap(data, version):
    drawn = data.draw(st.lists(packets(version), min_size=1, max_size=12))
    stream = b"".join(p for p, _ in drawn)
    read, control, r = feed_all(stream, data.draw(cuts(len(stream))), version=version)
    assert read == [want for _, want in drawn if want is not None]
    assert len(control) == sum(want is None for _, want in drawn)
    assert r.held == 0
    assert r.high_water <= LIMIT


@given(st.data())
def test_any_bytes_cut_anywhere_give_packets_or_a_protocol_error_never_more_than_the_cap(data):
    parts = data.draw(
        st.lists(
            st.one_of(
                packets(5).map(lambda p: p[0]),
                st.binary(max_size=20),  # garbage
                st.tuples(st.integers(0, 255), st.integers(0, 4 * LIMIT)).map(
                    lambda t: bytes([t[0]]) + varint(t[1])  # a header claiming any length
                ),
            ),
            max_size=10,
        )
    )
    stream = b"".join(parts)
    with contextlib.suppress(MqttError):  # ProtocolError is one; nothing else may come out
        feed_all(stream, data.draw(cuts(len(stream))))  # asserts the cap after every chunk


def test_connect_asks_mqtt5_brokers_for_a_maximum_packet_size_and_311_for_nothing():
    packet = codec.connect(
        "c1", keepalive=30, clean_start=False, session_expiry=86400, receive_maximum=65535,
        maximum_packet_size=256 * 1024,
    )  # fmt: skip
    assert packet == (
        b"\x10\x1c"
        b"\x00\x04MQTT\x05\x00\x00\x1e"
        b"\x0d\x11\x00\x01\x51\x80\x21\xff\xff"
        b"\x27\x00\x04\x00\x00"  # maximum packet size (0x27), four-byte integer 262,144
        b"\x00\x02c1"
    )
    old = codec.connect(
        "c1", keepalive=30, clean_start=False, session_expiry=0, receive_maximum=1, version=4,
        maximum_packet_size=1024,
    )  # fmt: skip
    assert b"\x27" not in old
    assert old == bytes((0x10, 14)) + b"\x00\x04MQTT\x04\x00\x00\x1e\x00\x02c1"
