"""What the platform says when a cohort's SIMs run out of test data: its audit after each use.

The use that runs a SIM's test quota out goes through `Platform.record_usage` at
the use's time, which moves the SIM and writes the audit. Its messages (the state
change, then the SIM's record as of that use) follow the use, a step after it, as
they follow a device process's report. When each such use made exactly one entry,
a state change of its own SIM that the world does not act on, the window's audit
goes out as two blocks of columns (`StateChanged`, `SimRecord`). Anything else (a
rule that fired, a sweep, a SIM losing service) goes through `Output.flush_platform`
use by use, as it would beside device processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from protocol.messages import StateChanged
from simulator.errors import SimulatorError
from simulator.platform.audit import NONE, AuditEntry, AuditField
from simulator.platform.lifecycle import Actor
from simulator.world.batch import Block, Coded
from simulator.world.records import STATE_NAMES, records

if TYPE_CHECKING:
    import numpy.typing as npt
    from pydantic import BaseModel

    from simulator.world.batch import Batch
    from simulator.world.bulk import Cohort

__all__ = ["Audit", "Uses", "audit_block", "crossed", "one_use"]

Uses = dict[str, "npt.NDArray[np.generic]"]
"""A window's data uses as columns (member, t, nbytes, step, report), in time order."""

Audit = list[tuple[int, float, int, list[tuple["BaseModel", str]]]]
"""Each use's member, time, step and the audit's messages it made."""

_ACTORS = [a.name.lower() for a in sorted(Actor)]


class _Capture:
    """A sink that keeps what the platform's audit turns into messages, to order them."""

    def __init__(self) -> None:
        self.messages: list[tuple[BaseModel, str]] = []

    def write(self, message: BaseModel, account: str | None) -> None:
        self.messages.append((message, account or ""))


def crossed(
    cohort: Cohort, uses: dict[str, npt.NDArray[np.generic]], picked: list[int], batch: Batch
) -> None:
    """Count the uses `picked` (each running a test quota out) on the platform, with their audit."""
    world = cohort.world
    platform, output = world.platform, world.output
    member, t, step = uses["member"], uses["t"], uses["step"]
    first = len(platform.audit)
    counted: list[int] = []
    bounds: list[int] = []
    clean = output.audit_seen == first
    for i in picked:
        m = int(member[i])
        try:
            platform.record_usage(cohort.iccids[m], int(uses["nbytes"][i]), now=float(t[i]))
        except SimulatorError:  # no data service: the network drops it uncounted
            continue
        counted.append(i)
        bounds.append(len(platform.audit))
    entries = [platform.audit.entry(s) for s in range(first, len(platform.audit))]
    if clean and _own_moves(cohort, member[counted].astype(np.intp), t[counted], entries):
        _moves_as_columns(cohort, uses, counted, entries, batch)
        output.published(len(platform.audit))
        return
    audit: Audit = []
    for i, bound in zip(counted, bounds, strict=True):
        captured = _flushed(cohort, float(t[i]), bound)
        if captured:
            audit.append((int(member[i]), float(t[i]), int(step[i]), captured))
    audit_block(audit, batch)


def _own_moves(
    cohort: Cohort,
    member: npt.NDArray[np.intp],
    t: npt.NDArray[np.generic],
    entries: list[AuditEntry],
) -> bool:
    """Whether each use made one entry: its SIM's state change at its time, the world unmoved."""
    if len(entries) != len(member):
        return False
    rows = cohort.rows[member].tolist()
    times = t.tolist()
    return all(
        e.field is AuditField.STATE and e.old != NONE and e.count == 1 and e.first == row
        and e.time == at and not cohort.world.acts_on(e)
        for e, row, at in zip(entries, rows, times, strict=True)
    )  # fmt: skip


def _moves_as_columns(
    cohort: Cohort,
    uses: Uses,
    counted: list[int],
    entries: list[AuditEntry],
    batch: Batch,
) -> None:
    """The state changes and the records after them, a step after each use, as columns."""
    platform = cohort.world.platform
    index = np.array(counted, dtype=np.intp)
    member = uses["member"][index].astype(np.intp)
    t = uses["t"][index].astype(np.float64)
    steps = uses["step"][index]
    seen = platform.sims["imei"][cohort.rows[member]].tolist()
    reasons = sorted({e.reason for e in entries})
    for step in np.unique(steps).tolist():
        mine = np.flatnonzero(steps == step)
        m, at = member[mine], t[mine]
        own = np.arange(len(mine), dtype=np.intp)
        picked = [entries[k] for k in mine.tolist()]
        columns = {
            "v": 1, "t": cohort.ts(at), "kind": "state_change",
            "iccid": Coded(m, cohort.iccids),
            "imei": Coded(own, [f"{seen[k]:015d}" if seen[k] else None for k in mine.tolist()]),
            "old": Coded(np.array([e.old for e in picked], dtype=np.intp), STATE_NAMES),
            "new": Coded(np.array([e.new for e in picked], dtype=np.intp), STATE_NAMES),
            "actor": Coded(np.array([int(e.actor) for e in picked], dtype=np.intp), _ACTORS),
            "reason": Coded(
                np.array([reasons.index(e.reason) for e in picked], dtype=np.intp), reasons
            ),
        }  # fmt: skip
        device = m.astype(np.int64)
        accounts = cohort.accounts_of(m)
        batch.blocks.append(
            Block("state_change", at, device, int(step), StateChanged, columns, accounts)
        )
        iccids = [cohort.iccids[k] for k in m.tolist()]
        record = records(cohort.world.output, iccids, at, step=int(step), rows=cohort.rows[m])
        record.device = device
        batch.blocks.append(record)


def one_use(cohort: Cohort, m: int, nbytes: int, t: float) -> list[tuple[BaseModel, str]]:
    """One use through the platform; the messages its audit makes, kept to be ordered."""
    try:
        cohort.world.platform.record_usage(cohort.iccids[m], nbytes, now=t)
    except SimulatorError:  # no data service: the network drops it uncounted
        return []
    return _flushed(cohort, t, None)


def _flushed(cohort: Cohort, t: float, upto: int | None) -> list[tuple[BaseModel, str]]:
    """The audit's messages so far (or before entry `upto`), with records as of `t`."""
    output = cohort.world.output
    sink, capture = output.sink, _Capture()
    output.sink = capture
    try:
        output.flush_platform(at=t, upto=upto)
    finally:
        output.sink = sink
    output.messages -= len(capture.messages)  # counted again with the batch
    return capture.messages


def audit_block(audit: Audit, batch: Batch) -> None:
    """The audit's messages, each after the use that made it (a step after that use's)."""
    flat = [(m, t, step, message) for m, t, step, messages in audit for message in messages]
    if not flat:
        return
    member = np.array([f[0] for f in flat], dtype=np.int64)
    t = np.array([f[1] for f in flat])
    # steps: the audit goes right after the use; messages of one use keep their order
    for step in sorted({f[2] for f in flat}):
        picked = [k for k, f in enumerate(flat) if f[2] == step]
        messages = [flat[k][3] for k in picked]
        batch.blocks.append(
            Block("audit", t[picked], member[picked], step, build=messages.__getitem__)
        )
