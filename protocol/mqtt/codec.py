"""MQTT packets as bytes, both ways: the encoders a client sends and a parser that reads in bulk.

The one MQTT codec of simlab: the diagnostics ingest subscribes with it and the
simulator's publisher writes its QoS 0 PUBLISH packets with it. `parse` is a
tight loop that turns every complete PUBLISH of a chunk read off a socket into
one object (made by the caller's factory) and sets the few other packets a
client receives (CONNACK, SUBACK, PUBACK of its own publish, PINGRESP,
DISCONNECT) aside; what remains of a packet cut by the chunk's end is read
with the next chunk. The encoders build CONNECT, SUBSCRIBE, PUBLISH (QoS 0/1),
PUBACK, PINGREQ and DISCONNECT, for MQTT 5 or 3.1.1. Nothing else of MQTT is
here: no QoS 2, no topic aliases (the CONNECT asks for none), no AUTH, no Will.

Errors::

    MqttError            anything the broker or the bytes got wrong
    ├── ProtocolError    malformed or unexpected packet: the connection is dropped
    └── RefusedError     a reason code >= 0x80 (CONNACK, SUBACK, DISCONNECT)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "CONNACK",
    "DISCONNECT",
    "PINGREQ",
    "PINGRESP",
    "PUBACK",
    "PUBLISH",
    "SUBACK",
    "ConnAck",
    "Control",
    "MqttError",
    "ProtocolError",
    "RefusedError",
    "connect",
    "disconnect",
    "parse",
    "parse_connack",
    "parse_suback",
    "properties",
    "pubacks",
    "publish",
    "reason_of",
    "subscribe",
    "varint_at",
]

V5: Final = 5
V311: Final = 4
"""Protocol levels: MQTT 5, and 3.1.1 (for brokers without MQTT 5, such as amqtt)."""
CONNECT: Final = 1
CONNACK: Final = 2
PUBLISH: Final = 3
PUBACK: Final = 4
SUBSCRIBE: Final = 8
SUBACK: Final = 9
PINGREQ: Final = 12
PINGRESP: Final = 13
DISCONNECT: Final = 14

_PINGREQ: Final = b"\xc0\x00"
_PUBACK: Final = struct.Struct(">BBH")
_U16: Final = struct.Struct(">H")
_U32: Final = struct.Struct(">I")

# Property identifiers (MQTT 5, 2.2.2.2) and how their values are encoded.
SESSION_EXPIRY: Final = 0x11
SERVER_KEEP_ALIVE: Final = 0x13
REASON_STRING: Final = 0x1F
RECEIVE_MAXIMUM: Final = 0x21
MAXIMUM_PACKET_SIZE: Final = 0x27
_BYTE, _U16_KIND, _U32_KIND, _VARINT, _UTF8, _BINARY, _PAIR = range(7)
_PROPERTY_KIND: Final = {
    0x01: _BYTE,  # payload format indicator
    0x02: _U32_KIND,  # message expiry interval
    0x03: _UTF8,  # content type
    0x08: _UTF8,  # response topic
    0x09: _BINARY,  # correlation data
    0x0B: _VARINT,  # subscription identifier
    0x11: _U32_KIND,  # session expiry interval
    0x12: _UTF8,  # assigned client identifier
    0x13: _U16_KIND,  # server keep alive
    0x15: _UTF8,  # authentication method
    0x16: _BINARY,  # authentication data
    0x1A: _UTF8,  # response information
    0x1C: _UTF8,  # server reference
    0x1F: _UTF8,  # reason string
    0x21: _U16_KIND,  # receive maximum
    0x22: _U16_KIND,  # topic alias maximum
    0x23: _U16_KIND,  # topic alias
    0x24: _BYTE,  # maximum QoS
    0x25: _BYTE,  # retain available
    0x26: _PAIR,  # user property
    0x27: _U32_KIND,  # maximum packet size
    0x28: _BYTE,  # wildcard subscription available
    0x29: _BYTE,  # subscription identifiers available
    0x2A: _BYTE,  # shared subscription available
}


class MqttError(Exception):
    """Something the broker sent, or refused, that ends the connection."""


class ProtocolError(MqttError):
    """A malformed or unexpected packet."""


class RefusedError(MqttError):
    """The broker answered with a failure reason code (>= 0x80)."""

    def __init__(self, what: str, code: int, reason: str = "") -> None:
        self.code = code
        super().__init__(f"{what}: reason code 0x{code:02x}" + (f" ({reason})" if reason else ""))


@dataclass(frozen=True, slots=True)
class Control:
    """A packet other than PUBLISH: its type, the flags of its first byte, its body."""

    kind: int
    flags: int
    body: bytes


@dataclass(frozen=True, slots=True)
class ConnAck:
    """The broker's answer to CONNECT."""

    session_present: bool
    code: int
    props: dict[int, object] = field(default_factory=dict)


