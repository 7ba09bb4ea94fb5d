"""Errors as one clear line and the exit code the README's table gives, before anything starts.

0 done and the answer key met, 1 key not met, 2 bad input, 3 a broker or store
could not be reached, 4 cut short (`simlab.commands.exits`). Each case here is
a command as a user types it: a bad or unreachable broker for `run`, a bad
database file or a busy port for `serve`, bad answers and the end of input for
`train`; and Ctrl-C in the middle of a real run.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import simlab.commands.train as train_command
from simlab.broker import free_port
from simlab.commands import app
from simlab.commands.exits import (
    EXIT_BAD_INPUT,
    EXIT_CUT_SHORT,
    EXIT_KEY_NOT_MET,
    EXIT_OK,
    EXIT_UNREACHABLE,
)
from tests.waiting import wait

CLI = [sys.executable, "-c", "from simlab.commands import main; main()"]


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def test_the_exit_codes_are_those_of_the_table():
    assert (EXIT_OK, EXIT_KEY_NOT_MET, EXIT_BAD_INPUT, EXIT_UNREACHABLE, EXIT_CUT_SHORT) == (
        0,
        1,
        2,
        3,
        4,
    )


@pytest.mark.parametrize(
    ("broker", "why"),
    [
        ("http://localhost:1883", "scheme must be mqtt:// or mqtts://, not 'http'"),
        ("localhost:1883", "no scheme; write mqtt://localhost:1883 (mqtts:// for TLS)"),
        ("127.0.0.1", "no scheme; write mqtt://127.0.0.1 (mqtts:// for TLS)"),
    ],
)
def test_a_bad_broker_url_is_one_line_and_exit_2_before_the_run(tmp_path, broker, why):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "lost-giraffe", "--broker", broker, "--out", str(out)])
    assert result.exit_code == EXIT_BAD_INPUT
    assert _lines(result.output) == [f"--broker: broker URL {broker!r}: {why}"]
    assert not out.exists(), "nothing started"


def test_an_unreachable_broker_is_exit_3_naming_it(tmp_path):
    out = tmp_path / "run"
    url = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    result = CliRunner().invoke(app, ["run", "lost-giraffe", "--broker", url, "--out", str(out)])
    assert result.exit_code == EXIT_UNREACHABLE
    (line,) = _lines(result.output)
    assert line.startswith(f"cannot reach the broker at {url}: ")
    assert not out.exists()


def test_simulate_and_replay_say_a_bad_or_unreachable_broker_in_one_line(tmp_path):
    recording = tmp_path / "one.jsonl"
    recording.write_text('{"topic": "clock", "payload": {"v": 1, "t": 1.0, "kind": "clock"}}\n')
    url = f"mqtt://127.0.0.1:{free_port()}"
    for command in (["simulate", "savanna-collars", "--hours", "1"], ["replay", str(recording)]):
        bad = CliRunner().invoke(app, [*command, "--broker", "http://x"])
        assert bad.exit_code == EXIT_BAD_INPUT, bad.output
        assert _lines(bad.output) == [
            "--broker: broker URL 'http://x': scheme must be mqtt:// or mqtts://, not 'http'"
        ]
        away = CliRunner().invoke(app, [*command, "--broker", url])
        assert away.exit_code == EXIT_UNREACHABLE, away.output
        (line,) = _lines(away.output)
        assert line.startswith(f"cannot connect to the MQTT broker at {url}: ")


def _serve(*args):
    return CliRunner().invoke(app, ["serve", "--broker", f"mqtt://127.0.0.1:{free_port()}", *args])


def test_serve_refuses_a_database_in_a_missing_directory(tmp_path):
    database = tmp_path / "missing" / "dir" / "x.sqlite"
    result = _serve("--db", str(database))
    assert result.exit_code == EXIT_BAD_INPUT
    (line,) = _lines(result.output)
    assert line.startswith(f"{database}: the directory {database.parent} does not exist")
    assert "create it" in line
    assert not database.parent.exists()


def test_serve_refuses_a_corrupt_or_foreign_file_naming_it(tmp_path):
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not SQLite at all\n" * 200)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    for path, what in ((corrupt, "not a database"), (foreign, "not a diagnostics store")):
        before = path.read_bytes()
        result = _serve("--db", str(path), "--port", str(free_port()))
        assert result.exit_code == EXIT_BAD_INPUT, result.output
        (line,) = _lines(result.output)
        assert line.startswith(f"{path}: {what}")
        assert "give --db a diagnostics store, or a new file" in line
        assert "Traceback" not in result.output
        if path is corrupt:
            assert path.read_bytes() == before, "the file is left as it was"


def test_serve_on_a_busy_port_is_one_line_and_never_reaches_the_broker(tmp_path):
    with socket.socket() as busy, socket.socket() as broker:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        broker.bind(("127.0.0.1", 0))
        broker.listen()  # a "broker" that counts connections
        broker.settimeout(0.3)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            app,
            [
                "serve",
                "--broker",
                f"mqtt://127.0.0.1:{broker.getsockname()[1]}",
                "--db",
                str(tmp_path / "x.sqlite"),
                "--port",
                str(port),
            ],
        )
        assert result.exit_code == EXIT_BAD_INPUT
        assert _lines(result.output) == [
            f"127.0.0.1:{port} is in use (another simlab serve?): stop it, or give another --port"
        ]
        with pytest.raises(TimeoutError):
            broker.accept()  # no connection ever came


def test_serve_run_refuses_a_directory_that_is_not_a_run(tmp_path):
    result = _serve("--run", str(tmp_path))
    assert result.exit_code == EXIT_BAD_INPUT
    (line,) = _lines(result.output)
    assert line.startswith(f"--run: {tmp_path / 'run.json'}: missing")
    result = _serve("--run", str(tmp_path), "--db", str(tmp_path / "x.sqlite"))
    assert result.exit_code == EXIT_BAD_INPUT
    assert "leave out --db, --root" in result.output


def test_train_reports_every_bad_answer_at_once_before_the_run(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "collar-0007: flat battery\ncollar-0099: ok\ngiraffe-7: 1\ncollar-0003: ok\n"
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["train", "lost-giraffe", "--out", str(out), "--answers", str(answers)]
    )
    assert result.exit_code == EXIT_BAD_INPUT
    lines = _lines(result.output)
    assert len(lines) == 3, result.output
    assert lines[0].startswith(f"{answers}: collar-0007: 'flat battery' is not a cause")
    assert lines[1].startswith(f"{answers}: collar-0099: no such device in this run")
    assert lines[2].startswith(f"{answers}: giraffe-7: no such device in this run")
    assert not out.exists(), "the run never started"


def test_train_says_when_the_input_ends(monkeypatch):
    def session(scenario, options, *, console, err, ask):
        ask("collar-0007 (Giraffe collar 7): cause number or id, ok if healthy")
        pytest.fail("the prompt returned at the end of the input")

    monkeypatch.setattr(train_command, "train_session", session)
    result = CliRunner().invoke(app, ["train", "lost-giraffe"], input="")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "Aborted" not in result.output
    assert (
        "the input ended before collar-0007 (Giraffe collar 7) was answered: answer at a "
        "terminal, or give every answer with --answers FILE"
    ) in result.output


@pytest.mark.broker
def test_ctrl_c_stops_a_run_cleanly_and_marks_its_directory_partial(mosquitto, tmp_path):
    out = tmp_path / "run"
    args = ["run", "lost-giraffe", "--broker", mosquitto.url, "--speed", "3600", "--out", str(out)]
    with subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        started = wait(
            lambda: (
                (out / "recording.jsonl").is_file() and (out / "recording.jsonl").stat().st_size > 0
            ),
            timeout=60,
        )
        assert started, "the run did not start publishing"
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == EXIT_CUT_SHORT, errors
    assert "Aborted" not in errors
    assert "Traceback" not in errors
    assert f"the partial run is in {out} (its run.json says partial: true)" in " ".join(
        errors.split()
    )
    run = json.loads((out / "run.json").read_text())
    assert run["partial"] is True
    assert run["scenario"] == "lost-giraffe"
    assert 0 < run["reached_s"] <= run["duration_s"]
    assert run["stage"] in {"simulating", "publishing", "catching up", "scoring"}
    assert not (out / "scorecard.json").exists()
    report = CliRunner().invoke(app, ["report", str(out)])
    assert report.exit_code == EXIT_BAD_INPUT
    assert "a run stopped at" in report.output
