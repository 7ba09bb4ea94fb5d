"""Per-device mode: every simulated device is its own MQTT client, with its own Last Will.

The plain `MqttSink` publishes the whole world over one connection, so the
broker never sees a device come or go: a Will the world emits is just another
retained message. Here each device's own messages (telemetry, status) travel on
that device's connection, opened the first time the device has something to
send, with client id `{prefix}-{device_id}` and a registered Last Will
(retained QoS 1 `offline`, `will=True`). When the world says a connection was
lost (it emits the device's Will), the sink does not publish that Will: it
closes the device's socket without a DISCONNECT and the broker publishes the
Will it holds, as it would for a real device. Everything that is not a device's
own message (SIM events, records, clocks) stays on the base class's platform
connection, paced and watermarked as before.

Threads: none of its own. The base's publisher thread serves every socket in
one turn of its loop (`simulator.transport.multiplex`); `kill()` from another
thread is a request the publisher thread carries out on its next turn.

Connections open at most `connect_rate` a second (`simulator.transport.rate`:
a token bucket holding ten milliseconds' worth of tokens, at least one). The
publisher thread waits for a token (serving the sockets meanwhile), so a
connect storm holds back the messages after it, as a real one would.
"""

from __future__ import annotations

import collections
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from pydantic_core import from_json

from protocol.messages import DeviceStatus
from protocol.wire import encode
from simulator.transport import paho_loop
from simulator.transport.multiplex import ConnState, DeviceConn, Multiplexer, buffered
from simulator.transport.paho_loop import connect_client
from simulator.transport.publisher import MqttSink
from simulator.transport.rate import TokenBucket

if TYPE_CHECKING:
    from collections.abc import Iterable

    import paho.mqtt.client as mqtt
    from paho.mqtt.client import SocketLike

    from protocol.wire import Topics
    from simulator.transport.item import Item, PublishStats
    from simulator.transport.url import BrokerUrl

__all__ = ["PerDeviceSink", "wall_keepalive"]

MIN_KEEPALIVE_S: Final = 5
"""Shortest keepalive a device connection gets, wall seconds."""
MAX_SPEED_KEEPALIVE_S: Final = 60
"""Keepalive of device connections when the sink publishes as fast as it can."""
POLL_S: Final = 0.005
"""One turn of the network while the publisher thread waits for something (a token, an ack)."""
REQUEST_TIMEOUT_S: Final = 30.0


def wall_keepalive(sim_keepalive_s: float, speed: float | None) -> int:
    """The wall-clock keepalive for a device whose simulated keepalive is `sim_keepalive_s`.

    At speed S a simulated keepalive K lasts K / S wall seconds, but never less than
    MIN_KEEPALIVE_S (pings more often than that only load the broker); at maximum speed
    (None) simulated time has no wall equivalent, so a fixed MAX_SPEED_KEEPALIVE_S. The
    keepalive never decides when a Will is published: the world does, and the sink
    closes the socket then.
    """
    if speed is None:
        return MAX_SPEED_KEEPALIVE_S
    return max(MIN_KEEPALIVE_S, round(sim_keepalive_s / speed))


@dataclass(eq=False, slots=True)
class _Kill:
    """A kill() waiting for the publisher thread."""

    devices: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    killed: int = 0


