"""MqttSink against a real Mosquitto: the exact stream, pacing, watermarks, backpressure, restarts,
TLS, MQTT 3.1.1, record and replay, credentials.

Every check reads what an independent consumer received (the paho `Subscriber` of
`tests/mqtt_helpers.py`, and `mosquitto_sub` once) and compares it with what the same seeded
world writes into a `MemorySink`. Nothing connects anywhere but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from protocol.messages import Clock
from protocol.wire import Topics, decode, delivery, encode
from simlab.broker import LOOPBACK, MosquittoBroker, TlsFiles
from simulator.transport.publisher import MqttSink
from simulator.world.simulate import simulate
from simulator.world.sinks import JsonlSink, MemorySink
from tests.mqtt_helpers import Subscriber
from tests.world_fixtures import collars, world

pytestmark = pytest.mark.broker

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

    from simulator.transport.item import PublishStats
    from simulator.world.spec import WorldSpec

H = 3600.0


# ---- worlds and what they write ---------------------------------------------------------------


def faulty_world() -> WorldSpec:
    """Six collars, one loses power (its Last Will goes out), one SIM is deactivated."""
    return world(
        devices=[collars(6)],
        faults=[
            {"fault": "power_loss", "at": "2h", "duration": "1h", "devices": ["collar-0002"]},
            {"fault": "sim_deactivated", "at": "3h", "duration": "2h", "devices": ["collar-0004"]},
        ],
    )


def chatty_world() -> WorldSpec:
    """Six collars reporting every minute: many messages in a short span of sim time."""
    return world(devices=[collars(6, report_interval="1m", report_jitter="5s")])


@functools.cache
def recorded(name: str, until: float, clock_every: float = 60.0) -> MemorySink:
    """What a world writes, in memory (the reference every broker-side stream is compared with)."""
    spec = {"faulty": faulty_world, "chatty": chatty_world}[name]()
    memory = MemorySink()
    result = simulate(spec, memory, until=until, clock_every=clock_every)
    assert result.error is None, result.error
    stamps = [m.t for m in memory.messages]  # type: ignore[attr-defined]
    assert stamps == sorted(stamps), "the model writes in time order"
    return memory


@dataclass(frozen=True, slots=True)
class Sent:
    """One message as the sink must publish it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    t: float
    clock: bool
    message: BaseModel

    @property
    def pair(self) -> tuple[str, bytes]:
        return self.topic, self.payload


def expected_stream(memory: MemorySink, topics: Topics, telemetry_qos: int = 0) -> list[Sent]:
    out = []
    for message, account in zip(memory.messages, memory.accounts, strict=True):
        how = delivery(message, telemetry_qos=telemetry_qos)
        out.append(
            Sent(
                topics.for_message(message, account or ""),
                encode(message),
                how.qos,
                how.retain,
                message.t,  # type: ignore[attr-defined]
                isinstance(message, Clock),
                message,
            )
        )
    return out


def by_key(pairs: list[tuple[str, bytes]], topics: Topics) -> dict[str, list[bytes]]:
    """Payloads grouped by device id (telemetry, status), ICCID (events, record) or `clock`."""
    groups: dict[str, list[bytes]] = defaultdict(list)
    for topic, payload in pairs:
        route = topics.route(topic)
        groups[route.key or route.kind].append(payload)
    return dict(groups)


def latest_retained(expected: list[Sent]) -> dict[str, bytes]:
    """What a late subscriber must find retained: the last retained payload per topic."""
    return {s.topic: s.payload for s in expected if s.retain}


