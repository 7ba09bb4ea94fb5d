"""A cohort's data on the platform: counted in columns, or one use at a time where it must be.

`Core.count_usage` counts each use on the platform (`Platform.record_usage`) and,
an hour after the session's last usage record, writes the next one. Here a
window's uses are counted in the platform's columns at once: a SIM in TEST_READY
adds to its test usage, any other adds to its cycle's usage and its pool's. The
use that runs a SIM's test quota out goes through `Platform.record_usage` itself,
which moves the SIM and writes the audit; the SIM's later uses in the window then
count as its new state's. A window in which a billing cycle ends or a usage
threshold is passed counts every use through `record_usage`, one by one in time
order, so its rules fire at the very use that passes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from protocol.messages import UsageReported
from protocol.sim_state import SimState
from simulator.errors import SimulatorError
from simulator.platform.customer import Trigger
from simulator.world.batch import USAGE, Block, Coded, Masked
from simulator.world.bulk_audit import Audit, Uses, audit_block, crossed, one_use
from simulator.world.core import USAGE_INTERVAL_S

if TYPE_CHECKING:
    import numpy.typing as npt
    from pydantic import BaseModel

    from simulator.world.batch import Batch
    from simulator.world.bulk import Cohort

__all__ = ["count"]


def count(cohort: Cohort, uses: Uses, batch: Batch, end: float) -> None:
    """Count the window's `uses` (sorted by time) and add their usage records and audit."""
    platform = cohort.world.platform
    billing, _ = platform.columns
    if billing.cycle_end < end:
        _one_by_one(cohort, uses, batch)
        return
    split = _split(cohort, uses)
    if _passes_threshold(cohort, uses, split):
        _one_by_one(cohort, uses, batch)
    else:
        _in_columns(cohort, uses, batch, split)


