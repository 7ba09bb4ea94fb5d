"""Which devices the bulk engine runs: the groups it can follow, and their healthy devices.

A group runs as columns (`bulk`) when its spec says so, or by itself (`auto`) from
`BULK_MIN` devices on, if the engine can follow every device of it that the world
does not single out: mains-powered, standing still, staying connected between
reports at least a window apart, in a world whose timeline touches devices only
by name (faults, swaps and moves naming devices; no fault on a cell, an operator,
an APN or a tunnel, no fault drawn at a rate, no rollout or intervention). Within
such a group a device runs as a full process instead when anything about it is out
of the ordinary: named by the timeline, hearing its cell within the noise's reach of
the coverage floor, or on a SIM the network or the platform would not simply accept
(refused, locked to another device, not yet activated, on a trial, on a plan with a
data limit, under a rule that would change it). What the bulk engine does is then
what a device process does, to the bit (`keyed`, `radio`); `tests/test_bulk.py`
holds the two to the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from protocol.identifiers import Imsi
from protocol.sim_state import SimState
from simulator.platform.customer import ChangeRatePlan, ChangeState, Trigger
from simulator.platform.sims import NO_IMEI
from simulator.world import keyed
from simulator.world.device import NOISE_DB
from simulator.world.mobility import places
from simulator.world.radio import COVERAGE_FLOOR_DBM, distances_km, rsrps_at
from simulator.world.spec import device_ids

if TYPE_CHECKING:
    import numpy.typing as npt

    from simulator.platform.platform import Platform
    from simulator.world.network import Network
    from simulator.world.spec import DeviceGroupSpec, WorldSpec

__all__ = [
    "BULK_MIN",
    "WINDOW_S",
    "Members",
    "bulk_group",
    "members",
    "outside",
    "pool_codes",
    "pools",
]

BULK_MIN: Final = 5000
"""`auto` runs a group this large or larger as columns."""
WINDOW_S: Final = 60.0
"""The bulk engine advances its cohorts a minute at a time."""
NOISE_REACH_DB: Final = NOISE_DB * 3.67
"""The most a report's noise can take off the signal (the keyed normal is bounded)."""
BULK_STATES: Final = frozenset({SimState.ACTIVATED, SimState.TEST_READY})
AFTER_TEST: Final = frozenset({SimState.ACTIVATED, SimState.ACTIVATION_READY})


def bulk_group(spec: WorldSpec, group: DeviceGroupSpec) -> bool:
    """Whether `group` runs as columns."""
    if group.engine == "process":
        return False
    if group.engine == "auto" and group.count < BULK_MIN:
        return False
    return (
        not group.psm
        and group.battery_mah is None
        and group.mobility is None
        and group.report_interval - group.report_jitter >= WINDOW_S
        and not (spec.fault_rates or spec.rollouts or spec.interventions)
        and all(f.devices is not None for f in spec.faults)
    )


def singled_out(spec: WorldSpec) -> set[str]:
    """The devices the timeline names: they run as full processes."""
    named = {d for f in spec.faults for d in f.devices or ()}
    named |= {name for s in spec.swaps for name in (s.device, s.into)}
    named |= {name for m in spec.moves for name in (m.device, m.into)}
    return named


@dataclass(slots=True)
class Members:
    """The devices of a group the bulk engine runs, as columns (positions in the group)."""

    index: npt.NDArray[np.int64]
    """Each member's position in its group (0-based; its number is index + 1)."""
    cell: npt.NDArray[np.int64]
    """The cell each one registers on, by its position in the network's list."""
    signal: npt.NDArray[np.float64]
    """The signal each one hears from its cell, before a report's noise (dBm)."""

    def without(
        self, rows: npt.NDArray[np.int64], platform: Platform, shared: set[tuple[int, int]]
    ) -> Members:
        """The members but those whose SIM (in `rows`, by position) counts in a `shared` pool."""
        if not shared:
            return self
        codes = np.array([a << 32 | p for a, p in shared], dtype=np.int64)
        keep = ~np.isin(pool_codes(platform, rows[self.index]), codes)
        return Members(self.index[keep], self.cell[keep], self.signal[keep])


