"""SIMs' inventory records as columns: the platform's device-details page for many SIMs at once.

`records` makes one `Block` of `SimRecord`s, one row per SIM, from the platform's
columns, as of one time: what `Output.publish_records` sends at the start (every
simulated SIM) and what `Output.record` builds for one SIM after its audit. Fields
shared by many SIMs (state, account, plans, pool, the plan's APNs and networks)
are coded columns, so a million records cost a million strings only where each
SIM has its own (IMSI, MSISDN, locked IMEI, the customer's names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from protocol.messages import SimRecord
from protocol.sim_state import SimState
from simulator.platform.billing import pool_name
from simulator.world.batch import Block, Coded
from simulator.world.telemetry import round_half_even

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from simulator.world.output import Output

__all__ = ["STATE_NAMES", "records"]

STATE_NAMES = [s.name for s in sorted(SimState)]
"""State names by value (the values run 0, 1, 2, ...), as a coded column's values."""


def records(
    output: Output,
    iccids: Sequence[str],
    at: float | npt.NDArray[np.float64],
    *,
    step: int = 0,
    rows: npt.NDArray[np.intp] | None = None,
) -> Block:
    """The records of `iccids` as of `at` (simulated seconds; or each its own), in that order.

    `rows`: the SIMs' platform rows, when the caller knows them.
    """
    p = output.platform
    sims = p.sims
    if rows is None:
        rows = np.array([p.row(i) for i in iccids], dtype=np.intp)
    n = len(rows)
    times = np.broadcast_to(np.asarray(at, dtype=np.float64), (n,)).copy()
    own = np.arange(n, dtype=np.intp)
    account = sims["account"][rows].astype(np.intp)
    comm = sims["comm_plan"][rows].astype(np.intp)
    rate = sims["rate_plan"][rows].astype(np.intp)
    plans = p.comm_plans
    pooled = np.array([r.pooled for r in p.rate_plans], dtype=bool)[rate]
    pool_code = np.where(pooled, account.astype(np.int64) << 32 | rate, -1)
    pools, pool_of = np.unique(pool_code, return_inverse=True)
    pool_names = [
        None if c < 0 else pool_name(p.accounts[c >> 32].id, p.rate_plans[c & 0xFFFFFFFF].name)
        for c in pools.tolist()
    ]
    customer = [output.customer_fields.get(i, (None, None, None)) for i in iccids]
    locked = sims["locked_imei"][rows].tolist()
    networks = [[w.mcc_mnc or w.country or "" for w in c.networks] for c in plans]
    columns = {
        "v": 1, "t": round_half_even(output.start_ts + times, 3), "kind": "record",
        "iccid": Coded(own, iccids),
        "imsi": Coded(own, [f"{v:015d}" for v in sims["imsi"][rows].tolist()]),
        "msisdn": Coded(own, [f"+{v}" if v else None for v in sims["msisdn"][rows].tolist()]),
        "state": Coded(sims["state"][rows].astype(np.intp), STATE_NAMES),
        "account": Coded(account, [a.id for a in p.accounts]),
        "account_name": Coded(account, [a.name for a in p.accounts]),
        "communication_plan": Coded(comm, [c.name for c in plans]),
        "rate_plan": Coded(rate, [r.name for r in p.rate_plans]),
        "pool": Coded(pool_of.ravel().astype(np.intp), pool_names),
        "apns": Coded(comm, [[a.name for a in c.apns] for c in plans]),
        "networks": Coded(comm, networks),
        "radio_types": Coded(comm, [[r.value for r in c.radio_types] for c in plans]),
        "imei_lock": sims["imei_lock"][rows].astype(bool),
        "locked_imei": Coded(own, [f"{v:015d}" if v else None for v in locked]),
        "data_blocked": sims["data_blocked"][rows].astype(bool),
        "device_name": Coded(own, [c[0] for c in customer]),
        "site": Coded(own, [c[1] for c in customer]),
        "time_zone": Coded(own, [c[2] for c in customer]),
    }  # fmt: skip
    accounts = Coded(account, [a.id for a in p.accounts])
    return Block("record", times, own.astype(np.int64), step, SimRecord, columns, accounts)
