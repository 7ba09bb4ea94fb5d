"""Offline detection: which devices are online, late, suspect, offline or asleep, and why.

Each device's reporting interval is learned from the median of its recent
gaps (seeded from the interval it announces, or a default), so hourly meters
and five-minute trackers are judged each by its own clock. Silence is
measured in those intervals: LATE after 1.5, SUSPECT after 2.5, OFFLINE after
4.5 (with 1% message loss about four reports in a row must be missing before
silence can be told from loss). A planned PSM/eDRX sleep is ASLEEP, never
silence. Only a device's own rhythm teaches its interval: a gap across which
its connection broke (a Last Will: a reconnect storm, a reboot, a lost cell)
ended when the connection came back, not when the schedule said, and an
outage is not a gap to learn either. A device that has come back on another
rhythm (its interval learned too short, or changed) shows it with two
returning gaps that agree within `rhythm_ratio`: its window restarts from
them, so it is not OFFLINE between every report from then on.

A sleep survives the loss of the status that announced it. The network says how long a PSM
device may sleep: the periodic TAU timer it granted (T3412), past which its mobile reachable
timer runs `reachable_margin` more and then detaches the device implicitly. A device granted
PSM is ASLEEP while the network can still be waiting for it (its last contact plus T3412 and
the margin) and its own schedule does not say it is late; until its own first gap it is
judged by T3412; once that implicit detach comes after its last report, it is OFFLINE. A
device that has shown no gap and no planned sleep has no schedule yet: it is not OFFLINE
before `first_gap_limit`, since its first sleep may be a day long. A Last Will makes a
device SUSPECT at once; network evidence changes the status and its reason: a device the
network still sees (an attach, a session, data) is not OFFLINE but SUSPECT, "on the network,
not reporting". An OFFLINE device that reports again stays LATE ("recovering") until a
second on-time report.

Time is whatever the caller says it is (`sweep(now)`): the service clock,
which is the simulator's watermark in simulated runs, so the same stream
gives the same statuses live, accelerated or replayed. The state of every
device lives in numpy columns (about 135 bytes each); a sweep over a million
devices is a few vectorised comparisons. The module is pure: no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["DetectionStatus", "Detector", "DetectorSettings", "Reason"]

_Seconds = TypeVar("_Seconds", float, "NDArray[Any]")


class DetectionStatus(enum.IntEnum):
    """What the service says about a device now."""

    UNKNOWN = 0
    ONLINE = 1
    LATE = 2
    SUSPECT = 3
    OFFLINE = 4
    ASLEEP = 5


class Reason(enum.IntEnum):
    """Why the status is what it is."""

    NONE = 0
    REPORTING = 1
    """Reports arrive on time."""
    SILENT = 2
    """No report for longer than its interval allows."""
    RECOVERING = 3
    """Reported again after being offline; ONLINE after a second on-time report."""
    SLEEPING = 4
    """Inside a planned PSM/eDRX sleep."""
    CONNECTION_LOST = 5
    """Its Last Will arrived: the broker lost its connection."""
    NETWORK_ONLY = 6
    """Silent, but the network still sees it (attach, session, data): alive below IP."""
    NETWORK_LOST = 7
    """Silent, and the network detached it."""
    REJECTED = 8
    """Silent, and the network refused it (attach or session reject)."""


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Thresholds, in units of each device's own interval unless said otherwise."""

    default_interval: float = 900.0
    """Seconds, for a device that has announced nothing and reported fewer than 3 gaps."""
    late_after: float = 1.5
    suspect_after: float = 2.5
    offline_after: float = 4.5
    tolerance: float = 30.0
    """Seconds of slack on every threshold (jitter, clock granularity)."""
    gap_window: int = 16
    """Recent gaps the interval is learned from."""
    min_gaps: int = 3
    """Gaps needed before the learned interval replaces the announced one."""
    reachable_margin: float = 240.0
    """Seconds the network's mobile reachable timer runs past T3412 before it detaches."""
    first_gap_limit: float = 25 * 3600.0
    """Seconds of silence before a device with no schedule yet can be OFFLINE: a day's sleep."""
    rhythm_ratio: float = 2.0
    """Two gaps after a return agree (a new rhythm) when the longer is at most this times the
    shorter: a +/-25% jitter or one lost report stays inside it."""

    def late_limit(self, interval: _Seconds) -> _Seconds:
        """Seconds of silence past which a device (or each) reporting every `interval` is LATE."""
        limit: _Seconds = self.late_after * interval + np.maximum(self.tolerance, 0.1 * interval)
        return limit

    def suspect_limit(self, interval: _Seconds) -> _Seconds:
        """Seconds of silence past which a device (or each) of `interval` is SUSPECT."""
        limit: _Seconds = self.suspect_after * interval + np.maximum(self.tolerance, 0.1 * interval)
        return limit


