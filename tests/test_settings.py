"""The service's settings: the environment configures it, a given value or a flag wins."""

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import simlab.serving
from diagnostics.settings import Settings
from simlab.commands import app


@pytest.fixture
def clean_env(monkeypatch):
    """No SIMLAB_ setting from the machine's environment leaks into a test."""
    for name in (
        "SIMLAB_BROKER_HOST",
        "SIMLAB_BROKER_PORT",
        "SIMLAB_ROOT",
        "SIMLAB_DATABASE",
        "SIMLAB_DB",
        "SIMLAB_CLIENT_ID",
        "SIMLAB_CLOCK",
        "SIMLAB_MQTT_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults_without_an_environment(clean_env):
    settings = Settings()
    assert (settings.broker_host, settings.broker_port) == ("127.0.0.1", 1883)
    assert settings.database == Path("diagnostics.sqlite")
    assert settings.clock == "stream"


def test_an_environment_variable_configures_the_service(clean_env):
    clean_env.setenv("SIMLAB_BROKER_PORT", "18830")
    clean_env.setenv("SIMLAB_DB", "/var/lib/simlab/fleet.sqlite")
    clean_env.setenv("SIMLAB_CLOCK", "wall")
    settings = Settings()
    assert settings.broker_port == 18830
    assert settings.database == Path("/var/lib/simlab/fleet.sqlite")
    assert settings.clock == "wall"
    clean_env.setenv("SIMLAB_DATABASE", "long.sqlite")
    clean_env.delenv("SIMLAB_DB")
    assert Settings().database == Path("long.sqlite")


def test_a_value_given_wins_over_the_environment(clean_env):
    clean_env.setenv("SIMLAB_BROKER_PORT", "18830")
    clean_env.setenv("SIMLAB_DB", "from-env.sqlite")
    settings = Settings(broker_port=1884, database=Path("given.sqlite"))
    assert settings.broker_port == 1884
    assert settings.database == Path("given.sqlite")


def test_a_bad_environment_value_is_refused_with_its_name(clean_env):
    clean_env.setenv("SIMLAB_BROKER_PORT", "0")
    with pytest.raises(ValidationError, match="broker_port"):
        Settings()


def test_serve_flags_win_over_the_environment(clean_env):
    built: list[Settings] = []
    clean_env.setattr(simlab.serving, "serve", lambda settings, **kwargs: built.append(settings))
    env = {"SIMLAB_BROKER_PORT": "18830", "SIMLAB_DB": "from-env.sqlite", "SIMLAB_CLOCK": "wall"}
    result = CliRunner().invoke(app, ["serve", "--db", "flag.sqlite"], env=env)
    assert result.exit_code == 0, result.output
    [settings] = built
    assert settings.database == Path("flag.sqlite"), "the flag wins"
    assert settings.broker_port == 18830, "the environment fills what no flag gives"
    assert settings.clock == "wall"
    result = CliRunner().invoke(app, ["serve", "--broker", "mqtt://broker.example:1999"], env=env)
    assert result.exit_code == 0, result.output
    assert (built[1].broker_host, built[1].broker_port) == ("broker.example", 1999)
    assert built[1].database == Path("from-env.sqlite")
