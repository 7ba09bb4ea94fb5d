"""The service's Prometheus metrics: a collector that reads its counters at scrape time.

The service and its ingest keep plain counters (no metric objects on the hot
path); `ServiceCollector` turns them into metric families when /metrics is
scraped, and `prometheus_client` writes the text format. Its own registry
holds only this collector: the process and platform collectors of the default
registry would make every scrape depend on the host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterable

    from diagnostics.ingest import Ingest
    from diagnostics.service import Service

__all__ = ["CONTENT_TYPE", "ServiceCollector", "exposition", "registry"]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
"""The text exposition format `generate_latest` writes."""


class ServiceCollector(Collector):
    """The service's counters, devices per detection status, clock, and its ingest's figures."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> list[Metric]:
        """The metric families as they stand now (read under the service's lock)."""
        service = self.service
        with service.lock:
            counters, clock = service.counters, service.clock
            families: list[Metric] = [
                _counter(
                    "simlab_accepted_total", "Messages decoded and stored.", counters.accepted
                ),
                _counter(
                    "simlab_ignored_total", "Messages outside the subscription.", counters.ignored
                ),
                _counter(
                    "simlab_duplicate_retained_total",
                    "Retained messages already stored.",
                    counters.duplicates,
                ),
                _counter(
                    "simlab_redelivered_total",
                    "Messages already stored (sent again after a crash, or twice), skipped.",
                    counters.redelivered,
                ),
                # The exposition keeps its first names: "verdict" in a metric, its help
                # and a label is the detection status (dashboards read these names).
                _counter(
                    "simlab_verdict_changes_total",
                    "Verdict changes recorded.",
                    counters.detection_changes,
                ),
                _labelled(
                    CounterMetricFamily(
                        "simlab_dead_letters_total",
                        "Messages refused by decode, by code (ever, across restarts).",
                        labels=["code"],
                    ),
                    sorted(counters.dead.items()),
                ),
                _counter(
                    "simlab_identity_conflicts_total",
                    "SIM claims of device messages the network disagrees with: not taken.",
                    service.identity.conflicts.flagged,
                ),
                GaugeMetricFamily(
                    "simlab_unknown_devices",
                    "Devices with state that no inventory record or network event vouches for.",
                    value=service.admission.unknown,
                ),
                _labelled(
                    GaugeMetricFamily("simlab_devices", "Devices per verdict.", labels=["verdict"]),
                    service.detector.counts().items(),
                ),
                GaugeMetricFamily(
                    "simlab_clock_seconds",
                    "The service clock (last watermark), Unix s.",
                    value=clock or 0.0,
                ),
            ]
        ingest = service.ingest
        return families + (_ingest(ingest) if ingest is not None else [])


def registry(service: Service) -> CollectorRegistry:
    """A registry holding only the service's collector."""
    found = CollectorRegistry(auto_describe=False)
    found.register(ServiceCollector(service))
    return found


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry's metrics in the Prometheus text format (`CONTENT_TYPE`)."""
    return generate_latest(registry)


def _ingest(ingest: Ingest) -> list[Metric]:
    stats = ingest.stats
    return [
        _counter(
            "simlab_ingest_received_total", "Messages received from the broker.", stats.received
        ),
        _counter(
            "simlab_ingest_committed_total", "Messages committed and acknowledged.", stats.committed
        ),
        _counter("simlab_ingest_batches_total", "Batches committed.", stats.batches),
        _counter("simlab_ingest_connects_total", "Connections to the broker.", stats.connects),
        _counter(
            "simlab_ingest_oversized_total",
            "Messages larger than max_packet_bytes, let pass unread (too_large dead letters).",
            stats.oversized,
        ),
        _counter(
            "simlab_ingest_oversized_bytes_total",
            "Bytes of those messages.",
            stats.oversized_bytes,
        ),
        GaugeMetricFamily(
            "simlab_ingest_buffer_high_water_bytes",
            "The most bytes the MQTT reader held between reads (a cut-off packet's start).",
            value=stats.buffer_high_water,
        ),
        _counter(
            "simlab_ingest_forged_probes_total",
            "Messages on the lag probe topic without this process's nonce: not believed.",
            stats.forged_probes,
        ),
        GaugeMetricFamily(
            "simlab_ingest_queue_depth", "Received, not yet committed.", value=ingest.queue_depth()
        ),
        GaugeMetricFamily(
            "simlab_ingest_connected",
            "1 while connected to the broker.",
            value=float(ingest.connected.is_set()),
        ),
        _quantiles(
            "simlab_ingest_lag_seconds",
            "Broker to commit: from publishing a probe to the broker (QoS 1, queued behind "
            "everything waiting for this session) to committing the batch it arrived in; "
            "recent probes, one a second.",
            stats.lags,
        ),
        _quantiles(
            "simlab_ingest_read_to_commit_seconds",
            "Socket read to commit of each recent batch's oldest message: the service's "
            "own share of the lag, without the broker's queue.",
            stats.read_lags,
        ),
    ]


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=float(value))


def _labelled(
    family: CounterMetricFamily | GaugeMetricFamily, samples: Iterable[tuple[str, float]]
) -> Metric:
    for label, value in samples:
        family.add_metric([label], float(value))
    return family


def _quantiles(name: str, text: str, values: Iterable[float]) -> Metric:
    """The median and 99th percentile of recent `values` (no samples while there are none)."""
    family = Metric(name, text, "summary")
    found = np.array(list(values), dtype=np.float64)  # a copy first: the ingest appends
    if found.size:
        for q in ("0.5", "0.99"):
            family.add_sample(name, {"quantile": q}, float(np.quantile(found, float(q))))
    return family
