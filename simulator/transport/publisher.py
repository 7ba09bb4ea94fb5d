"""The MQTT sink: a paced publisher between the model and a broker.

The model calls `write` from its own thread; messages go through a bounded
queue to a publisher thread that releases each at wall time = sim time /
speed (or as fast as the broker takes them with `speed=None`). QoS 1 messages
are never dropped: when the queue is full the model waits (backpressure).
QoS 0 messages are dropped then instead, and counted. A clock message is a
watermark: it is published only after every QoS 1 message before it has been
acknowledged. paho-mqtt does the protocol, driven by the publisher thread
alone (no network thread: publishing and reading acknowledgements in one
thread avoids a wake-up per message); after a lost connection the thread
reconnects with back-off, holding messages back meanwhile, and paho resends
the unacknowledged QoS 1 ones. At most `max_inflight` QoS 1 messages are
unacknowledged at once (paho loses messages when more than 65,535 are
queued, so the bound is the application's).
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic_core import from_json

from protocol.messages import Clock, DeviceStatus
from protocol.wire import Topics, delivery, delivery_for, encode
from simulator.transport.url import BrokerUrl

if TYPE_CHECKING:
    from paho.mqtt.reasoncodes import ReasonCode
    from pydantic import BaseModel

__all__ = ["Item", "MqttSink", "PublishStats", "connect_client"]

log = logging.getLogger("simlab.publisher")
_CLOSE: Final = object()
LAG_WARNING_S: Final = 1.0
SERVICE_EVERY: Final = 64
"""Read acknowledgements after this many publishes."""


@dataclass(slots=True)
class PublishStats:
    """What the publisher did."""

    queued: int = 0
    published: int = 0
    acked: int = 0
    dropped_qos0: int = 0
    """QoS 0 messages dropped: the queue was full, or the broker was unreachable."""
    max_lag_s: float = 0.0
    """How far behind sim time / speed the publisher fell at worst, in wall seconds."""
    late: int = 0
    """Messages released more than a second after their due wall time."""
    connects: int = 0
    disconnects: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    """One message on its way: where it goes, how, and when it happened (sim time, Unix s)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    t: float
    clock: bool = False
    device: str | None = None
    """The device whose own message this is (telemetry, status), else None."""
    will: bool = False
    """A Last Will the world emitted: the broker, not the sink, should publish it."""


def connect_client(
    url: BrokerUrl,
    *,
    client_id: str,
    protocol: int = 5,
    ca_file: str | None = None,
    clean: bool = True,
    will: tuple[str, bytes, int, bool] | None = None,
) -> mqtt.Client:
    """A paho client configured for `url` (credentials, TLS, protocol), not yet connected."""
    version = mqtt.MQTTv5 if protocol == 5 else mqtt.MQTTv311
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=version,
        clean_session=None if version == mqtt.MQTTv5 else clean,
    )
    if url.username is not None:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        context = ssl.create_default_context(cafile=ca_file)
        client.tls_set_context(context)
    if will is not None:
        topic, payload, qos, retain = will
        client.will_set(topic, payload, qos=qos, retain=retain)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.on_socket_open = _no_delay
    return client


