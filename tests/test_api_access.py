"""Who may call the API, and what it takes: real HTTP to the real app, no broker.

Writes need the bearer token always; reads only from a service that answers beyond
loopback, which must be given a token to start at all. Bodies are capped, moments
bounded, silences bounded and ended for good. Each case is a request as a client
would send it, to the app under uvicorn on a loopback port.
"""

from __future__ import annotations

import socket
import stat
import time

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from diagnostics.access import Access, TokenError, is_loopback, token_path
from diagnostics.diagnosis.staff_time import when
from diagnostics.main import create_app
from simlab.broker import free_port
from simlab.commands import app as cli
from simlab.commands.exits import EXIT_BAD_INPUT
from tests.api_server import T0, seeded, serving, settings_for

SILENCE = {"dimension": "cell", "value": "101", "seconds": 3600, "reason": "tower"}
MB = 1024 * 1024
TOKEN = "s3cret-token"  # noqa: S105 - a test's own token
FILED = "from-the-file"
PUBLIC = ["0.0.0.0", "::", "192.0.2.7"]  # noqa: S104 - hosts beyond loopback, not bound here


@pytest.fixture
def loopback(tmp_path):
    """A loopback service with no token configured: it keeps one next to its database."""
    seeded(tmp_path / "diagnostics.sqlite")
    with serving(settings_for(tmp_path / "diagnostics.sqlite")) as running:
        yield running


def _client(running, **headers):
    return httpx.Client(base_url=running.url, headers=headers, timeout=10)


# ---- the token -------------------------------------------------------------------------------


def test_a_write_without_the_token_is_401_with_the_reason_and_a_challenge(loopback):
    with _client(loopback) as client:
        for method, path, body in (
            ("POST", "/api/silences", SILENCE),
            ("POST", "/api/swap-tests", {"suspect_device": "collar-0001"}),
            ("DELETE", "/api/silences/sil-000001", None),
        ):
            refused = client.request(method, path, json=body)
            assert refused.status_code == 401, (method, path, refused.text)
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "Authorization: Bearer" in refused.json()["detail"]
        assert client.get("/api/silences").json() == [], "nothing was done"


def test_a_write_with_a_wrong_token_is_401(loopback):
    for wrong in (b"Bearer not-the-token", b"Bearer " + loopback.token.encode()[:-1], b"Basic x"):
        with _client(loopback, Authorization=wrong) as client:
            refused = client.post("/api/silences", json=SILENCE)
            assert refused.status_code == 401, wrong
            assert refused.json()["detail"]
    with _client(loopback, Authorization="Bearer h\xe9h\xe9".encode("latin-1")) as client:
        assert client.post("/api/silences", json=SILENCE).status_code == 401, "not a 500"
    with _client(loopback, Authorization="Bearer wrong") as client:
        refused = client.post("/api/silences", json=SILENCE)
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert loopback.token not in refused.text
        assert client.get("/api/silences").json() == []


def test_a_write_with_the_token_is_done(loopback):
    with _client(loopback, **loopback.bearer) as client:
        made = client.post("/api/silences", json=SILENCE)
        assert made.status_code == 201, made.text
        assert (
            client.post("/api/swap-tests", json={"suspect_device": "collar-0001"}).status_code
            == 201
        )
        assert [s["id"] for s in client.get("/api/silences").json()] == [made.json()["id"]]


def test_a_loopback_service_serves_reads_without_the_token(loopback):
    with _client(loopback) as client:
        for path in ("/api/fleet", "/api/devices", "/api/devices/collar-0001", "/metrics"):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text)
        assert client.get("/health").status_code == 503, "readable: no broker, so not ingesting"


def test_the_generated_token_is_kept_next_to_the_database_for_its_owner_only(tmp_path):
    database = tmp_path / "diagnostics.sqlite"
    with serving(settings_for(database)) as first:
        path = token_path(database)
        assert path.read_text().strip() == first.token
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert first.app.state.access.source == str(path), "where it is, never what it is"
    with serving(settings_for(database)) as again, _client(again, **first.bearer) as client:
        assert again.token == first.token, "a restart keeps the token its clients read"
        assert client.post("/api/silences", json=SILENCE).status_code == 201