def assert_watermarks(received: list[tuple[str, bytes]], expected: list[Sent]) -> None:
    """Each clock's first arrival follows the first arrival of every QoS 1 message before it.

    The model writes in time order (checked in `recorded`), so "before it in the stream"
    includes every QoS 1 message stamped before the clock.
    """
    first: dict[tuple[str, bytes], int] = {}
    for index, pair in enumerate(received):
        first.setdefault(pair, index)
    latest_qos1 = -1
    for sent in expected:
        if sent.clock:
            at = first[sent.pair]
            assert at > latest_qos1, f"clock t={sent.t} arrived before a QoS 1 message it covers"
        if sent.qos == 1:
            latest_qos1 = max(latest_qos1, first[sent.pair])


def pairs(sub: Subscriber) -> list[tuple[str, bytes]]:
    return [(m.topic, m.payload) for m in sub.messages]


def run_through(
    spec: WorldSpec, sink: MqttSink, until: float, clock_every: float = 60.0
) -> tuple[float, PublishStats]:
    """Simulate into a started sink, close it: (wall seconds from first write to close, stats)."""
    began = time.monotonic()
    result = simulate(spec, sink, until=until, clock_every=clock_every)
    stats = sink.close()
    assert result.error is None, result.error
    return time.monotonic() - began, stats


def subscribe(port: int, topic: str, **kwargs: object) -> Subscriber:
    return Subscriber(LOOPBACK, port, topic, qos=1, **kwargs).start()  # type: ignore[arg-type]


def settle(sub: Subscriber, count: int, timeout: float = 20.0) -> None:
    """Wait for `count` messages, then a little longer so that any extra one would show."""
    assert sub.wait_for(lambda got: len(got) >= count, timeout), (
        f"{len(sub.messages)} of {count} messages arrived"
    )
    time.sleep(0.3)


# ---- brokers of a test's own ------------------------------------------------------------------


@dataclass
class OwnBroker(MosquittoBroker):
    """A MosquittoBroker with extra configuration (a password file, say)."""

    extra: str = ""
    anonymous: bool = True

    def config(self) -> str:
        text = super().config()
        if not self.anonymous:
            assert "allow_anonymous true\n" in text
            text = text.replace("allow_anonymous true\n", "allow_anonymous false\n")
        return text + self.extra


@pytest.fixture
def own_broker():
    """Start an OwnBroker(**kwargs) of the test's own; every one is stopped afterwards."""
    started: list[OwnBroker] = []

    def start(**kwargs: object) -> OwnBroker:
        broker = OwnBroker(**kwargs)  # type: ignore[arg-type]
        started.append(broker)
        return broker.start()

    yield start
    for broker in started:
        broker.stop()


# ---- mosquitto_sub as a second, independent consumer ------------------------------------------


