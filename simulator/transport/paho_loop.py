"""A paho client driven through its external-loop API, one turn at a time, by a thread of ours.

paho's own `loop()` would add a wake-up socket pair and a second send per
publish, and `loop_start()` a thread per client; the sinks instead configure a
client here (`connect_client`) and turn its loop themselves: `turn` waits on
its socket with poll() (select() fails for descriptors past 1023), `serve`
reads, writes and keeps alive what is ready, and `flush` writes what paho
holds. `send_all` writes bytes of our own (the raw QoS 0 packets) between
paho's packets.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from typing import TYPE_CHECKING

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protocol.mqtt.tls import client_context

if TYPE_CHECKING:
    from simulator.transport.url import BrokerUrl

__all__ = ["connect_client", "flush", "send_all", "serve", "turn", "wait_writable"]


def connect_client(
    url: BrokerUrl,
    *,
    client_id: str,
    protocol: int = 5,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    clean: bool = True,
    will: tuple[str, bytes, int, bool] | None = None,
) -> mqtt.Client:
    """A paho client configured for `url` (credentials, TLS, protocol), not yet connected.

    TLS (mqtts://) trusts `ca_file` (else the system's CAs) and presents `cert_file` with
    `key_file` when given (`protocol.mqtt.tls.client_context`).

    Reconnecting is the caller's: paho's reconnect delays apply only to `loop_forever`.
    """
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
        client.tls_set_context(client_context(ca=ca_file, cert=cert_file, key=key_file))
    if will is not None:
        topic, payload, qos, retain = will
        client.will_set(topic, payload, qos=qos, retain=retain)
    client.on_socket_open = _no_delay
    return client


def _no_delay(_client: mqtt.Client, _userdata: object, sock: object) -> None:
    """Small packets go out at once: Nagle's algorithm stalls a publish/acknowledge ping-pong."""
    raw = getattr(sock, "setsockopt", None)
    if raw is not None:
        raw(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def turn(client: mqtt.Client, timeout: float) -> int:
    """One turn of the client's loop: wait up to `timeout` s for its socket, serve it; paho's rc."""
    sock = client.socket()
    if sock is None:
        return int(mqtt.MQTT_ERR_NO_CONN)
    pending = getattr(sock, "pending", None)  # TLS may hold decrypted bytes already
    ready = pending is not None and pending() > 0
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | (select.POLLOUT if client.want_write() else 0))
    events = poller.poll(0 if ready else timeout * 1000)
    readable = any(e & (select.POLLIN | select.POLLHUP | select.POLLERR) for _, e in events)
    writable = any(e & select.POLLOUT for _, e in events)
    return serve(client, read=ready or readable, write=writable)


def serve(client: mqtt.Client, *, read: bool, write: bool) -> int:
    """Read and write what the socket is ready for, then paho's keepalive work; paho's rc."""
    if client.socket() is None:
        return int(mqtt.MQTT_ERR_NO_CONN)
    rc = mqtt.MQTT_ERR_SUCCESS
    if read:
        rc = client.loop_read()
    if rc == mqtt.MQTT_ERR_SUCCESS and write:
        rc = client.loop_write()
    if rc == mqtt.MQTT_ERR_SUCCESS:
        rc = client.loop_misc()
    return int(rc)


def flush(client: mqtt.Client, *, wait: bool, patience: float, broker: object) -> None:
    """Let paho write its queue; with `wait`, until no packet is left half written.

    Raises ConnectionError when the broker (`broker` names it) read nothing for `patience` s.
    """
    deadline = time.monotonic() + patience
    while client.want_write() and client.socket() is not None:
        client.loop_write()
        if not wait or not client.want_write():
            return
        if time.monotonic() > deadline:
            raise ConnectionError(f"the MQTT broker at {broker} stopped reading")
        wait_writable(client.socket())


def send_all(sock: object, data: memoryview, patience: float) -> None:
    """Write all of `data` to a non-blocking socket; OSError if it cannot within `patience` s."""
    deadline = time.monotonic() + patience
    while data:
        if sock is None or time.monotonic() > deadline:
            raise OSError("no connection to write to")
        try:
            data = data[sock.send(data) :]  # type: ignore[attr-defined]  # sockets take views
        except (BlockingIOError, ssl.SSLWantWriteError):
            wait_writable(sock)


def wait_writable(sock: object) -> None:
    """Wait up to 50 ms for the socket to take more bytes."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLOUT)  # type: ignore[attr-defined]
    poller.poll(50)
