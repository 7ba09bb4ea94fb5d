"""Running a world or a recording against a broker, for the `simlab` command."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol.messages import Message
from protocol.wire import DEFAULT_ROOT, Topics
from simulator.transport.per_device import PerDeviceSink, wall_keepalive
from simulator.transport.publisher import MqttSink
from simulator.world.simulate import RunResult, simulate
from simulator.world.sinks import JsonlSink, MemorySink, Sink, TeeSink

if TYPE_CHECKING:
    from pathlib import Path

    from simulator.transport.item import PublishStats
    from simulator.world.shard import Shard
    from simulator.world.spec import WorldSpec

__all__ = ["Outcome", "PublishOptions", "parse_speed", "recorded", "replay", "run_world", "schemas"]


@dataclass(slots=True)
class Outcome:
    """A run's result and, when it went to a broker, what the publisher did."""

    result: RunResult
    stats: PublishStats | None
    recorded: int


def parse_speed(text: str) -> float | None:
    """`max` → None (as fast as the broker takes it); a positive number → sim seconds per second."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"speed {text!r}: give a number such as 1, 60 or 3600, or max") from None
    if not speed > 0:
        raise ValueError(f"speed {text!r}: must be more than 0")
    return speed


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """Where and how a run or a replay is published."""

    broker: str
    root: str = DEFAULT_ROOT
    speed: float | None = None
    telemetry_qos: int = 0
    ca_file: str | None = None
    protocol: int = 5
    per_device: bool = False
    """Each device its own MQTT client (with a Last Will) instead of one gateway connection."""
    connect_rate: float = 500.0
    keepalive: float = 1200.0
    """The devices' simulated keepalive, seconds (per-device mode)."""

    def sink(self) -> MqttSink:
        """A publisher with these options, not yet started."""
        if self.per_device:
            return PerDeviceSink(
                self.broker,
                topics=Topics(self.root),
                speed=self.speed,
                keepalive_s=wall_keepalive(self.keepalive, self.speed),
                connect_rate=self.connect_rate,
                telemetry_qos=self.telemetry_qos,
                ca_file=self.ca_file,
                protocol=self.protocol,
            )
        return MqttSink(
            self.broker,
            topics=Topics(self.root),
            speed=self.speed,
            telemetry_qos=self.telemetry_qos,
            ca_file=self.ca_file,
            protocol=self.protocol,
        )


def run_world(
    spec: WorldSpec,
    *,
    until: float,
    publish: PublishOptions | None,
    record: Path | None,
    shard: Shard | None = None,
) -> Outcome:
    """Simulate `spec` for `until` seconds, publishing and/or recording what it reports.

    `shard`: only that shard's share of the devices (`simulator.world.shard`).
    """
    with ExitStack() as stack:
        sinks: list[Sink] = []
        recording = None
        if record is not None:
            recording = JsonlSink(stack.enter_context(record.open("wb")))
            sinks.append(recording)
        publisher = None
        if publish is not None:
            publisher = publish.sink().start()
            sinks.append(publisher)
        if not sinks:
            sinks.append(MemorySink())
        result = simulate(spec, TeeSink(*sinks), until=until, shard=shard)
        stats = publisher.close() if publisher is not None else None
        return Outcome(result, stats, recording.count if recording else 0)


def replay(recording: Path, publish: PublishOptions) -> PublishStats:
    """Publish a JSONL recording, paced by its timestamps."""
    sink = publish.sink().start()
    try:
        with recording.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    topic, payload = recorded(line)
                    sink.write_raw(topic, payload)
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{recording}:{number}: not a recording line: {exc}") from None
    finally:
        stats = sink.close()
    return stats


_PAYLOAD = b',"payload":'


def recorded(line: bytes) -> tuple[str, bytes]:
    """A recording line's topic (below the root) and its payload, byte for byte as recorded."""
    entry = json.loads(line)
    topic = entry["topic"]
    if not isinstance(topic, str) or not isinstance(entry["payload"], dict):
        raise TypeError('expected {"topic": text, "payload": {...}}')
    start = line.find(_PAYLOAD)
    payload = line[start + len(_PAYLOAD) : line.rstrip().rfind(b"}")] if start >= 0 else b""
    try:
        same = json.loads(payload) == entry["payload"]
    except ValueError:
        same = False
    if not same:  # written by hand: re-encode
        payload = json.dumps(entry["payload"], separators=(",", ":"), ensure_ascii=False).encode()
    return topic, payload


def schemas() -> dict[str, object]:
    """The JSON Schema of every payload, by kind."""
    from pydantic import TypeAdapter  # noqa: PLC0415 - only this command needs it

    return TypeAdapter(Message).json_schema()
