"""Incidents: devices quiet together in one scope (a cell, an APN, a firmware, ...)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, status

from diagnostics.api.deps import ViewDep  # noqa: TC001 - FastAPI reads the annotation
from diagnostics.api.models import IncidentDetailOut, IncidentOut, IncidentPage

__all__ = ["router"]

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


@router.get("")
def incidents(view: ViewDep, state: Literal["open", "all"] = "all") -> IncidentPage:
    """Open incidents, newest first, then recently closed ones: scope, members, evidence, muted."""
    found = view.incidents(open_only=state == "open")
    return IncidentPage(
        open=sum(i.open for i in found),
        items=[IncidentOut.model_validate(i) for i in found],
    )


@router.get("/{incident_id}", responses={404: {"description": "No such incident (or long closed)"}})
def incident(view: ViewDep, incident_id: str) -> IncidentDetailOut:
    """One incident with its member devices."""
    found = view.incident(incident_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id!r}")
    return IncidentDetailOut.model_validate(found)
