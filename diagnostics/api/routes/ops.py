"""The operations endpoints: health for a load balancer, metrics for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import PlainTextResponse

from diagnostics.api.deps import RegistryDep, ViewDep  # noqa: TC001 - FastAPI reads them
from diagnostics.api.models import HealthOut
from diagnostics.metrics import CONTENT_TYPE, exposition

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/health", responses={503: {"model": HealthOut, "description": "Not ingesting"}})
def health(view: ViewDep, response: Response) -> HealthOut:
    """200 while connected to the broker with the ingest running, else 503."""
    found = view.health()
    if not found.ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthOut.model_validate(found)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(registry: RegistryDep) -> PlainTextResponse:
    """Ingest counters and lag, queue depth, devices per verdict, dead letters per code."""
    return PlainTextResponse(exposition(registry), media_type=CONTENT_TYPE)