# ---- encoding -------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return _U16.pack(len(raw)) + raw


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + _varint(len(body)) + body


def connect(  # noqa: PLR0913 - each is a field of the CONNECT
    client_id: str,
    *,
    keepalive: int,
    clean_start: bool,
    session_expiry: int,
    receive_maximum: int,
    username: str | None = None,
    password: str | None = None,
    version: int = 5,
    maximum_packet_size: int | None = None,
) -> bytes:
    """CONNECT, MQTT 5 with session expiry and Receive Maximum (or 3.1.1: `version=4`).

    In 3.1.1 a session without a clean start lasts as long as the broker keeps it; it has
    no properties, so `session_expiry` and `receive_maximum` are the broker's to set.
    `maximum_packet_size` (MQTT 5 only; None: not sent, no limit) is the largest whole
    packet the broker may send: it drops a larger message for this client instead.
    """
    flags = (0x02 if clean_start else 0) | (0x80 if username is not None else 0)
    flags |= 0x40 if password is not None else 0
    props = (
        bytes((SESSION_EXPIRY,))
        + _U32.pack(session_expiry)
        + bytes((RECEIVE_MAXIMUM,))
        + _U16.pack(receive_maximum)
    )
    if maximum_packet_size is not None:
        props += bytes((MAXIMUM_PACKET_SIZE,)) + _U32.pack(maximum_packet_size)
    body = _utf8("MQTT") + bytes((version, flags)) + _U16.pack(keepalive)
    if version == V5:
        body += _varint(len(props)) + props
    body += _utf8(client_id)
    if username is not None:
        body += _utf8(username)
    if password is not None:
        raw = password.encode()
        body += _U16.pack(len(raw)) + raw
    return _packet(CONNECT << 4, body)


def subscribe(packet_id: int, filters: Sequence[tuple[str, int]], version: int = 5) -> bytes:
    """SUBSCRIBE to each (filter, QoS); retained messages are sent, the retain flag kept as is."""
    body = _U16.pack(packet_id) + (b"\x00" if version == V5 else b"")
    for topic_filter, qos in filters:
        body += _utf8(topic_filter) + bytes((qos,))
    return _packet((SUBSCRIBE << 4) | 0x02, body)


def publish(
    topic: str,
    payload: bytes,
    *,
    qos: int = 0,
    packet_id: int = 0,
    retain: bool = False,
    version: int = 5,
) -> bytes:
    """PUBLISH at QoS 0 or 1, no properties (MQTT 5 § 3.3, MQTT 3.1.1 § 3.3).

    The publisher builds its QoS 0 packets here rather than in paho, which spends more
    time per QoS 0 message than the publisher's whole budget (a message-info object with
    locks, a callback, one send each).
    """
    name = topic.encode()
    packet = _U16.pack(packet_id) if qos else b""
    props = b"\x00" if version == V5 else b""
    size = 2 + len(name) + len(packet) + len(props) + len(payload)
    header = bytearray(((PUBLISH << 4) | (qos << 1) | (1 if retain else 0),))
    while True:  # the remaining length, inline: this runs for every QoS 0 message
        byte, size = size & 0x7F, size >> 7
        header.append(byte | 0x80 if size else byte)
        if not size:
            break
    return bytes(header) + _U16.pack(len(name)) + name + packet + props + payload


