"""The per-device sink's connections: their states, and one selector that serves every socket.

The base sink's publisher thread drives its connection through paho's
external-loop API; the per-device sink adds no thread of its own. Instead one
turn of its loop waits on a `selectors.DefaultSelector` (epoll) holding the
platform socket and every device socket (`Multiplexer.poll`), and serves the
ready ones (`loop_read`, `loop_write`, `want_write`, and `loop_misc` twice a
second). 2,000 clients with `loop_start` would be 2,000 threads, and cannot
work in one process anyway: paho's own loop uses select(), which fails for
file descriptors above 1023 (three a client, so 339 clients). One thread for
all sockets also means no locks between publishing and acknowledgements.

A device connection is open, then either drops (killed, its Will, lost: the
broker publishes the Will) or leaves cleanly: after its DISCONNECT a duplicate
of its socket is read until the broker closes it (draining), so the broker has
handled the DISCONNECT before the device connects again.
"""

from __future__ import annotations

import contextlib
import enum
import os
import selectors
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt
    from paho.mqtt.client import SocketLike
    from paho.mqtt.reasoncodes import ReasonCode

__all__ = ["ConnState", "DeviceConn", "DeviceStats", "Forget", "Multiplexer", "buffered", "events"]

MISC_EVERY_S: Final = 0.5
"""How often paho may send pings and check keepalives on the device connections."""


@dataclass(slots=True)
class DeviceStats:
    """What the device connections did (the platform connection is in `PublishStats`)."""

    opened: int = 0
    """Connections opened (socket connected, CONNECT sent)."""
    connects: int = 0
    """Connections the broker accepted (CONNACK success)."""
    refused: int = 0
    devices: int = 0
    """Distinct devices that were connected at least once."""
    connected_now: int = 0
    peak_connected: int = 0
    connect_rate: float = 0.0
    """Connections opened per wall second, from the first open to the last."""
    peak_connect_rate: int = 0
    """Most connections opened within any one wall second."""
    first_open: float | None = None
    last_open: float | None = None
    """time.monotonic() of the first and the last open."""
    wills_triggered: int = 0
    """World Wills turned into an abrupt close, so that the broker published the device's Will."""
    wills_without_connection: int = 0
    """World Wills for a device with no open connection: nothing the broker could publish."""
    kills: int = 0
    clean_disconnects: int = 0
    lost: int = 0
    """Connections the broker or the network closed without being asked."""
    abandoned: int = 0
    """QoS 1 messages unacknowledged on a connection that was dropped (lost with it)."""


class ConnState(enum.Enum):
    """Where a device connection is in its life."""

    OPEN = "open"
    DRAINING = "draining"
    """DISCONNECT written; waiting for the broker to close its side."""
    CLOSED = "closed"
    """Cleanly closed: no Will."""
    DEAD = "dead"
    """Closed without a DISCONNECT (killed, Will, lost)."""


@dataclass(eq=False, slots=True)
class DeviceConn:
    """One device connection (a fresh paho client each time the device connects)."""

    device: str
    client: mqtt.Client
    state: ConnState = ConnState.OPEN
    sock: socket.socket | None = None
    connected: bool = False
    leaving: bool = False
    """A clean DISCONNECT was asked for."""
    drain: socket.socket | None = None
    """After the DISCONNECT: a duplicate of the socket, read until the broker closes it."""


class Forget(Protocol):
    """Settles the sink's books for a closed connection's outstanding QoS 1 messages."""

    def __call__(self, conn: DeviceConn, *, delivered: bool) -> None:
        """`delivered`: the broker handled them; otherwise they are lost with the connection."""


