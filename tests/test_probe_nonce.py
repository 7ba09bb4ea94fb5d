"""Lag probes are believed only with the service's own nonce: forged ones are counted, not read."""

from __future__ import annotations

import time
import uuid

import pytest

from diagnostics.ingest import Ingest
from diagnostics.ingest_probe import ProbeStamp
from tests.test_ingest import close, publisher
from tests.waiting import wait

pytestmark = pytest.mark.broker


def test_a_forged_probe_changes_no_lag_figure_and_is_counted(mosquitto, topics):
    batches = []
    consumer = Ingest(
        host="127.0.0.1",
        port=mosquitto.port,
        subscription=topics.everything(),
        on_batch=batches.append,
        client_id=f"diag-{uuid.uuid4().hex[:8]}",
        probe_every=0.1,
    )
    consumer.start()
    assert consumer.connected.wait(10)
    forger = publisher(mosquitto.port)
    try:
        assert wait(lambda: consumer.stats.probes >= 2)
        forged = [
            b"0.000000",  # the old plain stamp: 1970, a lag of decades
            b"0123456789abcdef0123456789abcdef 0.000000",  # a nonce, but not the service's
            f"{time.time() + 3600:.6f}".encode(),  # from the future: no lag at all
            b"garbage",
        ]
        for payload in forged:
            forger.publish(consumer.probe_topic, payload, qos=1).wait_for_publish(5)
        assert wait(lambda: consumer.stats.forged_probes == len(forged))
        ours = consumer.stats.probes
        assert wait(lambda: consumer.stats.probes > ours), "our own probes still count"
    finally:
        close(forger)
        consumer.stop()
    stats = consumer.stats
    assert len(stats.lags) == stats.probes
    assert min(stats.lags) > 0.0
    assert max(stats.lags) < 5.0, "no forged stamp became a figure"
    assert not any(m.topic == consumer.probe_topic for batch in batches for m in batch)


@pytest.mark.unit
def test_a_stamp_reads_back_only_with_its_own_nonce():
    stamp = ProbeStamp()
    assert stamp.sent_at(stamp.payload(1234.5)) == 1234.5
    assert ProbeStamp().sent_at(stamp.payload(1234.5)) is None, "another process's"
    for payload in (b"", b"1234.5", stamp.nonce.encode(), f"{stamp.nonce} nan".encode()):
        assert stamp.sent_at(payload) is None
