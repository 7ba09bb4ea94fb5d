"""Cases from the store: stored messages turned into the plain data a diagnosis reads.

`diagnostics.diagnosis` is pure: it takes a `Case` (or a swap test's `Pairing`) and
never reads a store. This module is the one place that reads the store for it: it
decodes the stored rows (`decoded`), keeps a device's own messages and its SIM's
events apart, diagnoses a device with the SIM it holds now as the service's one
device <-> SIM map says (`Holding`), leaves out what a SIM did in another device, and
puts back a SIM's inventory record as it stood at the moment asked about
(`record_at`), so support can look back at the moment a customer called. What the
service holds in memory (the detector's status, the incident a device is quiet in)
comes in as arguments.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pydantic import ValidationError

from diagnostics.diagnosis import Case, IncidentRef, Seen
from diagnostics.diagnosis.readings import locked_imei
from diagnostics.diagnosis.swap import Pairing, pairing
from diagnostics.sim_map import SimMap
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    AuditRecorded,
    DataBlocked,
    SimRecord,
    StateChanged,
    Telemetry,
)
from protocol.wire import decode_any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pydantic import BaseModel

    from diagnostics.store import Store, StoredMessage

__all__ = [
    "CASE_LIMIT",
    "HISTORY_S",
    "Holding",
    "decoded",
    "detection_at",
    "device_case",
    "holding_at",
    "record_at",
    "sim_before",
    "sim_case",
    "swap_pairing",
]

HISTORY_S: Final = 2 * 86400.0
"""How far before its last report a case looks (its evidence window): what a device said
last and what the network did when it went quiet are the evidence of its quiet."""
CASE_LIMIT: Final = 5000
"""At most this many stored messages of a device go into its case."""
DECODED_KEPT: Final = 16384
"""How many decoded payloads are kept for the next case that reads them."""
LOCK_FIELD: Final = "imei_lock"
"""The audit field of an IMEI lock's device (its old value: the IMEI it was locked to)."""
_ATTACHES: Final = (AttachAccepted, AttachRejected)


def decoded(rows: Iterable[StoredMessage]) -> list[tuple[StoredMessage, Seen]]:
    """Stored rows as evidence (rows the current protocol cannot read are left out)."""
    out = []
    for row in rows:
        try:
            message = _decoded(row.payload)
        except ValidationError:
            continue
        out.append((row, Seen(row.id, message)))
    return out


@functools.lru_cache(maxsize=DECODED_KEPT)
def _decoded(payload: bytes) -> BaseModel:
    """One payload's message, decoded once while it is among the last `DECODED_KEPT` read.

    A payload always decodes to the same message, and messages are frozen: a device's
    case reads its own rows and its SIM's, which share many, and support often asks
    about the same device again (its diagnosis, then its message).
    """
    return decode_any(payload)


@dataclass(frozen=True, slots=True)
class Holding:
    """What the device <-> SIM map (`diagnostics.sim_map`) says of one device, for its case."""

    held: str | None
    """The SIM the device holds now (None: it gave its SIM away, or never reported one)."""
    last: str | None
    """The SIM it last reported with."""
    owner: Callable[[str], str | None]
    """The device that reports with an IMEI, if any."""


