"""Firmware rollouts in the simulator: which devices, what the wire says, what they bring."""

import pytest

from protocol.messages import FirmwareUpdate, SessionRejected, Telemetry
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import collars, world

H = 3600.0


def run(rollouts, *, count=10, until=5 * H, **group):
    spec = world(devices=[collars(count, **group)], rollouts=rollouts)
    sink = MemorySink()
    result = simulate(spec, sink, until=until)
    assert result.error is None, result.error
    return result, sink.messages


def updates(messages):
    return [m for m in messages if isinstance(m, FirmwareUpdate)]


def test_a_rollout_to_a_share_of_a_version_names_the_version_and_brings_its_fault():
    rollout = {"at": "1h", "version": "2.0.0", "from_version": "1.0.0", "share": 0.4}
    result, messages = run([rollout | {"fault": "firmware_hang"}], firmware="1.0.0")
    sent = updates(messages)
    assert len(sent) == 4
    assert {(m.version, m.state, m.result) for m in sent} == {("2.0.0", "updating", 0)}
    start = result.world.spec.start.timestamp()
    assert {m.t - start for m in sent} == {H}
    hung = {r.device_id for r in result.truth}
    assert len(hung) == 4
    assert {r.cause.value for r in result.truth} == {"firmware_hang"}
    held = {d.sim: d.id for d in result.world.devices}
    assert {held[m.iccid] for m in sent} == hung
    for device in hung:  # they stop right after the update: none reports the new version
        after = [
            m
            for m in messages
            if isinstance(m, Telemetry) and m.device_id == device and m.t > start + H
        ]
        assert after == []
    others = [m for m in messages if isinstance(m, Telemetry) and m.device_id not in hung]
    assert {m.firmware for m in others} == {"1.0.0"}
    assert "firmware_hang" not in MemorySink.jsonl(_sink(messages)).decode()
    again, _ = run([rollout | {"fault": "firmware_hang"}], firmware="1.0.0")
    assert {r.device_id for r in again.truth} == hung, "the share is drawn with the seed"


def _sink(messages):
    sink = MemorySink()
    for m in messages:
        sink.write(m, "savanna")
    return sink


def test_a_rollout_that_writes_an_apn_keeps_its_version_and_is_refused_the_session():
    rollout = {"at": "1h", "version": "1.1.0", "devices": ["collar-0002", "collar-0003"]}
    result, messages = run([rollout | {"fault": "wrong_apn", "value": "internet"}], count=4)
    assert {r.device_id for r in result.truth} == {"collar-0002", "collar-0003"}
    rejected = {m.iccid for m in messages if isinstance(m, SessionRejected) and m.apn == "internet"}
    assert len(rejected) == 2
    late = [m for m in messages if isinstance(m, Telemetry) and m.device_id == "collar-0002"]
    assert late[-1].firmware == "1.0.0", "with the wrong APN it cannot report the new version"
    assert {d.firmware for d in result.world.devices if d.id in {"collar-0002", "collar-0003"}} == {
        "1.1.0"
    }


def test_a_rollout_without_a_fault_only_changes_the_version_devices_report():
    result, messages = run([{"at": "1h", "version": "1.2.0", "group": "collar"}], count=3)
    assert result.truth == []
    assert len(updates(messages)) == 3
    start = result.world.spec.start.timestamp()
    late = {m.firmware for m in messages if isinstance(m, Telemetry) and m.t > start + 2 * H}
    assert late == {"1.2.0"}


def test_a_rollout_names_a_device_fault_and_devices_that_exist():
    spec = world(
        devices=[collars(2)], rollouts=[{"at": "1h", "version": "2", "fault": "cell_outage"}]
    )
    result = simulate(spec, MemorySink(), until=2 * H)
    assert result.error is not None
    assert "cell_outage strikes a cell, not the firmware" in result.error
    bad = world(
        devices=[collars(2)], rollouts=[{"at": "1h", "version": "2", "devices": ["nobody"]}]
    )
    assert (
        "rollouts[0].devices[0]: unknown device 'nobody'"
        in simulate(bad, MemorySink(), until=H).error
    )
    with pytest.raises(ValueError, match="share"):
        world(devices=[collars(2)], rollouts=[{"at": "1h", "version": "2", "share": 0}])
