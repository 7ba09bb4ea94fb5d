"""`serve` and `run` against a broker that wants a password, or TLS and a client certificate.

Each test starts a Mosquitto of its own on a free loopback port: one with
`allow_anonymous false` and a password file made by `mosquitto_passwd`, one
with a TLS listener (a CA and a server certificate for 127.0.0.1 made with the
openssl CLI) that also requires a client certificate. The service runs as
`simlab serve` in a real process; its whole output (uvicorn's and the ingest's
log) is searched for the password, and so are a run's output and every file of
its run directory.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import paho.mqtt.publish
import pytest

from diagnostics.ingest import Ingest
from protocol.messages import Clock
from protocol.mqtt.tls import client_context
from protocol.wire import Topics, encode
from simlab.broker import LOOPBACK, MosquittoBroker, free_port
from simulator.transport.publisher import MqttSink
from tests.test_mqtt_sink import make_certificates
from tests.waiting import ended, wait

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.broker

CLI = [sys.executable, "-c", "from simlab.commands import main; main()"]
USER = "simlab"
PASSWORD = "Kestrel-s3cret-42"  # noqa: S105 - the test broker's, searched for in output
WRONG = "Heron-wrong-17"
WATERMARK = 1_700_000_000.0


@dataclass
class LockedBroker(MosquittoBroker):
    """A test Mosquitto that wants a password (`password_file`) or a client certificate."""

    password_file: Path | None = None
    require_certificate: bool = False

    def config(self) -> str:
        text = super().config()
        if self.password_file is not None:
            text = text.replace(
                "allow_anonymous true\n",
                f"allow_anonymous false\npassword_file {self.password_file}\n",
            )
            assert "allow_anonymous false" in text
        if self.require_certificate:
            text += "require_certificate true\n"
        return text


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def client_certificate(folder: Path) -> tuple[Path, Path]:
    """A client certificate signed by `make_certificates`' CA in `folder`, and its key."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(folder, "req", *ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=svc")
    (folder / "client.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=clientAuth\n",
        encoding="utf-8",
    )
    _openssl(
        folder,
        *("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-out", "client.crt", "-days", "2", "-extfile", "client.ext"),
    )
    return folder / "client.crt", folder / "client.key"


@pytest.fixture
def locked(tmp_path):
    """A broker that lets in `USER` with `PASSWORD` only."""
    passwd = tmp_path / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwd), USER, PASSWORD],
        check=True,
        capture_output=True,
    )
    broker = LockedBroker(password_file=passwd).start()
    yield broker
    broker.remove()


def login_url(broker: MosquittoBroker, password: str = PASSWORD) -> str:
    return f"mqtt://{USER}:{password}@{LOOPBACK}:{broker.port}"