def pool_codes(platform: Platform, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each row's pool as one number (account << 32 | rate plan), -1 for a plan per SIM."""
    sims = platform.sims
    plan = sims["rate_plan"][rows].astype(np.int64)
    pooled = np.array([p.pooled for p in platform.rate_plans], dtype=bool)[plan]
    return np.where(pooled, sims["account"][rows].astype(np.int64) << 32 | plan, -1)


def outside(rows: npt.NDArray[np.int64], chosen: Members | None) -> list[int]:
    """The rows of a group's SIMs that run as processes (all of them, if none run as columns)."""
    if chosen is None:
        return [int(r) for r in rows]
    mask = np.ones(len(rows), dtype=bool)
    mask[chosen.index] = False
    return [int(r) for r in rows[mask]]


def pools(platform: Platform, rows: list[int]) -> set[tuple[int, int]]:
    """The pools the SIMs in `rows` count in."""
    codes = np.unique(pool_codes(platform, np.array(rows, dtype=np.int64)))
    return {(c >> 32, c & 0xFFFFFFFF) for c in codes.tolist() if c >= 0}


def members(
    spec: WorldSpec,
    group: DeviceGroupSpec,
    network: Network,
    platform: Platform,
    rows: npt.NDArray[np.int64],
    imeis: npt.NDArray[np.int64],
) -> Members:
    """The devices of `group` (SIMs in platform `rows`, IMEIs `imeis`) that run as columns."""
    n = np.arange(1, group.count + 1, dtype=np.int64)
    keys = keyed.device_keys(keyed.group_key(spec.seed, group.name), n)
    if group.spread_km > 0:
        lat, lon = places(
            group,
            keyed.uniforms(keys, keyed.Draw.PLACE_RADIUS),
            keyed.uniforms(keys, keyed.Draw.PLACE_ANGLE),
        )
    else:
        lat, lon = np.full(group.count, group.lat), np.full(group.count, group.lon)
    cell, signal = _strongest(network, group, lat, lon)
    ok = (cell >= 0) & (signal - NOISE_REACH_DB >= COVERAGE_FLOOR_DBM[group.radio])
    ok &= _accepted(group, network, platform, rows, imeis, cell)
    ids = device_ids(group)
    named = singled_out(spec)
    ok &= np.array([d not in named for d in ids], dtype=bool)
    index = np.flatnonzero(ok).astype(np.int64)
    return Members(index=index, cell=cell[index], signal=signal[index])


def _strongest(
    network: Network,
    group: DeviceGroupSpec,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Each device's strongest cell it can register on (-1: none), as `Network.audible` ranks."""
    floor = COVERAGE_FLOOR_DBM[group.radio]
    best = np.full(len(lat), -1, dtype=np.int64)
    strongest = np.full(len(lat), -np.inf)
    ranked = sorted(range(len(network.cells)), key=lambda k: network.cells[k].id)
    for k in ranked:  # by id: of two cells heard alike, the lower id wins, as there
        cell = network.cells[k]
        if not cell.serving() or group.radio not in cell.spec.radio_types:
            continue
        here = np.full_like(lat, cell.spec.lat), np.full_like(lon, cell.spec.lon)
        d = distances_km(*here, lat, lon)
        heard = rsrps_at(cell.spec.rsrp_dbm, cell.spec.radius_km, d)
        better = (heard >= floor) & (heard > strongest)
        best[better] = k
        strongest[better] = heard[better]
    return best, strongest


def _accepted(
    group: DeviceGroupSpec,
    network: Network,
    platform: Platform,
    rows: npt.NDArray[np.int64],
    imeis: npt.NDArray[np.int64],
    cell: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Whether each device's SIM is simply accepted: attach, session, nothing the rules change."""
    if not _rules_leave_alone(platform) or not group.apn_credentials_ok:
        return np.zeros(len(rows), dtype=bool)
    sims = platform.sims
    state = sims["state"][rows]
    ok = np.isin(state, [int(s) for s in BULK_STATES]) & ~sims["data_blocked"][rows].astype(bool)
    own = (sims["imei"][rows] == NO_IMEI) | (sims["imei"][rows] == imeis)
    locked = sims["locked_imei"][rows]
    lock_ok = ~sims["imei_lock"][rows].astype(bool) | (locked == NO_IMEI) | (locked == imeis)
    ok &= own & lock_ok & (cell >= 0)
    for account in np.unique(sims["account"][rows]):
        settings = platform.settings[int(account)]
        if settings.after_test not in AFTER_TEST:
            ok &= ~((sims["account"][rows] == account) & (state == int(SimState.TEST_READY)))
    if network.unprovisioned or network.blacklisted:
        iccids = [str(platform.sims.iccid(int(r))) for r in rows]
        ok &= np.array([i not in network.unprovisioned for i in iccids], dtype=bool)
        ok &= np.array([f"{v:015d}" not in network.blacklisted for v in imeis.tolist()])
    # What the network says depends on the SIM's plan, state, home network and cell: ask once
    # for each combination (of the SIMs and IMEIs it does not single out).
    kept = np.flatnonzero(ok)
    imsi = sims["imsi"][rows[kept]]
    combos = np.stack(
        [
            sims["comm_plan"][rows[kept]],
            sims["rate_plan"][rows[kept]],
            state[kept],
            imsi // 10**9,
            cell[kept],
        ]
    )
    if len(kept) == 0:
        return ok  # type: ignore[no-any-return]
    _, first, inverse = np.unique(combos, axis=1, return_index=True, return_inverse=True)
    answers = np.array(
        [
            _answer(group, network, platform, int(rows[kept[i]]), int(imsi[i]), int(cell[kept[i]]))
            for i in first
        ],
        dtype=bool,
    )
    ok[kept] = answers[inverse.ravel()]
    return ok  # type: ignore[no-any-return]


def _answer(
    group: DeviceGroupSpec, network: Network, platform: Platform, row: int, imsi: int, cell: int
) -> bool:
    """Whether the network attaches the SIM in `row` on `cell` and opens its session at once."""
    from protocol.identifiers import Imei  # noqa: PLC0415 - only for the question

    if cell < 0:
        return False
    on = network.cells[cell]
    iccid = str(platform.sims.iccid(row))
    plan = platform.rate_plans[int(platform.sims["rate_plan"][row])]
    if plan.overage_limit is not None or not on.operator.up or on.congested:
        return False
    if on.operator.congested:
        return False
    plmn = Imsi.parse(f"{imsi:015d}").plmn
    probe = Imei.from_body("35000000000000")
    if network._subscription(iccid, plmn, probe, on, group.radio) is not None:  # noqa: SLF001
        return False
    refused = network._refused_before_tunnel(iccid, group.apn.lower(), credentials_ok=True)  # noqa: SLF001
    tunnel = network.apn_tunnel(iccid, group.apn)
    return refused is None and (tunnel is None or tunnel not in network.tunnels_down)


def _rules_leave_alone(platform: Platform) -> bool:
    """Whether no rule would change a healthy SIM: only notices, and no session counts to fire."""
    rules = platform.rules
    for trigger in (Trigger.USAGE_THRESHOLD, Trigger.NO_CONNECTION):
        for rule in rules.on(trigger):
            if isinstance(rule.rule.action, ChangeState | ChangeRatePlan):
                return False
    return all((rule.rule.sessions or 0) >= 1 for rule in rules.on(Trigger.TOO_MANY_SESSIONS))
