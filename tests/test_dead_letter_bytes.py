"""Dead letters bounded in bytes as well as rows: the newest kept, the total kept as it goes."""

from __future__ import annotations

import pytest

from diagnostics.store import DeadLetter, SQLiteStore

pytestmark = pytest.mark.unit

TOPIC = "simlab/v1/acme/device/meter-1/telemetry"
KB = 1024


def letters(first, count, size=60 * KB):
    return [
        DeadLetter(TOPIC, f"{n:08d}".encode() + b"x" * (size - 8), "invalid", "why", float(n))
        for n in range(first, first + count)
    ]


def kept_bytes(store):
    return sum(len(d.payload) for d in store.dead_letters(limit=1000))


def test_many_large_dead_letters_keep_at_most_the_budget_and_the_newest(tmp_path):
    path = tmp_path / "d.sqlite"
    with SQLiteStore(path, dead_letter_bytes=1024 * KB) as store:
        for first in range(0, 200, 7):
            store.write_batch(messages=(), dead=letters(first, 7))
        kept = store.dead_letters(limit=1000)
        assert kept_bytes(store) <= 1024 * KB
        assert len(kept) == (1024 * KB) // (60 * KB)  # as many as fit, no fewer
        newest = [int(d.payload[:8]) for d in kept]
        assert newest == list(range(202, 202 - len(kept), -1))
        assert store.dead_letter_counts() == {"invalid": 203}, "counted, every one"
    with SQLiteStore(path, dead_letter_bytes=300 * KB) as store:  # reopened: total counted again
        store.write_batch(messages=(), dead=letters(1000, 1))
        assert kept_bytes(store) <= 300 * KB
        assert int(store.dead_letters(limit=1)[0].payload[:8]) == 1000


def test_the_newest_letter_stays_even_alone_past_the_budget(tmp_path):
    with SQLiteStore(tmp_path / "d.sqlite", dead_letter_bytes=10 * KB) as store:
        store.write_batch(messages=(), dead=letters(0, 3, size=20 * KB))
        assert [int(d.payload[:8]) for d in store.dead_letters()] == [2]


def test_rows_and_bytes_bound_together_whichever_binds_first(tmp_path):
    with SQLiteStore(tmp_path / "d.sqlite", dead_letter_limit=5, dead_letter_bytes=350) as store:
        store.write_batch(messages=(), dead=letters(0, 12, size=100))
        assert [int(d.payload[:8]) for d in store.dead_letters()] == [11, 10, 9], "bytes bind"
    with SQLiteStore(tmp_path / "d.sqlite", dead_letter_limit=2, dead_letter_bytes=10**6) as store:
        store.write_batch(messages=(), dead=letters(12, 1, size=100))
        assert [int(d.payload[:8]) for d in store.dead_letters()] == [12, 11], "rows bind"
