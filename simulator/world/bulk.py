"""The bulk engine: a large group's healthy devices as numpy columns, a minute at a time.

A `Cohort` holds the devices `bulk_plan` chose, one row each: its key, SIM, cell
and signal, when it next wakes or reports, and its counters. One SimPy process
advances it a window (`WINDOW_S`) at a time: at the window's start it does what
every device due in the window does at its own time: the first attach, data
session, broker connection and report on waking, or the next report; it counts
the data on the platform's columns and hands the messages to the sink as one
`Batch`, ordered by time and each device's steps. The draws are the device
model's (`keyed`), the messages are built by the same code, so each device sends
what its own process would have sent, in the same order.

What the platform does because of the usage is the platform's own code, run at the
report's time: a SIM whose test quota runs out in the window is moved by
`Platform.record_usage`, and its audit follows the report as a device process's
would. A window in which a usage threshold or a billing cycle's end falls counts
every report through the platform, in time order. A window's platform calls come
at its start; the platform's minute sweep (silence rules, trial ends) may so run
up to a window earlier than beside device processes alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from protocol.messages import AttachAccepted, DeviceStatus, SessionOpened, Telemetry
from simulator.platform.customer import Trigger
from simulator.platform.rule_runner import DAY
from simulator.world import keyed, psm
from simulator.world.batch import (
    ATTACH,
    CONNECT_AUDIT,
    REPORT,
    REPORT_AUDIT,
    SESSION,
    STATUS,
    Batch,
    Block,
    Coded,
    time_order,
)
from simulator.world.bulk_plan import WINDOW_S, pool_codes
from simulator.world.bulk_usage import count
from simulator.world.core import SESSIONS_PER_SIM, session_ip
from simulator.world.device import MQTT_OVERHEAD_BYTES, NOISE_DB
from simulator.world.network import plan_tunnel
from simulator.world.radio import LOW_SIGNAL_DBM
from simulator.world.spec import device_ids
from simulator.world.telemetry import round_half_even

if TYPE_CHECKING:
    from collections.abc import Generator

    import numpy.typing as npt
    import simpy

    from simulator.world.bulk_plan import Members
    from simulator.world.spec import DeviceGroupSpec
    from simulator.world.world import World

__all__ = ["Cohort"]

I64 = np.int64
_MAX_SESSIONS: Final = int(np.iinfo(np.uint16).max)
_SIGNAL_ERRORS: Final[tuple[list[int], list[int]]] = ([], [4])
"""A report's LwM2M errors on mains power: none, or low signal (4)."""


