"""Maintenance silences: incidents in a scope are muted until an expiry, still detected.

A bad scope or expiry raises `SilenceError`, which the app answers with 422
(`diagnostics.api.errors`). A silence ended early (DELETE) stops muting at once
and stays ended after a restart (`diagnostics.silence`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Response, status

from diagnostics.api.body_limit import TOO_LARGE
from diagnostics.api.deps import ServiceDep, ViewDep  # noqa: TC001 - FastAPI reads them
from diagnostics.api.errors import UNREADABLE_BODY
from diagnostics.api.models import SilenceIn, SilenceOut

if TYPE_CHECKING:
    from diagnostics.silence import Silence

__all__ = ["router"]

router = APIRouter(prefix="/api/silences", tags=["incidents"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        **UNREADABLE_BODY,
        **TOO_LARGE,
        422: {"description": "A bad scope or expiry, with the reason"},
    },
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
    """Every maintenance silence, active, expired or ended."""
    clock, found = view.silences()
    return [SilenceOut(**_fields(s), active=clock is None or clock < s.end) for s in found]


@router.delete(
    "/{silence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"description": "No silence of this id"}},
)
def end_silence(service: ServiceDep, silence_id: str) -> Response:
    """End a silence now: what it muted alerts again (one already over stays as it was)."""
    if service.end_silence(silence_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no silence {silence_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _fields(found: Silence) -> dict[str, Any]:
    return {
        "id": found.id,
        "dimension": found.dimension,
        "value": found.value,
        "created_at": found.created_at,
        "until": found.until,
        "ended_at": found.ended_at,
        "reason": found.reason,
    }
