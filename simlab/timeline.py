"""A device's timeline as support staff read it: the newest entries, each in a few words.

The diagnostics service keeps each device's own messages and its SIMs' network
events; that is the device's timeline. Training mode shows a trainee the
newest of it, read from a finished run's database (opened read-only, through the store):
the latest report always, with how the battery went, then the few newest other
entries, a run of identical ones counted instead of repeated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from diagnostics.store import StoreReader

__all__ = [
    "LATELY",
    "Entry",
    "Event",
    "clock",
    "describe",
    "device_name",
    "is_will",
    "lately",
    "read_timeline",
]

LATELY: Final = 4
"""Entries shown per device."""
WINDOW: Final = 40
"""Newest entries read per device to choose those from."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A timeline entry as the service stored it."""

    t: float
    kind: str
    device_id: str | None
    iccid: str | None
    payload: bytes


@dataclass(frozen=True, slots=True)
class Event:
    """A timeline entry in a few words."""

    t: float
    text: str


def read_timeline(store: StoreReader, device_id: str, sim: str | None) -> list[Entry]:
    """The device's newest entries, oldest first; a device never heard from gets its SIM's.

    The entries are the device's own messages and the network events of every SIM it
    reported with (records and clocks left out), as the service's timeline holds them.
    """
    found = store.device_timeline(device_id, limit=WINDOW)
    if not found and sim is not None:
        found = store.sim_events(sim, limit=WINDOW)
    return [Entry(m.t, m.kind, m.device_id, m.iccid, bytes(m.payload)) for m in found]


def device_name(store: StoreReader, iccid: str | None) -> str | None:
    """The customer's name for the device holding this SIM, from the SIM's inventory record."""
    record = store.record(iccid) if iccid else None
    name = json.loads(record.payload).get("device_name") if record else None
    return None if name is None else str(name)


def is_will(entry: Entry) -> bool:
    """A status the broker published for the device when its connection dropped."""
    return entry.kind == "status" and bool(json.loads(entry.payload).get("will"))


def lately(timeline: Sequence[Entry]) -> list[Event]:
    """The newest report and the few newest other entries, oldest first (see the module)."""
    reports = [e for e in timeline if e.kind == "telemetry"]
    others: list[list[Any]] = []  # [t, text, count], oldest first
    usage_seen = False
    for entry in reversed(timeline):
        if entry.kind == "telemetry" or (entry.kind == "usage" and usage_seen):
            continue
        usage_seen = usage_seen or entry.kind == "usage"
        text = describe(entry.kind, json.loads(entry.payload))
        if others and others[0][1] == text:
            others[0][2] += 1
        else:
            others.insert(0, [entry.t, text, 1])
    events = [Event(t, text if n == 1 else f"{text} ({n} times)") for t, text, n in others]
    events = events[-(LATELY - 1 if reports else LATELY) :]
    if reports:
        newest = json.loads(reports[-1].payload)
        events.append(Event(reports[-1].t, describe("telemetry", newest) + _trend(reports)))
    return sorted(events, key=lambda e: e.t)


def _trend(reports: Sequence[Entry]) -> str:
    """How the battery went over the last few reports, when it moved."""
    recent = [json.loads(e.payload).get("battery") for e in reports[-4:]]
    if len(recent) < 2 or recent[0] is None or recent[-1] is None:
        return ""
    if abs(recent[0] - recent[-1]) < 1:
        return ""
    return f"; battery {recent[0]:.0f}% {len(recent) - 1} reports before"


_SAID: Final[dict[str, str]] = {
    "attach": "attached to {mcc_mnc} cell {cell_id} ({rat})",
    "tau": "periodic tracking area update on {mcc_mnc} cell {cell_id}",
    "detach": "detached ({reason})",
    "session_open": "data session opened on {apn}",
    "session_close": "data session on {apn} closed ({reason})",
    "state_change": "SIM {old} → {new} by {actor} ({reason})",
    "imei_change": "IMEI changed from {old_imei} to {imei}",
    "audit": "audit: {field} {old} → {new} by {actor}",
}
"""Entries said by a template of their payload's fields."""


def describe(kind: str, p: Mapping[str, Any]) -> str:  # noqa: PLR0911 - one line per kind
    """A timeline entry (a message's kind and payload) in a few words."""
    if kind in _SAID:
        return _SAID[kind].format_map(p)
    if kind == "telemetry":
        battery = "mains" if p.get("battery") is None else f"battery {p['battery']:.0f}%"
        errors = f", errors {', '.join(map(str, p['errors']))}" if p.get("errors") else ""
        return f"report: {battery}, RSRP {p['rsrp']:.0f} dBm on {p['bearer']}{errors}"
    if kind == "status":
        return f"status {p['status']}" + (" (last will)" if p.get("will") else "")
    if kind == "attach_reject":
        return f"attach rejected on {p['mcc_mnc']}: EMM #{p['emm_cause']}{_backoff(p)}"
    if kind == "session_reject":
        return f"data session on {p['apn']} refused: ESM #{p['esm_cause']}{_backoff(p)}"
    if kind == "usage":
        return f"usage: {_bytes(p['cycle_bytes'])} of {_bytes(p['allowance'])} this cycle"
    if kind == "data_blocked":
        return f"data {'blocked' if p['blocked'] else 'unblocked'} ({p['reason']})"
    return kind


def _backoff(p: Mapping[str, Any]) -> str:
    return f", back-off {p['backoff_s']:.0f} s" if p.get("backoff_s") else ""


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB"):
        if abs(n) < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def clock(t: float | None) -> str:
    """A moment in UTC as support staff read it: 02 Mar 10:17 (or never)."""
    if t is None:
        return "never"
    return datetime.fromtimestamp(t, UTC).strftime("%d %b %H:%M")
