"""`simlab run`: every bundled scenario end to end through a real Mosquitto, held to its answer key.

Each scenario's world publishes over MQTT into the diagnostics service (its
own SQLite file), support actions go through the service's API at their
simulated moment, and the scorer compares the service's verdicts, incidents
and diagnoses with the ground truth and the scenario's answer key. Large
scenarios run scaled down with `size`.
"""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys

import pytest

from simlab.resources import bundled
from simlab.run import RunOptions, run_scenario
from simlab.scenario import load_scenario
from tests.test_customer_messages import jargon, long_sentences

pytestmark = pytest.mark.broker

CLI = [sys.executable, "-c", "from simlab.commands import main; main()"]
SCENARIOS = sorted(p.stem for p in bundled().glob("*.yaml"))
SCALED = {"onboarding-day": 300}
"""Scenarios too big for the suite, and the size they run at here."""


def test_the_bank_has_at_least_twelve_scenarios():
    assert len(SCENARIOS) >= 12


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_meets_its_answer_key(name, mosquitto, tmp_path):
    spec = load_scenario(bundled() / f"{name}.yaml", size=SCALED.get(name))
    report = run_scenario(
        spec,
        name,
        RunOptions(out=tmp_path / name, broker=mosquitto.url, languages=("en",)),
    )
    card = report.scorecard
    wrong = [d for d in card.devices if d.grade == "wrong"]
    assert wrong == [], wrong
    assert card.false_alarms == []
    assert all(i.found for i in card.incidents), card.incidents
    assert card.swap_expected == card.swap_outcome
    assert card.passed
    assert len(card.devices) == len(spec.answer_key.devices)
    for path in ("scorecard.json", "diagnoses.json", "run.json", "recording.jsonl"):
        assert (tmp_path / name / path).stat().st_size > 0
    assert (tmp_path / name / "diagnostics.sqlite").exists()
    # the messages of real runs keep the writing rules the golden messages keep
    for entry in report.diagnoses:
        for message in entry["messages"].values():
            text = f"{message['subject']}\n{message['body']}"
            assert jargon(text) == [], (entry["device_id"], jargon(text))
            assert long_sentences(text) == [], (entry["device_id"], long_sentences(text))


# amqtt leaves client transports of its own unclosed at shutdown (see the README's "Brokers")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_without_mosquitto_the_run_uses_amqtt_over_mqtt_3_1_1(tmp_path):
    spec = load_scenario(bundled() / "lost-giraffe.yaml")
    report = run_scenario(
        spec, "lost-giraffe", RunOptions(out=tmp_path / "amqtt", embedded="amqtt", languages=())
    )
    assert report.scorecard.passed
    assert [d.grade for d in report.scorecard.devices] == ["first"]
    gc.collect()  # amqtt's leftovers are collected here, under this test's filters


def test_the_main_command_runs_the_lost_giraffe_and_prints_json(tmp_path):
    out = tmp_path / "giraffe"
    done = subprocess.run(
        [*CLI, "run", "lost-giraffe", "--json", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["scorecard"]["passed"] is True
    [giraffe] = [d for d in report["diagnoses"] if d["device_id"] == "collar-0007"]
    assert giraffe["diagnosis"]["cause"] == "battery_depleted"
    assert "Giraffe collar 7" in giraffe["messages"]["en"]["body"]
    assert "Giraffe collar 7" in giraffe["messages"]["sv"]["body"]
    assert json.loads((out / "scorecard.json").read_text())["passed"] is True
    # the recording replays: every line is a topic and a payload
    first = (out / "recording.jsonl").read_bytes().splitlines()[0]
    assert json.loads(first)


def test_the_human_output_shows_diagnosis_message_and_scorecard(tmp_path):
    done = subprocess.run(
        [*CLI, "run", "lost-giraffe", "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin:/usr/sbin"},
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "collar-0007" in text
    assert "battery_depleted" in text
    assert "To the customer" in text
    assert "Scorecard" in text
    assert "PASSED" in text


def test_a_bad_scenario_file_exits_2_naming_file_line_and_field(tmp_path):
    shutil.copytree(bundled() / "customers", tmp_path / "customers")
    bad = tmp_path / "bad.yaml"
    source = (bundled() / "lost-giraffe.yaml").read_text()
    bad.write_text(source.replace("duration: 18h", "duration: 18h\n  colour: blue"))
    done = subprocess.run(
        [*CLI, "run", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{bad}:")
    assert "run.colour" in lines[0]


def test_an_unknown_scenario_exits_2(tmp_path):
    done = subprocess.run(
        [*CLI, "run", "no-such-scenario"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "no-such-scenario" in done.stderr
