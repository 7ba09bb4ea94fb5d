"""The FastAPI app: settings, and a lifespan that runs the store, the service and the ingest.

`create_app(settings)` builds an app whose lifespan opens the SQLite store,
builds the `Service`, rebuilds its verdicts from the store, and only then
starts the MQTT ingest (so nothing is judged before the past is known); on
exit it stops the ingest (committing and acknowledging what has arrived) and
closes the store. The service and the ingest live on `app.state`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from diagnostics.api import api_router
from diagnostics.ingest import Ingest
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.wire import DEFAULT_ROOT, Topics

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["Settings", "create_app"]

log = logging.getLogger("simlab.diagnostics")


class Settings(BaseModel):
    """Where the stream comes from and where it is kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    broker_host: str = "127.0.0.1"
    broker_port: int = Field(1883, ge=1, le=65535)
    mqtt_version: Literal[4, 5] = 5
    """5, or 4 (3.1.1) for a broker without MQTT 5 (the embedded amqtt)."""
    root: str = DEFAULT_ROOT
    """Topic root of the run; the service subscribes to everything under it."""
    database: Path = Path("diagnostics.sqlite")
    client_id: str = "simlab-diagnostics"
    """The MQTT client id: the persistent session that keeps unacknowledged messages."""
    batch_max: int = Field(10_000, ge=1)
    """Messages committed in one transaction at most: a commit rewrites each device's index
    page once, however many of its messages it holds, so larger batches cost less each."""
    batch_wait: float = Field(0.2, gt=0)
    """Seconds a batch waits for more messages after its first (what it adds to the lag)."""
    lag_probe_every: float = Field(1.0, ge=0)
    """Seconds between the probes that measure broker-to-commit lag (0: no probes)."""
    clock: Literal["stream", "wall"] = "stream"
    """stream: "now" is the stream's watermark (simulated runs, replays); wall: real fleets."""
    tick: float = Field(10.0, gt=0)
    """Wall-clock mode: seconds between sweeps."""
    synchronous: bool = False
    """Sync the WAL on every commit (survives power loss, not only a process crash)."""


async def _tick(service: Service, every: float) -> None:
    """Wall-clock mode: judge the fleet every `every` seconds."""
    while True:
        await asyncio.to_thread(service.tick, time.time())
        await asyncio.sleep(every)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The diagnostics app for `settings` (defaults when None)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = SQLiteStore(
            settings.database, synchronous="FULL" if settings.synchronous else "NORMAL"
        )
        try:
            service = Service(
                store=store,
                topics=Topics(settings.root),
                wall_clock=settings.clock == "wall",
            )
            replayed = await asyncio.to_thread(service.rebuild)
            log.info("rebuilt %d devices from %d stored messages", len(service.detector), replayed)
            ingest = Ingest(
                host=settings.broker_host,
                port=settings.broker_port,
                subscription=service.subscription,
                on_batch=service.handle,
                client_id=settings.client_id,
                batch_max=settings.batch_max,
                batch_wait=settings.batch_wait,
                probe_every=settings.lag_probe_every,
                protocol=settings.mqtt_version,
            )
            service.ingest = ingest
            app.state.settings = settings
            app.state.service = service
            app.state.ingest = ingest
            ingest.start()
            ticking = (
                asyncio.create_task(_tick(service, settings.tick)) if service.wall_clock else None
            )
            try:
                yield
            finally:
                if ticking is not None:
                    ticking.cancel()
                await asyncio.to_thread(ingest.stop)
        finally:
            store.close()

    app = FastAPI(
        title="simlab diagnostics",
        summary="Which devices are offline, and why, from what devices and the network report.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(api_router)
    return app
