"""Training in the browser, over real HTTP: a trainer starts the lost giraffe, trainees answer.

The port is simlab's own (`simlab.training_web.ScenarioTraining`, as `simlab serve
--scenarios` gives it): the scenario runs end to end on its embedded broker, and each
trainee's answers are marked against its answer key. A trainee needs the run's code and
sees the briefing, never the causes; several trainees answer the same run.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from simlab.training_web import ScenarioTraining
from tests.api_server import serving, settings_for

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.api_server import Running

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, str, str]]:
    """The console with training on, the lost giraffe started and run: (server, run, code)."""
    folder = tmp_path_factory.mktemp("training")
    port = ScenarioTraining(folder / "runs")
    with serving(settings_for(folder / "diagnostics.sqlite"), training=port) as running:
        with httpx.Client(base_url=running.url, timeout=30) as staff:
            staff.post("/signin", data={"token": running.token, "next": "/training"})
            page = staff.get("/training").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf is not None, "signed in, the trainer sees the start buttons"
            data = {"csrf": csrf.group(1), "scenario": "lost-giraffe"}
            assert staff.post("/training/start", data=data).status_code == 303
            deadline = time.monotonic() + 120  # a hang, not a speed, is what this bound catches
            while (run := port.runs()[0]).state == "running":
                assert time.monotonic() < deadline, "the exercise did not finish running"
                time.sleep(0.5)
            assert run.state == "ready", run.error
            listed = staff.get("/training").text
            assert run.code in listed
        yield running, run.id, run.code


def _answers(page: str) -> dict[str, str]:
    """Each device's select on the exercise page: healthy for all."""
    return dict.fromkeys(re.findall(r'<select id="[^"]+" name="([^"]+)"', page), "healthy")


def test_a_trainee_joins_with_the_code_and_sees_no_causes(
    training: tuple[Running, str, str],
) -> None:
    running, run_id, code = training
    wrong = httpx.get(running.url + "/training/join", params={"code": "ZZZZZZ"}, timeout=10)
    assert wrong.status_code == 404
    joined = httpx.get(running.url + "/training/join", params={"code": code.lower()}, timeout=10)
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/training/runs/{run_id}?code={code}"
    page = httpx.get(running.url + joined.headers["location"], timeout=10).text
    assert "Giraffe collar" in page
    assert "Probable cause" not in page
    assert "battery_depleted" not in re.sub(r"<option.*?</option>", "", page, flags=re.DOTALL)
    assert _answers(page), "one answer per device on the list"
    refused = httpx.get(running.url + f"/training/runs/{run_id}", params={"code": "AAAAAA"})
    assert refused.status_code == 403


def test_trainees_answer_the_same_run_and_each_is_scored_with_reasons(
    training: tuple[Running, str, str],
) -> None:
    running, run_id, code = training
    page = httpx.get(running.url + f"/training/runs/{run_id}", params={"code": code}).text
    answers = _answers(page)
    url = running.url + f"/training/runs/{run_id}/answers"
    nameless = httpx.post(url, data={"code": code, **answers}, timeout=10)
    assert nameless.status_code == 422
    forged = httpx.post(url, data={"code": "AAAAAA", "trainee": "Ana", **answers}, timeout=10)
    assert forged.status_code == 403
    healthy = httpx.post(url, data={"code": code, "trainee": "Ana", **answers}, timeout=10)
    assert healthy.status_code == 200
    marks = re.findall(r'<li class="mark (right|wrong)" data-device="([^"]+)"', healthy.text)
    assert sorted(d for _, d in marks) == sorted(k.removeprefix("answer-") for k in answers)
    right = sum(r == "right" for r, _ in marks)
    assert f"Ana: {right} of {len(marks)} right" in healthy.text
    assert right < len(marks), "the giraffe's collar is not healthy"
    said = r'data-device="([^"]+)">.*?it was ([a-z_]+)'
    truth = dict(re.findall(said, healthy.text, re.DOTALL))
    best = {f"answer-{d}": ("healthy" if t == "healthy" else t) for d, t in truth.items()}
    perfect = httpx.post(url, data={"code": code, "trainee": "Bo", **best}, timeout=10)
    assert f"Bo: {len(marks)} of {len(marks)} right" in perfect.text


def test_the_training_pages_say_how_to_turn_training_on(tmp_path: Path) -> None:
    with serving(settings_for(tmp_path / "diagnostics.sqlite")) as running:
        answer = httpx.get(running.url + "/training", timeout=10)
        assert answer.status_code == 404
        assert "simlab serve --scenarios" in answer.text
