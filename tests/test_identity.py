"""Identity on the wire: a forged device claiming another's ICCID is flagged, not trusted.

Through Mosquitto into the real app: a seeded world, then a forger publishing telemetry
with the victim's ICCID (with its own IMEI, and with the victim's). The victim keeps its
SIM and its diagnosis; the forger's view shows the conflict. Real moves, swaps and
streams delivered out of order are tests/test_sim_moves.py, test_swap_tests.py and
test_swap_window.py, which run with the guard in place.
"""

from __future__ import annotations

import pytest

from diagnostics.identity import IdentityGuard
from diagnostics.sim_map import SimMap
from protocol.messages import AttachAccepted, DeviceStatus, Telemetry
from tests.test_service import H, caught_up, final_clock, publish_world, running, settings_for
from tests.test_time_guard_mqtt import publish
from tests.waiting import wait
from tests.world_fixtures import collars, world

VICTIM, FORGER = "collar-0001", "forger-0001"


@pytest.mark.broker
def test_a_forged_device_cannot_take_over_another_devices_sim(mosquitto, topics, tmp_path):
    with running(settings_for(mosquitto, topics, tmp_path)) as client:
        memory = publish_world(mosquitto, topics, world(devices=[collars(3)]), until=2 * H)
        end = final_clock(memory)
        assert caught_up(client, end)
        before = client.get(f"/api/devices/{VICTIM}").json()
        diagnosis = client.get(f"/api/devices/{VICTIM}/diagnosis").json()
        last = next(
            m
            for m in reversed(memory.messages)
            if isinstance(m, Telemetry) and m.device_id == VICTIM
        )
        account = memory.accounts[memory.messages.index(last)]
        forged = [
            last.model_copy(update={"device_id": FORGER, "imei": "990000000000001", "t": end}),
            last.model_copy(update={"device_id": FORGER, "t": end + 1}),  # the victim's IMEI
            last.model_copy(update={"device_id": FORGER, "seq": 99, "t": end + 2}),
        ]
        status = DeviceStatus(t=end + 3, device_id=FORGER, iccid=last.iccid, status="online")
        publish(
            mosquitto,
            topics,
            [(topics.for_message(m, account), m) for m in [*forged, status]],
        )
        assert wait(
            lambda: client.get(f"/api/devices/{FORGER}").json().get("identity_conflicts") == 4
        )
        forger = client.get(f"/api/devices/{FORGER}").json()
        assert forger["iccid"] is None, "the claim is not taken into the map"
        assert forger["sim_claim_conflict"]["iccid"] == last.iccid
        assert forger["sim_claim_conflict"]["holder"] == VICTIM
        assert len(forger["timeline"]) == 4, "its reports are kept for its own timeline"
        assert forger["record"] is None, "nor does it see the victim's inventory record"
        after = client.get(f"/api/devices/{VICTIM}").json()
        assert after["iccid"] == before["iccid"] == last.iccid
        assert after["identity_conflicts"] == 0
        assert client.get(f"/api/devices/{VICTIM}/diagnosis").json() == diagnosis
        assert "simlab_identity_conflicts_total 4.0" in client.get("/metrics").text
        sim = client.get(f"/api/sims/{last.iccid}/diagnosis").json()
        assert FORGER not in str(sim)


def _telemetry(device_id, iccid, imei, t):
    return Telemetry(
        t=t,
        device_id=device_id,
        iccid=iccid,
        imei=imei,
        seq=1,
        firmware="1.0",
        battery=None,
        supply_mv=None,
        bearer="LTE-M",
        mcc_mnc="23001",
        cell_id=1,
        rsrp=-90.0,
        rsrq=-10.0,
        snr=5.0,
        apn="iot",
        ip="10.0.0.1",
        uptime_s=1,
    )


def _attach(iccid, imei, t):
    return AttachAccepted(t=t, iccid=iccid, imei=imei, mcc_mnc="23001", cell_id=1, rat="LTE-M")


@pytest.mark.unit
def test_a_move_the_network_confirms_late_is_taken_after_all():
    sims = SimMap()
    guard = IdentityGuard(sims)

    def take(message):
        read = guard.read(message)
        sims.observe(read)
        return read is message

    assert take(_attach("S1", "I-A", 100.0))
    assert take(_telemetry("dev-a", "S1", "I-A", 110.0))
    assert not take(_telemetry("dev-b", "S1", "I-B", 500.0)), "the network has not seen I-B"
    assert sims.sim_of("dev-a") == "S1"
    assert guard.conflict_of("dev-b")[0] == 1
    assert take(_attach("S1", "I-B", 490.0)), "the move's attach, arriving late"
    assert sims.sim_of("dev-b") == "S1"
    assert sims.sim_of("dev-a") is None
    assert guard.conflict_of("dev-b") == (0, None)
    assert guard.conflicts.confirmed == 1
    assert take(_telemetry("dev-a", "S1", "I-A", 300.0)), "an old report, judged by its time"
    assert not take(_telemetry("dev-a", "S1", "I-A", 5000.0)), "long after the move: stale"
