"""The support console: the service's own pages, read from the same views as the JSON API.

Server-rendered with Jinja2 (autoescaped), live parts by htmx and server-sent events, both
vendored under `static/` (no CDN, no build step). `web_router` holds the pages,
`signin_router` signing in (`sessions`), `static_files` serves the assets.
"""

from diagnostics.web.pages import STATIC_DIR, static_files, web_router
from diagnostics.web.sessions import Sessions
from diagnostics.web.signin import signin_router
from diagnostics.web.training import trainee_router, training_router

__all__ = [
    "STATIC_DIR",
    "Sessions",
    "signin_router",
    "static_files",
    "trainee_router",
    "training_router",
    "web_router",
]