class MosquittoSub:
    """`mosquitto_sub -v` in a subprocess, taking `count` messages or giving up after `timeout`."""

    def __init__(self, port: int, topics: Topics, count: int, timeout: int = 30) -> None:
        self.root = topics.root.encode() + b"/"
        self.lines: list[bytes] = []
        self.subscribed = threading.Event()
        self.process = subprocess.Popen(
            [
                *("stdbuf", "-oL"),  # line-buffered: a pipe would hold the SUBACK line back
                "mosquitto_sub",
                *("-h", LOOPBACK, "-p", str(port), "-t", topics.everything(), "-q", "1"),
                *("-v", "-d", "-C", str(count), "-W", str(timeout)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.subscribed.wait(10):
            self.process.kill()
            self.finish(5)
            pytest.fail("mosquitto_sub did not subscribe")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(self.root):
                self.lines.append(line.rstrip(b"\n"))
            elif b"SUBACK" in line:  # -d prints the protocol exchange
                self.subscribed.set()

    def finish(self, timeout: float) -> list[tuple[str, bytes]]:
        try:
            self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.reader.join(5)
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe is not None:
                    pipe.close()
        out = []
        for line in self.lines:
            topic, payload = line.split(b" ", 1)
            out.append((topic.decode(), payload))
        return out


# ---- 1. the exact stream at full speed ---------------------------------------------------------


@pytest.mark.parametrize("telemetry_qos", [1, 0], ids=["telemetry-qos1", "telemetry-qos0"])
def test_full_speed_delivers_exactly_the_recorded_stream(mosquitto, topics, telemetry_qos):
    """With QoS 1 telemetry nothing may be lost; with the default QoS 0 loopback loses nothing
    either, so both runs must deliver the recorded stream exactly."""
    memory = recorded("faulty", 12 * H)
    expected = expected_stream(memory, topics, telemetry_qos)
    wanted = [s.pair for s in expected]
    kinds = Counter(type(s.message).__name__ for s in expected)
    assert kinds["Clock"] > 100
    assert kinds["Telemetry"] > 100
    assert any(getattr(s.message, "will", False) for s in expected), "a Last Will in the stream"

    sub = subscribe(mosquitto.port, topics.everything())
    cli = MosquittoSub(mosquitto.port, topics, len(expected))
    try:
        sink = MqttSink(mosquitto.url, topics=topics, telemetry_qos=telemetry_qos).start()
        _, stats = run_through(faulty_world(), sink, 12 * H)
        settle(sub, len(expected))
        by_cli = cli.finish(30)
    finally:
        sub.stop()

    got = pairs(sub)
    assert len(got) == len(expected)
    assert by_key(got, topics) == by_key(wanted, topics)  # same order per device / SIM
    assert Counter(got) == Counter(wanted)  # byte-identical payloads on the right topics
    assert got == wanted  # one publisher, one subscriber: Mosquitto keeps the total order too
    for received, sent in zip(sub.messages, expected, strict=True):
        assert decode(received.topic, received.payload, topics)[1] == sent.message
        assert received.qos == sent.qos
        assert received.retain is False  # live delivery: retain is set only for stored messages
    assert_watermarks(got, expected)

    assert by_cli == wanted  # the second consumer, mosquitto_sub, saw the same

    qos1 = sum(s.qos for s in expected)
    assert stats.queued == stats.published == len(expected)
    assert stats.acked == qos1
    assert stats.dropped_qos0 == 0
    assert stats.late == 0
    assert stats.connects == 1

    # Retention: a subscriber arriving afterwards finds the latest status per device and the
    # latest record per SIM, flagged retained, and nothing else (no clock, event, telemetry).
    retained = latest_retained(expected)
    assert {topics.route(t).kind for t in retained} == {"status", "record"}
    late = subscribe(mosquitto.port, topics.everything())
    try:
        settle(late, len(retained), timeout=10)
    finally:
        late.stop()
    assert len(late.messages) == len(retained)
    assert {m.topic: m.payload for m in late.messages} == retained
    assert all(m.retain and m.qos == 1 for m in late.messages)


# ---- 2. pacing ---------------------------------------------------------------------------------

SPEED = 200.0
LATE_TOLERANCE_S = 0.25
EARLY_TOLERANCE_S = 0.05


def test_paced_arrivals_follow_sim_time_over_speed(mosquitto, topics):
    memory = recorded("chatty", 600, clock_every=10)
    expected = expected_stream(memory, topics)  # QoS 0 telemetry: loopback drops nothing
    span_s = (expected[-1].t - expected[0].t) / SPEED
    assert 2.9 <= span_s <= 3.0

    sub = subscribe(mosquitto.port, topics.everything())
    try:
        sink = MqttSink(mosquitto.url, topics=topics, speed=SPEED).start()
        wall_s, stats = run_through(chatty_world(), sink, 600, clock_every=10)
        settle(sub, len(expected), timeout=10)
    finally:
        sub.stop()

    arrived = {(m.topic, m.payload): m.at for m in sub.messages}
    assert len(sub.messages) == len(arrived) == len(expected)
    t0, at0 = expected[0].t, arrived[expected[0].pair]
    errors = [(arrived[s.pair] - at0) - (s.t - t0) / SPEED for s in expected]
    assert max(errors) <= LATE_TOLERANCE_S, f"up to {max(errors):.3f} s late"
    assert min(errors) >= -EARLY_TOLERANCE_S, f"up to {-min(errors):.3f} s early"
    assert span_s <= wall_s <= span_s + 0.5
    assert stats.max_lag_s < 0.1
    assert stats.late == 0
    assert_watermarks(pairs(sub), expected)


def test_a_speed_too_fast_reports_the_lag(mosquitto, topics):
    """At 10^9 sim seconds a second everything is due at once: the lag is the publishing time."""
    sink = MqttSink(mosquitto.url, topics=topics, speed=1e9).start()
    wall_s, stats = run_through(faulty_world(), sink, 12 * H)
    assert 0 < stats.max_lag_s <= wall_s
    assert stats.max_lag_s > wall_s - 0.1
    assert stats.published == stats.queued == len(recorded("faulty", 12 * H).messages)


def test_a_speed_too_fast_for_the_broker_reports_lag_and_still_delivers(own_broker, topics):
    """12 h of sim time planned for 0.5 s of wall time, while the broker stalls for 1.5 s."""
    broker = own_broker()
    memory = recorded("faulty", 12 * H)
    expected = expected_stream(memory, topics)
    speed = 12 * H / 0.5
    sub = subscribe(broker.port, topics.everything())
    try:
        sink = MqttSink(broker.url, topics=topics, speed=speed).start()
        assert broker.process is not None
        os.kill(broker.process.pid, signal.SIGSTOP)
        resume = threading.Timer(1.5, os.kill, (broker.process.pid, signal.SIGCONT))
        resume.start()
        try:
            wall_s, stats = run_through(faulty_world(), sink, 12 * H)
        finally:
            resume.join()
        settle(sub, len(expected))
    finally:
        sub.stop()

    assert wall_s > 1.5
    assert stats.max_lag_s > 1.0
    assert stats.max_lag_s <= wall_s
    assert stats.late > 0
    assert stats.dropped_qos0 == 0
    assert stats.published == stats.queued == len(expected)
    assert pairs(sub) == [s.pair for s in expected]


# ---- 3. watermarks -----------------------------------------------------------------------------


class WatermarkProbe(MqttSink):
    """Notes, as each clock is handed to paho, how many QoS 1 messages went before it and how
    many of those were acknowledged (`_send` is the documented hook for subclasses)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.qos1_sent = 0
        self.at_clocks: list[tuple[int, int]] = []

    def _send(self, item):
        if item.clock:
            self.at_clocks.append((self.qos1_sent, self.stats.acked))
        sent = super()._send(item)
        if item.qos:
            self.qos1_sent += 1
        return sent


def test_every_clock_follows_the_acknowledgement_of_all_qos1_messages_before_it(mosquitto, topics):
    memory = recorded("faulty", 12 * H)
    expected = expected_stream(memory, topics, telemetry_qos=1)
    sub = subscribe(mosquitto.port, topics.everything())
    try:
        sink = WatermarkProbe(mosquitto.url, topics=topics, telemetry_qos=1, max_inflight=500)
        run_through(faulty_world(), sink.start(), 12 * H)
        settle(sub, len(expected))
    finally:
        sub.stop()

    clocks = sum(s.clock for s in expected)
    assert len(sink.at_clocks) == clocks
    assert all(acked == before for before, acked in sink.at_clocks), [
        c for c in sink.at_clocks if c[0] != c[1]
    ][:5]
    got = pairs(sub)
    assert_watermarks(got, expected)
    # and at the subscriber: no clock arrives before an event or record stamped earlier
    seen_clock_t = float("-inf")
    for sent in (decode(t, p, topics)[1] for t, p in got):
        if isinstance(sent, Clock):
            seen_clock_t = sent.t
        else:
            assert sent.t >= seen_clock_t  # type: ignore[attr-defined]


# ---- 4. backpressure and drops -----------------------------------------------------------------


def test_a_full_queue_makes_the_model_wait_for_qos1_and_drops_qos0(mosquitto, topics):
    """A queue of 5 in front of a publisher paced to 2 s: the model outruns it at once."""
    memory = recorded("faulty", 12 * H)
    expected = expected_stream(memory, topics)
    speed = 12 * H / 2.0
    sub = subscribe(mosquitto.port, topics.everything())
    try:
        sink = MqttSink(mosquitto.url, topics=topics, speed=speed, queue_size=5).start()
        result = simulate(faulty_world(), sink, until=12 * H)
        stats = sink.close()
        assert result.error is None, result.error
        qos1 = [s.pair for s in expected if s.qos == 1]
        telemetry_sent = sum(1 for s in expected if s.qos == 0)
        settle(sub, len(qos1) + telemetry_sent - stats.dropped_qos0)
    finally:
        sub.stop()

    assert result.wall_s > 1.5, "the model waited for the publisher"
    assert stats.dropped_qos0 > 0
    assert stats.queued == len(expected)
    assert stats.published + stats.dropped_qos0 == stats.queued
    got = pairs(sub)
    assert [p for p in got if topics.route(p[0]).kind != "telemetry"] == qos1  # all, in order
    telemetry = [p for p in got if topics.route(p[0]).kind == "telemetry"]
    assert len(telemetry) == telemetry_sent - stats.dropped_qos0
    order = {s.pair: i for i, s in enumerate(expected)}
    assert [order[p] for p in telemetry] == sorted(order[p] for p in telemetry)
    assert_watermarks(got, [s for s in expected if s.qos == 1])


# ---- 5. a broker restart during a run ----------------------------------------------------------


def test_a_broker_restart_mid_run_loses_no_qos1_message(own_broker, topics):
    """At-least-once across a restart: a persistent broker (OwnBroker, so that persistence
    works as root too) and a persistent subscriber session; duplicates are allowed."""
    broker = own_broker(persistence=True)
    memory = recorded("faulty", 12 * H)
    expected = expected_stream(memory, topics)
    qos1 = [s for s in expected if s.qos == 1]
    speed = 12 * H / 4.0  # a 4 s run, the broker restarts after 1.5 s

    sub = subscribe(broker.port, topics.everything(), persistent=True)
    try:
        sink = MqttSink(broker.url, topics=topics, speed=speed).start()
        outcome: list[object] = []
        model = threading.Thread(
            target=lambda: outcome.append(simulate(faulty_world(), sink, until=12 * H))
        )
        model.start()
        time.sleep(1.5)
        down = time.monotonic()
        broker.restart()
        restarted_s = time.monotonic() - down
        model.join(30)
        assert not model.is_alive()
        stats = sink.close()
        assert outcome[0].error is None, outcome[0].error  # type: ignore[attr-defined]
        wanted = Counter(s.pair for s in qos1)
        assert sub.wait_for(lambda got: not wanted - Counter((m.topic, m.payload) for m in got))
    finally:
        sub.stop()

    got = pairs(sub)
    missing = Counter(s.pair for s in qos1) - Counter(got)
    assert not missing, f"{sum(missing.values())} QoS 1 messages lost"
    assert stats.disconnects >= 1  # the restart (close adds one more)
    assert stats.connects >= 2
    assert stats.acked == len(qos1)
    assert stats.published + stats.dropped_qos0 == stats.queued == len(expected)
    assert_watermarks(got, qos1)
    assert restarted_s < 5
    assert any(m.at < down for m in sub.messages), "publishing had begun before the restart"
    assert any(m.at > down + restarted_s + 0.5 for m in sub.messages), "and went on after it"


def unblock(thread: threading.Thread, sink: MqttSink) -> None:
    """Take items off a dead publisher's queue until `thread` is no longer stuck putting."""
    while thread.is_alive():
        with contextlib.suppress(queue.Empty):
            sink._queue.get_nowait()
        time.sleep(0.01)


def test_write_fails_rather_than_hangs_once_the_publisher_gave_up(own_broker, topics):
    broker = own_broker()
    sink = MqttSink(broker.url, topics=topics, queue_size=5, reconnect_timeout=0.5).start()
    broker.stop()  # for good
    failures: list[BaseException] = []

    def model() -> None:
        try:
            for second in range(50):
                sink.write(Clock(t=1.8e9 + second), None)
        except RuntimeError as exc:
            failures.append(exc)

    writer = threading.Thread(target=model, daemon=True)
    writer.start()
    writer.join(3)
    try:
        assert sink._error is not None, "the publisher should have given up after 0.5 s"
        assert not writer.is_alive(), "write() is still blocked on the full queue"
        assert "the publisher failed" in str(failures[0])
    finally:
        unblock(writer, sink)
        with contextlib.suppress(RuntimeError):
            sink.close()


def test_close_returns_within_its_timeout_when_the_broker_is_gone(own_broker, topics):
    broker = own_broker()
    sink = MqttSink(broker.url, topics=topics, queue_size=5, reconnect_timeout=0.5).start()
    broker.stop()  # for good
    for second in range(6):  # one held by the publisher, five fill the queue
        sink.write(Clock(t=1.8e9 + second), None)
    failures: list[BaseException] = []

    def closing() -> None:
        try:
            sink.close(timeout=1)
        except (RuntimeError, TimeoutError) as exc:
            failures.append(exc)

    closer = threading.Thread(target=closing, daemon=True)
    closer.start()
    closer.join(3)
    try:
        assert sink._error is not None, "the publisher should have given up after 0.5 s"
        assert not closer.is_alive(), "close() is still blocked putting its end marker"
        assert failures, "close() should report the failed publisher"
    finally:
        unblock(closer, sink)


def test_mosquitto_broker_persistence_survives_a_restart(topics):
    broker = MosquittoBroker(persistence=True).start()
    try:
        sink = MqttSink(broker.url, topics=topics).start()
        result = simulate(faulty_world(), sink, until=1 * H)
        sink.close()
        assert result.error is None
        time.sleep(1.2)  # autosave_interval 1
        broker.restart()
        late = subscribe(broker.port, topics.everything())
        try:
            retained = late.wait_for(lambda got: len(got) > 0, timeout=3)
        finally:
            late.stop()
    finally:
        broker.stop()
    assert retained, "retained records and statuses did not survive the restart"


# ---- 6. TLS ------------------------------------------------------------------------------------


def make_certificates(folder: Path) -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1 (IP SAN), made with the openssl CLI."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl(
        *("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2"),
        *("-subj", "/CN=simlab test CA"),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
    )
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n",
        encoding="utf-8",
    )
    openssl(
        *("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext"),
    )
    return TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key")


@pytest.fixture
def tls_broker(own_broker, tmp_path):
    files = make_certificates(tmp_path)
    broker = own_broker(tls=files)
    assert broker.url.startswith("mqtts://127.0.0.1:")
    return broker


def test_tls_with_the_ca_publishes(tls_broker, topics):
    ca = str(tls_broker.tls.ca)
    memory = recorded("faulty", 1 * H)
    expected = expected_stream(memory, topics, telemetry_qos=1)
    sub = Subscriber(LOOPBACK, tls_broker.port, topics.everything(), qos=1)
    sub.client.tls_set(ca_certs=ca)
    sub.start()
    try:
        sink = MqttSink(tls_broker.url, topics=topics, telemetry_qos=1, ca_file=ca)
        _, stats = run_through(faulty_world(), sink.start(), 1 * H)
        settle(sub, len(expected), timeout=10)
    finally:
        sub.stop()
    assert pairs(sub) == [s.pair for s in expected]
    assert stats.connects == 1
    assert stats.acked == len(expected)


# paho-mqtt 2.2 does not close the socket of a failed TLS handshake (client.py,
# _ssl_wrap_socket raises with the SSLSocket unclosed): the garbage collector warns about it.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_without_the_ca_fails_to_connect_saying_why(tls_broker, topics):
    untrusted = MqttSink(tls_broker.url, topics=topics, connect_timeout=2)  # system CAs only
    began = time.monotonic()
    with pytest.raises(ConnectionError, match="certificate verify failed") as raised:
        untrusted.start()
    assert time.monotonic() - began < 2
    assert tls_broker.url in str(raised.value)
    del raised  # its traceback holds paho's leaked socket: let it go while the filter is on
    gc.collect()


# ---- 7. MQTT 3.1.1 -----------------------------------------------------------------------------


@pytest.mark.parametrize(("protocol", "logged"), [(4, "p2"), (5, "p5")], ids=["3.1.1", "5"])
def test_the_protocol_version_is_the_one_asked_for(own_broker, topics, protocol, logged):
    broker = own_broker()
    memory = recorded("faulty", 1 * H)
    expected = expected_stream(memory, topics)
    client_id = f"sink-{uuid.uuid4().hex[:8]}"
    sub = subscribe(broker.port, topics.everything())
    try:
        sink = MqttSink(broker.url, topics=topics, protocol=protocol, client_id=client_id)
        _, stats = run_through(faulty_world(), sink.start(), 1 * H)
        settle(sub, len(expected), timeout=10)
    finally:
        sub.stop()
    assert pairs(sub) == [s.pair for s in expected]
    assert stats.acked == sum(s.qos for s in expected)
    # Mosquitto logs the protocol level: p2 is MQTT 3.1.1, p5 is MQTT 5
    assert f"as {client_id} ({logged}," in broker.log()

    retained = latest_retained(expected)
    late = subscribe(broker.port, topics.everything())
    try:
        settle(late, len(retained), timeout=10)
    finally:
        late.stop()
    assert {m.topic: m.payload for m in late.messages if m.retain} == retained


# ---- 8. record and replay ----------------------------------------------------------------------


class Tee:
    """Writes every message to several sinks."""

    def __init__(self, *sinks: object) -> None:
        self.sinks = sinks

    def write(self, message: BaseModel, account: str | None) -> None:
        for sink in self.sinks:
            sink.write(message, account)  # type: ignore[attr-defined]


LINE = re.compile(rb'\{"topic":"([^"]+)","payload":(.*)\}')


def test_a_recording_replayed_under_another_root_arrives_identical(mosquitto, topics):
    """A live run recorded to JSON lines, then replayed with write_raw under a new root."""
    again = Topics(f"replay-{uuid.uuid4().hex[:12]}/simlab")
    memory = recorded("faulty", 12 * H)
    expected = expected_stream(memory, topics, telemetry_qos=1)
    recording = io.BytesIO()

    live = subscribe(mosquitto.port, topics.everything())
    replayed = subscribe(mosquitto.port, again.everything())
    try:
        sink = MqttSink(mosquitto.url, topics=topics, telemetry_qos=1).start()
        jsonl = JsonlSink(recording)
        result = simulate(faulty_world(), Tee(sink, jsonl), until=12 * H)  # type: ignore[arg-type]
        live_stats = sink.close()
        assert result.error is None, result.error
        assert recording.getvalue() == memory.jsonl()
        settle(live, len(expected))

        lines = recording.getvalue().splitlines()
        assert len(lines) == jsonl.count == len(expected)
        replay = MqttSink(mosquitto.url, topics=again, telemetry_qos=1).start()
        for line in lines:
            match = LINE.fullmatch(line)
            assert match is not None, line
            replay.write_raw(match[1].decode(), match[2])
        replay_stats = replay.close()
        settle(replayed, len(expected))
    finally:
        live.stop()
        replayed.stop()

    assert pairs(live) == [s.pair for s in expected]
    rerooted = [(again.root + t.removeprefix(topics.root), p) for t, p in pairs(live)]
    assert pairs(replayed) == rerooted  # topics re-rooted, payloads byte-identical
    assert [m.qos for m in replayed.messages] == [m.qos for m in live.messages]
    assert replay_stats.acked == live_stats.acked == len(expected)
    assert_watermarks(pairs(replayed), expected_stream(memory, again, telemetry_qos=1))

    retained = {
        again.root + t.removeprefix(topics.root): p for t, p in latest_retained(expected).items()
    }
    late = subscribe(mosquitto.port, again.everything())
    try:
        settle(late, len(retained), timeout=10)
    finally:
        late.stop()
    assert {m.topic: m.payload for m in late.messages} == retained
    assert all(m.retain for m in late.messages)


# ---- 9. credentials in the URL -----------------------------------------------------------------

USER = "sim user"
PASSWORD = "p@ss:w/rd%1"  # noqa: S105 - the test broker's; characters a URL must escape


@pytest.fixture
def password_broker(own_broker, tmp_path):
    passwords = tmp_path / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), USER, PASSWORD],
        check=True,
        capture_output=True,
    )
    return own_broker(anonymous=False, extra=f"password_file {passwords}\n")


