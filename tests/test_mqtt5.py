"""The MQTT 5 packets of the ingest: built by hand per the spec, parsed back; and a real Mosquitto.

The packets under test are written out byte by byte from the MQTT 5.0 standard (not made
with the encoders they check), so an encoder and the parser cannot agree on a mistake.
"""

import socket
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from diagnostics.ingest import Received
from protocol.mqtt import codec as mqtt5


def parse_all(buf):
    publishes, control = [], []
    used = mqtt5.parse(buf, Received, 12.5, publishes, control)
    return used, publishes, control


def publish_packet(topic, payload, *, qos=0, packet_id=0, retain=False, dup=False, props=b""):
    """A PUBLISH as MQTT 5.0 section 3.3 lays it out."""
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += packet_id.to_bytes(2, "big")
    body += varint(len(props)) + props + payload
    first = 0x30 | (qos << 1) | (0x08 if dup else 0) | (0x01 if retain else 0)
    return bytes([first]) + varint(len(body)) + body


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_a_qos1_publish_with_flags_and_properties_is_read_whole():
    props = (
        b"\x01\x01"  # payload format indicator: UTF-8
        b"\x02\x00\x00\x0e\x10"  # message expiry: 3600 s
        b"\x03\x00\x10application/json"  # content type
        b"\x26\x00\x03key\x00\x05value"  # user property
    )
    packet = publish_packet(
        b"simlab/v1/acme/sim/89/events",
        b'{"v":1}',
        qos=1,
        packet_id=0xBEEF,
        retain=True,
        dup=True,
        props=props,
    )
    used, publishes, control = parse_all(packet)
    assert used == len(packet)
    assert control == []
    assert publishes == [
        Received("simlab/v1/acme/sim/89/events", b'{"v":1}', 1, 0xBEEF, 12.5, retain=True, dup=True)
    ]


def test_a_qos0_publish_has_no_packet_id_and_long_ones_take_more_length_bytes():
    small = publish_packet(b"a/b", b"x")
    big_payload = bytes(range(256)) * 1000  # 256,000 bytes: a 3-byte remaining length
    big = publish_packet(b"a/c", big_payload)
    assert [bool(b & 0x80) for b in big[1:4]] == [True, True, False]
    used, publishes, _ = parse_all(small + big)
    assert used == len(small) + len(big)
    assert [(m.topic, m.payload, m.qos, m.mid, m.retain, m.dup) for m in publishes] == [
        ("a/b", b"x", 0, 0, False, False),
        ("a/c", big_payload, 0, 0, False, False),
    ]


def test_a_long_property_list_takes_more_length_bytes():
    props = b"\x26\x00\x01k\x00\xc8" + b"v" * 200  # one user property of 206 bytes
    packet = publish_packet(b"a/b", b"payload", qos=1, packet_id=7, props=props)
    assert packet.find(b"\xce\x01") > 0, "the property length is 2 bytes"
    _, publishes, _ = parse_all(packet)
    assert [(m.payload, m.mid) for m in publishes] == [(b"payload", 7)]


def test_packets_cut_anywhere_are_read_when_the_rest_comes():
    stream = (
        publish_packet(b"t/1", b"one", qos=1, packet_id=1)
        + b"\xd0\x00"  # PINGRESP
        + publish_packet(b"t/2", b"two" * 100, props=b"\x01\x00")
        + b"\x40\x03\x00\x02\x00"  # PUBACK of packet 2, success, no properties
    )
    for cut in range(1, len(stream)):
        publishes, control = [], []
        used = mqtt5.parse(stream[:cut], Received, 0.0, publishes, control)
        rest = stream[used:cut] + stream[cut:]
        used2 = mqtt5.parse(rest, Received, 0.0, publishes, control)
        assert used2 == len(rest), cut
        assert [m.payload for m in publishes] == [b"one", b"two" * 100], cut
        assert [c.kind for c in control] == [mqtt5.PINGRESP, mqtt5.PUBACK], cut


def test_control_packets_are_read_with_their_reason_codes_and_properties():
    connack = b"\x20\x09\x01\x00\x06\x21\x00\x14\x13\x00\x0a"  # session present, RM 20, KA 10
    suback = b"\x90\x05\x00\x01\x00\x01\x80"  # id 1, no props, QoS 1 granted, then refused
    disconnect = b"\xe0\x0b\x8e\x09\x1f\x00\x06takeov"  # session taken over, reason string
    _, publishes, control = parse_all(connack + suback + disconnect)
    assert publishes == []
    ack = mqtt5.parse_connack(control[0])
    assert ack.session_present
    assert ack.code == 0
    assert ack.props == {mqtt5.RECEIVE_MAXIMUM: 20, mqtt5.SERVER_KEEP_ALIVE: 10}
    assert mqtt5.parse_suback(control[1]) == (1, [1, 0x80])
    assert mqtt5.reason_of(control[2]) == (0x8E, "takeov")


