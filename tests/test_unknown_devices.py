"""Bounded per-device state for ids no inventory record or network event vouches for."""

from __future__ import annotations

import random
import time

import pytest

from diagnostics.admission import CODE
from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.settings import Settings
from diagnostics.store import SQLiteStore
from diagnostics.views import ServiceView
from protocol.messages import Clock, SimRecord, Telemetry
from protocol.wire import Topics, encode
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import collars, world

pytestmark = pytest.mark.unit

H = 3600.0
FLOOD, CAP = 20_000, 1_000


def received(topics, messages, accounts):
    now = time.time()
    return [
        Received(topics.for_message(m, a), encode(m), 1, n, now)
        for n, (m, a) in enumerate(zip(messages, accounts, strict=True))
    ]


def test_a_flood_of_unknown_ids_stops_at_the_cap_and_inventoried_devices_still_come_in(tmp_path):
    topics = Topics("simlab/v1")
    memory = MemorySink()
    assert simulate(world(devices=[collars(2)]), memory, until=H).error is None
    store = SQLiteStore(tmp_path / "d.sqlite")
    service = Service(store=store, topics=topics, max_unknown_devices=CAP)
    service.handle(received(topics, memory.messages, memory.accounts))
    honest = len(service.detector)
    assert honest == 2
    end = max(m.t for m in memory.messages if isinstance(m, Clock))
    sample = next(m for m in memory.messages if isinstance(m, Telemetry))
    account = memory.accounts[memory.messages.index(sample)]
    rng = random.Random(7)
    flood = [
        sample.model_copy(
            update={"device_id": f"x-{rng.getrandbits(64):016x}", "iccid": f"{n:019d}", "t": end}
        )
        for n in range(FLOOD)
    ]
    for start in range(0, FLOOD, 5000):
        service.handle(received(topics, flood[start : start + 5000], [account] * 5000))
    assert len(service.detector) == honest + CAP
    assert service.counters.dead[CODE] == FLOOD - CAP
    assert store.dead_letter_counts()[CODE] == FLOOD - CAP
    assert service.admission.unknown == CAP
    record = next(m for m in memory.messages if isinstance(m, SimRecord))
    newcomer = record.model_copy(update={"iccid": "8900000000000000001"})
    late = sample.model_copy(update={"device_id": "newcomer", "iccid": newcomer.iccid, "t": end})
    again = flood[0].model_copy(update={"t": end + 1})  # given state before the cap: heard
    service.handle(received(topics, [newcomer, late, again], [account] * 3))
    assert service.known("newcomer"), "an inventoried device past the cap is taken"
    assert service.counters.dead[CODE] == FLOOD - CAP
    view = ServiceView(service)
    assert view.summary().devices == honest + CAP + 1
    assert view.device(flood[0].device_id) is not None
    assert view.device(flood[-1].device_id) is None
    assert view.dead_letters(code=CODE, limit=1)[0].reason.startswith(
        f"device_id: '{flood[-1].device_id}'"
    )
    store.close()
    reopened = Service(
        store=SQLiteStore(tmp_path / "d.sqlite"), topics=topics, max_unknown_devices=CAP
    )
    reopened.rebuild()
    assert reopened.admission.unknown == CAP, "a restart counts them again"
    reopened.store.close()


def test_the_cap_is_a_setting(monkeypatch):
    monkeypatch.setenv("SIMLAB_MAX_UNKNOWN_DEVICES", "50")
    assert Settings().max_unknown_devices == 50
    assert Settings().dead_letter_bytes == 64 * 1024 * 1024
