"""/metrics as Prometheus reads it: the names the benchmarks and dashboards read, their values."""

import threading
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from diagnostics import metrics
from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.messages import Clock, Telemetry
from protocol.wire import Topics, encode

T0 = 1_767_225_600.0


def telemetry(device_id, t):
    return Telemetry(
        t=t,
        device_id=device_id,
        iccid="8946200050000000009",
        imei="356938030000005",
        seq=0,
        firmware="1",
        battery=None,
        supply_mv=None,
        bearer="LTE-M",
        mcc_mnc="63902",
        cell_id=101,
        rsrp=-80.0,
        rsrq=-6.0,
        snr=10.0,
        apn="iot",
        ip="10.0.0.1",
        uptime_s=1,
    )


@pytest.fixture
def service(tmp_path):
    topics = Topics("metrics/simlab")
    store = SQLiteStore(tmp_path / "metrics.sqlite")
    service = Service(store=store, topics=topics)
    stream = [telemetry("m-1", T0), Clock(t=T0 + 2 * 86400)]  # heard once: OFFLINE past a day
    batch = [
        Received(topics.for_message(m, "acme"), encode(m), 1, i, T0) for i, m in enumerate(stream)
    ]
    batch.append(Received(topics.clock(), b"not json", 1, 9, T0))
    batch.append(Received("elsewhere/clock", encode(stream[1]), 1, 10, T0))
    service.handle(batch)
    yield service
    store.close()


def scrape(service):
    text = metrics.exposition(metrics.registry(service)).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_service_counters_read_at_scrape_time(service):
    found = scrape(service)
    assert found["simlab_accepted_total", ()] == 2
    assert found["simlab_ignored_total", ()] == 1
    assert found["simlab_duplicate_retained_total", ()] == 0
    assert found["simlab_redelivered_total", ()] == 0
    assert found["simlab_verdict_changes_total", ()] == 1
    assert found["simlab_dead_letters_total", (("code", "not_json"),)] == 1
    assert found["simlab_devices", (("verdict", "OFFLINE"),)] == 1
    assert found["simlab_devices", (("verdict", "ONLINE"),)] == 0
    assert found["simlab_clock_seconds", ()] == T0 + 2 * 86400
    assert not any(name.startswith("simlab_ingest_") for name, _ in found), "no ingest yet"
    service.handle([])
    assert scrape(service)["simlab_accepted_total", ()] == 2, "read again, not cached"


def test_the_ingest_figures_once_an_ingest_runs(service):
    connected = threading.Event()
    connected.set()
    stats = SimpleNamespace(
        received=5, committed=4, batches=2, connects=1, forged_probes=3, lags=[0.1, 0.2, 0.3],
        read_lags=[], oversized=2, oversized_bytes=600_000, buffer_high_water=70_000,
    )  # fmt: skip
    service.ingest = SimpleNamespace(stats=stats, connected=connected, queue_depth=lambda: 1)
    found = scrape(service)
    assert found["simlab_ingest_received_total", ()] == 5
    assert found["simlab_ingest_committed_total", ()] == 4
    assert found["simlab_ingest_batches_total", ()] == 2
    assert found["simlab_ingest_connects_total", ()] == 1
    assert found["simlab_ingest_forged_probes_total", ()] == 3
    assert found["simlab_ingest_queue_depth", ()] == 1
    assert found["simlab_ingest_connected", ()] == 1
    assert found["simlab_ingest_oversized_total", ()] == 2
    assert found["simlab_ingest_oversized_bytes_total", ()] == 600_000
    assert found["simlab_ingest_buffer_high_water_bytes", ()] == 70_000
    assert found["simlab_ingest_lag_seconds", (("quantile", "0.5"),)] == pytest.approx(0.2)
    assert ("simlab_ingest_lag_seconds", (("quantile", "0.99"),)) in found
    assert not any(name == "simlab_ingest_read_to_commit_seconds" for name, _ in found)