def pubacks(packet_ids: Sequence[int]) -> bytes:
    """One PUBACK (success, no reason code) per packet id, concatenated."""
    pack = _PUBACK.pack
    return b"".join([pack(0x40, 2, i) for i in packet_ids])


def pingreq() -> bytes:
    """PINGREQ."""
    return _PINGREQ


def disconnect(code: int = 0, version: int = 5) -> bytes:
    """DISCONNECT with a reason code (0: normal; the session stays for its expiry)."""
    if version != V5:
        return bytes((DISCONNECT << 4, 0))
    return bytes((DISCONNECT << 4, 1, code))


# ---- decoding -------------------------------------------------------------------------------

T = TypeVar("T")
NO_LIMIT: Final = 1 << 62
"""`parse`'s packet size limit when none is given: any MQTT packet (at most 256 MiB) is read."""


def parse(  # noqa: C901, PLR0912, PLR0915 - the hot loop: a call per message would cost
    buf: bytes,
    make: Callable[[str, bytes, int, int, float, bool, bool], T],
    received: float,
    publishes: list[T],
    control: list[Control],
    version: int = 5,
    limit: int = NO_LIMIT,
    start: int = 0,
) -> int:
    """Read every complete packet of `buf` from `start`; returns the index after the last.

    Each PUBLISH becomes `make(topic, payload, qos, packet_id, received, retain, dup)`
    appended to `publishes` (packet_id 0 at QoS 0; `received` is passed through: when
    the chunk was read); any other packet is appended to `control`. It stops before a
    packet cut off by the end of `buf`, and before one of more than `limit` bytes in all
    (fixed header included, as MQTT 5's Maximum Packet Size counts): the caller tells
    which from the header there (`protocol.mqtt.reader` lets an oversized one pass unread).
    Raises ProtocolError for a malformed PUBLISH (QoS 3 or 2, an empty topic, bad UTF-8).
    """
    n = len(buf)
    i = start
    append = publishes.append
    v5 = version == V5
    while n - i >= 2:
        first = buf[i]
        size = buf[i + 1]
        j = i + 2
        if size & 0x80:  # the remaining length takes more than one byte
            size &= 0x7F
            shift = 7
            while True:
                if j >= n:
                    return i
                byte = buf[j]
                j += 1
                size |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("a remaining length longer than 4 bytes")
        end = j + size
        if end > n or end - i > limit:
            return i
        if first >> 4 == PUBLISH:
            if size < 3:
                raise ProtocolError("a PUBLISH shorter than its topic")
            qos = (first >> 1) & 3
            k = j + 2 + ((buf[j] << 8) | buf[j + 1])
            try:
                topic = buf[j + 2 : k].decode()
            except UnicodeDecodeError:
                raise ProtocolError("a PUBLISH topic that is not UTF-8") from None
            if k + (2 if qos else 0) + v5 > end:  # 3.1.1 has no property length to read
                raise ProtocolError("a PUBLISH shorter than its topic")
            packet_id = 0
            if qos:
                if qos > 1:
                    raise ProtocolError(f"a PUBLISH at QoS {qos}; QoS 1 was subscribed")
                packet_id = (buf[k] << 8) | buf[k + 1]
                k += 2
            if v5:
                props = buf[k]
                k += 1
                if props & 0x80:
                    k, props = _read_varint(buf, k - 1)
                k += props
            if not topic or k > end:
                raise ProtocolError("a PUBLISH without a topic (no alias was allowed) or too short")
            append(
                make(topic, buf[k:end], qos, packet_id, received, bool(first & 1), first & 8 > 0)
            )
        else:
            control.append(Control(first >> 4, first & 0x0F, buf[j:end]))
        i = end
    return i


