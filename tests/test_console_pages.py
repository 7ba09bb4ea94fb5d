"""The support console's pages over real HTTP, from the real app on a seeded SQLite file.

What each page must show, held to what the JSON API says of the same service: the
overview's counts (and the live stream's), search by every key a customer gives, a
device's checks in the platform's colours with evidence linked to its timeline and the
customer's message word for word, an incident's members a page at a time; and every
value escaped, never markup.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import httpx
import pytest

from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from diagnostics.web.pages import MEMBERS_PER_PAGE
from protocol.wire import Topics
from simlab.direct import feed
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.api_server import ROOT, T0, serving, settings_for
from tests.world_fixtures import FIRST_ICCID, collars, one_cell, world

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.api_server import Running

H = 3600.0
COLOURS = {"ok": "green", "worked_before": "yellow", "never_worked": "red"}


def _seed(database: Path, hours: float) -> None:
    """60 collars on one cell that goes off air at 2 h; one lost its power at 1 h."""
    spec = one_cell(
        60,
        faults=[
            {"fault": "power_loss", "at": "1h", "devices": ["collar-0060"]},
            {"fault": "cell_outage", "at": "2h", "cell": 101},
        ],
    )
    sink = MemorySink()
    assert simulate(spec, sink, until=hours * H).error is None
    service = Service(store=SQLiteStore(database), topics=Topics(ROOT))
    feed(service, Topics(ROOT), sink, T0 + hours * H)
    service.store.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    database = tmp_path_factory.mktemp("console") / "diagnostics.sqlite"
    _seed(database, hours=5.0)
    with serving(settings_for(database)) as running:
        yield running


def _get(console: Running, path: str, **params: object) -> httpx.Response:
    return httpx.get(console.url + path, params=params, timeout=20)  # type: ignore[arg-type]


def _text(page: str) -> str:
    """A page's text, tags taken out and entities read."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_overview_counts_what_the_fleet_api_counts(console: Running) -> None:
    fleet = _get(console, "/api/fleet").json()
    page = _get(console, "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for status, count in fleet["verdicts"].items():
        assert f'data-status="{status}">{count}</dd>' in page.text
    assert f'data-status="ALL">{fleet["devices"]}</dd>' in page.text
    assert f'data-status="ALARMS">{fleet["alarms"]}</dd>' in page.text
    for incident in _get(console, "/api/incidents").json()["items"]:
        if incident["open"]:
            assert f'href="/incidents/{incident["id"]}"' in page.text
    assert 'sse-connect="/console/events"' in page.text


def test_the_live_stream_sends_the_counts_as_an_event(console: Running) -> None:
    counts = _get(console, "/console/counts").text
    with httpx.stream("GET", console.url + "/console/events", timeout=20) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in stream.iter_lines():
            if not line and lines:
                break  # the end of the first event
            lines.append(line)
    assert lines[0] == "event: counts"
    sent = "\n".join(line.removeprefix("data: ") for line in lines[1:])
    assert sent == counts.rstrip("\n")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Giraffe collar 7", {"collar-0007"}),
        ("giraffe COLLAR 7", {"collar-0007"}),
        ("collar-0012", {"collar-0012"}),
        (str(FIRST_ICCID), {"collar-0001"}),
    ],
)
def test_search_finds_a_device_by_what_the_customer_calls_it(
    console: Running, query: str, expected: set[str]
) -> None:
    page = _get(console, "/search", q=query).text
    found = set(re.findall(r'href="/devices/([^"]+)"', page))
    assert expected <= found
    if query.startswith("Giraffe"):
        assert "Giraffe collar 7" in page


def test_search_by_an_iccids_last_digits_an_imei_and_an_account(console: Running) -> None:
    detail = _get(console, "/api/devices/collar-0005").json()
    iccid, imei = detail["record"]["iccid"], detail["imei"]
    assert "/devices/collar-0005" in _get(console, "/search", q=imei).text
    tail = _get(console, "/search", q=iccid[-6:]).text
    assert "/devices/collar-0005" in tail
    everyone = _get(console, "/search", q="savanna").text
    assert len(set(re.findall(r'href="/devices/([^"]+)"', everyone))) == 50  # one page
    nothing = _get(console, "/search", q="otter").text
    assert "Nothing found" in nothing