@pytest.mark.parametrize(
    "connack",
    [b"\x20\x05\x00\x00\x03\x21\x00", b"\x20\x04\x00\x00\x02\x99\x00"],
)
def test_a_broken_connack_is_a_protocol_error(connack):
    _, _, control = parse_all(connack)
    with pytest.raises(mqtt5.ProtocolError, match=r"cut short|unknown property"):
        mqtt5.parse_connack(control[0])


@pytest.mark.parametrize(
    ("packet", "why"),
    [
        (publish_packet(b"a", b"x", qos=2, packet_id=1), "QoS 2"),
        (b"\x36\x06\x00\x01a\x00\x01\x00", "QoS 3"),
        (publish_packet(b"", b"x"), "without a topic"),
        (publish_packet(b"\xff\xfe", b"x"), "not UTF-8"),
        (b"\x30\x03\x00\x09a", "shorter than its topic"),
        (b"\x30\x01\x00", "shorter than its topic"),
        (b"\x30\x00", "shorter than its topic"),
        (b"\x30\xff\xff\xff\xff\x01", "longer than 4 bytes"),
    ],
)
def test_malformed_publishes_are_protocol_errors(packet, why):
    for tail in (b"", b"\x00" * 8):  # at the end of a chunk, or with more after it
        with pytest.raises(mqtt5.ProtocolError, match=why):
            parse_all(packet + tail)


def test_the_encoders_write_what_the_standard_says():
    assert mqtt5.connect(
        "c1", keepalive=30, clean_start=False, session_expiry=86400, receive_maximum=65535
    ) == (
        b"\x10\x17"
        b"\x00\x04MQTT\x05"
        b"\x00"  # flags: no clean start, no user name, no password
        b"\x00\x1e"  # keepalive 30
        b"\x08\x11\x00\x01\x51\x80\x21\xff\xff"  # session expiry 86400, receive max 65535
        b"\x00\x02c1"
    )
    with_login = mqtt5.connect(
        "c", keepalive=5, clean_start=True, session_expiry=0, receive_maximum=1,
        username="u", password="p",  # noqa: S106 - a test value
    )  # fmt: skip
    assert with_login[9] == 0xC2, "user name, password and clean start flags"
    assert with_login.endswith(b"\x00\x01c\x00\x01u\x00\x01p")
    assert mqtt5.subscribe(1, [("a/#", 1), ("p", 1)]) == (
        b"\x82\x0d\x00\x01\x00\x00\x03a/#\x01\x00\x01p\x01"
    )
    assert mqtt5.pubacks([1, 0x1234]) == b"\x40\x02\x00\x01\x40\x02\x12\x34"
    assert mqtt5.pubacks([]) == b""
    assert mqtt5.publish("p/x", b"1.5", qos=1, packet_id=2) == b"\x32\x0b\x00\x03p/x\x00\x02\x001.5"
    assert mqtt5.pingreq() == b"\xc0\x00"
    assert mqtt5.disconnect() == b"\xe0\x01\x00"


def test_the_publishers_qos0_packets_are_what_the_standard_says():
    """The simulator writes its QoS 0 messages with `publish`: retained or not, 5 or 3.1.1."""
    assert mqtt5.publish("t/1", b"{}", retain=True) == b"\x31\x08\x00\x03t/1\x00{}"
    assert mqtt5.publish("t/1", b"{}", version=4) == b"\x30\x07\x00\x03t/1{}"
    long = b"x" * 200  # remaining length 206: two bytes, 0xce 0x01
    assert mqtt5.publish("t/1", long) == b"\x30\xce\x01\x00\x03t/1\x00" + long
    assert mqtt5.publish("t/1", long, retain=True) == publish_packet(b"t/1", long, retain=True)


# ---- against a real Mosquitto ---------------------------------------------------------------


def read_until(sock, want, publishes, timeout=10.0):
    """Read and parse until `want(control)` holds; returns the control packets."""
    control, buf = [], b""
    deadline = time.monotonic() + timeout
    while not want(control):
        assert time.monotonic() < deadline, f"timed out with {control}"
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        buf += sock.recv(65536)
        buf = buf[mqtt5.parse(buf, Received, time.time(), publishes, control) :]
    return control


