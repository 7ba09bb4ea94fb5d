"""Support's questions to the service: diagnose a device or a SIM, run swap tests.

`Support` builds a diagnosis `Case` from what the service knows (its store, the
detector's verdict, the incident a device is quiet in) and hands it to the pure
code of `diagnostics.diagnosis`. A case can be built at any moment up to the
service clock (`at`), from what had arrived by then, so support can look back
at the moment a customer called. Swap tests are kept in the store as support
actions, so they survive a restart.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Final

from pydantic import ValidationError

from diagnostics.diagnosis import Case, Diagnosis, IncidentRef, Seen, diagnose
from diagnostics.diagnosis.readings import locked_imei
from diagnostics.diagnosis.swap import (
    Pairing,
    SwapTest,
    SwapVerdict,
    compare,
    pairing,
    weigh_swap,
)
from protocol.messages import DataBlocked, SimRecord, StateChanged, Telemetry
from protocol.wire import decode_any

if TYPE_CHECKING:
    from diagnostics.service import Service
    from diagnostics.store import StoredMessage

__all__ = ["HISTORY_S", "Support", "UnknownError"]

HISTORY_S: Final = 2 * 86400.0
"""How far back a case looks (its evidence window)."""
_CASE_LIMIT: Final = 5000
_SWAP: Final = "swap_test"


class UnknownError(LookupError):
    """The device, SIM or swap test asked about has never been seen."""


class Support:
    """Diagnoses and swap tests over a running service."""

    def __init__(self, service: Service) -> None:
        self.service = service

    # ---- cases ---------------------------------------------------------------------------------

    def _now(self, at: float | None) -> float:
        clock = self.service.clock
        if clock is None:
            raise UnknownError("the service has no clock yet: nothing has arrived")
        if at is None or at > clock:
            return clock
        return at

    def device_case(self, device_id: str, *, at: float | None = None) -> Case:
        """Everything known about the device at `at` (default: the service clock)."""
        service = self.service
        now = self._now(at)
        with service._lock:  # noqa: SLF001 - the service's own lock guards its hot state
            row = service.detector.index.get(device_id)
            if row is None:
                raise UnknownError(f"no device {device_id!r} has reported")
            verdict = service.detector.verdict(row)[0].name
            interval = float(service.detector.column("interval")[row])
            since = service.since.get(device_id)
            current = now >= (service.clock or now)
            incident = self._incident(device_id, now, current=current)
        if not current:
            verdict, since = self._verdict_at(device_id, now)
        stored = service.store.device_timeline(
            device_id, since=now - HISTORY_S, until=now, limit=_CASE_LIMIT
        )
        decoded = _decoded(stored)
        device = [s for s in decoded if s[0].device_id is not None]
        network = [s for s in decoded if s[0].device_id is None]
        reports = [seen for _, seen in device if isinstance(seen.message, Telemetry)]
        iccid = reports[-1].message.iccid if reports else None  # type: ignore[attr-defined]
        if iccid is not None:
            network = [(m, s) for m, s in network if m.iccid == iccid]
        own = {seen.message.imei for seen in reports}  # type: ignore[attr-defined]
        elsewhere = self._imeis_elsewhere(device_id, {_imei(s) for _, s in network} - own - {None})
        network = [(m, s) for m, s in network if _imei(s) not in elsewhere]
        return Case(
            now=now,
            device_id=device_id,
            iccid=iccid,
            verdict=verdict,
            verdict_since=since,
            interval_s=interval,
            record=self._record(iccid, at=now),
            device=tuple(seen for _, seen in device),
            network=tuple(seen for _, seen in network),
            incident=incident,
        )

    def _imeis_elsewhere(self, device_id: str, imeis: set[str | None]) -> set[str | None]:
        """Of `imeis`, those another device reports with: its SIM's events are not this device's.

        After a swap the device's old SIM works on in the other device; its events carry
        that device's IMEI. An IMEI no device reports with stays (new hardware, a lock refusal).
        """
        with self.service._lock:  # noqa: SLF001
            found = self.service.device_of_imei
            return {i for i in imeis if i is not None and found.get(i, device_id) != device_id}

    def sim_case(self, iccid: str, *, at: float | None = None) -> Case:
        """The SIM's case: through the device that last reported with it, else the SIM alone."""
        device_id = self._device_of(iccid)
        if device_id is not None:
            case = self.device_case(device_id, at=at)
            if case.iccid == iccid:
                return case
        now = self._now(at)
        stored = self.service.store.sim_events(iccid, since=now - HISTORY_S, until=now)
        record = self._record(iccid, at=now)
        if not stored and record is None:
            raise UnknownError(f"no SIM {iccid!r} has been seen")
        return Case(
            now=now,
            device_id=None,
            iccid=iccid,
            record=record,
            network=tuple(seen for _, seen in _decoded(stored)),
        )

    def diagnose_device(self, device_id: str, *, at: float | None = None) -> Diagnosis:
        """The device's diagnosis at `at` (default: now), with its swap tests weighed in."""
        diagnosis = diagnose(self.device_case(device_id, at=at))
        for test in self.swap_tests():
            if test.at > diagnosis.at or device_id not in {test.suspect_device, test.good_device}:
                continue
            diagnosis = weigh_swap(diagnosis, self._verdict(test, diagnosis.at))
        return diagnosis

    def diagnose_sim(self, iccid: str, *, at: float | None = None) -> Diagnosis:
        """The SIM's diagnosis at `at` (default: now)."""
        return diagnose(self.sim_case(iccid, at=at))

    def _device_of(self, iccid: str) -> str | None:
        with self.service._lock:  # noqa: SLF001
            return self.service.device_of_sim.get(iccid)

    def _record(self, iccid: str | None, *, at: float | None = None) -> SimRecord | None:
        """The SIM's inventory record as it stood at `at` (default: the newest)."""
        if iccid is None:
            return None
        stored = self.service.store.record(iccid)
        if stored is None:
            return None
        try:
            record = SimRecord.model_validate_json(stored.payload)
        except ValidationError:
            return None
        if at is None or record.t <= at:
            return record
        # the newest record is younger than the moment asked about: undo what changed since
        later = [
            seen.message for _, seen in _decoded(self.service.store.sim_events(iccid, since=at))
        ]
        update: dict[str, object] = {"t": at}
        changes = [m for m in later if isinstance(m, StateChanged) and m.t > at]
        if changes:
            update["state"] = changes[0].old
        blocks = [m for m in later if isinstance(m, DataBlocked) and m.t > at]
        if blocks:
            update["data_blocked"] = not blocks[0].blocked
        return record.model_copy(update=update)

    def _incident(self, device_id: str, now: float, *, current: bool) -> IncidentRef | None:
        grouper = self.service.grouper
        if current:
            found = self.service.incident_of.get(device_id)
            incidents = [grouper.incidents[found]] if found in grouper.incidents else []
        else:
            incidents = [
                i
                for i in grouper.incidents.values()
                if device_id in i.members
                and i.opened_at <= now
                and (i.closed_at is None or i.closed_at > now)
            ]
        if not incidents:
            return None
        i = incidents[-1]
        return IncidentRef(i.id, i.dimension, i.value, i.started_at, len(i.quiet), len(i.members))

    def _verdict_at(self, device_id: str, at: float) -> tuple[str, float | None]:
        history = [v for v in self.service.store.verdict_history(device_id) if v.t <= at]
        if not history:
            return "UNKNOWN", None
        return history[-1].verdict, history[-1].t

    # ---- swap tests ----------------------------------------------------------------------------

    def register_swap(
        self,
        *,
        suspect_device: str,
        good_device: str | None,
        at: float | None = None,
        impossible: str | None = None,
    ) -> SwapTest:
        """Register a swap test; each device's SIM is the one it reported with before `at`."""
        now = self._now(None)
        when = now if at is None else at
        suspect = self._sim_before(suspect_device, when)
        good = self._sim_before(good_device, when) if good_device is not None else None
        if good_device is None and impossible is None:
            impossible = "no known-good device was named"
        test = SwapTest(
            id=uuid.uuid4().hex[:12],
            created=now,
            at=when,
            suspect_device=suspect_device,
            suspect_iccid=suspect,
            good_device=good_device,
            good_iccid=good,
            impossible=impossible,
        )
        self.service.store.put_action(_SWAP, test.id, test.created, json.dumps(asdict(test)))
        return test

    def swap_tests(self) -> list[SwapTest]:
        """Every registered swap test, oldest first."""
        return [SwapTest(**json.loads(body)) for _, _, body in self.service.store.actions(_SWAP)]

    def swap_test(self, test_id: str) -> SwapTest:
        """One registered swap test."""
        for test in self.swap_tests():
            if test.id == test_id:
                return test
        raise UnknownError(f"no swap test {test_id!r}")

    def swap_verdict(self, test_id: str, *, at: float | None = None) -> SwapVerdict:
        """The test's verdict at `at` (default: now)."""
        return self._verdict(self.swap_test(test_id), self._now(at))

    def _verdict(self, test: SwapTest, now: float) -> SwapVerdict:
        if test.impossible is not None or test.good_device is None:
            # without the swap, what the SIM's own record shows is the answer
            sim_diagnosis = None
            if test.suspect_iccid is not None:
                try:
                    sim_diagnosis = self.diagnose_sim(test.suspect_iccid, at=now)
                except UnknownError:
                    sim_diagnosis = None
            return compare(
                test,
                now,
                suspect_sim_in_good=None,
                good_sim_in_suspect=None,
                sim_diagnosis=sim_diagnosis,
            )
        return compare(
            test,
            now,
            suspect_sim_in_good=self._pairing(test.good_device, test.suspect_iccid, test.at, now),
            good_sim_in_suspect=self._pairing(test.suspect_device, test.good_iccid, test.at, now),
        )

    def _pairing(self, device_id: str, iccid: str | None, since: float, now: float) -> Pairing:
        store = self.service.store
        device = [
            seen
            for stored, seen in _decoded(store.device_timeline(device_id, since=since, until=now))
            if stored.device_id is not None
        ]
        sim = (
            [seen for _, seen in _decoded(store.sim_events(iccid, since=since, until=now))]
            if iccid is not None
            else []
        )
        record = self._record(iccid)
        locked = None
        if record is not None and record.imei_lock and iccid is not None:
            before = _decoded(store.sim_events(iccid, until=since))
            locked = locked_imei(record, [seen for _, seen in before])
        with self.service._lock:  # noqa: SLF001
            row = self.service.detector.index.get(device_id)
            interval = (
                float(self.service.detector.column("interval")[row]) if row is not None else None
            )
        return pairing(
            device_id, iccid, device, sim, since=since, interval_s=interval, locked_imei=locked
        )

    def _sim_before(self, device_id: str, at: float) -> str | None:
        if not self.service.known(device_id):
            raise UnknownError(f"no device {device_id!r} has reported")
        stored = self.service.store.device_timeline(
            device_id, since=at - HISTORY_S, until=at, limit=_CASE_LIMIT
        )
        reports = [
            seen.message
            for row, seen in _decoded(stored)
            if row.device_id is not None and isinstance(seen.message, Telemetry) and seen.t < at
        ]
        return reports[-1].iccid if reports else None


def _imei(seen: Seen) -> str | None:
    imei: str | None = getattr(seen.message, "imei", None)
    return imei


def _decoded(rows: list[StoredMessage]) -> list[tuple[StoredMessage, Seen]]:
    """Stored rows as evidence (rows the current protocol cannot read are left out)."""
    out = []
    for row in rows:
        try:
            message = decode_any(row.payload)
        except ValidationError:
            continue
        out.append((row, Seen(row.id, message)))
    return out
