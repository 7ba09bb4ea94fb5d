"""Explained quiet over the wire: SIMs deactivated in a shared cell, through a real Mosquitto.

Nine of ten collars on one cell lose their SIMs to billing (the account struck whole).
The service, reading the platform's events, opens no cell outage but one platform group
for the account, and support gets one fleet message for the nine beside their own.
"""

import pytest

from tests.test_service import caught_up, final_clock, publish_world, running, settings_for
from tests.world_fixtures import collars, world

pytestmark = pytest.mark.broker

H = 3600.0
CUT = [f"collar-{n:04d}" for n in range(1, 10)]


def test_deactivated_sims_make_a_platform_group_and_one_fleet_message(mosquitto, topics, tmp_path):
    spec = world(
        devices=[collars(10, battery_mah=None)],
        faults=[{"fault": "sim_deactivated", "at": "1h", "devices": CUT}],
    )
    with running(settings_for(mosquitto, topics, tmp_path)) as client:
        memory = publish_world(mosquitto, topics, spec, until=2.5 * H)
        assert caught_up(client, final_clock(memory))
        (incident,) = client.get("/api/incidents").json()["items"]
        assert (incident["kind"], incident["dimension"], incident["value"]) == (
            "platform",
            "account",
            "savanna",
        )
        assert (incident["cause"], incident["quiet"]) == ("sim_deactivated", 9)
        detail = client.get(f"/api/incidents/{incident['id']}").json()
        assert detail["member_ids"] == CUT
        page = client.get("/api/fleet/messages", params={"lang": "en"}).json()
        (message,) = page["items"]
        assert (message["account"], message["cause"], message["count"]) == (
            "savanna",
            "sim_deactivated",
            9,
        )
        assert message["device_ids"] == CUT
        assert message["subject"] == (
            "9 of your devices: a SIM card deactivated by our billing department"
        ), "billing deactivated each: the fleet message says so, as each device's own does"
        assert "- Giraffe collar 6" in message["body"]
        assert "Giraffe collar 10" not in message["body"]
        other = client.get("/api/fleet/messages", params={"account": "nobody"}).json()
        assert other["items"] == []
        before = client.get("/api/fleet/messages", params={"at": final_clock(memory) - 2 * H})
        assert before.json()["items"] == [], "before billing cut them, nothing to tell"
