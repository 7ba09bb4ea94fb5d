"""The world: platform, networks and devices on one SimPy clock, and what links them.

The world is assembled here from its parts: the platform with the customer
onboarded, the radio network, the core network and broker (`core`), the output
that turns what happens into messages (`output`), the ground truth beside them,
which no message names (`truth`, kept by the `observer` for faults that arise by
themselves), and the devices, each seeing only its `Surroundings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import simpy

from protocol.identifiers import Imei, iccid_texts, imei_texts
from protocol.messages import Clock
from protocol.sim_state import SimState
from simulator.platform.audit import NONE, AuditEntry, AuditField
from simulator.platform.platform import Platform
from simulator.world import keyed
from simulator.world.bulk import Cohort
from simulator.world.bulk_plan import bulk_group, members, outside, pools
from simulator.world.core import Core
from simulator.world.device import Device
from simulator.world.network import Network
from simulator.world.observer import TruthObserver
from simulator.world.output import Output
from simulator.world.sim_files import SimFiles
from simulator.world.spec import FaultId, device_ids
from simulator.world.truth import TruthLog

if TYPE_CHECKING:
    from collections.abc import Generator

    import numpy.typing as npt

    from simulator.world.shard import Shard
    from simulator.world.sinks import Sink
    from simulator.world.spec import DeviceGroupSpec, WorldSpec

__all__ = ["World"]

NO_SERVICE: Final = frozenset(
    {SimState.INVENTORY, SimState.DEACTIVATED, SimState.RETIRED, SimState.PURGED}
)


class World:
    """Everything that exists in one simulated run."""

    def __init__(self, spec: WorldSpec, sink: Sink, shard: Shard | None = None) -> None:
        self.spec = spec
        self.shard = shard
        """This run's share of the devices (`shard`); None: all of them."""
        self.seed = spec.seed
        self.env = simpy.Environment()
        self.platform = Platform(start=spec.start)
        self.platform.onboard(spec.customer)
        self.network = Network.build(self.platform, spec.operators, spec.cells, spec.core)
        self.truth = TruthLog()
        self.observer = TruthObserver(self.env, self.truth)
        self.output = Output(
            env=self.env,
            platform=self.platform,
            sink=sink,
            start_ts=spec.start.timestamp(),
            message_loss=spec.message_loss,
            react=self._react,
            shard=shard,
        )
        self.core = Core(
            env=self.env,
            platform=self.platform,
            network=self.network,
            output=self.output,
            observer=self.observer,
            holder=self.holder,
        )
        self.damaged_sims: set[str] = set()
        self.sim_files = SimFiles()
        self.devices: list[Device] = []
        """The devices run as processes (those the bulk engine runs are in `cohorts`)."""
        self.cohorts: list[Cohort] = []
        self.by_id: dict[str, Device] = {}
        self.by_sim: dict[str, Device] = {}
        self._build_devices()

    def _build_devices(self) -> None:
        groups = []
        for group in self.spec.devices:
            imeis = imei_texts(group.first_imei, group.count)
            iccids = iccid_texts(group.first_iccid, group.count)
            rows = self.platform.sims.range_rows(group.first_iccid, group.count)
            chosen = None
            if bulk_group(self.spec, group):
                values = np.array(imeis, dtype=np.int64)
                chosen = members(self.spec, group, self.network, self.platform, rows, values)
            groups.append((group, imeis, iccids, rows, chosen))
        # A pool shared with a device process couples them use by use: its SIMs stay processes.
        shared = pools(self.platform, [r for *_, rows, c in groups for r in outside(rows, c)])
        for group, imeis, iccids, rows, planned in groups:
            self._share(group, rows)
            process = np.ones(group.count, dtype=bool)
            if planned is not None:
                chosen = planned.without(rows, self.platform, shared)
                if len(chosen.index):
                    self.cohorts.append(Cohort(self, group, chosen, rows, iccids, imeis))
                process[chosen.index] = False
            site, zone = group.site, group.time_zone
            names = [
                group.name_format.format(group=group.name, n=n) for n in range(1, len(iccids) + 1)
            ]
            self.output.customer_fields.update(
                zip(iccids, ((name, site, zone) for name in names), strict=True)
            )
            self.output.customer_rows.extend(rows.tolist())
            for i in np.flatnonzero(process).tolist():
                n, iccid = i + 1, iccids[i]
                device = Device(self, group, n, Imei(imeis[i]), iccid)
                device.account = self.output.sim_account(iccid)
                self.devices.append(device)
                self.by_id[device.id] = device
                self.by_sim[iccid] = device

    def _share(self, group: DeviceGroupSpec, rows: npt.NDArray[np.int64]) -> None:
        """Mark which of the group's SIMs are this shard's (with their devices)."""
        output = self.output
        if self.shard is None or output.owned_rows is None:
            return
        n = np.arange(1, group.count + 1, dtype=np.int64)
        keys = keyed.device_keys(keyed.group_key(self.seed, group.name), n)
        owned = self.shard.owned(keys)
        output.owned_rows[rows] = owned
        named = device_ids(group)
        output.foreign_devices.update(named[i] for i in np.flatnonzero(~owned).tolist())

    def device_sims(self) -> dict[str, str]:
        """The SIM in every device now, by device id (the bulk engine's devices keep theirs)."""
        sims = {c_id: sim for c in self.cohorts for c_id, sim in zip(c.ids, c.iccids, strict=True)}
        sims.update({d.id: d.sim for d in self.devices if d.sim is not None})
        return sims

    # ---- what devices and faults ask of it ----------------------------------------------------

    def holder(self, iccid: str) -> Device | None:
        """The device the SIM is in now, if any."""
        device = self.by_sim.get(iccid)
        return device if device is not None and device.sim == iccid else None

    def sim_readable(self, iccid: str) -> bool:
        """Whether the SIM can still be read (a damaged one cannot)."""
        return iccid not in self.damaged_sims

    def acts_on(self, entry: AuditEntry) -> bool:
        """Whether `_react` changes anything for this entry (else its messages are all it makes)."""
        if entry.field is AuditField.STATE and entry.old != NONE:
            old, new = SimState(entry.old), SimState(entry.new)
            lost = new in NO_SERVICE and old not in NO_SERVICE
            return lost or (old is SimState.TEST_READY and new is SimState.INVENTORY)
        return entry.field is AuditField.DATA_BLOCKED and bool(entry.new)

    def _react(self, entry: AuditEntry, iccid: str) -> None:
        """What an audit entry changes beyond its message: service lost, data blocked."""
        if entry.field is AuditField.STATE and entry.old != NONE:
            old, new = SimState(entry.old), SimState(entry.new)
            if new in NO_SERVICE and old not in NO_SERVICE:
                self.core.network_detach(iccid)
            if old is SimState.TEST_READY and new is SimState.INVENTORY:
                self.observer.emergent(self.by_sim[iccid], FaultId.TEST_QUOTA_USED)
        elif entry.field is AuditField.DATA_BLOCKED and entry.new:
            self.core.network_close_session(iccid, "limit")

    # ---- time ---------------------------------------------------------------------------------

    def clock(self, every: float) -> Generator[simpy.Event, object, None]:
        """Watermarks: a clock message each `every` simulated seconds."""
        while True:
            yield self.env.timeout(every)
            self.output.emit(Clock(t=self.output.ts(self.env.now)))
