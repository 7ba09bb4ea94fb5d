"""Broker credentials and TLS settings without a broker: checked at once, the password hidden.

`Settings` (and so `simlab serve`) and `simlab run` refuse a client certificate
without its key, files that are not there, and TLS files for a plain mqtt://
broker, each in one line naming what is wrong; a password never appears in a
repr, an error or a URL said back. The ingest reads what TLS holds decrypted
after a `recv` (`pending()`) with the chunk it belongs to.
"""

from __future__ import annotations

import socket
import ssl
import threading

import pytest
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from diagnostics.settings import Settings
from protocol.mqtt import codec
from protocol.mqtt.reasons import connack_reason
from protocol.mqtt.tls import client_context, with_pending
from simlab.commands import app
from simulator.transport.url import BrokerUrl
from tests.test_mqtt_sink import make_certificates

SECRET = "Osprey-s3cret-99"  # noqa: S105 - a made-up password that must never show


def test_the_password_is_a_secret_the_settings_never_show(monkeypatch):
    monkeypatch.setenv("SIMLAB_BROKER_PASSWORD", SECRET)
    settings = Settings(broker_username="svc", broker_tls=True, broker_port=8883)
    assert isinstance(settings.broker_password, SecretStr)
    assert settings.broker_password.get_secret_value() == SECRET
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())
    assert settings.broker_url == "mqtts://svc@127.0.0.1:8883"


def _refused(**given: object) -> str:
    with pytest.raises(ValidationError) as raised:
        Settings(broker_password=SECRET, **given)
    text = str(raised.value)
    assert SECRET not in text, "a settings error never shows the password"
    return text


def test_a_certificate_without_its_key_and_a_missing_file_are_named(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    alone = _refused(broker_tls=True, broker_cert=cert)
    assert "broker_cert and broker_key go together" in alone
    assert "broker_key and" not in alone  # (the one line names both, once)
    assert "broker_cert and broker_key" in _refused(broker_tls=True, broker_key=cert)
    missing = tmp_path / "ca.pem"
    assert f"broker_ca {missing}: no such file" in _refused(broker_tls=True, broker_ca=missing)
    assert "broker_ca given but the broker is not TLS" in _refused(broker_ca=cert)


def test_a_broker_url_never_shows_its_password():
    url = BrokerUrl.parse(f"mqtts://svc:{SECRET}@broker.example:8883")
    assert url.password == SECRET
    assert SECRET not in repr(url)
    assert str(url) == "mqtts://svc@broker.example:8883"
    for bad in (f"mqtt://svc:{SECRET}@h:99999", f"svc:{SECRET}@h", f"http://svc:{SECRET}@h"):
        with pytest.raises(ValueError, match=r"svc:\*\*\*@h") as raised:
            BrokerUrl.parse(bad)
        assert SECRET not in str(raised.value)


def test_serve_says_a_bad_tls_flag_in_one_line_without_the_password(tmp_path):
    url = f"mqtts://svc:{SECRET}@127.0.0.1:8883"
    db = str(tmp_path / "d.sqlite")
    result = CliRunner().invoke(app, ["serve", "--broker", url, "--cert", __file__, "--db", db])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "simlab serve: broker_cert and broker_key go together (--cert and --key): "
        "give both or neither"
    )
    plain = CliRunner().invoke(app, ["serve", "--broker", "mqtt://h:1", "--ca", __file__])
    assert plain.exit_code == 2
    assert "broker_ca given but the broker is not TLS: use mqtts://" in plain.output


def test_run_refuses_tls_flags_it_cannot_use_before_anything_starts(tmp_path):
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["run", "lost-giraffe", "--out", str(tmp_path), *args])
        return result.exit_code, result.output.strip()

    assert run("--ca", __file__) == (2, "--ca: only with --broker mqtts://")
    url = f"mqtts://svc:{SECRET}@127.0.0.1:1"  # nothing listens on port 1 of loopback
    assert run("--broker", url, "--cert", __file__) == (
        2,
        "--cert and --key go together: give both or neither",
    )
    missing = tmp_path / "ca.pem"
    assert run("--broker", url, "--ca", str(missing)) == (2, f"--ca {missing}: no such file")
    code, said = run("--broker", url)
    assert code == 3
    assert said.startswith("cannot reach the broker at mqtts://svc@127.0.0.1:1: ")
    assert SECRET not in said


def test_a_refused_connack_is_named_in_either_protocol():
    assert connack_reason(0x86) == "bad user name or password"
    assert connack_reason(0x87) == "not authorized"
    assert connack_reason(0x84, codec.V311) == "bad user name or password"
    assert connack_reason(0x85, codec.V311) == "not authorized"
    assert connack_reason(0x84) == "unsupported protocol version"
    assert connack_reason(0xFE) == ""


def test_the_client_context_verifies_the_broker_with_tls_1_2_at_least():
    context = client_context()
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    with pytest.raises(ValueError, match="give both cert and key"):
        client_context(cert="c.pem")


def test_what_tls_holds_decrypted_after_a_recv_is_read_with_it(tmp_path):
    files = make_certificates(tmp_path)
    server_side, client_side = socket.socketpair()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(files.cert, files.key)
    record = bytes(range(256)) * 40  # one TLS record of 10,240 bytes

    def serve() -> None:
        with server_context.wrap_socket(server_side, server_side=True) as server:
            server.sendall(record)
            server.recv(1)  # until the client is done

    thread = threading.Thread(target=serve)
    thread.start()
    context = client_context(ca=files.ca)
    with context.wrap_socket(client_side, server_hostname="127.0.0.1") as client:
        client.settimeout(5)
        first = client.recv(1000)
        assert client.pending() > 0, "the rest of the record waits in OpenSSL, not the socket"
        assert with_pending(client, first) == record
        assert client.pending() == 0
        client.sendall(b"x")
    thread.join(5)
