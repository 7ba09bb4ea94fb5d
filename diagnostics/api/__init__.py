"""The REST API: one router per resource, assembled here; response models apart from the wire's.

Each module of `diagnostics.api.routes` holds one resource's `APIRouter`;
`api_router` includes them all, in the order their paths are matched, each behind
the bearer token's check (`diagnostics.api.auth.authorize`: writes always, reads
when the service is public), and `exception_handlers` turns the service's own
errors into their status codes. `BodyLimit` caps request bodies in front of it all.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from diagnostics.api.auth import authorize
from diagnostics.api.body_limit import BodyLimit
from diagnostics.api.errors import exception_handlers
from diagnostics.api.routes import (
    dead_letters,
    devices,
    diagnoses,
    fleet,
    incidents,
    ops,
    silences,
    swap_tests,
)

__all__ = ["BodyLimit", "api_router", "exception_handlers"]

_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "No API token, or a wrong one (writes always; reads from a public "
        "service), with the reason",
    }
}

api_router = APIRouter(dependencies=[Depends(authorize)], responses=_UNAUTHORIZED)
for _resource in (
    fleet,
    devices,
    dead_letters,
    incidents,
    silences,
    ops,
    diagnoses,
    swap_tests,
):
    api_router.include_router(_resource.router)
