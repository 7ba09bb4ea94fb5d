"""The simlab command against real brokers: simulate, record, replay, schemas; amqtt's leak."""

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from protocol.wire import Topics, matches
from simlab.broker import embedded_broker
from simlab.publishing import recorded
from simulator.transport.publisher import MqttSink
from simulator.world.simulate import simulate
from tests.mqtt_helpers import Subscriber
from tests.world_fixtures import collars, world

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parent.parent


def simlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from simlab.commands import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_simulate_on_the_embedded_broker_records_then_replay_publishes_it_identically(
    tmp_path, mosquitto, topics
):
    recording = tmp_path / "run.jsonl"
    run = simlab(
        "simulate", "savanna-collars", "--hours", "3", "--record", str(recording), cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert "embedded broker: mosquitto" in run.stderr
    lines = recording.read_bytes().splitlines()
    assert f"recorded {len(lines):,} messages" in run.stdout
    subscriber = Subscriber("127.0.0.1", mosquitto.port, topics.everything()).start()
    try:
        replay = simlab(
            "replay",
            str(recording),
            "--broker",
            mosquitto.url,
            "--root",
            topics.root,
            cwd=tmp_path,
        )
        assert replay.returncode == 0, replay.stderr
        assert subscriber.wait_for(lambda m: len(m) >= len(lines), timeout=30)
    finally:
        subscriber.stop()
    expected = [(f"{topics.root}/{t}", p) for t, p in map(recorded, lines)]
    assert [(m.topic, m.payload) for m in subscriber.messages] == expected


def test_simulate_refuses_a_bad_world_file_naming_file_line_and_field(tmp_path):
    bad = tmp_path / "world.yaml"
    text = (ROOT / "scenarios" / "worlds" / "savanna-collars.yaml").read_text()
    text = text.replace("customer: ../customers/", f"customer: {ROOT}/scenarios/customers/")
    text = text.replace("devices: [collar-0007]", "devices: [collar-0099]")
    bad.write_text(text)
    run = simlab("simulate", str(bad), "--offline", cwd=tmp_path)
    assert run.returncode == 2
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if "collar-0099" in t)
    assert run.stderr.strip() == (
        f"{bad}:{line}: faults[0].devices[0]: battery_depleted: unknown device 'collar-0099'"
    )


def test_a_bad_speed_and_a_bad_recording_line_are_named(tmp_path, mosquitto):
    run = simlab("simulate", "savanna-collars", "--offline", "--speed", "fast", cwd=tmp_path)
    assert (run.returncode, run.stderr.strip()) == (
        2,
        "speed 'fast': give a number such as 1, 60 or 3600, or max",
    )
    recording = tmp_path / "bad.jsonl"
    recording.write_text(
        '{"topic": "a/clock", "payload": {"v": 1, "t": 1.0, "kind": "clock"}}\nnot json\n'
    )
    run = simlab("replay", str(recording), "--broker", mosquitto.url, "--root", "x", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith(f"{recording}:1: ") or run.stderr.startswith(f"{recording}:2: ")


def test_protocol_schema_names_every_payload(tmp_path):
    run = simlab("protocol", "schema", cwd=tmp_path)
    schema = json.loads(run.stdout)
    kinds = {
        d["properties"]["kind"]["const"]
        for d in schema["$defs"].values()
        if "kind" in d["properties"]
    }
    assert {
        "telemetry",
        "status",
        "attach",
        "attach_reject",
        "session_reject",
        "record",
        "clock",
    } <= kinds


def test_matches_follows_mqtt_wildcards():
    assert matches("a/#", "a/b/c")
    assert matches("a/#", "a")
    assert matches("a/+/c", "a/b/c")
    assert not matches("a/+/c", "a/b/d")
    assert not matches("a/b", "a/b/c")
    assert not matches("other/#", "leak/x")


def test_amqtt_fallback_carries_a_run_and_its_retained_leak_is_filtered():
    spec = world(devices=[collars(2)])
    topics = Topics(f"amqtt-{uuid.uuid4().hex[:8]}")
    with embedded_broker(prefer="amqtt") as broker:
        assert broker.name == "amqtt"
        port = int(broker.url.rsplit(":", 1)[1])
        sink = MqttSink(broker.url, topics=topics, protocol=broker.protocol).start()
        result = simulate(spec, sink, until=2 * 3600)
        sink.close()
        assert result.error is None
        # A client subscribed to something else entirely: amqtt pushes it the other run's
        # retained statuses and records anyway; `matches` is how a consumer keeps them out.
        received: list[str] = []
        other = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="other-client", protocol=mqtt.MQTTv311
        )
        other.on_message = lambda c, u, m: received.append(m.topic)
        other.connect("127.0.0.1", port)
        other.subscribe("elsewhere/#", qos=1)
        other.loop_start()
        time.sleep(1.0)
        other.loop_stop()
        other.disconnect()
    kept = [t for t in received if matches("elsewhere/#", t)]
    assert kept == []
    assert all(t.startswith(topics.root) for t in received)


def test_two_shards_record_between_them_every_line_of_the_unsharded_run_and_a_bad_shard_is_named(
    tmp_path,
):
    def recording(*shard: str) -> list[str]:
        out = tmp_path / f"run{'-'.join(shard).replace('/', 'of')}.jsonl"
        args = ("simulate", "savanna-collars", "--hours", "6", "--offline", "--record", str(out))
        run = simlab(*args, *shard, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        return out.read_text().splitlines()

    def streams(lines: list[str]) -> dict[str, list[str]]:
        by: dict[str, list[str]] = {}
        for line in lines:
            topic, _ = recorded(line.encode())
            if not topic.endswith("clock"):
                by.setdefault(topic, []).append(line)
        return by

    whole = streams(recording())
    parts = [streams(recording("--shard", f"{k}/2")) for k in range(2)]
    assert all(parts), "each shard has devices"
    assert not set(parts[0]) & set(parts[1]), "a topic is one shard's"
    assert {**parts[0], **parts[1]} == whole, "together, every stream line for line"
    run = simlab("simulate", "savanna-collars", "--offline", "--shard", "2/2", cwd=tmp_path)
    assert (run.returncode, run.stderr.strip()) == (2, "shard 2/2: need 0 ≤ k < n, n ≥ 1")
