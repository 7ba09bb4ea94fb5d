"""Time one message cannot poison: forged watermarks, stamps far ahead and far behind.

Each stream is a seeded simulated world with forged messages slipped in where an
attacker or a broken device clock would put them; the service must refuse them
as dead letters with their own codes and go on judging by the true clock, also
after a restart.
"""

import math

import pytest

from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from diagnostics.timeguard import TimeBounds, TimeGuard
from diagnostics.views import ServiceView
from protocol.messages import Clock, SimRecord, Telemetry
from protocol.wire import Topics, encode
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import START, collars, world

H = 3600.0
DAY = 86400.0
T0 = START.timestamp()
YEAR_3000 = 32_503_680_000.0
DYING = "collar-0002"
TOPICS = Topics("guard/simlab")


@pytest.fixture(scope="module")
def stream():
    return simulated()


def simulated():
    """Three collars for 6 h; collar 2 loses power at 2 h (OFFLINE by about 3 h 15)."""
    spec = world(
        devices=[collars(3)], faults=[{"fault": "power_loss", "at": "2h", "devices": [DYING]}]
    )
    sink = MemorySink()
    assert simulate(spec, sink, until=6 * H).error is None
    return sink


def items(stream, *, forged_at=None, forged=()):
    """The stream as the ingest hands it over, with `forged` messages after `forged_at`."""
    out, slipped = [], False
    for message, account in zip(stream.messages, stream.accounts, strict=True):
        if forged_at is not None and not slipped and message.t > T0 + forged_at:
            out += [received(m) for m in forged]
            slipped = True
        out.append(received(message, account))
    return out


def received(message, account="savanna"):
    topic = TOPICS.for_message(message, account) if account else TOPICS.clock()
    if isinstance(message, Clock):
        topic = TOPICS.clock()
    return Received(topic, encode(message), 1, 1, 0.0)


def last_telemetry(stream, device):
    return next(
        m
        for m in reversed(stream.messages)
        if isinstance(m, Telemetry) and m.device_id == device and m.t < T0 + 2 * H
    )


def final_clock(stream):
    return max(m.t for m in stream.messages if isinstance(m, Clock))


def service_on(path, bounds=None):
    service = Service(store=SQLiteStore(path), topics=TOPICS, time_bounds=bounds)
    service.rebuild()
    return service


def feed(service, batch, size=500):
    for start in range(0, len(batch), size):
        service.handle(batch[start : start + size])


def statuses(service):
    view = ServiceView(service)
    return {d: view.device(d).device.status for d in ("collar-0001", DYING, "collar-0003")}


EXPECTED = {"collar-0001": "ONLINE", DYING: "OFFLINE", "collar-0003": "ONLINE"}


def test_a_forged_watermark_is_dead_lettered_and_the_fleet_judged_by_the_true_clock(
    stream, tmp_path
):
    service = service_on(tmp_path / "s.sqlite")
    feed(service, items(stream, forged_at=3 * H, forged=[Clock(t=YEAR_3000)]))
    assert service.counters.dead == {"clock_jump": 1}
    assert service.clock == final_clock(stream)
    assert statuses(service) == EXPECTED
    letter = service.store.dead_letters(limit=5)[0]
    assert letter.code == "clock_jump"
    assert "3000-01-01" in letter.reason
    service.store.close()
    again = service_on(tmp_path / "s.sqlite")
    assert again.clock == final_clock(stream), "a restart takes up the true clock"
    assert statuses(again) == EXPECTED
    again.store.close()


def test_a_restart_does_not_take_up_a_clock_an_older_service_let_jump(stream, tmp_path):
    lax = TimeBounds(clock_jump_s=1e12, ahead_s=1e12, behind_s=1e12, skew_s=1e12)  # no bounds
    service = service_on(tmp_path / "s.sqlite", lax)
    feed(service, items(stream, forged_at=3 * H, forged=[Clock(t=YEAR_3000)]))
    assert service.clock == YEAR_3000
    assert set(statuses(service).values()) == {"OFFLINE"}, "poisoned: the whole fleet"
    service.store.close()
    again = service_on(tmp_path / "s.sqlite")
    assert again.clock == final_clock(stream)
    assert again.store.last_clock() == final_clock(stream), "and the store says so again"
    assert statuses(again) == EXPECTED
    again.store.close()


def test_telemetry_from_the_far_future_is_refused_and_cannot_keep_a_dead_device_online(
    stream, tmp_path
):
    service = service_on(tmp_path / "s.sqlite")
    future = last_telemetry(stream, DYING).model_copy(update={"t": YEAR_3000 - 1})
    feed(service, items(stream, forged_at=1.9 * H, forged=[future]))
    assert service.counters.dead == {"ahead": 1}
    assert statuses(service) == EXPECTED
    service.store.close()


def test_a_device_clock_a_few_hours_ahead_holds_its_verdict_an_hour_at_most(stream, tmp_path):
    service = service_on(tmp_path / "s.sqlite")
    glitch = last_telemetry(stream, DYING)
    ahead = glitch.model_copy(update={"t": glitch.t + 5 * H})
    feed(service, items(stream, forged_at=glitch.t - T0, forged=[ahead]))
    assert service.counters.dead == {}, "within a day: taken, and stored as it came"
    assert service.guard.skewed == 1
    assert statuses(service) == EXPECTED, "OFFLINE by 6 h, not ONLINE until 7 h"
    stored = service.store.device_timeline(DYING, limit=1000)
    assert any(row.t == ahead.t for row in stored)
    service.store.close()
    again = service_on(tmp_path / "s.sqlite")
    assert statuses(again) == EXPECTED, "the restart reads it the same way"
    assert again.guard.skewed == 1
    again.store.close()


def test_telemetry_from_long_ago_is_refused_but_an_old_record_is_state(stream, tmp_path):
    service = service_on(tmp_path / "s.sqlite")
    old = last_telemetry(stream, "collar-0001").model_copy(update={"t": T0 - 60 * DAY})
    record = next(m for m in stream.messages if isinstance(m, SimRecord))
    old_record = record.model_copy(update={"t": T0 - 60 * DAY})
    feed(service, items(stream, forged_at=3 * H, forged=[old, old_record]))
    assert service.counters.dead == {"behind": 1}
    assert statuses(service) == EXPECTED
    service.store.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [("clock_jump_s", 0), ("ahead_s", -1), ("behind_s", math.nan), ("skew_s", math.inf)],
)
def test_bounds_are_positive_seconds(field, value):
    with pytest.raises(ValueError, match=field):
        TimeBounds(**{field: value})


def test_the_skew_may_not_exceed_what_is_believed_ahead():
    with pytest.raises(ValueError, match="skew_s"):
        TimeBounds(ahead_s=60, skew_s=120)


def test_the_replayed_clock_follows_bounded_jumps_only():
    guard = TimeGuard(TimeBounds(clock_jump_s=100))
    assert guard.replayed_clock([]).last is None
    arrival = guard.replayed_clock(enumerate([10, 70, 5000, 130, 60, 200], start=1))
    assert arrival.clocks == [10, 70, 70, 130, 130, 200]
    assert arrival.last == 200
    assert [arrival.at(i) for i in (1, 2, 4, 9)] == [None, 10, 70, 200]
