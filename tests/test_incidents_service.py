"""Incidents end to end: a cell outage over a real Mosquitto, read back over real HTTP."""

import copy

import pytest

from protocol.identifiers import iccid_range, imei_range
from tests.test_service import caught_up, final_clock, publish_world, running, settings_for
from tests.world_fixtures import CUSTOMER, FIRST_ICCID, FIRST_IMEI, START, collars, world

pytestmark = pytest.mark.broker

H = 3600.0
T0 = START.timestamp()
ON_101 = 200
ON_102 = 40


def cell_outage_world():
    """200 collars that hear only cell 101, 40 that hear only cell 102; cell 101 dies at 2 h."""
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["count"] = ON_101 + ON_102
    iccids = [str(i) for i in iccid_range(FIRST_ICCID, ON_101 + ON_102)]
    imeis = [str(i) for i in imei_range(FIRST_IMEI, ON_101 + ON_102)]
    herd = collars(
        ON_102,
        name="herd",
        name_format="Zebra collar {n}",
        first_iccid=iccids[ON_101],
        first_imei=imeis[ON_101],
        lon=35.40,
    )
    return world(
        customer=customer,
        devices=[collars(ON_101, lon=34.80), herd],
        faults=[{"fault": "cell_outage", "at": "2h", "cell": 101, "duration": "6h"}],
    )


def test_a_cell_outage_of_200_devices_is_one_incident_not_200_alarms(mosquitto, topics, tmp_path):
    settings = settings_for(mosquitto, topics, tmp_path)
    with running(settings) as client:
        memory = publish_world(mosquitto, topics, cell_outage_world(), until=5 * H)
        assert caught_up(client, final_clock(memory))
        fleet = client.get("/api/fleet").json()
        assert fleet["devices"] == ON_101 + ON_102
        assert fleet["verdicts"]["OFFLINE"] == ON_101
        assert fleet["verdicts"]["ONLINE"] == ON_102
        assert fleet["alarms"] == 0, "the 200 point to the incident instead of alarming"
        assert fleet["incidents_open"] == 1
        assert fleet["incidents_alerting"] == 1

        page = client.get("/api/incidents").json()
        assert page["open"] == 1
        assert len(page["items"]) == 1
        (incident,) = page["items"]
        assert (incident["dimension"], incident["value"]) == ("cell", "101")
        assert incident["members"] == ON_101
        assert incident["quiet"] == ON_101
        assert incident["evidence"]["quiet"] == ON_101
        assert incident["evidence"]["devices"] == ON_101
        assert incident["evidence"]["p_value"] < 1e-3
        assert T0 + 2 * H < incident["opened_at"] < T0 + 4 * H
        assert not incident["muted"]

        detail = client.get(f"/api/incidents/{incident['id']}").json()
        assert len(detail["member_ids"]) == ON_101
        assert all(d.startswith("collar-") for d in detail["member_ids"])
        assert client.get("/api/incidents/inc-999999").status_code == 404

        member = client.get("/api/devices/collar-0001").json()
        assert member["verdict"] == "OFFLINE"
        assert member["incident_id"] == incident["id"]
        assert member["alarm"] is False
        healthy = client.get("/api/devices/herd-0001").json()
        assert (healthy["verdict"], healthy["incident_id"], healthy["alarm"]) == (
            "ONLINE",
            None,
            False,
        )

        silences = check_silences(client, incident["id"], fleet["clock"])

    with running(settings) as client:
        # a restart rebuilds the incident from the stored stream, and the silences from
        # the store: they are still listed, and still mute it
        fleet = client.get("/api/fleet").json()
        assert (fleet["alarms"], fleet["incidents_open"]) == (0, 1)
        assert fleet["incidents_alerting"] == 0, "the silence still mutes the incident"
        (rebuilt,) = client.get("/api/incidents").json()["items"]
        assert (rebuilt["dimension"], rebuilt["value"], rebuilt["quiet"]) == ("cell", "101", ON_101)
        assert rebuilt["muted"] is True
        assert rebuilt["silence_id"] == silences[0]["id"]
        assert client.get("/api/silences").json() == silences
        another = client.post(
            "/api/silences", json={"dimension": "apn", "value": "iot.savanna", "seconds": 60}
        ).json()
        assert another["id"] not in {s["id"] for s in silences}, "ids are not handed out again"


def check_silences(client, incident_id, clock):
    """Maintenance mutes the alert; the incident is still there. Returns the silences listed."""
    made = client.post(
        "/api/silences",
        json={"dimension": "cell", "value": "101", "seconds": 86400, "reason": "tower"},
    )
    assert made.status_code == 201, made.text
    silence = made.json()
    assert silence["until"] == clock + 86400
    muted = client.get(f"/api/incidents/{incident_id}").json()
    assert muted["muted"] is True
    assert muted["silence_id"] == silence["id"]
    after = client.get("/api/fleet").json()
    assert (after["incidents_open"], after["incidents_alerting"]) == (1, 0)
    assert [s["id"] for s in client.get("/api/silences").json()] == [silence["id"]]
    until = client.post(
        "/api/silences",
        json={"dimension": "operator", "value": "63902", "until": "2030-01-01T00:00:00Z"},
    )
    assert until.status_code == 201, until.text
    for bad in (
        {"dimension": "planet", "value": "x", "seconds": 60},
        {"dimension": "cell", "value": "101"},
        {"dimension": "cell", "value": "101", "seconds": 60, "until": "2030-01-01T00:00Z"},
        {"dimension": "cell", "value": "101", "seconds": -5},
        {"dimension": "cell", "value": "", "seconds": 60},
        {"dimension": "cell", "value": "101", "until": "2030-01-01T00:00:00"},
        {"dimension": "cell", "value": "101", "until": "2000-01-01T00:00:00Z"},
    ):
        refused = client.post("/api/silences", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["detail"], bad
    listed = client.get("/api/silences").json()
    assert [s["id"] for s in listed] == [silence["id"], until.json()["id"]]
    return listed
