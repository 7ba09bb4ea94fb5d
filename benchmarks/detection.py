"""Offline detection on a seeded mixed fleet: ours against a fixed timeout and phi accrual.

The fleet (seeded, generated with numpy, fed straight to the detectors, no broker):
  fixed     reports every 5, 15 or 60 minutes at a random phase
  jittered  every 5, 15 or 60 minutes, each gap the interval +/- uniform 20%
  psm       wakes every 6 h or 24 h (a few seconds late, as an attach takes), sends a report
            and an "asleep until the next planned wake" status at the same instant
Every message is lost independently with probability --loss (1%); a lost message is simply
not fed. --death-rate (5%) of the devices die at a uniform time inside the scored window
and send nothing after. A warm-up of --warmup-hours (24) precedes the scored --days (3):
every device is alive then, and the detectors learn; it is not scored with the window, but
the alarms it raises are printed as `warmup_false_alarms` (a cold start: every device new at
once, as a new customer's first day is) and, for ours, scored as
`first_day_false_alarms_per_10k_device_days` (entries into OFFLINE per 10,000 device-days of
the warm-up; target <= 1).
Beside it, a fleet of --psm-devices (2,000) PSM devices whose statuses get lost, fed with
the network-side events the world would send (detection_psm.py, whose docstring says how);
it prints the `psm_*` figures.

Detectors, all judged every 60 s of simulated time on the same grid:
  ours         diagnostics.detection.Detector: report() per Telemetry, asleep() per PSM
               status, sweep(now) every 60 s; its status column is read after each sweep.
               No announce(): the service's DetectorFeed never calls it, so neither does this.
  thingsboard  OFFLINE when now - last activity > 600 s (inactivity timeout), checked every
               60 s; any received message (a PSM status too) is activity.
  phi          phi accrual as in Akka: per device the last 1000 gaps between received
               messages, seeded as Akka seeds its history (two gaps, mean -/+ mean/4, with
               the device's nominal interval as the first-heartbeat estimate), normal
               distribution through Akka's logistic approximation, standard deviation at
               least 10% of the mean gap, OFFLINE at phi >= 8. --phi-pause adds Akka's
               acceptable-heartbeat-pause, in mean gaps (default 0).
Both baselines are monotone in the silence since the last message, so each is scored
exactly from the received messages (the first 60 s check past each deadline) rather than
stepped; that is what makes their threshold sweeps cheap.

Figures. First the run: devices, deaths, messages_sent, messages_fed, feed_events_per_s
(Detector.report/asleep calls per wall second of feeding), ours_sweep_ms (one sweep of
this fleet). Then one line per detector, ours first (each also gives false_alarms and
undetected as counts, and warmup_false_alarms):
  p50_detect_intervals, p99_detect_intervals
                        time from death to the first check showing OFFLINE, in units of the
                        device's nominal interval (for PSM devices, of its planned sleep);
                        empirical quantiles (the smallest value that share of deaths is
                        within). Checks continue after the window until every death is
                        detected (ours: at most 8 days); `undetected` counts the rest.
  false_alarms_per_10k_device_days
                        entries into OFFLINE while the device is alive, per 10,000 alive
                        device-days of the scored window
  query_accuracy        share of (device, 60 s check) pairs in the scored window whose shown
                        state agrees with the truth: dead <-> SUSPECT/OFFLINE, alive <->
                        ONLINE/LATE/ASLEEP; UNKNOWN (never heard from) counts as "not
                        alarmed", so it agrees with alive and not with dead
Then each baseline's threshold swept (timeout_s; phi threshold), the same figures for each
setting, and `matched_<name>_*`: the setting with the lowest p99 among those whose
false-alarm rate is at most ours, and whether it detects later than ours.
Then:
  sweep_1m_devices_ms          one Detector.sweep(now) over 1,000,000 devices (median of 5;
                               with --quick timed over 200,000 and scaled linearly)
  columns_bytes_per_device     Detector.nbytes / devices (capacity == devices)
  index_bytes_per_device       the id index: the dict, the ids list, the id strings
                               ("device-0000001") and the row ints, by sys.getsizeof
  hot_state_bytes_per_device   columns + index
Then the PSM fleet's `psm_*` figures, wall_s and target_*_met; last, ours by device class
(p50, p99, max, false alarms).
Targets: ours <= 1 false alarm per 10,000 device-days with p99 <= 5 intervals, on the first
day too, and at that false-alarm rate each baseline, its threshold swept to match, detects
later; on the PSM fleet no false OFFLINE and p99 <= 5 sleeps.

Usage: python benchmarks/detection.py [--devices N] [--days D] [--warmup-hours H] [--loss P]
           [--death-rate P] [--seed S] [--phi-pause K] [--scale-devices N] [--psm-devices N]
           [--psm-days D] [--psm-loss P] [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from detection_psm import report as report_psm  # the script's own directory
from detection_psm import run_psm

from diagnostics.detection import DetectionStatus, Detector

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

STEP = 60.0
"""Seconds between checks (sweeps), for every detector."""
DAY = 86_400.0
T0 = 1_777_852_800.0
"""Simulated epoch (2026-05-04 00:00 UTC) the detector is fed; multiple of STEP."""
JITTER = 0.2
PSM_WAKE_DELAY = 60.0
DRAIN_CAP = 8 * DAY
PHI_WINDOW = 1000
PHI_MIN_STD = 0.1

TIMEOUTS_S = (300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400, 129_600,
              172_800, 216_000, 259_200, 345_600)  # fmt: skip
PHI_THRESHOLDS = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True, slots=True)
class Klass:
    """One device class of the fleet."""

    name: str
    share: float
    kind: str  # "fixed", "jitter" or "psm"
    period: float


CLASSES = (
    Klass("fixed_5m", 0.15, "fixed", 300.0),
    Klass("fixed_15m", 0.15, "fixed", 900.0),
    Klass("fixed_60m", 0.10, "fixed", 3600.0),
    Klass("jitter_5m", 0.10, "jitter", 300.0),
    Klass("jitter_15m", 0.15, "jitter", 900.0),
    Klass("jitter_60m", 0.15, "jitter", 3600.0),
    Klass("psm_6h", 0.10, "psm", 6 * 3600.0),
    Klass("psm_24h", 0.10, "psm", 24 * 3600.0),
)


@dataclass(slots=True)
class Fleet:
    """The generated world: per device its class, period and death; what was received."""

    n: int
    start: float
    """Start of the scored window (end of warm-up), seconds since T0."""
    end: float
    klass: NDArray[np.intp]
    period: NDArray[np.float64]
    death: NDArray[np.float64]
    """Seconds since T0; inf for a device that lives."""
    ev_t: NDArray[np.float64]
    ev_row: NDArray[np.intp]
    ev_until: NDArray[np.float64]
    """NaN for a report, the planned wake for a PSM asleep status; sorted by time."""
    rt: NDArray[np.float64]
    """Per device (device-major, time-sorted): times at which any message arrived."""
    rdev: NDArray[np.intp]
    rnext: NDArray[np.float64]
    """The next arrival of the same device; inf after its last."""
    rstart: NDArray[np.intp]
    """Index in rt of each device's first arrival (len n + 1)."""
    sent: int


