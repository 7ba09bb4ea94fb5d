"""The support console in a real headless Chromium (Debian's), driven by Playwright.

While a world runs into the service (its first two hours stored, the rest fed to the
running service during the test), staff watch the overview update by itself, find the
lost giraffe's collar by its name, read its diagnosis in colour with its evidence, copy
the customer's message to the clipboard, open the incident its neighbours are in, sign in
with the token and register a SIM swap test whose verdict the page shows once it comes;
`/docs` renders with every request off this machine refused. Each page's screenshot is
kept (`--screenshots DIR`, else under the test's temporary directory).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import httpx
import pytest
from playwright import sync_api as playwright

from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.wire import Topics
from simlab.direct import feed
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.api_server import ROOT, T0, serving, settings_for
from tests.world_fixtures import one_cell

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.api_server import Running

pytestmark = pytest.mark.browser

H = 3600.0
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
COLOURS = {"green": "rgb(30, 142, 62)", "yellow": "rgb(217, 164, 0)", "grey": "rgb(128, 134, 139)"}


def _world() -> MemorySink:
    """60 collars on one cell, the 7th's battery dying at 1 h; the cell off air at 3 h."""
    spec = one_cell(
        60,
        faults=[
            {"fault": "power_loss", "at": "1h", "devices": ["collar-0007"]},
            {"fault": "cell_outage", "at": "3h", "cell": 101},
        ],
    )
    sink = MemorySink()
    assert simulate(spec, sink, until=10 * H).error is None
    return sink


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = request.config.getoption("--screenshots")
    folder = tmp_path_factory.mktemp("screenshots") if given is None else given
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright.Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def _offline(context: playwright.BrowserContext) -> None:
    """Refuse every request that would leave this machine."""

    def route(r: playwright.Route) -> None:
        host = r.request.url.split("/")[2].split(":")[0]
        if host in {"127.0.0.1", "localhost"}:
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)


def test_staff_follow_a_running_world_find_the_collar_and_copy_the_message(
    browser: playwright.Browser, shots: Path, tmp_path: Path
) -> None:
    sink = _world()
    database = tmp_path / "diagnostics.sqlite"
    seeding = Service(store=SQLiteStore(database), topics=Topics(ROOT))
    feed(seeding, Topics(ROOT), sink, T0 + 2 * H)
    seeding.store.close()
    with serving(settings_for(database)) as running:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        _offline(context)
        tab = context.new_page()
        tab.goto(running.url + "/")
        offline = tab.locator('dd[data-status="OFFLINE"]')
        before = int(offline.inner_text())
        tab.screenshot(path=shots / "overview-before.png")

        # the world goes on: the cell goes off air, and the page shows it by itself
        feed(running.app.state.service, Topics(ROOT), sink, T0 + 6 * H, since=T0 + 2 * H)
        playwright.expect(offline).not_to_have_text(str(before), timeout=15_000)
        assert int(offline.inner_text()) > before
        tab.screenshot(path=shots / "overview.png")

        # find the collar by its name, from the keyboard
        tab.get_by_label("Find a device").fill("Giraffe collar 7")
        tab.keyboard.press("Enter")
        tab.wait_for_url("**/search?q=*")
        tab.screenshot(path=shots / "search.png")
        tab.get_by_role("link", name="collar-0007").click()
        tab.wait_for_url("**/devices/collar-0007")
        tab.screenshot(path=shots / "device.png", full_page=True)
        _read_the_diagnosis_and_copy_the_message(tab)

        # its neighbours' incident, with its members
        assert running.app.state.service.grouper.open_incidents(), "the cell is an incident"
        tab.goto(running.url + "/")
        tab.locator("table.incidents a").first.click()
        tab.wait_for_url("**/incidents/*")
        assert tab.locator("table.members tbody tr").count() == 50
        tab.screenshot(path=shots / "incident.png", full_page=True)
        _sign_in_and_register_a_swap_test(tab, running, sink)
        tab.screenshot(path=shots / "device-swap.png", full_page=True)
        context.close()


