"""`simlab train`: the lost giraffe end to end, answered at a terminal, at stdin and from a file.

Each session runs the scenario for real (embedded Mosquitto, the diagnostics
service, the scorer), then asks about the devices to look at. The list holds
the collar whose battery runs down, and healthy decoys in an order the
scenario's seed fixes, so the terminal test reads each prompt to know which
device it is asked about.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from protocol.causes import Cause
from simlab.commands import app
from simlab.scenario import load_scenario
from simlab.training import (
    AnswerError,
    Mark,
    devices_to_look_at,
    explain,
    load_answers,
    parse_answer,
)

pytestmark = pytest.mark.broker

CLI = [sys.executable, "-c", "from simlab.commands import main; main()"]
VICTIM = "collar-0007"
PROMPT = re.compile(r"(\S+) \([^)]*\): cause number or id, ok if healthy:\s*$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _flat(text):
    """The output with its line wrapping undone, for phrases that may wrap."""
    return " ".join(ANSI.sub("", text).split())


def _drive(args, answer, *, timeout=180.0):
    """Run the CLI on a pseudo-terminal; `answer(device)` is typed at each device's prompt."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "dumb", "NO_COLOR": "1"}
    with subprocess.Popen(
        [*CLI, *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        close_fds=True,
    ) as process:
        os.close(follower)
        seen, asked, answered, deadline = "", [], 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk.decode(errors="replace")
            found = PROMPT.search(ANSI.sub("", seen[answered:]))
            if found:  # the prompt waits for its answer
                asked.append(found.group(1))
                os.write(leader, f"{answer(found.group(1))}\n".encode())
                answered = len(seen)
        else:
            process.kill()
            pytest.fail(f"simlab train did not finish within {timeout:.0f} s:\n{seen}")
        os.close(leader)
        process.wait(30)
        errors = process.stderr.read().decode() if process.stderr else ""
    return process.returncode, ANSI.sub("", seen).replace("\r", ""), asked, errors


def test_a_trainee_answers_at_the_terminal_and_is_scored_with_explanations(tmp_path):
    decoy_answered: list[str] = []

    def answer(device):
        if device == VICTIM:
            return "1"  # battery_depleted, by its number: right
        if not decoy_answered:
            decoy_answered.append(device)
            return "coverage_loss"  # a healthy decoy called broken: wrong
        return ""  # healthy: right

    code, output, asked, errors = _drive(
        ["train", "lost-giraffe", "--out", str(tmp_path / "run")], answer
    )
    assert code == 0, output + errors
    # The story and the service's views, without the service's conclusion.
    assert "Giraffe collar 7 (on Kito" in output
    assert "Devices to look at (times in UTC)" in output
    views = output[output.index("Devices to look at") : output.index("Causes (answer")]
    assert VICTIM in views
    low = re.search(r"battery (\d+)%", views)
    assert low is not None, "the victim's last battery level is on the list"
    assert int(low[1]) < 10, "the battery ran down"
    assert "battery_depleted" not in views
    assert "Battery depleted" not in views
    # Every device on the list was asked about once; the decoys hide the answer.
    assert VICTIM in asked
    assert len(asked) == len(set(asked)) >= 4
    [decoy] = decoy_answered
    score = _flat(output[output.index("Your score") :])
    assert (
        f"right {VICTIM}: you said battery_depleted (Battery depleted); "
        "the answer is battery_depleted (Battery depleted)"
    ) in score
    assert "Battery depleted: The battery ran down before the device went quiet." in score
    assert "Evidence: Battery depleted: Detached (implicit)" in score
    assert f"last report: battery {low[1]}%" in score
    assert "The service said: battery_depleted (Battery depleted)" in score
    assert f"wrong {decoy}: you said coverage_loss (Coverage lost); the answer is healthy" in score
    assert "Healthy: nothing was wrong with this device" in score
    assert "The service found nothing wrong with it." in score
    total = len(asked)
    assert f"Total: {total - 1} of {total} right, {round(100 * (total - 1) / total)}%" in score
    assert f"The service on the same devices: {total} of {total} right, 100%" in score
    assert "The service's scorecard: causes 1 of 1 right, 100%" in score
    assert "answer key met" in score


def test_bad_answers_are_asked_again_with_a_clear_message(tmp_path):
    runner = CliRunner()
    answers = "xyz\n99\nbatery_depleted\nok\n" + "\n" * 20
    result = runner.invoke(
        app, ["train", "lost-giraffe", "--out", str(tmp_path / "run")], input=answers
    )
    assert result.exit_code == 0, result.output
    output = _flat(result.output)
    assert "Error: 'xyz' is not a cause: give a number from 1 to 24" in output
    assert "Error: 99: there is no cause 99; give 1 to 24" in output
    assert "'batery_depleted' is not a cause (did you mean battery_depleted?)" in output
    first = re.search(r"(\S+) \([^)]*\): cause number or id, ok if healthy:", result.output)
    assert first is not None
    # The first device was asked four times; every other device once.
    assert result.output.count(f"{first.group(1)} (") >= 4
    assert "Your score" in output
    assert f"{first.group(1)}: you said healthy" in output


def test_answers_from_a_file(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"{VICTIM}: battery_depleted\ncollar-0003: ok\n")
    result = CliRunner().invoke(
        app,
        ["train", "lost-giraffe", "--out", str(tmp_path / "run"), "--answers", str(answers)],
    )
    assert result.exit_code == 0, result.output
    output = _flat(result.output)
    assert "Causes (answer" not in output  # no prompts
    assert f"right {VICTIM}: you said battery_depleted (Battery depleted)" in output
    assert "right collar-0003: you said healthy; the answer is healthy" in output
    total = int(re.search(r"Total: (\d+) of (\d+) right, 100%", output).group(2))
    assert total >= 5  # the list (victim and three decoys) and collar-0003
    assert (tmp_path / "run" / "scorecard.json").is_file()


def test_a_bad_answers_file_stops_before_the_run(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({VICTIM: "flat battery"}))
    result = CliRunner().invoke(
        app,
        ["train", "lost-giraffe", "--out", str(tmp_path / "run"), "--answers", str(answers)],
    )
    assert result.exit_code == 2
    assert f"{answers}: {VICTIM}: 'flat battery' is not a cause" in _flat(result.output)
    assert not (tmp_path / "run").exists()


def test_answers_name_causes_by_number_id_or_ok():
    assert parse_answer("1") is Cause.BATTERY_DEPLETED
    assert parse_answer(" Coverage_Loss ") is Cause.COVERAGE_LOSS
    assert parse_answer("") is None
    assert parse_answer("ok") is None
    assert parse_answer(None) is None
    for bad in ("0", "25", "battery", "yes"):
        with pytest.raises(AnswerError):
            parse_answer(bad)


def test_answers_files_say_what_is_wrong(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(AnswerError, match=r"nope\.yaml: cannot read"):
        load_answers(missing)
    listed = tmp_path / "list.yaml"
    listed.write_text("- collar-0007\n")
    with pytest.raises(AnswerError, match="give a mapping"):
        load_answers(listed)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"a": 16, "b": None, "c": "ok", "d": "wrong_apn"}))
    assert load_answers(good) == {
        "a": Cause.COVERAGE_LOSS,
        "b": None,
        "c": None,
        "d": Cause.WRONG_APN,
    }