def _runs(member: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """For each use, the index of the first use of its device's run (uses of one instant)."""
    first = np.ones(len(member), dtype=bool)
    first[1:] = member[1:] != member[:-1]
    return np.maximum.accumulate(np.where(first, np.arange(len(member)), 0))


def _split(cohort: Cohort, uses: Uses) -> dict[str, npt.NDArray[np.generic]]:
    """Which uses count as test data, which cross the test quota, which count as billed data."""
    platform = cohort.world.platform
    sims = platform.sims
    member = uses["member"].astype(np.intp)
    nbytes = uses["nbytes"].astype(np.int64)
    rows = cohort.rows[member]
    testing = sims["state"][rows] == int(SimState.TEST_READY)
    if not testing.any():  # none on its test: every use is billed
        none = np.zeros(len(member), dtype=bool)
        return {"rows": rows, "test": none, "crossing": none, "billed": ~none}
    quotas = np.array([s.test_quota for s in platform.settings], dtype=np.int64)
    quota = quotas[sims["account"][rows]]
    cum = np.cumsum(np.where(testing, nbytes, 0))
    runs = _runs(member)
    in_run = cum - (cum[runs] - np.where(testing, nbytes, 0)[runs])
    reached = testing & (sims["test_usage"][rows].astype(np.int64) + in_run >= quota)
    earlier = np.zeros(len(member), dtype=bool)
    earlier[1:] = reached[:-1] & (runs[1:] == runs[:-1])
    crossing = reached & ~earlier
    return {
        "rows": rows,
        "test": testing & ~reached,
        "crossing": crossing,
        "billed": ~testing | (reached & earlier),
    }


def _pool_codes(
    cohort: Cohort, member: npt.NDArray[np.generic]
) -> tuple[list[tuple[int, int] | None], npt.NDArray[np.intp]]:
    """The pools the members' SIMs count in (None: a plan per SIM), and each one's among them."""
    unique, inverse = np.unique(cohort.pool_code[member.astype(np.intp)], return_inverse=True)
    keys = [None if c < 0 else (int(c) >> 32, int(c) & 0xFFFFFFFF) for c in unique.tolist()]
    return keys, inverse.ravel()


def _passes_threshold(
    cohort: Cohort, uses: Uses, split: dict[str, npt.NDArray[np.generic]]
) -> bool:
    """Whether the window's billed data passes a usage threshold of a SIM or a pool."""
    platform = cohort.world.platform
    rules = list(platform.rules.on(Trigger.USAGE_THRESHOLD))
    billed = split["billed"]
    if not rules or not billed.any():
        return False
    billing, _ = platform.columns
    sims = platform.sims
    rows = split["rows"][billed].astype(np.int64)
    nbytes = uses["nbytes"][billed].astype(np.int64)
    keys, code = _pool_codes(cohort, uses["member"][billed])
    pooled = np.array([k is not None for k in keys], dtype=bool)[code]
    # what counts against one limit: a pool (by its code, below 0) or a SIM (by its row)
    _, first, inverse = np.unique(
        np.where(pooled, -1 - code, rows), return_index=True, return_inverse=True
    )
    added = np.zeros(len(first), dtype=np.int64)
    np.add.at(added, inverse.ravel(), nbytes)
    held = rows[first]
    before = sims["usage"][held].astype(np.int64)
    shares = np.ones(len(first), dtype=np.int64)
    for j in np.flatnonzero(pooled[first]).tolist():
        before[j], shares[j] = billing.counted(int(held[j]))
    allowances = np.array([p.allowance for p in platform.rate_plans], dtype=np.int64)
    allowance = allowances[sims["rate_plan"][held].astype(np.intp)]
    after = before + added
    for rule in rules:
        level = (rule.rule.percent or 0.0) / 100 * allowance * shares
        if ((before < level) & (level <= after)).any():
            return True
    return False


def _in_columns(
    cohort: Cohort, uses: Uses, batch: Batch, split: dict[str, npt.NDArray[np.generic]]
) -> None:
    platform = cohort.world.platform
    billing, _ = platform.columns
    sims = platform.sims
    rows = split["rows"]
    nbytes = uses["nbytes"].astype(np.int64)
    test, billed, crossing = split["test"], split["billed"], split["crossing"]
    report = uses["report"].astype(bool)
    _add(sims["test_usage"], rows, nbytes, test.astype(bool), report)
    _add(sims["usage"], rows, nbytes, billed.astype(bool), report)
    keys, code = _pool_codes(cohort, uses["member"])
    pool_after = np.zeros(len(rows), dtype=np.int64)
    for k, key in enumerate(keys):  # each pool's count after each use, in time order
        if key is None:
            continue
        mine = code == k
        added = np.cumsum(np.where(billed[mine], nbytes[mine], 0))
        pool_after[mine] = billing.pool_used(key) + added
        billing.add_pool_usage(key, int(added[-1]))
    crossed(cohort, uses, np.flatnonzero(crossing).tolist(), batch)
    _usage_records(cohort, uses, batch, pool_after)


def _add(
    column: npt.NDArray[np.generic],
    rows: npt.NDArray[np.generic],
    nbytes: npt.NDArray[np.int64],
    mask: npt.NDArray[np.bool_],
    report: npt.NDArray[np.bool_],
) -> None:
    """Add the `mask`ed uses' bytes to their rows: reports, then connections.

    A device has one of each at most in a window, so neither kind repeats a row.
    """
    for kind in (report, ~report):
        pick = mask & kind
        column[rows[pick]] += nbytes[pick].astype(column.dtype)


def _one_by_one(cohort: Cohort, uses: Uses, batch: Batch) -> None:
    """Every use through `Platform.record_usage`, in time order, its record right after."""
    audit: Audit = []
    records: list[BaseModel | None] = []
    for i in range(len(uses["member"])):
        m, t = int(uses["member"][i]), float(uses["t"][i])
        captured = one_use(cohort, m, int(uses["nbytes"][i]), t)
        records.append(_usage_record(cohort, m, t, None) if uses["report"][i] else None)
        if captured:
            audit.append((m, t, int(uses["step"][i]), captured))
    _record_block(cohort, uses, batch, records)
    audit_block(audit, batch)


def _usage_record(cohort: Cohort, m: int, t: float, pool_bytes: int | None) -> BaseModel | None:
    """The interim usage record a report at `t` brings, if its session's last is an hour old."""
    if t - cohort.reported_at[m] < USAGE_INTERVAL_S:
        return None
    delta = int(cohort.sbytes[m] - cohort.reported_bytes[m])
    cohort.reported_bytes[m] = cohort.sbytes[m]
    cohort.reported_at[m] = t
    if delta <= 0:
        return None
    platform = cohort.world.platform
    iccid = cohort.iccids[m]
    pool = platform.pool(iccid)
    standing = platform.standing(iccid) if pool is not None else None
    return UsageReported(
        t=cohort.world.output.ts(t),
        iccid=iccid,
        imei=cohort.imeis[m],
        bytes=delta,
        cycle_bytes=platform.usage(iccid),
        allowance=platform.rate_plan(iccid).allowance,
        pool=pool,
        pool_bytes=None
        if standing is None
        else (standing.used if pool_bytes is None else pool_bytes),
        pool_allowance=None if standing is None else standing.allowance,
    )


def _usage_records(
    cohort: Cohort, uses: Uses, batch: Batch, pool_after: npt.NDArray[np.int64]
) -> None:
    """The window's usage records, as columns: `_usage_record` for every report at once.

    A device reports at most once a window (its reports are a minute apart at least),
    so each record's device is its own.
    """
    report = np.flatnonzero(uses["report"])
    member = uses["member"][report].astype(np.intp)
    t = uses["t"][report].astype(np.float64)
    due = t - cohort.reported_at[member] >= USAGE_INTERVAL_S
    report, member, t = report[due], member[due], t[due]
    if len(np.unique(member)) != len(member):
        raise SimulatorError("a cohort device reported twice in one window")
    delta = cohort.sbytes[member] - cohort.reported_bytes[member]
    cohort.reported_bytes[member] = cohort.sbytes[member]
    cohort.reported_at[member] = t
    sent = delta > 0
    report, member, t, delta = report[sent], member[sent], t[sent], delta[sent]
    if not len(member):
        return
    platform = cohort.world.platform
    billing, _ = platform.columns
    rows = cohort.rows[member]
    plan = platform.sims["rate_plan"][rows].astype(np.intp)
    allowance = np.array([p.allowance for p in platform.rate_plans], dtype=np.int64)[plan]
    keys, code = _pool_codes(cohort, member)
    names: list[str | None] = []
    shares = np.zeros(len(keys), dtype=np.int64)
    for k, key in enumerate(keys):
        names.append(
            None if key is None else platform.pool(cohort.iccids[int(member[code == k][0])])
        )
        shares[k] = 0 if key is None else billing.counted(int(rows[code == k][0]))[1]
    pooled = np.array([key is not None for key in keys], dtype=bool)[code]
    columns = {
        "v": 1, "t": cohort.ts(t), "kind": "usage",
        "iccid": Coded(member, cohort.iccids), "imei": Coded(member, cohort.imeis),
        "bytes": delta.astype(np.int64),
        "cycle_bytes": platform.sims["usage"][rows].astype(np.int64),
        "allowance": allowance, "pool": Coded(code, names),
        "pool_bytes": Masked(pool_after[report], pooled),
        "pool_allowance": Masked(allowance * shares[code], pooled),
    }  # fmt: skip
    batch.blocks.append(
        Block(
            "usage", t, member.astype(np.int64), USAGE, UsageReported, columns,
            cohort.accounts_of(member),
        )
    )  # fmt: skip


def _record_block(
    cohort: Cohort, uses: Uses, batch: Batch, records: list[BaseModel | None]
) -> None:
    at = [i for i, r in enumerate(records) if r is not None]
    if not at:
        return
    index = np.array(at, dtype=np.intp)
    kept = [records[i] for i in at]
    member = uses["member"][index].astype(np.int64)

    def build(i: int) -> tuple[BaseModel, str]:
        message = kept[i]
        assert message is not None
        return message, cohort.account(int(member[i]))

    t = uses["t"][index].astype(np.float64)
    batch.blocks.append(Block("usage", t, member, USAGE, build=build))
