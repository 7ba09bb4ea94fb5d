"""What the service survives, and how fast it comes back (garbage, strangers, stalls, a store).

Garbage floods, device ids never inventoried, a stalled broker, a store that cannot write.

Each part runs the real `Service` with its real `Ingest` and SQLite file against a
Mosquitto started for the run (simlab's settings: nothing queued is dropped), in
this process, and reads the service's own counters.

Figures (one `name=value` per line):
  garbage_msgs_per_s_survived   garbage (not JSON, unknown schema versions, wrong types,
                                ids that disagree with their topic, topics outside the
                                namespace) published at QoS 1 as fast as the broker takes
                                it, with one good telemetry message in ten among it: the
                                garbage count over the seconds until every garbage message
                                was dead-lettered and every good one stored
  good_stored_during_flood      good messages stored of those sent among the garbage
  baseline_good_msgs_per_s      the same count of good messages alone, the same way
  garbage_vs_good               garbage_msgs_per_s_survived / baseline_good_msgs_per_s
                                (both are bounded by this process's paho publisher, about
                                5,000 msg/s: the ratio, near 1, says garbage costs the
                                service no more than good traffic; `benchmarks/ingest.py`
                                measures the service's own pace)
  unknown_id_bytes              hot-state bytes (tracemalloc: the service's Python
                                objects, not SQLite's cache) per device id never seen
                                in an inventory record: telemetry of N new ids, each
                                with a SIM of its own, fed to a service
  known_device_bytes            the same per device whose SIM record came first
                                (the baseline: what an inventoried device costs)
  unknown_vs_known              unknown_id_bytes / known_device_bytes
  unknown_id_bytes_past_cap     the same per id when nine in ten come past the cap on ids
                                never inventoried (a tenth of N): what a flood of strangers
                                costs once the cap holds (their dead letters are in SQLite;
                                what stays is the topic cache of `protocol.wire.Topics`,
                                itself bounded at ROUTES_KEPT topics)
  stalled_broker_detect_s       from SIGSTOP of the broker to the ingest dropping the
                                connection as stalled (keepalive 2 s)
  stalled_broker_keepalives     stalled_broker_detect_s / keepalive (target <= 2)
  store_resume_locked_s         from another connection's write lock released to the
                                first commit (the lock held `--hold` s)
  store_resume_io_s             from the WAL file made writable again (chattr -i) to
                                the first commit (immutable `--hold` s)
  store_resume_s                the longer of the two
  store_resume_vs_backoff       store_resume_s / the retry back-off's ceiling (5 s)

Usage: python benchmarks/hardening.py [--quick] [--garbage N] [--ids N] [--hold S]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diagnostics.ingest import Ingest, Received
from diagnostics.ingest_retry import RETRY_S
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.messages import SimRecord, Telemetry
from protocol.wire import Topics, encode
from simlab.broker import MosquittoBroker

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T0 = 1_780_000_000.0
KEEPALIVE = 2
FLEET = 1000
"""Devices whose reports the good traffic carries, in turn (fewer than the unknown-id cap)."""


def telemetry(n: int, t: float) -> Telemetry:
    """Device n's report at t (its own SIM and IMEI)."""
    return Telemetry(
        t=t,
        device_id=f"dev-{n:07d}",
        iccid=f"89462000{n:011d}",
        imei=f"35693803{n:07d}",
        seq=n,
        firmware="1.0",
        battery=80.0,
        supply_mv=None,
        bearer="LTE-M",
        mcc_mnc="24001",
        cell_id=1 + n % 50,
        rsrp=-90.0,
        rsrq=-9.0,
        snr=8.0,
        apn="iot",
        ip="10.0.0.1",
        uptime_s=60,
    )


def record(n: int, t: float) -> SimRecord:
    """Device n's SIM record: its inventory entry."""
    return SimRecord(
        t=t,
        iccid=f"89462000{n:011d}",
        imsi=f"24001{n:010d}",
        msisdn=None,
        state="ACTIVATED",
        account="acme",
        account_name="Acme",
        communication_plan="cp",
        rate_plan="rp",
        apns=["iot"],
        networks=["24001"],
        radio_types=["LTE-M"],
        imei_lock=False,
        locked_imei=None,
        data_blocked=False,
        device_name=f"Meter {n}",
        site=None,
        time_zone="Europe/Stockholm",
    )


