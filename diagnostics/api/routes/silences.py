"""Maintenance silences: incidents in a scope are muted until an expiry, still detected.

A bad scope or expiry raises `SilenceError`, which the app answers with 422
(`diagnostics.api.errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, status

from diagnostics.api.body_limit import TOO_LARGE
from diagnostics.api.deps import ServiceDep, ViewDep  # noqa: TC001 - FastAPI reads them
from diagnostics.api.models import SilenceIn, SilenceOut

if TYPE_CHECKING:
    from diagnostics.silence import Silence

__all__ = ["router"]

router = APIRouter(prefix="/api/silences", tags=["incidents"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={**TOO_LARGE, 422: {"description": "A bad scope or expiry, with the reason"}},
)
def add_silence(service: ServiceDep, body: SilenceIn) -> SilenceOut:
    """Mute incidents in a scope until an expiry; they are still detected."""
    found = service.silence(
        body.dimension,
        body.value,
        seconds=body.seconds,
        until=body.until.timestamp() if body.until is not None else None,
        reason=body.reason,
    )
    return SilenceOut(**_fields(found), active=True)


@router.get("")
def silences(view: ViewDep) -> list[SilenceOut]:
    """Every maintenance silence, active or expired."""
    clock, found = view.silences()
    return [SilenceOut(**_fields(s), active=clock is None or clock < s.until) for s in found]


def _fields(found: Silence) -> dict[str, Any]:
    return {
        "id": found.id,
        "dimension": found.dimension,
        "value": found.value,
        "created_at": found.created_at,
        "until": found.until,
        "reason": found.reason,
    }
