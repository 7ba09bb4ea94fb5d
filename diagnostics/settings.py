"""The service's settings: where the stream comes from and where it is kept.

`Settings` reads `SIMLAB_`-prefixed environment variables (`SIMLAB_BROKER_HOST`,
`SIMLAB_BROKER_PORT`, `SIMLAB_ROOT`, `SIMLAB_DATABASE` or its short form
`SIMLAB_DB`, `SIMLAB_CLOCK`, ...), so a deployment configures the service
without flags; a value given to the constructor (a `simlab serve` flag, a
test's own settings) wins over the environment, which wins over the default.

The MQTT client id names the broker's persistent session, so it must stay
the same across restarts and differ between services: unless one is given,
it is `simlab-diagnostics-` and a short hash of the database file's resolved
path (`-r` and the replica index appended when `replica` is set), so each
database keeps its own session, and a restart on the same file resumes it.

The broker may want a user name and password (`SIMLAB_BROKER_USERNAME`,
`SIMLAB_BROKER_PASSWORD`: the environment keeps the password off the command
line) and TLS (`SIMLAB_BROKER_TLS`, with the CA to trust in `SIMLAB_BROKER_CA`
and a client certificate and key in `SIMLAB_BROKER_CERT` and
`SIMLAB_BROKER_KEY`). The password is a `SecretStr`: the settings' repr, and a
validation error (inputs hidden), never show it; `broker_url` says where the
broker is, with the user name but never the password.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from diagnostics.timeguard import TimeBounds
from protocol.wire import DEFAULT_ROOT

__all__ = [
    "CLIENT_ID_PREFIX",
    "ENV_PREFIX",
    "MAX_BODY_BYTES",
    "MAX_PACKET_BYTES",
    "Settings",
    "default_client_id",
]

ENV_PREFIX = "SIMLAB_"
CLIENT_ID_PREFIX = "simlab-diagnostics"
MAX_BODY_BYTES = 1024 * 1024
"""A request body's default cap: a swap test or a silence takes well under a kilobyte."""
MAX_PACKET_BYTES = 256 * 1024
"""The largest MQTT packet the ingest reads by default (a message takes well under 64 KiB)."""


def default_client_id(database: Path, replica: int | None = None) -> str:
    """The client id of the service on `database`: the same on every restart (see the module)."""
    digest = hashlib.sha256(str(database.expanduser().resolve()).encode()).hexdigest()[:10]
    suffix = "" if replica is None else f"-r{replica}"
    return f"{CLIENT_ID_PREFIX}-{digest}{suffix}"


