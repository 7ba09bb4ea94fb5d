"""The device list, one device in full, and a device's timeline page by page.

Endpoints are plain functions (FastAPI runs them in its thread pool): the
service's readers take a lock and read SQLite, neither of which may block the
event loop. The same holds for every router of the API.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status

from diagnostics.api.deps import ViewDep  # noqa: TC001 - FastAPI reads the annotation
from diagnostics.api.models import (
    DetectionChangeOut,
    DeviceDetailOut,
    DeviceOut,
    DevicePageOut,
    TimelineEntryOut,
    TimelinePage,
)
from diagnostics.api.params import MAX_ID, BeforeId, Limit

if TYPE_CHECKING:
    from diagnostics.store import StoredMessage

__all__ = ["router"]

StatusName = Literal["UNKNOWN", "ONLINE", "LATE", "SUSPECT", "OFFLINE", "ASLEEP"]
"""Detection statuses the list filters by; on the wire the query parameter is `verdict`."""

router = APIRouter(prefix="/api/devices", tags=["devices"])

_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"description": "No device of this id has been seen"}
}


@router.get("")
def devices(
    view: ViewDep,
    verdict: StatusName | None = None,
    account: str | None = None,
    operator: Annotated[str | None, Query(pattern=r"^\d{5,6}$", description="MCC-MNC")] = None,
    cell: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> DevicePageOut:
    """The fleet list by device id; every filter given must hold."""
    page = view.device_rows(
        status=verdict, account=account, operator=operator, cell=cell, limit=limit, offset=offset
    )
    return DevicePageOut.of(page)


@router.get("/{device_id}", responses=_UNKNOWN)
def device(view: ViewDep, device_id: str) -> DeviceDetailOut:
    """One device: verdict, reason and since when, interval, last seen, history, timeline."""
    found = view.device(device_id)
    if found is None:
        raise _unknown(device_id)
    facts = found.facts
    return DeviceDetailOut(
        **DeviceOut.of(found.device).model_dump(),
        interval_s=found.interval_s,
        announced_interval_s=found.announced_interval_s,
        sleep_until=found.sleep_until,
        imei=facts.imei,
        battery=facts.battery,
        rsrp=facts.rsrp,
        firmware=facts.firmware,
        status=facts.status,
        history=[DetectionChangeOut.of(v) for v in found.history],
        timeline=[_entry(m) for m in found.timeline],
        record=found.record,
        incident_id=found.incident_id,
        alarm=found.alarm,
        identity_conflicts=found.identity_conflicts,
        sim_claim_conflict=found.sim_claim_conflict,
    )


@router.get(
    "/{device_id}/timeline",
    responses={**_UNKNOWN, 422: {"description": "before_id is not a timeline entry"}},
)
def timeline(
    view: ViewDep, device_id: str, limit: Limit = 100, before_id: BeforeId = None
) -> TimelinePage:
    """A page of the device's messages and its SIMs' network events, oldest first."""
    if not view.service.known(device_id):
        raise _unknown(device_id)
    try:
        page = view.timeline(device_id, limit=limit, before_id=before_id)
    except KeyError:
        raise HTTPException(422, f"no timeline entry {before_id}") from None
    more = page[0].id if len(page) == limit else None
    return TimelinePage(device_id=device_id, items=[_entry(m) for m in page], next_before_id=more)


def _entry(message: StoredMessage) -> TimelineEntryOut:
    payload: dict[str, Any] = json.loads(message.payload)
    return TimelineEntryOut(
        id=message.id, kind=message.kind, t=message.t, topic=message.topic, payload=payload
    )


def _unknown(device_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no device {device_id!r} seen")