class Serve:
    """`simlab serve` as a child process, its stdout and stderr in one log file."""

    def __init__(self, tmp_path: Path, broker_url: str, *extra: str) -> None:
        self.port = free_port()
        self.topics = Topics(f"login-{self.port}")
        self.log = tmp_path / f"serve-{self.port}.log"
        command = [*CLI, "serve", "--broker", broker_url, "--root", self.topics.root]
        command += ["--db", str(tmp_path / f"{self.port}.sqlite"), "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([*command, *extra], stdout=out, stderr=out)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5)

    def health(self) -> dict[str, object] | None:
        assert self.process.poll() is None, f"serve exited: {self.output()[-2000:]}"
        try:
            return self.http.get("/health").json()
        except httpx.HTTPError:
            return None

    def healthy(self, key: str, want: object = True) -> bool:
        return wait(lambda: (self.health() or {}).get(key) == want, timeout=20)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> str:
        ended(self.process)
        self.http.close()
        return self.output()


def publish_watermark(broker: MosquittoBroker, topics: Topics, **login: object) -> None:
    """One Clock at `WATERMARK` under `topics`, published by plain paho with `login`."""
    clock = Clock(t=WATERMARK)
    paho.mqtt.publish.single(
        topics.for_message(clock, ""),
        encode(clock),
        qos=1,
        hostname=LOOPBACK,
        port=broker.port,
        **login,  # type: ignore[arg-type]
    )


# ---- a password ---------------------------------------------------------------------------------


def test_serve_logs_in_with_the_url_s_password_and_never_shows_it(locked, tmp_path):
    service = Serve(tmp_path, login_url(locked))
    try:
        assert service.healthy("broker_connected"), service.output()[-2000:]
        time.sleep(0.3)  # connected; let the SUBSCRIBE be acknowledged
        publish_watermark(locked, service.topics, auth={"username": USER, "password": PASSWORD})
        assert service.healthy("clock", WATERMARK), "the service ingested the login's message"
    finally:
        output = service.stop()
    assert PASSWORD not in output
    assert f"u'{USER}'" in locked.log(), "the broker let the user in"
    assert "INFO     simlab.ingest: connected to" in output, "the service's own log is shown"


def test_a_wrong_password_is_said_in_health_and_the_log_never_the_password(locked, tmp_path):
    service = Serve(tmp_path, login_url(locked, WRONG))
    try:
        refused = wait(lambda: (service.health() or {}).get("broker_error"), timeout=20)
        health = service.http.get("/health")
    finally:
        output = service.stop()
    assert refused, output[-2000:]
    assert health.status_code == 503
    assert health.json()["broker_connected"] is False
    # Mosquitto 2.0 refuses a wrong password with 0x87 "not authorized", not 0x86.
    said = "the broker refused the login: reason code 0x87 (not authorized)"
    assert said in health.json()["broker_error"]
    assert f"{said}); trying again in" in output
    assert WRONG not in output


@pytest.mark.parametrize("protocol", [5, 4], ids=["5", "3.1.1"])
def test_the_ingest_names_a_refused_login_in_either_protocol(locked, caplog, protocol):
    ingest = Ingest(
        host=LOOPBACK,
        port=locked.port,
        subscription="nothing/#",
        on_batch=lambda batch: None,
        username=USER,
        password=WRONG,
        protocol=protocol,
        reconnect=(5.0, 5.0),
    )
    with caplog.at_level(logging.ERROR, logger="simlab.ingest"):
        ingest.start()
        try:
            said = wait(lambda: ingest.broker_error is not None, timeout=10)
        finally:
            ingest.stop()
    assert said
    # Mosquitto 2.0 answers a wrong password with "not authorized" (0x87; return code 5).
    expected = "the broker refused the login: reason code 0x8"
    assert expected in str(ingest.broker_error)
    assert "(not authorized)" in str(ingest.broker_error)
    assert not ingest.connected.is_set()
    assert any(expected in record.getMessage() for record in caplog.records)
    assert all(WRONG not in record.getMessage() for record in caplog.records)


# ---- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def tls_locked(tmp_path):
    """A TLS broker (CA and certificate for 127.0.0.1) that wants a client certificate too."""
    files = make_certificates(tmp_path)
    broker = LockedBroker(tls=files, require_certificate=True).start()
    yield broker
    broker.remove()


def test_serve_ingests_over_mqtts_with_the_ca_and_a_client_certificate(tls_locked, tmp_path):
    assert tls_locked.tls is not None
    cert, key = client_certificate(tmp_path)
    ca = str(tls_locked.tls.ca)
    service = Serve(
        tmp_path,
        f"mqtts://{LOOPBACK}:{tls_locked.port}",
        *("--ca", ca, "--cert", str(cert), "--key", str(key)),
    )
    try:
        assert service.healthy("broker_connected"), service.output()[-2000:]
        time.sleep(0.3)
        tls = {"ca_certs": ca, "certfile": str(cert), "keyfile": str(key)}
        publish_watermark(tls_locked, service.topics, tls=tls)
        assert service.healthy("clock", WATERMARK), "the service ingested over TLS"
    finally:
        service.stop()


def test_the_publisher_presents_its_client_certificate(tls_locked, tmp_path, topics):
    assert tls_locked.tls is not None
    cert, key = client_certificate(tmp_path)
    ca = str(tls_locked.tls.ca)
    sink = MqttSink(
        tls_locked.url, topics=topics, ca_file=ca, cert_file=str(cert), key_file=str(key)
    )
    assert sink.start().close().connects == 1


def test_the_ingest_says_a_certificate_it_cannot_trust(tls_locked):
    ingest = Ingest(
        host=LOOPBACK,
        port=tls_locked.port,
        subscription="nothing/#",
        on_batch=lambda batch: None,
        tls=client_context(),  # the system's CAs only
        reconnect=(5.0, 5.0),
    )
    ingest.start()
    try:
        said = wait(lambda: ingest.broker_error is not None, timeout=10)
    finally:
        ingest.stop()
    assert said
    assert "certificate verify failed" in str(ingest.broker_error)


# ---- a run ------------------------------------------------------------------------------------


def test_run_publishes_and_ingests_with_the_password_and_leaves_it_nowhere(locked, tmp_path):
    out = tmp_path / "run"
    url = login_url(locked)
    done = subprocess.run(
        [*CLI, "run", "lost-giraffe", "--broker", url, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert PASSWORD not in done.stdout + done.stderr
    assert f"mqtt://{USER}@{LOOPBACK}:{locked.port}" in done.stdout
    files = [path for path in out.rglob("*") if path.is_file()]
    assert any(path.name == "run.json" for path in files)
    for path in files:
        assert PASSWORD.encode() not in path.read_bytes(), path

    wrong = subprocess.run(
        [
            *CLI,
            "run",
            "lost-giraffe",
            "--broker",
            login_url(locked, WRONG),
            "--out",
            str(out) + "-2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert wrong.returncode == 3, wrong.stdout[-2000:] + wrong.stderr[-2000:]
    assert "the broker refused the login" in wrong.stderr
    assert WRONG not in wrong.stdout + wrong.stderr