def test_mosquitto_speaks_with_the_encoders_and_the_parser_reads_what_paho_publishes(mosquitto):
    client_id = f"codec-{uuid.uuid4().hex[:8]}"
    topic = f"codec-{uuid.uuid4().hex[:8]}"
    with socket.create_connection(("127.0.0.1", mosquitto.port), timeout=10) as sock:
        sock.sendall(
            mqtt5.connect(
                client_id,
                keepalive=30,
                clean_start=True,
                session_expiry=60,
                receive_maximum=100,
            )
        )
        publishes = []
        (connack,) = read_until(sock, lambda c: c, publishes)
        ack = mqtt5.parse_connack(connack)
        assert (ack.code, ack.session_present) == (0, False)
        sock.sendall(mqtt5.subscribe(1, [(f"{topic}/#", 1)]))
        control = read_until(sock, lambda c: c, publishes)
        assert mqtt5.parse_suback(control[0]) == (1, [1])

        paho = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        paho.connect("127.0.0.1", mosquitto.port)
        paho.loop_start()
        try:
            props = Properties(PacketTypes.PUBLISH)
            props.ContentType = "application/json"
            props.UserProperty = [("site", "Maasai Mara")]
            props.MessageExpiryInterval = 600
            paho.publish(f"{topic}/a", b'{"n":1}', qos=1, properties=props).wait_for_publish(5)
            paho.publish(f"{topic}/b", b"two", qos=0).wait_for_publish(5)
            paho.publish(f"{topic}/r", b"kept", qos=1, retain=True).wait_for_publish(5)
            read_until(sock, lambda _c: len(publishes) >= 3, publishes)
        finally:
            paho.loop_stop()
            paho.disconnect()
        assert [(m.topic, m.payload, m.qos, m.retain, m.dup) for m in publishes] == [
            (f"{topic}/a", b'{"n":1}', 1, False, False),
            (f"{topic}/b", b"two", 0, False, False),
            (f"{topic}/r", b"kept", 1, False, False),  # live, so not flagged retained
        ]
        assert publishes[0].mid != 0
        sock.sendall(mqtt5.pubacks([m.mid for m in publishes if m.qos]))
        sock.sendall(mqtt5.pingreq())
        control = read_until(sock, lambda c: c, publishes)
        assert [c.kind for c in control] == [mqtt5.PINGRESP]
        # our own QoS 1 publish comes back through the subscription, acknowledged
        sock.sendall(mqtt5.publish(f"{topic}/self", b"me", qos=1, packet_id=9))
        control = read_until(sock, lambda c: c and len(publishes) >= 4, publishes)
        assert [(c.kind, c.body[:2]) for c in control] == [(mqtt5.PUBACK, b"\x00\x09")]
        assert publishes[3].payload == b"me"
        sock.sendall(mqtt5.disconnect())

    # the retained message comes flagged when a new subscriber subscribes
    with socket.create_connection(("127.0.0.1", mosquitto.port), timeout=10) as sock:
        sock.sendall(
            mqtt5.connect(
                client_id + "x", keepalive=30, clean_start=True, session_expiry=0,
                receive_maximum=10,
            )
        )  # fmt: skip
        publishes = []
        read_until(sock, lambda c: c, publishes)
        sock.sendall(mqtt5.subscribe(1, [(f"{topic}/r", 1)]))
        read_until(sock, lambda _c: publishes, publishes)
        assert [(m.payload, m.retain) for m in publishes] == [(b"kept", True)]
        sock.sendall(mqtt5.disconnect())


def test_mqtt_3_1_1_packets_have_no_properties():
    # PUBLISH QoS 1: topic "a/b", packet id 7, then the payload at once (no property length)
    packet = bytes((0x32, 2 + 3 + 2 + 2)) + b"\x00\x03a/b" + b"\x00\x07" + b"hi"
    publishes, control = [], []
    assert mqtt5.parse(packet, Received, 1.0, publishes, control, 4) == len(packet)
    [message] = publishes
    assert (message.topic, message.payload, message.qos, message.mid) == ("a/b", b"hi", 1, 7)
    # read as MQTT 5, the first payload byte would be taken for a property length
    assert (
        mqtt5.connect(
            "c", keepalive=30, clean_start=False, session_expiry=60, receive_maximum=10, version=4
        )
        == bytes((0x10, 13)) + b"\x00\x04MQTT" + bytes((4, 0)) + b"\x00\x1e" + b"\x00\x01c"
    )
    assert mqtt5.subscribe(1, [("x/#", 1)], 4) == bytes((0x82, 8)) + b"\x00\x01\x00\x03x/#\x01"
    assert mqtt5.disconnect(version=4) == b"\xe0\x00"
    refused = mqtt5.parse_connack(mqtt5.Control(mqtt5.CONNACK, 0, b"\x00\x05"), 4)
    assert refused.code == 0x85, "3.1.1 refusal 5 (not authorised) reads as >= 0x80"
    ok = mqtt5.parse_connack(mqtt5.Control(mqtt5.CONNACK, 0, b"\x01\x00"), 4)
    assert (ok.session_present, ok.code) == (True, 0)
    assert mqtt5.parse_suback(mqtt5.Control(mqtt5.SUBACK, 0, b"\x00\x01\x01\x80"), 4) == (
        1,
        [1, 0x80],
    )


def test_an_mqtt_3_1_1_publish_may_have_an_empty_payload():
    """3.1.1 has no property length after the topic: nothing at all may follow it (or the id)."""
    qos0 = b"\x30\x05\x00\x03a/b"
    qos1 = b"\x32\x07\x00\x03a/c\x00\x09"
    publishes, control = [], []
    assert mqtt5.parse(qos0 + qos1, Received, 1.0, publishes, control, 4) == len(qos0 + qos1)
    assert [(m.topic, m.payload, m.qos, m.mid) for m in publishes] == [
        ("a/b", b"", 0, 0),
        ("a/c", b"", 1, 9),
    ]
    with pytest.raises(mqtt5.ProtocolError, match="shorter than its topic"):
        parse_all(qos0)  # as MQTT 5, the property length is missing