class Cohort:
    """A group's devices run as columns (see the module)."""

    def __init__(
        self,
        world: World,
        group: DeviceGroupSpec,
        members: Members,
        rows: npt.NDArray[np.int64],
        iccids: list[str],
        imeis: list[str],
    ) -> None:
        self.world = world
        self.group = group
        index = members.index
        self.size = len(index)
        n = index + 1
        self.keys = keyed.device_keys(keyed.group_key(world.seed, group.name), n)
        self.rows = rows[index]
        named = device_ids(group)
        self.ids = [named[i] for i in index.tolist()]
        self.iccids = [iccids[i] for i in index.tolist()]
        self.imeis = [imeis[i] for i in index.tolist()]
        self.imei_values = np.array(self.imeis, dtype=np.int64)
        platform = world.platform
        self.account_ids = [a.id for a in platform.accounts]
        self.account_code = platform.sims["account"][self.rows].astype(np.intp)
        self.pool_code = pool_codes(platform, self.rows)
        """Each member's data pool (`bulk_plan.pool_codes`): its account and plan stay."""
        shard = world.shard
        self.mine = None if shard is None else shard.owned(self.keys)
        """A shard's: which members it sends the messages of (all run, for what they share)."""
        cells = world.network.cells
        self.cell = members.cell
        self.networks = [c.mcc_mnc for c in cells]
        ids = np.array([c.id for c in cells], dtype=np.int64)
        self.cell_id = ids[self.cell] if self.size else np.zeros(0, dtype=np.int64)
        self.network_code = self.cell.astype(np.intp)
        self.signal = members.signal
        self.next_t = group.report_interval * keyed.uniforms(self.keys, keyed.Draw.FIRST_WAKE)
        self.online = np.zeros(self.size, dtype=bool)
        self.seq = np.zeros(self.size, dtype=I64)
        self.sent = np.zeros(self.size, dtype=I64)
        self.sbytes = np.zeros(self.size, dtype=I64)
        self.reported_bytes = np.zeros(self.size, dtype=I64)
        self.reported_at = np.zeros(self.size)
        self.grant = psm.grant(psm=False, sleep=0.0, network_max=None)
        plan = platform.sims["comm_plan"][self.rows].astype(np.intp)
        tunnel_of = [plan_tunnel(p, group.apn) for p in platform.comm_plans]
        self.tunnels = [tunnel_of[p] for p in plan.tolist()]
        self.ips = [
            session_ip(r, private=tunnel is not None)
            for r, tunnel in zip(self.rows.tolist(), self.tunnels, strict=True)
        ]

    def account(self, m: int) -> str:
        """The id of the account member `m`'s SIM belongs to."""
        return self.account_ids[int(self.account_code[m])]

    def accounts_of(self, members: npt.NDArray[np.intp]) -> Coded:
        """The accounts of `members`, as a column."""
        return Coded(self.account_code[members], self.account_ids)

    def ts(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Simulated seconds → the messages' Unix seconds, to the millisecond (`Output.ts`)."""
        return round_half_even(self.world.output.start_ts + t, 3)

    # ---- the loop -----------------------------------------------------------------------------

    def run(self, until: float) -> Generator[simpy.Event, object, None]:
        """The cohort's process: a window at a time until `until`."""
        env = self.world.env
        start = 0.0
        while start < until:
            self.window(min(start + WINDOW_S, until))
            start += WINDOW_S
            if start < until:
                yield env.timeout(start - env.now)

    def window(self, end: float) -> None:
        """Do what every device due before `end` does (the window's), and hand over its messages."""
        due = self.next_t < end
        wake = np.flatnonzero(due & ~self.online)
        batch = Batch()
        usage = _Usage()
        if len(wake):
            self._wake(wake, batch, usage)
        reporting = np.flatnonzero(due)  # the woken report too, every member once, in order
        if len(reporting):
            self._report(reporting, batch, usage)
        self._count(usage, batch, end)
        if self.mine is not None:
            batch = batch.mine(self.mine)
        if len(batch):
            self.world.output.emit_batch(batch)

    # ---- waking: attach, session, broker, as `Device._next` does on its first look ------------

    def _wake(self, wake: npt.NDArray[np.intp], batch: Batch, usage: _Usage) -> None:
        t = self.next_t[wake]
        self.online[wake] = True
        self._platform_connects(wake, t)
        ts = self.ts(t)
        sim = {
            "v": 1, "t": ts,
            "iccid": Coded(wake, self.iccids), "imei": Coded(wake, self.imeis),
        }  # fmt: skip
        attach = {
            **sim, "kind": "attach",
            "mcc_mnc": Coded(self.network_code[wake], self.networks),
            "cell_id": self.cell_id[wake], "rat": self.group.radio.value,
            "t3412_s": self.grant.t3412, "t3324_s": self.grant.t3324,
        }  # fmt: skip
        rows = self.rows[wake]
        session = {
            **sim, "kind": "session_open", "session_id": (rows + 1) * SESSIONS_PER_SIM + 1,
            "apn": self.group.apn, "ip": Coded(wake, self.ips),
            "tunnel": Coded(wake, self.tunnels),
        }  # fmt: skip
        accounts = self.accounts_of(wake)
        batch.blocks.append(Block("attach", t, wake, ATTACH, AttachAccepted, attach, accounts))
        batch.blocks.append(
            Block("session_open", t, wake, SESSION, SessionOpened, session, accounts)
        )
        on_air = np.flatnonzero(self._radio(wake))
        kept = wake[on_air]
        status = {
            "v": 1, "t": ts[on_air], "kind": "status",
            "device_id": Coded(kept, self.ids), "iccid": Coded(kept, self.iccids),
            "status": "online", "will": False, "next_report": None,
            "keepalive_s": round(self.group.keepalive),
        }  # fmt: skip
        batch.blocks.append(
            Block("status", t[on_air], kept, STATUS, DeviceStatus, status, self.accounts_of(kept))
        )
        self.sbytes[wake] += MQTT_OVERHEAD_BYTES
        self.reported_at[wake] = t
        self.reported_bytes[wake] = 0
        usage.add(wake, t, MQTT_OVERHEAD_BYTES, CONNECT_AUDIT, report=False)

    def _platform_connects(self, wake: npt.NDArray[np.intp], t: npt.NDArray[np.float64]) -> None:
        """`Platform.attach` and `open_session` for SIMs it simply accepts, in its columns."""
        sims = self.world.platform.sims
        _, runner = self.world.platform.columns
        rows = self.rows[wake]
        sims["imei"][rows] = self.imei_values[wake]
        lock = sims["imei_lock"][rows].astype(bool) & (sims["locked_imei"][rows] == 0)
        sims["locked_imei"][rows[lock]] = self.imei_values[wake][lock]
        sims["last_connection"][rows] = t
        runner.unlatch(rows, [Trigger.NO_CONNECTION])
        window = sims["session_window"][rows]
        fresh = np.isnan(window) | (t - window >= DAY)
        sims["session_window"][rows[fresh]] = t[fresh]
        sims["sessions"][rows[fresh]] = 0
        runner.unlatch(rows[fresh], [Trigger.TOO_MANY_SESSIONS])
        counted = sims["sessions"][rows].astype(I64) + 1
        sims["sessions"][rows] = np.minimum(counted, _MAX_SESSIONS)

    # ---- reports, as `Device._report` makes them ----------------------------------------------

    def _report(self, reporting: npt.NDArray[np.intp], batch: Batch, usage: _Usage) -> None:
        t = self.next_t[reporting].copy()
        self.seq[reporting] += 1
        seq = self.seq[reporting]
        if self.mine is None:
            noise, jitter = keyed.reports(self.keys[reporting], seq)
            own = np.arange(len(reporting))
        else:  # a shard draws every schedule, but the noise of its own reports only
            jitter = keyed.jitters(self.keys[reporting], seq)
            own = np.flatnonzero(self.mine[reporting])
            noise, _ = keyed.reports(self.keys[reporting[own]], seq[own])
        rsrp = self.signal[reporting[own]] - 0.0 + NOISE_DB * noise
        on_air = np.flatnonzero(self._radio(reporting[own]))
        at = own[on_air]
        kept, sent, raw = reporting[at], t[at], rsrp[on_air]
        group = self.group
        columns = {
            "v": 1, "t": self.ts(sent), "kind": "telemetry",
            "device_id": Coded(kept, self.ids), "iccid": Coded(kept, self.iccids),
            "imei": Coded(kept, self.imeis), "seq": seq[at], "firmware": group.firmware,
            "battery": None, "supply_mv": None, "bearer": group.radio.value,
            "mcc_mnc": Coded(self.network_code[kept], self.networks),
            "cell_id": self.cell_id[kept], "rsrp": round_half_even(raw, 1),
            "rsrq": round_half_even(-6.0 + (raw + 80) / 8, 1),
            "snr": round_half_even((raw + 125) / 3, 1), "apn": group.apn,
            "ip": Coded(kept, self.ips),
            "errors": Coded((raw < LOW_SIGNAL_DBM).astype(np.intp), _SIGNAL_ERRORS),
            "uptime_s": np.rint(sent).astype(I64),
        }  # fmt: skip
        block = Block("telemetry", sent, kept, REPORT, Telemetry, columns, self.accounts_of(kept))
        batch.blocks.append(block)
        nbytes = group.report_bytes + MQTT_OVERHEAD_BYTES
        self.sbytes[reporting] += nbytes
        usage.add(reporting, t, nbytes, REPORT_AUDIT, report=True)
        wait = group.report_interval + (2 * jitter - 1) * group.report_jitter
        self.next_t[reporting] = t + np.maximum(wait, 1.0)

    def _radio(self, sending: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        """Which of the devices' messages the radio does not lose (`Output.emit_device`'s draw)."""
        self.sent[sending] += 1
        loss = self.world.output.message_loss
        if not loss:
            return np.ones(len(sending), dtype=bool)
        lost = keyed.uniforms(self.keys[sending], keyed.Draw.LOSS, self.sent[sending]) < loss
        counted = lost if self.mine is None else lost & self.mine[sending]
        self.world.output.lost += int(counted.sum())
        return ~lost

    # ---- the data counted on the platform -----------------------------------------------------

    def _count(self, usage: _Usage, batch: Batch, end: float) -> None:
        """Count the window's data as `Core.count_usage` does, with its usage records."""
        if usage.member:
            count(self, usage.sorted(), batch, end)


class _Usage:
    """A window's data uses: which device, when, how much, and where its audit would go."""

    def __init__(self) -> None:
        self.member: list[npt.NDArray[np.intp]] = []
        self.t: list[npt.NDArray[np.float64]] = []
        self.nbytes: list[npt.NDArray[np.int64]] = []
        self.step: list[npt.NDArray[np.int64]] = []
        self.report: list[npt.NDArray[np.bool_]] = []

    def add(
        self,
        member: npt.NDArray[np.intp],
        t: npt.NDArray[np.float64],
        nbytes: int,
        step: int,
        *,
        report: bool,
    ) -> None:
        self.member.append(member)
        self.t.append(t)
        self.nbytes.append(np.full(len(member), nbytes, dtype=I64))
        self.step.append(np.full(len(member), step, dtype=I64))
        self.report.append(np.full(len(member), report, dtype=bool))

    def sorted(self) -> dict[str, npt.NDArray[np.generic]]:
        """The uses in the order they happen: by time, device, then step."""
        member = np.concatenate(self.member)
        t = np.concatenate(self.t)
        step = np.concatenate(self.step)
        by = time_order(t, member, step)
        return {
            "member": member[by],
            "t": t[by],
            "nbytes": np.concatenate(self.nbytes)[by],
            "step": step[by],
            "report": np.concatenate(self.report)[by],
        }
