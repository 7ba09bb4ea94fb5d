"""`simlab serve --run DIR`: a finished run's database served again, under the run's topic root.

A real run of the lost giraffe leaves its run directory; `serve --run` on it
(a real process, on the test Mosquitto) answers the API with the run's
devices and verdicts, as staff would look at a past run.
"""

from __future__ import annotations

import json
import sys

import paho.mqtt.publish
import pytest

from protocol.messages import Clock
from protocol.wire import Topics, encode
from simlab.run import RunOptions, run_scenario
from simlab.scenario import load_scenario
from tests.test_service_crash import ServiceProcess
from tests.waiting import wait

pytestmark = pytest.mark.broker

CLI = [sys.executable, "-c", "from simlab.commands import main; main()"]


@pytest.fixture(scope="module")
def run_dir(mosquitto, tmp_path_factory):
    out = tmp_path_factory.mktemp("giraffe") / "run"
    run_scenario(
        load_scenario("lost-giraffe"), "lost-giraffe", RunOptions(out=out, broker=mosquitto.url)
    )
    return out


def test_serve_run_shows_a_past_run_s_devices(mosquitto, run_dir, tmp_path):
    service = ServiceProcess(
        broker=mosquitto, root="", database="", client_id="", log=tmp_path / "serve.log"
    )
    service.command = [
        *CLI,
        "serve",
        "--run",
        str(run_dir),
        "--broker",
        mosquitto.url,
        "--port",
        str(service.port),
    ]
    run = json.loads((run_dir / "run.json").read_text())
    end = load_scenario("lost-giraffe").world.start.timestamp() + run["duration_s"]
    service.start()
    try:
        devices = service.http.get("/api/devices", params={"limit": 100}).json()
        rebuilt = service.http.get("/health").json()["clock"]
        # A watermark under the run's root moves the service's clock: it reads that root.
        later = Clock(t=end + 60)
        paho.mqtt.publish.single(
            Topics(run["root"]).for_message(later, ""),
            encode(later),
            qos=1,
            hostname="127.0.0.1",
            port=mosquitto.port,
        )
        moved = wait(lambda: service.http.get("/health").json()["clock"] == end + 60, timeout=10)
    finally:
        service.stop()
    ids = {d["device_id"] for d in devices["items"]}
    assert devices["total"] == 24
    assert {f"collar-{n:04d}" for n in range(1, 25)} == ids
    diagnoses = json.loads((run_dir / "diagnoses.json").read_text())
    victim = next(d for d in devices["items"] if d["device_id"] == "collar-0007")
    assert victim["verdict"] == "OFFLINE"
    assert "collar-0007" in {entry["device_id"] for entry in diagnoses}
    assert rebuilt == pytest.approx(end), "rebuilt from the run's database"
    assert moved, "the service reads the run's topic root"
