"""Ingest throughput and lag of the diagnostics service over a real Mosquitto.

One run starts one Mosquitto (simlab's benchmark config) and records a seeded world
once (`--devices` collars reporting every `--interval` for `--hours`, through
`MemorySink.jsonl()`: telemetry, events, clocks, statuses, records). Then, each
under its own topic root:

  (a) baseline: a bare paho-mqtt subscriber process (QoS 1 subscription, it only
      `json.loads` each payload and counts) while the publisher replays the stream
      for `--baseline-seconds`;
  (b) the service: `simlab serve` as its own process, pinned to CPU 0 with
      `taskset -c 0` (when there is no taskset it runs unpinned, and says so), while
      the publisher replays the stream for `--seconds`.

This process, Mosquitto and the publisher are moved off CPU 0 (to the other CPUs),
so the service has CPU 0 to itself; the baseline subscriber runs on CPU 0 too. The
publisher is a separate process: the recording in a loop through
`MqttSink(speed=None, telemetry_qos=0).write_raw`, so
telemetry goes at QoS 0 and events, clocks, statuses and records at QoS 1, as fast
as the sink takes them (QoS 0 messages the sink cannot take are dropped by it and
not counted as published). Each pass moves every `t` on by the recording's span, so
every message is new to the service (none is a duplicate it would skip) and its
clock runs forward as in a longer run.

Lag, broker to commit: every `--probe-every` s the benchmark publishes one probe
(a telemetry message of a device of its own, QoS 1, from its own paho client) into
the same broker and polls the service's SQLite file until the probe is stored; the
lag is that time. It includes the wait behind everything queued in the broker and
the service. The service's own /metrics summary (printed as service_lag_*) measures
the same way from inside: a probe it publishes to itself through the broker.

Figures (one `name=value` per line):
  recorded_msgs              messages in one pass of the recording
  published_msgs_per_s       (b) messages the publisher sent per second
  ingest_msgs_per_s          (b) messages the service committed per second, from its
                             /metrics counter, over the publishing window
  received_msgs_per_s        (b) the same for messages it received
  backlog_at_end             received - committed when publishing stopped
  lag_p50_ms, lag_p99_ms     probe lags, whole run
  lag_p99_first_10s_ms, lag_p99_last_10s_ms   probes sent in the first / last 10 s
  lag_growth_ms_per_s        least-squares slope of probe lag over send time: about 0
                             while the service keeps up
  lag_probes, lag_probes_lost
  service_lag_p50_ms, service_lag_p99_ms      /metrics: its own probes, broker to commit
  service_read_to_commit_p99_ms               /metrics: socket read to commit (recent batches)
  service_cpu_us_per_msg     (b) CPU time of the service process per message committed,
                             over the publishing window (steadier than the rate when
                             other work shares the machine)
  service_cpu_share          (b) CPU seconds the service used per second of the window
  baseline_paho_subscriber_msgs_per_s         (a) messages decoded per second
  baseline_published_msgs_per_s               (a) messages the publisher sent per second
  service_pinned             the CPU list the service ran on, or "no"
  lag_flat                   lag_p99_last_10s_ms <= 2 * max(lag_p99_first_10s_ms, 100),
                             lag_growth_ms_per_s <= 50 (behind by less than 5% of the
                             time passed: this also holds a 10 s run, whose first and last
                             10 s are the same) and no probe lost (not stored within the
                             drain timeout)
  drained_s_after_publishing how long the service took to commit the rest, or "timeout"
  unstored_at_end            messages published but not yet stored when publishing stopped
  drain_msgs_per_s           unstored_at_end / drained_s_after_publishing: the service's
                             pace on a backlog once the publisher no longer shares the
                             broker's CPU ("n/a" for a drain under 3 s)
  target_met                 ingest_msgs_per_s >= 20,000 and lag_flat

`--profile FILE` runs the service with cProfile in its ingest thread (reading and
parsing MQTT, `Service.handle`: decode, detect, store; written to FILE every 50
batches); the profile costs throughput, so the figures of a profiled run are not the
benchmark's.

`--rate R` paces the publisher at R messages a second (the default, 0, publishes as
fast as the sink takes them): lag_flat then tells whether the service sustains R.

Usage: python benchmarks/ingest.py [--seconds S] [--quick] [--rate R] [--profile FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protocol.messages import Telemetry
from protocol.wire import Topics, decode_any, encode
from simlab.broker import MosquittoBroker, free_port, mosquitto_executable
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink

if TYPE_CHECKING:
    from simulator.world.spec import WorldSpec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_MSGS_PER_S = 20_000
MAX_GROWTH_MS_PER_S = 50.0
PROBE_DEVICE = "bench-probe"
PROBE_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 120.0
DRAIN_MIN_S = 3.0
"""A drain shorter than this gives no rate (too little backlog to tell)."""

PUBLISHER = r"""
import json, sys, time
from protocol.wire import Topics
from simulator.transport.publisher import MqttSink