def test_a_device_page_shows_the_diagnosis_checks_in_colour_and_the_message_as_is(
    console: Running,
) -> None:
    device = "collar-0060"
    diagnosis = _get(console, f"/api/devices/{device}/diagnosis").json()
    message = _get(console, f"/api/devices/{device}/message", lang="en").json()
    page = _get(console, f"/devices/{device}").text
    checks = re.findall(r'<li class="check (\w+)" data-check="(\w+)"', page)
    assert checks == [(COLOURS.get(c["status"], "grey"), c["name"]) for c in diagnosis["checks"]], (
        "every check, in order, in the platform's colour"
    )
    shown = re.search(r'<pre id="customer-message" lang="en">(.*?)</pre>', page, re.DOTALL)
    assert shown is not None
    assert html.unescape(shown.group(1)) == message["body"]
    anchors = set(re.findall(r'<li id="m(\d+)"', page))
    cited = re.findall(r'<a href="#m(\d+)">', page)
    assert cited, "the evidence links to the timeline"
    assert set(cited) <= anchors
    assert diagnosis["cause"].replace("_", " ") in _text(page)
    detail = _get(console, f"/api/devices/{device}").json()
    rsrp = detail["rsrp"]
    changes = re.findall(
        r'<li class="change">.*?<span class="status status-\w+">(\w+)</span>', page
    )
    assert changes == [h["verdict"] for h in detail["history"]][::-1][:20]
    assert f"Signal (RSRP): now {rsrp:.0f} dBm" in _text(page)
    assert 'data-chart="Battery"' not in page, "no battery chart for a device that reports none"
    chart = r'data-chart="Signal \(RSRP\)">\s*<svg[^>]*>\s*<polyline points="([^"]+)"'
    (points,) = re.findall(chart, page)
    assert len(points.split()) >= 2
    swedish = _get(console, f"/devices/{device}", lang="sv").text
    sv = _get(console, f"/api/devices/{device}/message", lang="sv").json()["body"]
    assert html.escape(sv, quote=False).splitlines()[0] in swedish


def test_an_incident_page_lists_its_members_a_page_at_a_time(console: Running) -> None:
    (incident,) = [i for i in _get(console, "/api/incidents").json()["items"] if i["open"]]
    members = _get(console, f"/api/incidents/{incident['id']}").json()["member_ids"]
    assert len(members) > MEMBERS_PER_PAGE
    first = _get(console, f"/incidents/{incident['id']}").text
    second = _get(console, f"/incidents/{incident['id']}", members=2).text
    listed = re.findall(r'<td><a href="/devices/([^"]+)">', first)
    rest = re.findall(r'<td><a href="/devices/([^"]+)">', second)
    assert listed + rest == sorted(members)
    assert 'rel="next"' in first
    assert 'rel="prev"' in second
    assert f"{incident['dimension']} {incident['value']}" in _text(first)


def test_unknown_pages_and_bad_parameters_get_a_clear_answer(console: Running) -> None:
    missing = _get(console, "/devices/no-such-collar")
    assert missing.status_code == 404
    assert "no-such-collar" in _text(missing.text)
    assert _get(console, "/incidents/inc-999999").status_code == 404
    assert _get(console, "/devices/collar-0001", lang="english").status_code == 422


def test_what_the_page_shows_is_text_never_markup(console: Running) -> None:
    page = _get(console, "/search", q="<script>alert(1)</script>").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_console_assets_are_served_by_the_service(console: Running) -> None:
    page = _get(console, "/").text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        served = _get(console, asset)
        assert served.status_code == 200, asset
        assert served.content, asset
    assert "htmx" in _get(console, "/static/htmx.min.js").text[:400]


