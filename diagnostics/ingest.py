"""MQTT ingest: a persistent QoS 1 subscription whose messages are acknowledged only once stored.

Why paho-mqtt and not aiomqtt: aiomqtt 2.5 acknowledges a QoS 1 message as
soon as it arrives, so a crash between arrival and commit loses it; paho-mqtt
2.x lets the application send the PUBACK itself (`manual_ack=True`). Here the
network thread only queues what arrives; a committer thread takes batches
(up to `batch_max` messages or `batch_wait` seconds), hands each to
`on_batch` (which decodes, stores and commits), and only then acknowledges
every QoS 1 message of the batch. If the service dies before that, the
broker still holds the unacknowledged messages for the persistent session and
delivers them again after the restart: at least once, nothing lost.

The broker must let enough unacknowledged messages through to each client
(Mosquitto: `max_inflight_messages`, 20 by default; MQTT 5: the client's
Receive Maximum, which this client sets to 65,535), or batches stay small.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

if TYPE_CHECKING:
    from collections.abc import Callable

    from paho.mqtt.reasoncodes import ReasonCode

__all__ = ["Ingest", "IngestStats", "Received"]

log = logging.getLogger("simlab.ingest")
_STOP: Final = object()
SESSION_EXPIRY_S: Final = 24 * 3600


@dataclass(frozen=True, slots=True)
class Received:
    """One message as it came off the wire."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    received: float
    """Wall-clock time of arrival (Unix seconds)."""
    retain: bool = False
    """Sent from the broker's store (on subscribing), not as it happened."""


@dataclass(slots=True)
class IngestStats:
    """What the ingest did, for /metrics."""

    received: int = 0
    committed: int = 0
    batches: int = 0
    connects: int = 0
    disconnects: int = 0
    last_lag_s: float = 0.0
    """Arrival to commit, for the last batch's oldest message."""
    lags: list[float] = field(default_factory=list)


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
        batch_max: int = 500,
        batch_wait: float = 0.05,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.subscription = subscription
        self.on_batch = on_batch
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.stats = IngestStats()
        self.connected = threading.Event()
        self._queue: queue.Queue[Received | object] = queue.Queue()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"simlab-diagnostics-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._committer = threading.Thread(
            target=self._commit_loop, name="simlab-ingest", daemon=True
        )
        self.error: BaseException | None = None

    def start(self) -> None:
        """Connect with a persistent session and start consuming."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = 65_535
        self._client.connect_async(
            self.host, self.port, keepalive=30, clean_start=False, properties=props
        )
        self._client.loop_start()
        self._committer.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what has arrived, acknowledge it, disconnect (the session stays on the broker)."""
        self._queue.put(_STOP)
        self._committer.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()

    def queue_depth(self) -> int:
        """Messages received but not yet committed."""
        return self._queue.qsize()

    # ---- network thread -----------------------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            log.error("the broker refused the connection: %s", reason)
            return
        self.stats.connects += 1
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(self, *_args: object) -> None:
        """Ready only once the broker has the subscription: nothing published after is missed."""
        self.connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self.stats.disconnects += 1
        self.connected.clear()

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        self.stats.received += 1
        payload = bytes(message.payload)
        self._queue.put(
            Received(
                message.topic, payload, message.qos, message.mid, time.time(), bool(message.retain)
            ),
        )

    # ---- committer thread ---------------------------------------------------------------------

    def _commit_loop(self) -> None:
        try:
            while True:
                batch, stopping = self._take()
                if batch:
                    self._commit(batch)
                if stopping:
                    return
        except BaseException as exc:
            self.error = exc
            log.exception("ingest stopped: messages since the last commit stay unacknowledged")

    def _take(self) -> tuple[list[Received], bool]:
        first = self._queue.get()
        if not isinstance(first, Received):
            return [], True
        batch = [first]
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_max:
            left = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if not isinstance(item, Received):
                return batch, True
            batch.append(item)
        return batch, False

    def _commit(self, batch: list[Received]) -> None:
        self.on_batch(batch)  # stored and committed when this returns
        for item in batch:
            if item.qos > 0:
                self._client.ack(item.mid, item.qos)
        lag = time.time() - batch[0].received
        self.stats.last_lag_s = lag
        self.stats.lags.append(lag)
        if len(self.stats.lags) > 10_000:
            del self.stats.lags[:5_000]
        self.stats.committed += len(batch)
        self.stats.batches += 1
