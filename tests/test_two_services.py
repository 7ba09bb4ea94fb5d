"""Two services on one broker: their own sessions, a busy port that takes nobody's, a takeover said.

The default MQTT client id comes from the database path (and the replica), so
two `simlab serve` on two files keep their own persistent sessions, and a
restart on the same file resumes its own. A second service whose HTTP port is
busy stops before it connects, so the running one keeps its session. When the
broker takes a session away for another client with the same id, the service
says so: MQTT 5's DISCONNECT 0x8E (here from a scripted broker) names the id
and counts in /health; a broker that only closes the connection is said to
have done that.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from diagnostics.ingest import Ingest
from diagnostics.settings import Settings, default_client_id
from tests.test_service_crash import ServiceProcess
from tests.waiting import wait

CLI = [sys.executable, "-c", "from simlab.commands import main; main()"]


def test_the_default_client_id_is_the_database_s_own_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv("SIMLAB_CLIENT_ID", raising=False)
    monkeypatch.delenv("SIMLAB_REPLICA", raising=False)
    a = Settings(database=tmp_path / "a.sqlite")
    assert a.session_id == Settings(database=tmp_path / "a.sqlite").session_id, "every restart"
    assert a.session_id.startswith("simlab-diagnostics-")
    assert a.session_id != Settings(database=tmp_path / "b.sqlite").session_id
    monkeypatch.chdir(tmp_path)
    assert Settings(database=Path("a.sqlite")).session_id == a.session_id, "the resolved path"
    replica = Settings(database=tmp_path / "a.sqlite", replica=2).session_id
    assert replica == f"{a.session_id}-r2"
    monkeypatch.setenv("SIMLAB_REPLICA", "2")
    assert Settings(database=tmp_path / "a.sqlite").session_id == replica
    assert Settings(client_id="mine").session_id == "mine"
    assert default_client_id(tmp_path / "a.sqlite") == a.session_id


def _scripted_broker(script):
    """A one-port TCP server: `script(conn, n)` plays the broker's side of connection n."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        for n in range(2):
            conn, _ = server.accept()
            script(conn, n)

    threading.Thread(target=serve, daemon=True).start()
    return server


CONNACK = b"\x20\x03\x00\x00\x00"
SUBACK = b"\x90\x04\x00\x01\x00\x01"
TAKEN_OVER = b"\xe0\x02\x8e\x00"


def test_a_session_taken_over_is_said_naming_the_client_id(caplog):
    held = []

    def script(conn, n):
        conn.recv(4096)  # CONNECT
        conn.sendall(CONNACK)
        conn.recv(4096)  # SUBSCRIBE
        conn.sendall(SUBACK)
        if n == 0:
            conn.sendall(TAKEN_OVER)
            conn.close()
        else:
            held.append(conn)  # the second connection stays

    server = _scripted_broker(script)
    ingest = Ingest(
        host="127.0.0.1",
        port=server.getsockname()[1],
        subscription="fleet/#",
        on_batch=lambda batch: None,
        client_id="diag-x",
        probe_every=0,
        reconnect=(0.05, 0.1),
    )
    with caplog.at_level(logging.WARNING, logger="simlab.ingest"):
        ingest.start()
        try:
            assert wait(lambda: ingest.stats.connects == 2, timeout=10)
        finally:
            ingest.stop()
            server.close()
            for conn in held:
                conn.close()
    assert ingest.stats.taken_over == 1
    assert ingest.stats.closed_by_broker == 0
    said = [r.getMessage() for r in caplog.records]
    assert any("another client with id diag-x took this session over" in m for m in said), said


def _serve(mosquitto, tmp_path, name, *extra, port=None):
    """`simlab serve` on NAME.sqlite with the default client id, unless `extra` gives one."""
    service = ServiceProcess(
        broker=mosquitto, root="two/simlab", database="", client_id="", log=tmp_path / f"{name}.log"
    )
    service.port = port or service.port
    service.command = [
        *CLI,
        "serve",
        "--broker",
        mosquitto.url,
        "--root",
        "two/simlab",
        "--db",
        str(tmp_path / f"{name}.sqlite"),
        "--port",
        str(service.port),
        *extra,
    ]
    return service


def _kicked(health):
    return health["sessions_taken_over"] + health["closed_by_broker"] >= 1


def _health(service):
    return service.http.get("/health").json()


@pytest.mark.broker
def test_two_services_keep_their_sessions_and_a_busy_port_takes_none(mosquitto, tmp_path):
    a = _serve(mosquitto, tmp_path, "a").start()
    b = _serve(mosquitto, tmp_path, "b").start()
    try:
        ids = {_health(a)["client_id"], _health(b)["client_id"]}
        assert len(ids) == 2
        assert all(i.startswith("simlab-diagnostics-") for i in ids)
        # A second service on a's database and port: it stops before it connects.
        second = _serve(mosquitto, tmp_path, "a", port=a.port)
        done = subprocess.run(
            second.command, check=False, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert f"127.0.0.1:{a.port} is in use" in done.stderr
        assert "Traceback" not in done.stderr
        time.sleep(1.5)  # long enough for a kick-off and a reconnect to show
        for service in (a, b):
            health = _health(service)
            assert health["broker_connected"], health
            assert (health["sessions_taken_over"], health["closed_by_broker"]) == (0, 0)
            assert service.metric("simlab_ingest_connects_total") == 1
        # The same client id given twice: the broker takes a's session; a says so.
        a_id = _health(a)["client_id"]
        thief = _serve(mosquitto, tmp_path, "c", "--client-id", a_id).start()
        try:
            assert wait(lambda: _kicked(_health(a)), timeout=10)
        finally:
            thief.stop()
        logged = (tmp_path / "a.log").read_text()
        assert f"another client with id {a_id}" in logged, logged[-2000:]
    finally:
        a.stop()
        b.stop()
