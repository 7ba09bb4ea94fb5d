"""A SIM-equipped device: its modem, its firmware's retry behaviour, its reports.

Each device is one SimPy process. `step` looks at the device and the world as
they are now and does what a modem and its firmware would do next (register,
open a data session, connect to the broker, report), returning how long to
wait. Anything that changes the device's world (a fault, a swap, the network
detaching it) interrupts the wait, and the device looks again.
"""

from __future__ import annotations

import contextlib
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import simpy

from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    DeviceStatus,
    SessionOpened,
    SessionRejected,
    Telemetry,
)
from protocol.nas import EmmCause
from simulator.world.radio import COVERAGE_FLOOR_DBM, LOW_SIGNAL_DBM, distance_km
from simulator.world.spec import FaultId, RetryBehaviour

if TYPE_CHECKING:
    from collections.abc import Generator

    from protocol.identifiers import Imei
    from simulator.platform.customer import RadioType
    from simulator.world.network import Cell, Refusal
    from simulator.world.spec import DeviceGroupSpec
    from simulator.world.world import World

__all__ = ["Device", "Session"]

FORBIDDEN_CAUSES: Final = frozenset(
    {EmmCause.PLMN_NOT_ALLOWED, EmmCause.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA},
)
PERMANENT_CAUSES: Final = frozenset(
    {
        EmmCause.IMSI_UNKNOWN_IN_HSS,
        EmmCause.ILLEGAL_UE,
        EmmCause.IMEI_NOT_ACCEPTED,
        EmmCause.ILLEGAL_ME,
        EmmCause.EPS_SERVICES_NOT_ALLOWED,
        EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED,
    },
)
COVERAGE_FAULT_DB: Final = 70.0
"""How much signal a coverage fault takes away at its worst (antenna broken, device buried)."""
MQTT_OVERHEAD_BYTES: Final = 80
TCP_RETRY_BYTES: Final = 240
HOUR: Final = 3600.0
MAX_STEPS: Final = 12


@dataclass(slots=True)
class Session:
    """A data session as the device knows it."""

    id: int
    apn: str
    ip: str
    opened: float
    bytes: int = 0
    reported_bytes: int = 0
    reported_at: float = 0.0


