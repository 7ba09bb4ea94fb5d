"""Diagnosis over the wire: simulated worlds through a real Mosquitto into the running service.

A subset of the cause worlds is published over MQTT; support asks the REST API,
as the web page will, for the diagnosis at the moment a customer calls, the
message to send, and registers a swap test.
"""

from __future__ import annotations

import pytest

from diagnostics.diagnosis.causes import CAUSES
from protocol.causes import Cause
from simulator.world.spec import FaultId
from tests.diagnosis_worlds import T0, WORLDS
from tests.test_service import caught_up, final_clock, publish_world, running, settings_for
from tests.test_swap_tests import GOOD, SUSPECT, SWAP_AT, swap_world

pytestmark = pytest.mark.broker

OVER_MQTT = [FaultId.BATTERY_DEPLETED, FaultId.WRONG_APN, FaultId.CELL_OUTAGE]


@pytest.mark.parametrize("fault", OVER_MQTT, ids=str)
def test_the_api_diagnoses_the_injected_cause(fault, mosquitto, topics, tmp_path):
    cause_world = WORLDS[fault]
    look = T0 + cause_world.look
    with running(settings_for(mosquitto, topics, tmp_path)) as client:
        memory = publish_world(mosquitto, topics, cause_world.spec(), cause_world.look + 600)
        assert caught_up(client, final_clock(memory))
        answer = client.get("/api/devices/collar-0001/diagnosis", params={"at": look})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["at"] == look
        assert body["cause"] == fault.cause.value
        assert body["fix"] == CAUSES[fault.cause].fix
        assert body["checks"][0]["name"] == "sim_state"
        assert all(
            c["status"] in {"ok", "worked_before", "never_worked", "not_enough_data"}
            for c in body["checks"]
        )
        healthy = client.get("/api/devices/herd-0003/diagnosis", params={"at": look}).json()
        assert healthy["cause"] is None
        assert healthy["healthy"] is True
        # the SIM's own diagnosis agrees
        iccid = body["iccid"]
        assert (
            client.get(f"/api/sims/{iccid}/diagnosis", params={"at": look}).json()["cause"]
            == fault.cause.value
        )
        for lang in ("en", "sv"):
            message = client.get(
                "/api/devices/collar-0001/message", params={"at": look, "lang": lang}
            )
            assert message.status_code == 200, message.text
            text = message.json()
            assert text["language"] == lang
            assert text["cause"] == fault.cause.value
            assert "Giraffe collar 1" in text["body"]


def test_swap_tests_over_the_api(mosquitto, topics, tmp_path):
    spec = swap_world({"fault": "damaged_sim"})
    settings = settings_for(mosquitto, topics, tmp_path)
    with running(settings) as client:
        memory = publish_world(mosquitto, topics, spec, SWAP_AT + 2 * 3600)
        assert caught_up(client, final_clock(memory))
        created = client.post(
            "/api/swap-tests",
            json={"suspect_device": SUSPECT, "good_device": GOOD, "at": T0 + SWAP_AT},
        )
        assert created.status_code == 201, created.text
        test = created.json()
        assert test["suspect_iccid"] != test["good_iccid"]
        assert [t["id"] for t in client.get("/api/swap-tests").json()] == [test["id"]]
        verdict = client.get(f"/api/swap-tests/{test['id']}").json()
        assert verdict["outcome"] == "follows_sim"
        assert verdict["evidence"]
        # bad requests name what was wrong
        same = client.post(
            "/api/swap-tests", json={"suspect_device": SUSPECT, "good_device": SUSPECT}
        )
        assert same.status_code == 422
        assert "good_device" in same.text
        unknown = client.post("/api/swap-tests", json={"suspect_device": "nobody"})
        assert unknown.status_code == 404
        assert "nobody" in unknown.text
        extra = client.post("/api/swap-tests", json={"suspect_device": SUSPECT, "colour": "red"})
        assert extra.status_code == 422
        assert "colour" in extra.text
        assert client.get("/api/swap-tests/nope").status_code == 404
        assert client.get("/api/devices/nobody/diagnosis").status_code == 404
        assert (
            client.get("/api/devices/collar-0001/message", params={"lang": "fi"}).status_code == 422
        )
    # a restarted service still knows the test
    with running(settings) as client:
        assert [t["id"] for t in client.get("/api/swap-tests").json()] == [test["id"]]


def test_every_cause_has_staff_text():
    assert all(CAUSES[c].fix and CAUSES[c].title for c in Cause)
