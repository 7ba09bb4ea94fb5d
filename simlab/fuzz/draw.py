"""Drawing a world: one function per dimension of what can differ between worlds.

`draw(seed)` runs the dimensions in order on a `Draft`, each with the draft's
own seeded random generator, so the same seed always draws the same world.
A new dimension of the format is one more function in `DIMENSIONS`, drawing its
part and leaving the others alone. Pooled plans, core profiles, PSM grants and
starting battery levels are drawn in `simlab.fuzz.platform_draws`; faults, swaps
and support actions in `simlab.fuzz.timeline` (a fault added to the catalogue is
drawn from it as it is); rollouts, interventions and SIMs moved into other devices
in `simlab.fuzz.changes`.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import TYPE_CHECKING, Any, Final

from simlab.fuzz.changes import draw_interventions, draw_moves, draw_rollouts
from simlab.fuzz.draft import Draft, Group, span
from simlab.fuzz.places import COUNTRIES, INDUSTRIES, NEIGHBOURS
from simlab.fuzz.platform_draws import draw_batteries, draw_core, draw_pools, draw_psm_grants
from simlab.fuzz.timeline import draw_actions, draw_faults, draw_swaps
from simulator.world.retry import REBOOT_WAIT_S, TIGHT_LOOP_WAIT_S

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DIMENSIONS", "MAX_DEVICES", "MAX_STORM", "STORM_GAP_S", "draw"]

MAX_DEVICES: Final = 3000
"""The largest fleet drawn; sizes are log-uniform from 1, so most fleets are small."""
MAX_REPORTS: Final = 25_000
"""A fleet sends at most about this many reports in a run (fewer devices where they are chatty)."""
MAX_STORM: Final = 250_000
"""A group whose firmware storms for the whole run sends at most about this many refusals."""
STORM_GAP_S: Final = {
    "tight_loop": sum(TIGHT_LOOP_WAIT_S) / 2,
    "reboot_on_failure": sum(REBOOT_WAIT_S) / 2,
}
"""How often, on average, misbehaving firmware tries again after a failure."""
H: Final = 3600.0
RADIOS: Final = ("LTE-M", "NB-IoT", "LTE")
_SYLLABLES: Final = ("Nord", "Oster", "Berg", "Lind", "Sol", "Vik", "Dal", "Mar", "Ek", "Holm")


def _run(d: Draft) -> None:
    """How long the world runs: half a day to three days."""
    d.duration = d.rng.choice((12, 18, 24, 36, 48, 72)) * H
    d.start = d.start.replace(day=1 + d.rng.randrange(28), hour=d.rng.randrange(24))


def _country(d: Draft) -> None:
    """The home country, its networks, and the neighbours a device may roam to."""
    d.home = COUNTRIES[d.rng.choice(sorted(COUNTRIES))]
    d.abroad = [COUNTRIES[iso] for iso in NEIGHBOURS[d.home.iso]]
    home_ops = d.home.operators[: d.rng.choice((1, 2))]
    d.operators = [{"mcc_mnc": m, "name": n, "country": d.home.iso} for m, n in home_ops]
    for country in d.abroad[: d.rng.choice((0, 1, 2))]:
        m, n = country.operators[0]
        d.operators.append({"mcc_mnc": m, "name": n, "country": country.iso})
    d.company = d.rng.choice(_SYLLABLES) + d.rng.choice(("a", "e", "o", "")) + " "


def _cells(d: Draft) -> None:
    """Cells around the home town (some offer only some radio types) and across the border."""
    assert d.home is not None
    home = [o for o in d.operators if o["country"] == d.home.iso]
    for n in range(d.rng.randint(1, 5)):
        operator = home[n % len(home)]
        radios = sorted(d.rng.sample(RADIOS, d.rng.randint(1, 3)))
        d.cells.append(_cell(d, 100 + n, operator["mcc_mnc"], d.home.lat, d.home.lon, radios))
    for n, operator in enumerate(o for o in d.operators if o["country"] != d.home.iso):
        # a border town a short trip away: where devices that move can end up
        lat, lon = d.home.lat + 0.4 + 0.2 * n, d.home.lon + 0.5
        d.cells.append(_cell(d, 900 + n, operator["mcc_mnc"], lat, lon, list(RADIOS)))


def _cell(
    d: Draft, cid: int, operator: str, lat: float, lon: float, radios: list[str]
) -> dict[str, Any]:
    return {
        "id": cid,
        "operator": operator,
        "lat": round(lat + d.rng.uniform(-0.05, 0.05), 4),
        "lon": round(lon + d.rng.uniform(-0.05, 0.05), 4),
        "radius_km": d.rng.choice((2, 4, 8)),
        "rsrp_dbm": d.rng.choice((-70, -80, -90)),
        "radio_types": radios,
    }


def _fleet(d: Draft) -> None:
    """One to three device groups of one industry; fleet sizes log-uniform from 1 to MAX."""
    assert d.home is not None
    industry = d.rng.choice(INDUSTRIES)
    d.company += f"{industry.company} AB"
    root = "".join(ch for ch in d.company.lower() if ch.isascii() and ch.isalpha())[:12]
    d.accounts.append({"id": root, "name": d.company, "kind": "enterprise"})
    total = max(1, int(math.exp(d.rng.uniform(0, math.log(MAX_DEVICES)))))
    # chatty fleets stay small enough for the whole run to fit its time
    total = max(1, min(total, int(MAX_REPORTS * min(industry.intervals) / d.duration)))
    sizes = _split(d.rng, total, d.rng.randint(1, 3))
    for n, count in enumerate(sizes):
        account = f"{root}-{n + 1}"
        settings = None
        state = "ACTIVATED"
        if d.rng.random() < 0.15:  # a pilot on test SIMs
            state = "TEST_READY"
            settings = {"test_quota": "50 MB", "after_test": "INVENTORY"}
        entry: dict[str, Any] = {
            "id": account,
            "name": f"{d.company} {n + 1}",
            "kind": "business_unit",
        }
        entry["parent"] = root
        if settings:
            entry["settings"] = settings
        d.accounts.append(entry)
        iccid, imei, imsi = d.identities(count)
        cell = d.rng.choice([c for c in d.cells if c["id"] < 900])  # installed where it is served
        interval = d.rng.choice(industry.intervals)
        model = d.rng.choice(industry.models)
        spec = {
            "name": f"g{n + 1}",
            "count": count,
            "name_format": f"{industry.noun} {n + 1}-{{n}}",
            "first_iccid": iccid,
            "first_imei": imei,
            "model": model,
            "firmware": f"{d.rng.randint(1, 5)}.{d.rng.randint(0, 9)}.{d.rng.randint(0, 9)}",
            "site": d.home.town,
            "time_zone": d.home.time_zone,
            "lat": cell["lat"],
            "lon": cell["lon"],
            "spread_km": round(cell["radius_km"] * d.rng.choice((0.1, 0.3, 0.5)), 2),
            "report_interval": span(interval),
            "report_jitter": span(_jitter(d.rng, interval)),
            "keepalive": span(max(interval * 1.5, 600.0) if not industry.psm else 1200.0),
        }
        if industry.battery:
            spec["battery_mah"] = d.rng.choice((2500, 8000, 19000))
        if industry.psm:
            spec["psm"] = True
        group = Group(spec, industry, account, f"plan-{n + 1}", f"rate-{n + 1}", imsi, state)
        group.cell = cell["id"]
        d.groups.append(group)
    d.notes.append(f"{d.company}: {industry.name} in {d.home.town}, {total} devices.")


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    parts = min(parts, total)
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    edges = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(edges)]


def _jitter(rng: random.Random, interval: float) -> float:
    """Fixed (no jitter), a little, or a lot."""
    share = rng.choice((0.0, 0.02, 0.1, 0.25))
    return float(int(interval * share))


def _radio_and_plans(d: Draft) -> None:
    """Each group's radio (one its home cells offer) and its plans: APNs, networks, limits."""
    assert d.home is not None
    roam = [o["country"] for o in d.operators if o["country"] != d.home.iso]
    for n, g in enumerate(d.groups):
        home = next(c for c in d.cells if c["id"] == g.cell)
        radio = d.rng.choice(home["radio_types"])  # one its own cell offers
        g.spec["radio"] = radio
        allowed = sorted({radio, *d.rng.sample(RADIOS, d.rng.randint(0, 2))})
        networks = [{"country": d.home.iso}]
        networks += [{"country": c} for c in roam if d.rng.random() < 0.5]
        apns: list[dict[str, Any]] = [{"name": "internet.m2m"}]
        if d.rng.random() < 0.3:  # a private APN behind the customer's own tunnel
            tunnel = f"dc{n + 1}"
            private = f"{g.account}.private"
            apns.insert(0, {"name": private, "private": True, "tunnel": tunnel})
            d.tunnels.append(
                {"name": tunnel, "peer": f"203.0.113.{10 + n}", "subnets": [f"10.{70 + n}.0.0/16"]}
            )
            g.spec["apn"] = private
        else:
            g.spec["apn"] = "internet.m2m"
        d.plans.append(
            {
                "name": g.plan,
                "services": ["data"],
                "apns": apns,
                "networks": networks,
                "radio_types": allowed,
            }
        )
        rate: dict[str, Any] = {
            "name": g.rate,
            "allowance": d.rng.choice(("5 MB", "50 MB", "1 GB")),
        }
        if d.rng.random() < 0.6:
            rate["overage_limit"] = "100 MB"
        d.rates.append(rate)
        if d.rng.random() < 0.2:
            g.imei_lock = True


