"""The world: platform, networks and devices on one SimPy clock, and what links them.

The world turns what happens into messages: the devices' own reports, the
network's events for each SIM, the platform's audit trail and inventory
records. It also keeps the ground truth beside them, which no message names.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final, Literal

import simpy

from protocol.identifiers import Imsi, iccid_range, imei_range
from protocol.messages import (
    AuditRecorded,
    Clock,
    DataBlocked,
    Detached,
    DeviceStatus,
    ImeiChanged,
    SessionClosed,
    SimRecord,
    StateChanged,
    UsageReported,
)
from protocol.nas import EmmCause, EsmCause
from protocol.sim_state import SimState
from simulator.errors import SimulatorError
from simulator.platform.audit import NONE, AuditEntry, AuditField
from simulator.platform.platform import Platform
from simulator.world.device import Device, Session
from simulator.world.network import Network
from simulator.world.spec import FaultId
from simulator.world.truth import TruthLog, TruthRecord

if TYPE_CHECKING:
    from collections.abc import Generator

    from pydantic import BaseModel

    from simulator.world.network import Cell
    from simulator.world.sinks import Sink
    from simulator.world.spec import WorldSpec

__all__ = ["IMPLICIT_DETACH_S", "World"]

IMPLICIT_DETACH_S: Final = 3600.0
"""The network detaches a silent device implicitly after its mobile reachable timer (~1 h)."""
USAGE_INTERVAL_S: Final = 3600.0
"""Interim usage records for long sessions, as a charging system writes them."""
EMM_FAULTS: Final[dict[int, FaultId]] = {
    EmmCause.IMSI_UNKNOWN_IN_HSS: FaultId.SIM_NOT_PROVISIONED,
    EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA: FaultId.RADIO_TYPE_NOT_ALLOWED,
}
"""Attach rejects that name their fault whatever caused them (a device set up wrong, say)."""
ESM_FAULTS: Final[dict[int, FaultId]] = {
    EsmCause.MISSING_OR_UNKNOWN_APN: FaultId.WRONG_APN,
    EsmCause.USER_AUTHENTICATION_FAILED: FaultId.PRIVATE_APN_CREDENTIALS,
}
"""Session rejects that name their fault whatever caused them."""
NO_SERVICE: Final = frozenset(
    {SimState.INVENTORY, SimState.DEACTIVATED, SimState.RETIRED, SimState.PURGED}
)


class World:
    """Everything that exists in one simulated run."""

    def __init__(self, spec: WorldSpec, sink: Sink) -> None:
        self.spec = spec
        self.seed = spec.seed
        self.sink = sink
        self.env = simpy.Environment()
        self.rng = random.Random(f"{spec.seed}/world")
        self.start_ts = spec.start.timestamp()
        self.platform = Platform(start=spec.start)
        self.platform.onboard(spec.customer)
        self.network = Network.build(self.platform, spec.operators, spec.cells)
        self.truth = TruthLog()
        self.damaged_sims: set[str] = set()
        self.devices: list[Device] = []
        self.by_id: dict[str, Device] = {}
        self.by_sim: dict[str, Device] = {}
        self.sessions: dict[str, Session] = {}
        """The network's view: open data sessions by ICCID."""
        self.attached_at: dict[str, int] = {}
        """The network's view: the cell each SIM is registered on."""
        self.contact: dict[str, int] = {}
        self.messages = 0
        self.lost = 0
        self._audit_seen = len(self.platform.audit)
        self._session_ids = 0
        self._customer_fields: dict[str, tuple[str, str | None, str]] = {}
        self._sim_accounts: dict[str, str] = {}
        self._build_devices()

    # ---- building -----------------------------------------------------------------------------

    def _build_devices(self) -> None:
        for group in self.spec.devices:
            imeis = imei_range(group.first_imei, group.count)
            iccids = iccid_range(group.first_iccid, group.count)
            for n, (imei, iccid) in enumerate(zip(imeis, iccids, strict=True), start=1):
                device = Device(self, group, n, imei, str(iccid))
                device.account = self.sim_account(str(iccid))
                self.devices.append(device)
                self.by_id[device.id] = device
                self.by_sim[str(iccid)] = device
                self._customer_fields[str(iccid)] = (device.name, group.site, group.time_zone)

    def device(self, device_id: str) -> Device:
        """A device by id."""
        return self.by_id[device_id]

    def imsi_plmn(self, iccid: str) -> str:
        """The home network (MCC-MNC) of a SIM, from its IMSI."""
        imsi = int(self.platform.sims["imsi"][self.platform.row(iccid)])
        return Imsi.parse(f"{imsi:015d}").plmn

    # ---- output -------------------------------------------------------------------------------

    def ts(self, now: float) -> float:
        """Simulated seconds → Unix seconds on the message, to the millisecond."""
        return round(self.start_ts + now, 3)

    def emit(self, message: BaseModel, account: str | None = None) -> None:
        """Send a message that always arrives (the platform's own), under its account."""
        if account is None and not isinstance(message, Clock):
            account = self.sim_account(message.iccid)  # type: ignore[attr-defined]
        self.messages += 1
        self.sink.write(message, account)

    def emit_device(self, device: Device, message: BaseModel) -> None:
        """Send a device's message, which the radio or the broker may lose."""
        if self.spec.message_loss and device.rng.random() < self.spec.message_loss:
            self.lost += 1
            return
        self.emit(message, device.account)

    def sim_account(self, iccid: str) -> str:
        """The id of the account a SIM belongs to (topics are grouped by account)."""
        account = self._sim_accounts.get(iccid)
        if account is None:
            row = self.platform.row(iccid)
            account = self.platform.accounts[int(self.platform.sims["account"][row])].id
            self._sim_accounts[iccid] = account
        return account

    def publish_records(self) -> None:
        """Every simulated SIM's inventory record, as the platform publishes them at start."""
        for iccid in self.by_sim:
            self.emit(self.record(iccid))

    def record(self, iccid: str) -> SimRecord:
        """A SIM's inventory record now."""
        p = self.platform
        row = p.row(iccid)
        sims = p.sims
        account = p.accounts[int(sims["account"][row])]
        plan = p.comm_plans[int(sims["comm_plan"][row])]
        msisdn = int(sims["msisdn"][row])
        locked = int(sims["locked_imei"][row])
        name, site, zone = self._customer_fields.get(iccid, (None, None, None))
        return SimRecord(
            t=self.ts(self.env.now),
            iccid=iccid,
            imsi=f"{int(sims['imsi'][row]):015d}",
            msisdn=f"+{msisdn}" if msisdn else None,
            state=p.sims.state(row).name,
            account=account.id,
            account_name=account.name,
            communication_plan=plan.name,
            rate_plan=p.rate_plans[int(sims["rate_plan"][row])].name,
            apns=[a.name for a in plan.apns],
            networks=[n.mcc_mnc or n.country or "" for n in plan.networks],
            radio_types=[r.value for r in plan.radio_types],
            imei_lock=bool(sims["imei_lock"][row]),
            locked_imei=f"{locked:015d}" if locked else None,
            data_blocked=bool(sims["data_blocked"][row]),
            device_name=name,
            site=site,
            time_zone=zone,
        )

    # ---- the platform's audit trail becomes network events ------------------------------------

    def flush_platform(self) -> None:
        """Publish the platform's new audit entries, and act on what they change."""
        audit = self.platform.audit
        while self._audit_seen < len(audit):
            entry = audit.entry(self._audit_seen)
            self._audit_seen += 1
            for row in range(entry.first, entry.first + entry.count):
                iccid = str(self.platform.sims.iccid(row))
                if iccid in self.by_sim:
                    self._publish_entry(entry, iccid)

    def _publish_entry(self, entry: AuditEntry, iccid: str) -> None:
        t = self.ts(entry.time)
        imei = self._seen_imei(iccid)
        if entry.field is AuditField.STATE and entry.old != NONE:
            old, new = SimState(entry.old), SimState(entry.new)
            self.emit(
                StateChanged(
                    t=t,
                    iccid=iccid,
                    imei=imei,
                    old=old.name,
                    new=new.name,
                    actor=entry.actor.name.lower(),
                    reason=entry.reason,
                ),
            )
            if new in NO_SERVICE and old not in NO_SERVICE:
                self.network_detach(iccid)
            if old is SimState.TEST_READY and new is SimState.INVENTORY:
                self._emergent(self.by_sim[iccid], FaultId.TEST_QUOTA_USED)
        elif entry.field is AuditField.DATA_BLOCKED:
            self.emit(
                DataBlocked(
                    t=t, iccid=iccid, imei=imei, blocked=bool(entry.new), reason=entry.reason
                )
            )
            if entry.new:
                self.network_close_session(iccid, "limit")
        elif entry.field is AuditField.IMEI:
            self.emit(
                ImeiChanged(
                    t=t, iccid=iccid, imei=f"{entry.new:015d}", old_imei=f"{entry.old:015d}"
                )
            )
        else:
            self.emit(
                AuditRecorded(
                    t=t,
                    iccid=iccid,
                    imei=imei,
                    field=entry.field.name.lower(),
                    old=self._audit_value(entry.field, entry.old),
                    new=self._audit_value(entry.field, entry.new),
                    actor=entry.actor.name.lower(),
                    reason=entry.reason,
                ),
            )
        if entry.old != NONE:
            self.emit(self.record(iccid))

    def _audit_value(self, field: AuditField, value: int) -> str:
        if value == NONE:
            return ""
        if field is AuditField.RATE_PLAN:
            return self.platform.rate_plans[value].name
        if field is AuditField.COMMUNICATION_PLAN:
            return self.platform.comm_plans[value].name
        return f"{value:015d}" if value else ""

    def _seen_imei(self, iccid: str) -> str | None:
        value = int(self.platform.sims["imei"][self.platform.row(iccid)])
        return f"{value:015d}" if value else None

    # ---- the network's view of devices ------------------------------------------------------

    def attached(self, device: Device, cell: Cell) -> None:
        """A device registered: any session the network still held for its SIM is gone."""
        assert device.sim is not None
        self._close_net_session(device.sim, "detach")
        self.attached_at[device.sim] = cell.id
        self._touch(device.sim)

    def open_session(self, iccid: str, apn: str) -> Session:
        """The network opens a session for the device's SIM."""
        self._session_ids += 1
        n = self._session_ids
        tunnel = self.network.apn_tunnel(iccid, apn)
        ip = (
            f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
            if tunnel
            else f"100.{64 + (n >> 16) % 64}.{(n >> 8) & 255}.{n & 255}"
        )
        session = Session(id=n, apn=apn, ip=ip, opened=self.env.now, reported_at=self.env.now)
        self.sessions[iccid] = session
        self._touch(iccid)
        return session

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
        self.flush_platform()

    def _report_usage(self, iccid: str, session: Session, now: float) -> None:
        delta = session.bytes - session.reported_bytes
        session.reported_bytes = session.bytes
        session.reported_at = now
        if delta <= 0:
            return
        row = self.platform.row(iccid)
        self.emit(
            UsageReported(
                t=self.ts(now),
                iccid=iccid,
                imei=self._seen_imei(iccid),
                bytes=delta,
                cycle_bytes=int(self.platform.sims["usage"][row]),
                allowance=self.platform.rate_plan(iccid).allowance,
            ),
        )

    def _touch(self, iccid: str) -> None:
        self.contact[iccid] = self.contact.get(iccid, 0) + 1

    def _close_net_session(
        self,
        iccid: str,
        reason: Literal["device", "network", "detach", "limit"],
    ) -> None:
        session = self.sessions.pop(iccid, None)
        if session is None:
            return
        self._report_usage(iccid, session, self.env.now)
        self.emit(
            SessionClosed(
                t=self.ts(self.env.now),
                iccid=iccid,
                imei=self._seen_imei(iccid),
                session_id=session.id,
                apn=session.apn,
                bytes=session.bytes,
                reason=reason,
            ),
        )

    def network_detach(self, iccid: str) -> None:
        """The network detaches a SIM (its state no longer allows service)."""
        if iccid in self.attached_at:
            self._close_net_session(iccid, "network")
            del self.attached_at[iccid]
            self.emit(
                Detached(
                    t=self.ts(self.env.now),
                    iccid=iccid,
                    imei=self._seen_imei(iccid),
                    reason="network",
                )
            )
        device = self.by_sim.get(iccid)
        if device is not None and device.sim == iccid:
            self._drop_links(device)
            device.poke()

    def network_close_session(self, iccid: str, reason: Literal["network", "limit"]) -> None:
        """The network ends a SIM's data session (limit, tunnel or gateway down)."""
        self._close_net_session(iccid, reason)
        device = self.by_sim.get(iccid)
        if device is not None and device.sim == iccid and device.session is not None:
            device.session = None
            self.drop_mqtt(device)
            device.poke()

    def device_detaches(self, device: Device) -> None:
        """The device detaches cleanly (power off, reset, SIM out), if it has a cell to tell."""
        if device.cell is not None and device.sim is not None and device.sim in self.attached_at:
            iccid = device.sim
            self._close_net_session(iccid, "detach")
            del self.attached_at[iccid]
            self.emit(
                Detached(
                    t=self.ts(self.env.now), iccid=iccid, imei=device.imei.value, reason="device"
                )
            )
        self._drop_links(device)

    def device_lost_network(self, device: Device, *, detach: bool) -> None:
        """The device lost its cell or its SIM; without a detach the network notices only later."""
        if detach:
            self.device_detaches(device)
            return
        if device.cell is None:
            return
        self._drop_links(device)
        if device.sim is not None:
            self.env.process(self._implicit_detach(device.sim))

    def _drop_links(self, device: Device) -> None:
        device.cell = None
        device.session = None
        self.drop_mqtt(device)

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
        self.emit(
            DeviceStatus(
                t=self.ts(self.env.now),
                device_id=device.id,
                iccid=device.will_sim,
                status="offline",
                will=True,
            ),
        )

    def _implicit_detach(self, iccid: str) -> Generator[simpy.Event, object, None]:
        seen = self.contact.get(iccid, 0)
        yield self.env.timeout(IMPLICIT_DETACH_S)
        if self.contact.get(iccid, 0) == seen and iccid in self.attached_at:
            self._close_net_session(iccid, "detach")
            del self.attached_at[iccid]
            self.emit(
                Detached(
                    t=self.ts(self.env.now),
                    iccid=iccid,
                    imei=self._seen_imei(iccid),
                    reason="implicit",
                )
            )

    # ---- device life events that ground truth cares about -----------------------------------

    def battery_empty(self, device: Device) -> None:
        """The battery ran out: the device dies without a word."""
        device.powered = False
        self.device_lost_network(device, detach=False)
        self.drop_mqtt(device)
        self._emergent(device, FaultId.BATTERY_DEPLETED)

    def no_network(self, device: Device) -> None:
        """The device hears no network it may use."""
        fault = FaultId.ROAMING_NOT_ALLOWED if device.forbidden else FaultId.COVERAGE_LOSS
        self._emergent(device, fault)

    def reported(self, device: Device) -> None:
        """The device reported: faults that arose by themselves are over."""
        for fault in self.truth.open_faults(device.id):
            if not self.truth.record_of(device.id, fault).injected:
                self.truth.close(device.id, fault, self.env.now)

    def _emergent(self, device: Device, fault: FaultId) -> None:
        """A fault that arose by itself, unless an injected one explains what the device meets."""
        open_now = [self.truth.record_of(device.id, f) for f in self.truth.open_faults(device.id)]
        if any(r.injected for r in open_now):
            return
        for record in open_now:
            if record.fault is not fault:
                self.truth.close(device.id, record.fault, self.env.now)  # the cause has changed
        self.truth.open(
            TruthRecord(device.id, device.sim, fault, fault.cause, self.env.now, injected=False),
        )

    def refused(self, device: Device, *, emm: int | None = None, esm: int | None = None) -> None:
        """The network refused the device; a cause that points at one fault is ground truth."""
        fault = EMM_FAULTS.get(emm) if emm is not None else ESM_FAULTS.get(esm or 0)
        if fault is not None:
            self._emergent(device, fault)

    # ---- time ---------------------------------------------------------------------------------

    def clock(self, every: float) -> Generator[simpy.Event, object, None]:
        """Watermarks: a clock message each `every` simulated seconds."""
        while True:
            yield self.env.timeout(every)
            self.emit(Clock(t=self.ts(self.env.now)))
