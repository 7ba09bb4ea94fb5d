"""The checksum sink sums the same from a cohort's columns as from the messages they make.

`benchmarks/scale.py` holds the two engines to each other through it, so it must
say "equal" only for equal messages: the same run's blocks hashed as columns and
as the messages `Block.message` builds from them give the same sums, the two
engines give the same sums, and one field or one account changed changes them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlab.scenario import load_scenario
from simulator.world import batch
from simulator.world.checksum import ChecksumSink, _text, _texts
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink, TeeSink
from simulator.world.spec import WorldSpec

pytestmark = pytest.mark.unit

H = 3600.0


def _meters(engine: str) -> WorldSpec:
    spec = load_scenario("scenarios/onboarding-day.yaml", size=240).world
    data = spec.model_dump()
    data["devices"] = [dict(g, engine=engine) for g in data["devices"]]
    data["message_loss"] = 0.02
    return WorldSpec.model_validate(data)


def _one_by_one(memory: MemorySink) -> ChecksumSink:
    sink = ChecksumSink()
    for message, account in zip(memory.messages, memory.accounts, strict=True):
        sink.write(message, account)
    return sink


@pytest.fixture(scope="module")
def runs() -> tuple[ChecksumSink, MemorySink, ChecksumSink]:
    columns, memory = ChecksumSink(), MemorySink()
    assert simulate(_meters("bulk"), TeeSink(columns, memory), until=8 * H).error is None
    processes = ChecksumSink()
    by_processes = simulate(_meters("process"), processes, until=8 * H)
    assert by_processes.error is None
    assert by_processes.world is not None
    assert not by_processes.world.cohorts
    return columns, memory, processes


def test_a_cohorts_columns_hash_as_the_messages_built_from_them(runs) -> None:
    columns, memory, _ = runs
    assert columns.from_columns > columns.messages / 2, "most came as columns"
    assert columns.totals() == _one_by_one(memory).totals()
    assert columns.messages == len(memory.messages)


def test_the_two_engines_sum_alike(runs) -> None:
    columns, _, processes = runs
    assert columns.totals() == processes.totals()
    assert columns.reports == processes.reports > 0


def test_one_field_or_one_account_changed_changes_its_streams_sum(runs) -> None:
    _, memory, _ = runs
    before = _one_by_one(memory).totals()
    k = next(i for i, m in enumerate(memory.messages) if m.kind == "usage")
    message = memory.messages[k]
    for changed, account in [
        (message.model_copy(update={"cycle_bytes": message.cycle_bytes + 1}), memory.accounts[k]),
        (message, memory.accounts[k] + "-other"),
    ]:
        edited = MemorySink()
        edited.messages, edited.accounts = list(memory.messages), list(memory.accounts)
        edited.messages[k], edited.accounts[k] = changed, account
        after = _one_by_one(edited).totals()
        assert {s for s in before if before[s] != after[s]} == {message.iccid}


@given(st.lists(st.text(max_size=40), max_size=20))
def test_texts_hash_alike_one_at_a_time_and_all_at_once(texts) -> None:
    assert _texts(texts).tolist() == [_text(t) for t in texts]


def test_a_block_too_large_to_build_at_once_goes_out_row_by_row_the_same(runs, monkeypatch):
    _, memory, _ = runs
    monkeypatch.setattr(batch, "BUILT_AT_ONCE", 0)
    one_by_one = MemorySink()
    assert simulate(_meters("bulk"), one_by_one, until=8 * H).error is None
    assert one_by_one.messages == memory.messages
    assert one_by_one.accounts == memory.accounts
