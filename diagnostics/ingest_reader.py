"""The ingest's side of one connection: its state, how it reads, the size cap, and its writes.

The ingest reads the socket 256 KiB at a time (`CHUNK`) and hands each chunk to
a `protocol.mqtt.reader.Reader`: packets whole in the chunk are sliced out of it
in one loop (`codec.parse`); a packet the chunk cuts off is kept, with its
length, in a bytearray the next chunks are appended to until it is whole, then
parsed once, so a large packet costs O(size) however many chunks bring it.

No packet larger than `max_packet` bytes (`Settings.max_packet_bytes`, 256 KiB
by default; fixed header included) is ever held. On MQTT 5 the CONNECT says so
(Maximum Packet Size) and the broker drops a larger message for this client
before sending it: Mosquitto 2.0 logs "Dropping too large outgoing PUBLISH for
<client id> (<n> bytes)" (shown with the default `log_type`s: error, warning,
notice) and counts it nowhere in `$SYS` (`publish/messages/dropped` stays 0);
the service never sees it. On MQTT 3.1.1 (no such property), and as a defence
on 5, the reader lets such a packet pass as it streams by: from its fixed header
it knows the size, keeps only the topic and packet id of its first bytes, skips
exactly the rest across as many chunks as it takes, and goes on with the next
packet. The message is lost by design, and never silently: it is counted
(`IngestStats.oversized`, `oversized_bytes`: /metrics and /health), logged, and
handed to the service as an `Oversized` in its place in the batch, which the
service keeps as a `too_large` dead letter (topic, size, no payload); a QoS 1
one is acknowledged with its batch, so the broker does not send it again
forever. A topic longer than the cap itself, or a control packet larger than
it, drops the connection (ProtocolError): that is a broken stream, not a
message. `IngestStats.buffer_high_water` is the most the reader held.

Why not paho-mqtt (or aiomqtt): both spend tens of microseconds of Python on
every message, on a core the service needs for decoding and storing. Measured
with `benchmarks/ingest.py` on this 2-core machine: a bare paho-mqtt 2.2
subscriber that only `json.loads` each payload took 9,900-13,000 msg/s, and
the service on paho (its network thread queueing to a committer thread)
ingested 5,000-7,900 msg/s; paho's thread cost more than decoding and storing
together: one `select` and four `recv` calls per packet, and a `Properties`
object built for every PUBLISH. aiomqtt sits on paho, and acknowledges QoS 1
on arrival, before the message is stored. With this reader (256 KiB per
`recv`, packets sliced out in one loop: a few percent of the thread's time in
the benchmark's profile) and larger batches, the service took 18,000-23,000
msg/s under a publisher offering 29,000-36,000, and, paced at 20,000-24,000
(`--rate`), kept its lag flat when nothing else ran on its core.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.ingest_records import IngestStats, Oversized, Received
from protocol.mqtt.reader import Reader

if TYPE_CHECKING:
    import socket

__all__ = ["CHUNK", "MAX_PACKET", "SEND_TIMEOUT_S", "Link", "link_reader", "send"]

log = logging.getLogger("simlab.ingest")
CHUNK: Final = 256 * 1024
"""Bytes asked of the socket at a time (about 700 messages of a few hundred bytes)."""
MAX_PACKET: Final = 256 * 1024
"""The largest packet read, fixed header included (`Settings.max_packet_bytes`)."""
SEND_TIMEOUT_S: Final = 30.0


@dataclass(slots=True)
class Link:
    """The state of one connection."""

    sock: socket.socket
    started: float
    keepalive: float
    """Seconds; the broker may set it in its CONNACK (0: no keepalive)."""
    reader: Reader[Received]
    """Reassembles packets cut by the chunks, lets oversized ones pass (see the module)."""
    connack: bool = False
    pinged: float = 0.0
    """When the latest PINGREQ went out (monotonic)."""
    quiet: bool = False
    """The latest read found nothing: every answer the broker sent has been read."""
    probe_at: float = 0.0
    first_at: float = 0.0
    """When the pending batch's first message was read (monotonic)."""


def link_reader(*, stats: IngestStats, limit: int, version: int) -> Reader[Received]:
    """A connection's reader: a packet over `limit` comes as an `Oversized`, counted in `stats`."""

    def oversized(
        topic: str, size: int, qos: int, mid: int, received: float, retain: bool, dup: bool
    ) -> Received:
        stats.oversized += 1
        stats.oversized_bytes += size
        log.warning("a message of %d bytes on %s, more than %d: not read", size, topic, limit)
        return Oversized(topic, b"", qos, mid, received, retain, dup, size, limit)

    return Reader(Received, oversized, limit=limit, version=version)


def send(sock: socket.socket, data: bytes) -> None:
    """Write all of `data`; the socket's short read timeout must not cut a packet in two."""
    sock.settimeout(SEND_TIMEOUT_S)
    sock.sendall(data)