url, root, recording, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rate = float(sys.argv[5])  # messages per second offered; 0: as fast as the sink takes them
prefix = len(b'{"topic":"')
lines = []
with open(recording, "rb") as f:
    for line in f:
        end = line.index(b'"', prefix)
        payload = line[end + len(b'","payload":'):-2]
        head, _, rest = payload.partition(b'"t":')  # every payload opens {"v":1,"t":...,
        t, comma, tail = rest.partition(b",")
        lines.append((line[prefix:end].decode(), head + b'"t":', float(t), comma + tail))
first, last = min(t for _, _, t, _ in lines), max(t for _, _, t, _ in lines)
span = last - first + 60.0  # each pass is the next stretch of time: every message is new
sink = MqttSink(url, topics=Topics(root), speed=None, telemetry_qos=0).start()
began = time.monotonic()
deadline = began + seconds
passes = written = 0
while time.monotonic() < deadline and passes < 100_000:
    shift = passes * span
    for i, (topic, head, t, tail) in enumerate(lines):
        sink.write_raw(topic, head + repr(t + shift).encode() + tail)
        written += 1
        if i % 200 == 0:
            now = time.monotonic()
            if now >= deadline:
                break
            if rate and written / rate > now - began:
                time.sleep(written / rate - (now - began))
    passes += 1
written = time.monotonic() - began
stats = sink.close(timeout=60)
sent = stats.queued - stats.dropped_qos0
print(json.dumps({"sent": sent, "queued": stats.queued, "dropped_qos0": stats.dropped_qos0,
                  "seconds": time.monotonic() - began, "write_seconds": written,
                  "passes": passes}), flush=True)
"""

SUBSCRIBER = r"""
import json, sys, time, threading
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

port, topic, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
count = 0
first = last = None
def on_message(client, userdata, message):
    global count, first, last
    json.loads(message.payload)
    count += 1
    last = time.monotonic()
    if first is None:
        first = last
ready = threading.Event()
client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{port}",
                     protocol=mqtt.MQTTv5)
client.on_message = on_message
client.on_subscribe = lambda *a: ready.set()
client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
client.connect("127.0.0.1", port, keepalive=30)
client.loop_start()
ready.wait(10)
print("ready", flush=True)
time.sleep(seconds)
client.loop_stop()
client.disconnect()
span = (last - first) if first is not None and last is not None and last > first else 0.0
print(json.dumps({"count": count, "seconds": span}), flush=True)
"""

PROFILED_SERVICE = r"""
import cProfile, sys
import diagnostics.ingest as ingest

out = sys.argv.pop(1)
profile = cProfile.Profile()
session, commit = ingest.Ingest._session, ingest.Ingest._commit
commits = [0]

def profiled_session(self, sock):
    profile.enable()  # in the ingest thread: reading, parsing, decoding, storing
    try:
        session(self, sock)
    finally:
        profile.disable()
        profile.dump_stats(out)

def profiled_commit(self, sock):
    commit(self, sock)
    commits[0] += 1
    if commits[0] % 50 == 0:
        profile.dump_stats(out)  # stops the profiler: start it again
        profile.enable()

