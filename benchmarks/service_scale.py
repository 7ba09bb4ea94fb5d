"""The diagnostics service's hot state and its read API with a large fleet, while ingest runs.

A fleet of N devices (default 200,000, a stand-in for 1,000,000: the figures per device are
what carry over) is fed to a real `diagnostics.service.Service` on a real SQLite file in a
temporary folder, as the ingest would hand it over (`Service.handle` with `Received`
items, batches of 10,000, no broker). Each device's SIM gets its inventory record, an
attach and a data session; each device an "online" status and --reports telemetry reports
15 minutes apart (one round a batch at a time, a watermark after each round). Devices sit
in 200 accounts and 5,000 cells.

The read API is then served by uvicorn on a loopback port over the very service fed, and
asked over HTTP (httpx), in turn, for `/api/fleet`, a `/api/devices` page (100 devices at
an offset spread over the fleet) and `/api/devices/{id}`, while a thread goes on feeding
the service further report rounds in batches of --ingest-batch messages, as fast as it
takes them. The three are asked in turn, --requests times each, and on until the thread
has also handed over a round's watermark (its sweep and incident grouping: the longest
hold of the service's lock), up to 300 s; `--quick` does not wait.

Figures (one `name=value` per line):
  devices                   devices fed (N)
  messages_fed              messages handed to the service before the reads
  feed_s                    the time to feed them
  feed_msgs_per_s           messages_fed / feed_s
  rss_before_mb             resident set size with the service built, before the fleet
  rss_after_mb              resident set size once the fleet is fed (after a gc.collect)
  service_bytes_per_device  (rss_after - rss_before) / N: the hot state per device
                            (with the allocator's own overhead: what the process pays)
  fleet_p50_ms, fleet_p99_ms               `/api/fleet`
  device_list_p50_ms, device_list_p99_ms   `/api/devices?limit=100&offset=...`
  device_api_p50_ms, device_api_p99_ms     `/api/devices/{id}`
  ingest_msgs_per_s_during_reads           what the feeding thread got through meanwhile
  longest_batch_handle_ms                  the longest `Service.handle` of a batch of reports
                                           meanwhile, the wait for the service's lock behind
                                           the readers included
  longest_watermark_handle_ms              the longest of a round's watermark meanwhile: its
                                           sweep and the incident grouping over the fleet,
                                           under the same lock (0: no round ended)
  target_bytes_met          service_bytes_per_device <= 300
  target_latency_met        every p99 <= 200 ms

`--trace K` also runs tracemalloc over the feed and prints to stderr the K largest
allocation sites still alive (file:line, bytes per device); it slows the feed several
times, so its run's timings are not the benchmark's.

Every request goes to 127.0.0.1 only, and each loop is bounded by `--requests`.

Usage: python benchmarks/service_scale.py [--devices N] [--requests R] [--trace K] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI

from diagnostics.access import Access, new_token
from diagnostics.api import api_router, exception_handlers
from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.messages import (
    AttachAccepted,
    Clock,
    DeviceStatus,
    SessionOpened,
    SimRecord,
    Telemetry,
)
from protocol.wire import Topics, encode
from simlab.broker import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pydantic import BaseModel

T0 = 1_775_001_600.0
ACCOUNTS = 200
CELLS = 5_000
INTERVAL_S = 900.0
BATCH = 10_000
TARGET_BYTES = 300.0
TARGET_MS = 200.0
QUICK_DEVICES = 5_000
WATERMARK_WAIT_S = 300.0
"""The reads go on past --requests until a round's watermark went by, this long at most."""


def _iccid(n: int) -> str:
    return f"8946200{n:012d}"


def _account(n: int) -> str:
    return f"acct-{n % ACCOUNTS}"


def _record(n: int) -> SimRecord:
    return SimRecord(
        t=T0, iccid=_iccid(n), imsi=f"24001{n:010d}", msisdn=None, state="ACTIVATED",
        account=_account(n), account_name="Nordic Meters AB", communication_plan="cp",
        rate_plan="rp", apns=["iot"], networks=["24001"], radio_types=["LTE-M"],
        imei_lock=False, locked_imei=None, data_blocked=False, device_name=f"Meter {n}",
        site=f"Site {n % 1000}", time_zone="Europe/Stockholm",
    )  # fmt: skip


def _attach(n: int) -> AttachAccepted:
    t = T0 + 10 + n % 600
    return AttachAccepted(
        t=t, iccid=_iccid(n), imei=f"35{n:013d}", mcc_mnc="24001", cell_id=1 + n % CELLS,
        rat="LTE-M",
    )  # fmt: skip


