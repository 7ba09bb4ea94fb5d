"""The diagnostics service end to end: simulated worlds over a real Mosquitto, real HTTP."""

import contextlib
import json
import time
import uuid

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from diagnostics.ingest import Received
from diagnostics.service import Service
from diagnostics.settings import Settings
from diagnostics.store import SQLiteStore
from diagnostics.views import ServiceView
from protocol.messages import Clock, Telemetry
from protocol.wire import Topics, encode
from simulator.transport.publisher import MqttSink
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.api_server import serving
from tests.waiting import wait
from tests.world_fixtures import START, collars, world

pytestmark = pytest.mark.broker

H = 3600.0
T0 = START.timestamp()


@contextlib.contextmanager
def running(settings):
    """The app under uvicorn on a free loopback port, in a thread; yields an HTTP client.

    The client sends the app's API token (the one kept next to the database)."""
    with (
        serving(settings) as app,
        httpx.Client(base_url=app.url, headers=app.bearer, timeout=10) as client,
    ):
        assert wait(lambda: client.get("/health").status_code == 200), "not connected"
        time.sleep(0.3)  # the subscription is acknowledged
        yield client


def settings_for(mosquitto, topics, tmp_path, client_id=None):
    return Settings(
        broker_port=mosquitto.port,
        root=topics.root,
        database=tmp_path / "diagnostics.sqlite",
        client_id=client_id or f"diag-{uuid.uuid4().hex[:8]}",
    )


def publish_world(mosquitto, topics, spec, until):
    """Publish the world through MQTT; returns what it wrote (the same run, in memory)."""
    memory = MemorySink()
    assert simulate(spec, memory, until=until).error is None
    sink = MqttSink(mosquitto.url, topics=topics, speed=None, telemetry_qos=1).start()
    result = simulate(spec, sink, until=until)
    sink.close()
    assert result.error is None
    return memory


def final_clock(memory):
    return max(m.t for m in memory.messages if isinstance(m, Clock))


def caught_up(client, clock):
    return wait(lambda: client.get("/api/fleet").json()["clock"] == clock, timeout=30)


DYING = "collar-0002"
DEATH = 2 * H


def dying_world(count=4):
    return world(
        devices=[collars(count)],
        faults=[{"fault": "power_loss", "at": "2h", "devices": [DYING]}],
    )


def test_a_dead_device_is_offline_within_five_intervals_and_the_rest_online(
    mosquitto, topics, tmp_path
):
    with running(settings_for(mosquitto, topics, tmp_path)) as client:
        memory = publish_world(mosquitto, topics, dying_world(), until=6 * H)
        assert caught_up(client, final_clock(memory))
        dead = client.get(f"/api/devices/{DYING}").json()
        assert dead["verdict"] == "OFFLINE"
        offline_at = next(v["t"] for v in dead["history"] if v["verdict"] == "OFFLINE")
        interval = 15 * 60
        assert T0 + DEATH < offline_at <= T0 + DEATH + 5 * interval
        assert dead["timeline"], "its messages are on its timeline"
        assert dead["record"]["iccid"] == dead["iccid"]
        page = client.get("/api/devices").json()
        verdicts = {d["device_id"]: d["verdict"] for d in page["items"]}
        assert page["total"] == 4
        assert verdicts == {
            "collar-0001": "ONLINE",
            DYING: "OFFLINE",
            "collar-0003": "ONLINE",
            "collar-0004": "ONLINE",
        }
        fleet = client.get("/api/fleet").json()
        assert fleet["devices"] == 4
        assert fleet["verdicts"]["ONLINE"] == 3
        assert fleet["verdicts"]["OFFLINE"] == 1
        assert fleet["dead_letters"] == {}
        sent = {}
        for m in memory.messages:
            sent[m.kind] = sent.get(m.kind, 0) + 1
        assert fleet["messages"] == sent, "every message stored once"
        # filters and pagination
        offline = client.get("/api/devices", params={"verdict": "OFFLINE"}).json()
        assert [d["device_id"] for d in offline["items"]] == [DYING]
        operator = dead["operator"]
        assert client.get("/api/devices", params={"operator": operator}).json()["total"] >= 1
        second = client.get("/api/devices", params={"limit": 2, "offset": 2}).json()
        assert [d["device_id"] for d in second["items"]] == ["collar-0003", "collar-0004"]
        assert client.get("/api/devices", params={"verdict": "DEAD"}).status_code == 422
        assert client.get("/api/devices", params={"limit": 0}).status_code == 422
        missing = client.get("/api/devices/nobody")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "no device 'nobody' seen"}
        # the timeline pages backwards
        first = client.get(f"/api/devices/{DYING}/timeline", params={"limit": 5}).json()
        assert len(first["items"]) == 5
        older = client.get(
            f"/api/devices/{DYING}/timeline",
            params={"limit": 5, "before_id": first["next_before_id"]},
        ).json()
        assert older["items"][-1]["t"] <= first["items"][0]["t"]
        assert {i["id"] for i in older["items"]}.isdisjoint(i["id"] for i in first["items"])
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        assert 'simlab_devices{verdict="OFFLINE"} 1' in metrics.text
        assert 'simlab_ingest_lag_seconds{quantile="0.99"}' in metrics.text
        assert "# HELP simlab_ingest_lag_seconds Broker to commit" in metrics.text
        assert 'simlab_ingest_read_to_commit_seconds{quantile="0.99"}' in metrics.text
        assert "\nsimlab_redelivered_total 0.0\n" in metrics.text
        schema = client.get("/openapi.json").json()
        assert "/api/devices/{device_id}/timeline" in schema["paths"]


