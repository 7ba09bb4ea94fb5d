"""Support's questions to the service: diagnose a device or a SIM, run swap tests.

`Support` is the glue between the running service and the pure code of
`diagnostics.diagnosis`: it takes what the service holds in memory under its lock
(the detector's status and interval, the incident a device is quiet in, which
SIM a device holds by the service's one device <-> SIM map), has `diagnostics.cases`
read the rest from the store, and hands the case to `diagnose`. A case can be built
at any moment up to the service clock (`at`), so support can look back at the moment
a customer called. Swap tests are kept in the store as support actions, so they survive a restart.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Final

from diagnostics.cases import (
    Holding,
    detection_at,
    device_case,
    holding_at,
    sim_before,
    sim_case,
    swap_pairing,
)
from diagnostics.diagnosis import Case, Diagnosis, IncidentRef, diagnose
from diagnostics.diagnosis.swap import (
    Pairing,
    SwapResult,
    SwapTest,
    compare,
    weigh_swap,
)
from diagnostics.errors import DiagnosticsError
from diagnostics.peers import OVERDUE, cell_peers
from protocol.causes import Cause

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import CellPeers
    from diagnostics.service import DeviceFacts, Service

__all__ = ["Support", "UnknownError"]

_SWAP: Final = "swap_test"
_DOWN: Final = frozenset({"SUSPECT", "OFFLINE"})


class UnknownError(DiagnosticsError, LookupError):
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
        with service.lock:
            row = service.detector.index.get(device_id)
            if row is None:
                raise UnknownError(f"no device {device_id!r} has reported")
            status = service.detector.status(row)[0].name
            interval = float(service.detector.column("interval")[row])
            since = service.since.get(device_id)
            current = now >= (service.clock or now)
            incident = self._incident(device_id, now, current=current)
            sims = service.sims
            holding = Holding(sims.sim_of(device_id), sims.last_sim(device_id), self._owner_of_imei)
            paired = sims.paired(device_id)
            reporters = frozenset().union(*(sims.reporters(iccid) for iccid in paired))
            imeis = sims.imeis(device_id)
            facts = service.devices.get(device_id)
            quiet = status in {"SUSPECT", "OFFLINE"}
            peers = self._peers(facts) if facts and quiet else None
        if not current:
            peers = None  # only each device's newest report is held
            status, since = detection_at(service.store, device_id, now)
            holding = holding_at(
                service.store,
                device_id,
                now,
                sims=paired,
                devices=reporters,
                owner=self._owner_of_imei,
                imeis=imeis,
            )
        case = device_case(
            service.store,
            device_id,
            now=now,
            detection_status=status,
            detection_since=since,
            interval_s=interval,
            incident=incident,
            holding=holding,
        )
        return dataclasses.replace(case, cell_peers=peers) if peers is not None else case

    def _peers(self, facts: DeviceFacts) -> CellPeers | None:
        """The device's neighbours on its last cell, from the hot state (under the lock).

        Only the devices of that cell are read (`Service.by_cell`), never the whole fleet.
        """
        service = self.service
        detector = service.detector
        members = service.by_cell.get((facts.operator, facts.cell), set())
        rows = [(d, detector.index[d]) for d in members if d in detector.index]
        statuses, intervals = detector.column("status"), detector.column("interval")
        late = {int(s) for s in OVERDUE}
        quiet = {d: float(intervals[r]) for d, r in rows if int(statuses[r]) in late}
        fading = {d for d in quiet if service.readings.explanation(d) is Cause.COVERAGE_LOSS}
        peers = (service.devices[d] for d in members if d in service.devices)
        return cell_peers(peers, facts, quiet=quiet, fading=fading)

    def _owner_of_imei(self, imei: str) -> str | None:
        with self.service.lock:
            return self.service.sims.owner(imei)

    def sim_case(self, iccid: str, *, at: float | None = None) -> Case:
        """The SIM's case: through the device that holds it now, else the SIM alone."""
        device_id = self._device_of(iccid)
        if device_id is not None:
            case = self.device_case(device_id, at=at)
            if case.iccid == iccid:
                return case
        now = self._now(at)
        with self.service.lock:
            unheard = self.service.first_heard.unheard_since(iccid, now)
        found = sim_case(self.service.store, iccid, now=now, unheard_since=unheard)
        if found is None:
            raise UnknownError(f"no SIM {iccid!r} has been seen")
        return found

    def diagnose_device(self, device_id: str, *, at: float | None = None) -> Diagnosis:
        """The device's diagnosis at `at` (default: now), with its swap tests weighed in."""
        diagnosis = diagnose(self.device_case(device_id, at=at))
        for test in self.swap_tests():
            if test.at > diagnosis.at or device_id not in {test.suspect_device, test.good_device}:
                continue
            diagnosis = weigh_swap(diagnosis, self._swap_result(test, diagnosis.at))
        return diagnosis

    def diagnose_down(
        self, *, account: str | None = None, at: float | None = None
    ) -> list[Diagnosis]:
        """The diagnosis at `at` of every device (of `account`) down then (SUSPECT or OFFLINE)."""
        service = self.service
        now = self._now(at)
        with service.lock:
            current = now >= (service.clock or now)
            devices = [
                (device_id, service.detector.status(row)[0].name)
                for device_id, row in service.detector.index.items()
                if account is None
                or getattr(service.devices.get(device_id), "account", None) == account
            ]
        found = []
        for device_id, status_now in sorted(devices):
            status = status_now if current else detection_at(service.store, device_id, now)[0]
            if status in _DOWN:
                found.append(self.diagnose_device(device_id, at=now))
        return found

    def diagnose_sim(self, iccid: str, *, at: float | None = None) -> Diagnosis:
        """The SIM's diagnosis at `at` (default: now)."""
        return diagnose(self.sim_case(iccid, at=at))

    def _device_of(self, iccid: str) -> str | None:
        with self.service.lock:
            return self.service.sims.holder(iccid)

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
        quiet, devices = i.counts_at(now)
        return IncidentRef(
            i.id, i.dimension, i.value, i.started_at, quiet, devices, i.kind, i.cause
        )

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

    def swap_result(self, test_id: str, *, at: float | None = None) -> SwapResult:
        """The test's result at `at` (default: now)."""
        return self._swap_result(self.swap_test(test_id), self._now(at))

    def _swap_result(self, test: SwapTest, now: float) -> SwapResult:
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
        with self.service.lock:
            row = self.service.detector.index.get(device_id)
            interval = (
                float(self.service.detector.column("interval")[row]) if row is not None else None
            )
        return swap_pairing(
            self.service.store, device_id, iccid, since=since, now=now, interval_s=interval
        )

    def _sim_before(self, device_id: str, at: float) -> str | None:
        if not self.service.known(device_id):
            raise UnknownError(f"no device {device_id!r} has reported")
        return sim_before(self.service.store, device_id, at)
