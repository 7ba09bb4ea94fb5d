import os
import pathlib
import uuid

import pytest
from hypothesis import HealthCheck, settings

from protocol.wire import Topics
from simlab.broker import MosquittoBroker, mosquitto_executable

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


KINDS = ("broker", "browser", "packaging")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        type=pathlib.Path,
        default=None,
        help="keep the browser tests' screenshots of each console page in this folder "
        "(default: under the test run's temporary directory)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test its kind: a test that uses the broker fixture is a broker test, and one
    that is none of broker, browser or packaging is a unit test (`pytest -m unit`)."""
    for item in items:
        if "mosquitto" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "broker"
        ):
            item.add_marker(pytest.mark.broker)
        if not any(item.get_closest_marker(kind) for kind in KINDS):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def mosquitto():
    """A real Mosquitto on a free loopback port for the whole test session."""
    if mosquitto_executable() is None:
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    broker = MosquittoBroker().start()
    yield broker
    broker.remove()


@pytest.fixture
def topics():
    """A topic root of this test's own, so retained messages never leak between tests."""
    return Topics(f"test-{uuid.uuid4().hex[:12]}/simlab")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The diagnosis table: every cause of the catalogue, first / candidate / wrong."""
    from tests.diagnosis_worlds import RESULTS  # noqa: PLC0415

    if not RESULTS:
        return
    terminalreporter.section("diagnosis of every cause (1% message loss)")
    terminalreporter.write_line(f"{'cause':26} {'graded':10} victims")
    for cause in sorted(RESULTS):
        grade, victims, _ = RESULTS[cause]
        terminalreporter.write_line(f"{cause:26} {grade:10} {victims}")
    counts = {g: sum(r[0] == g for r in RESULTS.values()) for g in ("first", "candidate", "wrong")}
    terminalreporter.write_line(
        f"first={counts['first']} candidate={counts['candidate']} wrong={counts['wrong']}"
    )