def generate(
    devices: int,
    days: float,
    warmup: float,
    loss: float,
    death_rate: float,
    seed: int,
) -> Fleet:
    """A seeded mixed fleet, its received messages and its ground truth."""
    rng = np.random.default_rng(seed)
    start, end = warmup, warmup + days * DAY
    counts = np.floor(np.array([k.share for k in CLASSES]) * devices).astype(int)
    counts[0] += devices - counts.sum()
    klass = np.repeat(np.arange(len(CLASSES)), counts)
    period = np.array([k.period for k in CLASSES])[klass]
    death = np.full(devices, np.inf)
    dying = rng.choice(devices, size=round(death_rate * devices), replace=False)
    death[dying] = rng.uniform(start, end, dying.size)
    ev: list[tuple[NDArray[Any], ...]] = []  # (t, row, until, kind)
    arrivals: list[tuple[NDArray[Any], NDArray[Any]]] = []  # (t, row), device-major
    sent = 0
    first = 0
    for k, m in zip(CLASSES, counts, strict=True):
        rows = np.arange(first, first + m)
        first += m
        p = k.period
        steps = int(end / (p * (1 - JITTER if k.kind == "jitter" else 1.0))) + 2
        if k.kind == "fixed":
            gaps = np.full((m, steps), p)
        elif k.kind == "jitter":
            gaps = p * (1 + rng.uniform(-JITTER, JITTER, (m, steps)))
        else:  # the planned sleep, plus the time the wake takes to reach the broker
            gaps = p + rng.uniform(0, PSM_WAKE_DELAY, (m, steps))
        t = rng.uniform(0, p, (m, 1)) + np.concatenate(
            [np.zeros((m, 1)), np.cumsum(gaps[:, :-1], axis=1)], axis=1
        )
        alive = (t < end) & (t < death[rows, None])
        sent += int(alive.sum()) * (2 if k.kind == "psm" else 1)
        rowgrid = np.broadcast_to(rows[:, None], t.shape)
        got = alive & (rng.random(t.shape) >= loss)
        ev.append((t[got], rowgrid[got], np.full(int(got.sum()), np.nan), np.zeros(got.sum())))
        if k.kind == "psm":
            status = alive & (rng.random(t.shape) >= loss)
            planned = t + p  # the wake it announces; the real wake is a few seconds later
            ev.append((t[status], rowgrid[status], planned[status], np.ones(status.sum())))
            got |= status
        arrivals.append((t[got], rowgrid[got]))
    ev_t, ev_row, ev_until, kind = (np.concatenate(parts) for parts in zip(*ev, strict=True))
    order = np.lexsort((kind, ev_t))  # a wake's report before its asleep status
    rt = np.concatenate([a[0] for a in arrivals])
    rdev = np.concatenate([a[1] for a in arrivals]).astype(np.intp)
    rstart = np.searchsorted(rdev, np.arange(devices + 1))
    rnext = np.append(rt[1:], np.inf)
    rnext[rstart[1:] - 1] = np.inf
    return Fleet(
        n=devices,
        start=start,
        end=end,
        klass=klass,
        period=period,
        death=death,
        ev_t=ev_t[order],
        ev_row=ev_row[order].astype(np.intp),
        ev_until=ev_until[order],
        rt=rt,
        rdev=rdev,
        rnext=rnext,
        rstart=rstart,
        sent=sent,
    )


