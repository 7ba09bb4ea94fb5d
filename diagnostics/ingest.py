"""MQTT ingest: a persistent QoS 1 subscription whose messages are acknowledged only once stored.

One thread owns the connection and does everything in turn: it reads the
socket in large chunks, parses every PUBLISH of a chunk in one tight loop
(`protocol.mqtt.codec`), gathers a batch (up to `batch_max` messages, or what
came within `batch_wait` of its first), hands it to `on_batch` (which
decodes, stores and commits) and only then sends the PUBACKs of its QoS 1
messages, in one write. If the service dies before that, the broker still
holds the unacknowledged messages for the persistent session (MQTT 5,
`clean_start=False`, session expiry of a day) and sends them again after the
restart: at least once, nothing lost; the store keeps each message once.
Receive Maximum 65,535 lets the broker have that many unacknowledged messages
out to us, so batches are not cut short. A PINGREQ goes out each half
keepalive whatever else is sent, since only a round trip shows the broker
alive: two left unanswered with nothing unread mean a stalled broker
(`IngestStats.stalls`), and the connection is dropped within two keepalives.
A lost connection is tried again with back-off (1 s doubling to 30 s), after
committing what had arrived. A batch the store cannot take now is handed over
again, unacknowledged, until it is taken (`diagnostics.ingest_retry`). A client with the
same id takes the session away: MQTT 5 brokers say so (DISCONNECT 0x8E, logged
with the id, `IngestStats.taken_over`); on 3.1.1 (and Mosquitto 2.0.11 on MQTT 5)
the broker only closes the connection, and the log says that it may be that.

Packets are read 256 KiB at a time and reassembled in O(size) (`diagnostics.ingest_reader`),
none larger than `max_packet` (256 KiB) held: on MQTT 5 the CONNECT's Maximum Packet Size
has the broker drop a larger message for this client (Mosquitto logs it, counts it nowhere);
on 3.1.1 the reader lets it pass unread, counted (`IngestStats.oversized`), a QoS 1 one
acknowledged and kept as a `too_large` dead letter of its topic and size: lost by design,
never silently. Why not paho-mqtt: see `diagnostics.ingest_reader`.

Credentials go in the CONNECT (never in the log); a `tls` context wraps the
socket as it connects (`protocol.mqtt.tls`, which also reads what TLS holds
decrypted). A refused login is logged as an error with the broker's reason
("not authorized") and kept in `broker_error` (/health) until a connection
succeeds; the ingest keeps trying with back-off, so a fixed password heals it.

Lag: every `probe_every` seconds the ingest publishes a probe (QoS 1, its own
wall time after this process's nonce: `diagnostics.ingest_probe`) to a topic of
its own that it also subscribes to (a probe without the nonce is counted in
`IngestStats.forged_probes`, and believed not). The broker
queues the probe behind everything already waiting for this session, so the
time from publishing it to committing the batch it arrives in is the
broker-to-commit lag, backlog included (`IngestStats.lags`). The time from
reading each batch's oldest message off the socket to its commit is kept
apart (`IngestStats.read_lags`): the service's own share. The probe topic,
`simlab-probe/{client id}`, lies outside the stream's root; a broker whose
ACL refuses it leaves the lag summary empty, and nothing else changes.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import uuid
from functools import partial
from typing import TYPE_CHECKING, Final

from diagnostics.ingest_probe import ProbeStamp
from diagnostics.ingest_reader import CHUNK, MAX_PACKET, Link, link_reader, send
from diagnostics.ingest_records import IngestStats, Received
from diagnostics.ingest_retry import POLL_S, hand_over
from protocol.mqtt import codec
from protocol.mqtt.backoff import Backoff
from protocol.mqtt.codec import CONNACK, DISCONNECT, PINGRESP, PUBACK, SUBACK, MqttError
from protocol.mqtt.reasons import connack_refusal
from protocol.mqtt.tls import open_socket, with_pending

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable

__all__ = ["Ingest", "IngestStats", "Received"]

log = logging.getLogger("simlab.ingest")
SESSION_EXPIRY_S: Final = 24 * 3600
RECEIVE_MAXIMUM: Final = 65_535
CONNECT_TIMEOUT_S: Final = 10.0
PROBE_PREFIX: Final = "simlab-probe"
UNANSWERED: Final = 2
"""PINGREQs the broker may leave unanswered before the connection counts as stalled."""
SESSION_TAKEN_OVER: Final = 0x8E
"""The reason code of the broker's DISCONNECT when another client took the session over."""


