"""Offline detection of PSM devices whose sleep statuses get lost: what the network knows counts.

The fleet (seeded): PSM meters sleeping 6 h, 12 h or 24 h (a third each), each wake a few
seconds late as an attach takes, for --psm-days (5) with --psm-loss (2%) of every message
lost, device and network side alike. Each device sends what the world sends:
  at its first wake   the network's attach accepted, with the timers it granted
                      (simulator.world.psm.grant: T3412 covering the sleep, rounded to GPRS
                      Timer 3; a quarter of the devices are on a network that grants at most
                      10 h, less than the 12 h and 24 h sleepers ask for)
  at every wake       a report, an "asleep until the next planned wake" status, and from the
                      second wake on the interim usage record the network writes
  while it sleeps     a periodic TAU each time T3412 runs out before its wake
  after it dies       the network's implicit detach, T3412 plus the mobile reachable margin
                      after its last contact
--psm-death-rate (5%) of the devices die at a uniform time between their first wake and the
end. Every message goes through diagnostics.evidence.DetectorFeed, as the service feeds it;
the detector is swept every 60 s from the first day on (no warm-up), and after the window
until every death is seen (at most 8 days).

Figures: psm_false_offline (entries into OFFLINE while alive; target 0),
psm_p50_detect_sleeps and psm_p99_detect_sleeps (death to the first sweep showing OFFLINE,
in units of the device's sleep; target p99 <= 5), psm_undetected, psm_granted_less (devices
granted a T3412 shorter than their sleep).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from diagnostics.detection import DetectionStatus, Detector
from diagnostics.evidence import DetectorFeed
from protocol.messages import (
    AttachAccepted,
    Detached,
    DeviceStatus,
    Telemetry,
    TrackingAreaUpdated,
    UsageReported,
)
from simulator.world.psm import REACHABLE_MARGIN_S, Grant, grant

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import BaseModel

__all__ = ["PsmScore", "run_psm"]

HOUR = 3600.0
DAY = 86_400.0
STEP = 60.0
T0 = 1_777_852_800.0
SLEEPS = (6 * HOUR, 12 * HOUR, 24 * HOUR)
WAKE_DELAY = 60.0
NETWORK_MAX = 10 * HOUR
"""The longest T3412 the stingy network grants."""
DRAIN_CAP = 8 * DAY


@dataclass(slots=True)
class PsmScore:
    """How the detector did on the PSM fleet."""

    devices: int
    deaths: int
    false_offline: int
    latency_sleeps: np.ndarray
    granted_less: int
    messages: int

    def quantile(self, q: float) -> float:
        """Empirical quantile of the detection latency, in sleeps."""
        if self.latency_sleeps.size == 0:
            return float("nan")
        return float(np.quantile(self.latency_sleeps, q, method="inverted_cdf"))


@dataclass(slots=True)
class _Meter:
    row: int
    sleep: float
    given: Grant
    death: float


def _report(meter: _Meter, t: float, seq: int) -> Telemetry:
    return Telemetry(
        t=T0 + t,
        device_id=f"meter-{meter.row:05d}",
        iccid=f"89460{meter.row:014d}",
        imei=f"35{meter.row:013d}",
        seq=seq,
        firmware="2.1.0",
        battery=80.0,
        supply_mv=4000,
        bearer="NB-IoT",
        mcc_mnc="24001",
        cell_id=1,
        rsrp=-95.0,
        rsrq=-10.0,
        snr=8.0,
        apn="meters.example",
        ip="10.0.0.1",
        uptime_s=int(t),
    )


def _life(meter: _Meter, rng: np.random.Generator, end: float) -> list[BaseModel]:
    """Everything the device and the network send about one meter, before loss."""
    iccid, device = f"89460{meter.row:014d}", f"meter-{meter.row:05d}"
    t3412, t3324 = meter.given.t3412, meter.given.t3324
    where = {"iccid": iccid, "mcc_mnc": "24001", "cell_id": 1, "rat": "NB-IoT"}
    t = float(rng.uniform(0, meter.sleep))
    out: list[BaseModel] = [AttachAccepted(t=T0 + t - 5, **where, t3412_s=t3412, t3324_s=t3324)]
    seq = 0
    while t < min(end, meter.death):
        seq += 1
        out.append(_report(meter, t, seq))
        out.append(
            DeviceStatus(
                t=T0 + t,
                device_id=device,
                iccid=iccid,
                status="asleep",
                next_report=T0 + t + meter.sleep,
            )
        )
        if seq > 1:
            out.append(
                UsageReported(
                    t=T0 + t, iccid=iccid, bytes=480, cycle_bytes=480 * seq, allowance=10**7
                )
            )
        wake = t + meter.sleep + float(rng.uniform(0, WAKE_DELAY))
        contact = t
        while contact + t3412 < wake:
            contact += t3412
            if contact < meter.death:
                out.append(
                    TrackingAreaUpdated(t=T0 + contact, **where, t3412_s=t3412, t3324_s=t3324)
                )
        if meter.death < wake:
            last = t + (meter.death - t) // t3412 * t3412  # its last report or TAU
            out.append(
                Detached(t=T0 + last + t3412 + REACHABLE_MARGIN_S, iccid=iccid, reason="implicit")
            )
            break
        t = wake
    return out


def _fleet(
    devices: int, days: float, death_rate: float, seed: int
) -> tuple[list[_Meter], list[BaseModel]]:
    rng = np.random.default_rng(seed)
    end = days * DAY
    meters = []
    dying = set(rng.choice(devices, size=round(death_rate * devices), replace=False).tolist())
    stingy = rng.random(devices) < 0.25
    for row in range(devices):
        sleep = SLEEPS[row % len(SLEEPS)]
        given = grant(
            psm=True, sleep=sleep + WAKE_DELAY, network_max=NETWORK_MAX if stingy[row] else None
        )
        death = float(rng.uniform(sleep, end)) if row in dying else float("inf")
        meters.append(_Meter(row, sleep, given, death))
    messages = [m for meter in meters for m in _life(meter, rng, end)]
    messages.sort(key=lambda m: m.t)  # type: ignore[attr-defined]
    return meters, messages


def run_psm(*, devices: int, days: float, loss: float, death_rate: float, seed: int) -> PsmScore:
    """Generate the PSM fleet, feed what survives the loss, sweep every minute, score."""
    meters, messages = _fleet(devices, days, death_rate, seed)
    rng = np.random.default_rng(seed + 1)
    lost = rng.random(len(messages)) < loss
    kept = [m for m, gone in zip(messages, lost, strict=True) if not gone]
    detector = Detector(capacity=devices)
    feed = DetectorFeed(detector)
    for meter in meters:  # rows in fleet order, as the first report would add them
        detector.row(f"meter-{meter.row:05d}")
    status = detector.column("status")
    death = np.array([m.death for m in meters])
    sleep = np.array([m.sleep for m in meters])
    detected = np.full(devices, np.nan)
    was_offline = np.zeros(devices, np.bool_)
    false_offline = 0
    times = np.array([m.t for m in kept]) - T0  # type: ignore[attr-defined]
    end = days * DAY
    i = 0
    for k in range(1, int((end + DRAIN_CAP) / STEP) + 1):
        now = k * STEP
        while i < len(kept) and times[i] <= now:
            feed.apply(kept[i])
            i += 1
        detector.sweep(T0 + now)
        offline = status == DetectionStatus.OFFLINE
        alive = now < death
        if now <= end:
            false_offline += int((offline & ~was_offline & alive).sum())
        detected[offline & ~alive & np.isnan(detected)] = now
        was_offline = offline
        if now > end and not np.isnan(detected[np.isfinite(death)]).any():
            break
    dead = np.isfinite(death)
    latency = (detected[dead] - death[dead]) / sleep[dead]
    return PsmScore(
        devices=devices,
        deaths=int(dead.sum()),
        false_offline=false_offline,
        latency_sleeps=np.nan_to_num(latency, nan=np.inf),
        granted_less=sum(m.given.t3412 < m.sleep for m in meters),
        messages=len(kept),
    )


def report(score: PsmScore, out: Callable[[str], None]) -> None:
    """Print the PSM fleet's figures."""
    out(f"psm_devices={score.devices}")
    out(f"psm_deaths={score.deaths}")
    out(f"psm_messages_fed={score.messages}")
    out(f"psm_granted_less={score.granted_less}")
    out(f"psm_false_offline={score.false_offline}")
    out(f"psm_p50_detect_sleeps={score.quantile(0.5):.2f}")
    out(f"psm_p99_detect_sleeps={score.quantile(0.99):.2f}")
    out(f"psm_undetected={int(np.isinf(score.latency_sleeps).sum())}")
