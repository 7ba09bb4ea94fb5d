"""Scoring a generated world's incidents: which were spurious, which were missed.

An incident is spurious unless a fault struck that group (a cell of a struck operator is
struck with it; so is the firmware of a group whose retries break GSMA TS.34's limits when
the network refuses it: its devices' conduct is that version's trouble, which the service is
right to group, and so is a version a fault brought); one is missed when the answer key
expects it and the service never opened it. Groups no device told apart are one scope: an
operator whose devices all reported through one cell (or with a single cell in the world)
and that cell, a pool and the account whose every SIM it holds, a version a fault brought
and the one it replaced.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

    from simlab.fuzz.runner import Observed
    from simlab.fuzz.score import WorldCard
    from simulator.world.truth import TruthRecord

__all__ = [
    "FIRMWARE_BORNE",
    "UPDATE_SLACK_S",
    "absolute_truth",
    "brought_versions",
    "score_incidents",
]

FIRMWARE_BORNE: Final = frozenset({"wrong_apn", "firmware_hang", "reconnect_storm"})
"""Faults a firmware version can bring with it (`simlab.fuzz.timeline.FIRMWARE_WIDE`)."""
UPDATE_SLACK_S: Final = 120.0
"""A fault that began this close to an update to a version is that version's."""


def absolute_truth(observed: Observed) -> list[TruthRecord]:
    """The world's truth records in Unix seconds (they are kept from its start)."""
    t0 = observed.t0
    return [
        replace(r, start=t0 + r.start, end=None if r.end is None else t0 + r.end)
        for r in observed.result.truth
    ]


def _scopes(
    observed: Observed, cells: dict[str, list[tuple[str, str]]], brought: dict[str, str | None]
) -> Callable[[str, object], tuple[str, str]]:
    """The scope a group is scored as, where no device told it from another (see module).

    An operator heard through one cell only (of its `cells`) is that cell; a version that
    brought a fault over one other (`brought`) is that one (the fault's scope); a pool that
    holds an account's every SIM is that account.
    """
    pools: dict[str, set[str]] = {}
    accounts: dict[str, set[str]] = {}
    for g in observed.draft.groups:
        accounts.setdefault(g.account, set()).update(g.ids)
        if g.pool is not None:
            pools.setdefault(g.pool, set()).update(g.ids)
    whole = {p: a for p, ids in pools.items() for a, held in accounts.items() if held == ids}
    heard: dict[str, set[tuple[str, str]]] = {}
    for reports in observed.stream.reports.values():
        for r in reports:
            heard.setdefault(r.operator, set()).add(("cell", str(r.cell)))

    def scope(dimension: str, value: object) -> tuple[str, str]:
        if dimension == "firmware" and brought.get(str(value)):
            return ("firmware", brought[str(value)] or str(value))
        if dimension == "pool" and str(value) in whole:
            return ("account", whole[str(value)])
        only = heard.get(str(value)) or set(cells.get(str(value), []))
        if dimension == "operator" and len(only) == 1:
            return next(iter(only))
        return (dimension, str(value))

    return scope


def _cells(observed: Observed) -> dict[str, list[tuple[str, str]]]:
    """Each operator's cells in the world."""
    cells: dict[str, list[tuple[str, str]]] = {}
    for cell in observed.draft.cells:
        cells.setdefault(str(cell["operator"]), []).append(("cell", str(cell["id"])))
    return cells


def score_incidents(observed: Observed, card: WorldCard) -> None:
    """Count the spurious and the missed incidents of the world on `card` (see module)."""
    cells, brought = _cells(observed), brought_versions(observed)
    scope = _scopes(observed, cells, brought)
    struck = {scope(g["dimension"], g["value"]) for g in observed.draft.incidents}
    struck |= {  # a cell of a struck operator is struck with it
        c
        for g in observed.draft.incidents
        if g["dimension"] == "operator"
        for c in cells.get(str(g["value"]), [])
    }
    struck |= {  # a firmware that ignores the network's back-off when refused
        ("firmware", str(g.spec["firmware"]))
        for g in observed.draft.groups
        if g.spec.get("retry", "ts34") != "ts34"
    }
    struck |= {scope("firmware", v) for v in brought}
    expected = {scope(i["dimension"], i["value"]) for i in observed.key["incidents"]}
    opened = {scope(i["dimension"], i["value"]) for i in observed.incidents}
    for dimension, value in sorted(opened - struck - expected):
        card.spurious_incidents += 1
        card.fail(f"spurious {dimension} incident", f"{dimension}={value}")
    for dimension, value in sorted(expected - opened):
        card.missed_incidents += 1
        card.fail(f"missed {dimension} incident", f"{dimension}={value}")


def brought_versions(observed: Observed) -> dict[str, str | None]:
    """Firmware versions that brought a fault: every SIM updated to one was struck then.

    A wrong APN is written by the version that carries it (the simulator installs one for
    the devices it strikes, a subset or all of a version), a hang by the rollout's: every
    device running that version has the trouble, which is the version's, however the
    draw scoped it. Each maps to the one version its devices ran before (None: several).
    """
    began: dict[str, list[float]] = {}
    for record in absolute_truth(observed):
        if record.fault.value in FIRMWARE_BORNE and record.iccid is not None:
            began.setdefault(record.iccid, []).append(record.start)
    ran: dict[str, list[tuple[float, str]]] = {}
    for reports in observed.stream.reports.values():
        for report in reports:
            ran.setdefault(report.iccid, []).append((report.t, report.firmware))
    updated: dict[str, list[bool]] = {}
    before: dict[str, set[str]] = {}
    for iccid, updates in observed.stream.updates.items():
        for t, version in updates:
            struck = any(abs(start - t) <= UPDATE_SLACK_S for start in began.get(iccid, []))
            updated.setdefault(version, []).append(struck)
            earlier = [v for s, v in ran.get(iccid, []) if s < t and v != version]
            before.setdefault(version, set()).update(earlier[-1:])
    return {
        v: next(iter(before[v])) if len(before[v]) == 1 else None
        for v, struck in updated.items()
        if all(struck)
    }
