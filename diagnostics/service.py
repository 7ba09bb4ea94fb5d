"""The diagnostics service's core: batches in, detection status out, one commit per batch.

`Service.handle` is the ingest's callback. It reads a batch (messages outside the subscription
are ignored; undecodable ones, and stamps the service does not believe
(`diagnostics.timeguard`), become dead letters counted per code (one too large for the
ingest's cap comes as an `Oversized`, a `too_large` one of its size alone); one the broker
sent again after a crash (DUP) and stored already is skipped), feeds the good ones to the
device <-> SIM map (`Service.sims`) and the detector through `DetectorFeed`, sweeps the
detector at each watermark it meets (each change recorded at the watermark that showed it) and
writes the batch's messages, dead letters, changes and clock in ONE transaction
(`diagnostics.commits`, which keeps it while the store cannot write); the ingest acknowledges
the batch only after that. `tick` sweeps by the wall clock instead, for a real fleet.
`rebuild` replays the store into a fresh detector on start, so a restart keeps its statuses;
silences (`diagnostics.silence`) come back first.

Threads: `handle` runs in the ingest's thread, the API's readers
(`diagnostics.views`) in a thread pool; the in-memory state (detector, device
facts, counters) is guarded by one lock, `Service.lock` (`diagnostics.service_lock`: a
long grouping pauses to let readers in), and the store serves every thread on its own
connection. No FastAPI here, and no metrics format:
`diagnostics.views` and `diagnostics.metrics` read this state.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Final

import numpy as np
from pydantic import ValidationError

from diagnostics.admission import Admission
from diagnostics.commits import Commits, Pending
from diagnostics.detection import DetectionStatus, Detector, Reason
from diagnostics.device_facts import FactsTable
from diagnostics.device_order import DeviceOrder
from diagnostics.errors import StoreUnavailableError
from diagnostics.evidence import DetectorFeed
from diagnostics.group_rows import ROW_KEYS, GroupRows, grouping_row
from diagnostics.identity import IdentityGuard
from diagnostics.incidents import Grouper, Reasons, Timing
from diagnostics.incidents_readings import OwnReadings
from diagnostics.incidents_reasons import SESSION_DIMENSIONS, SimReasons
from diagnostics.incidents_timing import DEFAULT_T3412_S
from diagnostics.ingest_records import dead_letter_of
from diagnostics.search import DeviceSearch
from diagnostics.service_lock import ServiceLock
from diagnostics.service_state import Counters, DeviceFacts
from diagnostics.silence import add_silence, end_silence, restore_silences
from diagnostics.sim_map import SimMap
from diagnostics.store import DetectionChange, accepted, dead_letter
from diagnostics.timeguard import ArrivalClock, TimeBounds, TimeGuard
from diagnostics.unheard import FirstHeard
from protocol.causes import Cause
from protocol.messages import Clock, DeviceStatus, SimRecord, Telemetry
from protocol.wire import Route, Topics, WireError, decode, decode_any, subscription_test

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pydantic import BaseModel

    from diagnostics.ingest import Ingest, Received
    from diagnostics.silence import Silence
    from diagnostics.store import Accepted, DeadLetter, Store

__all__ = ["Counters", "DeviceFacts", "Service"]

GROUP_EVERY_S: Final = 900.0
"""Incidents are re-examined at a sweep that changed a status, else this often (service clock).

The grouper's baseline is time-weighted, so skipping quiet sweeps changes nothing it learns.
"""
_QUIET: Final = (int(DetectionStatus.SUSPECT), int(DetectionStatus.OFFLINE))

REPLAY_SWEEP_S: Final = 60.0
"""While replaying, the detector is swept every this many seconds of message time.