def _session(n: int) -> SessionOpened:
    t = T0 + 20 + n % 600
    return SessionOpened(t=t, iccid=_iccid(n), imei=f"35{n:013d}", session_id=1, apn="iot",
                         ip=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")  # fmt: skip


def _status(n: int) -> DeviceStatus:
    return DeviceStatus(t=T0 + 30 + n % 600, device_id=f"m-{n:07d}", iccid=_iccid(n),
                        status="online", next_report=T0 + 60 + INTERVAL_S + n % 600)  # fmt: skip


def _report(n: int, step: int) -> Telemetry:
    return Telemetry(
        t=T0 + step * INTERVAL_S + 60 + n % 600, device_id=f"m-{n:07d}", iccid=_iccid(n),
        imei=f"35{n:013d}", seq=step, firmware="2.1", battery=None, supply_mv=12_000,
        bearer="LTE-M", mcc_mnc="24001", cell_id=1 + n % CELLS, rsrp=-90.0 - n % 20,
        rsrq=-9.0, snr=8.0, apn="iot", ip="10.0.0.1", uptime_s=60 + int(step * INTERVAL_S),
    )  # fmt: skip


class Feeder:
    """Hands messages to the service as the ingest would: topic, payload, QoS, mid, time."""

    def __init__(self, service: Service, topics: Topics) -> None:
        self.service, self.topics, self.fed = service, topics, 0

    def hand(self, messages: list[BaseModel]) -> None:
        """One batch, in one `Service.handle`."""
        topics = self.topics
        items = [
            Received(
                topics.clock()
                if isinstance(m, Clock)
                else topics.for_message(m, _account(_number(m))),
                encode(m),  # type: ignore[arg-type]
                1,
                self.fed + i + 1,
                0.0,
            )
            for i, m in enumerate(messages)
        ]
        self.service.handle(items)
        self.fed += len(items)


def _number(message: BaseModel) -> int:
    device = getattr(message, "device_id", None)
    return int(device[2:]) if device else int(message.iccid[7:])  # type: ignore[attr-defined]


def _batches(devices: int, make: Callable[[int], BaseModel], size: int) -> Iterator[list]:
    for start in range(0, devices, size):
        yield [make(n) for n in range(start, min(start + size, devices))]


def feed_fleet(feeder: Feeder, devices: int, reports: int) -> None:
    """Records, attaches, sessions, statuses, then `reports` rounds, each round watermarked."""
    for make in (_record, _attach, _session, _status):
        for batch in _batches(devices, make, BATCH):
            feeder.hand(batch)
    feeder.hand([Clock(t=T0 + 60)])
    for step in range(reports):
        for batch in _batches(devices, lambda n, s=step: _report(n, s), BATCH):
            feeder.hand(batch)
        feeder.hand([Clock(t=T0 + (step + 1) * INTERVAL_S)])


def rss_bytes() -> int:
    """This process's resident set size."""
    pages = Path("/proc/self/statm").read_text(encoding="ascii").split()[1]
    return int(pages) * os.sysconf("SC_PAGE_SIZE")


def api_app(service: Service) -> FastAPI:
    """The REST API over `service` (loopback: reads need no token)."""
    app = FastAPI(exception_handlers=exception_handlers)
    app.include_router(api_router)
    app.state.service = service
    app.state.access = Access(new_token(), source="in memory")
    return app


def _times_ms(client: httpx.Client, paths: list[str], requests: int) -> list[float]:
    times = []
    for i in range(requests):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code}")
    return times


class Ingesting(threading.Thread):
    """Feeds further report rounds until stopped, `size` messages a batch."""

    def __init__(self, feeder: Feeder, devices: int, first: int, size: int) -> None:
        super().__init__(daemon=True)
        self.feeder, self.devices, self.step, self.size = feeder, devices, first, size
        self.stop = threading.Event()
        self.fed = 0
        self.longest_batch = self.longest_watermark = 0.0
        self.watermarks = 0

    def run(self) -> None:
        """Round after round, each watermarked, until `stop` is set."""
        while not self.stop.is_set():
            for batch in _batches(self.devices, lambda n, s=self.step: _report(n, s), self.size):
                if self.stop.is_set():
                    return
                started = time.perf_counter()
                self.feeder.hand(batch)
                self.longest_batch = max(self.longest_batch, time.perf_counter() - started)
                self.fed += len(batch)
            started = time.perf_counter()
            self.feeder.hand([Clock(t=T0 + (self.step + 1) * INTERVAL_S)])
            self.longest_watermark = max(self.longest_watermark, time.perf_counter() - started)
            self.watermarks += 1
            self.step += 1


