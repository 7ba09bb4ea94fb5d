"""The support console: the service's own pages, read from the same views as the JSON API.

Server-rendered with Jinja2 (autoescaped), live parts by htmx and server-sent events, both
vendored under `static/` (no CDN, no build step). `mount_console` puts it all on an app:
`web_router` the pages, `signin_router` signing in (`sessions`), the training routers, and
`static_files` the assets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnostics.web.pages import STATIC_DIR, static_files, web_router
from diagnostics.web.sessions import Sessions
from diagnostics.web.signin import signin_router
from diagnostics.web.training import trainee_router, training_router

if TYPE_CHECKING:
    from fastapi import FastAPI

    from diagnostics.training_port import TrainingPort

__all__ = [
    "STATIC_DIR",
    "Sessions",
    "mount_console",
    "signin_router",
    "static_files",
    "trainee_router",
    "training_router",
    "web_router",
]


def mount_console(app: FastAPI, training: TrainingPort | None = None) -> None:
    """The console's pages, sign-in, training (through `training`, if any) and assets on `app`."""
    for router in (signin_router, web_router, training_router, trainee_router):
        app.include_router(router)
    app.mount("/static", static_files(), name="static")
    app.state.sessions = Sessions()
    app.state.training = training
