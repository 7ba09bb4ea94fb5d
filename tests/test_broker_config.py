"""`simlab broker-config`: a mosquitto.conf that starts a real broker, as the embedded one runs.

The README's three-terminal setup starts Mosquitto from this configuration; a stock
`mosquitto -p 1883` lacks `set_tcp_nodelay` and limits queues, and runs are several times
slower on it. The printed settings and the embedded broker's come from one place
(`simlab.broker.MOSQUITTO_SETTINGS`); these tests hold that they agree.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from simlab.broker import (
    MOSQUITTO_SETTINGS,
    MosquittoBroker,
    free_port,
    mosquitto_executable,
    wait_for_port,
)
from simlab.commands import app
from tests.mqtt_helpers import Subscriber

if TYPE_CHECKING:
    from pathlib import Path

EMBEDDED_ONLY = ("log_dest ", "user ", "persistence", "autosave_interval", "cafile ", "certfile ")
"""Lines only the embedded broker has: its log file and folder, running as root, TLS."""


def _printed(port: int) -> str:
    result = CliRunner().invoke(app, ["broker-config", "--port", str(port)])
    assert result.exit_code == 0, result.output
    return result.output


def _settings(config: str) -> list[str]:
    """The lines of a mosquitto.conf that set something: no comments, no blank lines."""
    return [line for line in config.splitlines() if line.strip() and not line.startswith("#")]


def test_the_printed_config_holds_the_embedded_brokers_settings(tmp_path: Path):
    port = free_port()
    embedded = MosquittoBroker(port=port, folder=tmp_path).config()
    shared = [line for line in _settings(embedded) if not line.startswith(EMBEDDED_ONLY)]
    assert _settings(_printed(port)) == shared
    assert shared[0] == f"listener {port} 127.0.0.1"  # this machine only
    for line, _ in MOSQUITTO_SETTINGS:
        assert line in shared
    assert "set_tcp_nodelay true" in shared


def test_every_printed_setting_says_why():
    lines = _printed(1883).splitlines()
    for n, line in enumerate(lines):
        if not line.startswith("#") and line.split()[0] != "log_type":
            assert lines[n - 1].startswith("# "), f"{line!r} has no comment above it"


def test_the_default_port_is_mqtts_registered_one():
    assert _settings(_printed(1883))[0] == "listener 1883 127.0.0.1"
    assert _printed(1883) == CliRunner().invoke(app, ["broker-config"]).output


@pytest.mark.broker
def test_the_printed_config_starts_a_mosquitto_that_accepts_clients(tmp_path: Path):
    executable = mosquitto_executable()
    if executable is None:
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    port = free_port()
    conf = tmp_path / "simlab-mosquitto.conf"
    conf.write_text(_printed(port), encoding="utf-8")
    broker = subprocess.Popen(
        [executable, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_port(port, alive=broker)
        subscriber = Subscriber("127.0.0.1", port, "simlab-test/config").start()
        try:
            subscriber.client.publish("simlab-test/config", b"hello", qos=1)
            assert subscriber.wait_for(lambda got: [m.payload for m in got] == [b"hello"], 10)
        finally:
            subscriber.stop()
    finally:
        broker.terminate()
        _, stderr = broker.communicate(timeout=10)
    assert b"Error" not in stderr, stderr.decode(errors="replace")
