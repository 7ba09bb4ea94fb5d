"""A SIM-equipped device: its modem, its firmware's behaviour, its reports.

Each device is one SimPy process. `step` looks at the device and the world as
they are now and does what a modem and its firmware would do next (register,
open a data session, connect to the broker, report), returning how long to
wait. Anything that changes the device's world (a fault, a swap, the network
detaching it) interrupts the wait, and the device looks again. Faults reach the
device through what befalls it (`lose_power`, `hang_firmware`, ...), never by
setting its state. The device knows the world only as its `Surroundings`; how
long its firmware waits after a failure is `retry`'s, where it is `mobility`'s.
"""

from __future__ import annotations

import contextlib
import math
import random
from typing import TYPE_CHECKING, Final

import simpy

from protocol.identifiers import Imei
from protocol.messages import DeviceStatus
from simulator.world import keyed, retry, selection
from simulator.world.antenna import Antenna
from simulator.world.keyed import Draw
from simulator.world.mobility import HOUR, Whereabouts
from simulator.world.network import Refusal
from simulator.world.radio import COVERAGE_FLOOR_DBM
from simulator.world.selection import Nas
from simulator.world.telemetry import telemetry

if TYPE_CHECKING:
    from collections.abc import Generator

    from pydantic import BaseModel

    from simulator.platform.customer import RadioType
    from simulator.world.core import Session
    from simulator.world.network import Cell
    from simulator.world.spec import DeviceGroupSpec, RetryBehaviour
    from simulator.world.surroundings import Surroundings

__all__ = ["Device"]

MQTT_OVERHEAD_BYTES: Final = 80
TCP_RETRY_BYTES: Final = 240
MAX_STEPS: Final = 12
NOISE_DB: Final = 2.0  # the standard deviation of a report's signal around the geometry's