_UNSEEN: Final = np.nan
_OFFLINE: Final = int(DetectionStatus.OFFLINE)
_OUTAGE: Final = frozenset({int(DetectionStatus.OFFLINE), int(DetectionStatus.SUSPECT)})


def _median(values: list[float]) -> float:
    """Median of a short list (sorted() beats numpy at 16 values by an order of magnitude)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


class Detector:
    """Detection statuses for a fleet, one row per device."""

    def __init__(self, settings: DetectorSettings | None = None, capacity: int = 1024) -> None:
        self.settings = settings or DetectorSettings()
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self._n = 0
        self._alloc(capacity)

    # ---- storage ------------------------------------------------------------------------------

    def _alloc(self, capacity: int) -> None:
        k = self.settings.gap_window
        fresh: dict[str, NDArray[Any]] = {
            "last_seen": np.full(capacity, _UNSEEN, np.float64),
            "nominal": np.full(capacity, self.settings.default_interval, np.float32),
            "interval": np.full(capacity, self.settings.default_interval, np.float32),
            "gaps": np.full((capacity, k), np.nan, np.float32),
            "gap_pos": np.zeros(capacity, np.uint8),
            "gap_count": np.zeros(capacity, np.uint8),
            "status": np.zeros(capacity, np.uint8),
            "reason": np.zeros(capacity, np.uint8),
            "recovering": np.zeros(capacity, np.bool_),
            "announced": np.zeros(capacity, np.bool_),
            "broken": np.zeros(capacity, np.bool_),
            "stray": np.full(capacity, np.nan, np.float32),
            "sleep_until": np.full(capacity, np.nan, np.float64),
            "will_at": np.full(capacity, np.nan, np.float64),
            "net_alive_at": np.full(capacity, np.nan, np.float64),
            "net_lost_at": np.full(capacity, np.nan, np.float64),
            "net_rejected_at": np.full(capacity, np.nan, np.float64),
            "t3412": np.full(capacity, np.nan, np.float32),
        }
        old = getattr(self, "_cols", None)
        if old is not None:
            for name, column in fresh.items():
                column[: self._n] = old[name][: self._n]
        self._cols = fresh

    def column(self, name: str) -> NDArray[Any]:
        """The live rows of one state column (a view)."""
        return self._cols[name][: self._n]

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes the state columns reserve."""
        return sum(c.nbytes for c in self._cols.values())

    def row(self, device_id: str) -> int:
        """The device's row, added on first sight."""
        row = self.index.get(device_id)
        if row is not None:
            return row
        if self._n == self._cols["last_seen"].shape[0]:
            self._alloc(2 * self._n)
        row = self._n
        self._n += 1
        self.index[device_id] = row
        self.ids.append(device_id)
        return row

    # ---- evidence -----------------------------------------------------------------------------

    def announce(self, row: int, interval: float) -> None:
        """The device says how often it reports (its configured period)."""
        if interval > 0:
            self._cols["announced"][row] = True
            self._cols["nominal"][row] = interval
            if self._cols["gap_count"][row] < self.settings.min_gaps:
                self._cols["interval"][row] = interval

    def report(self, row: int, t: float) -> None:
        """A report from the device at `t`."""
        c = self._cols
        last = float(c["last_seen"][row])
        if last == last and t <= last:  # noqa: PLR0124 - a NaN check without a call
            return  # a duplicate or out-of-order report tells nothing new
        gap = t - last if last == last else None  # noqa: PLR0124
        interval = float(c["interval"][row])
        status = int(c["status"][row])  # plain ints: comparing numpy scalars to enums is slow
        # While the interval is still being learned, silence against a guessed interval is
        # not an outage: an hourly meter judged by the 15-minute default must still learn.
        learning = int(c["gap_count"][row]) < self.settings.min_gaps
        outage = not learning and (
            status in _OUTAGE or (gap is not None and gap > self.settings.offline_after * interval)
        )
        if c["broken"][row]:
            c["broken"][row] = False  # the connection broke in the gap: not its rhythm
        elif gap is not None and not outage:
            self._learn(row, gap)
        elif gap is not None and c["recovering"][row] and self._rhythm(row, gap):
            interval = float(c["interval"][row])
        on_time = gap is not None and gap <= self.settings.late_limit(interval)
        if status == _OFFLINE or (c["recovering"][row] and not on_time):
            c["recovering"][row] = True
        elif c["recovering"][row] and on_time:
            c["recovering"][row] = False
            c["stray"][row] = np.nan
        c["last_seen"][row] = t
        c["sleep_until"][row] = np.nan
        c["will_at"][row] = np.nan

    def asleep(self, row: int, t: float, until: float) -> None:
        """The device goes to sleep at `t` and plans to report again at `until`."""
        self.report(row, t)
        if until > t:
            self._cols["sleep_until"][row] = until
            sleep = until - t
            if self._cols["gap_count"][row] < self.settings.min_gaps:
                self._cols["interval"][row] = sleep

    def online(self, row: int, t: float) -> None:
        """The device (re)connected to the broker: alive, though not a scheduled report."""
        c = self._cols
        c["will_at"][row] = np.nan
        last = float(c["last_seen"][row])
        if last != last or t > last:  # noqa: PLR0124
            c["net_alive_at"][row] = max(t, np.nan_to_num(c["net_alive_at"][row], nan=t))

    def will(self, row: int, t: float) -> None:
        """The broker published the device's Last Will: its connection is gone."""
        self._cols["will_at"][row] = t
        self._cols["broken"][row] = True

    def network(
        self, row: int, t: float, *, alive: bool = False, lost: bool = False, rejected: bool = False
    ) -> None:
        """Network-side evidence about the device's SIM at `t`."""
        c = self._cols
        if alive:
            c["net_alive_at"][row] = t
        if lost:
            c["net_lost_at"][row] = t
        if rejected:
            c["net_rejected_at"][row] = t

    def granted(self, row: int, *, t3412: float, psm: bool) -> None:
        """The network granted the device's SIM its timers (attach or TAU): PSM, and its T3412."""
        self._cols["t3412"][row] = t3412 if psm and t3412 > 0 else np.nan

    def _learn(self, row: int, gap: float) -> None:
        c = self._cols
        k = self.settings.gap_window
        pos = int(c["gap_pos"][row])
        c["gaps"][row, pos] = gap
        c["gap_pos"][row] = (pos + 1) % k
        count = min(int(c["gap_count"][row]) + 1, k)
        c["gap_count"][row] = count
        if count >= self.settings.min_gaps or not c["announced"][row]:
            # Unannounced devices use whatever gaps they have from the first one on.
            c["interval"][row] = _median(c["gaps"][row, :count].tolist())

    def _rhythm(self, row: int, gap: float) -> bool:
        """A gap too long for the interval, from a device back from an outage: a new rhythm?

        The first such gap waits in `stray`; a second that agrees with it restarts the
        window from the two of them (returns whether it did).
        """
        c = self._cols
        stray = float(c["stray"][row])
        c["stray"][row] = gap
        if stray != stray or max(stray, gap) > self.settings.rhythm_ratio * min(stray, gap):  # noqa: PLR0124
            return False
        c["gaps"][row, :] = np.nan
        c["gaps"][row, :2] = (stray, gap)
        c["gap_pos"][row] = 2
        c["gap_count"][row] = 2
        c["interval"][row] = (stray + gap) / 2
        c["stray"][row] = np.nan
        return True

    # ---- judgement ----------------------------------------------------------------------------

    def sweep(self, now: float) -> NDArray[np.intp]:
        """Judge every device at `now`; returns the rows whose status or reason changed."""
        n = self._n
        c = {name: col[:n] for name, col in self._cols.items()}
        s = self.settings
        sleeping_until = c["sleep_until"]
        planned = ~np.isnan(sleeping_until)
        interval = c["interval"].astype(np.float64)
        # Rows the network granted PSM, and rows with no gap and no planned sleep yet: few.
        granted = np.flatnonzero(~np.isnan(c["t3412"]))
        fresh = np.flatnonzero(c["gap_count"] == 0)
        fresh = fresh[~planned[fresh]]
        fresh_psm = fresh[~np.isnan(c["t3412"][fresh])]
        interval[fresh_psm] = np.fmax(interval[fresh_psm], c["t3412"][fresh_psm])
        slack = np.maximum(s.tolerance, 0.1 * interval)
        # A sleeping device's next report is due at its wake time, one interval after "last".
        last = np.where(planned, sleeping_until - interval, c["last_seen"])
        silence = now - last
        status = np.full(n, DetectionStatus.ONLINE, np.uint8)
        reason = np.full(n, Reason.REPORTING, np.uint8)
        late = silence > s.late_limit(interval)
        suspect = silence > s.suspect_limit(interval)
        offline = silence > s.offline_after * interval + slack
        blind = fresh[np.isnan(c["t3412"][fresh]) & ~c["announced"][fresh]]  # no schedule yet
        offline[blind[silence[blind] <= s.first_gap_limit]] = False
        status[late] = DetectionStatus.LATE
        status[suspect] = DetectionStatus.SUSPECT
        status[offline] = DetectionStatus.OFFLINE
        reason[late] = Reason.SILENT
        asleep = planned & (now <= sleeping_until + slack)
        with np.errstate(invalid="ignore"):
            self._weigh_evidence(c, last, status, reason)
            self._weigh_grant(c, now, granted, last, slack, status, reason, asleep)
        status[asleep] = DetectionStatus.ASLEEP
        reason[asleep] = Reason.SLEEPING
        recovering = c["recovering"] & (status == DetectionStatus.ONLINE)
        status[recovering] = DetectionStatus.LATE
        reason[recovering] = Reason.RECOVERING
        unseen = np.isnan(c["last_seen"])
        status[unseen] = DetectionStatus.UNKNOWN
        reason[unseen] = Reason.NONE
        changed = np.flatnonzero((status != c["status"]) | (reason != c["reason"]))
        c["status"][:] = status
        c["reason"][:] = reason
        return changed

    @staticmethod
    def _weigh_evidence(
        c: dict[str, NDArray[Any]],
        last: NDArray[np.float64],
        status: NDArray[np.uint8],
        reason: NDArray[np.uint8],
    ) -> None:
        """Last Will and network evidence after the last report change statuses and reasons."""
        silent = status >= DetectionStatus.LATE
        will = c["will_at"] >= last
        hinted = will & (status < DetectionStatus.SUSPECT)
        status[hinted] = DetectionStatus.SUSPECT
        reason[will] = Reason.CONNECTION_LOST
        rejected = silent & (c["net_rejected_at"] > last)
        reason[rejected] = Reason.REJECTED
        lost = (status >= DetectionStatus.SUSPECT) & (c["net_lost_at"] > last)
        reason[lost] = Reason.NETWORK_LOST
        alive = (
            (status >= DetectionStatus.LATE)
            & (c["net_alive_at"] > last)
            & ~(c["net_lost_at"] >= c["net_alive_at"])  # a detach outweighs the usage it closes
            & ~(c["net_rejected_at"] >= c["net_alive_at"])
        )
        status[alive & (status == DetectionStatus.OFFLINE)] = DetectionStatus.SUSPECT
        reason[alive] = Reason.NETWORK_ONLY

    def _weigh_grant(
        self,
        c: dict[str, NDArray[Any]],
        now: float,
        rows: NDArray[np.intp],
        last: NDArray[np.float64],
        slack: NDArray[np.float64],
        status: NDArray[np.uint8],
        reason: NDArray[np.uint8],
        asleep: NDArray[np.bool_],
    ) -> None:
        """The PSM timers the network granted `rows`: how long they may sleep, when it let go.

        An implicit detach after the last report (and no contact since) ends any sleep: the
        network's reachable timer ran out. Until then a device not yet late by its own
        schedule, or with no schedule of its own yet, sleeps as granted, status or not.
        """
        if not rows.size:
            return  # no grant: nothing to weigh (most fleets, most sweeps)
        lost, alive = c["net_lost_at"][rows], c["net_alive_at"][rows]
        gone = (lost > last[rows]) & ~(alive > lost)
        reach = np.fmax(c["last_seen"][rows], alive) + c["t3412"][rows]
        seen = status[rows]
        own = (c["gap_count"][rows] > 0) | ~np.isnan(c["sleep_until"][rows])
        quiet = (seen == DetectionStatus.ONLINE) | (~own & (seen == DetectionStatus.LATE))
        dozing = (
            quiet
            & np.isnan(c["sleep_until"][rows])
            & ~c["recovering"][rows]
            & (now <= reach + self.settings.reachable_margin + slack[rows])
        )
        asleep[rows[dozing & ~gone]] = True
        away = rows[gone]
        asleep[away] = False
        status[away] = DetectionStatus.OFFLINE
        reason[away] = Reason.NETWORK_LOST

    def settled(self, now: float) -> NDArray[np.bool_]:
        """Per row, whether its silence at `now` is measured by a schedule or evidence at all.

        A device with no gap, no announced interval, no planned sleep and no PSM grant is
        judged by the guessed default interval: its silence says nothing yet (an hourly
        meter after its first report is SUSPECT by the default). It is settled once it has
        been silent `suspect_after` times the slowest rhythm the fleet's scheduled devices
        without PSM have shown, or once a Last Will or the network says it is gone.
        """
        c = {name: col[: self._n] for name, col in self._cols.items()}
        blind: NDArray[np.bool_] = (c["gap_count"] == 0) & ~c["announced"]
        blind &= np.isnan(c["sleep_until"])
        blind &= np.isnan(c["t3412"])
        last = c["last_seen"]
        with np.errstate(invalid="ignore"):
            told: NDArray[np.bool_] = c["will_at"] >= last
            told |= (c["net_lost_at"] > last) | (c["net_rejected_at"] > last)
        shown = (c["gap_count"] > 0) & np.isnan(c["t3412"])
        if not shown.any():
            return ~blind | told
        rhythm = float(c["interval"][shown].max())
        return ~blind | told | (now - last > self.settings.suspect_limit(rhythm))

    def status(self, row: int) -> tuple[DetectionStatus, Reason]:
        """The device's status and reason as of the last sweep."""
        cols = self._cols
        return DetectionStatus(int(cols["status"][row])), Reason(int(cols["reason"][row]))

    def counts(self) -> dict[str, int]:
        """Devices per status."""
        found = np.bincount(self._cols["status"][: self._n], minlength=len(DetectionStatus))
        return {v.name: int(found[v]) for v in DetectionStatus}