def test_the_list_is_seeded_and_stable():
    healthy = [f"collar-{n:04d}" for n in range(1, 25) if n != 7]
    spec = load_scenario("lost-giraffe")
    seed = spec.world.seed
    first = devices_to_look_at(
        quiet={VICTIM}, expected=[VICTIM], healthy=healthy, seed=seed, decoys=3
    )
    again = devices_to_look_at(
        quiet={VICTIM}, expected=[VICTIM], healthy=healthy, seed=seed, decoys=3
    )
    assert first == again
    assert len(first) == 4
    assert VICTIM in first
    # One more quiet device joins the list without reshuffling the rest.
    more = devices_to_look_at(
        quiet={VICTIM, "collar-0001"}, expected=[VICTIM], healthy=healthy, seed=seed, decoys=3
    )
    assert [d for d in more if d in first] == first
    other = devices_to_look_at(
        quiet={VICTIM}, expected=[VICTIM], healthy=healthy, seed=seed + 1, decoys=3
    )
    assert other != first


def test_explanations_name_the_fix_the_evidence_and_the_service():
    mark = Mark(
        device_id="x",
        answer=None,
        truth=Cause.WRONG_APN,
        service=Cause.WRONG_APN,
        evidence="Wrong APN: ESM #27",
        details=("02 Mar 10:00 session refused",),
        confidence=0.9,
        also=(Cause.PRIVATE_APN_CREDENTIALS,),
    )
    lines = explain(mark)
    assert lines[0].startswith("Wrong APN on the device: The device asks for an APN")
    assert "Evidence: Wrong APN: ESM #27" in lines
    assert lines[-1] == (
        "The service said: wrong_apn (Wrong APN on the device), 90% sure; "
        "it also considered private_apn_credentials."
    )
    assert not mark.right