class Device:
    """One simulated device with its SIM."""

    def __init__(
        self, world: Surroundings, spec: DeviceGroupSpec, n: int, imei: Imei, iccid: str
    ) -> None:
        self.world = world
        self.env = world.env
        self.spec = spec
        self.id = spec.id_format.format(group=spec.name, n=n)
        self.name = spec.name_format.format(group=spec.name, n=n)
        self.rng = random.Random(f"{world.seed}/{self.id}")  # for faults, retries, walks
        self.key = keyed.device_key(keyed.group_key(world.seed, spec.name), n)  # see `keyed`
        self.imei = imei
        self.sim: str | None = iccid
        self.account = ""
        """The customer's account the device belongs to (that of the SIM it was delivered with)."""
        self.radio: RadioType = spec.radio
        self.apn = spec.apn
        self.firmware = spec.firmware
        self.credentials_ok = spec.apn_credentials_ok
        self.battery: float | None = None if spec.battery_mah is None else spec.battery_pct
        self.fast_drain = False
        self.powered = True
        self.hung = False
        self.broker_ok = True
        self.reboot_loop = False
        self.retry: RetryBehaviour = spec.retry
        """How its firmware retries after a failure (see `retry`)."""
        self.antenna = Antenna()
        self.whereabouts = Whereabouts(spec, self.rng, self.key)
        self.nas = Nas()
        self.t3346 = self.t3396 = 0.0
        self.last_reset = -math.inf
        self.cell: Cell | None = None
        self.session: Session | None = None
        self.mqtt = False
        self.mqtt_epoch = 0
        self.will_due: float | None = None
        self.will_sim: str | None = None
        """The SIM named in the Last Will registered with the current broker connection."""
        self.wake_at = -math.inf
        """A PSM device sleeps until then; its modem wakes before only for a periodic TAU."""
        self._poked = False
        # failures in a row; reports sent; set out to send (the signal may go first); messages
        self.failures = self.seq = self.looks = self.sent = 0
        self.boot = 0.0
        self.crash_at = math.inf
        self.battery_at = 0.0
        self.process = self.env.process(self.run())

    # ---- the loop -----------------------------------------------------------------------------

    def run(self) -> Generator[simpy.Event, object, None]:
        """The device's life: wait (TS.34: the first attach spread over an interval), look, act."""
        delay: float | None = self.spec.report_interval * keyed.uniform(self.key, Draw.FIRST_WAKE)
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
            self._battery_ran_out()
            return None
        if self.sim is None or not self.world.sim_readable(self.sim):
            self._lose_network()  # no SIM to detach with
            return None
        if self.reboot_loop and now >= self.crash_at:
            self.reboot(now)
            return self.rng.uniform(20, 40)
        if self.cell is None:
            return self._register(now)
        if not self.cell.serving() or not selection.hears(self, self.cell, now):
            self._lose_network()
            return 0
        if self.session is None:
            return self._open_session(now)
        if not self.mqtt and now < self.wake_at:
            return self.world.core.doze(self, now)
        if not self.mqtt:
            return self._connect_mqtt(now)
        return self._report(now)

    # ---- registration -------------------------------------------------------------------------

    def _register(self, now: float) -> float:
        if now < self.t3346:
            return self.t3346 - now
        assert self.sim is not None
        lat, lon = self.position(now)
        cells, barred = selection.choose(self, now, lat, lon)
        if not cells:
            self.world.observer.no_network(self, barred=barred)
            return retry.after_scan(self, now)
        cell = cells[0]  # the strongest
        refusal = self.world.core.attach(self, cell)
        selection.note_attempt(self, cell, accepted=refusal is None)
        if refusal is not None:
            return retry.after_attach_reject(self, now, cell, refusal)
        self.cell = cell
        self.failures = 0
        self.nas.attempts = 0
        return 0

    # ---- data session and broker ------------------------------------------------------------

    def _open_session(self, now: float) -> float:
        if now < self.t3396:
            return self.t3396 - now
        answer = self.world.core.open_session(self)
        if isinstance(answer, Refusal):
            return retry.after_session_reject(self, now, answer)
        self.session = answer
        self.failures = 0
        return 0

    def _connect_mqtt(self, now: float) -> float:
        if not self.broker_ok:
            self.use_data(now, TCP_RETRY_BYTES)
            return retry.retry_delay(self, now)
        if self.will_due is not None:  # session takeover: the broker sends the old Will
            self.world.core.publish_will(self)
        self.mqtt = True
        self.mqtt_epoch += 1
        self.will_sim = self.sim
        self.failures = 0
        if self.reboot_loop:
            self.crash_at = now + self.rng.uniform(60, 180)
        self._publish(
            DeviceStatus(
                t=self.world.output.ts(now),
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
        self.looks += 1
        noise, jitter = keyed.report(self.key, self.looks)
        rsrp = self.cell.signal(lat, lon) - self.loss_db(now) + NOISE_DB * noise
        if rsrp < COVERAGE_FLOOR_DBM[self.radio]:
            self._lose_network()
            return 0
        battery = None if self.battery is None else self._drain(now, 0.05)
        if battery is not None and battery <= 0:
            self._battery_ran_out()
            return None
        self.seq += 1
        self._publish(
            telemetry(
                t=self.world.output.ts(now),
                device_id=self.id,
                iccid=self.sim or "",
                imei=self.imei.value,
                seq=self.seq,
                firmware=self.firmware,
                battery=battery,
                bearer=self.radio.value,
                mcc_mnc=self.cell.mcc_mnc,
                cell_id=self.cell.id,
                rsrp=rsrp,
                apn=self.session.apn,
                ip=self.session.ip,
                uptime=now - self.boot,
            ),
        )
        self.world.observer.reported(self)
        self.use_data(now, self.spec.report_bytes + MQTT_OVERHEAD_BYTES)
        if self.session is None:  # the usage ended the session (a data limit)
            return 0
        interval = self.spec.report_interval + (2 * jitter - 1) * self.spec.report_jitter
        if self.spec.psm:
            self._publish(
                DeviceStatus(
                    t=self.world.output.ts(now),
                    device_id=self.id,
                    iccid=self.sim,
                    status="asleep",
                    next_report=self.world.output.ts(now + interval),
                ),
            )
            self.mqtt = False
            self.wake_at = now + interval
            interval = self.world.core.doze(self, now)
        if self.reboot_loop:
            interval = min(interval, self.crash_at - now)
        return max(interval, 1.0)

    def use_data(self, now: float, nbytes: int) -> None:
        """Send `nbytes` over the current session and count them on the platform."""
        if self.session is None or self.sim is None:
            return
        self.session.bytes += nbytes
        self.world.core.count_usage(self.sim, nbytes, now)

    def _publish(self, message: BaseModel) -> None:
        self.sent += 1
        self.world.output.emit_device(self.key, self.sent, self.account, message)

    # ---- losing touch -------------------------------------------------------------------------

    def reboot(self, now: float) -> None:
        """A modem reset or power cycle: the modem's lists and timers cleared, links dropped."""
        self.world.core.device_detaches(self)
        self.lose_links()
        self.nas.switch_off()
        self.t3346 = self.t3396 = 0.0
        self.failures = 0
        self.boot = now
        self.last_reset = now
        self.crash_at = math.inf

    def restart(self) -> None:
        """Reset the modem now and look at the world again."""
        self.reboot(self.env.now)
        self.poke()

    def lose_links(self) -> None:
        """Cell, data session and broker connection are gone (it detached, or was detached)."""
        self.cell = None
        self.session = None
        self.wake_at = -math.inf
        self.world.core.drop_mqtt(self)

    def detached_by_network(self) -> None:
        """The network let go of the device's SIM."""
        self.lose_links()
        self.poke()

    def lose_session(self) -> None:
        """The network ended the data session; the broker connection goes with it."""
        if self.session is not None:
            self.session = None
            self.world.core.drop_mqtt(self)
            self.poke()

    def _lose_network(self) -> None:
        """The cell or the SIM is gone without a word to the network, which notices later."""
        if self.cell is None:
            return
        self.lose_links()
        self.world.core.device_lost_network(self)

    def _battery_ran_out(self) -> None:
        self.lose_power()
        self.world.observer.battery_empty(self)

    # ---- what befalls it (the faults) ---------------------------------------------------------

    def lose_power(self) -> None:
        """Power is gone: the device dies at once, without a word."""
        self.powered = False
        self._lose_network()

    def restore_power(self) -> None:
        """Power is back (or hung firmware is power-cycled): the device boots afresh."""
        self.powered = True
        self.hung = False
        self.restart()

    def drain_battery_fast(self) -> None:
        """The battery starts failing: it empties in hours (from now: until now it was well)."""
        self._drain(self.env.now, 0.0)
        self.fast_drain = True
        self.poke()

    def replace_battery(self) -> None:
        """A fresh, full battery goes in, and the device boots."""
        self.fast_drain = False
        self.battery = 100.0
        self.battery_at = self.env.now
        self.restore_power()

    def start_losing_signal(self) -> None:
        """Its signal starts fading (it is being buried, say): see `Antenna`."""
        self.antenna.fade(self.env.now)

    def break_antenna(self) -> None:
        """Its radio or antenna breaks: the signal drops at once, and then is gone."""
        self.antenna.break_down(self.env.now)  # the next report, or scan, finds it out

    def regain_signal(self) -> None:
        """Its signal is whole again (coverage back, or the antenna repaired)."""
        self.antenna.mend()
        self.poke()

    def hang_firmware(self) -> None:
        """The firmware hangs: registered, session up, silent; the broker notices."""
        self.hung = True
        self.world.core.drop_mqtt(self)

    def start_reboot_loop(self) -> None:
        """The firmware starts crashing a few minutes after each connection."""
        self.reboot_loop = True
        self.crash_at = self.env.now + self.rng.uniform(60, 180)
        self.poke()

    def stop_reboot_loop(self) -> None:
        """The firmware is fixed: it stops crashing and retries as its group's firmware does."""
        self.reboot_loop = False
        self.crash_at = math.inf
        self.retry = self.spec.retry

    def retry_like(self, behaviour: RetryBehaviour) -> None:
        """Its firmware retries after failures as `behaviour` says from now on."""
        self.retry = behaviour
        self.poke()

    def lose_broker(self) -> None:
        """The broker is out of the device's reach (above IP)."""
        self.broker_ok = False
        self.world.core.drop_mqtt(self)
        self.poke()

    def reach_broker(self) -> None:
        """The broker is reachable again."""
        self.broker_ok = True
        self.poke()

    def install_firmware(self, firmware: str, apn: str) -> None:
        """New firmware, with the APN it configures, and a reset."""
        self.apn = apn
        self.firmware = firmware
        self.restart()

    def break_credentials(self) -> None:
        """Its private APN credentials go wrong, and the modem resets."""
        self.credentials_ok = False
        self.restart()

    def fix_credentials(self) -> None:
        """Its private APN credentials are right again."""
        self.credentials_ok = True
        self.poke()

    def switch_radio(self, radio: RadioType) -> None:
        """The firmware switches its radio, and the modem resets."""
        self.radio = radio
        self.restart()

    def move_to(self, place: tuple[float, float] | None) -> None:
        """Carried to `place` (None: back home, or to its own route) and off its cell."""
        self.whereabouts.relocated = place
        self._lose_network()
        self.poke()

    def change_hardware(self) -> None:
        """The SIM goes into replacement hardware: the old one powers off, a new IMEI appears."""
        serial = (int(self.imei.serial) + 500_000) % 1_000_000
        self.reboot(self.env.now)
        self.imei = Imei.from_body(f"{self.imei.tac}{serial:06d}")
        self.poke()

    # ---- body ---------------------------------------------------------------------------------

    def position(self, now: float) -> tuple[float, float]:
        """Where the device is at `now`."""
        return self.whereabouts.at(now)

    def loss_db(self, now: float) -> float:
        """Extra path loss on the device's side (see `Antenna`)."""
        return self.antenna.loss_db(now)

    def _drain(self, now: float, per_report: float) -> float:
        assert self.battery is not None
        hours, self.battery_at = (now - self.battery_at) / HOUR, now
        # % an hour and per report: a failing cell, or a healthy idle one
        spent = 25.0 * hours + 20 * per_report if self.fast_drain else 0.01 * hours + per_report
        self.battery = max(0.0, self.battery - spent)
        return self.battery
