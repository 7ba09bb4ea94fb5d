"""What the stream the service received says about each device, for the scorer to check words by.

Built from the messages the service was fed (the world's output after message
loss), never from what the service concluded: the device's reports (telemetry)
with their times, cells, networks, APNs, firmware and whether they carried a
battery level; its SIM's network events; each SIM's record (name, account); the
device-management server's word on firmware updates (a device that updated and went
quiet runs the new version, though no report says so).
`at(t)` answers for one moment: what had arrived by then.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from diagnostics.detection import DetectorSettings
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    DeviceStatus,
    FirmwareUpdate,
    SessionClosed,
    SessionOpened,
    SimRecord,
    Telemetry,
    UsageReported,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydantic import BaseModel

__all__ = ["Report", "Stream"]

SEEN = frozenset({"cell", "operator", "apn", "firmware", "account"})
"""The dimensions a device's reports tell its group in."""
RHYTHM_GAPS = DetectorSettings().gap_window
"""The gaps a device's interval is the median of, as the detector learns it."""
NETWORK_SHOWS_S = 86_400.0

"""The network side "shows the SIM works" with an accepted attach or session this recent."""


@dataclass(frozen=True, slots=True)
class Report:
    """One report (telemetry) as it arrived."""

    t: float
    iccid: str
    cell: int
    operator: str
    apn: str
    firmware: str
    battery: bool