def _mobility(d: Draft) -> None:
    """Devices that move: each alone (a walk), or together along waypoints, maybe abroad."""
    foreign = [c for c in d.cells if c["id"] >= 900]
    for g in d.groups:
        if g.industry.moves == "walk":
            g.spec["mobility"] = {
                "walk_km_per_day": d.rng.choice((1, 3, 10)),
                "walk_radius_km": d.rng.choice((2, 5, 20)),
            }
        elif g.industry.moves == "convoy" and d.rng.random() < 0.7:
            leave = d.rng.uniform(0.2, 0.7) * d.duration
            target = d.rng.choice(foreign) if foreign and d.rng.random() < 0.5 else None
            if target is None:  # a trip out of every cell's reach and back
                far = (g.spec["lat"] + 1.5, g.spec["lon"] + 1.5)
            else:
                far = (target["lat"], target["lon"])
            points = [
                {"at": span(int(leave // 60) * 60), "lat": g.spec["lat"], "lon": g.spec["lon"]},
                {"at": span(int((leave + 3 * H) // 60) * 60), "lat": far[0], "lon": far[1]},
            ]
            g.spec["mobility"] = {"waypoints": points}
            g.spec["spread_km"] = 0
            d.notes.append(f"Group {g.spec['name']} travels together from {points[0]['at']}.")


def _firmware_behaviour(d: Draft) -> None:
    """How each group's firmware retries, how much it sends, and whether its login is right."""
    for g in d.groups:
        g.spec["retry"] = d.rng.choices(("ts34", "tight_loop", "reboot_on_failure"), (8, 1, 1))[0]
        g.spec["report_bytes"] = d.rng.choice((60, 200, 400, 1200))
        private = g.spec["apn"] != "internet.m2m"
        if private and d.rng.random() < 0.1:  # set up with the wrong login from day one
            g.spec["apn_credentials_ok"] = False
            _storm_budget(d, g)


def _storm_budget(d: Draft, g: Group) -> None:
    """A group refused from its first minute storms all run long: size it so the run fits.

    The same rule as a chatty fleet's: what a device sends counts toward the run's
    budget, and a firmware retrying every few seconds sends one refusal each time
    (at most `MAX_STORM` in all: a few thousand such devices for three days would
    be tens of millions of messages, the run of hours, and no more telling).
    """
    gap = STORM_GAP_S.get(g.spec["retry"])
    if gap is None:
        return
    fits = max(1, int(MAX_STORM * gap / d.duration))
    drawn = g.spec["count"]
    if drawn > fits:
        d.notes.append(
            f"Group {g.spec['name']} storms from its first minute: "
            f"{fits} of the {drawn} devices drawn are run, so the run fits."
        )
        g.spec["count"] = fits


def _roaming_partners(d: Draft) -> None:
    """Sometimes a network abroad takes roaming SIMs only from some home networks."""
    assert d.home is not None
    home = [o["mcc_mnc"] for o in d.operators if o["country"] == d.home.iso]
    for operator in d.operators:
        if operator["country"] != d.home.iso and d.rng.random() < 0.3:
            operator["roaming_partners"] = home[: d.rng.randint(0, len(home))]


def _loss(d: Draft) -> None:
    """Message loss on the devices' side: none to 3%."""
    d.message_loss = d.rng.choice((0.0, 0.005, 0.01, 0.02, 0.03))


DIMENSIONS: Final[tuple[Callable[[Draft], None], ...]] = (
    _run,
    _country,
    _cells,
    _fleet,
    _radio_and_plans,
    draw_pools,
    _mobility,
    _firmware_behaviour,
    _roaming_partners,
    _loss,
    draw_core,
    draw_psm_grants,
    draw_batteries,
    draw_faults,
    draw_rollouts,
    draw_swaps,
    draw_interventions,
    draw_moves,
    draw_actions,
)
"""The dimensions a world is drawn in, in order; each fills in its part of the draft."""


def draw(seed: int) -> Draft:
    """The world of `seed` (the same seed, the same world)."""
    draft = Draft(seed=seed, rng=random.Random(f"simlab-fuzz/{seed}"))
    for dimension in DIMENSIONS:
        dimension(draft)
    return draft
