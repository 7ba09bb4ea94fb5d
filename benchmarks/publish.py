"""Publishing to Mosquitto: the MQTT sink against the reference `mosquitto_pub -l`.

One run starts one Mosquitto (simlab's benchmark config: `set_tcp_nodelay true`, no
queue limit) and publishes the same per-device telemetry payloads three times, each
under its own topic root with its own `mosquitto_sub` subscriber counting what arrives:

  (a) MqttSink(speed=None, telemetry_qos=0).write_raw(...) of every payload,
  (b) the same with telemetry_qos=1 (the subscriber subscribes at QoS 1 too),
  (c) `mosquitto_pub -l -q 1`, fed the same payload lines in chunks of at most 50,000
      lines, one process after another (at QoS 1 it stops after 65,535 lines).

What is compared: the same payload bytes (protocol Telemetry models encoded with
`protocol.wire.encode`, a few hundred bytes each, one report after another of each of
`--devices` devices with a rising `seq`). The sink publishes each on its device's topic
`{root}/bench/device/{id}/telemetry`; `mosquitto_pub -l` sends every line to one topic,
so the reference uses one topic of the same shape per chunk,
`{root}/bench/device/chunk-{k}/telemetry`. A rate is messages the subscriber received
per wall second, from the first write (or the start of the first `mosquitto_pub`)
until the last arrival; a message missing at the timeout counts as lost.

Figures (one `name=value` per line):
  messages, devices, payload_bytes   what each measurement publishes (payload_bytes: the mean)
  sink_qos0_msgs_per_s        (a): messages received per wall second
  sink_qos1_msgs_per_s        (b): the same
  reference_qos1_msgs_per_s   (c): the same
  {name}_received / _lost     messages the subscriber received / did not within the timeout
  {name}_wall_s               first write to last arrival
  {name}_error                only when a measurement ended early (timeout, failed publisher)
  sink_qos0_dropped           QoS 0 messages the sink dropped (its queue full, or not connected)
  sink_qos0_write_s, sink_qos1_write_s   wall time of the write_raw calls alone
  ratio_qos1                  sink_qos1_msgs_per_s / reference_qos1_msgs_per_s
  ratio_qos0_vs_target        sink_qos0_msgs_per_s / 40,000
  target_qos0_met, target_ratio_qos1_met   (the QoS 1 one also needs nothing lost)
Targets from one sink process: sink_qos0_msgs_per_s >= 40,000 and ratio_qos1 >= 0.25.
The sink runs with its defaults (`--queue-size`, `--max-inflight` change them): at
speed=None this loop writes faster than the sink publishes, so with the default queue
most QoS 0 messages are dropped, as the sink is designed to; the rate counts only what
arrived. The subscriber's output is read in 5 ms batches, so that counting takes little
of this process's GIL from the sink.

Usage: python benchmarks/publish.py [--messages N] [--devices D] [--quick]
           [--queue-size Q] [--max-inflight M] [--timeout S]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from protocol.identifiers import Iccid, Imei
from protocol.messages import Telemetry
from protocol.wire import Topics, encode
from simlab.broker import LOOPBACK, MosquittoBroker
from simulator.transport.publisher import MqttSink

QOS0_TARGET = 40_000
QOS1_RATIO_TARGET = 0.25
CHUNK_LINES = 50_000
"""`mosquitto_pub -l` at QoS 1 stops after 65,535 lines: it is fed at most this many."""
ACCOUNT = "bench"
START_T = 1_777_852_800.0  # 2026-05-04T00:00:00Z
REPORT_S = 900.0
POLL_S = 0.005
"""How often the subscriber's output is read: arrival times are this exact."""