def url_with(broker: MosquittoBroker, user: str, password: str) -> str:
    return f"mqtt://{quote(user, safe='')}:{quote(password, safe='')}@{LOOPBACK}:{broker.port}"


def test_credentials_in_the_url_are_used(password_broker, topics):
    memory = recorded("faulty", 1 * H)
    expected = expected_stream(memory, topics)
    sub = Subscriber(LOOPBACK, password_broker.port, topics.everything(), qos=1)
    sub.client.username_pw_set(USER, PASSWORD)
    sub.start()
    try:
        sink = MqttSink(url_with(password_broker, USER, PASSWORD), topics=topics)
        assert (sink.url.username, sink.url.password) == (USER, PASSWORD)
        assert PASSWORD not in str(sink.url)
        _, stats = run_through(faulty_world(), sink.start(), 1 * H)
        settle(sub, len(expected), timeout=10)
    finally:
        sub.stop()
    assert pairs(sub) == [s.pair for s in expected]
    assert stats.connects == 1


@pytest.mark.parametrize(
    "url",
    [
        lambda b: url_with(b, USER, "wrong"),
        lambda b: url_with(b, "nobody", PASSWORD),
        lambda b: f"mqtt://{LOOPBACK}:{b.port}",
    ],
    ids=["wrong-password", "unknown-user", "anonymous"],
)
def test_refused_credentials_raise_connection_error_saying_why(password_broker, topics, url):
    sink = MqttSink(url(password_broker), topics=topics, connect_timeout=5)
    began = time.monotonic()
    with pytest.raises(ConnectionError, match="refused the connection: Not authorized") as raised:
        sink.start()
    assert time.monotonic() - began < 1  # the broker's answer, not the timeout
    assert f"127.0.0.1:{password_broker.port}" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_a_broker_that_never_answers_fails_within_the_connect_timeout(topics):
    with socket.socket() as silent:  # accepts TCP connections, never speaks MQTT
        silent.bind((LOOPBACK, 0))
        silent.listen()
        url = f"mqtt://{LOOPBACK}:{silent.getsockname()[1]}"
        sink = MqttSink(url, topics=topics, connect_timeout=1)
        began = time.monotonic()
        with pytest.raises(ConnectionError, match=re.escape(url)):
            sink.start()
        assert 1 <= time.monotonic() - began < 2
    nobody = MqttSink(url, topics=topics, connect_timeout=5)  # now nothing listens there
    began = time.monotonic()
    with pytest.raises(ConnectionError, match="Connection refused"):
        nobody.start()
    assert time.monotonic() - began < 1