@dataclass(slots=True)
class Score:
    """How one detector did on one fleet."""

    latency: NDArray[np.float64]
    """Per dead device, death to OFFLINE in its own intervals (inf: never)."""
    false_alarms: NDArray[np.int64]
    """Per device, entries into OFFLINE while alive inside the scored window."""
    warmup_false_alarms: int
    correct: int
    checks: int
    alive_days: float

    @property
    def false_alarm_rate(self) -> float:
        """False alarms per 10,000 alive device-days."""
        return float(self.false_alarms.sum()) / self.alive_days * 10_000

    @property
    def accuracy(self) -> float:
        """Share of device-checks whose shown state agrees with the truth."""
        return self.correct / self.checks

    def quantile(self, q: float) -> float:
        """Empirical quantile of the detection latency."""
        if self.latency.size == 0:
            return math.nan
        return float(np.quantile(self.latency, q, method="inverted_cdf"))

    def figures(self) -> str:
        """The detector's figures as `name=value` pairs."""
        return (
            f"p50_detect_intervals={self.quantile(0.5):.2f} "
            f"p99_detect_intervals={self.quantile(0.99):.2f} "
            f"false_alarms_per_10k_device_days={self.false_alarm_rate:.2f} "
            f"query_accuracy={self.accuracy:.5f} "
            f"false_alarms={int(self.false_alarms.sum())} "
            f"undetected={int(np.isinf(self.latency).sum())} "
            f"warmup_false_alarms={self.warmup_false_alarms}"
        )


def alive_days(fleet: Fleet) -> float:
    """Device-days alive inside the scored window."""
    return float((np.minimum(fleet.death, fleet.end) - fleet.start).sum()) / DAY


