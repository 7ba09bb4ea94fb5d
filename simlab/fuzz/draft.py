"""A generated world while it is being drawn: the scenario's parts as plain dicts.

`Draft` holds what the dimensions of `simlab.fuzz.draw` fill in, in the order
they run: the customer file, networks, device groups, the timeline (faults,
swaps) and support's actions. `scenario` turns it into a scenario dict that
`simlab.scenario` loads like a file of `scenarios/` (the answer key is added
after the world has run, from its ground truth: `simlab.fuzz.answers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from protocol.identifiers import Iccid, Imei

if TYPE_CHECKING:
    import random

    from simlab.fuzz.places import Country, Industry

__all__ = ["Draft", "Group", "span"]


def span(seconds: float) -> str:
    """A duration as scenario files write it: 90s, 15m, 6h, 2d (whole units only)."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


@dataclass(slots=True)
class Group:
    """A device group being drawn, with what the timeline needs to know of it."""

    spec: dict[str, Any]
    industry: Industry
    account: str
    plan: str
    rate: str
    imsi: str
    state: str = "ACTIVATED"
    imei_lock: bool = False
    cell: int = 0
    """The cell the group is installed under (it offers the group's radio)."""
    pool: str | None = None
    """The shared data pool (`account/rate plan`) its SIMs count against, on a pooled plan."""

    @property
    def ids(self) -> list[str]:
        """The device ids of the group (as `id_format` gives them)."""
        name, count = self.spec["name"], self.spec["count"]
        return [f"{name}-{n:04d}" for n in range(1, count + 1)]

    def has(self, device_id: str) -> bool:
        """Whether the device is one of `ids` (without making them all)."""
        name, _, number = device_id.rpartition("-")
        if name != self.spec["name"] or not (number.isascii() and number.isdigit()):
            return False
        n = int(number)
        return 1 <= n <= self.spec["count"] and device_id == f"{name}-{n:04d}"


@dataclass(slots=True)
class Draft:
    """One world being drawn (see the module)."""

    seed: int
    rng: random.Random
    start: datetime = field(default_factory=lambda: datetime(2026, 4, 6, tzinfo=UTC))
    duration: float = 86_400.0
    home: Country | None = None
    abroad: list[Country] = field(default_factory=list)
    company: str = ""
    operators: list[dict[str, Any]] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    rates: list[dict[str, Any]] = field(default_factory=list)
    tunnels: list[dict[str, Any]] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    swaps: list[dict[str, Any]] = field(default_factory=list)
    rollouts: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    interventions: list[dict[str, Any]] = field(default_factory=list)
    fault_rates: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    message_loss: float = 0.0
    core: str = "simple"
    reserved: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Times devices are taken by something other than a fault on the timeline (a battery
    that runs out by itself, a SIM moved in, a rollout), kept free of faults."""
    incidents: list[dict[str, Any]] = field(default_factory=list)
    """The groups the faults strike (dimension, value, start): incidents the key may expect."""
    swap_verdict: str | None = None
    """What the world's swap test must show, when it has one."""
    notes: list[str] = field(default_factory=list)
    """What was drawn, in words, for the scenario's story."""
    _next_sim: int = 0

    def identities(self, count: int) -> tuple[str, str, str]:
        """First ICCID, IMEI and IMSI of `count` fresh consecutive SIMs and devices."""
        base = 100_000 * (1 + self._next_sim)
        self._next_sim += 1 + count // 100_000
        iccid = Iccid.from_body(f"89462000{self.seed % 10**4:04d}{base:06d}")
        imei = Imei.from_body(f"35{self.seed % 10**5:05d}{base:07d}")
        imsi = f"24007{self.seed % 10**4:04d}{base:06d}"
        return str(iccid), str(imei), imsi

    def reserve(self, devices: list[str], start: float, end: float) -> None:
        """Keep `devices` free of faults from `start` to `end` (see `reserved`)."""
        for device in devices:
            self.reserved.setdefault(device, []).append((start, end))

    def group_of(self, device: str) -> Group:
        """The group `device` belongs to."""
        return next(g for g in self.groups if device in g.ids)

    def devices(self) -> list[str]:
        """Every device id of the world."""
        return [i for g in self.groups for i in g.ids]

    def customer(self) -> dict[str, Any]:
        """The customer file."""
        ranges = [
            {
                "first_iccid": g.spec["first_iccid"],
                "count": g.spec["count"],
                "account": g.account,
                "communication_plan": g.plan,
                "rate_plan": g.rate,
                "first_imsi": g.imsi,
                "state": g.state,
                "imei_lock": g.imei_lock,
            }
            for g in self.groups
        ]
        return {
            "customer": self.company,
            "accounts": self.accounts,
            "communication_plans": self.plans,
            "rate_plans": self.rates,
            "tunnels": self.tunnels,
            "sim_ranges": ranges,
        }

    def world(self) -> dict[str, Any]:
        """The world, as a scenario file writes it."""
        return {
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "seed": self.seed,
            "customer": self.customer(),
            "operators": self.operators,
            "cells": self.cells,
            "devices": [g.spec for g in self.groups],
            "faults": [{k: v for k, v in f.items() if not k.startswith("_")} for f in self.faults],
            "swaps": self.swaps,
            "rollouts": self.rollouts,
            "moves": self.moves,
            "interventions": self.interventions,
            "fault_rates": self.fault_rates,
            "message_loss": self.message_loss,
            "core": self.core,
        }

    def scenario(self, answer_key: dict[str, Any]) -> dict[str, Any]:
        """The whole scenario: story, world, run, actions and `answer_key`."""
        moment = self.start + timedelta(seconds=self.duration)
        return {
            "title": f"Generated world {self.seed}",
            "summary": f"A generated world: {self.company}, {len(self.devices())} devices.",
            "story": "\n".join(
                [
                    (
                        f"A world drawn at random (seed {self.seed}), "
                        f"run until {moment:%Y-%m-%d %H:%M}."
                    ),
                    *self.notes,
                ]
            ),
            "users": ["qa"],
            "tags": ["generated"],
            "world": self.world(),
            "run": {"duration": span(self.duration)},
            "actions": self.actions,
            "answer_key": answer_key,
        }