def _no_delay(_client: mqtt.Client, _userdata: object, sock: object) -> None:
    """Small packets go out at once: Nagle's algorithm stalls a publish/acknowledge ping-pong."""
    raw = getattr(sock, "setsockopt", None)
    if raw is not None:
        raw(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttSink:
    """Publishes the world's messages to a broker, paced, with backpressure and watermarks.

    Args:
        url: the broker.
        topics: the run's topic namespace.
        speed: sim seconds per wall second (1, 60, ...); None publishes as fast as possible.
        telemetry_qos: QoS of telemetry (0 by default; events, records and clocks are QoS 1).
        queue_size: messages held between model and publisher before the model waits.
        max_inflight: unacknowledged QoS 1 messages at once.
    """

    def __init__(  # noqa: PLR0913 - each is a setting a user may change
        self,
        url: str | BrokerUrl,
        *,
        topics: Topics,
        speed: float | None = None,
        telemetry_qos: int = 0,
        queue_size: int = 20_000,
        max_inflight: int = 1000,
        client_id: str | None = None,
        protocol: int = 5,
        ca_file: str | None = None,
        connect_timeout: float = 10.0,
        reconnect_timeout: float = 120.0,
    ) -> None:
        self.url = url if isinstance(url, BrokerUrl) else BrokerUrl.parse(url)
        self.topics = topics
        self.speed = speed
        self.telemetry_qos = telemetry_qos
        self.stats = PublishStats()
        self._queue: queue.Queue[Item | object] = queue.Queue(maxsize=queue_size)
        self._max_inflight = max_inflight
        self._unacked = 0
        self._pending: set[tuple[int, int]] = set()
        self._early: set[tuple[int, int]] = set()
        self._sent0: set[tuple[int, int]] = set()
        self._acks = threading.Condition()
        self._online = False
        self._refused: str | None = None
        self._offline_since: float | None = None
        self._next_reconnect = 0.0
        self._reconnect_wait = 0.5
        self._since_service = 0
        self._close_timeout = 60.0
        self.reconnect_timeout = reconnect_timeout
        """Give up (and fail the run) after the broker has been gone this long, in seconds."""
        self._origin: tuple[float, float] | None = None
        self._last_warning = 0.0
        self._error: BaseException | None = None
        self._client = connect_client(
            self.url,
            client_id=client_id or f"simlab-pub-{uuid.uuid4().hex[:10]}",
            protocol=protocol,
            ca_file=ca_file,
        )
        self._client.max_inflight_messages_set(max_inflight)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._connect_timeout = connect_timeout
        self._thread = threading.Thread(target=self._run, name="simlab-publisher", daemon=True)

    # ---- life -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Connect (raising ConnectionError with the broker's reason) and start publishing."""
        try:
            self._client.connect(self.url.host, self.url.port, keepalive=60)
        except (OSError, ssl.SSLError) as exc:
            raise ConnectionError(
                f"cannot connect to the MQTT broker at {self.url}: {exc}"
            ) from exc
        deadline = time.monotonic() + self._connect_timeout
        while not self._online and self._refused is None and time.monotonic() < deadline:
            self._network(0.05)
        if not self._online:
            self._client.disconnect()
            if self._refused is not None:
                raise ConnectionError(
                    f"the MQTT broker at {self.url} refused the connection: {self._refused}"
                )
            raise ConnectionError(
                f"the MQTT broker at {self.url} did not answer within {self._connect_timeout:g} s"
            )
        self._thread.start()
        return self

    def close(self, timeout: float = 60.0) -> PublishStats:
        """Publish what is queued, wait for every QoS 1 acknowledgement, disconnect."""
        self._close_timeout = timeout
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            try:
                self._queue.put(_CLOSE, timeout=0.5)
                break
            except queue.Full:
                continue
        self._thread.join(max(0.0, deadline - time.monotonic()) + 5)
        if self._error is not None:
            raise RuntimeError(f"the publisher failed: {self._error}") from self._error
        return self.stats

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the model's side -----------------------------------------------------------------

    def write(self, message: BaseModel, account: str | None) -> None:
        """Queue one message of the world (blocks while the queue is full, unless QoS 0)."""
        how = delivery(message, telemetry_qos=self.telemetry_qos)
        topic = self.topics.for_message(message, account or "")
        clock = isinstance(message, Clock)
        device = getattr(message, "device_id", None)
        will = isinstance(message, DeviceStatus) and message.will
        t: float = message.t  # type: ignore[attr-defined]
        self._put(Item(topic, encode(message), how.qos, how.retain, t, clock, device, will))

    def write_raw(self, topic_below_root: str, payload: bytes) -> None:
        """Queue one recorded message (a replay): topic below the root, payload as recorded."""
        topic = f"{self.topics.root}/{topic_below_root}"
        route = self.topics.route(topic)
        how = delivery_for(route, telemetry_qos=self.telemetry_qos)
        data = from_json(payload)
        device = route.key if route.kind in {"telemetry", "status"} else None
        will = route.kind == "status" and bool(data.get("will"))
        self._put(
            Item(
                topic,
                payload,
                how.qos,
                how.retain,
                float(data["t"]),
                route.kind == "clock",
                device,
                will,
            )
        )

    def _put(self, item: Item) -> None:
        if self._error is not None:
            raise RuntimeError(f"the publisher failed: {self._error}") from self._error
        self.stats.queued += 1
        if item.qos == 0:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                self.stats.dropped_qos0 += 1
            return
        while True:  # backpressure: the model waits for the broker, unless the publisher died
            try:
                self._queue.put(item, timeout=0.5)
            except queue.Full:
                if self._error is not None or not self._thread.is_alive():
                    raise RuntimeError(f"the publisher failed: {self._error}") from self._error
            else:
                return

    # ---- the publisher thread -------------------------------------------------------------

    def _run(self) -> None:
        """The publisher thread: it alone drives the MQTT connection (no cross-thread wakeups)."""
        try:
            while True:
                try:
                    item = self._queue.get(timeout=0.05)
                except queue.Empty:
                    self._service(0)
                    continue
                if item is _CLOSE:
                    self._finish()
                    return
                assert isinstance(item, Item)
                self._pace(item.t)
                if item.clock:
                    self._wait_acked(None)  # a watermark follows everything before it
                self._publish(item)
                self._since_service += 1
                if self._since_service >= SERVICE_EVERY:
                    self._service(0)
        except BaseException as exc:
            self._error = exc
            log.exception("publisher stopped")
            self._client.disconnect()

    def _finish(self) -> None:
        self._wait_acked(self._close_timeout)
        self._client.disconnect()
        self._network(0.05)

    def _network(self, timeout: float) -> int:
        """One turn of paho's external-loop API: read, write, keep alive.

        paho's own loop() would add a wake-up socket pair and a second send per publish.
        """
        client = self._client
        sock = client.socket()
        if sock is None:
            return int(mqtt.MQTT_ERR_NO_CONN)
        pending = getattr(sock, "pending", None)  # TLS may hold decrypted bytes already
        ready = pending is not None and pending() > 0
        poller = select.poll()  # not select(): it fails for descriptors past 1023
        poller.register(
            sock.fileno(), select.POLLIN | (select.POLLOUT if client.want_write() else 0)
        )
        events = poller.poll(0 if ready else timeout * 1000)
        readable = any(e & (select.POLLIN | select.POLLHUP | select.POLLERR) for _, e in events)
        writable = any(e & select.POLLOUT for _, e in events)
        rc = mqtt.MQTT_ERR_SUCCESS
        if ready or readable:
            rc = client.loop_read()
        if rc == mqtt.MQTT_ERR_SUCCESS and writable:
            rc = client.loop_write()
        if rc == mqtt.MQTT_ERR_SUCCESS:
            rc = client.loop_misc()
        return int(rc)

    def _service(self, timeout: float) -> None:
        """Read acknowledgements, send pings; after a lost connection, reconnect with back-off."""
        self._since_service = 0
        rc = self._network(timeout)
        if rc == mqtt.MQTT_ERR_SUCCESS and self._online:
            return
        self._online = False
        now = time.monotonic()
        if self._offline_since is None:
            self._offline_since = now
        if now - self._offline_since > self.reconnect_timeout:
            raise ConnectionError(
                f"lost the MQTT broker at {self.url} for {self.reconnect_timeout:g} s"
            )
        if now >= self._next_reconnect:
            self._reconnect_wait = min(self._reconnect_wait * 2, 10.0)
            self._next_reconnect = now + self._reconnect_wait
            try:
                self._client.reconnect()  # paho resends unacknowledged QoS 1 messages
            except (OSError, ssl.SSLError):
                time.sleep(min(0.05, max(timeout, 0.01)))
        else:
            time.sleep(min(0.05, self._next_reconnect - now))

    def _pace(self, t: float) -> None:
        if self.speed is None:
            return
        now = time.monotonic()
        if self._origin is None:
            self._origin = (now, t)
        wall0, t0 = self._origin
        due = wall0 + (t - t0) / self.speed
        while due > now:
            self._service(min(due - now, 0.05))
            now = time.monotonic()
        if due > now - 0.001:
            return
        lag = now - due
        self.stats.max_lag_s = max(self.stats.max_lag_s, lag)
        if lag > LAG_WARNING_S:
            self.stats.late += 1
            if now - self._last_warning > 10:
                self._last_warning = now
                log.warning("publisher is %.1f s behind sim time / speed %g", lag, self.speed)

    def _publish(self, item: Item) -> None:
        while not self._online:  # held back until the broker is back (backpressure)
            self._service(0.05)
        if item.qos:
            while self._unacked >= self._max_inflight:
                self._service(0.01)
            with self._acks:
                self._unacked += 1
        # Never call paho holding our lock: paho calls on_publish holding its own.
        client, info = self._send(item)
        key = (id(client), info.mid)  # message ids count per connection
        with self._acks:
            early = key in self._early  # paho reported it before publish() returned
            self._early.discard(key)
            if item.qos == 0:
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    self.stats.dropped_qos0 += 1  # not connected: paho does not keep QoS 0
                    return
                if not early:
                    self._sent0.add(key)
            elif early:
                self._acked_locked()
            else:
                self._pending.add(key)
        self.stats.published += 1

    def _send(self, item: Item) -> tuple[mqtt.Client, mqtt.MQTTMessageInfo]:
        """Hand one message to paho; a subclass may pick another connection for it.

        A connection used here must have `on_publish = self._on_publish`.
        """
        info = self._client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
        return self._client, info

    def _wait_acked(self, timeout: float | None) -> None:
        """Drive the connection until every QoS 1 message is acknowledged."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._unacked > 0:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{self._unacked} QoS 1 messages still unacknowledged")
            self._service(0.01)

    # ---- paho callbacks (network thread) --------------------------------------------------

    def _on_connect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            return
        self.stats.connects += 1
        self._online = True
        self._offline_since = None
        self._reconnect_wait = 0.5

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        _reason: object,
        _props: object,
    ) -> None:
        self.stats.disconnects += 1
        self._online = False

    def _on_publish(
        self,
        client: mqtt.Client,
        _userdata: object,
        mid: int,
        _reason: object,
        _props: object,
    ) -> None:
        key = (id(client), mid)
        with self._acks:
            if key in self._pending:
                self._pending.discard(key)
                self._acked_locked()
            elif key in self._sent0:
                self._sent0.discard(key)
            else:
                self._early.add(key)

    def _acked_locked(self) -> None:
        self._unacked -= 1
        self.stats.acked += 1
        self._acks.notify_all()
