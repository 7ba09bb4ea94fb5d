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
queued, so the bound is the application's). QoS 0 messages skip paho: their
PUBLISH packets come from `protocol.mqtt.codec` and are written in batches
between paho's packets.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
import uuid
from typing import TYPE_CHECKING, Final, Self

import paho.mqtt.client as mqtt
from pydantic_core import from_json

from protocol.messages import Clock, DeviceStatus
from protocol.mqtt import codec
from protocol.mqtt.backoff import Backoff
from protocol.wire import Delivery, Topics, delivery, delivery_for, encode
from simulator.transport import paho_loop
from simulator.transport.inflight import Inflight
from simulator.transport.item import Item, PublishStats
from simulator.transport.pacing import Pacer
from simulator.transport.paho_loop import connect_client
from simulator.transport.url import BrokerUrl

if TYPE_CHECKING:
    from paho.mqtt.reasoncodes import ReasonCode
    from pydantic import BaseModel

__all__ = ["MqttSink"]

log = logging.getLogger("simlab.publisher")
_CLOSE: Final = object()
SERVICE_EVERY: Final = 256
"""Read acknowledgements after this many publishes."""
BATCH: Final = 256
"""Messages taken from the queue at once and written together."""
ROUTE_CACHE: Final = 100_000
RAW_FLUSH_BYTES: Final = 64 * 1024
WRITE_PATIENCE_S: Final = 10.0
RECONNECT_WAIT_S: Final = (1.0, 10.0)
"""Wall seconds between reconnect attempts: the first, the longest."""


