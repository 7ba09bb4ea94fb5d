"""The fleet at a glance: devices per detection status, messages per kind, dead letters, alarms."""

from __future__ import annotations

from fastapi import APIRouter

from diagnostics.api.deps import ViewDep  # noqa: TC001 - FastAPI reads the annotation
from diagnostics.api.models import FleetOut

__all__ = ["router"]

router = APIRouter(prefix="/api/fleet", tags=["fleet"])


@router.get("")
def fleet(view: ViewDep) -> FleetOut:
    """Devices per verdict, messages per kind, dead letters per code."""
    summary = view.summary()
    stored = summary.stored
    assert stored is not None  # asked for: the default
    return FleetOut(
        clock=summary.clock,
        devices=summary.devices,
        verdicts=summary.statuses,
        messages=dict(stored.kinds),
        messages_total=stored.messages,
        sims=stored.sims,
        dead_letters=dict(stored.dead_letters),
        alarms=summary.alarms,
        incidents_open=summary.incidents_open,
        incidents_alerting=summary.incidents_alerting,
    )
