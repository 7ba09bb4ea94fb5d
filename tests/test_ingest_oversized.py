"""A message too large to read: the setting that bounds it, its dead letter, and /health."""

import threading
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from diagnostics.ingest_records import IngestStats, Oversized
from diagnostics.service import Service
from diagnostics.settings import MAX_PACKET_BYTES, Settings
from diagnostics.store import SQLiteStore
from diagnostics.views import ServiceView


def test_the_packet_cap_is_a_bounded_setting_read_from_the_environment(monkeypatch, tmp_path):
    assert Settings(database=tmp_path / "d.sqlite").max_packet_bytes == MAX_PACKET_BYTES == 262_144
    monkeypatch.setenv("SIMLAB_MAX_PACKET_BYTES", "1048576")
    assert Settings(database=tmp_path / "d.sqlite").max_packet_bytes == 1 << 20
    for wrong in (1023, 256 * 1024 * 1024 + 1):
        with pytest.raises(ValidationError, match="max_packet_bytes"):
            Settings(database=tmp_path / "d.sqlite", max_packet_bytes=wrong)


def test_an_oversized_message_is_kept_as_a_too_large_dead_letter_of_its_size(topics, tmp_path):
    with SQLiteStore(tmp_path / "d.sqlite") as store:
        service = Service(store=store, topics=topics)
        topic = topics.telemetry("acme", "collar-0001")
        service.handle([Oversized(topic, b"", 1, 7, 12.5, size=67_108_872, limit=262_144)])
        [letter] = store.dead_letters()
        assert (letter.topic, letter.code, letter.size, letter.payload) == (
            topic,
            "too_large",
            67_108_872,
            b"",
        )
        assert "67108872 bytes, more than the 262144 allowed" in letter.reason
        assert service.counters.dead == {"too_large": 1}
        assert store.messages_count() == 0


def test_health_says_how_many_messages_were_too_large(topics, tmp_path):
    with SQLiteStore(tmp_path / "d.sqlite") as store:
        service = Service(store=store, topics=topics)
        connected = threading.Event()
        service.ingest = SimpleNamespace(
            stats=IngestStats(oversized=3), connected=connected, error=None,
            queue_depth=lambda: 0, client_id="c", broker_error=None,
        )  # fmt: skip
        assert ServiceView(service).health().oversized == 3