def garbage(topics: Topics, n: int) -> tuple[str, bytes]:
    """The n-th garbage message: five kinds in turn."""
    good = telemetry(n, T0 + n)
    topic = topics.for_message(good, "acme")
    kind = n % 5
    if kind == 0:
        return topic, b"\xff not json at all"
    if kind == 1:
        return topic, json.dumps({**json.loads(encode(good)), "v": 9}).encode()
    if kind == 2:
        return topic, json.dumps({**json.loads(encode(good)), "rsrp": "strong"}).encode()
    if kind == 3:
        return topic.replace(good.device_id, "someone-else"), encode(good)
    return f"{topics.root}/acme/nowhere/{n}", encode(good)


@contextmanager
def service_on(
    broker: MosquittoBroker,
    folder: Path,
    **ingest: Any,  # noqa: ANN401 - the Ingest's own keywords
) -> Iterator[tuple[Service, Path]]:
    """A service and its file, its ingest connected to `broker` under a root of its own."""
    topics = Topics(f"bench-{uuid.uuid4().hex[:8]}/simlab")
    database = folder / f"{uuid.uuid4().hex[:8]}.sqlite"
    store = SQLiteStore(database)
    service = Service(store=store, topics=topics)
    reader = Ingest(
        host="127.0.0.1",
        port=broker.port,
        subscription=service.subscription,
        on_batch=service.handle,
        client_id=f"bench-{uuid.uuid4().hex[:8]}",
        **{"probe_every": 0, **ingest},
    )
    service.ingest = reader
    reader.start()
    if not reader.connected.wait(10):
        raise RuntimeError("the ingest did not connect")
    time.sleep(0.2)  # the subscription is acknowledged
    try:
        yield service, database
    finally:
        reader.stop()
        store.close()


def publisher(broker: MosquittoBroker) -> mqtt.Client:
    """A paho client publishing as fast as the broker takes it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    """Whether `predicate` came true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def flood(broker: MosquittoBroker, folder: Path, count: int) -> dict[str, Any]:
    """Garbage with good messages among it, then the good ones alone (the baseline)."""
    with service_on(broker, folder) as (service, _db):
        topics, client = service.topics, publisher(broker)
        good = 0
        started = time.monotonic()
        for n in range(count):
            client.publish(*garbage(topics, n), qos=1)
            if n % 10 == 0:
                message = telemetry(n % FLEET, T0 + n)
                client.publish(topics.for_message(message, "acme"), encode(message), qos=1)
                good += 1
        done = wait(
            lambda: (
                sum(service.counters.dead.values()) >= count and service.counters.accepted >= good
            ),
            timeout=120,
        )
        flood_s = time.monotonic() - started
        client.loop_stop()
        client.disconnect()
        stored = service.counters.accepted
        if not done:
            raise RuntimeError(f"the flood was not taken in 120 s: {service.counters}")
    with service_on(broker, folder) as (service, _database):
        topics, client = service.topics, publisher(broker)
        started = time.monotonic()
        for n in range(count):
            message = telemetry(n % FLEET, T0 + n)
            client.publish(topics.for_message(message, "acme"), encode(message), qos=1)
        if not wait(lambda: service.counters.accepted >= count, timeout=120):
            raise RuntimeError("the baseline was not taken in 120 s")
        good_s = time.monotonic() - started
        client.loop_stop()
        client.disconnect()
    garbage_rate, good_rate = count / flood_s, count / good_s
    return {
        "garbage_msgs_per_s_survived": round(garbage_rate),
        "good_stored_during_flood": f"{stored}/{good}",
        "baseline_good_msgs_per_s": round(good_rate),
        "garbage_vs_good": round(garbage_rate / good_rate, 3),
    }


def hot_bytes(folder: Path, ids: int, *, inventoried: bool, cap: int | None = None) -> float:
    """Bytes of hot state per device: `ids` devices each heard once, in batches.

    `cap`: the service's bound on device ids never inventoried (None: above `ids`).
    """
    store = SQLiteStore(folder / f"mem-{uuid.uuid4().hex[:8]}.sqlite")
    limit = cap if cap is not None else 2 * ids
    service = Service(store=store, topics=Topics("mem/simlab"), max_unknown_devices=limit)
    topics = service.topics
    batches = []
    for start in range(0, ids, 1000):
        batch = []
        for n in range(start, min(start + 1000, ids)):
            messages = [record(n, T0), telemetry(n, T0 + 1)] if inventoried else [telemetry(n, T0)]
            batch += [
                Received(topics.for_message(m, "acme"), encode(m), 1, n, 0.0) for m in messages
            ]
        batches.append(batch)
    service.handle(batches[0][:2])  # first-use allocations out of the figure
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for batch in batches:
        service.handle(batch)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    store.close()
    return (after - before) / ids