def _sign_in(client: httpx.Client, console: Running) -> None:
    wrong = client.post("/signin", data={"token": "not-the-token", "next": "/"})
    assert wrong.status_code == 401
    assert "not this service's API token" in _text(wrong.text)
    answer = client.post("/signin", data={"token": console.token, "next": "/devices/collar-0060"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/devices/collar-0060"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_a_swap_test_needs_a_signed_in_session_and_its_forms_csrf_token(console: Running) -> None:
    anonymous = httpx.post(
        console.url + "/devices/collar-0060/swap-test", data={"good_device": "collar-0001"}
    )
    assert anonymous.status_code == 401
    assert 'name="csrf"' not in _get(console, "/devices/collar-0060").text
    with httpx.Client(base_url=console.url, timeout=20) as client:
        _sign_in(client, console)
        form = client.get("/devices/collar-0060").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        path = "/devices/collar-0060/swap-test"
        forged = client.post(path, data={"csrf": "forged", "good_device": "collar-0001"})
        assert forged.status_code == 403
        empty = client.post(path, data={"csrf": csrf.group(1)})
        assert empty.status_code == 422
        assert "Name the good device" in empty.text
        done = client.post(path, data={"csrf": csrf.group(1), "good_device": "collar-0001"})
        assert done.status_code == 303
        (test,) = [t for t in client.get("/api/swap-tests").json() if t["good_device"]]
        assert (test["suspect_device"], test["good_device"]) == ("collar-0060", "collar-0001")
        page = client.get("/devices/collar-0060").text
        assert f'data-test="{test["id"]}"' in page
        verdict = client.get(f"/api/swap-tests/{test['id']}").json()["outcome"]
        assert verdict.replace("_", " ") in _text(page)
        assert client.post("/signout").status_code == 303
        after = client.post(path, data={"csrf": csrf.group(1), "good_device": "collar-0002"})
        assert after.status_code == 401


def test_a_public_service_sends_a_browser_to_sign_in_first(tmp_path: Path) -> None:
    from diagnostics.access import Access, new_token  # noqa: PLC0415 - this test's own access

    access = Access(new_token(), public=True)
    with serving(settings_for(tmp_path / "diagnostics.sqlite"), access=access) as running:
        page = httpx.get(running.url + "/devices/collar-0001", timeout=10)
        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=/devices/collar-0001"
        assert httpx.get(running.url + "/signin", timeout=10).status_code == 200
        with httpx.Client(base_url=running.url, timeout=10) as client:
            signed = client.post("/signin", data={"token": access.token, "next": "/"})
            assert "secure" in signed.headers["set-cookie"].lower()
            assert client.get("/api/fleet").status_code == 401, "the API still wants the token"


def test_an_incident_is_silenced_from_its_page_with_a_reason_and_an_expiry(
    console: Running,
) -> None:
    (incident,) = [i for i in _get(console, "/api/incidents").json()["items"] if i["open"]]
    path = f"/incidents/{incident['id']}"
    assert _get(console, path).text.count('name="csrf"') == 0, "no form before signing in"
    with httpx.Client(base_url=console.url, timeout=20) as client:
        _sign_in(client, console)
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "hours": "2", "reason": ""}
        assert client.post(path + "/silence", data=form).status_code == 422
        done = client.post(path + "/silence", data=form | {"reason": "mast repair <b>now</b>"})
        assert done.status_code == 303
        (silence,) = client.get("/api/silences").json()
        assert (silence["dimension"], silence["value"]) == (
            incident["dimension"],
            incident["value"],
        )
        assert silence["reason"] == "mast repair <b>now</b>"
        page = client.get(path).text
        assert "mast repair &lt;b&gt;now&lt;/b&gt;" in page
        assert client.get(f"/api/incidents/{incident['id']}").json()["muted"] is True


def test_an_incidents_fleet_message_is_one_message_for_the_customer(tmp_path: Path) -> None:
    cut = [f"collar-{n:04d}" for n in range(1, 10)]
    spec = world(
        devices=[collars(10, battery_mah=None)],
        faults=[{"fault": "sim_deactivated", "at": "1h", "devices": cut}],
    )
    sink = MemorySink()
    assert simulate(spec, sink, until=2.5 * H).error is None
    database = tmp_path / "diagnostics.sqlite"
    service = Service(store=SQLiteStore(database), topics=Topics(ROOT))
    feed(service, Topics(ROOT), sink, T0 + 2.5 * H)
    service.store.close()
    with serving(settings_for(database)) as running:
        (incident,) = httpx.get(running.url + "/api/incidents", timeout=10).json()["items"]
        api = httpx.get(running.url + "/api/fleet/messages", timeout=10).json()["items"]
        page = httpx.get(running.url + f"/incidents/{incident['id']}/message", timeout=20)
        assert page.status_code == 200
        (body,) = re.findall(
            r'<pre id="fleet-message-1" lang="en">(.*?)</pre>', page.text, re.DOTALL
        )
        assert html.unescape(body) == api[0]["body"]
        assert "9 of your devices" in _text(page.text)
        assert (
            f'href="/incidents/{incident["id"]}/message"'
            in httpx.get(running.url + f"/incidents/{incident['id']}", timeout=10).text
        )
