"""Brokers simlab can start by itself: Mosquitto when it is installed, amqtt in-process otherwise.

Why Mosquitto first: on this kind of machine it is several times faster than
amqtt (QoS 1 ~20k against ~9k msg/s with one publisher), speaks MQTT 5, and
keeps each client's retained messages to that client's subscriptions. amqtt
is pure Python and needs nothing but pip, so a fresh machine still runs the
main command; its known flaw (on connect it pushes retained messages of other
clients' subscriptions) is contained because every run gets its own broker on
its own port and its own topic root, and simlab's subscribers drop anything
outside the subscription they asked for.

`MOSQUITTO_SETTINGS` is how every simlab Mosquitto runs: the embedded one,
and one of your own started from `mosquitto_config()` (`simlab broker-config`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "MOSQUITTO_SETTINGS",
    "AmqttBroker",
    "Broker",
    "MosquittoBroker",
    "TlsFiles",
    "embedded_broker",
    "free_port",
    "mosquitto_config",
    "mosquitto_executable",
]

LOOPBACK = "127.0.0.1"
MOSQUITTO_SETTINGS: Final = (
    ("allow_anonymous true", "no passwords: the listener is on loopback only"),
    (
        "set_tcp_nodelay true",
        "send each packet at once: without it windowed QoS 1 publishing stalls ~40 ms a batch",
    ),
    (
        "max_queued_messages 0",
        "no limit on messages queued for a slow subscriber (stock Mosquitto drops past 1000)",
    ),
    (
        "max_inflight_messages 0",
        "no limit on QoS 1 messages in flight to a client (stock Mosquitto allows 20)",
    ),
    (
        "persistent_client_expiration 1h",
        "forget a persistent session (simlab serve's) once its client is away an hour",
    ),
    ("log_type error", "log errors, warnings and notices, not every connection"),
    ("log_type warning", None),
    ("log_type notice", None),
)
"""Each line every simlab Mosquitto runs with, and why (None: as the line before)."""


class Broker(Protocol):
    """A broker simlab started; `url` is where clients connect."""

    name: str
    protocol: int
    """The newest MQTT version it speaks: 5, or 4 for 3.1.1."""

    @property
    def url(self) -> str:
        """mqtt://127.0.0.1:PORT (or mqtts:// with TLS)."""

    def stop(self) -> None:
        """Stop the broker and release its port."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 10.0, alive: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until something accepts connections on loopback `port` (or `alive` exits)."""
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"the process exited with code {alive.returncode}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((LOOPBACK, port)) == 0:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"no broker answered on {LOOPBACK}:{port} within {timeout:g} s")
        time.sleep(0.02)


def _mosquitto_listener(port: int) -> list[str]:
    """A listener on loopback `port`, then every line of `MOSQUITTO_SETTINGS`."""
    return [f"listener {port} {LOOPBACK}", *(line for line, _ in MOSQUITTO_SETTINGS)]


