"""Forged stamps through a real Mosquitto into the real app, and the app restarted on its file."""

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from protocol.messages import Clock, Telemetry
from protocol.wire import encode
from tests.test_service import (
    DYING,
    caught_up,
    dying_world,
    final_clock,
    publish_world,
    running,
    settings_for,
)
from tests.waiting import wait

pytestmark = pytest.mark.broker

H = 3600.0
DAY = 86400.0
YEAR_3000 = 32_503_680_000.0


def publish(mosquitto, topics, messages):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        for topic, message in messages:
            client.publish(topic, encode(message), qos=1).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def test_forged_clock_and_stamps_far_ahead_and_behind_are_refused_and_stay_refused(
    mosquitto, topics, tmp_path
):
    settings = settings_for(mosquitto, topics, tmp_path)
    with running(settings) as client:
        memory = publish_world(mosquitto, topics, dying_world(), until=6 * H)
        end = final_clock(memory)
        assert caught_up(client, end)
        last = next(
            m
            for m in reversed(memory.messages)
            if isinstance(m, Telemetry) and m.device_id == DYING
        )
        account = memory.accounts[memory.messages.index(last)]
        telemetry = topics.for_message(last, account)
        publish(
            mosquitto,
            topics,
            [
                (topics.clock(), Clock(t=YEAR_3000)),
                (telemetry, last.model_copy(update={"t": end + 2 * DAY})),
                (telemetry, last.model_copy(update={"t": end - 60 * DAY})),
            ],
        )
        expected = {"clock_jump": 1, "ahead": 1, "behind": 1}
        assert wait(lambda: client.get("/api/fleet").json()["dead_letters"] == expected)
        fleet = client.get("/api/fleet").json()
        assert fleet["clock"] == end
        assert {k: v for k, v in fleet["verdicts"].items() if v} == {"ONLINE": 3, "OFFLINE": 1}
        letters = client.get("/api/dead-letters", params={"code": "ahead"}).json()["items"]
        assert letters[0]["topic"] == telemetry
        assert "past the service clock" in letters[0]["reason"]
    with running(settings) as client:
        fleet = client.get("/api/fleet").json()
        assert fleet["clock"] == end, "the restart takes up the true clock"
        assert {k: v for k, v in fleet["verdicts"].items() if v} == {"ONLINE": 3, "OFFLINE": 1}
        assert client.get(f"/api/devices/{DYING}").json()["verdict"] == "OFFLINE"