def test_a_public_service_needs_the_token_for_reads_too(tmp_path):
    seeded(tmp_path / "diagnostics.sqlite")
    settings = settings_for(tmp_path / "diagnostics.sqlite", public=True, api_token=TOKEN)
    with serving(settings) as running:
        with _client(running) as client:
            for path in ("/api/fleet", "/api/devices/collar-0001", "/health", "/metrics"):
                refused = client.get(path)
                assert refused.status_code == 401, (path, refused.text)
                assert refused.headers["www-authenticate"] == "Bearer"
        with _client(running, Authorization=f"Bearer {TOKEN}") as client:
            assert client.get("/api/fleet").status_code == 200
            assert client.get("/metrics").status_code == 200
            assert client.post("/api/silences", json=SILENCE).status_code == 201
    assert not token_path(tmp_path / "diagnostics.sqlite").exists(), "a configured token only"


def test_the_token_file_is_read_stripped_and_a_bad_one_is_named(tmp_path):
    given = tmp_path / "api.token"
    given.write_text(f"  {FILED}\n")
    with serving(settings_for(tmp_path / "d.sqlite", api_token_file=given)) as running:
        assert running.token == FILED
        with _client(running, Authorization=f"Bearer {FILED}") as client:
            assert client.post("/api/silences", json=SILENCE).status_code == 201
    empty = tmp_path / "empty.token"
    empty.write_text("\n")
    for path, why in ((tmp_path / "missing.token", "no such file"), (empty, "the file is empty")):
        with pytest.raises(TokenError, match=f"SIMLAB_API_TOKEN_FILE {path}: {why}"):
            create_app(settings_for(tmp_path / "d.sqlite", api_token_file=path))


def test_a_public_service_without_a_token_does_not_start(tmp_path):
    with pytest.raises(TokenError, match="SIMLAB_API_TOKEN"):
        create_app(settings_for(tmp_path / "d.sqlite", public=True))


@pytest.mark.parametrize("host", PUBLIC)
def test_serve_beyond_loopback_without_a_token_exits_2_naming_the_setting(tmp_path, host):
    database = tmp_path / "d.sqlite"
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--host",
            host,
            "--db",
            str(database),
            "--broker",
            f"mqtt://127.0.0.1:{free_port()}",
        ],
        env={"SIMLAB_API_TOKEN": None, "SIMLAB_API_TOKEN_FILE": None, "SIMLAB_PUBLIC": None},
    )
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "SIMLAB_API_TOKEN" in line
    assert f"--host {host} is beyond loopback" in line
    assert not token_path(database).exists(), "no token made for a public service"


def test_loopback_is_127_slash_8_and_1():
    assert all(map(is_loopback, ["127.0.0.1", "127.8.9.10", "::1", "localhost", "[::1]"]))
    assert not any(map(is_loopback, [*PUBLIC, "10.0.0.1", "example.org", ""]))


def test_the_token_is_never_shown(tmp_path):
    with pytest.raises(ValidationError) as refused:
        settings_for(tmp_path / "d.sqlite", api_token=TOKEN, api_token_file=tmp_path)
    assert TOKEN not in str(refused.value)
    settings = settings_for(tmp_path / "d.sqlite", api_token=TOKEN)
    assert TOKEN not in repr(settings)
    assert TOKEN not in repr(Access(TOKEN))


# ---- bounded input ---------------------------------------------------------------------------