def mosquitto_config(port: int) -> str:
    """A mosquitto.conf for a broker of one's own: the embedded broker's settings, explained."""
    lines = [
        "# Mosquitto as simlab's embedded broker runs (printed by `simlab broker-config`):",
        "#   simlab broker-config > simlab-mosquitto.conf && mosquitto -c simlab-mosquitto.conf",
        f"# listen on this machine only, port {port}",
        f"listener {port} {LOOPBACK}",
    ]
    for line, why in MOSQUITTO_SETTINGS:
        lines += [f"# {why}", line] if why else [line]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Certificate files for a TLS listener."""

    ca: Path
    cert: Path
    key: Path


@dataclass
class MosquittoBroker:
    """A Mosquitto process on a free loopback port, configured for tests and benchmarks.

    `MOSQUITTO_SETTINGS` (`set_tcp_nodelay true`, no limit on queued messages for slow
    subscribers, ...), a log file in its folder, optional persistence so a restart keeps
    sessions and queued QoS 1 messages, optional TLS listener.
    """

    port: int = 0
    persistence: bool = False
    tls: TlsFiles | None = None
    name: str = "mosquitto"
    protocol: int = 5
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="simlab-mosquitto-")))
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        if self.port == 0:
            self.port = free_port()

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{LOOPBACK}:{self.port}"

    def config(self) -> str:
        """The mosquitto.conf this broker runs with."""
        lines = [
            *_mosquitto_listener(self.port),
            f"log_dest file {self.folder / 'mosquitto.log'}",
            *(
                ["user root"] if os.geteuid() == 0 else []
            ),  # else it drops to `mosquitto`: no access
        ]
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.folder}/",
                "autosave_interval 1",
            ]
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.cert}",
                f"keyfile {self.tls.key}",
            ]
        return "\n".join(lines) + "\n"

    def start(self) -> MosquittoBroker:
        """Start the process and wait until it accepts connections."""
        executable = mosquitto_executable()
        if executable is None:
            raise FileNotFoundError(
                "mosquitto is not installed (Debian: apt-get install mosquitto)"
            )
        conf = self.folder / "mosquitto.conf"
        conf.write_text(self.config(), encoding="utf-8")
        self.process = subprocess.Popen(  # noqa: S603 - our own config, a fixed program
            [executable, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.port, alive=self.process)
        except (TimeoutError, RuntimeError) as exc:
            self.stop()
            raise RuntimeError(
                f"mosquitto did not start: {exc}; its log: {self.log()[-500:]}"
            ) from exc
        return self

    def stop(self) -> None:
        """Terminate the process (persistence is written on a clean stop)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill the process without letting it save anything (a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def remove(self) -> None:
        """Stop, and delete the broker's folder (config, log, persistence)."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start again on the same port and with the same persistence folder."""
        self.stop()
        self.start()

    def log(self) -> str:
        """What the broker logged."""
        path = self.folder / "mosquitto.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@dataclass
class AmqttBroker:
    """The pure-Python amqtt broker, run on its own event loop in a background thread."""

    port: int = 0
    name: str = "amqtt"
    protocol: int = 4  # amqtt refuses MQTT 5 connections
    _loop: asyncio.AbstractEventLoop | None = None
    _broker: Any = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        if self.port == 0:
            self.port = free_port()

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"mqtt://{LOOPBACK}:{self.port}"

    def start(self) -> AmqttBroker:
        """Start the broker thread and wait until it accepts connections."""
        from amqtt.broker import Broker as Amqtt  # noqa: PLC0415 - only when Mosquitto is absent

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._broker = Amqtt(config, loop=loop)
                loop.run_until_complete(self._broker.start())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
        self._thread.start()
        started.wait(15)
        if failure:
            raise RuntimeError(f"amqtt did not start: {failure[0]}") from failure[0]
        return self  # its start() returned once the listener was up

    def stop(self) -> None:
        """Shut the broker down and end its thread."""
        if self._loop is None:
            return
        if self._broker is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None
        self._broker = None
        with warnings.catch_warnings():  # amqtt leaves client transports for the collector
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def mosquitto_executable() -> str | None:
    """The installed `mosquitto`, on PATH or in Debian's sbin (not on a user's PATH); or None."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")


@contextlib.contextmanager
def embedded_broker(*, prefer: str = "auto") -> Iterator[Broker]:
    """A broker for one run: Mosquitto if installed (or `prefer="mosquitto"`), else amqtt."""
    use_mosquitto = prefer == "mosquitto" or (
        prefer == "auto" and mosquitto_executable() is not None
    )
    broker: MosquittoBroker | AmqttBroker = MosquittoBroker() if use_mosquitto else AmqttBroker()
    broker.start()
    try:
        yield broker
    finally:
        if isinstance(broker, MosquittoBroker):
            broker.remove()
        else:
            broker.stop()