def varint_at(
    buf: bytes | bytearray, i: int, what: str = "a variable byte integer"
) -> tuple[int, int] | None:
    """The variable byte integer at `i`: (index after it, value); None while cut off."""
    value = 0
    for shift in (0, 7, 14, 21):
        if i >= len(buf):
            return None
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return i, value
    raise ProtocolError(f"{what} longer than 4 bytes")


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    """The variable byte integer at `i`: (index after it, value)."""
    if (found := varint_at(buf, i)) is None:
        raise ProtocolError("a variable byte integer runs past its packet")
    return found


def properties(body: bytes, i: int) -> tuple[int, dict[int, object]]:
    """The property list at `i` of a packet body: (index after it, {id: value}).

    A repeated property (user properties) keeps its last value. ProtocolError for a
    list cut short or a property unknown to MQTT 5.
    """
    try:
        return _properties(body, i)
    except (struct.error, IndexError):
        raise ProtocolError("properties cut short") from None


def _properties(body: bytes, i: int) -> tuple[int, dict[int, object]]:
    i, length = _read_varint(body, i)
    end = i + length
    found: dict[int, object] = {}
    while i < end:
        ident = body[i]
        kind = _PROPERTY_KIND.get(ident)
        i += 1
        value: object
        if kind == _BYTE:
            value, i = body[i], i + 1
        elif kind == _U16_KIND:
            value, i = _U16.unpack_from(body, i)[0], i + 2
        elif kind == _U32_KIND:
            value, i = _U32.unpack_from(body, i)[0], i + 4
        elif kind == _VARINT:
            i, value = _read_varint(body, i)
        elif kind in {_UTF8, _BINARY}:
            size = _U16.unpack_from(body, i)[0]
            raw = body[i + 2 : i + 2 + size]
            value, i = (raw.decode(errors="replace") if kind == _UTF8 else raw), i + 2 + size
        elif kind == _PAIR:
            i, key = _string(body, i)
            i, text = _string(body, i)
            value = (key, text)
        else:
            raise ProtocolError(f"unknown property 0x{ident:02x}")
        found[ident] = value
    if i != end:
        raise ProtocolError("properties run past their length")
    return end, found


def _string(body: bytes, i: int) -> tuple[int, str]:
    size = _U16.unpack_from(body, i)[0]
    return i + 2 + size, body[i + 2 : i + 2 + size].decode(errors="replace")


def parse_connack(packet: Control, version: int = 5) -> ConnAck:
    """CONNACK's session-present flag, reason code and properties.

    A 3.1.1 refusal (return codes 1-5) comes back as 0x80 + its code, so `code >= 0x80`
    means refused in both versions.
    """
    if packet.kind != CONNACK or len(packet.body) < 2:
        raise ProtocolError(f"expected CONNACK, got packet type {packet.kind}")
    if version != V5:
        code = packet.body[1]
        return ConnAck(bool(packet.body[0] & 1), 0x80 + code if code else 0)
    props = properties(packet.body, 2)[1] if len(packet.body) > 2 else {}
    return ConnAck(bool(packet.body[0] & 1), packet.body[1], props)


def parse_suback(packet: Control, version: int = 5) -> tuple[int, list[int]]:
    """SUBACK's packet id and one reason code per filter (0-2: the QoS granted)."""
    if len(packet.body) < 3:
        raise ProtocolError("a SUBACK too short")
    end = properties(packet.body, 2)[0] if version == V5 else 2
    return _U16.unpack_from(packet.body, 0)[0], list(packet.body[end:])


def reason_of(packet: Control) -> tuple[int, str]:
    """A DISCONNECT's (or PUBACK's) reason code and reason string (0 and "" when absent)."""
    body = packet.body
    offset = 2 if packet.kind == PUBACK else 0
    if len(body) <= offset:
        return 0, ""
    code = body[offset]
    props = properties(body, offset + 1)[1] if len(body) > offset + 1 else {}
    return code, str(props.get(REASON_STRING, ""))
