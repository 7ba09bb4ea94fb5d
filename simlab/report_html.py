"""Pieces of the report page: HTML tables, moments in a time zone, and one device's diagnosis.

A diagnosis concerns one customer's device, so its times are given in the
customer's time zone (the zone of the SIM's inventory record, which
diagnoses.json carries as `time_zone`); the rest of the page is in UTC. Every
time says its zone. Beside each diagnosis: the staff's fix and next step, the
evidence of the checks, and the customer messages.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["cell", "diagnosis_html", "escape", "moment", "table", "when", "zone_of"]

escape = html.escape


def zone_of(name: object) -> ZoneInfo | None:
    """The time zone named (`Africa/Nairobi`), or None for no name or an unknown one."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def moment(t: float, zone: ZoneInfo | None = None) -> str:
    """`2026-03-02 12:15 EAT, Africa/Nairobi` in `zone`; `2026-03-02 09:15 UTC` without one."""
    if zone is None:
        return f"{datetime.fromtimestamp(t, UTC):%Y-%m-%d %H:%M} UTC"
    local = datetime.fromtimestamp(t, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}, {zone.key}"


def when(t: float | None, start: float, zone: ZoneInfo | None = None) -> str:
    """`+6.25 h (2026-03-02 06:15 UTC)`: since the run's start, and on the clock of `zone`."""
    if t is None:
        return ""
    return f"+{(t - start) / 3600:.2f} h ({moment(t, zone)})"


def table(
    head: Sequence[str] | None, rows: Iterable[Sequence[object]], classes: Iterable[str] = ()
) -> str:
    """An HTML table; `classes` gives each row a class (empty for none)."""
    marks = list(classes)
    out = ["<table>"]
    if head is not None:
        out += ["<tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr>"]
    for n, row in enumerate(rows):
        style = f' class="{escape(marks[n])}"' if n < len(marks) and marks[n] else ""
        cells = "".join(f"<td>{cell(v)}</td>" for v in row)
        out.append(f"<tr{style}>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def cell(value: object) -> str:
    """A table cell's text: floats to two places, None as nothing, all of it escaped."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return escape(str(value))


def diagnosis_html(entry: Mapping[str, Any], start: float) -> str:
    """One device's diagnosis: facts, fix and next step, the checks and their evidence, messages.

    Its times are in the customer's time zone (`entry["time_zone"]`) when it is known.
    """
    d = entry.get("diagnosis") or {}
    device = str(entry.get("device_id"))
    zone = zone_of(entry.get("time_zone"))
    candidates = ", ".join(
        f"{c['cause']} ({float(c['likelihood']):.0%})" for c in d.get("candidates") or []
    )
    confidence = d.get("confidence")
    facts = [
        ("status", d.get("verdict")),
        (
            "cause",
            (d.get("cause") or "none") + ("" if confidence is None else f" ({confidence:.0%})"),
        ),
        ("candidates", candidates),
        ("summary", d.get("summary")),
        ("fix", d.get("fix")),
        ("next step", d.get("next_step")),
        ("started", when(d.get("started"), start, zone)),
        ("asked at", when(d.get("at"), start, zone)),
        ("customer's time zone", zone.key if zone is not None else ""),
    ]
    checks = d.get("checks") or []
    out = [
        f'<div class="diagnosis" id="diagnosis-{escape(device)}"><h3>{escape(device)}</h3>',
        table(None, [f for f in facts if f[1]]),
    ]
    if checks:
        out.append(
            table(
                ("check", "status", "what it saw", "evidence"),
                (
                    (c.get("title"), c.get("status"), c.get("summary"), _evidence(c, zone))
                    for c in checks
                ),
                (f"status-{c.get('status')}" for c in checks),
            )
        )
    for language, message in (entry.get("messages") or {}).items():
        if not isinstance(message, dict):
            continue
        out.append(
            f"<h4>Customer message ({escape(str(language))}): "
            f"{escape(str(message.get('subject')))}</h4>"
        )
        out.append(
            f'<pre class="message" lang="{escape(str(language))}">'
            f"{escape(str(message.get('body')))}</pre>"
        )
    out.append("</div>")
    return "".join(out)


def _evidence(check: Mapping[str, Any], zone: ZoneInfo | None) -> str:
    """The check's evidence, one item a line: `2026-03-02 13:32 EAT, Africa/Nairobi: detached`."""
    lines = []
    for item in check.get("evidence") or []:
        t = item.get("t")
        at = f"{moment(float(t), zone)}: " if isinstance(t, int | float) else ""
        lines.append(f"{at}{item.get('text')}")
    return "\n".join(lines)
