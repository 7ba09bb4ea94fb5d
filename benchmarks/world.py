"""A 10,000-device world for one simulated day: how fast the SimPy model runs.

Figures (one `name=value` per line):
  wall_s                 building and running the world
  events_per_s           SimPy events processed per wall second
  messages_per_s         messages written to the sink per wall second
  baseline_events_per_s  bare SimPy: one process per device doing only its report timeouts,
                         measured in this run at the same device count and cadence
  ratio_vs_baseline      events_per_s / baseline_events_per_s
With --encode the sink also encodes every message as JSON, as a recording would.

Usage: python benchmarks/world.py [--devices N] [--hours H] [--encode] [--quick]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import simpy

from protocol.identifiers import Iccid, Imei
from simulator.world.simulate import simulate
from simulator.world.spec import WorldSpec

if TYPE_CHECKING:
    from pydantic import BaseModel

REPORT_S = 900.0


class CountingSink:
    """Counts messages; with `encode`, also turns each into JSON bytes."""

    def __init__(self, *, encode: bool) -> None:
        self.count = 0
        self.bytes = 0
        self.encode = encode

    def write(self, message: BaseModel, account: str | None) -> None:
        """Count (and maybe encode) one message."""
        del account
        self.count += 1
        if self.encode:
            self.bytes += len(message.model_dump_json())


def spec(devices: int) -> WorldSpec:
    """A customer with `devices` meters over 20 cells of one operator."""
    first_iccid = Iccid.from_body("894610000000000000")
    cells = [
        {
            "id": i + 1,
            "operator": "24001",
            "lat": 59.0 + (i // 5) * 0.2,
            "lon": 18.0 + (i % 5) * 0.2,
            "radius_km": 12,
            "radio_types": ["LTE-M", "NB-IoT"],
        }
        for i in range(20)
    ]
    return WorldSpec.model_validate(
        {
            "start": datetime(2026, 5, 4, tzinfo=UTC),
            "seed": 42,
            "customer": {
                "customer": "Benchmark Energi AB",
                "accounts": [{"id": "energi", "name": "Benchmark Energi AB", "kind": "enterprise"}],
                "communication_plans": [
                    {
                        "name": "meters",
                        "apns": [{"name": "meters.energi"}],
                        "networks": [{"country": "SE"}],
                        "radio_types": ["LTE-M", "NB-IoT"],
                    },
                ],
                "rate_plans": [{"name": "m", "allowance": "10 MB", "pooled": True}],
                "sim_ranges": [
                    {
                        "first_iccid": str(first_iccid),
                        "count": devices,
                        "account": "energi",
                        "communication_plan": "meters",
                        "rate_plan": "m",
                        "first_imsi": "240010000000000",
                        "state": "ACTIVATED",
                    },
                ],
            },
            "operators": [{"mcc_mnc": "24001", "name": "Telia", "country": "SE"}],
            "cells": cells,
            "devices": [
                {
                    "name": "meter",
                    "count": devices,
                    "first_iccid": str(first_iccid),
                    "first_imei": str(Imei.from_body("86000000000000")),
                    "apn": "meters.energi",
                    "lat": 59.4,
                    "lon": 18.4,
                    "spread_km": 40,
                    "report_interval": REPORT_S,
                    "report_jitter": 60,
                },
            ],
            "faults": [{"fault": "cell_outage", "cell": 7, "at": "6h", "duration": "2h"}],
        },
    )


def baseline(devices: int, until: float) -> float:
    """Events per second of bare SimPy processes that only wait for their next report."""
    env = simpy.Environment()
    rng = random.Random(42)

    def device() -> simpy.events.ProcessGenerator:
        yield env.timeout(rng.uniform(0, REPORT_S))
        while True:
            yield env.timeout(REPORT_S + rng.uniform(-60, 60))

    for _ in range(devices):
        env.process(device())
    events = 0
    began = time.perf_counter()
    while env.peek() < until:
        env.step()
        events += 1
    return events / (time.perf_counter() - began)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--encode", action="store_true")
    parser.add_argument("--quick", action="store_true", help="500 devices for 6 hours")
    args = parser.parse_args()
    devices, hours = (500, 6.0) if args.quick else (args.devices, args.hours)
    until = hours * 3600
    sink = CountingSink(encode=args.encode)
    began = time.perf_counter()
    result = simulate(spec(devices), sink, until=until)
    wall = time.perf_counter() - began
    if result.error:
        raise SystemExit(result.error)
    base = baseline(devices, until)
    events_per_s = result.events / result.wall_s
    print(f"devices={devices}")
    print(f"simulated_hours={hours:g}")
    print(f"events={result.events}")
    print(f"messages={result.messages}")
    print(f"wall_s={wall:.2f}")
    print(f"events_per_s={events_per_s:.0f}")
    print(f"messages_per_s={result.messages / wall:.0f}")
    print(f"baseline_events_per_s={base:.0f}")
    print(f"ratio_vs_baseline={events_per_s / base:.3f}")
    if args.encode:
        print(f"json_bytes={sink.bytes}")


if __name__ == "__main__":
    main()
