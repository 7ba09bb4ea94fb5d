import os
import shutil
import uuid

import pytest
from hypothesis import HealthCheck, settings

from protocol.wire import Topics
from simlab.broker import MosquittoBroker

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def mosquitto():
    """A real Mosquitto on a free loopback port for the whole test session."""
    if not (shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")):
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    broker = MosquittoBroker().start()
    yield broker
    broker.remove()


@pytest.fixture
def topics():
    """A topic root of this test's own, so retained messages never leak between tests."""
    return Topics(f"test-{uuid.uuid4().hex[:12]}/simlab")
