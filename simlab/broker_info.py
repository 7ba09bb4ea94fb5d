"""Which broker a run used, said in its output and in run.json: the software and its version.

An embedded broker is known by name (Mosquitto or amqtt); Mosquitto's version is
the first line of `mosquitto -h`, amqtt's the installed package's. A broker
given by URL is only known by its address.
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

from simlab.broker import mosquitto_executable

if TYPE_CHECKING:
    from simlab.broker import Broker

__all__ = ["BrokerInfo", "amqtt_version", "embedded_info", "external_info", "mosquitto_version"]

_SOFTWARE = {"mosquitto": "Mosquitto", "amqtt": "amqtt"}


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    """The broker of a run: its address and, when simlab started it, its software."""

    url: str
    software: str | None = None
    """Mosquitto or amqtt; None for a broker given by URL."""
    version: str | None = None

    @property
    def embedded(self) -> bool:
        """Whether simlab started the broker for the run."""
        return self.software is not None

    def __str__(self) -> str:
        if self.software is None:
            return f"the broker at {self.url}"
        version = f" {self.version}" if self.version else ""
        return f"{self.software}{version} (embedded, {self.url})"

    def as_dict(self) -> dict[str, Any]:
        """As run.json holds it."""
        return {"url": self.url, "software": self.software, "version": self.version}


def embedded_info(broker: Broker) -> BrokerInfo:
    """What an embedded broker is: Mosquitto or amqtt, with its version."""
    version = mosquitto_version() if broker.name == "mosquitto" else amqtt_version()
    return BrokerInfo(broker.url, _SOFTWARE.get(broker.name, broker.name), version)


def external_info(url: str) -> BrokerInfo:
    """A broker given by URL: only its address is known."""
    return BrokerInfo(url)


@functools.cache
def mosquitto_version() -> str | None:
    """The installed Mosquitto's version (`mosquitto -h` prints it first), or None."""
    executable = mosquitto_executable()
    if executable is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - the installed broker, no shell
            [executable, "-h"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"mosquitto version (\S+)", done.stdout + done.stderr)
    return found.group(1) if found else None


@functools.cache
def amqtt_version() -> str | None:
    """The installed amqtt package's version, or None."""
    try:
        return metadata.version("amqtt")
    except metadata.PackageNotFoundError:
        return None
