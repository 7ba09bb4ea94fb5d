"""The real app under uvicorn on a free loopback port, with no broker: for API-only tests.

The broker port is one nobody listens on, so the ingest keeps retrying in its thread
(/health says 503) while the API answers from the store. `seeded` fills a database
with a small world first, fed to a service directly as the ingest would.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn

from diagnostics.main import create_app
from diagnostics.service import Service
from diagnostics.settings import Settings
from diagnostics.store import SQLiteStore
from protocol.wire import Topics
from simlab.broker import free_port
from simlab.direct import feed
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import START, collars, world

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from fastapi import FastAPI

ROOT = "api-test/simlab"
T0 = START.timestamp()


def settings_for(database: Path, **given) -> Settings:
    """Settings of a service on `database` whose broker is nowhere."""
    return Settings(
        broker_port=free_port(),
        root=ROOT,
        database=database,
        client_id=f"api-{uuid.uuid4().hex[:8]}",
        lag_probe_every=0,
        **given,
    )


@dataclass
class Running:
    url: str
    app: FastAPI

    @property
    def token(self) -> str:
        return str(self.app.state.access.token)

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.contextmanager
def serving(settings: Settings, access=None, training=None) -> Iterator[Running]:
    """The app for `settings` under uvicorn in a thread, until the block ends."""
    with serving_app(create_app(settings, access=access, training=training)) as running:
        yield running


@contextlib.contextmanager
def serving_app(app: FastAPI) -> Iterator[Running]:
    """`app` under uvicorn on a free loopback port, in a thread, until the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a hang, not a speed, is what this bound catches
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.02)
    try:
        yield Running(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(20)
        assert not thread.is_alive(), "the server did not stop"


def seeded(database: Path, hours: float = 3.0) -> float:
    """Fill `database` with three collars' first `hours`; returns the service clock reached."""
    sink = MemorySink()
    assert simulate(world(devices=[collars(3)]), sink, until=hours * 3600).error is None
    service = Service(store=SQLiteStore(database), topics=Topics(ROOT))
    until = T0 + hours * 3600
    feed(service, Topics(ROOT), sink, until)
    service.store.close()
    return until
