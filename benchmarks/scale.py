"""The bulk engine against a SimPy process per device, on the same world, into one sink.

The world is the bundled onboarding-day (meters going live in TEST_READY, activating
when their test data is used, a pooled plan, a private APN, and the Bergen batch the
home network refuses), with 5-minute reports. Both engines feed one `ChecksumSink`:
every message goes through it, the bulk engine's as columns through its batch method
(reports hashed as columns, the rest built one by one), the processes' one by one;
its per-device checksums of both runs must be equal on a sample of devices (and in
total), or the benchmark fails.

Figures (one `name=value` per line):
  devices, hours               the comparison's world
  simpy_reports_per_s          telemetry messages per wall second, a process per device
  bulk_reports_per_s           the same world with its meters as columns
  bulk_vs_simpy                bulk_reports_per_s / simpy_reports_per_s (same run, same world)
  checksums_equal              1 when every sampled device's checksum (and the total) agree
  million_day_wall_s           1,000,000 meters for 24 h as columns, into the checksum sink
  million_day_peak_mb          the process's peak RSS over that run
  million_day_messages         the messages it handed the sink

Usage: python benchmarks/scale.py [--devices N] [--hours H] [--million N] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import time
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from protocol.messages import Telemetry
from protocol.wire import encode
from simlab.scenario import load_scenario
from simulator.world.simulate import simulate
from simulator.world.spec import WorldSpec
from simulator.world.telemetry import round_half_even

if TYPE_CHECKING:
    import numpy.typing as npt
    from pydantic import BaseModel

    from simulator.world.batch import Batch

_MASK = (1 << 64) - 1
_G = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
H = 3600.0


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mixes(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def _name_hash(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class ChecksumSink:
    """Sums a hash of every message per stream (device or SIM); reports hashed as columns."""

    def __init__(self, start_ts: float) -> None:
        self.start_ts = start_ts
        self.sums: dict[str, int] = defaultdict(int)
        self.messages = 0
        self.reports = 0
        self._ids: dict[int, tuple[list[str], npt.NDArray[np.uint64]]] = {}
        self._columns: dict[int, npt.NDArray[np.uint64]] = {}

    # ---- one by one (device processes, and the bulk engine's other messages) ---------------

    def write(self, message: BaseModel, account: str | None) -> None:
        """Hash one message into its stream's sum."""
        del account
        self.messages += 1
        if isinstance(message, Telemetry):
            self.reports += 1
            fields = [
                message.seq,
                round(message.t * 1000),
                round(message.rsrp * 10),
                round(message.rsrq * 10),
                round(message.snr * 10),
                message.cell_id,
            ]
            h = _name_hash(message.device_id)
            for f in fields:
                h = _mix(((h ^ (f & _MASK)) * _G) & _MASK)
            self.sums[message.device_id] = (self.sums[message.device_id] + h) & _MASK
            return
        stream = getattr(message, "device_id", None) or getattr(message, "iccid", None) or "clock"
        h = _name_hash(encode(message).decode())
        self.sums[stream] = (self.sums[stream] + h) & _MASK

    # ---- a cohort's window as columns ---------------------------------------------------------

    def write_batch(self, batch: Batch) -> None:
        """Hash the window's reports as columns; build and hash its other messages."""
        which, row = batch.order()
        for k, block in enumerate(batch.blocks):
            if block.kind == "telemetry" and "cohort" in block.columns:
                self._reports(block.columns, block.t, block.device)
                continue
            for i in row[which == k].tolist():
                self.write(*block.build(i))

    def _reports(
        self,
        columns: dict[str, object],
        t: npt.NDArray[np.float64],
        device: npt.NDArray[np.int64],
    ) -> None:
        cohort = columns["cohort"]
        ids, hashes = self._ids.get(id(cohort), ([], np.zeros(0, dtype=np.uint64)))
        if not ids:
            ids = cohort.ids  # type: ignore[attr-defined]
            hashes = np.array([_name_hash(i) for i in ids], dtype=np.uint64)
            self._ids[id(cohort)] = (ids, hashes)
            self._columns[id(cohort)] = np.zeros(len(ids), dtype=np.uint64)
        rsrp = np.asarray(columns["rsrp"], dtype=np.float64)
        t_ms = np.rint(round_half_even(self.start_ts + t, 3) * 1000)
        fields = [
            np.asarray(columns["seq"], dtype=np.int64),
            t_ms.astype(np.int64),
            np.rint(round_half_even(rsrp, 1) * 10).astype(np.int64),
            np.rint(round_half_even(-6.0 + (rsrp + 80) / 8, 1) * 10).astype(np.int64),
            np.rint(round_half_even((rsrp + 125) / 3, 1) * 10).astype(np.int64),
            np.asarray(columns["cell_id"], dtype=np.int64),
        ]
        with np.errstate(over="ignore"):
            h = hashes[device]
            for f in fields:
                h = _mixes((h ^ f.astype(np.uint64)) * np.uint64(_G))
            np.add.at(self._columns[id(cohort)], device, h)
        self.messages += len(t)
        self.reports += len(t)

    def totals(self) -> dict[str, int]:
        """Every stream's sum, the columns' included."""
        sums = dict(self.sums)
        for key, (ids, _) in self._ids.items():
            for name, value in zip(ids, self._columns[key].tolist(), strict=True):
                sums[name] = (sums.get(name, 0) + int(value)) & _MASK
        return sums


