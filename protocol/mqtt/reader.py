"""Packets out of a stream read in chunks, in bounded memory: reassembly and a size cap.

`Reader.feed` takes each chunk read off the socket. Packets whole in the chunk go
through `codec.parse` straight from it (the hot path: nothing is copied for them).
A packet the chunk cuts off is kept in a bytearray together with its length from
the fixed header, and the next chunks are only appended until it is whole; it is
then parsed once. A packet arriving in N chunks costs O(size), not O(size * N) as
re-joining the unfinished tail to every chunk did.

A packet larger than `limit` bytes in all (the cap; MQTT 5's Maximum Packet Size
counts the same bytes) is never held: as soon as its fixed header is read, the
reader lets exactly that many bytes pass, across as many chunks as it takes, and
carries on with the next packet. Of an oversized PUBLISH it keeps only its first
bytes, the topic and packet id, and hands them to `skipped(topic, size, qos,
packet_id, received, retain, dup)` in its place among the PUBLISHes (so a QoS 1 one
can still be acknowledged, in order). A topic longer than the cap itself, or a
control packet (CONNACK, SUBACK, ...) larger than the cap, is a `ProtocolError`:
that is no message to skip but a broken or hostile stream. So the reader holds at
most `limit` bytes between chunks (`high_water`), whatever comes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Generic, TypeVar

from protocol.mqtt import codec
from protocol.mqtt.codec import PUBLISH, ProtocolError, varint_at

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Reader"]

T = TypeVar("T")
_NO_HEAD: Final = -1


def _header(buf: bytes | bytearray, i: int) -> tuple[int, int] | None:
    """The fixed header at `i`: (its length, the remaining length); None while cut off."""
    found = varint_at(buf, i + 1, "a remaining length")
    return None if found is None else (found[0] - i, found[1])


class Reader(Generic[T]):
    """One connection's packet reader (a new connection takes a new one)."""

    def __init__(
        self,
        make: Callable[[str, bytes, int, int, float, bool, bool], T],
        skipped: Callable[[str, int, int, int, float, bool, bool], T],
        *,
        limit: int,
        version: int = 5,
    ) -> None:
        if limit < 2:
            raise ValueError(f"a packet size limit of {limit} bytes: give at least 2")
        self.make, self.skipped = make, skipped
        self.limit = limit
        self.version = version
        self.high_water = 0
        """The most bytes this reader held between chunks."""
        self._tail = bytearray()
        """The start of a packet the last chunk cut off."""
        self._need = 0
        """The whole size of that packet (0: its fixed header is cut off too)."""
        self._left = 0
        """Bytes of an oversized packet's body still to let pass (0: none is passing)."""
        self._first = 0
        self._size = 0
        self._want = _NO_HEAD
        """Bytes of the oversized PUBLISH's body to keep, for its topic and packet id."""
        self._head = bytearray()
        self._found: tuple[str, int, int] | None = None
        """The passing PUBLISH's (topic, QoS, packet id), once read."""

    @property
    def held(self) -> int:
        """Bytes held now, of a cut-off packet or an oversized one's start."""
        return len(self._tail) + len(self._head)

    def feed(
        self, data: bytes, received: float, publishes: list[T], control: list[codec.Control]
    ) -> None:
        """Read `data`, the next chunk: whole packets are appended, the rest kept or let pass."""
        at = self._pass(data, 0, received, publishes) if self._left else 0
        if self._tail and at < len(data):
            if self._need:
                at = self._complete(data, at, received, publishes, control)
            else:  # the header was cut off too: those few bytes go first, with the chunk
                data, at, self._tail = bytes(self._tail) + data[at:], 0, bytearray()
        limit, version, make = self.limit, self.version, self.make
        n = len(data)
        while at < n:
            at = codec.parse(data, make, received, publishes, control, version, limit, at)
            if at == n:
                break
            header = _header(data, at)
            if header is None or header[0] + header[1] <= limit:  # cut off by the chunk's end
                self._tail += memoryview(data)[at:]
                self._need = 0 if header is None else header[0] + header[1]
                break
            self._start_passing(data[at], header)
            at = self._pass(data, at + header[0], received, publishes)
        self.high_water = max(self.high_water, self.held)

    def _complete(
        self,
        data: bytes,
        at: int,
        received: float,
        publishes: list[T],
        control: list[codec.Control],
    ) -> int:
        """Add to the cut-off packet; parse it once whole. Returns where `data` goes on."""
        tail = self._tail
        missing = self._need - len(tail)
        if len(data) - at < missing:
            tail += memoryview(data)[at:]
            return len(data)
        tail += memoryview(data)[at : at + missing]
        self.high_water = max(self.high_water, len(tail))
        packet, self._tail, self._need = bytes(tail), bytearray(), 0
        codec.parse(packet, self.make, received, publishes, control, self.version)
        return at + missing

    def _start_passing(self, first: int, header: tuple[int, int]) -> None:
        if first >> 4 != PUBLISH:
            raise ProtocolError(
                f"a packet of type {first >> 4} and {sum(header)} bytes, more than "
                f"the {self.limit} allowed"
            )
        qos = (first >> 1) & 3
        if qos > 1:
            raise ProtocolError(f"a PUBLISH at QoS {qos}; QoS 1 was subscribed")
        self._first, self._size, self._left = first, sum(header), header[1]
        self._want, self._found = 2, None

    def _pass(self, data: bytes, at: int, received: float, publishes: list[T]) -> int:
        """Let an oversized packet's body pass, keeping its start; returns where it ends."""
        while self._want != _NO_HEAD:
            got = min(self._want - len(self._head), len(data) - at)
            self._head += memoryview(data)[at : at + got]
            at += got
            self._left -= got
            if len(self._head) < self._want:
                return at  # the chunk ended within the start
            self._read_head()
        step = min(self._left, len(data) - at)
        at += step
        self._left -= step
        if not self._left:
            assert self._found is not None
            topic, qos, packet_id = self._found
            first = self._first
            publishes.append(
                self.skipped(
                    topic, self._size, qos, packet_id, received, bool(first & 1), first & 8 > 0
                )
            )
            self._found = None
        return at

    def _read_head(self) -> None:
        """The topic length once 2 bytes are in, then the topic and packet id."""
        head = self._head
        qos = (self._first >> 1) & 3
        if self._want == 2:
            self._want = 2 + ((head[0] << 8) | head[1]) + (2 if qos else 0)
            if self._want > self._left + 2 or self._want == 2 + (2 if qos else 0):
                raise ProtocolError("a PUBLISH without a topic or shorter than its topic")
            if self._want > self.limit:
                raise ProtocolError(
                    f"a PUBLISH whose topic alone is longer than the {self.limit} bytes allowed"
                )
            return
        end = len(head) - (2 if qos else 0)
        try:
            topic = bytes(head[2:end]).decode()
        except UnicodeDecodeError:
            raise ProtocolError("a PUBLISH topic that is not UTF-8") from None
        packet_id = (head[end] << 8) | head[end + 1] if qos else 0
        self._found = (topic, qos, packet_id)
        self._want, self._head = _NO_HEAD, bytearray()
