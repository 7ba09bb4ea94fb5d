"""Messages the service could not read, kept with the reason, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from diagnostics.api.deps import ViewDep  # noqa: TC001 - FastAPI reads the annotation
from diagnostics.api.models import DeadLetterOut, DeadLetterPage
from diagnostics.api.params import BeforeId, Limit  # noqa: TC001 - FastAPI reads them

__all__ = ["router"]

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])


@router.get("")
def dead_letters(
    view: ViewDep,
    code: Annotated[str | None, Query(description="e.g. not_json, version, invalid")] = None,
    limit: Limit = 100,
    before_id: BeforeId = None,
) -> DeadLetterPage:
    """Messages the service could not read, newest first."""
    found = view.dead_letters(code=code, limit=limit, before_id=before_id)
    items = [
        DeadLetterOut(
            id=d.id,
            topic=d.topic,
            code=d.code,
            reason=d.reason,
            size=d.size,
            received=d.received,
            payload=d.payload.decode(errors="replace"),
        )
        for d in found
    ]
    more = items[-1].id if len(items) == limit else None
    return DeadLetterPage(items=items, next_before_id=more)