def stalled(folder: Path) -> float:
    """Seconds from SIGSTOP of a broker of its own to the ingest dropping it as stalled."""
    broker = MosquittoBroker().start()
    try:
        with service_on(broker, folder, keepalive=KEEPALIVE, probe_every=0.5) as (service, _db):
            ingest = service.ingest
            assert ingest is not None
            os.kill(broker.process.pid, signal.SIGSTOP)  # type: ignore[union-attr]
            started = time.monotonic()
            try:
                if not wait(lambda: ingest.stats.stalls >= 1, timeout=30):
                    raise RuntimeError("the stalled broker was not noticed in 30 s")
                return time.monotonic() - started
            finally:
                os.kill(broker.process.pid, signal.SIGCONT)  # type: ignore[union-attr]
    finally:
        broker.remove()


def chattr(flag: str, *paths: Path) -> None:
    """Set or clear the immutable flag (root writes through chmod 0444, not through this)."""
    subprocess.run(["chattr", flag, *map(str, paths)], check=True)  # noqa: S603, S607 - a fixed tool


def resume(broker: MosquittoBroker, folder: Path, hold: float, *, io: bool) -> float:
    """Seconds from the store writable again to the first commit after it."""
    with service_on(broker, folder) as (service, database):
        ingest = service.ingest
        assert ingest is not None
        wal = database.with_name(database.name + "-wal")
        if io:
            chattr("+i", database, wal)
        else:
            lock = sqlite3.connect(database, isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
        try:
            client = publisher(broker)
            for n in range(100):
                message = telemetry(n, T0 + n)
                topic = service.topics.for_message(message, "acme")
                client.publish(topic, encode(message), qos=1)
            if not wait(lambda: ingest.stats.retries_since is not None, timeout=30):
                raise RuntimeError("the store never refused")
            time.sleep(hold)
            committed = ingest.stats.committed
        finally:
            if io:
                chattr("-i", database, wal)
            else:
                lock.execute("ROLLBACK")
                lock.close()
        back = time.monotonic()
        if not wait(lambda: ingest.stats.committed > committed, timeout=30):
            raise RuntimeError("ingest did not resume in 30 s")
        took = time.monotonic() - back
        client.loop_stop()
        client.disconnect()
        return took


def main() -> None:
    """Run every part and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--garbage", type=int, default=50_000)
    parser.add_argument("--ids", type=int, default=20_000)
    parser.add_argument("--hold", type=float, default=10.0)
    args = parser.parse_args()
    if args.quick:
        args.garbage, args.ids, args.hold = 1_000, 1_000, 0.5
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="simlab-hardening-") as tmp:
        folder = Path(tmp)
        broker = MosquittoBroker().start()
        try:
            figures |= flood(broker, folder, args.garbage)
            unknown = hot_bytes(folder, args.ids, inventoried=False)
            known = hot_bytes(folder, args.ids, inventoried=True)
            capped = hot_bytes(folder, args.ids, inventoried=False, cap=args.ids // 10)
            figures |= {
                "unknown_id_bytes": round(unknown),
                "known_device_bytes": round(known),
                "unknown_vs_known": round(unknown / known, 3),
                "unknown_id_bytes_past_cap": round(capped),
            }
            detect = stalled(folder)
            figures |= {
                "stalled_broker_detect_s": round(detect, 2),
                "stalled_broker_keepalives": round(detect / KEEPALIVE, 2),
            }
            locked = resume(broker, folder, args.hold, io=False)
            io = resume(broker, folder, args.hold, io=True)
        finally:
            broker.remove()
    worst = max(locked, io)
    figures |= {
        "store_resume_locked_s": round(locked, 3),
        "store_resume_io_s": round(io, 3),
        "store_resume_s": round(worst, 3),
        "store_resume_vs_backoff": round(worst / RETRY_S[1], 3),
    }
    for name, value in figures.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