class _TakenOverError(ConnectionError):
    """The broker gave this client's session to another client with the same id."""


class _Stopped(Exception):  # noqa: N818 - a signal inside the thread, not an error
    """`on_batch` failed: the ingest stops, its messages stay unacknowledged."""


class Ingest:
    """Subscribes to a topic filter and hands stored batches back for acknowledgement."""

    def __init__(  # noqa: PLR0913 - each is a setting of the subscription
        self,
        *,
        host: str,
        port: int,
        subscription: str,
        on_batch: Callable[[list[Received]], None],
        client_id: str | None = None,
        batch_max: int = 10_000,
        batch_wait: float = 0.2,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
        probe_every: float = 1.0,
        reconnect: tuple[float, float] = (1.0, 30.0),
        protocol: int = 5,
        tls: ssl.SSLContext | None = None,
        max_packet: int = MAX_PACKET,
    ) -> None:
        if protocol not in {codec.V5, codec.V311}:
            raise ValueError(f"MQTT protocol level {protocol}: give 5 or 4 (3.1.1)")
        self.protocol = protocol
        """5, or 4 for a broker that speaks only 3.1.1 (its persistent session, no expiry)."""
        self.host = host
        self.port = port
        self.subscription = subscription
        self.on_batch = on_batch
        self.client_id = client_id or f"simlab-diagnostics-{uuid.uuid4().hex[:8]}"
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.username, self.password = username, password
        self.tls = tls
        """The TLS context that wraps each connection's socket; None: plain TCP."""
        self.keepalive = keepalive
        self.max_packet = max_packet
        """Bytes: a larger packet is let pass unread, its QoS 1 acknowledged (see the module)."""
        self.probe_every = probe_every
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.client_id)
        self.probe_topic = f"{PROBE_PREFIX}/{safe}" if probe_every > 0 else None
        self.reconnect = reconnect
        self.stats = IngestStats()
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self.broker_error: str | None = None
        """Why the latest connection failed or was lost; None once subscribed again."""
        self._stopping = threading.Event()
        self._pending: list[Received] = []
        self._committing = 0
        self._probe_granted = False
        self._probe_id = 1
        self._stamp = ProbeStamp()
        self._thread = threading.Thread(target=self._run, name="simlab-ingest", daemon=True)

    def start(self) -> None:
        """Connect with a persistent session and start consuming."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what has arrived, acknowledge it, disconnect (the session stays on the broker)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def queue_depth(self) -> int:
        """Messages received but not yet committed."""
        return len(self._pending) + self._committing

    # ---- the connection thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._connect_again_and_again()
        except BaseException as exc:  # a bug here must show in /health, not end silently
            self.error = exc
            log.exception("ingest stopped")
        finally:
            self.connected.clear()

    def _connect_again_and_again(self) -> None:
        """Sessions one after the other, with back-off between, until stopped or failed."""
        backoff = Backoff(*self.reconnect)
        while not self._stopping.is_set():
            try:
                with open_socket(self.host, self.port, CONNECT_TIMEOUT_S, self.tls) as sock:
                    self._session(sock)
            except _Stopped:
                return
            except (OSError, MqttError) as exc:
                if self._stopping.is_set():
                    return
                what = "lost" if self.connected.is_set() else "failed"
                self.stats.taken_over += isinstance(exc, _TakenOverError)
                if self.connected.is_set():
                    self.stats.disconnects += 1
                    backoff.reset()
                self.connected.clear()
                self.broker_error = f"MQTT connection to {self.host}:{self.port} {what} ({exc})"
                delay = backoff.next()
                # A refusal or an untrusted certificate does not pass by itself: an error.
                loud = isinstance(exc, (codec.RefusedError, ssl.SSLCertVerificationError))
                level = logging.ERROR if loud else logging.WARNING
                log.log(level, "%s; trying again in %g s", self.broker_error, delay)
                try:
                    self._commit(None)  # keep what arrived; QoS 1 comes again, stored once
                except _Stopped:
                    return
                self._stopping.wait(delay)

    def _session(self, sock: socket.socket) -> None:
        """One connection: CONNECT, SUBSCRIBE, then read, commit and acknowledge until stopped."""
        connect = codec.connect(
            self.client_id,
            keepalive=self.keepalive,
            clean_start=False,
            session_expiry=SESSION_EXPIRY_S,
            receive_maximum=RECEIVE_MAXIMUM,
            username=self.username,
            password=self.password,
            version=self.protocol,
            maximum_packet_size=self.max_packet if self.protocol == codec.V5 else None,
        )
        send(sock, connect)
        reader = link_reader(stats=self.stats, limit=self.max_packet, version=self.protocol)
        link = Link(sock, started=time.monotonic(), keepalive=self.keepalive, reader=reader)
        link.pinged = link.started
        self.stats.unanswered = 0
        while True:
            now = time.monotonic()
            if self._stopping.is_set():
                self._commit(sock)
                send(sock, codec.disconnect(version=self.protocol))
                return
            pending = self._pending
            if pending and (
                len(pending) >= self.batch_max or now >= link.first_at + self.batch_wait
            ):
                self._commit(sock)
                link.quiet = False  # answers may have come meanwhile, unread
                continue
            self._keep_alive(link, now)
            wait = link.first_at + self.batch_wait - now if pending else POLL_S
            sock.settimeout(min(max(wait, 0.001), POLL_S))
            try:
                data = sock.recv(CHUNK)
            except TimeoutError:
                link.quiet = True
                continue
            link.quiet = False
            if not data:
                self.stats.closed_by_broker += 1
                maybe = f", possibly for another client with id {self.client_id}"
                raise ConnectionError(f"closed by the broker{maybe if link.connack else ''}")
            self._read(link, with_pending(sock, data), now)

    def _keep_alive(self, link: Link, now: float) -> None:
        """CONNACK in time, a PINGREQ each half keepalive, probes; a stalled broker is dropped.

        The PINGREQs go out whatever else is sent: only a round trip shows the broker
        alive. When one falls due with `UNANSWERED` still unanswered and nothing unread on
        the socket (an answer may wait behind messages after a long commit), the broker is
        stalled: the connection is dropped (within two keepalives) and opened again.
        """
        if not link.connack and now - link.started > CONNECT_TIMEOUT_S:
            raise codec.ProtocolError("no CONNACK in time")
        stats = self.stats
        if link.keepalive and link.connack and now - link.pinged >= link.keepalive / 2:
            if stats.unanswered >= UNANSWERED and link.quiet:
                stats.stalls += 1
                raise codec.ProtocolError(
                    f"the broker answered none of {stats.unanswered} PINGREQs in "
                    f"{now - link.pinged + link.keepalive / 2 * (stats.unanswered - 1):.1f} s: "
                    "stalled"
                )
            send(link.sock, codec.pingreq())
            link.pinged = now
            stats.pings += 1
            stats.unanswered += 1
        if self._probing() and now >= link.probe_at:
            self._send_probe(link.sock)
            link.probe_at = now + self.probe_every

    def _read(self, link: Link, data: bytes, now: float) -> None:
        """Parse a chunk: PUBLISH packets join the batch, the others are answered."""
        pending = self._pending
        before = len(pending)
        control: list[codec.Control] = []
        link.reader.feed(data, time.time(), pending, control)
        self.stats.buffer_high_water = max(self.stats.buffer_high_water, link.reader.high_water)
        if len(pending) > before:  # (a resumed session's messages may share CONNACK's chunk)
            self.stats.received += len(pending) - before
            if not before:
                link.first_at = now
        for packet in control:
            if packet.kind == CONNACK:
                link.keepalive = self._connack(link.sock, packet)
                link.connack = True
            elif packet.kind == SUBACK:
                self._suback(packet)
            elif packet.kind == PINGRESP:
                self.stats.unanswered = 0
            elif packet.kind == PUBACK:
                self._puback(packet)
            elif packet.kind == DISCONNECT:
                code, reason = codec.reason_of(packet)
                if code == SESSION_TAKEN_OVER:
                    raise _TakenOverError(
                        f"another client with id {self.client_id} took this session over"
                    )
                raise codec.RefusedError("the broker disconnected", code, reason)
            else:
                raise codec.ProtocolError(f"unexpected packet type {packet.kind}")

    def _connack(self, sock: socket.socket, packet: codec.Control) -> float:
        """Check the CONNACK, subscribe; returns the keepalive to keep (the broker may set it)."""
        ack = codec.parse_connack(packet, self.protocol)
        if ack.code >= 0x80:
            raise connack_refusal(ack, self.protocol)
        self.stats.connects += 1
        log.info(
            "connected to %s:%d as %s (session %s)",
            self.host,
            self.port,
            self.client_id,
            "resumed" if ack.session_present else "new",
        )
        filters = [(self.subscription, 1)]
        if self.probe_topic is not None:
            filters.append((self.probe_topic, 1))
        send(sock, codec.subscribe(1, filters, self.protocol))
        keepalive = ack.props.get(codec.SERVER_KEEP_ALIVE, self.keepalive)
        return float(keepalive) if isinstance(keepalive, int) else float(self.keepalive)

    def _suback(self, packet: codec.Control) -> None:
        _packet_id, codes = codec.parse_suback(packet, self.protocol)
        if not codes or codes[0] >= 0x80:
            raise codec.RefusedError(
                f"the subscription {self.subscription}", codes[0] if codes else 0
            )
        if codes[0] == 0:
            log.warning("the broker granted QoS 0 only: messages may be lost in a crash")
        self._probe_granted = len(codes) > 1 and codes[1] < 0x80
        if self.probe_topic is not None and not self._probe_granted:
            log.warning("the lag probe topic %s was refused: no lag figures", self.probe_topic)
        self.broker_error = None
        self.connected.set()

    def _probing(self) -> bool:
        return self.connected.is_set() and self.probe_topic is not None and self._probe_granted

    def _send_probe(self, sock: socket.socket) -> None:
        """Publish a probe stamped with the wall time (packet ids 2-65535 in turn)."""
        assert self.probe_topic is not None
        self._probe_id = self._probe_id % 65_534 + 2
        probe = codec.publish(
            self.probe_topic,
            self._stamp.payload(time.time()),
            qos=1,
            packet_id=self._probe_id,
            version=self.protocol,
        )
        send(sock, probe)

    def _puback(self, packet: codec.Control) -> None:
        """The broker took a probe, or refused it: then no more probes on this connection."""
        code, reason = codec.reason_of(packet)
        if code >= 0x80 and self._probe_granted:
            self._probe_granted = False
            log.warning("the lag probe was refused (0x%02x %s): no lag figures", code, reason)

    def _commit(self, sock: socket.socket | None) -> None:
        """Hand the pending batch to `on_batch`, then acknowledge it on `sock`."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        self._committing = len(batch)
        probes = []
        if self.probe_topic is not None:
            probe = self.probe_topic
            probes = [m for m in batch if m.topic == probe]
        data = [m for m in batch if m.topic != probe] if probes else batch
        ping = None if sock is None else partial(send, sock, codec.pingreq())
        try:  # committed when it returns True; handed over again while the store cannot
            taken = not data or hand_over(
                self.on_batch,
                data,
                stats=self.stats,
                stopping=self._stopping,
                ping=ping,
                every=self.keepalive / 2,
            )
        except BaseException as exc:
            self.error = exc
            log.exception("ingest stopped: messages since the last commit stay unacknowledged")
            raise _Stopped from exc
        finally:
            self._committing = 0
        if not taken:
            raise _Stopped  # stopped while waiting for the store: the broker sends it again
        committed = time.time()
        acks = [m.mid for m in batch if m.qos]
        if sock is not None and acks:
            send(sock, codec.pubacks(acks))
        stats = self.stats
        for found in probes:  # only ours, by the nonce (`diagnostics.ingest_probe`)
            sent = self._stamp.sent_at(found.payload)
            stats.forged_probes += sent is None
            stats.probes += sent is not None
            if sent is not None:
                stats.lags.append(max(0.0, committed - sent))
        stats.received -= len(probes)
        if data:
            stats.read_lags.append(committed - data[0].received)
            stats.committed += len(data)
            stats.batches += 1
