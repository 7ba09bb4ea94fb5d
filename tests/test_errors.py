"""The diagnostics service's exceptions: one base, and the built-in callers catch kept."""

import pytest

from diagnostics.errors import DiagnosticsError, SilenceError
from diagnostics.service import Service
from diagnostics.store import SQLiteStore
from protocol.wire import Topics


@pytest.fixture
def service(tmp_path):
    store = SQLiteStore(tmp_path / "errors.sqlite")
    yield Service(store=store, topics=Topics("errors/simlab"))
    store.close()


@pytest.mark.parametrize(
    ("scope", "expiry", "reason"),
    [
        (("cell", "101"), {"seconds": 60, "until": 2e9}, "exactly one of until and seconds"),
        (("planet", "mars"), {"seconds": 60}, "unknown dimension 'planet'"),
        (("cell", ""), {"seconds": 60}, "the scope needs a value"),
        (("cell", "101"), {"until": 1.0}, "must expire after now"),
    ],
)
def test_a_bad_silence_says_what_was_wrong(service, scope, expiry, reason):
    with pytest.raises(SilenceError, match=reason) as caught:
        service.silence(*scope, **expiry)
    assert isinstance(caught.value, DiagnosticsError)
    assert isinstance(caught.value, ValueError), "callers catching ValueError still do"
    assert not service.grouper.silences, "nothing was kept"
