"""Shards together send exactly what one unsharded run sends, stream by stream.

Each world runs whole, then as two and as three shards, every run into a
`ChecksumSink`: each device's and each SIM's stream must come from exactly one
shard and sum there to the unsharded run's, with the clock from every shard. The
worlds: the bundled million-meter scenario cut small (a pooled plan every shard
counts whole, test quotas running out, the Bergen batch refused), in either
engine, with loss; and collars beside a device struck by a fault.
"""

from __future__ import annotations

import pytest

from protocol.messages import Clock
from simlab.scenario import load_scenario
from simulator.world.checksum import ChecksumSink
from simulator.world.shard import Shard
from simulator.world.simulate import simulate
from tests.test_bulk import _collar_world, _engine

pytestmark = pytest.mark.unit

H = 3600.0


class _Clocks(ChecksumSink):
    """Also counts the clock's watermarks."""

    def __init__(self) -> None:
        super().__init__()
        self.clocks = 0

    def write(self, message, account) -> None:
        self.clocks += isinstance(message, Clock)
        super().write(message, account)


def _run(spec, until: float, shard: Shard | None) -> tuple[dict[str, int], int, int, int]:
    sink = _Clocks()
    result = simulate(spec, sink, until=until, shard=shard)
    assert result.error is None, result.error
    assert result.messages == sink.messages
    return sink.totals(), result.messages - sink.clocks, result.lost, sink.clocks


def _split_alike(spec, until: float, count: int) -> None:
    whole, messages, lost, clocks = _run(spec, until, None)
    clock = whole.pop("clock")
    seen: dict[str, int] = {}
    sent = dropped = 0
    for k in range(count):
        part, part_messages, part_lost, part_clocks = _run(spec, until, Shard(k, count))
        assert (part.pop("clock"), part_clocks) == (clock, clocks), "each shard sends the clock"
        assert not set(part) & set(seen), "a stream comes from one shard"
        assert part, f"shard {k}/{count} sent something"
        seen.update(part)
        sent += part_messages
        dropped += part_lost
    assert seen == whole
    assert sent == messages
    assert dropped == lost


def _meters(engine: str):
    spec = load_scenario("scenarios/onboarding-day.yaml", size=240).world
    return _engine(spec, engine, message_loss=0.02)


@pytest.mark.parametrize("engine", ["bulk", "process"])
@pytest.mark.parametrize("count", [2, 3])
def test_the_meters_shards_send_the_unsharded_streams(engine, count) -> None:
    _split_alike(_meters(engine), 14 * H, count)


def test_collars_beside_a_struck_device_split_alike() -> None:
    fault = {"fault": "power_loss", "at": 2 * H, "devices": ["collar-0003"]}
    _split_alike(_engine(_collar_world(fault), "bulk", message_loss=0.01), 8 * H, 2)


def test_a_shard_is_read_from_k_slash_n_and_a_bad_one_says_why() -> None:
    assert Shard.parse("1/4") == Shard(1, 4)
    for bad in ("4/4", "1", "-1/2", "a/b"):
        with pytest.raises(ValueError, match="shard"):
            Shard.parse(bad)
