"""The diagnostics service started safely: its database tried, its HTTP port taken, then MQTT.

`serve` (what `simlab serve` runs) tries the database file (`check_database`)
and takes the HTTP port (`bind`) before the app starts, so a bad file or a busy
port is one line and the broker never sees a connection from a service that
could not start (a connection that would take the session of the service
already running under the same client id); then it runs the app under uvicorn
on the bound socket. A run's `ServiceThread` binds its port the same way.

Errors (one line each, naming the file or the address, and what to do):

    ServeError            the service cannot start
    ├── ServeInputError     the database file or the address given cannot be used
    └── StoreOpenError      the database file cannot be opened (permissions, a full disk)
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from typing import TYPE_CHECKING

import uvicorn

from diagnostics.main import create_app
from diagnostics.store import SQLiteStore, StoreFileError

if TYPE_CHECKING:
    from pathlib import Path

    from diagnostics.settings import Settings

__all__ = ["ServeError", "ServeInputError", "StoreOpenError", "bind", "check_database", "serve"]


class ServeError(Exception):
    """The service cannot start (the message names the file or address, and what to do)."""


class ServeInputError(ServeError):
    """The database file or the address given cannot be used: give another."""


class StoreOpenError(ServeError):
    """The database file is a store, or could be one, but cannot be opened now."""


def check_database(path: Path) -> None:
    """Open the store on `path` once (creating or migrating it) and close it again.

    Raises:
        ServeInputError: `path` is a directory, its directory does not exist, or the
            file is not a diagnostics store of a version this code reads.
        StoreOpenError: SQLite cannot open or write the file (permissions, disk, lock).
    """
    if path.is_dir():
        raise ServeInputError(f"{path}: a directory; give --db a file in it")
    if not path.parent.is_dir():
        raise ServeInputError(
            f"{path}: the directory {path.parent} does not exist; create it, or give --db "
            "a file in a directory that does"
        )
    try:
        SQLiteStore(path).close()
    except StoreFileError as exc:
        advice = "" if exc.remedy else "; give --db a diagnostics store, or a new file"
        raise ServeInputError(f"{exc}{advice}") from None
    except (sqlite3.Error, OSError) as exc:
        raise StoreOpenError(
            f"{path}: the database cannot be opened ({exc}); check its permissions and disk"
        ) from None


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), not yet listening (port 0: a free one).

    Raises:
        ServeInputError: the port is in use, or the address cannot be bound.
    """
    # IPPROTO_TCP, as getaddrinfo would give: asyncio sets TCP_NODELAY only on sockets that
    # say they are TCP, and without it each API answer waits 40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeInputError(
                f"{host}:{port} is in use (another simlab serve?): stop it, or give another --port"
            ) from None
        raise ServeInputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def serve(settings: Settings, *, host: str, port: int, log_level: str = "info") -> None:
    """Check the database, bind (host, port), then run the app under uvicorn until stopped.

    Raises:
        ServeInputError: from `check_database` or `bind`, before anything connects.
        StoreOpenError: from `check_database`.
    """
    check_database(settings.database)
    with bind(host, port) as sock:
        server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level=log_level))
        server.run(sockets=[sock])
