"""The console's pages: overview, search, a device, an incident; and the overview's live counts.

Every page reads `ServiceView` and `Support`, as the JSON API does, behind the same token
check (`diagnostics.api.auth.authorize`: reads are free on loopback). Pages are plain
functions (FastAPI runs them in its thread pool: the views take the service's lock and
read SQLite). The overview's counts come again by themselves over server-sent events
(`/console/events`): a stream of at most `EVENTS_FOR_S`, which the browser reopens.
No page reads the whole fleet: search is by index (`diagnostics.search`), an incident's
members come a page at a time.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from diagnostics.api.deps import (  # noqa: TC001 - FastAPI reads them
    ServiceDep,
    SupportDep,
    ViewDep,
)
from diagnostics.diagnosis import customer_message
from diagnostics.diagnosis.fleet import fleet_messages
from diagnostics.diagnosis.messages import LANGUAGES
from diagnostics.errors import SilenceError
from diagnostics.support import UnknownError
from diagnostics.web.charts import HEIGHT, WIDTH, charts
from diagnostics.web.render import environment, page
from diagnostics.web.sessions import session_of
from diagnostics.web.signin import console_access

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from diagnostics.views import ServiceView

__all__ = ["EVENTS_FOR_S", "MEMBERS_PER_PAGE", "STATIC_DIR", "static_files", "web_router"]

STATIC_DIR: Final = Path(__file__).parent / "static"
STATUSES: Final = ("ONLINE", "ASLEEP", "LATE", "SUSPECT", "OFFLINE", "UNKNOWN")
"""Detection statuses in the order the overview counts them."""
MEMBERS_PER_PAGE: Final = 50
FLEET_MESSAGE_MOST: Final = 2000
"""An incident's fleet message is written from each quiet member's diagnosis, up to this many
(beyond, the page says so: `/api/fleet/messages?account=` writes one customer's)."""
EVENTS_EVERY_S: Final = 2.0
"""How often the live counts are read again (sent only when they changed)."""
EVENTS_FOR_S: Final = 600.0
"""How long one event stream runs before it ends; the browser's EventSource reopens it."""

web_router = APIRouter(
    dependencies=[Depends(console_access)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
_COUNTS = environment().get_template("_counts.html")


def static_files() -> StaticFiles:
    """The console's vendored scripts and its style sheet."""
    return StaticFiles(directory=STATIC_DIR)


@web_router.get("/")
def overview(request: Request, view: ViewDep) -> HTMLResponse:
    """Counts by status (live), open incidents with scope and size, alarms, and search."""
    return page(request, "overview.html", **_live(view))


@web_router.get("/console/counts")
def counts(request: Request, view: ViewDep) -> HTMLResponse:
    """The overview's live part alone: counts and open incidents (what the stream sends)."""
    return page(request, "_counts.html", **_live(view))


def _live(view: ServiceView) -> dict[str, Any]:
    """What the overview's live part shows: counts by status, alarms, open incidents."""
    return {
        "summary": view.summary(stored=False),
        "statuses": STATUSES,
        "incidents": view.incidents(open_only=True, ids=False),
    }


@web_router.get("/console/events")
async def events(request: Request, view: ViewDep) -> StreamingResponse:
    """The overview's live part as server-sent events (`counts`), whenever it changes."""
    return StreamingResponse(
        _counts_stream(request, view),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )


async def _counts_stream(request: Request, view: ServiceView) -> AsyncIterator[str]:
    last = ""
    until = time.monotonic() + EVENTS_FOR_S
    while time.monotonic() < until and not await request.is_disconnected():
        html = _COUNTS.render(**await asyncio.to_thread(_live, view))
        if html != last:
            last = html
            data = "".join(f"data: {line}\n" for line in html.splitlines())
            yield f"event: counts\n{data}\n"
        await asyncio.sleep(EVENTS_EVERY_S)


@web_router.get("/search")
def search(
    request: Request, view: ViewDep, q: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    """Devices by name, device id, ICCID (or its last digits), IMEI, account or site."""
    found = view.search(q)
    rows = view.rows_of([f.device_id for f in found if f.device_id is not None])
    return page(request, "search.html", q=q, found=found, rows=rows)


@web_router.get("/devices/{device_id}")
def device(
    request: Request,
    view: ViewDep,
    support: SupportDep,
    device_id: str,
    lang: Annotated[str, Query(pattern="^[a-z]{2}$")] = "en",
) -> HTMLResponse:
    """A device in full: status and reason, checks and evidence, timeline, SIM, the message.

    The customer's message in `lang`, and the staff's fix and next step.
    """
    detail = view.device(device_id, timeline=100)
    if detail is None:
        return page(request, "missing.html", 404, what=f"No device {device_id!r} has reported.")
    try:
        diagnosis = support.diagnose_device(device_id)
    except UnknownError as error:
        return page(request, "missing.html", 404, what=str(error))
    language = lang if lang in LANGUAGES else "en"
    tests = [t for t in support.swap_tests() if device_id in {t.suspect_device, t.good_device}]
    return page(
        request,
        "device.html",
        detail=detail,
        diagnosis=diagnosis,
        message=customer_message(diagnosis, language),
        language=language,
        languages=LANGUAGES,
        zone=(detail.record or {}).get("time_zone"),
        swaps=[support.swap_result(t.id) for t in tests],
        charts=charts(detail.timeline),
        chart_size=(WIDTH, HEIGHT),
        session=session_of(request),
    )


@web_router.post("/devices/{device_id}/swap-test", response_model=None)
def register_swap(
    request: Request,
    support: SupportDep,
    device_id: str,
    csrf: Annotated[str, Form(max_length=200)] = "",
    good_device: Annotated[str, Form(max_length=200)] = "",
    impossible: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse | RedirectResponse:
    """Register a SIM swap test of the device with a good one, or why it cannot be done."""
    refused = _refused(request, csrf, "register a swap test")
    if refused is not None:
        return refused
    good, reason = good_device.strip() or None, impossible.strip() or None
    problem = None
    if (good is None) == (reason is None):
        problem = "Name the good device the SIMs are swapped with, or say why it cannot be done."
    elif good == device_id:
        problem = "The good device must be another device."
    if problem is not None:
        return page(request, "missing.html", 422, what=problem)
    try:
        support.register_swap(suspect_device=device_id, good_device=good, impossible=reason)
    except UnknownError as error:
        return page(request, "missing.html", 404, what=str(error))
    return RedirectResponse(f"/devices/{device_id}#swap-title", status.HTTP_303_SEE_OTHER)


def _refused(request: Request, csrf: str, what: str) -> HTMLResponse | None:
    """The answer to a write from a browser not signed in, or a form not from its session."""
    session = session_of(request)
    if session is None:
        return page(request, "missing.html", 401, what=f"Sign in to {what}.")
    if not session.allows(csrf):
        said = "This form is not from this session (it expired, or another site sent it)."
        return page(request, "missing.html", 403, what=said)
    return None


@web_router.get("/incidents/{incident_id}")
def incident(
    request: Request,
    view: ViewDep,
    incident_id: str,
    members: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Scope, when it began, its evidence (k of n, p-value), its members a page at a time."""
    found = view.incident(incident_id)
    if found is None:
        return page(request, "missing.html", 404, what=f"No incident {incident_id!r}.")
    ids = sorted(found.member_ids)
    start = (members - 1) * MEMBERS_PER_PAGE
    shown = view.rows_of(ids[start : start + MEMBERS_PER_PAGE])
    pages = max(1, -(-len(ids) // MEMBERS_PER_PAGE))
    _, silences = view.silences()
    silence = next((x for x in silences if x.id == found.silence_id), None)
    return page(
        request,
        "incident.html",
        incident=found,
        rows=shown,
        page_no=members,
        pages=pages,
        silence=silence,
        session=session_of(request),
    )


@web_router.get("/incidents/{incident_id}/message")
def incident_message(
    request: Request,
    view: ViewDep,
    support: SupportDep,
    incident_id: str,
    lang: Annotated[str, Query(pattern="^[a-z]{2}$")] = "en",
) -> HTMLResponse:
    """One message per customer for the incident's quiet devices that share a sure cause."""
    found = view.incident(incident_id, quiet=True)
    if found is None:
        return page(request, "missing.html", 404, what=f"No incident {incident_id!r}.")
    language = lang if lang in LANGUAGES else "en"
    quiet = sorted(found.quiet_ids)
    messages = []
    if len(quiet) <= FLEET_MESSAGE_MOST:
        diagnoses = [support.diagnose_device(d) for d in quiet]
        messages = fleet_messages(diagnoses, language)
    return page(
        request,
        "incident_message.html",
        incident=found,
        messages=messages,
        quiet=len(quiet),
        most=FLEET_MESSAGE_MOST,
        language=language,
        languages=LANGUAGES,
    )


@web_router.post("/incidents/{incident_id}/silence", response_model=None)
def silence_incident(
    request: Request,
    view: ViewDep,
    service: ServiceDep,
    incident_id: str,
    csrf: Annotated[str, Form(max_length=200)] = "",
    hours: Annotated[float, Form(gt=0, le=24 * 30)] = 4.0,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse | RedirectResponse:
    """Mute the incident's scope for `hours` (it is still detected), with the reason why."""
    refused = _refused(request, csrf, "silence an incident")
    if refused is not None:
        return refused
    found = view.incident(incident_id)
    if found is None:
        return page(request, "missing.html", 404, what=f"No incident {incident_id!r}.")
    if not reason.strip():
        return page(request, "missing.html", 422, what="Say why the incident is silenced.")
    try:
        service.silence(found.dimension, found.value, seconds=hours * 3600, reason=reason.strip())
    except SilenceError as error:
        return page(request, "missing.html", 422, what=str(error))
    return RedirectResponse(f"/incidents/{incident_id}", status.HTTP_303_SEE_OTHER)