class PerDeviceSink(MqttSink):
    """An MqttSink whose devices each have their own MQTT connection and Last Will.

    A device connects the first time it has something to send (and again after a loss or a
    sleep), with client id `{client_prefix}-{device_id}`, keepalive `keepalive_s` and a Last
    Will: retained QoS 1 on its status topic, DeviceStatus(offline, will=True, t = the sim time
    of the message that opened the connection). A Will's payload is fixed when the client
    connects, so its `t` says when the lost connection was opened, not when it was lost; the
    time the broker delivers it says when.

    What the world emits for a device becomes MQTT behaviour:

    - its Will (`DeviceStatus(offline, will=True)`): not published; once what the device sent
      is acknowledged and written, its socket is closed without a DISCONNECT and the broker
      publishes the Will it holds;
    - an `asleep` status: published, then a clean DISCONNECT (no Will);
    - an `online` status: a fresh connection (an open one is first closed cleanly, since the
      world opened a new one), then the status on it.

    A Will for a device without an open connection is dropped and counted
    (`wills_without_connection`): the broker holds no Will for it. Before a device connects
    again, its previous clean disconnect is complete (the broker closed the socket), so the
    broker never takes the old session over (which would publish its Will).

    Args:
        url: the broker.
        topics: the run's topic namespace.
        speed: sim seconds per wall second; None publishes as fast as possible.
        keepalive_s: device connections' keepalive, wall seconds. At speed S a simulated
            keepalive K maps to max(5, K / S) (`wall_keepalive`); at maximum speed a fixed 60.
        connect_rate: device connections opened per wall second at most (None: no limit).
        client_prefix: device client ids are `{client_prefix}-{device_id}`.
        settle_timeout: how long a Will waits for the device's earlier messages to be
            acknowledged before its socket is closed anyway, and a clean disconnect for the
            broker to close the socket, wall seconds.
        telemetry_qos, queue_size, max_inflight, protocol, ca_file, connect_timeout:
            as for MqttSink; `max_inflight` bounds the unacknowledged QoS 1 messages of all
            connections together.
    """

    def __init__(  # noqa: PLR0913 - each is a setting a user may change
        self,
        url: str | BrokerUrl,
        *,
        topics: Topics,
        speed: float | None = None,
        keepalive_s: int = MAX_SPEED_KEEPALIVE_S,
        connect_rate: float | None = 500.0,
        client_prefix: str = "simlab-dev",
        settle_timeout: float = 5.0,
        telemetry_qos: int = 0,
        queue_size: int = 20_000,
        max_inflight: int = 1000,
        protocol: int = 5,
        ca_file: str | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        if connect_rate is not None and connect_rate <= 0:
            raise ValueError(f"connect_rate must be positive (or None), not {connect_rate}")
        super().__init__(
            url,
            topics=topics,
            speed=speed,
            telemetry_qos=telemetry_qos,
            queue_size=queue_size,
            max_inflight=max_inflight,
            protocol=protocol,
            ca_file=ca_file,
            connect_timeout=connect_timeout,
        )
        self.keepalive_s = keepalive_s
        self.client_prefix = client_prefix
        self.settle_timeout = settle_timeout
        self._mux = Multiplexer(self._forget)
        self.device_stats = self._mux.stats
        self._protocol = protocol
        self._ca_file = ca_file
        self._bucket = TokenBucket(connect_rate)
        self._turn = threading.RLock()
        """Held by whichever thread drives the sockets (the publisher thread while it runs)."""
        self._kills: collections.deque[_Kill] = collections.deque()
        self._platform_sock: SocketLike | None = None
        self._platform_opened = self._client.on_socket_open
        self._client.on_socket_open = self._on_platform_socket_open
        self._client.on_socket_close = self._on_platform_socket_close

    # ---- life -----------------------------------------------------------------------------

    def close(self, timeout: float = 60.0) -> PublishStats:
        """Publish what is queued, disconnect every device cleanly (no Wills), close the base.

        The publisher thread does it after the last message; if it failed, the caller's
        thread disconnects the devices before the error is raised.
        """
        try:
            return super().close(timeout)
        finally:
            if not self._thread.is_alive():
                with self._turn:
                    if self._mux.live or self._mux.draining:
                        self._close_devices(timeout)
                    self._mux.selector.close()

    def kill(self, device_ids: Iterable[str]) -> int:
        """Drop these devices' connections without a DISCONNECT: the broker publishes their Wills.

        Returns how many had an open connection. Their unacknowledged QoS 1 messages are lost
        with them (`abandoned`); a killed device that sends again connects again. Carried out
        by the publisher thread on its next turn (at most ~50 ms away), or at once when that
        thread is not running.
        """
        request = _Kill(list(device_ids))
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            with self._turn:
                self._carry_out(request)
            return request.killed
        self._kills.append(request)
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while not request.done.wait(0.05):
            if not self._thread.is_alive():
                with self._turn:
                    self._run_kills()
            elif time.monotonic() > deadline:
                raise TimeoutError("the publisher thread did not carry out kill()")
        return request.killed

    def connected_devices(self) -> list[str]:
        """Devices with an open connection now."""
        return sorted(self._mux.live.copy())

    # ---- one turn of the network (the publisher thread) -----------------------------------

    def _network(self, timeout: float) -> int:
        """One turn: wait on every socket at once, serve the ready ones; the platform's rc.

        Replaces the base's poll of the platform socket alone (`paho_loop.turn`): one
        selector (epoll) waits on the platform's and every device's socket.
        """
        with self._turn:
            self._run_kills()
            self._watch_platform()
            ready = self._mux.poll(
                timeout, selectors.EVENT_READ if buffered(self._platform_sock) else 0
            )
            return paho_loop.serve(
                self._client,
                read=bool(ready & selectors.EVENT_READ),
                write=bool(ready & selectors.EVENT_WRITE),
            )

    def _watch_platform(self) -> None:
        if self._platform_sock is not None:
            self._mux.watch_socket(self._platform_sock, self._client, None)

    def _run_kills(self) -> None:
        while self._kills:
            self._carry_out(self._kills.popleft())

    def _carry_out(self, request: _Kill) -> None:
        request.killed = self._mux.kill(request.devices)
        request.done.set()

    # ---- messages (the publisher thread) --------------------------------------------------

    def _publish(self, item: Item) -> None:
        if item.will and item.device is not None:
            self._will(item.device)
            return
        super()._publish(item)
        if _status(item) == "asleep":
            conn = self._mux.live.get(item.device or "")
            if conn is not None:
                self._disconnect(conn)

    def _send(self, item: Item) -> tuple[mqtt.Client, mqtt.MQTTMessageInfo]:
        if item.device is None:
            return super()._send(item)
        conn = self._connection(item)
        info = conn.client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
        self._mux.watch(conn)
        return conn.client, info

    def _connection(self, item: Item) -> DeviceConn:
        """The device's open connection; a fresh one if it has none or says it is online anew."""
        assert item.device is not None
        conn = self._mux.live.get(item.device)
        if conn is not None and _status(item) == "online":
            self._disconnect(conn)
            conn = None
        return conn if conn is not None else self._open(item)

    def _open(self, item: Item) -> DeviceConn:
        device = item.device
        assert device is not None
        self._wait_drained(device)
        self._bucket.take(self._pass)
        conn = DeviceConn(device, self._client_for(item))
        conn.client.user_data_set(conn)
        try:
            conn.client.connect(self.url.host, self.url.port, keepalive=self.keepalive_s)
        except OSError as exc:
            raise ConnectionError(f"device {device} cannot connect to {self.url}: {exc}") from exc
        sock = conn.client.socket()
        if not isinstance(sock, socket.socket):
            raise TypeError(f"per-device mode needs TCP sockets, not {type(sock).__name__}")
        self._mux.add(conn, sock)
        return conn

    def _client_for(self, item: Item) -> mqtt.Client:
        assert item.device is not None
        route = self.topics.route(item.topic)
        data = from_json(item.payload)
        iccid = data.get("iccid") if isinstance(data, dict) else None
        will = DeviceStatus(
            t=item.t,
            device_id=item.device,
            iccid=iccid if isinstance(iccid, str) else None,
            status="offline",
            will=True,
        )
        client = connect_client(
            self.url,
            client_id=f"{self.client_prefix}-{item.device}",
            protocol=self._protocol,
            ca_file=self._ca_file,
            will=(self.topics.status(route.account or "", item.device), encode(will), 1, True),
        )
        client.max_inflight_messages_set(self._max_inflight)
        client.on_connect = self._mux.on_connect
        client.on_socket_close = self._mux.on_socket_close
        return client

    def _pass(self, seconds: float) -> None:
        """Let time pass in the publisher thread, serving every connection meanwhile."""
        self._service(min(seconds, POLL_S))

    def _will(self, device: str) -> None:
        """The world lost the device's connection: let the broker publish the Will it holds."""
        conn = self._mux.live.get(device)
        if conn is not None:
            self._settle_connection(conn)
        if conn is None or conn.state is not ConnState.OPEN:  # none, or killed meanwhile
            self.device_stats.wills_without_connection += 1
            return
        self._mux.drop(conn)
        self.device_stats.wills_triggered += 1

    def _settle_connection(self, conn: DeviceConn) -> None:
        """Serve the sockets until the connection's QoS 1 messages are acknowledged and written."""
        deadline = time.monotonic() + self.settle_timeout
        while conn.state is ConnState.OPEN and time.monotonic() < deadline:
            if not conn.client.want_write() and not self._inflight.outstanding(conn.client):
                return
            self._pass(POLL_S)

    def _wait_drained(self, device: str) -> None:
        """The broker must see the device's last DISCONNECT before its next CONNECT."""
        conn = self._mux.draining.get(device)
        deadline = time.monotonic() + self.settle_timeout
        while conn is not None and conn.state is ConnState.DRAINING:
            if time.monotonic() > deadline:
                self._mux.drained(conn, in_order=False)
                break
            self._pass(POLL_S)

    # ---- ending connections ---------------------------------------------------------------

    def _disconnect(self, conn: DeviceConn) -> None:
        """A clean DISCONNECT after what was sent; paho writes it and closes its socket.

        Waits for the CONNACK first, so that every accepted connection is counted.
        """
        deadline = time.monotonic() + self.settle_timeout
        while conn.state is ConnState.OPEN and not conn.connected and time.monotonic() < deadline:
            self._network(POLL_S)
        if conn.state is ConnState.OPEN and not conn.leaving:
            conn.leaving = True
            conn.client.disconnect()  # written at once; paho then calls on_socket_close
            self._mux.watch(conn)

    def _forget(self, conn: DeviceConn, *, delivered: bool) -> None:
        """Settle the base's books for a closed connection's outstanding QoS 1 messages.

        `delivered`: the broker handled them (it closed the socket after the DISCONNECT that
        followed them); otherwise they are lost with the connection.
        """
        acked, unacked = self._inflight.forget(conn.client)
        if delivered:
            self.stats.acked += acked + unacked
        else:
            self.device_stats.abandoned += unacked
            self.stats.acked += acked

    def _finish(self) -> None:
        """At close, in the publisher thread: devices first, then the base."""
        self._close_devices(self._close_timeout)
        super()._finish()

    def _close_devices(self, timeout: float) -> None:
        """Disconnect every device cleanly and serve the sockets until the broker closed them."""
        mux = self._mux
        for conn in list(mux.live.values()):
            self._disconnect(conn)
        deadline = time.monotonic() + min(timeout, self.settle_timeout)
        while (mux.live or mux.draining) and time.monotonic() < deadline:
            self._network(POLL_S)
        for conn in list(mux.draining.values()):
            mux.drained(conn, in_order=False)  # the broker did not answer in time
        for conn in list(mux.live.values()):
            mux.drop(conn)

    # ---- paho callbacks (the thread driving the sockets) ----------------------------------

    def _on_platform_socket_open(
        self, client: mqtt.Client, userdata: object, sock: SocketLike
    ) -> None:
        if self._platform_opened is not None:
            self._platform_opened(client, userdata, sock)
        self._platform_sock = sock
        self._mux.selector.register(sock, selectors.EVENT_READ, None)

    def _on_platform_socket_close(
        self, _client: mqtt.Client, _userdata: object, sock: SocketLike
    ) -> None:
        if self._platform_sock is sock:
            self._platform_sock = None
        self._mux.remove(sock)


def _status(item: Item) -> str | None:
    """The status a device's status message announces (online, asleep, offline), else None."""
    if item.device is None or not item.topic.endswith("/status"):
        return None
    data = from_json(item.payload)
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None