class Settings(BaseSettings):
    """Where the stream comes from and where it is kept (environment: `SIMLAB_<FIELD>`)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", hide_input_in_errors=True
    )

    broker_host: str = "127.0.0.1"
    broker_port: int = Field(1883, ge=1, le=65535)
    broker_username: str | None = Field(None, min_length=1)
    broker_password: SecretStr | None = None
    """Sent in CONNECT; shown nowhere (a SecretStr)."""
    broker_tls: bool = False
    """mqtts://: the connection is TLS, the broker's certificate checked."""
    broker_ca: Path | None = None
    """The CA certificate (PEM) to trust for the broker's; None: the system's CAs."""
    broker_cert: Path | None = None
    """A client certificate (PEM), for a broker that asks for one; needs `broker_key`."""
    broker_key: Path | None = None
    """The client certificate's private key (PEM, not encrypted)."""
    keepalive: int = Field(30, ge=1, le=65_535)
    """Seconds: a PINGREQ goes out each half of it; two unanswered mean a stalled broker."""
    max_packet_bytes: int = Field(MAX_PACKET_BYTES, ge=1024, le=256 * 1024 * 1024)
    """The largest MQTT packet read (fixed header included): MQTT 5's Maximum Packet Size,
    so the broker drops a larger message; on 3.1.1 the ingest lets it pass unread, counts
    it and keeps a `too_large` dead letter (`diagnostics.ingest_reader`)."""
    mqtt_version: Literal[4, 5] = 5
    """5, or 4 (3.1.1) for a broker without MQTT 5 (the embedded amqtt)."""
    root: str = DEFAULT_ROOT
    """Topic root of the run; the service subscribes to everything under it."""
    database: Path = Field(
        Path("diagnostics.sqlite"),
        validation_alias=AliasChoices("database", f"{ENV_PREFIX}DATABASE", f"{ENV_PREFIX}DB"),
    )
    """The SQLite file (environment: SIMLAB_DATABASE, or SIMLAB_DB as `simlab serve --db`)."""
    client_id: str | None = Field(None, min_length=1)
    """The MQTT client id: the persistent session that keeps unacknowledged messages.

    None: derived from the database path and the replica (`session_id`)."""
    replica: int | None = Field(None, ge=0)
    """Which of several services on one database this is (part of the derived client id)."""
    batch_max: int = Field(10_000, ge=1)
    """Messages committed in one transaction at most: a commit rewrites each device's index
    page once, however many of its messages it holds, so larger batches cost less each."""
    batch_wait: float = Field(0.2, gt=0)
    """Seconds a batch waits for more messages after its first (what it adds to the lag)."""
    lag_probe_every: float = Field(1.0, ge=0)
    """Seconds between the probes that measure broker-to-commit lag (0: no probes)."""
    clock: Literal["stream", "wall"] = "stream"
    """stream: "now" is the stream's watermark (simulated runs, replays); wall: real fleets."""
    tick: float = Field(10.0, gt=0)
    """Wall-clock mode: seconds between sweeps."""
    synchronous: bool = False
    """Sync the WAL on every commit (survives power loss, not only a process crash)."""
    dead_letter_bytes: int = Field(64 * 1024 * 1024, ge=1)
    """Payload bytes of kept dead letters at most: the oldest go first (beside 10,000 rows)."""
    max_unknown_devices: int = Field(10_000, ge=0)
    """Devices no inventory record or network event vouches for that get state at most;
    past it their messages are dead letters `unknown_device` (`diagnostics.admission`)."""
    clock_jump_s: float = Field(86_400.0, gt=0, allow_inf_nan=False)
    """A watermark further than this past the service clock is refused (`clock_jump`)."""
    ahead_s: float = Field(86_400.0, gt=0, allow_inf_nan=False)
    """A message stamped further than this past the service clock is refused (`ahead`)."""
    behind_s: float = Field(30 * 86_400.0, gt=0, allow_inf_nan=False)
    """A message stamped further than this before the service clock is refused (`behind`)."""
    skew_s: float = Field(3_600.0, gt=0, allow_inf_nan=False)
    """A message ahead of the clock by more than this is read as stamped this far ahead."""

    @model_validator(mode="after")
    def _bounds_agree(self) -> Settings:
        self.time_bounds  # noqa: B018 - raises ValueError (skew_s past ahead_s) on a bad pair
        return self

    @property
    def time_bounds(self) -> TimeBounds:
        """The bounds on stamps (`diagnostics.timeguard`)."""
        return TimeBounds(
            clock_jump_s=self.clock_jump_s,
            ahead_s=self.ahead_s,
            behind_s=self.behind_s,
            skew_s=self.skew_s,
        )

    api_token: SecretStr | None = None
    """The bearer token of the API's writes (and of its reads, when `public`)."""
    api_token_file: Path | None = None
    """A file whose stripped content is the token (instead of `api_token`)."""
    public: bool = False
    """The API answers beyond loopback: reads need the token too, and one must be configured.

    `simlab serve` sets it when `--host` is not a loopback address."""
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1)
    """A request body larger than this is refused with 413, unread."""

    @model_validator(mode="after")
    def _one_token(self) -> Self:
        if self.api_token is not None and self.api_token_file is not None:
            raise ValueError("give one of api_token and api_token_file, not both")
        return self

    @model_validator(mode="after")
    def _tls_files(self) -> Settings:
        """A certificate goes with its key; the files are for TLS, and must be there."""
        if (self.broker_cert is None) != (self.broker_key is None):
            raise ValueError(
                "broker_cert and broker_key go together (--cert and --key): give both or neither"
            )
        files = {"broker_ca": self.broker_ca, "broker_cert": self.broker_cert}
        files["broker_key"] = self.broker_key
        given = {name: path for name, path in files.items() if path is not None}
        if given and not self.broker_tls:
            raise ValueError(
                f"{', '.join(given)} given but the broker is not TLS: use mqtts:// "
                "(broker_tls true) to use them"
            )
        for name, path in given.items():
            if not path.is_file():
                raise ValueError(f"{name} {path}: no such file")
        return self

    @property
    def broker_url(self) -> str:
        """Where the broker is, as a URL with the user name but never the password."""
        who = f"{self.broker_username}@" if self.broker_username else ""
        scheme = "mqtts" if self.broker_tls else "mqtt"
        return f"{scheme}://{who}{self.broker_host}:{self.broker_port}"

    @property
    def session_id(self) -> str:
        """The client id the service connects with: the given one, else the derived one."""
        return self.client_id or default_client_id(self.database, self.replica)