def test_b_a_sleeping_psm_device_is_asleep_never_offline(mosquitto, topics, tmp_path):
    spec = world(devices=[collars(2, psm=True, report_interval="6h", battery_mah=None)])
    with running(settings_for(mosquitto, topics, tmp_path)) as client:
        memory = publish_world(mosquitto, topics, spec, until=20 * H)
        assert caught_up(client, final_clock(memory))
        for device_id in ("collar-0001", "collar-0002"):
            found = client.get(f"/api/devices/{device_id}").json()
            seen = [v["verdict"] for v in found["history"]]
            assert "OFFLINE" not in seen, (device_id, found["history"])
            assert "ASLEEP" in seen, (device_id, found["history"])


def test_c_garbage_is_dead_lettered_and_counted_while_good_traffic_goes_on(
    mosquitto, topics, tmp_path
):
    good = json.loads('{"v": 1, "t": 1772409600.0, "kind": "clock", "final": false}')
    garbage = [
        (f"{topics.root}/savanna/device/collar-0001/telemetry", b"not json{", "not_json"),
        (f"{topics.root}/clock", json.dumps({**good, "v": 2}).encode(), "version"),
        (f"{topics.root}/clock", json.dumps({**good, "t": "yesterday"}).encode(), "invalid"),
        (f"{topics.root}/x/y", json.dumps(good).encode(), "topic"),
    ]
    with running(settings_for(mosquitto, topics, tmp_path)) as client:
        raw = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        raw.connect("127.0.0.1", mosquitto.port)
        raw.loop_start()
        try:
            for topic, payload, _code in garbage:
                raw.publish(topic, payload, qos=1).wait_for_publish(5)
            memory = publish_world(mosquitto, topics, world(devices=[collars(2)]), until=2 * H)
        finally:
            raw.disconnect()
            raw.loop_stop()
        assert caught_up(client, final_clock(memory))
        codes = {code: 1 for _t, _p, code in garbage}
        assert wait(lambda: client.get("/api/fleet").json()["dead_letters"] == codes)
        letters = client.get("/api/dead-letters").json()["items"]
        assert sorted(d["code"] for d in letters) == sorted(codes)
        assert {d["topic"] for d in letters} == {t for t, _p, _c in garbage}
        assert next(d for d in letters if d["code"] == "not_json")["payload"] == "not json{"
        only = client.get("/api/dead-letters", params={"code": "version"}).json()["items"]
        assert [d["code"] for d in only] == ["version"]
        metrics = client.get("/metrics").text
        for code in codes:
            assert f'simlab_dead_letters_total{{code="{code}"}} 1' in metrics
        page = client.get("/api/devices").json()
        assert {d["device_id"]: d["verdict"] for d in page["items"]} == {
            "collar-0001": "ONLINE",
            "collar-0002": "ONLINE",
        }


def test_d_a_restarted_service_rebuilds_its_verdicts_from_the_store(mosquitto, topics, tmp_path):
    settings = settings_for(mosquitto, topics, tmp_path)
    with running(settings) as client:
        memory = publish_world(mosquitto, topics, dying_world(3), until=6 * H)
        assert caught_up(client, final_clock(memory))
        before = client.get("/api/devices").json()["items"]
        history = client.get(f"/api/devices/{DYING}").json()["history"]
    with running(settings) as client:
        fleet = client.get("/api/fleet").json()
        assert fleet["clock"] == final_clock(memory)
        assert client.get("/api/devices").json()["items"] == before
        dead = client.get(f"/api/devices/{DYING}").json()
        assert dead["verdict"] == "OFFLINE"
        assert dead["history"] == history, "nothing new to record after the rebuild"
        assert sum(fleet["messages"].values()) == len(memory.messages), "no duplicates stored"


@pytest.mark.parametrize("path", ["/api/devices?offset=-1", "/api/dead-letters?before_id=0"])
def test_bad_query_parameters_are_refused(mosquitto, topics, tmp_path, path):
    with running(settings_for(mosquitto, topics, tmp_path)) as client:
        refused = client.get(path)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["type"]


def test_wall_clock_mode_judges_by_the_wall_not_the_stream(tmp_path):
    topics = Topics("wall/simlab")
    store = SQLiteStore(tmp_path / "wall.sqlite")
    service = Service(store=store, topics=topics, wall_clock=True)
    now = time.time()
    reports = [
        Telemetry(
            t=now - 3 * 3600 + k * 900,
            device_id="m-1",
            iccid="8946200050000000009",
            imei="356938030000005",
            seq=k,
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
            uptime_s=k,
        )
        for k in range(6)
    ]
    far_future = Clock(t=now + 10 * 86400)  # a stream clock is ignored in wall-clock mode
    batch = [
        Received(topics.for_message(m, "acme"), encode(m), 1, i, now)
        for i, m in enumerate([*reports, far_future])
    ]
    service.handle(batch)
    assert service.clock is None
    assert service.tick(now) == 1
    assert ServiceView(service).device("m-1").device.status == "OFFLINE"
    assert service.tick(now - 10) == 0, "the wall clock does not run backwards"
    store.close()