def test_a_50_mb_body_is_413_at_once_and_the_service_still_answers(loopback):
    with _client(loopback, **loopback.bearer) as client:
        started = time.monotonic()
        refused = client.post(
            "/api/silences", content=b"x" * (50 * MB), headers={"content-type": "application/json"}
        )
        assert refused.status_code == 413, refused.text
        assert "1048576 bytes" in refused.json()["detail"]
        chunks = (b" " * MB for _ in range(50))  # no Content-Length: counted as it comes
        streamed = client.post(
            "/api/silences", content=chunks, headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413, streamed.text
        assert time.monotonic() - started < 10
    with _client(loopback) as client:
        assert client.get("/api/fleet").status_code == 200


def test_a_declared_50_mb_body_is_refused_before_it_is_sent(loopback):
    port = int(loopback.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        head = (
            "POST /api/silences HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {loopback.token}\r\nContent-Length: {50 * MB}\r\n\r\n"
        )
        raw.sendall(head.encode())
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 "), answer


def test_a_silence_of_1e308_seconds_or_until_the_year_3000_is_422_with_the_reason(loopback):
    with _client(loopback, **loopback.bearer) as client:
        for bad, where in (
            ({**SILENCE, "seconds": 1e308}, "seconds"),
            ({**SILENCE, "seconds": 91 * 86400}, "seconds"),
            ({"dimension": "cell", "value": "101", "until": "3000-01-01T00:00:00Z"}, "until"),
        ):
            refused = client.post("/api/silences", json=bad)
            assert refused.status_code == 422, (bad, refused.text)
            assert where in refused.text
        assert client.get("/api/silences").json() == []


@pytest.mark.parametrize("at", ["nan", "0", "3e10", "-inf"])
def test_a_moment_outside_2000_to_2100_is_422(loopback, at):
    with _client(loopback, **loopback.bearer) as client:
        refused = client.get("/api/devices/collar-0001/diagnosis", params={"at": at})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["query", "at"]
        made = client.post("/api/swap-tests", json={"suspect_device": "collar-0001", "at": 0})
        assert made.status_code == 422, made.text
        ok = client.get("/api/devices/collar-0001/diagnosis", params={"at": T0 + 3600})
        assert ok.status_code == 200, ok.text


def test_an_id_past_sqlite_integers_is_422_not_500(loopback):
    with _client(loopback) as client:
        for path in ("/api/dead-letters", "/api/devices/collar-0001/timeline"):
            assert client.get(path, params={"before_id": 2**70}).status_code == 422, path


def test_a_time_no_calendar_names_is_shown_as_its_number():
    assert when(0.0) == "1970-01-01 00:00:00 UTC"
    assert when(-1e300) == "t=-1e+300 (Unix s, no calendar date)"
    assert when(float("nan")).startswith("t=nan")


# ---- ending a silence ------------------------------------------------------------------------


def test_ending_a_silence_is_kept_across_a_restart(tmp_path):
    database = tmp_path / "diagnostics.sqlite"
    clock = seeded(database)
    with serving(settings_for(database)) as running, _client(running, **running.bearer) as client:
        made = client.post("/api/silences", json=SILENCE).json()
        kept = client.post("/api/silences", json={**SILENCE, "value": "102"}).json()
        ended = client.delete(f"/api/silences/{made['id']}")
        assert ended.status_code == 204, ended.text
        assert client.delete(f"/api/silences/{made['id']}").status_code == 204, "ended already"
        unknown = client.delete("/api/silences/sil-999999")
        assert unknown.status_code == 404
        assert "sil-999999" in unknown.json()["detail"]
        listed = {s["id"]: s for s in client.get("/api/silences").json()}
        assert (listed[made["id"]]["active"], listed[made["id"]]["ended_at"]) == (False, clock)
        assert listed[made["id"]]["until"] == made["until"], "the planned end is kept"
        assert (listed[kept["id"]]["active"], listed[kept["id"]]["ended_at"]) == (True, None)
    with serving(settings_for(database)) as again, _client(again) as client:
        listed = {s["id"]: s for s in client.get("/api/silences").json()}
        assert (listed[made["id"]]["active"], listed[made["id"]]["ended_at"]) == (False, clock)
        assert listed[kept["id"]]["active"] is True
