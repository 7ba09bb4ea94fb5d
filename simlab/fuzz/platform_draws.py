"""Drawing what the platform and networks hold beside the fleet: pools, cores, grants, batteries.

Four dimensions of `simlab.fuzz.draw`, each leaving the others alone: a group's rate
plan shared as one data pool by all its SIMs (`pooled`, so a used-up pool blocks every
SIM in it); the core network's cause table (`core: simple|annex-a`); home networks
that grant PSM devices a shorter periodic TAU timer than they ask (`psm_max_t3412`);
and battery-powered devices that start the run part-empty (`battery_pct`), some so
low that they run out by themselves before it ends (the world's truth then says so,
and the timeline keeps those devices free of other faults from then on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from simlab.fuzz.draft import span
from simulator.world.spec import parse_duration

if TYPE_CHECKING:
    from simlab.fuzz.draft import Draft

__all__ = ["draw_batteries", "draw_core", "draw_pools", "draw_psm_grants"]

H: Final = 3600.0
IDLE_DRAIN_PCT_H: Final = 0.01
REPORT_DRAIN_PCT: Final = 0.05
"""What a healthy battery loses idle an hour and with each report (`simulator.world.device`)."""
DRAIN_MARGIN: Final = 0.8
"""A device may run out this much sooner than its schedule says (retries, keep-alives)."""


def draw_pools(d: Draft) -> None:
    """Sometimes a group's SIMs share their rate plan's allowance as one pool (maybe capped)."""
    for g in d.groups:
        if g.spec["count"] < 2 or d.rng.random() >= 0.25:
            continue
        rate = next(r for r in d.rates if r["name"] == g.rate)
        rate["pooled"] = True
        if "overage_limit" in rate and d.rng.random() < 0.5:
            rate["overage_limit"] = "0 MB"  # nothing past the pool's allowance
        g.pool = f"{g.account}/{g.rate}"
        d.notes.append(f"Group {g.spec['name']}'s {g.spec['count']} SIMs share the pool {g.pool}.")


def draw_core(d: Draft) -> None:
    """The core network's profile: one cause a problem, or TS 29.272 Annex A as Open5GS maps it."""
    d.core = d.rng.choices(("simple", "annex-a"), (2, 1))[0]
    if d.core != "simple":
        d.notes.append(f"The core network answers as {d.core} cores do.")


def draw_psm_grants(d: Draft) -> None:
    """Sometimes a home network grants sleeping devices less than the periodic TAU they ask."""
    assert d.home is not None
    asked = [
        float(parse_duration(g.spec["report_interval"]))  # type: ignore[arg-type]
        for g in d.groups
        if g.spec.get("psm")
    ]
    if not asked:
        return
    for operator in d.operators:
        if operator["country"] != d.home.iso or d.rng.random() >= 0.35:
            continue
        shorter = [t for t in (1 * H, 3 * H, 4 * H, 10 * H) if t < max(asked)]
        operator["psm_max_t3412"] = span(d.rng.choice(shorter))
        d.notes.append(
            f"{operator['name']} grants sleeping devices at most {operator['psm_max_t3412']}."
        )


def draw_batteries(d: Draft) -> None:
    """Sometimes a battery-powered group starts part-empty; the lowest run out in the run."""
    for g in d.groups:
        if "battery_mah" not in g.spec or d.rng.random() >= 0.4:
            continue
        pct = d.rng.choice((4, 9, 20, 45, 80))
        g.spec["battery_pct"] = pct
        interval = float(parse_duration(g.spec["report_interval"]))  # type: ignore[arg-type]
        per_hour = IDLE_DRAIN_PCT_H + REPORT_DRAIN_PCT * H / interval
        empty = pct / per_hour * H
        if DRAIN_MARGIN * empty < d.duration:
            d.reserve(g.ids, DRAIN_MARGIN * empty, d.duration)
            d.notes.append(f"Group {g.spec['name']} starts at {pct}% and runs out on the way.")
        else:
            d.notes.append(f"Group {g.spec['name']}'s batteries start at {pct}%.")
