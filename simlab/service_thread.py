"""The diagnostics service of a run: its app under uvicorn in a thread, and waiting on it.

The runner starts the service (the FastAPI app with its ingest and SQLite store) in a
daemon thread of its own process, on a free loopback port, and talks to it over HTTP
as support staff would, with an API token of the run's own (made for it, kept in
memory only: no token file beside the run's database). `caught_up` waits until the
service has ingested the world up to a moment (its clock has passed that watermark).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from typing import TYPE_CHECKING, Final

import httpx
import uvicorn

from diagnostics.access import Access, new_token
from diagnostics.main import create_app
from simlab.serving import bind

if TYPE_CHECKING:
    import socket
    from collections.abc import Iterator

    from diagnostics.settings import Settings

__all__ = [
    "CATCH_UP_S",
    "RunError",
    "ServiceProcess",
    "ServiceThread",
    "UnreachableError",
    "caught_up",
]

CATCH_UP_S: Final = 120.0
"""How long (wall clock) the runner waits for the service to ingest a watermark."""


class RunError(RuntimeError):
    """The run could not be completed (the service did not catch up, the world failed)."""


class UnreachableError(RunError):
    """The broker of the run could not be reached (the message names it)."""


# ---- the service in a thread -------------------------------------------------------------------


class ServiceThread:
    """The diagnostics app under uvicorn on a free loopback port, in a daemon thread."""

    def __init__(self, settings: Settings) -> None:
        self.broker = settings.broker_url
        """Where the broker is, for messages: its user name but never its password."""
        self.sock = bind("127.0.0.1", 0)
        self.port: int = self.sock.getsockname()[1]
        self.access = Access(new_token(), settings.public, "this run's own, in memory")
        app = create_app(settings, access=self.access)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, args=([self.sock],), name="simlab-service", daemon=True
        )

    @property
    def url(self) -> str:
        """Where its API answers."""
        return f"http://127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def running(self, timeout: float = 30.0) -> Iterator[httpx.Client]:
        """Start it, wait until it is subscribed, yield a client that sends the token."""
        self._start()
        deadline = time.monotonic() + timeout
        try:
            while not self._started():
                if not self._alive():
                    raise RunError("the diagnostics service did not start")
                if time.monotonic() > deadline:
                    raise RunError("the diagnostics service did not start in time")
                time.sleep(0.02)
            token = {"Authorization": f"Bearer {self.access.token}"}
            with httpx.Client(base_url=self.url, headers=token, timeout=30) as client:
                while not (health := _health(client)).get("broker_connected"):
                    # The run tried the broker's port: a failure now (a refusal, TLS) stays.
                    failed = health.get("broker_error")
                    if failed or time.monotonic() > deadline:
                        why = f": {failed}" if failed else ""
                        raise UnreachableError(
                            f"the diagnostics service did not reach the broker at {self.broker}"
                            + why
                        )
                    time.sleep(0.05)
                yield client
        finally:
            self._stop()
            self.sock.close()

    def _start(self) -> None:
        self.thread.start()

    def _started(self) -> bool:
        return bool(self.server.started)

    def _alive(self) -> bool:
        return self.thread.is_alive()

    def _stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


class ServiceProcess(ServiceThread):
    """The same app in a process of its own (spawned), for load runs.

    The world and its publisher then share neither an interpreter nor a core with it.
    """

    def __init__(self, settings: Settings) -> None:
        self.broker = settings.broker_url
        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.access = Access(new_token(), settings.public, "this run's own, in memory")
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(
            target=_serve, args=(settings, self.access, self.sock), name="simlab-service"
        )

    def _start(self) -> None:
        self.process.start()

    def _started(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code in {200, 503}
        except httpx.HTTPError:
            return False

    def _alive(self) -> bool:
        return self.process.is_alive()

    def _stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()  # uvicorn shuts the app down, the store closes
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _serve(settings: Settings, access: Access, sock: socket.socket) -> None:
    """The service process: the app under uvicorn on the socket its parent bound."""
    app = create_app(settings, access=access)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run([sock])


def _health(client: httpx.Client) -> dict[str, object]:
    answer: dict[str, object] = client.get("/health").json()
    return answer


def caught_up(client: httpx.Client, t: float, timeout: float = CATCH_UP_S) -> None:
    """Wait until the service has ingested up to `t` (its clock has passed it)."""
    deadline = time.monotonic() + timeout
    while True:
        clock = client.get("/api/fleet").json()["clock"]
        if clock is not None and clock >= t - 1e-6:
            return
        if time.monotonic() > deadline:
            raise RunError(f"the service did not ingest up to t={t} within {timeout:.0f} s")
        time.sleep(0.02)