class Multiplexer:
    """The device connections, open and draining, and one selector over every socket.

    `forget` settles the sink's books for each connection that closes.
    """

    def __init__(self, forget: Forget) -> None:
        self.stats = DeviceStats()
        self.selector = selectors.DefaultSelector()
        self.live: dict[str, DeviceConn] = {}
        self.draining: dict[str, DeviceConn] = {}
        self._forget = forget
        self._seen: set[str] = set()
        self._opens: deque[float] = deque()
        self._again: list[DeviceConn] = []
        """TLS connections holding decrypted bytes after a read: served again next turn."""
        self._misc_at = 0.0

    def add(self, conn: DeviceConn, sock: socket.socket) -> None:
        """Watch a device connection just opened (its CONNECT sent)."""
        conn.sock = sock
        self.selector.register(sock, events(conn.client), conn)
        self.live[conn.device] = conn
        self._count_open()

    def poll(self, timeout: float, platform: int) -> int:
        """Wait on every socket at once and serve the ready device sockets.

        `platform`: what the platform socket is known ready for already (then there is no
        wait); returns what it is ready for, which the caller serves.
        """
        again, self._again = self._again, []
        if again or platform:
            timeout = 0.0
        if self.selector.get_map():
            for key, mask in self.selector.select(timeout):
                if key.data is None:
                    platform |= mask
                else:
                    self._serve(key.data, mask)
        for conn in again:
            self._serve(conn, selectors.EVENT_READ)
        self._misc()
        return platform

    def _misc(self) -> None:
        """Pings and keepalive checks, twice a second."""
        now = time.monotonic()
        if now < self._misc_at:
            return
        self._misc_at = now + MISC_EVERY_S
        for conn in list(self.live.values()):
            conn.client.loop_misc()
            self.watch(conn)

    def _serve(self, conn: DeviceConn, mask: int) -> None:
        if conn.state is ConnState.DRAINING:
            self._read_drain(conn)
        if conn.state is not ConnState.OPEN:
            return
        if mask & selectors.EVENT_READ:
            conn.client.loop_read()
            if conn.state is ConnState.OPEN and buffered(conn.sock):
                self._again.append(conn)
        if mask & selectors.EVENT_WRITE and conn.state is ConnState.OPEN:
            conn.client.loop_write()
        self.watch(conn)

    def watch(self, conn: DeviceConn) -> None:
        """Watch a device socket for writability exactly while paho has bytes for it."""
        if conn.state is not ConnState.OPEN or conn.sock is None:
            return
        self.watch_socket(conn.sock, conn.client, conn)

    def watch_socket(self, sock: SocketLike, client: mqtt.Client, data: object) -> None:
        """Watch a socket for writability exactly while its client has bytes for it."""
        wanted = events(client)
        with contextlib.suppress(KeyError, ValueError):
            if self.selector.get_key(sock).events != wanted:
                self.selector.modify(sock, wanted, data)

    def remove(self, sock: SocketLike | socket.socket) -> None:
        """Stop watching a socket (before it is closed); nothing if it is not watched."""
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.selector.unregister(sock)

    # ---- ending connections ---------------------------------------------------------------

    def kill(self, devices: list[str]) -> int:
        """Drop these devices' open connections; returns how many were open."""
        conns = [c for d in devices if (c := self.live.get(d)) is not None]
        for conn in conns:
            self.drop(conn)
        self.stats.kills += len(conns)
        return len(conns)

    def drop(self, conn: DeviceConn) -> None:
        """Close the socket without a DISCONNECT: to the broker the device is gone."""
        self._ended(conn, ConnState.DEAD)
        sock = conn.sock
        if sock is not None:
            self.remove(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._forget(conn, delivered=False)

    def _ended(self, conn: DeviceConn, state: ConnState) -> None:
        conn.state = state
        if self.live.get(conn.device) is conn:
            del self.live[conn.device]
        if conn.connected:
            conn.connected = False
            self.stats.connected_now -= 1

    def _start_drain(self, conn: DeviceConn, sock: SocketLike) -> None:
        """Keep the connection open past paho's close until the broker closes it (EOF)."""
        self._ended(conn, ConnState.DRAINING)
        self.draining[conn.device] = conn
        self.stats.clean_disconnects += 1
        try:
            raw = socket.socket(fileno=os.dup(sock.fileno()))
            raw.settimeout(0.0)  # non-blocking
            raw.shutdown(socket.SHUT_WR)
        except OSError:
            self.drained(conn, in_order=False)
            return
        conn.drain = raw
        self.selector.register(raw, selectors.EVENT_READ, conn)

    def _read_drain(self, conn: DeviceConn) -> None:
        """Discard what the broker still sends; EOF means it handled the DISCONNECT."""
        assert conn.drain is not None
        try:
            data: bytes | None = conn.drain.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = None  # reset: the broker may not have read the DISCONNECT
        if data:
            return  # acknowledgements paho will never read: keep reading
        self.drained(conn, in_order=data is not None)

    def drained(self, conn: DeviceConn, *, in_order: bool) -> None:
        """The broker closed a cleanly disconnected connection (or did not in time).

        In order (EOF): it handled every message before the DISCONNECT, acknowledged or not.
        """
        conn.state = ConnState.CLOSED
        if conn.drain is not None:
            self.remove(conn.drain)
            conn.drain.close()
            conn.drain = None
        if self.draining.get(conn.device) is conn:
            del self.draining[conn.device]
        self._forget(conn, delivered=in_order)

    def _count_open(self) -> None:
        now = time.monotonic()
        stats = self.stats
        stats.opened += 1
        stats.first_open = stats.first_open or now
        stats.last_open = now
        if now > stats.first_open:
            stats.connect_rate = (stats.opened - 1) / (now - stats.first_open)
        self._opens.append(now)
        while self._opens[0] <= now - 1.0:
            self._opens.popleft()
        stats.peak_connect_rate = max(stats.peak_connect_rate, len(self._opens))

    # ---- paho callbacks (the thread driving the sockets) ----------------------------------

    def on_connect(
        self,
        _client: mqtt.Client,
        conn: DeviceConn,
        _flags: object,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        """A device's CONNACK: count the connection (or the refusal)."""
        stats = self.stats
        if reason.is_failure:
            stats.refused += 1
            return
        conn.connected = True
        stats.connects += 1
        stats.connected_now += 1
        stats.peak_connected = max(stats.peak_connected, stats.connected_now)
        if conn.device not in self._seen:
            self._seen.add(conn.device)
            stats.devices += 1

    def on_socket_close(self, _client: mqtt.Client, conn: DeviceConn, sock: SocketLike) -> None:
        """Paho closes a device socket: after its DISCONNECT, or because the connection broke."""
        self.remove(sock)
        if conn.state is not ConnState.OPEN:
            return
        if conn.leaving:
            self._start_drain(conn, sock)
        else:
            self.stats.lost += 1
            self._ended(conn, ConnState.DEAD)
            self._forget(conn, delivered=False)


def events(client: mqtt.Client) -> int:
    """What to watch a client's socket for: reading always, writing while paho has bytes."""
    return selectors.EVENT_READ | (selectors.EVENT_WRITE if client.want_write() else 0)


def buffered(sock: SocketLike | socket.socket | None) -> bool:
    """Whether a TLS socket holds decrypted bytes already (select() cannot see them)."""
    pending = getattr(sock, "pending", None)
    return pending is not None and pending() > 0