def _read_the_diagnosis_and_copy_the_message(tab: playwright.Page) -> None:
    checks = tab.locator("li.check")
    assert checks.count() == 9
    colours = checks.evaluate_all(
        "els => els.map(e => [e.className.split(' ')[1],"
        " getComputedStyle(e.querySelector('.light')).backgroundColor])"
    )
    for name, shown in colours:
        if name in COLOURS:
            assert shown == COLOURS[name], (name, shown)
    assert {"green", "yellow"} <= {name for name, _ in colours}
    cited = tab.locator(".evidence a").first
    target = cited.get_attribute("href")
    cited.click()
    assert tab.locator(f"{target}").is_visible()

    message = tab.locator("#customer-message").inner_text()
    tab.get_by_role("button", name="Copy the message").click()
    playwright.expect(tab.locator(".copied")).to_have_text("Copied.")
    assert tab.evaluate("navigator.clipboard.readText()") == message
    assert "Giraffe collar 7" in message


def _sign_in_and_register_a_swap_test(
    tab: playwright.Page, running: Running, sink: MemorySink
) -> None:
    # sign in once with the token, register a swap test in the form; its verdict comes
    tab.goto(running.url + "/devices/collar-0007")
    tab.get_by_role("link", name="Sign in").click()
    tab.get_by_label("API token").fill(running.token)
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/devices/collar-0007")
    tab.get_by_label("Swapped with the good device (its id)").fill("collar-0001")
    tab.get_by_role("button", name="Register the swap test").click()
    tab.wait_for_url("**/devices/collar-0007*")
    verdict = tab.locator(".swap .verdict")
    playwright.expect(verdict).to_have_text("pending")
    feed(running.app.state.service, Topics(ROOT), sink, T0 + 10 * H, since=T0 + 6 * H)
    tab.reload()
    (test,) = httpx.get(running.url + "/api/swap-tests", timeout=10).json()
    outcome = httpx.get(running.url + f"/api/swap-tests/{test['id']}", timeout=10).json()
    assert outcome["outcome"] != "pending"
    playwright.expect(verdict).to_have_text(outcome["outcome"].replace("_", " "))


def test_the_api_docs_render_with_the_network_blocked(
    browser: playwright.Browser, shots: Path, tmp_path: Path
) -> None:
    with serving(settings_for(tmp_path / "diagnostics.sqlite")) as running:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        _offline(context)
        tab = context.new_page()
        tab.goto(running.url + "/docs")
        playwright.expect(tab.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
        assert tab.locator(".swagger-ui .opblock").count() > 10
        tab.screenshot(path=shots / "docs.png")
        context.close()


def test_a_trainer_starts_an_exercise_and_a_trainee_answers_and_is_scored(
    browser: playwright.Browser, shots: Path, tmp_path: Path
) -> None:
    from simlab.training_web import ScenarioTraining  # noqa: PLC0415 - this test's port

    port = ScenarioTraining(tmp_path / "runs")
    with serving(settings_for(tmp_path / "diagnostics.sqlite"), training=port) as running:
        trainer = browser.new_context(viewport={"width": 1280, "height": 800})
        _offline(trainer)
        tab = trainer.new_page()
        tab.goto(running.url + "/signin?next=/training")
        tab.get_by_label("API token").fill(running.token)
        tab.keyboard.press("Enter")
        tab.wait_for_url("**/training")
        tab.get_by_role("button", name="Start The lost giraffe").click()
        tab.wait_for_url("**/training")
        code = tab.locator("code.code").first.inner_text()
        tab.screenshot(path=shots / "training.png", full_page=True)

        trainee = browser.new_context(viewport={"width": 1280, "height": 800})
        _offline(trainee)
        page = trainee.new_page()
        page.goto(running.url + "/training/join")
        page.get_by_label("The exercise's code").fill(code)
        page.keyboard.press("Enter")
        name = page.get_by_label("Your name")
        playwright.expect(name).to_be_visible(timeout=90_000)  # the page refreshes until ready
        name.fill("Ana")
        selects = page.locator("select")
        devices = selects.count()
        for i in range(devices):
            selects.nth(i).select_option("healthy")
        page.screenshot(path=shots / "exercise.png", full_page=True)
        page.get_by_role("button", name="Send my answers").click()
        playwright.expect(page.locator("h1")).to_contain_text("Ana: ")
        marks = page.locator("li.mark")
        assert marks.count() == devices
        assert page.locator("li.mark.wrong").count() >= 1, "the giraffe's collar is not healthy"
        page.screenshot(path=shots / "score.png", full_page=True)
        trainer.close()
        trainee.close()