ingest.Ingest._session = profiled_session
ingest.Ingest._commit = profiled_commit
from simlab.commands import main
main()
"""


@dataclass
class Probes:
    """Probe lags: (time sent since the start, lag in s); probes that never arrived."""

    lags: list[tuple[float, float]] = field(default_factory=list)
    lost: int = 0


def recording_world(devices: int, interval: str, seed: int) -> WorldSpec:
    """A world of `devices` collars (the test fixtures' world, enough SIMs)."""
    sys.path.insert(0, str(ROOT))
    from tests.world_fixtures import CUSTOMER, collars, world  # noqa: PLC0415 - benchmark-only

    customer: Any = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["count"] = devices
    spec: WorldSpec = world(
        devices=[collars(devices, report_interval=interval)], customer=customer, seed=seed
    )
    return spec


def record(path: Path, *, devices: int, interval: str, hours: float, seed: int) -> Telemetry:
    """Write the recording; returns one of its telemetry messages (the probes' model)."""
    memory = MemorySink()
    result = simulate(recording_world(devices, interval, seed), memory, until=hours * 3600)
    if result.error:
        raise RuntimeError(result.error)
    path.write_bytes(memory.jsonl())
    return next(m for m in memory.messages if isinstance(m, Telemetry))


def pinned(cpus: str) -> list[str]:
    """`taskset -c cpus` when taskset exists and the machine has the CPUs, else nothing."""
    taskset = shutil.which("taskset")
    wanted = {int(c) for c in cpus.split(",")}
    available = set(range(os.cpu_count() or 1))
    if taskset is None or not wanted <= available:
        return []
    return [taskset, "-c", cpus]


def keep_off_cpu0() -> set[int]:
    """Move this process (and so Mosquitto and the publisher) off CPU 0, the service's."""
    if not hasattr(os, "sched_setaffinity"):
        return set()
    others = os.sched_getaffinity(0) - {0}
    if not others or not pinned("0"):
        return set()
    os.sched_setaffinity(0, others)
    return others


def python(code: str, *args: str, cpus: str | None = None) -> list[str]:
    """A command that runs `code` with this Python (pinned to `cpus` when possible)."""
    return [*(pinned(cpus) if cpus else []), sys.executable, "-c", code, *args]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metrics(client: httpx.Client) -> dict[str, float]:
    """The service's /metrics as {name{labels}: value}."""
    found: dict[str, float] = {}
    for line in client.get("/metrics").text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def wait(predicate: Any, timeout: float, step: float = 0.05) -> bool:  # noqa: ANN401 - a callable
    """Poll `predicate` until it holds or `timeout` s have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, sqlite3.Error):
            if predicate():
                return True
        time.sleep(step)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a child process of ours (kill it if it does not stop in time)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class Prober:
    """Publishes probe telemetry without waiting and times each until the service stored it."""

    def __init__(self, broker: MosquittoBroker, topics: Topics, model: Telemetry, db: Path) -> None:
        self.model = model.model_copy(update={"device_id": PROBE_DEVICE})
        self.topic = topics.telemetry("bench", PROBE_DEVICE)
        self.db = db
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{uuid.uuid4().hex[:8]}"
        )
        self.client.connect("127.0.0.1", broker.port, keepalive=60)
        self.client.loop_start()
        self.sent: dict[int, float] = {}
        """seq -> monotonic time it was published."""
        self.lags: dict[int, float] = {}
        self.last_id = 0
        self.conn: sqlite3.Connection | None = None

    def send(self) -> None:
        """Publish one probe (QoS 1)."""
        seq = 10**9 + len(self.sent)
        self.sent[seq] = time.monotonic()
        self.client.publish(self.topic, encode(self.model.model_copy(update={"seq": seq})), qos=1)

    def poll(self) -> None:
        """Read the probes stored since the last poll and take their lags."""
        if self.conn is None:
            self.conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        rows = self.conn.execute(
            "SELECT id, payload FROM messages WHERE device_id = ? AND id > ? ORDER BY id",
            (PROBE_DEVICE, self.last_id),
        ).fetchall()
        now = time.monotonic()
        for row_id, payload in rows:
            self.last_id = row_id
            seq = int(json.loads(payload)["seq"])
            if seq in self.sent and seq not in self.lags:
                self.lags[seq] = now - self.sent[seq]

    def done(self) -> bool:
        """Every probe sent is stored."""
        self.poll()
        return len(self.lags) == len(self.sent)

    def probes(self, began: float) -> Probes:
        """The lags by send time since `began`; probes not stored count as lost."""
        found = Probes()
        for seq, at in self.sent.items():
            if at < began:
                continue
            if seq in self.lags:
                found.lags.append((at - began, self.lags[seq]))
            else:
                found.lost += 1
        return found

    def close(self) -> None:
        """Disconnect and close the reader."""
        self.client.loop_stop()
        self.client.disconnect()
        if self.conn is not None:
            self.conn.close()


def baseline(
    broker: MosquittoBroker, recording: Path, seconds: float, cpus: str, rate: float
) -> dict[str, float]:
    """(a): the bare subscriber's rate on the same stream."""
    topics = Topics(f"bench-base-{uuid.uuid4().hex[:8]}/simlab")
    subscriber = subprocess.Popen(  # noqa: S603 - this Python and our own script
        python(SUBSCRIBER, str(broker.port), topics.everything(), str(seconds + 3), cpus=cpus),
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert subscriber.stdout is not None
        subscriber.stdout.readline()  # ready
        publisher = publish(broker, topics, recording, seconds, rate=rate)
        out, _ = subscriber.communicate(timeout=seconds + 60)
    finally:
        stop(subscriber)
    got = json.loads(out.decode().splitlines()[-1])
    return {
        "baseline_paho_subscriber_msgs_per_s": got["count"] / max(got["seconds"], 1e-9),
        "baseline_published_msgs_per_s": publisher["sent"] / publisher["seconds"],
        "baseline_received": got["count"],
    }


def publish(
    broker: MosquittoBroker,
    topics: Topics,
    recording: Path,
    seconds: float,
    *,
    rate: float = 0.0,
    during: Any = None,  # noqa: ANN401 - a callable, called while publishing
) -> dict[str, Any]:
    """Run the publisher for `seconds` (at `rate` msg/s, 0: at most), calling `during()`."""
    cpus = None
    process = subprocess.Popen(  # noqa: S603 - this Python and our own script
        python(
            PUBLISHER, broker.url, topics.root, str(recording), str(seconds), str(rate), cpus=cpus
        ),
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + seconds + 90
        while process.poll() is None and time.monotonic() < deadline:
            if during is not None:
                during()
            else:
                time.sleep(0.1)
        out, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"the publisher failed with code {process.returncode}")
    result: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
    return result


def service_run(  # noqa: PLR0915 - one measurement from start to drain, in the order it runs
    broker: MosquittoBroker,
    recording: Path,
    model: Telemetry,
    folder: Path,
    *,
    seconds: float,
    rate: float,
    probe_every: float,
    profile: Path | None,
) -> dict[str, Any]:
    """(b): the service under the replay; its rates and lags."""
    topics = Topics(f"bench-svc-{uuid.uuid4().hex[:8]}/simlab")
    db = folder / "diagnostics.sqlite"
    port = free_port()
    args = [
        "serve",
        *("--broker", broker.url, "--root", topics.root, "--db", str(db)),
        *("--port", str(port), "--client-id", f"bench-{uuid.uuid4().hex[:8]}"),
    ]
    if profile is not None:
        command = python(PROFILED_SERVICE, str(profile), *args, cpus="0")
    else:
        command = python("from simlab.commands import main; main()", *args, cpus="0")
    log = (folder / "service.log").open("wb")
    service = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603 - this Python
    figures: dict[str, Any] = {"service_pinned": "0" if command[0].endswith("taskset") else "no"}
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    prober: Prober | None = None
    try:
        if not wait(lambda: http.get("/health").status_code == 200, 30):
            raise RuntimeError(f"the service did not start: see {folder / 'service.log'}")
        time.sleep(0.5)  # the subscription is acknowledged
        prober = Prober(broker, topics, model, db)
        prober.send()
        if not wait(prober.done, PROBE_TIMEOUT_S):
            raise RuntimeError("the first probe was not stored")
        before = metrics(http)
        cpu_before = cpu_seconds(service.pid)
        began = time.monotonic()
        next_probe = [began]

        def during() -> None:
            assert prober is not None
            now = time.monotonic()
            if now >= next_probe[0]:
                next_probe[0] = now + probe_every
                prober.send()
            prober.poll()
            time.sleep(0.02)

        published = publish(broker, topics, recording, seconds, rate=rate, during=during)
        after = metrics(http)
        cpu = cpu_seconds(service.pid) - cpu_before
        window = published["seconds"]
        total = published["sent"] + len(prober.sent)
        ended = time.monotonic()
        unstored = total - after["simlab_ingest_committed_total"]
        drained = wait(  # not too often: every /metrics costs the service CPU
            lambda: metrics(http)["simlab_ingest_committed_total"] >= total and prober.done(),
            DRAIN_TIMEOUT_S,
            0.2,
        )
        drain_s = time.monotonic() - ended
        committed = after["simlab_ingest_committed_total"] - before["simlab_ingest_committed_total"]
        received = after["simlab_ingest_received_total"] - before["simlab_ingest_received_total"]
        figures |= {
            "published_msgs_per_s": published["sent"] / window,
            "published_qos0_dropped_by_sink": published["dropped_qos0"],
            "ingest_msgs_per_s": committed / window,
            "received_msgs_per_s": received / window,
            "backlog_at_end": after["simlab_ingest_received_total"]
            - after["simlab_ingest_committed_total"],
            "service_lag_p50_ms": 1000 * after.get('simlab_ingest_lag_seconds{quantile="0.5"}', 0),
            "service_lag_p99_ms": 1000 * after.get('simlab_ingest_lag_seconds{quantile="0.99"}', 0),
            "service_read_to_commit_p99_ms": 1000
            * after.get('simlab_ingest_read_to_commit_seconds{quantile="0.99"}', 0),
            "service_cpu_us_per_msg": 1e6 * cpu / max(committed, 1),
            "service_cpu_share": cpu / window,
        }
        figures |= lag_figures(prober.probes(began), window)
        figures["drained_s_after_publishing"] = round(drain_s, 1) if drained else "timeout"
        figures["unstored_at_end"] = unstored
        figures["drain_msgs_per_s"] = (
            unstored / drain_s if drained and drain_s >= DRAIN_MIN_S else "n/a"
        )
        figures["committed_total"] = metrics(http)["simlab_ingest_committed_total"]
        figures["published_total"] = total
    finally:
        if prober is not None:
            prober.close()
        http.close()
        service.send_signal(signal.SIGTERM)
        stop(service)
        log.close()
    return figures


def lag_figures(probes: Probes, window: float) -> dict[str, Any]:
    """Percentiles of the probe lags: whole run, first and last 10 s."""

    def p99(lags: list[float]) -> float | str:
        return round(1000 * float(np.quantile(lags, 0.99)), 1) if lags else "n/a"

    every = [lag for _, lag in probes.lags]
    first = [lag for at, lag in probes.lags if at < 10]
    last = [lag for at, lag in probes.lags if at >= window - 10]
    return {
        "lag_p50_ms": round(1000 * float(np.quantile(every, 0.5)), 1) if every else "n/a",
        "lag_p99_ms": p99(every),
        "lag_p99_first_10s_ms": p99(first),
        "lag_p99_last_10s_ms": p99(last),
        "lag_max_ms": round(1000 * max(every), 1) if every else "n/a",
        "lag_growth_ms_per_s": round(1000 * _slope(probes.lags), 1)
        if len(probes.lags) >= 2
        else "n/a",
        "lag_probes": len(every),
        "lag_probes_lost": probes.lost,
    }


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of lag over send time (s of lag gained per s of run)."""
    at = np.array([p[0] for p in points])
    lag = np.array([p[1] for p in points])
    if np.ptp(at) == 0:
        return 0.0
    return float(np.polyfit(at, lag, 1)[0])


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="10 s of service, 5 s of baseline")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--interval", default="1m", help="Telemetry interval of each device")
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--probe-every", type=float, default=0.25)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="Messages per second offered (0: at most)"
    )
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the ingest thread")
    parser.add_argument("--skip-baseline", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.seconds, options.baseline_seconds = 10.0, 5.0
    if mosquitto_executable() is None:
        sys.exit("mosquitto is not installed (Debian: apt-get install mosquitto)")

    folder = Path(tempfile.mkdtemp(prefix="simlab-bench-ingest-"))
    others = keep_off_cpu0()
    broker = MosquittoBroker().start()
    if others and broker.process is not None:
        os.sched_setaffinity(broker.process.pid, others)
    try:
        recording = folder / "recording.jsonl"
        model = record(
            recording,
            devices=options.devices,
            interval=options.interval,
            hours=options.hours,
            seed=options.seed,
        )
        lines = recording.read_bytes().count(b"\n")
        figures: dict[str, Any] = {"recorded_msgs": lines}
        assert isinstance(decode_any(encode(model)), Telemetry)
        if not options.skip_baseline:
            figures |= baseline(
                broker, recording, options.baseline_seconds, cpus="0", rate=options.rate
            )
        figures |= service_run(
            broker,
            recording,
            model,
            folder,
            seconds=options.seconds,
            rate=options.rate,
            probe_every=options.probe_every,
            profile=options.profile,
        )
        first, last = figures["lag_p99_first_10s_ms"], figures["lag_p99_last_10s_ms"]
        growth = figures["lag_growth_ms_per_s"]
        flat = (
            isinstance(first, float)
            and isinstance(last, float)
            and last <= 2 * max(first, 100.0)
            and isinstance(growth, float)
            and growth <= MAX_GROWTH_MS_PER_S
            and figures["lag_probes_lost"] == 0
        )
        figures["lag_flat"] = flat
        figures["target_met"] = figures["ingest_msgs_per_s"] >= TARGET_MSGS_PER_S and flat
        for name, value in figures.items():
            text = f"{value:.1f}" if isinstance(value, float) else str(value)
            print(f"{name}={text}")
    finally:
        broker.remove()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