class MqttSink:
    """Publishes the world's messages to a broker, paced, with backpressure and watermarks.

    Args:
        url: the broker.
        topics: the run's topic namespace.
        speed: sim seconds per wall second (1, 60, ...); None publishes as fast as possible.
        telemetry_qos: QoS of telemetry (0 by default; events, records and clocks are QoS 1).
        queue_size: messages held between model and publisher before the model waits.
        max_inflight: unacknowledged QoS 1 messages at once.
        ca_file: mqtts://: the CA to trust (None: the system's CAs).
        cert_file: mqtts://: a client certificate, with `key_file`, for a broker that asks.
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
        cert_file: str | None = None,
        key_file: str | None = None,
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
        self._inflight = Inflight()
        self._routes: dict[str, tuple[str, str, Delivery, str | None]] = {}
        self._raw = bytearray()
        self._raw_count = 0
        self._version = protocol
        # QoS 0 packets are built here and written in batches when every message goes over
        # this one connection (a subclass that picks connections uses paho for all).
        self._raw_qos0 = type(self)._send is MqttSink._send  # noqa: SLF001 - our own class
        self._online = False
        self._refused: str | None = None
        self._offline_since: float | None = None
        self._next_reconnect = 0.0
        self._backoff = Backoff(*RECONNECT_WAIT_S)
        self._since_service = 0
        self._close_timeout = 60.0
        self.reconnect_timeout = reconnect_timeout
        """Give up (and fail the run) after the broker has been gone this long, in seconds."""
        self._pacer = Pacer(speed) if speed is not None else None
        self._error: BaseException | None = None
        self._client = connect_client(
            self.url,
            client_id=client_id or f"simlab-pub-{uuid.uuid4().hex[:10]}",
            protocol=protocol,
            ca_file=ca_file,
            cert_file=cert_file,
            key_file=key_file,
        )
        self._client.max_inflight_messages_set(max_inflight)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_socket_register_write = _write_later  # a batch writes once
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
        known = self._routes.get(topic_below_root)
        if known is None:
            topic = f"{self.topics.root}/{topic_below_root}"
            route = self.topics.route(topic)
            how = delivery_for(route, telemetry_qos=self.telemetry_qos)
            device = route.key if route.kind in {"telemetry", "status"} else None
            known = (topic, route.kind, how, device)
            if len(self._routes) < ROUTE_CACHE:
                self._routes[topic_below_root] = known
        topic, kind, how, device = known
        # The payload is read only for what pacing and Wills need.
        data = from_json(payload) if self.speed is not None or kind == "status" else None
        t = float(data["t"]) if data is not None else 0.0
        will = kind == "status" and data is not None and bool(data.get("will"))
        self._put(Item(topic, payload, how.qos, how.retain, t, kind == "clock", device, will))

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
                    first = self._queue.get(timeout=0.05)
                except queue.Empty:
                    self._service(0)
                    continue
                if not self._publish_batch(self._drain(first)):
                    return
        except BaseException as exc:
            self._error = exc
            log.exception("publisher stopped")
            self._client.disconnect()

    def _drain(self, first: Item | object) -> list[Item | object]:
        """The item just taken and whatever else is waiting, up to BATCH."""
        batch = [first]
        for _ in range(BATCH - 1):
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _publish_batch(self, batch: list[Item | object]) -> bool:
        """Publish a batch, writing once at its end; False when the end marker came."""
        for item in batch:
            if not isinstance(item, Item):
                self._flush()
                self._finish()
                return False
            self._pace(item.t)
            if item.clock:
                self._flush()
                self._wait_acked(None)  # a watermark follows everything before it
            self._publish(item)
        self._flush()
        self._since_service += len(batch)
        if self._since_service >= SERVICE_EVERY:
            self._service(0)
        return True

    def _finish(self) -> None:
        self._wait_acked(self._close_timeout)
        self._client.disconnect()
        self._network(0.05)

    def _network(self, timeout: float) -> int:
        """One turn of paho's external-loop API: read, write, keep alive; paho's rc."""
        return paho_loop.turn(self._client, timeout)

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
            self._next_reconnect = now + self._backoff.next()
            try:
                self._client.reconnect()  # paho resends unacknowledged QoS 1 messages
            except (OSError, ssl.SSLError):
                time.sleep(min(0.05, max(timeout, 0.01)))
        else:
            time.sleep(min(0.05, self._next_reconnect - now))

    def _pace(self, t: float) -> None:
        """Wait until the message stamped `t` is due, serving the connection meanwhile."""
        pacer = self._pacer
        if pacer is None:
            return
        now = time.monotonic()
        due = pacer.due(t, now)
        if due > now:
            self._flush()  # what is due now goes out before the wait
        while due > now:
            self._service(min(due - now, 0.05))
            now = time.monotonic()
        pacer.released(due, now, self.stats)

    def _publish(self, item: Item) -> None:
        while not self._online:  # held back until the broker is back (backpressure)
            self._service(0.05)
        if item.qos == 0 and self._raw_qos0:
            self._raw += codec.publish(
                item.topic, item.payload, retain=item.retain, version=self._version
            )
            self._raw_count += 1
            self.stats.published += 1
            if len(self._raw) >= RAW_FLUSH_BYTES:
                self._flush_raw()
            return
        self._flush_raw()  # what is buffered goes first: order is kept
        if item.qos:
            while self._settle() >= self._max_inflight:
                self._service(0.01)
        client, info = self._send(item)
        if item.qos == 0:
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self.stats.dropped_qos0 += 1  # not connected: paho does not keep QoS 0
                return
        else:
            self._inflight.add(client, info)
        self.stats.published += 1

    def _settle(self) -> int:
        """Count acknowledgements that arrived; returns how many QoS 1 messages are still out."""
        self.stats.acked += self._inflight.settle()
        return len(self._inflight)

    def _flush(self) -> None:
        """Write everything queued: buffered QoS 0 packets, then what paho holds."""
        self._flush_raw()
        self._flush_paho(wait=False)

    def _flush_paho(self, *, wait: bool) -> None:
        """Let paho write its queue; with `wait`, until no packet is left half written."""
        paho_loop.flush(self._client, wait=wait, patience=WRITE_PATIENCE_S, broker=self.url)

    def _flush_raw(self) -> None:
        """Send the buffered QoS 0 packets in as few writes as the socket allows."""
        if not self._raw:
            return
        data, count = memoryview(bytes(self._raw)), self._raw_count
        self._raw.clear()
        self._raw_count = 0
        self._flush_paho(wait=True)  # never write into the middle of one of paho's packets
        try:
            paho_loop.send_all(self._client.socket(), data, WRITE_PATIENCE_S)
        except OSError:
            self.stats.dropped_qos0 += count  # QoS 0 is not resent: counted as dropped
            self.stats.published -= count
            self._online = False

    def _send(self, item: Item) -> tuple[mqtt.Client, mqtt.MQTTMessageInfo]:
        """Hand one message to paho; a subclass may pick another connection for it."""
        info = self._client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
        return self._client, info

    def _wait_acked(self, timeout: float | None) -> None:
        """Drive the connection until every QoS 1 message is acknowledged."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._settle() > 0:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._inflight)} QoS 1 messages still unacknowledged")
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
        self._backoff.reset()

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


def _write_later(_client: mqtt.Client, _userdata: object, _sock: object) -> None:
    """Paho asks to write: the publisher thread writes once per batch instead (see _flush)."""