def device_case(
    store: Store,
    device_id: str,
    *,
    now: float,
    detection_status: str,
    detection_since: float | None,
    interval_s: float | None,
    incident: IncidentRef | None,
    holding: Holding,
) -> Case:
    """Everything stored about the device up to `now`, with what the service holds of it.

    `detection_status`, `detection_since`, `interval_s` and `incident` are the service's; the
    messages are the store's: the window of `HISTORY_S` up to its last report, and on to `now`
    (a device quiet for days is diagnosed by what happened when it stopped). The device is
    diagnosed with the SIM it holds now, and that SIM's events while it held it (`_tenure`):
    after a swap or a move its old SIM works on in another device, and what it does there is
    left out. A device that gave its SIM away and
    holds none known keeps its old SIM's events up to the handover, without that SIM's record,
    and the SIM's first attach attempt in the other device (`Case.sim_elsewhere`).
    """
    last_heard = store.last_report(device_id, until=now)
    since = min(now, last_heard if last_heard is not None else now) - HISTORY_S  # around its stop
    stored = store.device_timeline(device_id, since=since, until=now, limit=CASE_LIMIT)
    device = [seen for row, seen in decoded(stored) if row.device_id is not None]
    iccid = holding.held or holding.last
    stored_sim = store.sim_events(iccid, since=since, until=now, limit=CASE_LIMIT) if iccid else []
    history = [s for _, s in decoded(stored_sim)]
    reports = [s.t for s in device if isinstance(s.message, Telemetry) and s.message.iccid == iccid]
    anchor = math.inf if holding.held is not None else max(reports, default=math.inf)
    network = _tenure(history, device_id, anchor, holding.owner)
    after = network[-1].t if network else -math.inf
    elsewhere = None
    if holding.held is None:
        tries = [s for s in history if s.t >= after and isinstance(s.message, _ATTACHES)]
        elsewhere = next((s for s in tries if s not in network), None)
    record = _with_lock(store, record_at(store, holding.held, at=now), history, now=now)
    return Case(
        now=now,
        device_id=device_id,
        iccid=holding.held,
        detection_status=detection_status,
        detection_since=detection_since,
        interval_s=interval_s,
        record=record,
        device=tuple(device),
        network=tuple(network),
        incident=incident,
        sim_elsewhere=elsewhere,
        last_heard=last_heard,
    )


def holding_at(
    store: Store,
    device_id: str,
    at: float,
    *,
    sims: frozenset[str],
    devices: frozenset[str],
    owner: Callable[[str], str | None],
    imeis: frozenset[str] = frozenset(),
) -> Holding:
    """What the map said of the device at a past moment `at`: the same rule over the stored stream.

    `sims` are the SIMs the device was ever paired with and `devices` every device that
    reported with one of them (both from the service's map); their stored messages up to
    `at` rebuild the map as it stood then, asking `owner` for IMEIs they do not show and
    taking `imeis` as the device's (`SimMap.known_imeis`: those it ever reported with).
    """
    then = SimMap(owners=owner)
    then.known_imeis(device_id, imeis)
    since = at - HISTORY_S
    for name in sorted(devices | {device_id}):
        stored = store.device_timeline(name, since=since, until=at, limit=CASE_LIMIT)
        for _, seen in decoded(stored):
            then.observe(seen.message)
    for iccid in sorted(sims):
        for _, seen in decoded(store.sim_events(iccid, since=since, until=at, limit=CASE_LIMIT)):
            then.observe(seen.message)
    return Holding(then.sim_of(device_id), then.last_sim(device_id), then.owner)


def _tenure(
    events: list[Seen], device_id: str, anchor: float, owner: Callable[[str], str | None]
) -> list[Seen]:
    """The SIM's events while the device held it around `anchor`, oldest first.

    An event whose IMEI another device reports with was in that device: the device's tenure
    lies between the last such event before `anchor` and the first after it, and at those
    very instants holds only the events with its own IMEI. An IMEI no device reports with
    stays (new hardware, a lock refusal).
    """
    owners = {imei: owner(imei) for s in events if (imei := _imei(s)) is not None}
    whose = [(s, owners.get(_imei(s) or "")) for s in events]
    elsewhere = [s.t for s, name in whose if name not in {None, device_id}]
    begin = max((t for t in elsewhere if t <= anchor), default=-math.inf)
    end = min((t for t in elsewhere if t > anchor), default=math.inf)
    return [
        s for s, name in whose if begin < s.t < end or (s.t in {begin, end} and name == device_id)
    ]


def _with_lock(
    store: Store, record: SimRecord | None, history: list[Seen], *, now: float
) -> SimRecord | None:
    """The record with the IMEI its lock holds, where the record leaves it out (see locked_imei).

    The lock holds the IMEI the SIM last worked in, however long ago: where the case's own
    window shows no accepted attach (a SIM refused for days since it moved), the SIM's
    older stored events are read for it.
    """
    if record is None or not record.imei_lock or record.locked_imei:
        return record
    locked = locked_imei(record, history)
    if locked is None:
        older = store.sim_events(record.iccid, until=now, limit=CASE_LIMIT)
        locked = locked_imei(record, [s for _, s in decoded(older)])
    return record if locked is None else record.model_copy(update={"locked_imei": locked})