class Device:
    """One simulated device with its SIM."""

    def __init__(self, world: World, spec: DeviceGroupSpec, n: int, imei: Imei, iccid: str) -> None:
        self.world = world
        self.env = world.env
        self.spec = spec
        self.id = spec.id_format.format(group=spec.name, n=n)
        self.name = spec.name_format.format(group=spec.name, n=n)
        self.rng = random.Random(f"{world.seed}/{self.id}")
        self.imei = imei
        self.sim: str | None = iccid
        self.account = ""
        """The customer's account the device belongs to (that of the SIM it was delivered with)."""
        self.radio: RadioType = spec.radio
        self.apn = spec.apn
        self.firmware = spec.firmware
        self.credentials_ok = spec.apn_credentials_ok
        self.battery: float | None = None if spec.battery_mah is None else 100.0
        self.fast_drain = False
        self.powered = True
        self.hung = False
        self.broker_ok = True
        self.reboot_loop = False
        self.loss_since: float | None = None
        self.home = self._place()
        self.pos = self.home
        self.pos_at = 0.0
        self.relocated: tuple[float, float] | None = None
        self.forbidden: set[str] = set()
        self.t3346 = 0.0
        self.t3396 = 0.0
        self.failures = 0
        self.last_reset = -math.inf
        self.cell: Cell | None = None
        self.session: Session | None = None
        self.mqtt = False
        self.mqtt_epoch = 0
        self.will_due: float | None = None
        self.will_sim: str | None = None
        """The SIM named in the Last Will registered with the current broker connection."""
        self._poked = False
        self.seq = 0
        self.boot = 0.0
        self.crash_at = math.inf
        self.battery_at = 0.0
        self.process = self.env.process(self.run())

    # ---- the loop -----------------------------------------------------------------------------

    def run(self) -> Generator[simpy.Event, object, None]:
        """The device's life: wait, look, act, repeat."""
        delay: float | None = self.rng.uniform(
            0, self.spec.report_interval
        )  # TS.34: randomised start
        while True:
            with contextlib.suppress(simpy.Interrupt):
                yield self.env.timeout(delay) if delay is not None else self.env.event()
            self._poked = False
            delay = self.step()

    def poke(self) -> None:
        """Make the device look at its world again now (once, however many things changed)."""
        if self._poked or self.env.active_process is self.process or not self.process.is_alive:
            return
        self._poked = True
        self.process.interrupt()

    def step(self) -> float | None:
        """Do what comes next; returns how long to wait (None: until something changes)."""
        for _ in range(MAX_STEPS):
            delay = self._next()
            if delay is None or delay > 0:
                return delay
        return 1.0

    def _next(self) -> float | None:  # noqa: PLR0911 - one branch per stage of getting online
        now = self.env.now
        if not self.powered or self.hung:
            return None
        if self.battery is not None and self._drain(now, 0.0) <= 0:
            self.world.battery_empty(self)
            return None
        if self.sim is None or self.sim in self.world.damaged_sims:
            self.world.device_lost_network(self, detach=False)  # no SIM to detach with
            return None
        if self.reboot_loop and now >= self.crash_at:
            self.reboot(now)
            return self.rng.uniform(20, 40)
        if self.cell is None:
            return self._register(now)
        if not self.cell.serving():
            self.world.device_lost_network(self, detach=False)
            return 0
        if self.session is None:
            return self._open_session(now)
        if not self.mqtt:
            return self._connect_mqtt(now)
        return self._report(now)

    # ---- registration -------------------------------------------------------------------------

    def _register(self, now: float) -> float:
        if now < self.t3346:
            return self.t3346 - now
        assert self.sim is not None
        lat, lon = self.position(now)
        heard = self.world.network.audible(lat, lon, self.radio, self.loss_db(now), self.forbidden)
        if not heard:
            self.world.no_network(self)
            return self._scan_delay(now)
        cell = heard[0][0]  # the strongest
        plmn = self.world.imsi_plmn(self.sim)
        refusal = self.world.network.attach(
            iccid=self.sim,
            imsi_plmn=plmn,
            imei=self.imei,
            cell=cell,
            radio=self.radio,
            now=now,
            rng=self.rng,
        )
        self.world.flush_platform()
        if refusal is not None:
            self.world.emit(
                AttachRejected(
                    t=self.world.ts(now),
                    iccid=self.sim,
                    imei=self.imei.value,
                    mcc_mnc=cell.mcc_mnc,
                    cell_id=cell.id,
                    rat=self.radio.value,
                    emm_cause=refusal.cause,
                    backoff_s=refusal.backoff,
                ),
            )
            self.world.refused(self, emm=refusal.cause)
            return self._after_attach_reject(now, cell, refusal)
        self.world.attached(self, cell)
        self.cell = cell
        self.failures = 0
        self.world.emit(
            AttachAccepted(
                t=self.world.ts(now),
                iccid=self.sim,
                imei=self.imei.value,
                mcc_mnc=cell.mcc_mnc,
                cell_id=cell.id,
                rat=self.radio.value,
            ),
        )
        return 0

    def _scan_delay(self, now: float) -> float:
        if (
            self.forbidden
            and now - self.last_reset >= HOUR
            and self.spec.retry is RetryBehaviour.TS34
        ):
            self.reboot(now)  # at most one modem reset an hour clears the forbidden list
            return self.rng.uniform(30, 60)
        if self.spec.retry is RetryBehaviour.TS34:
            return self.rng.uniform(300, 600)
        if self.forbidden:
            self.reboot(now)
        return self.rng.uniform(10, 30)

    def _after_attach_reject(self, now: float, cell: Cell, refusal: Refusal) -> float:
        cause = refusal.cause
        if cause in FORBIDDEN_CAUSES:
            self.forbidden.add(cell.mcc_mnc)
            return self.rng.uniform(5, 15)
        if refusal.backoff is not None:
            if self.spec.retry is not RetryBehaviour.TS34:
                self.reboot(now)  # misbehaving firmware resets the modem, which forgets T3346
                return self._retry_delay(now)
            self.t3346 = now + refusal.backoff
        if cause in PERMANENT_CAUSES:
            return self._after_permanent_reject(now)
        return self._retry_delay(now, floor=refusal.backoff or 0.0)

    def _after_permanent_reject(self, now: float) -> float:
        if self.spec.retry is RetryBehaviour.TS34:
            self.crash_at = math.inf
            self.world.env.process(self._reset_later(self.rng.uniform(0.9, 1.1) * HOUR))
            return math.inf
        self.reboot(now)
        return self._retry_delay(now)

    def _reset_later(self, delay: float) -> Generator[simpy.Event, object, None]:
        boot = self.boot
        yield self.env.timeout(delay)
        if self.boot == boot and self.powered and not self.hung and self.cell is None:
            self.reboot(self.env.now)
            self.poke()

    def _retry_delay(self, now: float, floor: float = 0.0) -> float:
        """How long the firmware waits before trying again after a failure."""
        behaviour = self.spec.retry
        if behaviour is RetryBehaviour.TS34:
            self.failures += 1
            wait = min(60.0 * 2.0 ** (self.failures - 1), HOUR) * self.rng.uniform(0.5, 1.5)
            return max(wait, floor)
        if behaviour is RetryBehaviour.REBOOT_ON_FAILURE:
            if self.cell is not None:
                self.reboot(now)
            return self.rng.uniform(30, 90)
        return self.rng.uniform(5, 15)

    # ---- data session and broker ------------------------------------------------------------

    def _open_session(self, now: float) -> float:
        if now < self.t3396:
            return self.t3396 - now
        assert self.sim is not None
        refusal = self.world.network.open_session(
            iccid=self.sim,
            apn=self.apn,
            credentials_ok=self.credentials_ok,
            now=now,
            rng=self.rng,
        )
        self.world.flush_platform()
        if refusal is not None:
            self.world.emit(
                SessionRejected(
                    t=self.world.ts(now),
                    iccid=self.sim,
                    imei=self.imei.value,
                    apn=self.apn,
                    esm_cause=refusal.cause,
                    backoff_s=refusal.backoff,
                ),
            )
            self.world.refused(self, esm=refusal.cause)
            if refusal.backoff is not None and self.spec.retry is RetryBehaviour.TS34:
                self.t3396 = now + refusal.backoff
                return self._retry_delay(now, floor=refusal.backoff)
            return self._retry_delay(now)
        session = self.world.open_session(self.sim, self.apn)
        self.session = session
        self.failures = 0
        self.world.emit(
            SessionOpened(
                t=self.world.ts(now),
                iccid=self.sim,
                imei=self.imei.value,
                session_id=session.id,
                apn=session.apn,
                ip=session.ip,
            ),
        )
        return 0

    def _connect_mqtt(self, now: float) -> float:
        if not self.broker_ok:
            self.use_data(now, TCP_RETRY_BYTES)
            return self._retry_delay(now)
        if (
            self.will_due is not None
        ):  # session takeover: the broker sends the old connection's Will
            self.world.publish_will(self)
        self.mqtt = True
        self.mqtt_epoch += 1
        self.will_sim = self.sim
        self.failures = 0
        if self.reboot_loop:
            self.crash_at = now + self.rng.uniform(60, 180)
        self.world.emit_device(
            self,
            DeviceStatus(
                t=self.world.ts(now),
                device_id=self.id,
                iccid=self.sim,
                status="online",
                keepalive_s=round(self.spec.keepalive),
            ),
        )
        self.use_data(now, MQTT_OVERHEAD_BYTES)
        return 0

    # ---- reporting ----------------------------------------------------------------------------

    def _report(self, now: float) -> float | None:
        assert self.cell is not None
        assert self.session is not None
        lat, lon = self.position(now)
        rsrp = self.cell.signal(lat, lon) - self.loss_db(now) + self.rng.gauss(0, 2.0)
        if rsrp < COVERAGE_FLOOR_DBM[self.radio]:
            self.world.device_lost_network(self, detach=False)
            return 0
        battery = None if self.battery is None else self._drain(now, 0.05)
        if battery is not None and battery <= 0:
            self.world.battery_empty(self)
            return None
        self.seq += 1
        errors = [1] if battery is not None and battery < 10 else []
        if rsrp < LOW_SIGNAL_DBM:
            errors.append(4)
        self.world.emit_device(
            self,
            Telemetry(
                t=self.world.ts(now),
                device_id=self.id,
                iccid=self.sim or "",
                imei=self.imei.value,
                seq=self.seq,
                firmware=self.firmware,
                battery=None if battery is None else round(battery, 1),
                supply_mv=None if battery is None else round(3300 + 9 * battery),
                bearer=self.radio.value,
                mcc_mnc=self.cell.mcc_mnc,
                cell_id=self.cell.id,
                rsrp=round(rsrp, 1),
                rsrq=round(-6.0 + (rsrp + 80) / 8, 1),
                snr=round((rsrp + 125) / 3, 1),
                apn=self.session.apn,
                ip=self.session.ip,
                errors=errors,
                uptime_s=round(now - self.boot),
            ),
        )
        self.world.reported(self)
        self.use_data(now, self.spec.report_bytes + MQTT_OVERHEAD_BYTES)
        if self.session is None:  # the usage ended the session (a data limit)
            return 0
        interval = self.spec.report_interval + self.rng.uniform(-1, 1) * self.spec.report_jitter
        if self.spec.psm:
            self.world.emit_device(
                self,
                DeviceStatus(
                    t=self.world.ts(now),
                    device_id=self.id,
                    iccid=self.sim,
                    status="asleep",
                    next_report=self.world.ts(now + interval),
                ),
            )
            self.mqtt = False
        if self.reboot_loop:
            interval = min(interval, self.crash_at - now)
        return max(interval, 1.0)

    def use_data(self, now: float, nbytes: int) -> None:
        """Send `nbytes` over the current session and count them on the platform."""
        if self.session is None or self.sim is None:
            return
        self.session.bytes += nbytes
        self.world.count_usage(self.sim, nbytes, now)

    # ---- body ---------------------------------------------------------------------------------

    def reboot(self, now: float) -> None:
        """A modem reset or power cycle: forbidden list and timers cleared, links dropped."""
        self.world.device_detaches(self)
        self.forbidden.clear()
        self.t3346 = self.t3396 = 0.0
        self.failures = 0
        self.boot = now
        self.last_reset = now
        self.crash_at = math.inf

    def position(self, now: float) -> tuple[float, float]:
        """Where the device is at `now`."""
        if self.relocated is not None:
            return self.relocated
        mobility = self.spec.mobility
        if mobility is None:
            return self.home
        if mobility.waypoints:
            return _along(mobility.waypoints, now, self.home)
        if mobility.walk_km_per_day > 0:
            self._walk(now, mobility.walk_km_per_day, mobility.walk_radius_km)
        return self.pos

    def loss_db(self, now: float) -> float:
        """Extra path loss on the device's side (a coverage fault ramps it up over three hours)."""
        if self.loss_since is None:
            return 0.0
        return min(COVERAGE_FAULT_DB, COVERAGE_FAULT_DB * (now - self.loss_since) / (3 * HOUR))

    def _drain(self, now: float, per_report: float) -> float:
        assert self.battery is not None
        hours = (now - self.battery_at) / HOUR
        self.battery_at = now
        rate = 25.0 if self.fast_drain else 0.01  # % an hour: a failing cell, or a healthy idle one
        self.battery = max(
            0.0, self.battery - rate * hours - per_report * (20 if self.fast_drain else 1)
        )
        return self.battery

    def _place(self) -> tuple[float, float]:
        spread = self.spec.spread_km
        if spread <= 0:
            return (self.spec.lat, self.spec.lon)
        r = spread * math.sqrt(self.rng.random())
        angle = self.rng.uniform(0, 2 * math.pi)
        return _offset(self.spec.lat, self.spec.lon, r * math.cos(angle), r * math.sin(angle))

    def _walk(self, now: float, km_per_day: float, radius_km: float) -> None:
        while self.pos_at + HOUR <= now:
            self.pos_at += HOUR
            step = km_per_day / 24
            angle = self.rng.uniform(0, 2 * math.pi)
            lat, lon = _offset(
                self.pos[0], self.pos[1], step * math.cos(angle), step * math.sin(angle)
            )
            if distance_km(lat, lon, *self.home) <= radius_km:
                self.pos = (lat, lon)

    def has_fault(self, fault: FaultId) -> bool:
        """Whether an injected fault of this kind is active on the device now."""
        return self.world.truth.active(self.id, fault)


def _offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    dlat = north_km / 111.32
    dlon = east_km / (111.32 * max(math.cos(math.radians(lat)), 1e-6))
    return (lat + dlat, lon + dlon)


def _along(waypoints: list, now: float, home: tuple[float, float]) -> tuple[float, float]:  # type: ignore[type-arg]
    previous = (0.0, *home)
    for point in waypoints:
        if now <= point.at:
            t0, lat0, lon0 = previous
            span = point.at - t0
            f = 1.0 if span <= 0 else (now - t0) / span
            return (lat0 + f * (point.lat - lat0), lon0 + f * (point.lon - lon0))
        previous = (point.at, point.lat, point.lon)
    return (previous[1], previous[2])
