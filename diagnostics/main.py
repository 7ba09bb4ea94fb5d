"""The FastAPI app: a lifespan that runs the store, the service and the ingest, and the API.

`create_app(settings)` builds an app whose lifespan opens the SQLite store,
builds the `Service`, rebuilds its detection statuses from the store, and only then
starts the MQTT ingest (so nothing is judged before the past is known); on
exit it stops the ingest (committing and acknowledging what has arrived) and
closes the store. The settings, the service, its metrics registry and the
ingest live on `app.state`; the routers of `diagnostics.api` read them.

Who may call the API is settled when the app is built, before anything runs:
`app.state.access` is the one given, else `diagnostics.access.resolve_access`'s
(which may make the token file next to the database, and logs where the token
is, never the token). Request bodies are capped at `Settings.max_body_bytes`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi_offline import FastAPIOffline

from diagnostics import metrics
from diagnostics.access import Access, resolve_access
from diagnostics.api import BodyLimit, api_router, exception_handlers
from diagnostics.ingest import Ingest
from diagnostics.service import Service
from diagnostics.settings import Settings
from diagnostics.store import SQLiteStore
from diagnostics.web import mount_console
from protocol.mqtt.tls import client_context
from protocol.wire import Topics

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from diagnostics.training_port import TrainingPort

__all__ = ["create_app"]

log = logging.getLogger("simlab.diagnostics")


async def _tick(service: Service, every: float) -> None:
    """Wall-clock mode: judge the fleet every `every` seconds."""
    while True:
        await asyncio.to_thread(service.tick, time.time())
        await asyncio.sleep(every)


def _tls(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of mqtts:// (its CA, client certificate and key), or None."""
    if not settings.broker_tls:
        return None
    return client_context(ca=settings.broker_ca, cert=settings.broker_cert, key=settings.broker_key)


def create_app(
    settings: Settings | None = None,
    *,
    access: Access | None = None,
    training: TrainingPort | None = None,
) -> FastAPI:
    """The diagnostics app for `settings` (when None: the environment's, else the defaults).

    `training`: the port of exercises the console runs (`simlab serve --scenarios`).

    Raises:
        TokenError: `access` is None and `resolve_access` finds no token (see it).
    """
    settings = settings or Settings()
    if access is None:
        access = resolve_access(settings)
        log.info("API token: %s", access.source)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = SQLiteStore(
            settings.database,
            synchronous="FULL" if settings.synchronous else "NORMAL",
            dead_letter_bytes=settings.dead_letter_bytes,
        )
        try:
            service = Service(
                store=store,
                topics=Topics(settings.root),
                wall_clock=settings.clock == "wall",
                time_bounds=settings.time_bounds,
                max_unknown_devices=settings.max_unknown_devices,
            )
            replayed = await asyncio.to_thread(service.rebuild)
            log.info("rebuilt %d devices from %d stored messages", len(service.detector), replayed)
            password = settings.broker_password
            ingest = Ingest(
                host=settings.broker_host,
                port=settings.broker_port,
                subscription=service.subscription,
                on_batch=service.handle,
                client_id=settings.session_id,
                batch_max=settings.batch_max,
                batch_wait=settings.batch_wait,
                probe_every=settings.lag_probe_every,
                keepalive=settings.keepalive,
                max_packet=settings.max_packet_bytes,
                protocol=settings.mqtt_version,
                username=settings.broker_username,
                password=password.get_secret_value() if password is not None else None,
                tls=_tls(settings),
            )
            service.ingest = ingest
            app.state.settings = settings
            app.state.service = service
            app.state.registry = metrics.registry(service)
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

    app = FastAPIOffline(  # /docs and /redoc from packaged assets: no CDN on a closed network
        title="simlab diagnostics",
        summary="Which devices are offline, and why, from what devices and the network report.",
        version="0.1.0",
        lifespan=lifespan,
        exception_handlers=exception_handlers,
    )
    app.state.access = access
    app.include_router(api_router)
    mount_console(app, training)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
