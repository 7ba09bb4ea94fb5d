"""The bulk engine against a SimPy process per device, on the same world, into one sink.

The world is the bundled onboarding-day (meters going live in TEST_READY, activating
when their test data is used, a pooled plan, a private APN, and the Bergen batch the
home network refuses), with 5-minute reports. Both engines feed one
`simulator.world.checksum.ChecksumSink`: every message goes through it, field by
field with its account, the bulk engine's blocks as columns through its batch
method (the platform's audit, built already, one by one), the processes' messages
one by one; its per-stream checksums of both runs must be equal on a sample of
devices (and in total), or the benchmark fails.

Figures (one `name=value` per line):
  devices, hours               the comparison's world
  simpy_counting_reports_per_s the same, the processes into a sink that only counts
  simpy_reports_per_s          telemetry messages per wall second, a process per device
  bulk_reports_per_s           the same world with its meters as columns
  bulk_vs_simpy                bulk_reports_per_s / simpy_reports_per_s (same run, same world)
  bulk_vs_simpy_counting       bulk_reports_per_s / simpy_counting_reports_per_s (the checksum
                               costs the processes' messages, hashed one by one, the more)
  checksums_equal              1 when every sampled device's checksum (and the total) agree
  million_day_wall_s           1,000,000 meters for 24 h as columns, into the checksum sink
  million_day_peak_mb          the process's peak RSS over that run
  million_day_messages         the messages it handed the sink
  shard_devices, shard_hours   the shard comparison's world (the same scenario)
  shard_speedup                one process's wall time over that of two shard processes run
                               side by side (each runs the whole world, sends half of it);
                               the two shards' checksums together must equal the one's

Usage: python benchmarks/scale.py [--devices N] [--hours H] [--million N]
       [--shard-devices N] [--shard-hours H] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING

from simlab.scenario import load_scenario
from simulator.world.checksum import ChecksumSink
from simulator.world.shard import Shard
from simulator.world.simulate import simulate
from simulator.world.spec import WorldSpec

if TYPE_CHECKING:
    from pydantic import BaseModel

H = 3600.0


def world(size: int, engine: str) -> WorldSpec:
    """onboarding-day at `size` meters, reporting every 5 minutes, run by `engine`."""
    spec = load_scenario("scenarios/onboarding-day.yaml", size=size).world
    data = spec.model_dump()
    data["devices"] = [
        dict(g, engine=engine, report_interval=300.0, report_jitter=60.0) for g in data["devices"]
    ]
    return WorldSpec.model_validate(data)


def run(
    size: int, hours: float, engine: str, shard: Shard | None = None
) -> tuple[ChecksumSink, float]:
    """One run into a fresh checksum sink: the sink and the wall time."""
    spec = world(size, engine)
    sink = ChecksumSink()
    began = time.perf_counter()
    result = simulate(spec, sink, until=hours * H, shard=shard)
    wall = time.perf_counter() - began
    if result.error is not None:
        raise SystemExit(result.error)
    return sink, wall


def shard_run(size: int, hours: float, k: int, n: int) -> tuple[float, int, int]:
    """Shard k of n in its own process: its wall time, the sum of its checksums, its streams.

    Timed from the parent, both ways, so the processes' start and their answers count alike.
    """
    sink, wall = run(size, hours, "bulk", None if n == 1 else Shard(k, n))
    totals = sink.totals()
    totals.pop("clock")
    return wall, sum(totals.values()) & ((1 << 64) - 1), len(totals)


def shards(size: int, hours: float) -> tuple[float, bool]:
    """One process against two shard processes side by side: the speed-up and whether they agree."""
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("fork")) as pool:
        began = time.perf_counter()
        _, one_sum, one_streams = pool.submit(shard_run, size, hours, 0, 1).result()
        one_wall = time.perf_counter() - began
        began = time.perf_counter()
        done = [p.result() for p in [pool.submit(shard_run, size, hours, k, 2) for k in range(2)]]
        two_wall = time.perf_counter() - began
    agree = sum(d[1] for d in done) & ((1 << 64) - 1) == one_sum
    agree = agree and sum(d[2] for d in done) == one_streams
    return one_wall / two_wall, agree


class _Counting:
    """A sink that only counts what it is given (the processes' cost without the checksum)."""

    def __init__(self) -> None:
        self.reports = 0

    def write(self, message: BaseModel, account: str | None) -> None:
        del account
        self.reports += message.__class__.__name__ == "Telemetry"


def counting(size: int, hours: float) -> tuple[float, int]:
    """The processes into a counting sink: the wall time and the reports."""
    sink = _Counting()
    began = time.perf_counter()
    result = simulate(world(size, "process"), sink, until=hours * H)
    if result.error is not None:
        raise SystemExit(result.error)
    return time.perf_counter() - began, sink.reports


def peak_mb() -> float:
    """The process's peak resident set so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compare(devices: int, hours: float) -> bool:
    """Processes (counted, then checksummed) against columns on one world; whether they agree."""
    counted_wall, counted_reports = counting(devices, hours)
    gc.collect()
    simpy_sink, simpy_wall = run(devices, hours, "process")
    a, simpy_reports = simpy_sink.totals(), simpy_sink.reports
    del simpy_sink  # its caches would slow the next run's garbage collection several times
    gc.collect()
    bulk_sink, bulk_wall = run(devices, hours, "bulk")
    b = bulk_sink.totals()
    sample = sorted(a)[:: max(1, len(a) // 1000)]
    equal = all(a[k] == b.get(k) for k in sample) and sum(a.values()) == sum(b.values())
    equal = equal and set(a) == set(b)
    simpy_rate = simpy_reports / simpy_wall
    bulk_rate = bulk_sink.reports / bulk_wall
    del bulk_sink, a, b
    gc.collect()
    print(f"devices={devices}")
    print(f"hours={hours:g}")
    print(f"simpy_counting_reports_per_s={counted_reports / counted_wall:.0f}")
    print(f"simpy_reports_per_s={simpy_rate:.0f}")
    print(f"bulk_reports_per_s={bulk_rate:.0f}")
    print(f"bulk_vs_simpy={bulk_rate / simpy_rate:.1f}")
    print(f"bulk_vs_simpy_counting={bulk_rate * counted_wall / counted_reports:.1f}")
    print(f"checksums_equal={int(equal)}")
    return equal


def main() -> None:
    """Run both comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--million-hours", type=float, default=24.0)
    parser.add_argument("--shard-devices", type=int, default=1_000_000)
    parser.add_argument("--shard-hours", type=float, default=2.0)
    parser.add_argument(
        "--quick", action="store_true", help="2,000 devices; 20,000 for 3 h; shards of 20,000"
    )
    args = parser.parse_args()
    if args.quick:
        args.devices, args.million, args.million_hours = 2000, 20_000, 3.0
        args.shard_devices, args.shard_hours = 20_000, 1.0
    equal = compare(args.devices, args.hours)
    day_sink, day_wall = run(args.million, args.million_hours, "bulk")
    print(f"million_day_devices={args.million}")
    print(f"million_day_hours={args.million_hours:g}")
    print(f"million_day_wall_s={day_wall:.1f}")
    print(f"million_day_peak_mb={peak_mb():.0f}")
    print(f"million_day_messages={day_sink.messages}")
    del day_sink
    gc.collect()
    speedup, agree = shards(args.shard_devices, args.shard_hours)
    print(f"shard_devices={args.shard_devices}")
    print(f"shard_hours={args.shard_hours:g}")
    print(f"shard_speedup={speedup:.2f}")
    print(f"shards_agree={int(agree)}")
    if not equal:
        raise SystemExit("the two engines' checksums differ")
    if not agree:
        raise SystemExit("the two shards' checksums differ from the one process's")


if __name__ == "__main__":
    main()
