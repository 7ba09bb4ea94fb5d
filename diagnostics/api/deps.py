"""Dependencies of the routers: the running app's service, its views, support and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from diagnostics.service import Service
from diagnostics.support import Support
from diagnostics.views import ServiceView

__all__ = [
    "RegistryDep",
    "ServiceDep",
    "SupportDep",
    "ViewDep",
    "get_registry",
    "get_service",
    "get_support",
    "get_view",
]


def get_service(request: Request) -> Service:
    """The app's service (set by its lifespan)."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_view(service: ServiceDep) -> ServiceView:
    """The read side of the app's service."""
    return ServiceView(service)


def get_support(service: ServiceDep) -> Support:
    """Support's view of the app's service."""
    return Support(service)


def get_registry(request: Request) -> CollectorRegistry:
    """The app's metrics registry (set by its lifespan)."""
    registry: CollectorRegistry = request.app.state.registry
    return registry


ViewDep = Annotated[ServiceView, Depends(get_view)]
SupportDep = Annotated[Support, Depends(get_support)]
RegistryDep = Annotated[CollectorRegistry, Depends(get_registry)]