def checks_in(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Checks (multiples of STEP) in [a, b), for finite b."""
    return np.maximum(0.0, np.ceil(b / STEP) - np.ceil(a / STEP))


# ---- ours -----------------------------------------------------------------------------------


@dataclass(slots=True)
class OursRun:
    """The scored run of our detector, plus its feed rate."""

    score: Score
    events: int
    feed_s: float
    sweep_s: float
    sweeps: int


def run_ours(fleet: Fleet, time_limit: float) -> OursRun:
    """Feed every received message to a Detector in time order, sweeping every STEP."""
    detector = Detector(capacity=fleet.n)
    for i in range(fleet.n):
        detector.row(f"device-{i:07d}")
    report, asleep, sweep = detector.report, detector.asleep, detector.sweep
    statuses = detector.column("status")
    death = fleet.death
    dead_rows = np.flatnonzero(np.isfinite(death))
    detected = np.full(fleet.n, np.nan)
    false_alarms = np.zeros(fleet.n, np.int64)
    was_offline = np.zeros(fleet.n, np.bool_)
    correct = 0
    warmup_false_alarms = 0
    last_check = int((fleet.end + DRAIN_CAP) / STEP)
    bounds = np.searchsorted(fleet.ev_t, np.arange(last_check + 1) * STEP, side="right")
    feed_s = sweep_s = 0.0
    began = time.perf_counter()
    for k in range(1, last_check + 1):
        now = k * STEP
        a, b = int(bounds[k - 1]), int(bounds[k])
        tick = time.perf_counter()
        for row, t, until in zip(
            fleet.ev_row[a:b].tolist(),
            (fleet.ev_t[a:b] + T0).tolist(),
            (fleet.ev_until[a:b] + T0).tolist(),
            strict=True,
        ):
            if until != until:  # noqa: PLR0124 - NaN: a report
                report(row, t)
            else:
                asleep(row, t, until)
        tock = time.perf_counter()
        sweep(T0 + now)
        feed_s += tock - tick
        sweep_s += time.perf_counter() - tock
        offline = statuses == DetectionStatus.OFFLINE
        alive = now < death
        if now <= fleet.end:
            entered = offline & ~was_offline & alive
            if now <= fleet.start:
                warmup_false_alarms += int(entered.sum())
            else:
                false_alarms += entered
                alarmed = offline | (statuses == DetectionStatus.SUSPECT)
                correct += int(np.count_nonzero(alarmed != alive))
        found = offline & ~alive & np.isnan(detected)
        detected[found] = now
        was_offline = offline
        if now > fleet.end and not np.isnan(detected[dead_rows]).any():
            break
        if time.perf_counter() - began > time_limit:
            raise SystemExit(f"time limit {time_limit:.0f} s reached at t={now:.0f} s")
    latency = (detected[dead_rows] - death[dead_rows]) / fleet.period[dead_rows]
    return OursRun(
        score=Score(
            latency=np.nan_to_num(latency, nan=np.inf),
            false_alarms=false_alarms,
            warmup_false_alarms=warmup_false_alarms,
            correct=correct,
            checks=fleet.n * round((fleet.end - fleet.start) / STEP),
            alive_days=alive_days(fleet),
        ),
        events=fleet.ev_t.size,
        feed_s=feed_s,
        sweep_s=sweep_s,
        sweeps=k,
    )


# ---- baselines, scored from their deadlines --------------------------------------------------


def score_deadlines(fleet: Fleet, deadline: NDArray[np.float64]) -> Score:
    """Score a detector that shows a device OFFLINE once `now` passes `deadline` (per arrival).

    `deadline[j]` belongs to the silence after arrival j: the device is shown OFFLINE at every
    check strictly after it until its next arrival.
    """
    dev, nxt = fleet.rdev, fleet.rnext
    death = fleet.death[dev]
    lo, hi = fleet.start + STEP, fleet.end + STEP  # the scored checks: multiples in [lo, hi)
    first = (np.floor(deadline / STEP) + 1) * STEP  # the first check past the deadline
    shown = first < nxt
    scored = shown & (first >= lo) & (first < hi)
    entered = scored & (first < death)
    warm = shown & (first < lo)
    false_alarms = np.bincount(dev[entered], minlength=fleet.n).astype(np.int64)
    wall_a = np.minimum(np.minimum(nxt, death), hi)
    wall_d = np.minimum(nxt, hi)
    off_alive = np.where(shown, checks_in(np.maximum(first, lo), wall_a), 0.0)
    off_dead = np.where(shown, checks_in(np.maximum(np.maximum(first, death), lo), wall_d), 0.0)
    d = fleet.death
    alive_checks = checks_in(np.full(fleet.n, lo), np.minimum(d, hi)).sum()
    correct = alive_checks - off_alive.sum() + off_dead.sum()
    dead_rows = np.flatnonzero(np.isfinite(d))
    last = fleet.rstart[dead_rows + 1] - 1
    heard = last >= fleet.rstart[dead_rows]
    detected = np.where(
        heard, np.maximum(first[np.maximum(last, 0)], np.ceil(d[dead_rows] / STEP) * STEP), np.inf
    )
    return Score(
        latency=(detected - d[dead_rows]) / fleet.period[dead_rows],
        false_alarms=false_alarms,
        warmup_false_alarms=int(warm.sum()),
        correct=int(correct),
        checks=fleet.n * round((fleet.end - fleet.start) / STEP),
        alive_days=alive_days(fleet),
    )


def thingsboard(fleet: Fleet, timeout: float) -> Score:
    """A fixed inactivity timeout, checked every STEP."""
    return score_deadlines(fleet, fleet.rt + timeout)


def akka_phi(y: float) -> float:
    """Akka's phi for a silence `y` standard deviations past the mean (logistic approximation)."""
    z = y * (1.5976 + 0.070566 * y * y)  # e = exp(-z); phi = -log10(e / (1 + e))
    return (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) / math.log(10)


def phi_y(threshold: float) -> float:
    """The silence, in standard deviations past the mean, at which phi reaches `threshold`."""
    lo, hi = -10.0, 100.0
    for _ in range(200):  # bisection; phi is increasing in y
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if akka_phi(mid) < threshold else (lo, mid)
    return hi


def phi_moments(fleet: Fleet) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per arrival: mean and floored standard deviation of the device's gap history after it.

    Akka's history: two seed gaps (estimate -/+ estimate / 4), then every gap between
    arrivals, the last PHI_WINDOW kept. Gaps are held in units of the device's own nominal
    period so the running sums stay well conditioned.
    """
    n_arr = np.diff(fleet.rstart)  # arrivals per device
    seq_len = np.maximum(n_arr, 1) + 1  # two seeds + (arrivals - 1) gaps
    seq_start = np.concatenate([[0], np.cumsum(seq_len)])
    seq = np.empty(int(seq_len.sum()))
    seq[seq_start[:-1]] = 0.75
    seq[seq_start[:-1] + 1] = 1.25
    gaps = np.diff(fleet.rt) / fleet.period[fleet.rdev[1:]]
    within = fleet.rdev[1:] == fleet.rdev[:-1]
    local = np.arange(fleet.rt.size) - fleet.rstart[fleet.rdev]  # arrival index in its device
    gap_at = seq_start[fleet.rdev[1:]] + 1 + local[1:]  # gap after arrival j-1 ends at j
    seq[gap_at[within]] = gaps[within]
    c1 = np.concatenate([[0.0], np.cumsum(seq)])
    c2 = np.concatenate([[0.0], np.cumsum(seq * seq)])
    top = seq_start[fleet.rdev] + 2 + local
    bottom = np.maximum(seq_start[fleet.rdev], top - PHI_WINDOW)
    count = top - bottom
    mean = (c1[top] - c1[bottom]) / count
    var = np.maximum((c2[top] - c2[bottom]) / count - mean * mean, 0.0)
    std = np.maximum(np.sqrt(var), PHI_MIN_STD * mean)
    p = fleet.period[fleet.rdev]
    return mean * p, std * p


def phi(
    fleet: Fleet,
    moments: tuple[NDArray[np.float64], NDArray[np.float64]],
    threshold: float,
    pause: float,
) -> Score:
    """Phi accrual at `threshold`, checked every STEP."""
    mean, std = moments
    return score_deadlines(fleet, fleet.rt + mean * (1 + pause) + phi_y(threshold) * std)


# ---- a million devices ----------------------------------------------------------------------


@dataclass(slots=True)
class Scale:
    """Sweep time and state size of a large Detector."""

    devices: int
    sweep_ms: float
    columns_bytes: float
    index_bytes: float


def scale(devices: int, seed: int) -> Scale:
    """Time one sweep over `devices` rows in a realistic mix of states; measure their state.

    Rows are added through Detector.row (so the id index is real); their columns are then
    filled through column() views: learned intervals from the class mix, full gap windows,
    silences of 0-6 intervals, a tenth of them inside a planned sleep, a few with a Last Will
    or network evidence.
    """
    rng = np.random.default_rng(seed)
    detector = Detector(capacity=devices)
    for i in range(devices):
        detector.row(f"device-{i:07d}")
    index = detector.index
    index_bytes = (
        sys.getsizeof(index)
        + sys.getsizeof(detector.ids)
        + sum(sys.getsizeof(s) for s in detector.ids)
        + sum(sys.getsizeof(r) for r in index.values())
    )
    now = T0 + 10 * DAY
    periods = np.array([k.period for k in CLASSES])
    shares = np.array([k.share for k in CLASSES])
    interval = rng.choice(periods, devices, p=shares / shares.sum())
    col = detector.column
    col("nominal")[:] = interval
    col("interval")[:] = interval
    col("gaps")[:] = interval[:, None]
    col("gap_count")[:] = detector.settings.gap_window
    col("last_seen")[:] = now - rng.uniform(0, 6, devices) * interval
    sleeping = rng.random(devices) < 0.1
    col("sleep_until")[sleeping] = now + rng.uniform(0, 1, int(sleeping.sum())) * interval[sleeping]
    for name in ("will_at", "net_alive_at", "net_lost_at"):
        some = rng.random(devices) < 0.01
        col(name)[some] = now - rng.uniform(0, 2, int(some.sum())) * interval[some]
    times = []
    for k in range(5):
        began = time.perf_counter()
        detector.sweep(now + k * STEP)
        times.append(time.perf_counter() - began)
    return Scale(
        devices=devices,
        sweep_ms=statistics.median(times) * 1000,
        columns_bytes=detector.nbytes / devices,
        index_bytes=index_bytes / devices,
    )


# ---- report ---------------------------------------------------------------------------------


def matched(
    name: str,
    ours: Score,
    settings: list[tuple[str, Score]],
    *,
    out: Callable[[str], None],
) -> bool | None:
    """Print the best setting of a baseline at no more false alarms than ours; True if later."""
    fits = [(s, sc) for s, sc in settings if sc.false_alarm_rate <= ours.false_alarm_rate]
    if not fits:
        out(f"matched_{name}_setting=none")
        return None
    setting, best = min(fits, key=lambda item: item[1].quantile(0.99))
    later = best.quantile(0.99) > ours.quantile(0.99)
    out(f"matched_{name}_setting={setting}")
    out(f"matched_{name}_false_alarms_per_10k_device_days={best.false_alarm_rate:.2f}")
    out(f"matched_{name}_p50_detect_intervals={best.quantile(0.5):.2f}")
    out(f"matched_{name}_p99_detect_intervals={best.quantile(0.99):.2f}")
    out(f"matched_{name}_detects_later={later}")
    return later


def by_class(fleet: Fleet, score: Score, out: Callable[[str], None]) -> None:
    """Ours, one line per device class."""
    dead_rows = np.flatnonzero(np.isfinite(fleet.death))
    for i, k in enumerate(CLASSES):
        mine = fleet.klass == i
        lat = score.latency[fleet.klass[dead_rows] == i]
        q = (
            " ".join(
                f"{label}={np.quantile(lat, p, method='inverted_cdf'):.2f}"
                for label, p in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))
            )
            if lat.size
            else "p50=nan p99=nan max=nan"
        )
        out(
            f"class={k.name} devices={int(mine.sum())} deaths={lat.size} {q} "
            f"false_alarms={int(score.false_alarms[mine].sum())}"
        )


def parse() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--warmup-hours", type=float, default=24.0)
    parser.add_argument("--loss", type=float, default=0.01)
    parser.add_argument("--death-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--phi-pause", type=float, default=0.0)
    parser.add_argument("--scale-devices", type=int, default=1_000_000)
    parser.add_argument("--time-limit", type=float, default=1800.0, help="wall seconds, feed")
    parser.add_argument("--psm-devices", type=int, default=2000)
    parser.add_argument("--psm-days", type=float, default=5.0)
    parser.add_argument("--psm-loss", type=float, default=0.02)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="250 devices for 3 days, 150 PSM devices, the sweep over 200,000",
    )
    return parser.parse_args()


def main() -> None:
    """Run the benchmark and print its figures."""
    args = parse()
    devices = 250 if args.quick else args.devices
    out = print
    began = time.perf_counter()
    fleet = generate(
        devices, args.days, args.warmup_hours * 3600, args.loss, args.death_rate, args.seed
    )
    ours_run = run_ours(fleet, args.time_limit)
    ours = ours_run.score
    tb = [(f"{t}s", thingsboard(fleet, float(t))) for t in TIMEOUTS_S]
    moments = phi_moments(fleet)
    ph = [(f"{p:g}", phi(fleet, moments, float(p), args.phi_pause)) for p in PHI_THRESHOLDS]
    big = scale(200_000 if args.quick else args.scale_devices, args.seed)
    psm = run_psm(
        devices=150 if args.quick else args.psm_devices,
        days=args.psm_days,
        loss=args.psm_loss,
        death_rate=args.death_rate,
        seed=args.seed,
    )
    first_day = ours.warmup_false_alarms / (devices * args.warmup_hours / 24) * 10_000
    wall = time.perf_counter() - began

    out(f"devices={devices}")
    out(f"scored_days={args.days:g}")
    out(f"warmup_hours={args.warmup_hours:g}")
    out(f"alive_device_days={ours.alive_days:.0f}")
    out(f"deaths={ours.latency.size}")
    out(f"messages_sent={fleet.sent}")
    out(f"messages_fed={ours_run.events}")
    out(f"feed_events_per_s={ours_run.events / ours_run.feed_s:.0f}")
    out(f"ours_sweep_ms={ours_run.sweep_s * 1000 / ours_run.sweeps:.3f}")
    out(f"detector=ours {ours.figures()}")
    out(f"first_day_false_alarms_per_10k_device_days={first_day:.2f}")
    out(f"detector=thingsboard timeout_s=600 {dict(tb)['600s'].figures()}")
    out(f"detector=phi threshold=8 pause_mean_gaps={args.phi_pause:g} {dict(ph)['8'].figures()}")
    for setting, score in tb:
        out(f"sweep=thingsboard timeout_s={setting[:-1]} {score.figures()}")
    for setting, score in ph:
        out(f"sweep=phi threshold={setting} {score.figures()}")
    tb_later = matched("thingsboard", ours, tb, out=out)
    phi_later = matched("phi", ours, ph, out=out)
    out(f"sweep_devices={big.devices}")
    out(f"sweep_1m_devices_ms={big.sweep_ms * 1_000_000 / big.devices:.1f}")
    out(f"columns_bytes_per_device={big.columns_bytes:.1f}")
    out(f"index_bytes_per_device={big.index_bytes:.1f}")
    out(f"hot_state_bytes_per_device={big.columns_bytes + big.index_bytes:.1f}")
    report_psm(psm, out)
    out(f"wall_s={wall:.1f}")
    out(f"target_false_alarms_met={ours.false_alarm_rate <= 1.0}")
    out(f"target_first_day_met={first_day <= 1.0}")
    out(f"target_psm_met={psm.false_offline == 0 and psm.quantile(0.99) <= 5.0}")
    out(f"target_p99_met={ours.quantile(0.99) <= 5.0}")
    out(f"target_baselines_later_met={bool(tb_later) and bool(phi_later)}")
    by_class(fleet, ours, out)


if __name__ == "__main__":
    main()
