"""What `simlab run` prints, at the default 80 columns: broker, statuses, causes, where to read on.

One run of each scenario through the command (its embedded broker), shared by the module.
"""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from protocol.causes import Cause
from simlab.commands import app
from simlab.commands.run import fleet_line, status
from simlab.scenario import load_scenario, scenario_files

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    found = {}
    for name in ("parking-cell-outage", "psm-water-meters"):
        out = tmp_path_factory.mktemp(name) / "run"
        result = runner.invoke(app, ["run", name, "--out", str(out)])
        assert result.exit_code == 0, result.output
        found[name] = (result.stdout, out)
    return found


@pytest.mark.broker
def test_the_run_says_which_broker_it_used(runs):
    text, out = runs["parking-cell-outage"]
    run = json.loads((out / "run.json").read_text())
    assert run["broker_software"] == "Mosquitto"
    assert run["broker_version"]
    assert run["broker"].startswith("mqtt://127.0.0.1:")
    assert f"on Mosquitto {run['broker_version']} (embedded, " in " ".join(text.split())


@pytest.mark.broker
def test_the_cause_ids_are_whole_at_80_columns(runs):
    text, out = runs["parking-cell-outage"]
    diagnoses = json.loads((out / "diagnoses.json").read_text())
    table = text.split("Devices diagnosed", 1)[1].split("╰", 1)[0]
    causes = {d["diagnosis"]["cause"] for d in diagnoses if d["diagnosis"]["cause"]}
    assert causes
    for cause in causes:
        assert f" {cause} " in table


@pytest.mark.broker
def test_more_messages_point_at_a_readable_file(runs):
    text, out = runs["parking-cell-outage"]
    assert "more messages" in text
    assert str(out / "messages.md") in text.replace("\n", "")
    written = (out / "messages.md").read_text(encoding="utf-8")
    diagnoses = json.loads((out / "diagnoses.json").read_text())
    assert len(diagnoses) > 3
    for entry in diagnoses:
        assert f"## {entry['device_id']}: " in written
        for message in entry["messages"].values():
            assert message["subject"] in written
        if entry["diagnosis"]["next_step"]:
            assert entry["diagnosis"]["next_step"] in written


@pytest.mark.broker
def test_a_scenario_with_nothing_wrong_says_what_the_service_shows(runs):
    text, out = runs["psm-water-meters"]
    assert "The service shows: 40 ASLEEP, 4 ONLINE, 0 OFFLINE" in text
    assert "No device needed a diagnosis." in text
    assert "Devices diagnosed" not in text
    assert json.loads((out / "run.json").read_text())["fleet"]["ASLEEP"] == 40


def test_statuses_are_coloured():
    console = Console(force_terminal=True, color_system="standard", width=80)
    with console.capture() as captured:
        console.print(fleet_line({"OFFLINE": 1, "SUSPECT": 2, "LATE": 1, "ONLINE": 3, "ASLEEP": 4}))
    ansi = captured.get()
    assert "\x1b[1;31m1 OFFLINE" in ansi
    assert "\x1b[33m2 SUSPECT" in ansi
    assert "\x1b[33m1 LATE" in ansi
    assert "\x1b[32m3 ONLINE" in ansi
    assert "\x1b[34m4 ASLEEP" in ansi
    assert status("OFFLINE").style == "bold red"


LONG_CAUSES = ("data-cap-mid-cycle", "imei-lock-moved-sim", "sea-otter-in-france")
"""Scenarios whose answer keys hold the longest cause ids (onboarding-day's world is large)."""


@pytest.mark.parametrize("name", LONG_CAUSES)
def test_the_answer_key_shows_whole_cause_ids_at_80_columns(name):
    path = next(p for p in scenario_files() if p.stem == name)
    result = runner.invoke(app, ["scenarios", "show", name, "--answers"])
    assert result.exit_code == 0, result.output
    for answer in load_scenario(path).answer_key.devices:
        assert f" {Cause(answer.cause).value} " in result.stdout


def test_an_impossible_swap_says_why():
    result = runner.invoke(app, ["scenarios", "show", "sea-otter-in-france", "--answers"])
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "None" not in result.stdout
    assert "swap test of the SIM of otter-0011: impossible, the SIM card is on a sea" in text
    assert "Swap verdict: impossible (the SIM card is on a sea otter" in text


def test_an_embedded_amqtt_is_named_with_its_version():
    from importlib.metadata import version  # noqa: PLC0415

    from simlab.broker import AmqttBroker  # noqa: PLC0415
    from simlab.broker_info import embedded_info, external_info  # noqa: PLC0415

    info = embedded_info(AmqttBroker())
    assert (info.software, info.version) == ("amqtt", version("amqtt"))
    assert str(info).startswith(f"amqtt {version('amqtt')} (embedded, mqtt://127.0.0.1:")
    assert str(external_info("mqtt://broker:1883")) == "the broker at mqtt://broker:1883"


@pytest.mark.broker
def test_a_run_with_its_service_in_a_process_of_its_own_scores_the_same(runs, tmp_path):
    from simlab.run import RunOptions, run_scenario  # noqa: PLC0415 - this test alone

    _, out = runs["parking-cell-outage"]
    threaded = json.loads((out / "scorecard.json").read_text())
    spec = load_scenario("parking-cell-outage")
    options = RunOptions(out=tmp_path / "run", embedded="mosquitto", service_process=True)
    report = run_scenario(spec, "parking-cell-outage", options)
    assert report.scorecard.passed
    assert report.scorecard.as_dict() == threaded
    assert list(report.stages) == ["simulating", "publishing", "catching up", "scoring"]
    assert list(report.stages.values()) == sorted(report.stages.values())
