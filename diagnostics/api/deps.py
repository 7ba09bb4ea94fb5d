"""Dependencies of the routers: the service of the running app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from diagnostics.service import Service

__all__ = ["ServiceDep", "get_service"]


def get_service(request: Request) -> Service:
    """The app's service (set by its lifespan)."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
