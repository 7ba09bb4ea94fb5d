"""PerDeviceSink against a real Mosquitto: one MQTT client per device, Wills from the broker.

An independent paho `Subscriber` (tests/mqtt_helpers.py) reads what the broker delivers; the
kernel's TCP table (/proc/net/tcp) counts the connections the broker holds. Nothing connects
anywhere but 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest

from protocol.identifiers import iccid_range, imei_range
from protocol.messages import Clock, DeviceStatus, Telemetry
from simulator.transport.per_device import PerDeviceSink, wall_keepalive
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.mqtt_helpers import Subscriber
from tests.waiting import wait
from tests.world_fixtures import FIRST_ICCID, FIRST_IMEI, START, collars, world

pytestmark = pytest.mark.broker

H = 3600.0
T0 = START.timestamp()
ACCOUNT = "acme"


# ---- helpers ----------------------------------------------------------------------------------


def ids(count: int) -> list[str]:
    return [f"meter-{n:04d}" for n in range(1, count + 1)]


def iccid_of(device: str) -> str:
    return f"8946200050{int(device.split('-')[1]):09d}"


def online(device: str, t: float = T0) -> DeviceStatus:
    return DeviceStatus(
        t=t, device_id=device, iccid=iccid_of(device), status="online", keepalive_s=60
    )


def asleep(device: str, t: float) -> DeviceStatus:
    return DeviceStatus(
        t=t, device_id=device, iccid=iccid_of(device), status="asleep", next_report=t + 900
    )


def world_will(device: str, t: float) -> DeviceStatus:
    return DeviceStatus(t=t, device_id=device, iccid=iccid_of(device), status="offline", will=True)


def telemetry(device: str, t: float = T0, seq: int = 1) -> Telemetry:
    return Telemetry(
        t=t,
        device_id=device,
        iccid=iccid_of(device),
        imei="356938035643809",
        seq=seq,
        firmware="1.0.0",
        battery=None,
        supply_mv=None,
        bearer="LTE-M",
        mcc_mnc="24007",
        cell_id=101,
        rsrp=-92.0,
        rsrq=-10.0,
        snr=11.0,
        apn="iot.acme",
        ip="10.40.0.7",
        uptime_s=60,
    )


def statuses(sub: Subscriber) -> list[tuple[float, DeviceStatus]]:
    with sub._lock:
        got = list(sub.messages)
    return [
        (m.at, DeviceStatus.model_validate_json(m.payload))
        for m in got
        if m.topic.endswith("/status")
    ]


def wills(sub: Subscriber) -> dict[str, list[DeviceStatus]]:
    found: dict[str, list[DeviceStatus]] = {}
    for _, status in statuses(sub):
        if status.will:
            found.setdefault(status.device_id, []).append(status)
    return found


def telemetry_devices(sub: Subscriber) -> set[str]:
    with sub._lock:
        return {m.topic.split("/")[-2] for m in sub.messages if m.topic.endswith("/telemetry")}


def established(port: int) -> int:
    """Client-side TCP connections to `port` that are established now (the kernel's view)."""
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def broker_saw(mosquitto, prefix: str, event: str) -> list[str]:
    """Device ids in the broker's own log lines for `event` about this sink's clients."""
    patterns = {
        "connected": rf"New client connected from \S+ as {prefix}-(\S+) ",
        "dropped": rf"Client {prefix}-(\S+) closed its connection\.",  # no DISCONNECT: Will
        "disconnected": rf"Client {prefix}-(\S+) disconnected\.",  # a clean DISCONNECT
    }
    return re.findall(patterns[event], mosquitto.log())


@pytest.fixture
def subscriber(mosquitto, topics):
    sub = Subscriber("127.0.0.1", mosquitto.port, topics.everything()).start()
    yield sub
    sub.stop()


def sink_for(mosquitto, topics, **options) -> PerDeviceSink:
    prefix = f"pd-{uuid.uuid4().hex[:6]}"
    return PerDeviceSink(mosquitto.url, topics=topics, client_prefix=prefix, **options).start()


# ---- 1. a connect storm, then a slice killed ------------------------------------------------


def test_two_thousand_devices_connect_at_the_set_rate_and_killed_ones_leave_wills(
    mosquitto, topics, subscriber
):
    devices = ids(2000)
    rate = 500.0
    before = established(mosquitto.port)
    sink = sink_for(mosquitto, topics, connect_rate=rate)
    for device in devices:
        sink.write(online(device), ACCOUNT)
        sink.write(telemetry(device), ACCOUNT)

    assert wait(lambda: telemetry_devices(subscriber) == set(devices), 20)
    assert wait(lambda: sink.device_stats.connects == 2000, 5)
    stats = sink.device_stats
    assert (stats.opened, stats.devices, stats.peak_connected, stats.lost) == (2000, 2000, 2000, 0)
    span = stats.last_open - stats.first_open
    assert span >= 2000 / rate * 0.9, "the connect rate limit is respected"
    assert stats.connect_rate <= rate * 1.02
    assert stats.peak_connect_rate <= rate * 1.02
    # 2,000 device connections and the platform's, all at once: the broker kept every client
    # (a duplicate client id would have taken another's session over and closed it)
    assert established(mosquitto.port) - before == 2001
    prefix = sink.client_prefix
    assert wait(lambda: len(broker_saw(mosquitto, prefix, "connected")) == 2000, 5)
    assert set(broker_saw(mosquitto, prefix, "connected")) == set(devices), "distinct clients"

    killed = devices[500:700]
    began = time.monotonic()
    assert sink.kill(killed) == 200
    assert wait(lambda: len(wills(subscriber)) >= 200, 5)
    latency = max(at for at, s in statuses(subscriber) if s.will) - began
    assert set(wills(subscriber)) == set(killed), "exactly the killed devices' Wills"
    for device, got in wills(subscriber).items():
        assert got == [
            DeviceStatus(
                t=T0, device_id=device, iccid=iccid_of(device), status="offline", will=True
            )
        ], "the Will registered at connect time, published once, by the broker"
    assert latency < 3.0
    assert sink.device_stats.kills == 200
    assert wait(lambda: established(mosquitto.port) - before == 1801, 5)

    sink.close()
    time.sleep(0.5)
    assert set(wills(subscriber)) == set(killed), "clean disconnects leave no Wills"
    assert sink.device_stats.clean_disconnects == 1800
    assert sink.device_stats.connected_now == 0
    assert sink.stats.acked == sink.stats.published - 2000  # every online status acknowledged
    assert wait(lambda: established(mosquitto.port) == before, 5)
    assert wait(lambda: len(broker_saw(mosquitto, prefix, "disconnected")) == 1800, 5)
    assert sorted(broker_saw(mosquitto, prefix, "dropped")) == killed
    assert set(broker_saw(mosquitto, prefix, "disconnected")) == set(devices) - set(killed)

    later = Subscriber("127.0.0.1", mosquitto.port, topics.everything()).start()
    try:
        assert wait(lambda: len(statuses(later)) == 2000, 10)
        retained = {s.device_id: s for _, s in statuses(later)}
        assert {d for d, s in retained.items() if s.will} == set(killed)
        assert all(retained[d].status == "online" for d in set(devices) - set(killed))
    finally:
        later.stop()
    print(  # noqa: T201 - the figures the report quotes (pytest -s)
        f"\nconnect: 2000 in {span:.2f} s, {stats.connect_rate:.0f}/s (limit {rate:g}/s), "
        f"peak {stats.peak_connect_rate}/s; 200 Wills within {latency * 1000:.0f} ms of kill()"
    )


# ---- 2. a seeded world: power loss and a sleeping device ------------------------------------


def psm_world():
    iccids = [str(i) for i in iccid_range(FIRST_ICCID, 3)]
    imeis = [str(i) for i in imei_range(FIRST_IMEI, 3)]
    sleeper = collars(1, name="sleeper", psm=True, first_iccid=iccids[2], first_imei=imeis[2])
    return world(
        devices=[collars(2), sleeper],
        faults=[{"fault": "power_loss", "at": "2h", "duration": "1h", "devices": ["collar-0001"]}],
    )


def test_a_world_run_the_broker_publishes_the_will_of_the_dead_device(
    mosquitto, topics, subscriber
):
    until, speed = 4 * H, 3600.0  # four simulated hours in four wall seconds
    memory = MemorySink()
    assert simulate(psm_world(), memory, until=until).error is None
    device_statuses = [m for m in memory.messages if isinstance(m, DeviceStatus)]
    world_wills = [m for m in device_statuses if m.will]
    assert [w.device_id for w in world_wills] == ["collar-0001"]
    first_online = next(m for m in device_statuses if m.device_id == "collar-0001")
    loss_t = T0 + 2 * H

    sink = sink_for(mosquitto, topics, speed=speed, keepalive_s=wall_keepalive(1200, speed))
    result = simulate(psm_world(), sink, until=until)
    assert result.error is None, result.error
    sink.close()
    wall0, t0 = sink._pacer.origin

    def wall(t: float) -> float:
        return wall0 + (t - t0) / speed

    assert wait(lambda: "collar-0001" in wills(subscriber), 5)
    time.sleep(0.3)  # a Will at close would have arrived by now
    got = statuses(subscriber)
    (arrived, will), *more = [(at, s) for at, s in got if s.will]
    assert more == [], "one Will: the dead collar's, none at close"
    assert will.device_id == "collar-0001"
    assert will.t == first_online.t, "the payload registered at connect, so from the broker"
    assert will.t != world_wills[0].t
    assert arrived >= wall(loss_t), "after the world's loss time"
    assert wall(world_wills[0].t) - 0.05 <= arrived < wall(world_wills[0].t) + 2.0, (
        "when the world said the broker would notice"
    )
    assert sink.stats.published == len(memory.messages) - 1, "the sink did not publish it"
    assert sink.device_stats.wills_triggered == 1
    assert broker_saw(mosquitto, sink.client_prefix, "dropped") == ["collar-0001"]
    back = [s for at, s in got if s.device_id == "collar-0001" and at > arrived]
    assert [s.status for s in back] == ["online"], "power back: a new connection"

    sleeps = [s for _, s in got if s.device_id == "sleeper-0001" and s.status == "asleep"]
    expected = [
        m for m in device_statuses if m.device_id == "sleeper-0001" and m.status == "asleep"
    ]
    assert sleeps == expected
    assert "sleeper-0001" not in wills(subscriber), "a sleeping device leaves cleanly"
    disconnects = broker_saw(mosquitto, sink.client_prefix, "disconnected")
    assert disconnects.count("sleeper-0001") == len(expected)
    assert sink.device_stats.clean_disconnects >= len(expected)
    assert sink.device_stats.lost == 0


# ---- 3. the rest of the behaviour -----------------------------------------------------------


def test_connections_open_no_faster_than_the_rate(mosquitto, topics):
    rate = 200.0
    sink = sink_for(mosquitto, topics, connect_rate=rate)
    for device in ids(100):
        sink.write(online(device), ACCOUNT)
    sink.close()
    stats = sink.device_stats
    assert stats.opened == stats.connects == 100
    assert stats.last_open - stats.first_open >= (100 - 2) / rate * 0.95
    assert stats.peak_connect_rate <= rate + 2  # the bucket holds 10 ms of tokens
    assert stats.connect_rate <= rate * 1.02


def test_qos1_acknowledgements_count_per_connection(mosquitto, topics, subscriber):
    # every device client numbers its messages from 1: the acks must be told apart by client
    devices = ids(50)
    sink = sink_for(mosquitto, topics, telemetry_qos=1, max_inflight=8, connect_rate=None)
    for seq in range(1, 21):
        for device in devices:
            if seq == 1:
                sink.write(online(device), ACCOUNT)
            sink.write(telemetry(device, T0 + seq, seq), ACCOUNT)
    stats = sink.close(timeout=30)
    assert stats.published == stats.acked == 50 * 21
    assert sink.device_stats.abandoned == 0

    def delivered() -> int:
        with subscriber._lock:
            return sum(m.topic.endswith("/telemetry") for m in subscriber.messages)

    assert wait(lambda: delivered() == 1000, 10)
    assert telemetry_devices(subscriber) == set(devices)


def test_will_sleep_and_return_become_connection_behaviour(mosquitto, topics, subscriber):
    sink = sink_for(mosquitto, topics, connect_rate=None)
    sink.write(online("meter-0001", T0), ACCOUNT)
    sink.write(telemetry("meter-0001", T0 + 1), ACCOUNT)
    sink.write(world_will("meter-0001", T0 + 100), ACCOUNT)  # the broker publishes it
    sink.write(world_will("meter-0001", T0 + 200), ACCOUNT)  # no connection: nothing to do
    sink.write(online("meter-0001", T0 + 300), ACCOUNT)  # back: connects again
    for n in range(30):  # a sleeper at full speed: sleep, wake, sleep ...
        sink.write(online("meter-0002", T0 + 10 * n), ACCOUNT)
        sink.write(telemetry("meter-0002", T0 + 10 * n + 1, n + 1), ACCOUNT)
        sink.write(asleep("meter-0002", T0 + 10 * n + 2), ACCOUNT)
    assert wait(lambda: sink.device_stats.opened == 32, 10)
    assert wait(lambda: "meter-0001" in wills(subscriber), 5)
    assert wait(lambda: sink.connected_devices() == ["meter-0001"], 5)
    sink.close()
    time.sleep(0.3)

    assert wills(subscriber) == {
        "meter-0001": [
            DeviceStatus(
                t=T0,
                device_id="meter-0001",
                iccid=iccid_of("meter-0001"),
                status="offline",
                will=True,
            )
        ]
    }
    stats = sink.device_stats
    assert (stats.wills_triggered, stats.wills_without_connection) == (1, 1)
    assert stats.clean_disconnects == 31  # 30 sleeps and meter-0001 at close
    assert (stats.lost, stats.abandoned, stats.connected_now) == (0, 0, 0)
    sleeper = [s.status for _, s in statuses(subscriber) if s.device_id == "meter-0002"]
    assert sleeper == ["online", "asleep"] * 30
    assert sink.stats.published == sink.stats.queued - 2  # the two world Wills


def test_sockets_above_descriptor_1023_are_served(mosquitto, topics, subscriber):
    # select() cannot watch descriptors above 1023; a platform reconnect among 2,000 device
    # sockets gets one. The subscriber (paho's own select() loop) opened its socket before.
    filler = [os.dup(0) for _ in range(1100)]
    try:
        sink = sink_for(mosquitto, topics, connect_rate=None)
        assert sink._client.socket().fileno() > 1023
        for device in ids(20):
            sink.write(online(device), ACCOUNT)
            sink.write(telemetry(device), ACCOUNT)
        sink.write(Clock(t=T0 + 1, final=True), None)
        stats = sink.close(timeout=10)
    finally:
        for fd in filler:
            os.close(fd)
    assert stats.published == stats.acked + 20 == 41
    assert wait(lambda: telemetry_devices(subscriber) == set(ids(20)), 5)


def test_kill_after_close_and_of_unknown_devices_is_harmless(mosquitto, topics):
    sink = sink_for(mosquitto, topics)
    sink.write(online("meter-0001"), ACCOUNT)
    assert wait(lambda: sink.device_stats.connects == 1, 5)
    assert sink.kill(["meter-0404"]) == 0
    sink.close()
    assert sink.kill(["meter-0001"]) == 0


def test_wall_keepalive_follows_speed():
    assert wall_keepalive(1200, 1.0) == 1200
    assert wall_keepalive(1200, 60.0) == 20
    assert wall_keepalive(1200, 3600.0) == 5
    assert wall_keepalive(1200, None) == 60
