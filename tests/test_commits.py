"""A batch the store cannot take is kept, written once when handed over again, never re-applied."""

import pytest

from diagnostics.errors import StoreUnavailableError
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from diagnostics.views import ServiceView
from tests.test_time_guard import TOPICS, items, simulated


class FlakyStore(SQLiteStore):
    """A real SQLite store whose next `fail` writes raise as a locked file would."""

    fail = 0

    def write_batch(self, **batch):
        if self.fail:
            self.fail -= 1
            raise StoreUnavailableError(f"{self.path}: cannot write now (database is locked)")
        return super().write_batch(**batch)


@pytest.fixture(scope="module")
def stream():
    return simulated()


@pytest.fixture
def flaky(tmp_path):
    store = FlakyStore(tmp_path / "flaky.sqlite")
    yield store
    store.close()


def test_the_same_batch_handed_over_again_is_written_once_and_applied_once(stream, flaky, tmp_path):
    batches = list(_chunks(items(stream), 400))
    service = Service(store=flaky, topics=TOPICS)
    twin = Service(store=SQLiteStore(tmp_path / "twin.sqlite"), topics=TOPICS)
    for n, batch in enumerate(batches):
        twin.handle(batch)
        if n == 3:
            flaky.fail = 2
            for _ in range(2):
                with pytest.raises(StoreUnavailableError):
                    service.handle(batch)
                assert service.commits.failure is not None
            assert service.commits.failure.failures == 2
        service.handle(batch)
        assert service.commits.failure is None
    assert service.counters.accepted == twin.counters.accepted > 0
    assert service.counters.batches == twin.counters.batches
    assert service.store.summary() == twin.store.summary()
    mine, theirs = ServiceView(service), ServiceView(twin)
    for device in service.detector.ids:
        assert mine.device(device).device == theirs.device(device).device
    assert (
        service.detector.column("interval").tolist() == twin.detector.column("interval").tolist()
    ), "the kept batch was not learned from twice"
    twin.store.close()


def test_a_kept_batch_is_written_before_the_next_one(stream, flaky):
    first, second = list(_chunks(items(stream), 400))[:2]
    service = Service(store=flaky, topics=TOPICS)
    flaky.fail = 1
    with pytest.raises(StoreUnavailableError):
        service.handle(first)
    service.handle(second)  # e.g. the ingest reconnected and the broker sent other messages
    assert service.commits.kept is None
    assert service.counters.batches == 2
    assert flaky.messages_count() == len(first) + len(second) - service.counters.ignored


def _chunks(sequence, size):
    for start in range(0, len(sequence), size):
        yield sequence[start : start + size]
