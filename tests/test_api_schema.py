"""The API keeps to its own OpenAPI document: schemathesis against the real app, real HTTP.

The schema is the app's own (`app.openapi()`); the requests go to that app under
uvicorn on a loopback port, with no broker, over a database holding three collars'
first hours, a stored silence and swap test with times no calendar names, and
messages stamped 0 and -1e300 (a broken source, an older store). Every request
carries the bearer token, so writes are exercised too. No answer may be a 5xx (but
/health's declared 503: with no broker the service is not ingesting, and says so),
and every answer must have a status code, content type and body its operation declares.
A small, fixed example budget keeps the whole run within seconds on a shared machine.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from diagnostics.access import Access, new_token
from diagnostics.main import create_app
from diagnostics.store import SQLiteStore
from diagnostics.store.records import Accepted
from tests.api_server import seeded, serving, settings_for

ACCESS = Access(new_token(), source="this test's own")
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]

schema = schemathesis.openapi.from_dict(create_app(access=ACCESS).openapi())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real app on a seeded database, with odd stored times, until the module ends."""
    database = tmp_path_factory.mktemp("schema") / "diagnostics.sqlite"
    seeded(database)
    _odd_times(SQLiteStore(database))
    with serving(settings_for(database), access=ACCESS) as running:
        yield running


def _odd_times(store: SQLiteStore) -> None:
    """A device's messages stamped 0 and -1e300; a silence and a swap test just as odd."""
    rows = [row for chunk in store.replay() for row in chunk]
    telemetry = next(r for r in rows if r.kind == "telemetry")
    for t in (0.0, -1e300):
        body = json.loads(telemetry.payload) | {"t": t}
        row = Accepted(
            "telemetry",
            telemetry.device_id,
            telemetry.iccid,
            telemetry.account,
            t,
            t,
            telemetry.topic,
            json.dumps(body).encode(),
        )
        store.write_batch(messages=[row], dead=[])
    silence = {"id": "sil-000900", "dimension": "cell", "value": "101", "created_at": 0.0}
    store.put_action("silence", "sil-000900", 0.0, json.dumps(silence | {"until": -1e300}))
    swap = {
        "id": "odd-swap",
        "created": 0.0,
        "at": -1e300,
        "suspect_device": telemetry.device_id,
        "suspect_iccid": None,
        "good_device": None,
        "good_iccid": None,
        "impossible": None,
    }
    store.put_action("swap_test", "odd-swap", 0.0, json.dumps(swap))
    store.close()


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_keeps_to_the_schema_and_none_is_a_server_error(case, server):
    health = case.operation.path == "/health"
    checks = [c for c in CHECKS if not (health and c is not_a_server_error)]
    answer = case.call_and_validate(base_url=server.url, headers=server.bearer, checks=checks)
    if health and answer.status_code >= 500:
        assert (answer.status_code, answer.json()["broker_connected"]) == (503, False)
