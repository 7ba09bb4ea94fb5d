"""The diagnostics service started safely: its database tried, its token found, its port taken.

`serve` (what `simlab serve` runs) tries the database file (`check_database`),
settles who may call the API (`check_access`: a host beyond loopback makes the
service public, and a public service without a configured token does not start)
and takes the HTTP port (`bind`) before the app starts, so a bad file, a missing
token or a busy port is one line and the broker never sees a connection from a
service that could not start (a connection that would take the session of the
service already running under the same client id); then it runs the app under
uvicorn on the bound socket. A run's `ServiceThread` binds its port the same way.

Errors (one line each, naming the file, the setting or the address, and what to do):

    ServeError            the service cannot start
    ├── ServeInputError     the database file, the token or the address cannot be used
    └── StoreOpenError      the database file cannot be opened (permissions, a full disk)
"""

from __future__ import annotations

import errno
import logging
import socket
import sqlite3
from typing import TYPE_CHECKING

import uvicorn

from diagnostics.access import Access, TokenError, is_loopback, resolve_access
from diagnostics.main import create_app
from diagnostics.store import SQLiteStore, StoreFileError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from diagnostics.settings import Settings
    from diagnostics.training_port import TrainingPort

__all__ = [
    "ServeError",
    "ServeInputError",
    "StoreOpenError",
    "bind",
    "check_access",
    "check_database",
    "serve",
]


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


def check_access(settings: Settings, host: str) -> Access:
    """Who may call the API of a service on `host`: public beyond loopback (see the module).

    Raises:
        ServeInputError: the token file is missing or empty, or the service is public and
            no token is configured (the message names SIMLAB_API_TOKEN).
    """
    public = settings.public or not is_loopback(host)
    try:
        return resolve_access(settings.model_copy(update={"public": public}))
    except TokenError as exc:
        where = "" if is_loopback(host) else f" (--host {host} is beyond loopback)"
        raise ServeInputError(f"{exc}{where}") from None


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


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    say: Callable[[str], None] | None = None,
    training: TrainingPort | None = None,
) -> None:
    """Check the database and the token, bind (host, port), then run the app until stopped.

    `say` is told, in one line, where the API's token is (never the token). `training`:
    the exercises the console's training page runs (None: training off).

    Raises:
        ServeInputError: from `check_database`, `check_access` or `bind`, before anything
            connects.
        StoreOpenError: from `check_database`.
    """
    check_database(settings.database)
    access = check_access(settings, host)
    _log_to_stderr(log_level)
    with bind(host, port) as sock:
        if say is not None:
            reads = "reads and writes" if access.public else "writes"
            say(f"API token for {reads}: {access.source}")
        app = create_app(settings, access=access, training=training)
        server = uvicorn.Server(uvicorn.Config(app, log_level=log_level))
        server.run(sockets=[sock])


def _log_to_stderr(level: str) -> None:
    """The service's own log lines (ingest, store) on stderr beside uvicorn's, at `level`.

    Uvicorn configures its own loggers only; without this the `simlab.*` warnings reach
    stderr bare (Python's last-resort handler) and its INFO lines not at all.
    """
    logger = logging.getLogger("simlab")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-8s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
