"""The core network's view of devices: registrations, sessions, detaches, and the broker's Wills.

`Network` answers each request by the rules; this module keeps what the core
remembers between requests (the cell each SIM is on, its open session, when it
was last heard from) and says what happens on the SIM's events: attaches
accepted or refused, sessions opened, closed and their usage, detaches by the
device, by the network and the implicit one when the mobile reachable timer
runs out (`psm`: T3412 and its margin). Every accepted attach and periodic TAU
says which timers the network granted. The broker's side is here too: a
connection lost uncleanly is followed by its Will.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, TypedDict

from protocol.identifiers import Imsi
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    DeviceStatus,
    SessionClosed,
    SessionOpened,
    SessionRejected,
    TrackingAreaUpdated,
    UsageReported,
)
from simulator.errors import SimulatorError
from simulator.world import psm

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    import simpy

    from simulator.platform.platform import Platform
    from simulator.world.device import Device
    from simulator.world.network import Cell, Network, Refusal
    from simulator.world.observer import TruthObserver
    from simulator.world.output import Output

__all__ = ["IMPLICIT_DETACH_S", "USAGE_INTERVAL_S", "Core", "Session", "session_id", "session_ip"]

IMPLICIT_DETACH_S: Final = psm.DEFAULT_T3412_S + psm.REACHABLE_MARGIN_S
"""A device without PSM lost without a word is detached implicitly this long after (58 min)."""
USAGE_INTERVAL_S: Final = 3600.0
"""Interim usage records for long sessions, as a charging system writes them."""

SESSIONS_PER_SIM: Final = 1_000_000


def session_id(row: int, k: int) -> int:
    """The id of the `k`-th session of the SIM in platform row `row`: its own, whoever else opens.

    Numbered by SIM, not in the order sessions open across the fleet, so a SIM's sessions
    are numbered alike in either engine and in any shard (row 4's third: 5000003).
    """
    return (row + 1) * SESSIONS_PER_SIM + k % SESSIONS_PER_SIM


def session_ip(row: int, *, private: bool) -> str:
    """The address a SIM's sessions get: fixed per SIM, 10/8 behind a tunnel, else CGNAT space."""
    n = row + 1
    if private:
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    return f"100.{64 + (n >> 16) % 64}.{(n >> 8) & 255}.{n & 255}"


CloseReason = Literal["device", "network", "detach", "limit"]


@dataclass(slots=True)
class Session:
    """A data session: opened by the core, held by the device, counted by both."""

    id: int
    apn: str
    ip: str
    bytes: int = 0
    reported_bytes: int = 0
    reported_at: float = 0.0


class _About(TypedDict):
    """What every network event about a device's request names: when, which SIM, which IMEI."""

    t: float
    iccid: str
    imei: str


class _Where(TypedDict):
    """Where an attach was asked: the operator, the cell and the radio."""

    mcc_mnc: str
    cell_id: int
    rat: str


class Core:
    """The core network and the broker, as far as the devices' SIMs and connections go."""

    def __init__(
        self,
        *,
        env: simpy.Environment,
        platform: Platform,
        network: Network,
        output: Output,
        observer: TruthObserver,
        holder: Callable[[str], Device | None],
    ) -> None:
        self.env = env
        self.platform = platform
        self.network = network
        self.output = output
        self.observer = observer
        self.holder = holder
        """The device a SIM is in now, if it is one of the world's."""
        self.sessions: dict[str, Session] = {}
        """Open data sessions by ICCID."""
        self.attached_at: dict[str, int] = {}
        """The cell each SIM is registered on."""
        self.contact: dict[str, int] = {}
        self.contact_at: dict[str, float] = {}
        """When the network last heard from each SIM."""
        self.granted: dict[str, psm.Grant] = {}
        """The timers each SIM was granted at its last attach."""
        self._sessions_of: dict[str, int] = {}
        """How many sessions each SIM has had: with its row, this numbers its next."""

    # ---- requests -----------------------------------------------------------------------------

    def attach(self, device: Device, cell: Cell) -> Refusal | None:
        """The device asks to register on `cell`: the network answers, on the SIM's events too."""
        assert device.sim is not None
        now = self.env.now
        imsi = int(self.platform.sims["imsi"][self.platform.row(device.sim)])
        refusal = self.network.attach(
            iccid=device.sim,
            imsi_plmn=Imsi.parse(f"{imsi:015d}").plmn,
            imei=device.imei,
            cell=cell,
            radio=device.radio,
            now=now,
            rng=device.rng,
        )
        self.output.flush_platform()
        where = _Where(mcc_mnc=cell.mcc_mnc, cell_id=cell.id, rat=device.radio.value)
        if refusal is not None:
            self.output.emit(
                AttachRejected(
                    **self._about(device),
                    **where,
                    emm_cause=refusal.cause,
                    backoff_s=refusal.backoff,
                )
            )
            self.observer.refused(device, attach=refusal.reason)
            return refusal
        self._close(device.sim, "detach")  # any session still held for the SIM is gone
        self.attached_at[device.sim] = cell.id
        self._touch(device.sim)
        given = psm.grant(
            psm=device.spec.psm,
            sleep=device.spec.report_interval + device.spec.report_jitter,
            network_max=cell.operator.spec.psm_max_t3412,
        )
        self.granted[device.sim] = given
        self.output.emit(
            AttachAccepted(**self._about(device), **where, t3412_s=given.t3412, t3324_s=given.t3324)
        )
        return None

    def periodic_tau(self, device: Device) -> float:
        """The device's periodic TAU: the network hears from it; returns when the next is due."""
        assert device.sim is not None
        assert device.cell is not None
        given = self.granted[device.sim]
        self._touch(device.sim)
        self.output.emit(
            TrackingAreaUpdated(
                **self._about(device),
                mcc_mnc=device.cell.mcc_mnc,
                cell_id=device.cell.id,
                rat=device.radio.value,
                t3412_s=given.t3412,
                t3324_s=given.t3324,
            )
        )
        return self.env.now + given.t3412

    def doze(self, device: Device, now: float) -> float:
        """A PSM device asleep until its wake: a periodic TAU whenever T3412 runs out first.

        Returns how long it sleeps before it looks again.
        """
        assert device.sim is not None
        due = self.contact_at[device.sim] + self.granted[device.sim].t3412
        if now >= due:
            due = self.periodic_tau(device)
        return min(device.wake_at, due) - now

    def open_session(self, device: Device) -> Session | Refusal:
        """The device asks for a data session on its APN: the session, or the network's refusal."""
        assert device.sim is not None
        iccid, apn, now = device.sim, device.apn, self.env.now
        refusal = self.network.open_session(
            iccid=iccid, apn=apn, credentials_ok=device.credentials_ok, now=now, rng=device.rng
        )
        self.output.flush_platform()
        if refusal is not None:
            self.output.emit(
                SessionRejected(
                    **self._about(device),
                    apn=apn,
                    esm_cause=refusal.cause,
                    backoff_s=refusal.backoff,
                    tunnel=self.network.apn_tunnel(iccid, apn),
                )
            )
            self.observer.refused(device, esm=refusal.cause)
            return refusal
        k = self._sessions_of[iccid] = self._sessions_of.get(iccid, 0) + 1
        row = self.platform.row(iccid)
        n = session_id(row, k)
        tunnel = self.network.apn_tunnel(iccid, apn)
        ip = session_ip(row, private=tunnel is not None)
        session = Session(id=n, apn=apn, ip=ip, reported_at=now)
        self.sessions[iccid] = session
        self._touch(iccid)
        self.output.emit(
            SessionOpened(
                **self._about(device), session_id=n, apn=session.apn, ip=session.ip, tunnel=tunnel
            )
        )
        return session

    def _about(self, device: Device) -> _About:
        assert device.sim is not None
        return {"t": self.output.ts(self.env.now), "iccid": device.sim, "imei": device.imei.value}

    def count_usage(self, iccid: str, nbytes: int, now: float) -> None:
        """Data a device sent: counted on the platform, with an interim usage record each hour."""
        self._touch(iccid)
        try:
            self.platform.record_usage(iccid, nbytes, now=now)
        except SimulatorError:  # no data service: the network drops it uncounted
            return
        session = self.sessions.get(iccid)
        if session is not None and now - session.reported_at >= USAGE_INTERVAL_S:
            self._report_usage(iccid, session, now)
        self.output.flush_platform()

    def _report_usage(self, iccid: str, session: Session, now: float) -> None:
        delta = session.bytes - session.reported_bytes
        session.reported_bytes = session.bytes
        session.reported_at = now
        if delta <= 0:
            return
        pool = self.platform.pool(iccid)
        standing = self.platform.standing(iccid) if pool is not None else None
        self.output.emit(
            UsageReported(
                t=self.output.ts(now),
                iccid=iccid,
                imei=self.output.seen_imei(iccid),
                bytes=delta,
                cycle_bytes=self.platform.usage(iccid),
                allowance=self.platform.rate_plan(iccid).allowance,
                pool=pool,
                pool_bytes=None if standing is None else standing.used,
                pool_allowance=None if standing is None else standing.allowance,
            ),
        )

    def _touch(self, iccid: str) -> None:
        self.contact[iccid] = self.contact.get(iccid, 0) + 1
        self.contact_at[iccid] = self.env.now

    def _close(self, iccid: str, reason: CloseReason) -> None:
        session = self.sessions.pop(iccid, None)
        if session is None:
            return
        self._report_usage(iccid, session, self.env.now)
        self.output.emit(
            SessionClosed(
                t=self.output.ts(self.env.now),
                iccid=iccid,
                imei=self.output.seen_imei(iccid),
                session_id=session.id,
                apn=session.apn,
                bytes=session.bytes,
                reason=reason,
                tunnel=self.network.apn_tunnel(iccid, session.apn),
            ),
        )

    # ---- the network lets go ------------------------------------------------------------------

    def _detach(
        self, iccid: str, reason: Literal["device", "network", "implicit"], imei: str | None
    ) -> None:
        self._close(iccid, "network" if reason == "network" else "detach")
        del self.attached_at[iccid]
        self.output.emit(
            Detached(t=self.output.ts(self.env.now), iccid=iccid, imei=imei, reason=reason)
        )

    def network_detach(self, iccid: str) -> None:
        """The network detaches a SIM (its state no longer allows service)."""
        if iccid in self.attached_at:
            self._detach(iccid, "network", self.output.seen_imei(iccid))
        device = self.holder(iccid)
        if device is not None:
            device.detached_by_network()

    def network_close_session(self, iccid: str, reason: Literal["network", "limit"]) -> None:
        """The network ends a SIM's data session (limit, tunnel or gateway down)."""
        self._close(iccid, reason)
        device = self.holder(iccid)
        if device is not None:
            device.lose_session()

    def device_detaches(self, device: Device) -> None:
        """The device detaches cleanly (power off, reset, SIM out), if it has a cell to tell."""
        if device.cell is not None and device.sim is not None and device.sim in self.attached_at:
            self._detach(device.sim, "device", device.imei.value)

    def device_lost_network(self, device: Device) -> None:
        """The device lost its cell without a word: the network notices when its timer runs out."""
        if device.sim is not None:
            self.env.process(self._implicit_detach(device.sim))

    def _implicit_detach(self, iccid: str) -> Generator[simpy.Event, object, None]:
        seen = self.contact.get(iccid, 0)
        now = self.env.now
        due = psm.implicit_detach_at(
            self.granted.get(iccid), last_contact=self.contact_at.get(iccid, now), lost=now
        )
        yield self.env.timeout(due - now)
        if self.contact.get(iccid, 0) == seen and iccid in self.attached_at:
            self._detach(iccid, "implicit", self.output.seen_imei(iccid))

    # ---- the broker ---------------------------------------------------------------------------

    def drop_mqtt(self, device: Device) -> None:
        """The device's MQTT connection is gone uncleanly: its Will follows after 1.5 keepalives."""
        if not device.mqtt:
            return
        device.mqtt = False
        due = self.env.now + 1.5 * device.spec.keepalive
        device.will_due = due
        self.env.process(self._will_at(device, device.mqtt_epoch, due))

    def _will_at(
        self, device: Device, epoch: int, due: float
    ) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(due - self.env.now)
        if device.mqtt_epoch == epoch and not device.mqtt and device.will_due == due:
            self.publish_will(device)

    def publish_will(self, device: Device) -> None:
        """The broker publishes the device's Last Will: its connection was lost."""
        device.will_due = None
        self.output.emit(
            DeviceStatus(
                t=self.output.ts(self.env.now),
                device_id=device.id,
                iccid=device.will_sim,
                status="offline",
                will=True,
            ),
        )
