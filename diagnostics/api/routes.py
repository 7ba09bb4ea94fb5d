"""The routers: fleet, devices, dead letters, and the operations endpoints (health, metrics).

Endpoints are plain functions (FastAPI runs them in its thread pool): the
service's readers take a lock and read SQLite, neither of which may block the
event loop.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import PlainTextResponse

from diagnostics.api.deps import ServiceDep  # noqa: TC001 - FastAPI reads the annotation
from diagnostics.api.models import (
    DeadLetterOut,
    DeadLetterPage,
    DeviceDetailOut,
    DeviceOut,
    DevicePageOut,
    FleetOut,
    HealthOut,
    IncidentDetailOut,
    IncidentOut,
    IncidentPage,
    SilenceIn,
    SilenceOut,
    TimelineEntryOut,
    TimelinePage,
    VerdictOut,
)
from diagnostics.api.support_routes import support_router

if TYPE_CHECKING:
    from diagnostics.incidents import Silence
    from diagnostics.service import Metric
    from diagnostics.store import StoredMessage

__all__ = [
    "api_router",
    "dead_letters_router",
    "devices_router",
    "fleet_router",
    "incidents_router",
    "ops_router",
    "prometheus_text",
    "silences_router",
]

VerdictName = Literal["UNKNOWN", "ONLINE", "LATE", "SUSPECT", "OFFLINE", "ASLEEP"]
Limit = Annotated[int, Query(ge=1, le=1000, description="Entries a page holds")]
BeforeId = Annotated[int | None, Query(ge=1, description="The page ends before this entry")]

fleet_router = APIRouter(prefix="/api/fleet", tags=["fleet"])
devices_router = APIRouter(prefix="/api/devices", tags=["devices"])
dead_letters_router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])
ops_router = APIRouter(tags=["operations"])
incidents_router = APIRouter(prefix="/api/incidents", tags=["incidents"])
silences_router = APIRouter(prefix="/api/silences", tags=["incidents"])

_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"description": "No device of this id has been seen"}
}


@fleet_router.get("")
def fleet(service: ServiceDep) -> FleetOut:
    """Devices per verdict, messages per kind, dead letters per code."""
    summary = service.summary()
    stored = summary.stored
    return FleetOut(
        clock=summary.clock,
        devices=summary.devices,
        verdicts=summary.verdicts,
        messages=dict(stored.kinds),
        messages_total=stored.messages,
        sims=stored.sims,
        dead_letters=dict(stored.dead_letters),
        alarms=summary.alarms,
        incidents_open=summary.incidents_open,
        incidents_alerting=summary.incidents_alerting,
    )


@devices_router.get("")
def devices(
    service: ServiceDep,
    verdict: VerdictName | None = None,
    account: str | None = None,
    operator: Annotated[str | None, Query(pattern=r"^\d{5,6}$", description="MCC-MNC")] = None,
    cell: Annotated[int | None, Query(ge=0)] = None,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DevicePageOut:
    """The fleet list by device id; every filter given must hold."""
    page = service.device_rows(
        verdict=verdict, account=account, operator=operator, cell=cell, limit=limit, offset=offset
    )
    return DevicePageOut.model_validate(page)


@devices_router.get("/{device_id}", responses=_UNKNOWN)
def device(service: ServiceDep, device_id: str) -> DeviceDetailOut:
    """One device: verdict, reason and since when, interval, last seen, history, timeline."""
    found = service.device(device_id)
    if found is None:
        raise _unknown(device_id)
    facts = found.facts
    return DeviceDetailOut(
        **DeviceOut.model_validate(found.device).model_dump(),
        interval_s=found.interval_s,
        announced_interval_s=found.announced_interval_s,
        sleep_until=found.sleep_until,
        imei=facts.imei,
        battery=facts.battery,
        rsrp=facts.rsrp,
        firmware=facts.firmware,
        status=facts.status,
        history=[VerdictOut.model_validate(v) for v in found.history],
        timeline=[_entry(m) for m in found.timeline],
        record=found.record,
        incident_id=found.incident_id,
        alarm=found.alarm,
    )


@devices_router.get(
    "/{device_id}/timeline",
    responses={**_UNKNOWN, 422: {"description": "before_id is not a timeline entry"}},
)
def timeline(
    service: ServiceDep, device_id: str, limit: Limit = 100, before_id: BeforeId = None
) -> TimelinePage:
    """A page of the device's messages and its SIMs' network events, oldest first."""
    if not service.known(device_id):
        raise _unknown(device_id)
    try:
        page = service.timeline(device_id, limit=limit, before_id=before_id)
    except KeyError:
        raise HTTPException(422, f"no timeline entry {before_id}") from None
    more = page[0].id if len(page) == limit else None
    return TimelinePage(device_id=device_id, items=[_entry(m) for m in page], next_before_id=more)


@dead_letters_router.get("")
def dead_letters(
    service: ServiceDep,
    code: Annotated[str | None, Query(description="e.g. not_json, version, invalid")] = None,
    limit: Limit = 100,
    before_id: BeforeId = None,
) -> DeadLetterPage:
    """Messages the service could not read, newest first."""
    found = service.dead_letters(code=code, limit=limit, before_id=before_id)
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


@incidents_router.get("")
def incidents(service: ServiceDep, state: Literal["open", "all"] = "all") -> IncidentPage:
    """Open incidents, newest first, then recently closed ones: scope, members, evidence, muted."""
    found = service.incidents(open_only=state == "open")
    return IncidentPage(
        open=sum(i.open for i in found),
        items=[IncidentOut.model_validate(i) for i in found],
    )


@incidents_router.get(
    "/{incident_id}", responses={404: {"description": "No such incident (or long closed)"}}
)
def incident(service: ServiceDep, incident_id: str) -> IncidentDetailOut:
    """One incident with its member devices."""
    found = service.incident(incident_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id!r}")
    return IncidentDetailOut.model_validate(found)


@silences_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "A bad scope or expiry, with the reason"}},
)
def add_silence(service: ServiceDep, body: SilenceIn) -> SilenceOut:
    """Mute incidents in a scope until an expiry; they are still detected."""
    try:
        found = service.silence(
            body.dimension,
            body.value,
            seconds=body.seconds,
            until=body.until.timestamp() if body.until is not None else None,
            reason=body.reason,
        )
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    return SilenceOut(**_silence_fields(found), active=True)


@silences_router.get("")
def silences(service: ServiceDep) -> list[SilenceOut]:
    """Every maintenance silence, active or expired."""
    clock, found = service.silences()
    return [
        SilenceOut(**_silence_fields(s), active=clock is None or clock < s.until) for s in found
    ]


def _silence_fields(found: Silence) -> dict[str, Any]:
    return {
        "id": found.id,
        "dimension": found.dimension,
        "value": found.value,
        "created_at": found.created_at,
        "until": found.until,
        "reason": found.reason,
    }


@ops_router.get("/health", responses={503: {"model": HealthOut, "description": "Not ingesting"}})
def health(service: ServiceDep, response: Response) -> HealthOut:
    """200 while connected to the broker with the ingest running, else 503."""
    found = service.health()
    if not found.ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthOut.model_validate(found)


@ops_router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(service: ServiceDep) -> PlainTextResponse:
    """Ingest counters and lag, queue depth, devices per verdict, dead letters per code."""
    return PlainTextResponse(
        prometheus_text(service.metrics()), media_type="text/plain; version=0.0.4"
    )


def prometheus_text(families: list[Metric]) -> str:
    """Metric families in the Prometheus text exposition format (0.0.4)."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in family.samples:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(
                f"{family.name}{{{text}}} {value!r}" if text else f"{family.name} {value!r}"
            )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """Whole numbers without a fraction (counters read as counts), others as Python prints them."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def _entry(message: StoredMessage) -> TimelineEntryOut:
    payload: dict[str, Any] = json.loads(message.payload)
    return TimelineEntryOut(
        id=message.id, kind=message.kind, t=message.t, topic=message.topic, payload=payload
    )


def _unknown(device_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no device {device_id!r} seen")


api_router = APIRouter()
for _router in (
    fleet_router,
    devices_router,
    dead_letters_router,
    incidents_router,
    silences_router,
    ops_router,
):
    api_router.include_router(_router)
api_router.include_router(support_router)