def sim_case(
    store: Store, iccid: str, *, now: float, unheard_since: float | None = None
) -> Case | None:
    """The SIM's case without a device: its events and record (None: never seen).

    The events are the window of `HISTORY_S` up to the SIM's newest event, and on to `now`:
    a SIM silent for days is diagnosed by what the network said when it stopped.

    `unheard_since`: the service's word that the SIM was never heard from while its cohort
    was (`diagnostics.unheard`): it is down (OFFLINE) though no report ever started a clock.
    """
    newest = store.sim_events(iccid, until=now, limit=1)  # around its last word, as a device's
    since = min(now, newest[-1].t if newest else now) - HISTORY_S  # is around its last report
    stored = store.sim_events(iccid, since=since, until=now)
    record = record_at(store, iccid, at=now)
    if not stored and record is None:
        return None
    return Case(
        now=now,
        device_id=None,
        iccid=iccid,
        detection_status="UNKNOWN" if unheard_since is None else "OFFLINE",
        record=record,
        network=tuple(seen for _, seen in decoded(stored)),
        unheard_since=unheard_since,
    )


def record_at(store: Store, iccid: str | None, *, at: float | None = None) -> SimRecord | None:
    """The SIM's inventory record as it stood at `at` (default: the newest).

    A newer one has what changed since undone: its state, a data block, its IMEI lock's
    device (moved to a replacement since, say).
    """
    if iccid is None:
        return None
    stored = store.record(iccid)
    if stored is None:
        return None
    try:
        record = SimRecord.model_validate_json(stored.payload)
    except ValidationError:
        return None
    if at is None or record.t <= at:
        return record
    # the newest record is younger than the moment asked about: undo what changed since
    later = [seen.message for _, seen in decoded(store.sim_events(iccid, since=at))]
    update: dict[str, object] = {"t": at}
    changes = [m for m in later if isinstance(m, StateChanged) and m.t > at]
    if changes:
        update["state"] = changes[0].old
    blocks = [m for m in later if isinstance(m, DataBlocked) and m.t > at]
    if blocks:
        update["data_blocked"] = not blocks[0].blocked
    locks = [
        m for m in later if isinstance(m, AuditRecorded) and m.field == LOCK_FIELD and m.t > at
    ]
    if locks:
        update["locked_imei"] = locks[0].old or None  # the device it was locked to then
    return record.model_copy(update=update)


def detection_at(store: Store, device_id: str, at: float) -> tuple[str, float | None]:
    """The detector's status of the device at `at`, and since when, from its stored history."""
    history = [v for v in store.detection_history(device_id) if v.t <= at]
    if not history:
        return "UNKNOWN", None
    return history[-1].status, history[-1].t


def sim_before(store: Store, device_id: str, at: float) -> str | None:
    """The SIM the device last reported with before `at`."""
    stored = store.device_timeline(device_id, since=at - HISTORY_S, until=at, limit=CASE_LIMIT)
    reports = [
        seen.message
        for row, seen in decoded(stored)
        if row.device_id is not None and isinstance(seen.message, Telemetry) and seen.t < at
    ]
    return reports[-1].iccid if reports else None


def swap_pairing(
    store: Store,
    device_id: str,
    iccid: str | None,
    *,
    since: float,
    now: float,
    interval_s: float | None,
) -> Pairing:
    """One pairing of a swap test: the device with the SIM put into it at `since`."""
    device = [
        seen
        for stored, seen in decoded(store.device_timeline(device_id, since=since, until=now))
        if stored.device_id is not None
    ]
    sim = (
        [seen for _, seen in decoded(store.sim_events(iccid, since=since, until=now))]
        if iccid is not None
        else []
    )
    record = record_at(store, iccid)
    locked = None
    if record is not None and record.imei_lock and iccid is not None:
        before = decoded(store.sim_events(iccid, until=since))
        locked = locked_imei(record, [seen for _, seen in before])
    return pairing(
        device_id, iccid, device, sim, since=since, interval_s=interval_s, locked_imei=locked
    )


def _imei(seen: Seen) -> str | None:
    imei: str | None = getattr(seen.message, "imei", None)
    return imei
