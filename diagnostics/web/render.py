"""Rendering the console's pages: one Jinja2 environment, autoescaped, and its time filters.

Times are shown in the customer's time zone where a customer is concerned (`local`,
with the zone named), in UTC with the zone shown elsewhere (`utc`). A check's status
is shown in the platform's colours (`COLOURS`: green, yellow, red, grey).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from diagnostics.diagnosis.model import Status
from protocol.nas import EmmCause, EsmCause

if TYPE_CHECKING:
    import enum
    from collections.abc import Callable

    from fastapi import Request

    from diagnostics.store import StoredMessage

__all__ = ["COLOURS", "environment", "local", "page", "said", "utc"]

COLOURS: Final = {
    Status.OK: "green",
    Status.BROKE: "yellow",
    Status.NEVER: "red",
    Status.UNKNOWN: "grey",
}
"""A check's status as the platform's diagnostics page colours it."""


def utc(t: float | None) -> str:
    """`t` (Unix seconds) as "2026-04-04 17:02:00 UTC"; "never" where there is none."""
    if t is None:
        return "never"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def local(t: float | None, zone: str | None) -> str:
    """`t` in the customer's time zone `zone`, the zone named; in UTC where it has none."""
    if t is None:
        return "never"
    try:
        tz = ZoneInfo(zone) if zone else None
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        return utc(t)
    return datetime.fromtimestamp(t, tz).strftime(f"%Y-%m-%d %H:%M ({zone} time)")


def _cause(kind: type[enum.IntEnum], number: int) -> str:
    try:
        return kind(number).name.replace("_", " ").lower()
    except ValueError:
        return "a cause this service does not know"


def _report(b: dict[str, Any]) -> str:
    level = "no battery level" if b.get("battery") is None else f"battery {b['battery']:.0f}%"
    return f"report: {level}, signal {b['rsrp']:.0f} dBm on cell {b['cell_id']}"


_SAID: Final[dict[str, Callable[[dict[str, Any]], str]]] = {
    "telemetry": _report,
    "attach_reject": lambda b: (
        f"attach refused: EMM #{b['emm_cause']} ({_cause(EmmCause, b['emm_cause'])})"
        f" on {b['mcc_mnc']}"
    ),
    "session_reject": lambda b: (
        f"data session refused: ESM #{b['esm_cause']} ({_cause(EsmCause, b['esm_cause'])})"
        f" on APN {b['apn']}"
    ),
    "state_change": lambda b: (
        f"SIM state {b['old']} → {b['new']}: {b.get('reason') or 'no reason'}"
    ),
    "detach": lambda b: f"detached ({b['reason']})",
    "attach": lambda b: f"attached on {b['mcc_mnc']} cell {b['cell_id']}",
    "tau": lambda b: f"tracking area update on {b['mcc_mnc']} cell {b['cell_id']}",
    "status": lambda b: f"status: {b['status']}",
    "imei_change": lambda b: (
        f"SIM moved: the network saw it in IMEI {b.get('imei') or 'unknown'}"
        f" (before: {b['old_imei']})"
    ),
    "firmware_update": lambda b: f"firmware update to {b['version']}: {b['state']}",
    "session_open": lambda b: f"data session opened on APN {b['apn']}",
}
"""Timeline entries in plain words, by kind (others are named by their kind)."""


def said(entry: StoredMessage) -> str:
    """A timeline entry in plain words: what the device reported, or what the network said."""
    words = _SAID.get(entry.kind)
    if words is None:
        return entry.kind.replace("_", " ")
    return words(json.loads(entry.payload))


def _colour(status: Status | str) -> str:
    return COLOURS.get(Status(status), "grey")


def environment() -> Environment:
    """The console's template environment (autoescaped: every value is text, never markup)."""
    env = Environment(
        loader=PackageLoader("diagnostics.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(utc=utc, local=local, colour=_colour, said=said)
    return env


_ENV: Final = environment()


def page(
    request: Request, template: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    """The named template rendered with `context` (and the request), as an HTML answer."""
    html = _ENV.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)
