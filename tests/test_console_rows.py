"""No console page reads the whole fleet: at 100,000 devices each touches a page's worth of rows.

The fleet of `benchmarks/console.py` (100,000 devices, one cell's 2,000 quiet in an open
incident) is fed to a real service on a real SQLite file, and each page is asked for
through the real app. Counted while it answers: the rows every store query returned, and
that each query found them by an index (SQLite's own query plan, never a scan of a table
that grows with the fleet); the fleet-list rows the service's views made in memory; and
that the fleet list itself (which sorts every device) is never read. The detector's
counts by status are numpy sums over its columns, not rows, and are not counted.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from diagnostics.views import ServiceView
from protocol.wire import Topics
from tests.api_server import serving_app

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

DEVICES = 100_000
PAGE_ROWS = 250
"""A page's worth: a device's timeline page (100) and detection history, 50 list rows."""
GROWING = ("messages", "records", "verdicts", "statuses", "devices", "sims", "device_sims")
"""Tables that grow with the fleet: a query must never scan them."""
ROOT = Path(__file__).resolve().parent.parent


def _bench() -> Any:
    """The benchmark script, loaded as a module: its fleet and its app."""
    spec = importlib.util.spec_from_file_location("console_bench", ROOT / "benchmarks/console.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CountingStore(SQLiteStore):
    """The real store, noting each query it answers and how many rows it returned."""

    queries: list[tuple[str, tuple[object, ...], int]]

    def _rows(self, sql: str, params: Iterable[object] = ()) -> list[Any]:
        rows = super()._rows(sql, params)
        self.queries.append((sql, tuple(params), len(rows)))
        return rows


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, CountingStore]]:
    bench = _bench()
    database = tmp_path_factory.mktemp("rows") / "console.sqlite"
    store = CountingStore(database)
    store.queries = []
    topics = Topics("rows-test/simlab")
    service = Service(store=store, topics=topics)
    bench.feed_fleet(service, topics, DEVICES)
    try:
        with (
            serving_app(bench.console_app(service)) as running,
            httpx.Client(base_url=running.url, timeout=60) as client,
        ):
            yield client, store
    finally:
        store.close()


def _scans(database: str, sql: str, params: tuple[object, ...]) -> list[str]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    finally:
        conn.close()
    return [step for step in plan if re.match(rf"SCAN ({'|'.join(GROWING)})\b", step)]


def _paths(client: httpx.Client) -> dict[str, str]:
    (incident,) = [i["id"] for i in client.get("/api/incidents").json()["items"] if i["open"]]
    return {
        "overview": "/",
        "live counts": "/console/counts",
        "search by name": "/search?q=Meter+54321",
        "search by ICCID digits": "/search?q=054321",
        "device": "/devices/m-0054321",
        "incident": f"/incidents/{incident}",
        "incident, a later page": f"/incidents/{incident}?members=7",
    }


def test_each_page_touches_a_pages_worth_of_rows_by_index(
    fleet: tuple[httpx.Client, CountingStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, store = fleet
    made: list[str] = []
    row = ServiceView._row  # the one place a view makes a list row

    def counted(self: ServiceView, device_id: str) -> Any:
        made.append(device_id)
        return row(self, device_id)

    def whole_fleet(*_: object, **__: object) -> None:
        raise AssertionError("a page read the whole fleet list")

    monkeypatch.setattr(ServiceView, "_row", counted)
    monkeypatch.setattr(ServiceView, "device_rows", whole_fleet)
    for name, path in _paths(client).items():
        store.queries.clear()
        made.clear()
        answer = client.get(path)
        assert answer.status_code == 200, (name, answer.text[:500])
        rows = sum(n for _, _, n in store.queries)
        assert rows <= PAGE_ROWS, f"{name}: {rows} stored rows read"
        assert len(made) <= PAGE_ROWS, f"{name}: {len(made)} list rows made"
        for sql, params, _ in store.queries:
            assert _scans(str(store.path), sql, params) == [], f"{name}: {sql}"
    assert made or store.queries, "the counting saw the pages' reads"