def world(size: int, engine: str) -> WorldSpec:
    """onboarding-day at `size` meters, reporting every 5 minutes, run by `engine`."""
    spec = load_scenario("scenarios/onboarding-day.yaml", size=size).world
    data = spec.model_dump()
    data["devices"] = [
        dict(g, engine=engine, report_interval=300.0, report_jitter=60.0) for g in data["devices"]
    ]
    return WorldSpec.model_validate(data)


def run(size: int, hours: float, engine: str) -> tuple[ChecksumSink, float]:
    """One run into a fresh checksum sink: the sink and the wall time."""
    spec = world(size, engine)
    sink = ChecksumSink(spec.start.timestamp())
    began = time.perf_counter()
    result = simulate(spec, sink, until=hours * H)
    wall = time.perf_counter() - began
    if result.error is not None:
        raise SystemExit(result.error)
    return sink, wall


def peak_mb() -> float:
    """The process's peak resident set so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run both comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--million-hours", type=float, default=24.0)
    parser.add_argument("--quick", action="store_true", help="2,000 devices; 20,000 for 3 h")
    args = parser.parse_args()
    if args.quick:
        args.devices, args.million, args.million_hours = 2000, 20_000, 3.0
    simpy_sink, simpy_wall = run(args.devices, args.hours, "process")
    bulk_sink, bulk_wall = run(args.devices, args.hours, "bulk")
    a, b = simpy_sink.totals(), bulk_sink.totals()
    sample = sorted(a)[:: max(1, len(a) // 1000)]
    equal = all(a[k] == b.get(k) for k in sample) and sum(a.values()) == sum(b.values())
    equal = equal and set(a) == set(b)
    simpy_rate = simpy_sink.reports / simpy_wall
    bulk_rate = bulk_sink.reports / bulk_wall
    print(f"devices={args.devices}")
    print(f"hours={args.hours:g}")
    print(f"simpy_reports_per_s={simpy_rate:.0f}")
    print(f"bulk_reports_per_s={bulk_rate:.0f}")
    print(f"bulk_vs_simpy={bulk_rate / simpy_rate:.1f}")
    print(f"checksums_equal={int(equal)}")
    day_sink, day_wall = run(args.million, args.million_hours, "bulk")
    print(f"million_day_devices={args.million}")
    print(f"million_day_hours={args.million_hours:g}")
    print(f"million_day_wall_s={day_wall:.1f}")
    print(f"million_day_peak_mb={peak_mb():.0f}")
    print(f"million_day_messages={day_sink.messages}")
    if not equal:
        raise SystemExit("the two engines' checksums differ")


if __name__ == "__main__":
    main()
