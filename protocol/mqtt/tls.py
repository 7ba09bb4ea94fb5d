"""TLS for MQTT clients: one way to build the `ssl.SSLContext` of `mqtts://`, and to read it.

The diagnostics ingest and the simulator's publisher both connect with a
context from `client_context`: the system's trusted CAs, or only `ca` when
given; the broker's certificate checked, and its name (or IP address) against
the host connected to; TLS 1.2 at least; a client certificate and its key
when the broker asks for one (`require_certificate true` in Mosquitto).

`open_socket` is the ingest's connection, TLS or not; `with_pending` reads
what OpenSSL still holds decrypted after a `recv` (`pending()`), without
waiting, so a reader that next waits on the socket never leaves it behind.
(`SSLSocket.recv` itself reads OpenSSL's buffer before it waits, so with a
timeout a `TimeoutError` still means nothing is there.)
"""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["client_context", "open_socket", "with_pending"]


def client_context(
    *,
    ca: str | Path | None = None,
    cert: str | Path | None = None,
    key: str | Path | None = None,
) -> ssl.SSLContext:
    """A verifying client context: trust `ca` (else the system's CAs), present `cert` and `key`.

    Raises:
        ValueError: only one of `cert` and `key` is given.
        OSError: a file cannot be read (ssl.SSLError when it is not a certificate or key).
    """
    if (cert is None) != (key is None):
        raise ValueError("a client certificate needs its key: give both cert and key, or neither")
    context = ssl.create_default_context(cafile=None if ca is None else str(ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


def open_socket(
    host: str, port: int, timeout: float, tls: ssl.SSLContext | None = None
) -> socket.socket:
    """A TCP connection without Nagle's delay, wrapped in TLS (handshake done) when `tls` is given.

    Raises:
        OSError: the connection or the handshake failed (ssl.SSLError is one).
    """
    sock = socket.create_connection((host, port), timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock if tls is None else tls.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def with_pending(sock: socket.socket, data: bytes) -> bytes:
    """`data` and what TLS still holds decrypted after the `recv` that read it."""
    if not isinstance(sock, ssl.SSLSocket) or not (more := sock.pending()):
        return data
    parts = [data]
    while more:
        parts.append(sock.recv(more))
        more = sock.pending()
    return b"".join(parts)