The live service sweeps after every batch; sweeping the replay as it goes keeps
state that depends on earlier statuses (a device recovering from OFFLINE) as it was.
"""


class Service:
    """Decodes, detects, groups and stores; keeps the hot state the API's views read."""

    def __init__(  # noqa: PLR0913 - each is a part or a setting of the service
        self,
        *,
        store: Store,
        topics: Topics,
        subscription: str | None = None,
        detector: Detector | None = None,
        grouper: Grouper | None = None,
        sweep_every: float = 0.0,
        wall_clock: bool = False,
        time_bounds: TimeBounds | None = None,
        max_unknown_devices: int = 10_000,
    ) -> None:
        self.store = store
        self.commits = Commits(store)
        """Writes each batch once, keeping one the store cannot take yet (`diagnostics.commits`)."""
        self.guard = TimeGuard(time_bounds)
        """Which stamps are believed, and how far (`diagnostics.timeguard`)."""
        self.wall_clock = wall_clock
        """Judge by the wall clock (`tick`), as for a real fleet, not by the stream's watermarks."""
        self.topics = topics
        self.subscription = subscription or topics.everything()
        self._inside = subscription_test(self.subscription)
        self.detector = detector or Detector()
        self.sims = SimMap()
        """Which device holds which SIM: the one map detection, support and diagnosis read."""
        self.feed = DetectorFeed(self.detector, self.sims)
        self.grouper = grouper or Grouper()
        self.reasons = SimReasons()
        self.identity = IdentityGuard(self.sims)  # SIM claims against the network's word
        present, reasons, identity = self.detector.index, self.reasons, self.identity
        self.admission = Admission(max_unknown_devices, present, reasons, identity)
        self.readings = OwnReadings(self.detector)  # by the detector's rows
        self.search = DeviceSearch()
        """Devices by name, site, account and ICCID digits (`diagnostics.search`)."""
        self.first_heard = FirstHeard()
        """What the network and the platform said about each SIM that grouping depends on."""
        self.incident_of: dict[str, str] = {}
        """Quiet device -> the open incident it points to."""
        self._grouped_at = -np.inf
        self.sweep_every = sweep_every
        """Seconds of service clock between sweeps inside a batch (0: at every watermark)."""
        self.clock: float | None = None
        self.devices = FactsTable(self.detector)
        """Each device's latest facts, by the detector's rows (`diagnostics.device_facts`)."""
        self.by_cell = self.devices.by_cell
        """(operator, cell) of each device's newest report -> the devices: a cell's peers."""
        row = partial(grouping_row, devices=self.devices, reasons=self.reasons, sims=self.sims)
        self._lock = ServiceLock()  # a long grouping lets readers in (`ServiceLock.pause`)
        self._rows = GroupRows(partial(row, readings=self.readings), self.sims, self._lock.pause)
        self.since: dict[str, float] = {}
        self.order = DeviceOrder()  # the fleet list's, by device id (`diagnostics.views`)
        self.counters = Counters()
        self.ingest: Ingest | None = None
        """Set by whoever runs the ingest, for health and metrics."""

    @property
    def lock(self) -> ServiceLock:
        """The lock that guards the hot state: hold it to read a consistent picture."""
        return self._lock

    # ---- the stream ---------------------------------------------------------------------------

    def handle(self, batch: list[Received]) -> None:
        """The ingest callback: decode, detect, sweep, and commit the batch in one transaction."""
        with self._lock.writing():
            if self.commits.again(batch):
                return  # this batch again, after the store could not take it: written now
            messages, dead, changes, clock, swept = self._read(batch)
            if clock is not None and clock != swept:
                changes += self._sweep(clock)
            advanced = clock if clock != self.clock else None

            def done(stored: int) -> None:
                with self._lock:  # taken again: the commit lets the readers in
                    self.counters.accepted += stored
                    self.counters.redelivered += len(messages) - stored
                    self.counters.dead.update(d.code for d in dead)
                    self.counters.batches += 1
                    self.counters.detection_changes += len(changes)

            try:
                with self._lock.readers_in():  # the store's commit changes no hot state
                    self.commits.write(Pending(batch, messages, dead, changes, advanced, done))
            finally:
                self.clock = clock  # after the commit: a reader at this clock finds it stored

    def _read(
        self, batch: list[Received]
    ) -> tuple[list[Accepted], list[DeadLetter], list[DetectionChange], float | None, float]:
        """Take a batch into the hot state: its rows, dead letters, changes, clock, last sweep."""
        messages: list[Accepted] = []
        dead: list[DeadLetter] = []
        changes: list[DetectionChange] = []
        inside = self._inside
        clock = self.clock
        swept = -np.inf if clock is None else clock
        for item in self._lock.paced(batch):  # a large batch lets the API's readers in
            if not inside(item.topic):
                self.counters.ignored += 1
                continue
            taken = self._take(item, clock)
            if not isinstance(taken, tuple):
                if taken is not None:
                    dead.append(taken)
                continue
            route, message, read = taken
            row = accepted(
                route=route,
                message=message,
                topic=item.topic,
                payload=item.payload,
                received=item.received,
            )
            if item.dup and self.store.contains(row):
                self.counters.redelivered += 1  # committed before a crash, not acknowledged
                continue
            messages.append(row)
            if not isinstance(message, Clock):
                if self._apply(read, route.account):
                    row.iccid = None  # a SIM claim in conflict: stored without it (`identity`)
            elif not self.wall_clock and (clock is None or message.t > clock):
                clock = message.t
                if clock >= swept + self.sweep_every:
                    changes += self._sweep(clock)
                    swept = clock
        return messages, dead, changes, clock, swept

    def _take(
        self, item: Received, clock: float | None
    ) -> tuple[Route, BaseModel, BaseModel] | DeadLetter | None:
        """One message decoded and believed, with how the service reads it (`TimeGuard`).

        Else its dead letter, or None for a retained copy of what is stored already.
        """
        try:
            route, message = decode(item.topic, item.payload, self.topics)
        except WireError as error:
            return dead_letter_of(item, error)  # an Oversized one: too_large, its size alone
        if item.retain and self._stored_already(message, item.payload):
            self.counters.duplicates += 1
            return None
        read: BaseModel = message
        if isinstance(message, Clock):
            refused = self.guard.watermark(item.topic, message.t, clock)
        else:
            refused, read = self.guard.stamp(item.topic, message, clock, retained=item.retain)
            refused = refused or self.admission.check(item.topic, read)  # `unknown_device`
        if refused is not None:
            return dead_letter(error=refused, payload=item.payload, received=item.received)
        return route, message, read

    def tick(self, now: float) -> int:
        """Judge the fleet at wall time `now` (wall-clock mode); returns how many changed."""
        with self._lock.writing():
            if self.clock is not None and now <= self.clock:
                return 0
            try:
                self.commits.again(None)
            except StoreUnavailableError:
                return 0  # judged again once the store takes what it holds
            changes = self._sweep(now)
            self.clock = now
            self.counters.detection_changes += len(changes)
            with suppress(StoreUnavailableError):  # kept, and written before the next one
                self.commits.write(Pending(None, [], [], changes, now, lambda _stored: None))
            return len(changes)

    def rebuild(self) -> int:
        """Replay the store into the detector and take up its clock; returns messages replayed.

        Statuses the replay reaches that differ from the stored current ones (the
        store was written by an older rule set, or the service died between a
        sweep and its commit) are written as changes at the stored clock.
        """
        with self._lock.writing():
            arrival = self._justified_clock()
            self.clock = arrival.last
            restore_silences(grouper=self.grouper, store=self.store)
            swept = -np.inf
            for chunk in self.store.replay():
                for row in chunk:
                    try:
                        read = self.guard.replayed(decode_any(row.payload), arrival.at(row.id))
                    except ValidationError:
                        read = None
                    if read is None:
                        self.counters.unreadable += 1
                        continue
                    if row.t >= swept + REPLAY_SWEEP_S:
                        swept = row.t if self.clock is None else min(row.t, self.clock)
                        self._group(swept, changed=self.detector.sweep(swept).size > 0)
                    self._apply(read, row.account)
                    self.counters.replayed += 1
            for records in self.store.records():  # the replay leaves records out
                for record in records:
                    with suppress(ValidationError, WireError):
                        self.search.apply(decode_any(record.payload))
            current = self.store.current_detections()
            self.since = {c.device_id: c.since for c in current}
            self.admission.recount(self.detector.ids, self.sims.last_sim, self.store.record)
            self.counters.dead = Counter(self.store.dead_letter_counts())
            if self.clock is not None:
                self._group(self.clock, changed=self.detector.sweep(self.clock).size > 0)
                stored = {c.device_id: (c.status, c.reason) for c in current}
                changes = [
                    DetectionChange(device_id, self.clock, status.name, reason.name)
                    for device_id, status, reason in self._statuses()
                    if stored.get(device_id, ("UNKNOWN", "NONE")) != (status.name, reason.name)
                ]
                if changes:
                    self.store.write_batch(messages=[], dead=[], detections=changes)
                    self.since.update((c.device_id, c.t) for c in changes)
            return self.counters.replayed

    def _justified_clock(self) -> ArrivalClock:
        """The clock each stored message came at, and the one to take up (stored if it moved)."""
        stored = self.store.last_clock()
        arrival = self.guard.taken_up(stored, self.store.watermarks, wall=self.wall_clock)
        if arrival.last is not None and arrival.last != stored:
            self.store.write_batch(messages=[], dead=[], detections=[], clock=arrival.last)
        return arrival

    def _apply(self, said: BaseModel, account: str | None) -> bool:  # its SIM claim refused?
        message = self.identity.read(said)  # without the claim when the network disagrees
        self.feed.apply(message)
        self._rows.touch(message)
        self.first_heard.apply(message)
        if isinstance(message, Telemetry):
            self.devices.report(message, account)
            self.readings.apply(message)
        elif isinstance(message, DeviceStatus):
            self.devices.status(message, account)
        else:
            self.reasons.apply(message)
            self.search.apply(message)
        return message is not said

    def _stored_already(self, message: BaseModel, payload: bytes) -> bool:
        """A retained message the broker sent again on subscribing, identical to the stored one."""
        if isinstance(message, DeviceStatus):
            status = self.store.latest_status(message.device_id)
            return status is not None and status.payload == payload
        if isinstance(message, SimRecord):
            record = self.store.record(message.iccid)
            return record is not None and record.payload == payload
        return False

    def _sweep(self, clock: float) -> list[DetectionChange]:
        changes = []
        changed = self.detector.sweep(clock)
        for row in changed:
            status, reason = self.detector.status(int(row))
            device_id = self.detector.ids[int(row)]
            changes.append(DetectionChange(device_id, clock, status.name, reason.name))
            self.since[device_id] = clock
        self._group(clock, changed=changed.size > 0)
        return changes

    def _group(self, clock: float, *, changed: bool) -> None:
        """Let the grouper see the fleet after a sweep (see GROUP_EVERY_S)."""
        if not changed and clock < self._grouped_at + GROUP_EVERY_S:
            return
        self._grouped_at = clock
        ids = self.detector.ids
        if not ids:
            return
        misbehaving = self.feed.timers.misbehaving(clock)  # their own firmware's trouble
        attributes, reasons, (timers, contact, lost) = self._attributes(ids, misbehaving)
        quiet = np.isin(self.detector.column("status"), _QUIET)
        quiet &= self.detector.settled(clock)  # silence by a guessed interval is no victim yet
        if misbehaving:
            quiet |= np.isin(np.asarray(ids), list(misbehaving))
        reported = self.detector.column("last_seen")
        interval = self.detector.column("interval")
        late = reported + self.detector.settings.late_limit(interval)
        timers = np.where(np.isnan(timers), DEFAULT_T3412_S, timers)
        reach = reported + interval + timers + self.detector.settings.reachable_margin
        timing = Timing(reported, late, reach, contact, lost)
        self.grouper.update(clock, ids, attributes, quiet, self.since, reasons, timing)
        self.incident_of = self.grouper.incident_of()

    def _attributes(
        self, ids: list[str], misbehaving: set[str]
    ) -> tuple[dict[str, list[str | None]], Reasons, tuple[NDArray[np.float64], ...]]:
        """Each device's group in every dimension, its SIM's own evidence, and three times.

        The T3412 the network granted (nan: not said), its newest registration where it last
        reported and its implicit detach since (`Timing.contact`, `Timing.lost`).

        A device breaking TS.34's limits (`misbehaving`) is in trouble by its firmware's
        conduct, where the platform names nothing else: no victim of a congestion or a core
        failure whose wait it does not keep. A gateway's or tunnel's refusal of its sessions
        (`SESSION_DIMENSIONS`) leaves it that outage's victim however it retries, counted in
        its APN's group. The rest of a device's row is kept between sweeps (`GroupRows`).
        """
        rows = self._rows.rows(ids)
        columns = list(zip(*rows, strict=True))
        attributes = {key: list(columns[n]) for n, key in enumerate(ROW_KEYS)}
        said, own = columns[len(ROW_KEYS)], columns[len(ROW_KEYS) + 1]
        named = columns[len(ROW_KEYS) + 2]
        causes = [s or o for s, o in zip(said, own, strict=True)]
        for device_id in misbehaving:
            row = self.detector.index.get(device_id)
            if row is not None and SESSION_DIMENSIONS.isdisjoint(named[row]):
                causes[row] = said[row] or Cause.RECONNECT_STORM
        times = tuple(np.asarray(columns[len(ROW_KEYS) + n], np.float64) for n in (3, 4, 5))
        weakening = [bool(w) for w in columns[len(ROW_KEYS) + 6]]
        returned = list(columns[len(ROW_KEYS) + 7])
        return attributes, Reasons(causes, list(named), weakening, returned), times

    def _statuses(self) -> list[tuple[str, DetectionStatus, Reason]]:
        return [
            (device_id, *self.detector.status(row))
            for row, device_id in enumerate(self.detector.ids)
        ]

    # ---- the operators' writes and questions ------------------------------------------------

    def silence(
        self,
        dimension: str,
        value: str,
        *,
        until: float | None = None,
        seconds: float | None = None,
        reason: str = "",
    ) -> Silence:
        """Mute incidents in a scope until `until` or for `seconds` of service clock.

        SilenceError with the reason for a bad scope or expiry.
        """
        with self._lock:
            return add_silence(
                grouper=self.grouper,
                store=self.store,
                dimension=dimension,
                value=value,
                now=self._now(),
                until=until,
                seconds=seconds,
                reason=reason,
            )

    def end_silence(self, silence_id: str) -> Silence | None:
        """End a silence now (service clock), and keep that; None: no silence of that id."""
        with self._lock:
            return end_silence(
                grouper=self.grouper, store=self.store, silence_id=silence_id, now=self._now()
            )

    def _now(self) -> float:
        return self.clock if self.clock is not None else time.time()

    def known(self, device_id: str) -> bool:
        """Whether the device has been seen."""
        with self._lock:
            return device_id in self.detector.index
