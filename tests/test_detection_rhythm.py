"""Offline detection on a simulated stream: no false OFFLINE left behind by a reconnect storm."""

import numpy as np

from diagnostics.detection import DetectionStatus, Detector
from diagnostics.evidence import DetectorFeed
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import collars, world

H = 3600.0


def test_a_collar_back_on_its_schedule_after_a_reconnect_storm_is_never_offline():
    spec = world(
        devices=[collars(2, report_interval="30m", report_jitter="0s")],
        faults=[
            {"fault": "reconnect_storm", "at": "9h", "duration": "2h", "devices": ["collar-0001"]}
        ],
    )
    sink = MemorySink()
    result = simulate(spec, sink, until=20 * H)
    assert result.error is None
    t0 = spec.start.timestamp()
    detector = Detector()
    feed = DetectorFeed(detector)
    offline = []
    now = t0
    for message in sorted(sink.messages, key=lambda m: m.t):
        while now + 60 <= message.t:
            now += 60
            detector.sweep(now)
            if detector.status(detector.row("collar-0001"))[0] is DetectionStatus.OFFLINE:
                offline.append(now - t0)
        feed.apply(message)
    assert np.isclose(detector.column("interval")[detector.row("collar-0001")], 30 * 60)
    assert not [t for t in offline if t > 12 * H], "OFFLINE an hour past the storm's end"