@dataclass(slots=True)
class Stream:
    """The received stream, by device and by SIM (see the module)."""

    reports: dict[str, list[Report]] = field(default_factory=lambda: defaultdict(list))
    working: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """SIM -> times of accepted attaches and opened sessions."""
    registrations: dict[str, list[tuple[float, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """SIM -> (time, attached after it) for each attach accepted, rejected, or detach."""
    records: dict[str, SimRecord] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    """Device -> the account its reports and statuses were published under (the last sent)."""
    updates: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    """SIM -> (time, version) of each firmware update the device-management server told of
    (applied or still going: a failed one leaves the old version)."""
    heard: dict[str, float] = field(default_factory=dict)
    """Device -> when its first status (under an account) was sent."""
    status_sims: dict[str, str] = field(default_factory=dict)
    """Device -> the SIM its newest status named."""
    sleeps: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    """Device -> (time, planned next report) of each "asleep until" status it sent."""
    told: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Device or SIM -> times of the messages naming it that could tell of a trouble: its
    reports and statuses, its SIM's attempts and the network's answers, the platform's
    changes to its record (`_tells`)."""

    @classmethod
    def of(cls, messages: Iterable[BaseModel], accounts: Iterable[str | None]) -> Stream:
        """The stream of a sink's messages and their accounts, in the order they were sent."""
        found = cls()
        for message, account in zip(messages, accounts, strict=True):
            found._take(message, account)
        for reports in found.reports.values():
            reports.sort(key=lambda r: r.t)
        for times in (*found.working.values(), *found.told.values()):
            times.sort()
        return found

    def _take(self, message: BaseModel, account: str | None) -> None:
        """One message of the stream, in the order sent."""
        self._told(message)
        if isinstance(message, Telemetry):
            self.reports[message.device_id].append(_report(message))
            if account:
                self.accounts[message.device_id] = account
        elif isinstance(message, AttachAccepted | SessionOpened):
            self.working[message.iccid].append(message.t)
            if isinstance(message, AttachAccepted):
                self.registrations[message.iccid].append((message.t, True))
        elif isinstance(message, AttachRejected | Detached):
            self.registrations[message.iccid].append((message.t, False))
        elif isinstance(message, SimRecord):
            self.records[message.iccid] = message
        elif isinstance(message, DeviceStatus):
            self._status(message, account)
        elif isinstance(message, FirmwareUpdate) and message.result <= 1:
            self.updates[message.iccid].append((message.t, message.version))

    def _told(self, message: BaseModel) -> None:
        if _tells(message):
            for key in {getattr(message, "device_id", None), getattr(message, "iccid", None)}:
                if key:
                    self.told[key].append(message.t)  # type: ignore[attr-defined]

    def _status(self, message: DeviceStatus, account: str | None) -> None:
        if account:  # a device that never reported is still heard of, in its account
            self.accounts[message.device_id] = account
            self.heard.setdefault(message.device_id, message.t)
        if message.iccid is not None:
            self.status_sims[message.device_id] = message.iccid
        if message.status == "asleep" and message.next_report is not None:
            self.sleeps[message.device_id].append((message.t, message.next_report))

    def until(self, device_id: str, t: float) -> list[Report]:
        """The device's reports that had arrived by `t`."""
        reports = self.reports.get(device_id, [])
        return reports[: bisect.bisect_right(reports, t, key=_time)]

    def rhythm(self, device_id: str, t: float, drawn_s: float) -> float:
        """The device's interval as its reports by `t` show it, or `drawn_s` where longer.

        The detector learns it so: the median of its last `RHYTHM_GAPS` gaps. A PSM device
        wakes for its reports and sleeps again: its gaps run a little longer than its drawn
        interval, and the service measures its silence by the gaps it saw.
        """
        times = [r.t for r in self.until(device_id, t)][-RHYTHM_GAPS - 1 :]
        gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
        return max(drawn_s, statistics.median(gaps)) if gaps else drawn_s

    def last_report(self, device_id: str, t: float) -> float | None:
        """When the device's newest report before `t` was sent (None: it never reported)."""
        reports = self.until(device_id, t)
        return reports[-1].t if reports else None

    def silent_since(self, device_id: str, t: float, interval_s: float) -> float | None:
        """From when the detector measures the device's silence at `t` (None: never reported).

        Its last report; or, where an "asleep until" status came after it, one interval
        before the planned wake (the status is a sign of life, and the wake its next due).
        """
        last = self.last_report(device_id, t)
        said = [(s, wake) for s, wake in self.sleeps.get(device_id, []) if s <= t]
        if said and (last is None or max(said)[0] >= last):
            s, wake = max(said)
            return wake - interval_s if wake > s else s
        return last

    def quiet(self, keys: Iterable[str | None], since: float, t: float) -> bool:
        """Whether no message naming any of `keys` (devices, SIMs) could tell, in `[since, t]`."""
        for key in keys:
            times = self.told.get(key or "", [])
            i = bisect.bisect_left(times, since)
            if i < len(times) and times[i] <= t:
                return False
        return True

    def sim_of(self, device_id: str, t: float) -> str | None:
        """The SIM the device's newest report by `t` came with (None: it never reported)."""
        reports = self.until(device_id, t)
        return reports[-1].iccid if reports else None

    def reported_battery(self, device_id: str, t: float) -> bool:
        """Whether any report by `t` carried a battery level."""
        return any(r.battery for r in self.until(device_id, t))

    def sim_works(self, iccid: str | None, t: float) -> bool:
        """Whether the network side showed the SIM attached or in session lately (by `t`)."""
        times = self.working.get(iccid or "", [])
        return any(t - NETWORK_SHOWS_S <= s <= t for s in times)

    def attached(self, iccid: str | None, t: float) -> bool | None:
        """Whether the network last saw the SIM attached by `t` (None: it never said)."""
        said = [a for s, a in sorted(self.registrations.get(iccid or "", [])) if s <= t]
        return said[-1] if said else None

    def firmware(self, last: Report, t: float) -> str:
        """The firmware a device runs by `t`: its last report's, or an update told of since."""
        told = [(s, v) for s, v in self.updates.get(last.iccid, []) if last.t < s <= t]
        return max(told)[1] if told else last.firmware

    def members(self, dimension: str, value: str, t: float) -> set[str] | None:
        """Devices whose newest report by `t` puts them in the group (cell, operator, APN...).

        None for a dimension no report tells (a tunnel, a pool): the stream cannot count it.
        A device heard of by a status that never reported is in its account, and runs the
        version an update told of for the SIM its status named.
        """
        if dimension not in SEEN:
            return None
        out = set()
        for device_id in self.reports.keys() | self.heard.keys():
            seen = self._groups(device_id, t)
            if seen.get(dimension) == (value.lower() if dimension == "apn" else value):
                out.add(device_id)
        return out

    def _groups(self, device_id: str, t: float) -> dict[str, str | None]:
        """The device's group in each dimension the stream tells, by `t`."""
        reports = self.until(device_id, t)
        if reports:
            last = reports[-1]
            return {
                "cell": str(last.cell),
                "operator": last.operator,
                "apn": last.apn.lower(),
                "firmware": self.firmware(last, t),
                "account": self.accounts.get(device_id, ""),
            }
        heard = self.heard.get(device_id)
        if heard is None or heard > t:
            return {}
        told = [
            (s, v) for s, v in self.updates.get(self.status_sims.get(device_id, ""), []) if s <= t
        ]
        return {"account": self.accounts.get(device_id), "firmware": max(told)[1] if told else None}


def _time(report: Report) -> float:
    return report.t


def _report(message: Telemetry) -> Report:
    return Report(
        message.t,
        message.iccid,
        message.cell_id,
        message.mcc_mnc,
        message.apn,
        message.firmware,
        message.battery is not None,
    )


def _tells(message: BaseModel) -> bool:
    """Whether a message could tell of a new trouble (see `Stream.told`).

    All but the network letting a silent device go (an implicit detach, the sessions it
    closes) and the platform's periodic usage.
    """
    if isinstance(message, Detached):
        return message.reason != "implicit"
    if isinstance(message, SessionClosed):
        return message.reason != "detach"
    return not isinstance(message, UsageReported)
