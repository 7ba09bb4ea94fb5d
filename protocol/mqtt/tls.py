"""TLS for MQTT clients: one way to build the `ssl.SSLContext` of `mqtts://`.

The diagnostics ingest and the simulator's publisher both connect with a
context from `client_context`: the system's trusted CAs, or only `ca` when
given; the broker's certificate checked, and its name (or IP address) against
the host connected to; TLS 1.2 at least; a client certificate and its key
when the broker asks for one (`require_certificate true` in Mosquitto).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["client_context"]


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