def reads(service: Service, feeder: Feeder, args: argparse.Namespace) -> dict[str, float]:
    """Serve the API, time its three reads while a thread ingests; the figures."""
    devices = args.devices
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(api_app(service), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    some = [(k * 7919 + 11) % devices for k in range(50)]
    pages = {
        "fleet": ["/api/fleet"],
        "device_list": [f"/api/devices?limit=100&offset={n}" for n in some],
        "device_api": [f"/api/devices/m-{n:07d}" for n in some],
    }
    ingest = Ingesting(feeder, devices, args.reports, args.ingest_batch)
    figures: dict[str, float] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for paths in pages.values():  # each once before timing: imports, caches
            _times_ms(client, paths[:1], 1)
        ingest.start()
        started = time.perf_counter()
        times: dict[str, list[float]] = {name: [] for name in pages}
        deadline = started + (0.0 if args.quick else WATERMARK_WAIT_S)
        n = 0  # the three in turn, until --requests each and a round's watermark went by
        while n < args.requests or (not ingest.watermarks and time.perf_counter() < deadline):
            for name, paths in pages.items():
                times[name] += _times_ms(client, [paths[n % len(paths)]], 1)
            n += 1
        ingest.stop.set()
        elapsed = time.perf_counter() - started
        ingest.join(60)
    server.should_exit = True
    thread.join(20)
    for name, values in times.items():
        figures[f"{name}_p50_ms"] = float(np.percentile(values, 50))
        figures[f"{name}_p99_ms"] = float(np.percentile(values, 99))
    figures["ingest_msgs_per_s_during_reads"] = ingest.fed / elapsed
    figures["longest_batch_handle_ms"] = ingest.longest_batch * 1000
    figures["longest_watermark_handle_ms"] = ingest.longest_watermark * 1000
    return figures


def _trace_report(snapshot: tracemalloc.Snapshot, devices: int, top: int) -> None:
    stats = snapshot.statistics("lineno")
    total = sum(s.size for s in stats)
    print(f"tracemalloc: {total / devices:.0f} bytes per device alive", file=sys.stderr)
    for stat in stats[:top]:
        frame = stat.traceback[0]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        print(f"  {stat.size / devices:8.1f} B/dev  {stat.count:>9}  {where}", file=sys.stderr)


def main() -> None:
    """Feed the fleet, measure its memory, time the reads under ingest, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200_000)
    parser.add_argument("--reports", type=int, default=3, help="report rounds before reads")
    parser.add_argument("--requests", type=int, default=200, help="requests per read")
    parser.add_argument("--ingest-batch", type=int, default=2_000)
    parser.add_argument("--trace", type=int, default=0, help="top allocation sites (stderr)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DEVICES:,} devices")
    args = parser.parse_args()
    if args.quick:
        args.devices, args.requests = QUICK_DEVICES, 20
    with tempfile.TemporaryDirectory() as folder:
        topics = Topics("bench-scale/simlab")
        service = Service(store=SQLiteStore(Path(folder) / "scale.sqlite"), topics=topics)
        feeder = Feeder(service, topics)
        gc.collect()
        before = rss_bytes()
        if args.trace:
            tracemalloc.start()
        started = time.perf_counter()
        feed_fleet(feeder, args.devices, args.reports)
        feed_s = time.perf_counter() - started
        fed = feeder.fed
        gc.collect()
        after = rss_bytes()
        if args.trace:
            _trace_report(tracemalloc.take_snapshot(), args.devices, args.trace)
            tracemalloc.stop()
        figures = reads(service, feeder, args)
        service.store.close()
    per_device = (after - before) / args.devices
    print(f"devices={args.devices}")
    print(f"messages_fed={fed}")
    print(f"feed_s={feed_s:.1f}")
    print(f"feed_msgs_per_s={fed / feed_s:.0f}")
    print(f"rss_before_mb={before / 2**20:.1f}")
    print(f"rss_after_mb={after / 2**20:.1f}")
    print(f"service_bytes_per_device={per_device:.0f}")
    for name, value in figures.items():
        print(f"{name}={value:.1f}")
    p99s = [v for k, v in figures.items() if k.endswith("_p99_ms")]
    print(f"target_bytes_met={per_device <= TARGET_BYTES}")
    print(f"target_latency_met={max(p99s) <= TARGET_MS}")


if __name__ == "__main__":
    main()