def tool(name: str) -> str:
    """The path of a Mosquitto client program."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not installed (Debian: apt-get install mosquitto-clients)")
    return path


def payloads(messages: int, devices: int) -> tuple[list[str], list[bytes]]:
    """`messages` telemetry reports of `devices` devices, round after round: topics, payloads."""
    rng = random.Random(42)
    first_iccid = Iccid.from_body("894610000000000000").body_int
    ids = [f"meter-{n:06d}" for n in range(devices)]
    iccids = [str(Iccid.from_body_int(first_iccid + n)) for n in range(devices)]
    imeis = [Imei.from_body(f"{86000000000000 + n:014d}").value for n in range(devices)]
    topics: list[str] = []
    data: list[bytes] = []
    for i in range(messages):
        rnd, n = divmod(i, devices)
        rsrp = round(rng.uniform(-120.0, -70.0), 1)
        battery = round(max(1.0, 100.0 - rnd * 0.05 - rng.uniform(0, 5)), 1)
        report = Telemetry(
            t=START_T + rnd * REPORT_S + n * REPORT_S / devices,
            device_id=ids[n],
            iccid=iccids[n],
            imei=imeis[n],
            seq=rnd + 1,
            firmware="2.4.1",
            battery=battery,
            supply_mv=round(3300 + 9 * battery),
            bearer="LTE-M" if n % 3 else "NB-IoT",
            mcc_mnc="24001",
            cell_id=1 + n % 20,
            rsrp=rsrp,
            rsrq=round(-6.0 + (rsrp + 80) / 8, 1),
            snr=round((rsrp + 125) / 3, 1),
            apn="meters.energi",
            ip=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
            errors=[4] if rsrp < -115 else [],
            uptime_s=round(rnd * REPORT_S + 3600),
        )
        topics.append(f"{ACCOUNT}/device/{ids[n]}/telemetry")
        data.append(encode(report))
    return topics, data


@dataclass
class Subscriber:
    """A `mosquitto_sub` on `{root}/#` whose output (one payload length a line) a thread counts.

    A zero-length message is a readiness probe, not counted.
    """

    port: int
    root: str
    qos: int
    expected: int
    lifetime_s: float
    received: int = 0
    received_bytes: int = 0
    last_at: float | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[bytes] | None = None
    thread: threading.Thread | None = None

    def start(self) -> Subscriber:
        """Start the subscriber and its reader thread."""
        self.process = subprocess.Popen(  # noqa: S603 - a fixed program on our own broker
            [
                tool("mosquitto_sub"),
                *("-h", LOOPBACK, "-p", str(self.port)),
                *("-t", f"{self.root}/#", "-q", str(self.qos)),
                *("-F", "%l"),  # the payload's length: enough to count messages and bytes
                *("-W", str(max(1, round(self.lifetime_s)))),  # it ends itself at the latest then
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.thread = threading.Thread(target=self._read, name="bench-sub", daemon=True)
        self.thread.start()
        return self

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        rest = b""
        while chunk := os.read(fd, 1 << 20):  # ends when the process does (-W bounds it)
            now = time.perf_counter()
            *lines, rest = (rest + chunk).split(b"\n")
            probes = lines.count(b"0")
            if probes:
                self.ready.set()
            if len(lines) > probes:
                self.received += len(lines) - probes
                self.received_bytes += sum(map(int, lines))
                self.last_at = now
                if self.received >= self.expected:
                    self.done.set()
            time.sleep(POLL_S)  # read in batches: a wake-up per message would take the GIL

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Publish empty probes until the subscriber shows one: then it is subscribed."""
        deadline = time.monotonic() + timeout
        for _ in range(200):
            subprocess.run(  # noqa: S603 - a fixed program on our own broker
                [
                    tool("mosquitto_pub"),
                    *("-h", LOOPBACK, "-p", str(self.port)),
                    *("-t", f"{self.root}/ready", "-q", "1", "-n"),
                ],
                check=True,
                capture_output=True,
                timeout=timeout,
            )
            if self.ready.wait(0.1):
                return
            if time.monotonic() > deadline:
                break
        raise TimeoutError(f"mosquitto_sub on {self.root}/# did not subscribe in {timeout:g} s")

    def stop(self) -> None:
        """End the process and the reader thread."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.thread is not None:
            self.thread.join(5)  # the process ended: the thread reads to the end of its output
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Result:
    """One measurement."""

    received: int
    received_bytes: int
    wall_s: float
    write_s: float = 0.0
    dropped: int = 0
    error: str | None = None
    """Why the measurement ended early (a timeout, a failed publisher), if it did."""

    @property
    def rate(self) -> float:
        """Messages received per wall second."""
        return self.received / self.wall_s if self.wall_s > 0 else 0.0


def settle(sub: Subscriber, deadline: float, idle_s: float = 2.0) -> None:
    """Wait until every message arrived, nothing arrived for `idle_s`, or the deadline."""
    quiet_since = time.perf_counter()
    for _ in range(100_000):  # 0.1 s each: the deadline or the idle time comes first
        if sub.done.wait(0.1):
            return
        now = time.perf_counter()
        last = max(quiet_since, sub.last_at or 0.0)
        if now >= deadline or now - last >= idle_s:
            return


def fresh_root(name: str) -> str:
    """A topic root no other measurement (or run) uses."""
    return f"bench/{uuid.uuid4().hex[:8]}/{name}"


def measure_sink(
    port: int,
    topics: list[str],
    data: list[bytes],
    *,
    qos: int,
    timeout: float,
    sink_options: dict[str, Any],
) -> Result:
    """Publish every payload through an MqttSink; count what a subscriber receives.

    The writes and `close` run in a daemon thread joined with a timeout: a sink that
    blocks (QoS 1 backpressure with a stuck publisher) ends the measurement, not the run.
    """
    root = fresh_root(f"sink-qos{qos}")
    sub = Subscriber(port, root, qos, len(data), lifetime_s=timeout + 60).start()
    try:
        sub.wait_ready()
        sink = MqttSink(
            f"mqtt://{LOOPBACK}:{port}",
            topics=Topics(root),
            speed=None,
            telemetry_qos=qos,
            **sink_options,
        ).start()
        began = time.perf_counter()
        deadline = began + timeout
        outcome: dict[str, Any] = {}

        def publish_all() -> None:
            try:
                try:
                    for i, (topic, payload) in enumerate(zip(topics, data, strict=True)):
                        if i % 1000 == 0 and time.perf_counter() > deadline:
                            outcome["error"] = f"timed out after {i} writes"
                            break
                        sink.write_raw(topic, payload)
                    outcome["written"] = time.perf_counter()
                finally:
                    left = max(1.0, deadline - time.perf_counter())
                    outcome["dropped"] = sink.close(timeout=left).dropped_qos0
            except Exception as exc:  # noqa: BLE001 - reported as this measurement's error
                outcome["error"] = f"{type(exc).__name__}: {exc}"

        writer = threading.Thread(target=publish_all, name="bench-writer", daemon=True)
        writer.start()
        writer.join(timeout + 30)
        if writer.is_alive():
            outcome["error"] = "the sink did not finish (still blocked at the timeout)"
        settle(sub, deadline)
        end = sub.last_at if sub.last_at is not None else time.perf_counter()
        return Result(
            sub.received,
            sub.received_bytes,
            end - began,
            outcome.get("written", end) - began,
            outcome.get("dropped", 0),
            outcome.get("error"),
        )
    finally:
        sub.stop()


def measure_reference(port: int, data: list[bytes], *, timeout: float) -> Result:
    """Publish every payload with `mosquitto_pub -l -q 1`, 50,000-line chunks one after another."""
    root = fresh_root("reference-qos1")
    chunks = [
        b"\n".join(data[start : start + CHUNK_LINES]) + b"\n"
        for start in range(0, len(data), CHUNK_LINES)
    ]
    program = tool("mosquitto_pub")
    error = None
    sub = Subscriber(port, root, 1, len(data), lifetime_s=timeout + 60).start()
    try:
        sub.wait_ready()
        began = time.perf_counter()
        deadline = began + timeout
        for k, chunk in enumerate(chunks):
            left = deadline - time.perf_counter()
            if left <= 0:
                error = f"timed out after {k} of {len(chunks)} chunks"
                break
            try:
                subprocess.run(  # noqa: S603 - a fixed program on our own broker
                    [
                        program,
                        *("-h", LOOPBACK, "-p", str(port)),
                        *("-t", f"{root}/{ACCOUNT}/device/chunk-{k}/telemetry", "-q", "1", "-l"),
                    ],
                    input=chunk,
                    check=True,
                    capture_output=True,
                    timeout=left,
                )
            except subprocess.TimeoutExpired:  # run() has killed it
                error = f"chunk {k} timed out"
                break
            except subprocess.CalledProcessError as exc:
                error = f"chunk {k}: mosquitto_pub exited {exc.returncode}: {exc.stderr!r:.200}"
                break
        settle(sub, deadline)
        end = sub.last_at if sub.last_at is not None else time.perf_counter()
        return Result(sub.received, sub.received_bytes, end - began, error=error)
    finally:
        sub.stop()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--queue-size", type=int, help="the sink's queue (default: the sink's)")
    parser.add_argument("--max-inflight", type=int, help="the sink's QoS 1 window (its default)")
    parser.add_argument("--timeout", type=float, help="seconds per measurement at most")
    parser.add_argument("--quick", action="store_true", help="20,000 messages")
    args = parser.parse_args()
    messages = 20_000 if args.quick else args.messages
    devices = max(1, min(args.devices, messages))
    timeout = args.timeout or max(20.0, messages / 2000)
    sink_options: dict[str, Any] = {}
    if args.queue_size is not None:
        sink_options["queue_size"] = args.queue_size
    if args.max_inflight is not None:
        sink_options["max_inflight"] = args.max_inflight
    tool("mosquitto_pub")
    tool("mosquitto_sub")

    topics, data = payloads(messages, devices)
    expected_bytes = sum(map(len, data))
    broker = MosquittoBroker().start()
    try:
        qos0 = measure_sink(
            broker.port, topics, data, qos=0, timeout=timeout, sink_options=sink_options
        )
        qos1 = measure_sink(
            broker.port, topics, data, qos=1, timeout=timeout, sink_options=sink_options
        )
        reference = measure_reference(broker.port, data, timeout=timeout)
    finally:
        broker.stop()

    print(f"messages={messages}")
    print(f"devices={devices}")
    print(f"payload_bytes={expected_bytes / messages:.0f}")
    for name, result in (("sink_qos0", qos0), ("sink_qos1", qos1), ("reference_qos1", reference)):
        print(f"{name}_msgs_per_s={result.rate:.0f}")
        print(f"{name}_received={result.received}")
        print(f"{name}_lost={messages - result.received}")
        print(f"{name}_wall_s={result.wall_s:.3f}")
        if result.received == messages and result.received_bytes != expected_bytes:
            print(f"{name}_bytes_mismatch={result.received_bytes - expected_bytes}")
        if result.error is not None:
            print(f"{name}_error={result.error}")
    print(f"sink_qos0_dropped={qos0.dropped}")
    print(f"sink_qos0_write_s={qos0.write_s:.3f}")
    print(f"sink_qos1_write_s={qos1.write_s:.3f}")
    ratio = qos1.rate / reference.rate if reference.rate else 0.0
    print(f"ratio_qos1={ratio:.3f}")
    print(f"ratio_qos0_vs_target={qos0.rate / QOS0_TARGET:.3f}")
    print(f"target_qos0_met={qos0.rate >= QOS0_TARGET}")
    print(f"target_ratio_qos1_met={ratio >= QOS1_RATIO_TARGET and qos1.received == messages}")


if __name__ == "__main__":
    main()
