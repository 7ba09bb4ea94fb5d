"""How fast the support console's pages answer with a large fleet in the store.

A fleet of N devices (default 1,000,000) is fed to a real `Service` on a real SQLite
file, as the ingest would hand it over: each SIM's inventory record, then two rounds of
reports 15 minutes apart, the second without the devices of one cell, which the service
then finds quiet together (one open incident of N/50 devices). The console is served by
uvicorn on a loopback port, over the very service fed, and each page is asked for
`--requests` times in turn over HTTP; its 99th percentile is printed.

Figures (one `name=value` per line):
  devices                    devices in the store and the service
  feed_s                     the time to feed the fleet (messages_fed messages)
  page_p99_ms.overview       `/`: counts by status, alarms, open incidents
  page_p99_ms.search         `/search?q=`: a device by its name, by its ICCID's last digits
  page_p99_ms.device         `/devices/{id}`: checks, evidence, message, timeline
  page_p99_ms.device_quiet   the same for devices of the quiet cell (their cell's peers read)
  page_p99_ms.incident       `/incidents/{id}`: the incident and a page of its members
  page_p99_ms.training       `/training` and an exercise's page (the lost giraffe, run by
                             simlab's own training port beside the fleet)
  page_p99_ms.baseline       the style sheet from the same server: what an answer costs at all
  slowest_vs_baseline        the slowest page's p99 over the baseline's
  target_met                 every page's p99 <= 300 ms

Every request goes to 127.0.0.1 only, and each loop is bounded by `--requests`.

Usage: python benchmarks/console.py [--devices N] [--requests R] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
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
from diagnostics.web import mount_console
from protocol.messages import Clock, SimRecord, Telemetry
from protocol.wire import Topics, encode
from simlab.broker import free_port
from simlab.training_web import ScenarioTraining

if TYPE_CHECKING:
    from diagnostics.training_port import RunCard, TrainingPort

T0 = 1_775_001_600.0
CELLS = 50
QUIET_CELL = 7
INTERVAL_S = 900.0
TARGET_MS = 300.0
BATCH = 10_000


def _record(n: int) -> SimRecord:
    return SimRecord(
        t=T0, iccid=f"8946200{n:012d}", imsi=f"24001{n:010d}", msisdn=None, state="ACTIVATED",
        account=f"acct-{n % 200}", account_name="Nordic Meters AB", communication_plan="cp",
        rate_plan="rp", apns=["iot"], networks=["24001"], radio_types=["LTE-M"],
        imei_lock=False, locked_imei=None, data_blocked=False, device_name=f"Meter {n}",
        site=f"Site {n % 1000}", time_zone="Europe/Stockholm",
    )  # fmt: skip


def _report(n: int, t: float, seq: int) -> Telemetry:
    return Telemetry(
        t=t, device_id=f"m-{n:07d}", iccid=f"8946200{n:012d}", imei=f"35{n:013d}", seq=seq,
        firmware="2.1", battery=None, supply_mv=12_000, bearer="LTE-M", mcc_mnc="24001",
        cell_id=1 + n % CELLS, rsrp=-90.0, rsrq=-9.0, snr=8.0, apn="iot", ip="10.0.0.1",
        uptime_s=60 * seq,
    )  # fmt: skip


def feed_fleet(service: Service, topics: Topics, devices: int) -> int:
    """Records, two report rounds (one cell silent in the second), watermarks; messages fed."""
    fed = 0

    def hand(messages: list[tuple[object, str | None]]) -> None:
        nonlocal fed
        items = [
            Received(
                topics.for_message(m, a) if a else topics.clock(),
                encode(m),  # type: ignore[arg-type]
                1,
                fed + i + 1,
                0.0,
            )
            for i, (m, a) in enumerate(messages)
        ]
        service.handle(items)
        fed += len(items)

    def round_of(step: int, n: int) -> tuple[object, str | None] | None:
        account = f"acct-{n % 200}"
        if step == 0:
            return _record(n), account
        if step == 2 and 1 + n % CELLS == QUIET_CELL:
            return None  # the quiet cell's devices say nothing in the second round
        return _report(n, T0 + (step - 1) * INTERVAL_S + 60 + n % 600, step), account

    for step in range(3):  # made a batch at a time: a million messages are not held at once
        for start in range(0, devices, BATCH):
            made = (round_of(step, n) for n in range(start, min(start + BATCH, devices)))
            hand([m for m in made if m is not None])
        hand([(Clock(t=T0 + (step + 1) * INTERVAL_S), None)])
    # the quiet cell, silent since its first round, passes SUSPECT (2.5 intervals and its
    # slack) while the others, a round later, are only late: one incident, of that cell
    hand([(Clock(t=T0 + 3.5 * INTERVAL_S), None)])
    return fed


def console_app(service: Service, training: TrainingPort | None = None) -> FastAPI:
    """The console and API over `service` (loopback: reads need no token)."""
    app = FastAPI(exception_handlers=exception_handlers)
    app.include_router(api_router)
    mount_console(app, training)
    app.state.service = service
    app.state.access = Access(new_token(), source="in memory")
    return app


def p99_ms(client: httpx.Client, paths: list[str], requests: int) -> float:
    """The 99th percentile of `requests` answers, over `paths` in turn (each must be 200)."""
    times = []
    for i in range(requests):
        started = time.perf_counter()
        answer = client.get(paths[i % len(paths)])
        times.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{paths[i % len(paths)]}: {answer.status_code}")
    return float(np.percentile(times, 99) * 1000)


def _ready(training: ScenarioTraining, scenario: str) -> RunCard:
    """An exercise of `scenario`, once it has run (bounded: two minutes)."""
    run = training.start(scenario)
    deadline = time.monotonic() + 120
    while (found := training.run(run.id)) is not None and found.state == "running":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {scenario} exercise did not finish running")
        time.sleep(0.2)
    if found is None or found.state != "ready":
        raise RuntimeError(f"the {scenario} exercise failed: {found and found.error}")
    return found


def main() -> None:
    """Feed the fleet, serve the console, time each page, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--quick", action="store_true", help="20,000 devices, 20 requests")
    args = parser.parse_args()
    devices = 20_000 if args.quick else args.devices
    requests = 20 if args.quick else args.requests
    with tempfile.TemporaryDirectory() as folder:
        topics = Topics("bench-console/simlab")
        service = Service(store=SQLiteStore(Path(folder) / "console.sqlite"), topics=topics)
        started = time.perf_counter()
        fed = feed_fleet(service, topics, devices)
        feed_s = time.perf_counter() - started
        (incident,) = [i.id for i in service.grouper.open_incidents()]
        training = ScenarioTraining(Path(folder) / "runs")
        exercise = _ready(training, "lost-giraffe")
        port = free_port()
        app = console_app(service, training)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        some = [n * (devices // 7) + 11 for n in range(7)]
        pages = {
            "overview": ["/"],
            "search": [f"/search?q=Meter+{n}" for n in some] + [f"/search?q={n:06d}" for n in some],
            "device": [f"/devices/m-{n:07d}" for n in some],
            "device_quiet": [f"/devices/m-{QUIET_CELL - 1 + CELLS * k:07d}" for k in range(7)],
            "incident": [f"/incidents/{incident}", f"/incidents/{incident}?members=3"],
            "training": ["/training", f"/training/runs/{exercise.id}?code={exercise.code}"],
            "baseline": ["/static/console.css"],
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for paths in pages.values():  # each page once before timing: imports, caches
                p99_ms(client, paths, len(paths))
            figures = {name: p99_ms(client, paths, requests) for name, paths in pages.items()}
        server.should_exit = True
        thread.join(20)
        service.store.close()
    print(f"devices={devices}")
    print(f"messages_fed={fed}")
    print(f"feed_s={feed_s:.1f}")
    for name, value in figures.items():
        print(f"page_p99_ms.{name}={value:.1f}")
    slowest = max(v for k, v in figures.items() if k != "baseline")
    print(f"slowest_vs_baseline={slowest / figures['baseline']:.1f}")
    print(f"target_met={slowest <= TARGET_MS}")


if __name__ == "__main__":
    main()
