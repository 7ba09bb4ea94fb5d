"""The MQTT stream's commands: its contract, producing it, and the service that reads it.

`protocol schema` prints the wire contract; `simulate` runs a world and
publishes what its devices and platform report, `replay` publishes a recording
again, and `serve` runs the diagnostics service that reads the stream.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from protocol.wire import DEFAULT_ROOT
from simlab.commands.exits import bad_input as _bad
from simlab.commands.exits import bad_spec as _problems
from simlab.commands.exits import unreachable
from simlab.resources import resolve
from simulator.errors import SpecError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from diagnostics.training_port import TrainingPort
    from simulator.transport.url import BrokerUrl

__all__ = ["protocol_app", "protocol_schema", "replay", "serve", "simulate"]

out = Console()
err_console = Console(stderr=True)


protocol_app = typer.Typer(help="The wire contract: topics and payloads.", no_args_is_help=True)


@protocol_app.command("schema")
def protocol_schema() -> None:
    """Print the JSON Schema of every payload (version 1), as one JSON document."""
    from simlab.publishing import schemas  # noqa: PLC0415 - only this command needs it

    typer.echo(json.dumps(schemas(), indent=2))


Speed = Annotated[
    str, typer.Option("--speed", help="Sim seconds per wall second (1, 60, ...) or max.")
]
Broker = Annotated[
    str | None,
    typer.Option("--broker", help="mqtt://host:port or mqtts://; none: the embedded broker."),
]
Root = Annotated[str, typer.Option("--root", help="Topic root of this run.")]
CaFile = Annotated[str | None, typer.Option("--ca", help="CA certificate for mqtts://.")]
MqttVersion = Annotated[
    int,
    typer.Option("--mqtt-version", min=4, max=5, help="5 for MQTT 5, 4 for MQTT 3.1.1."),
]


def simulate(  # noqa: PLR0913, PLR0917 - the command's options
    world: Annotated[str, typer.Argument(help="World YAML file, or the name of a bundled one.")],
    hours: Annotated[float, typer.Option("--hours", min=0.01, help="Simulated hours.")] = 24.0,
    broker: Broker = None,
    speed: Speed = "max",
    root: Root = DEFAULT_ROOT,
    record: Annotated[
        Path | None, typer.Option("--record", help="Also record to this JSONL file.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="No broker at all: only --record.")
    ] = False,
    telemetry_qos: Annotated[int, typer.Option("--telemetry-qos", min=0, max=1)] = 0,
    ca: CaFile = None,
    mqtt_version: MqttVersion = 5,
    per_device: Annotated[
        bool,
        typer.Option("--per-device", help="Each device its own MQTT client with a Last Will."),
    ] = False,
    connect_rate: Annotated[
        float,
        typer.Option("--connect-rate", min=1, help="Per-device mode: connects per second."),
    ] = 500.0,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="k/n: run the whole world, publish shard k of n (0-based): its devices, their SIMs"
            " and the clock. The n shards together publish every device's stream once.",
        ),
    ] = None,
) -> None:
    """Run a world and publish what devices and the platform report to an MQTT broker."""
    from simlab.broker import embedded_broker  # noqa: PLC0415 - only this command needs it
    from simlab.publishing import PublishOptions, parse_speed, run_world  # noqa: PLC0415 - likewise
    from simulator.world.loading import load_world  # noqa: PLC0415 - likewise
    from simulator.world.shard import Shard  # noqa: PLC0415 - likewise

    path = resolve(world, folder="worlds")
    try:
        spec = load_world(path)
        pace = parse_speed(speed)
        part = None if shard is None else Shard.parse(shard)
    except SpecError as exc:
        _problems(exc)
    except ValueError as exc:
        _bad(str(exc))
    shown = str(_broker_url(broker)) if broker is not None else None
    with ExitStack() as stack:
        if broker is None and not offline:
            embedded = stack.enter_context(embedded_broker())
            broker, mqtt_version = embedded.url, embedded.protocol
            shown = embedded.url
            err_console.print(f"embedded broker: {embedded.name} at {embedded.url}")
        publish = None
        if broker is not None:
            keepalive = min((group.keepalive for group in spec.devices), default=1200.0)
            publish = PublishOptions(
                broker,
                root,
                pace,
                telemetry_qos,
                ca,
                mqtt_version,
                per_device,
                connect_rate,
                keepalive,
            )
        try:
            outcome = run_world(
                spec, until=hours * 3600, publish=publish, record=record, shard=part
            )
        except ConnectionError as exc:
            unreachable(str(exc))
    result = outcome.result
    if result.error:
        _bad(result.error)
    devices = sum(group.count for group in spec.devices)
    lost = (
        f", {result.lost:,} device messages lost as the world's message_loss says"
        if result.lost
        else ""
    )
    out.print(
        f"{result.messages:,} messages from {devices:,} devices over {hours:g} h "
        f"in {result.wall_s:.1f} s{lost}"
    )
    if outcome.stats is not None:
        s = outcome.stats
        out.print(
            f"published {s.published:,} to {shown} under {root}/#: "
            f"{s.acked:,} QoS 1 acknowledged, {s.dropped_qos0:,} QoS 0 dropped, "
            f"worst lag {s.max_lag_s:.2f} s"
        )
    if record is not None:
        out.print(f"recorded {outcome.recorded:,} messages to {record}")


def replay(
    recording: Annotated[
        Path, typer.Argument(help="A JSONL recording (simlab simulate --record).")
    ],
    broker: Annotated[str, typer.Option("--broker", help="mqtt://host:port or mqtts://...")],
    speed: Speed = "max",
    root: Root = DEFAULT_ROOT,
    telemetry_qos: Annotated[int, typer.Option("--telemetry-qos", min=0, max=1)] = 0,
    ca: CaFile = None,
    mqtt_version: MqttVersion = 5,
) -> None:
    """Publish a recorded run to a broker, paced by its timestamps."""
    from simlab.publishing import PublishOptions, parse_speed  # noqa: PLC0415 - only this command needs it
    from simlab.publishing import replay as replay_recording  # noqa: PLC0415 - likewise

    shown = _broker_url(broker)
    try:
        options = PublishOptions(broker, root, parse_speed(speed), telemetry_qos, ca, mqtt_version)
        stats = replay_recording(recording, options)
    except ConnectionError as exc:
        unreachable(str(exc))
    except (ValueError, OSError) as exc:
        _bad(str(exc))
    out.print(
        f"replayed {stats.published:,} messages to {shown} under {root}/#: "
        f"{stats.acked:,} QoS 1 acknowledged, {stats.dropped_qos0:,} QoS 0 dropped, "
        f"worst lag {stats.max_lag_s:.2f} s"
    )


def serve(  # noqa: PLR0913, PLR0917 - the command's options
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="mqtt://[user:password@]host:port of the stream, mqtts:// for TLS "
            "\\[env SIMLAB_BROKER_HOST, SIMLAB_BROKER_PORT, SIMLAB_BROKER_USERNAME, "
            "SIMLAB_BROKER_PASSWORD, SIMLAB_BROKER_TLS; default mqtt://127.0.0.1:1883].",
        ),
    ] = None,
    ca: Annotated[
        Path | None,
        typer.Option(
            "--ca", help="mqtts://: the CA certificate to trust \\[env SIMLAB_BROKER_CA]."
        ),
    ] = None,
    cert: Annotated[
        Path | None,
        typer.Option(
            "--cert", help="mqtts://: a client certificate, with --key \\[env SIMLAB_BROKER_CERT]."
        ),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key", help="mqtts://: the client certificate's key \\[env SIMLAB_BROKER_KEY]."
        ),
    ] = None,
    root: Annotated[
        str | None,
        typer.Option(
            "--root", help=f"Topic root of the stream \\[env SIMLAB_ROOT; default {DEFAULT_ROOT}]."
        ),
    ] = None,
    database: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="SQLite file of the service \\[env SIMLAB_DB; default diagnostics.sqlite].",
        ),
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            "--run",
            help="A run directory (simlab run --out): serve its database under its topic "
            "root, to look at a past run through the API (instead of --db and --root).",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Where the API listens.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            help="MQTT session to resume \\[env SIMLAB_CLIENT_ID; default simlab-diagnostics- "
            "and a hash of the database's path: the same on every restart, so the broker "
            "keeps the session, and apart for each database].",
        ),
    ] = None,
    replica: Annotated[
        int | None,
        typer.Option(
            "--replica",
            min=0,
            help="Index of this service among several on one database: part of the default "
            "client id \\[env SIMLAB_REPLICA].",
        ),
    ] = None,
    clock: Annotated[
        str | None,
        typer.Option(
            "--clock",
            help="stream: the watermarks of a simulated run; wall: a real fleet "
            "\\[env SIMLAB_CLOCK; default stream].",
        ),
    ] = None,
    mqtt_version: Annotated[
        int | None,
        typer.Option(
            "--mqtt-version",
            help="5, or 4 for an MQTT 3.1.1 broker (amqtt) \\[env SIMLAB_MQTT_VERSION; default 5].",
        ),
    ] = None,
    scenarios: Annotated[
        bool,
        typer.Option(
            "--scenarios",
            help="Training in the console: trainers start bundled scenarios at /training, "
            "trainees join with a code; exercises run under simlab-runs/.",
        ),
    ] = False,
) -> None:
    """Run the diagnostics service: ingest the stream under ROOT and serve the API.

    Each setting comes from its flag, else from its SIMLAB_ environment variable, else
    from the default. The database and the HTTP port are tried before the service
    connects to the broker: a bad --db file or a busy --port exits with code 2 (3 when
    the database cannot be opened), and the running service's session is left alone.

    Writes to the API need its token (SIMLAB_API_TOKEN or SIMLAB_API_TOKEN_FILE; on
    loopback, else, the one kept next to the database, in <db>.token). A --host beyond
    loopback needs it for reads too, and exits with code 2 when none is configured.

    A password in --broker is used, never shown (SIMLAB_BROKER_PASSWORD keeps it out of
    the command line); a broker that refuses it is logged as an error, said in /health's
    broker_error, and tried again with back-off.
    """
    from pydantic import ValidationError  # noqa: PLC0415 - only this command needs them

    from diagnostics.settings import Settings  # noqa: PLC0415 - likewise
    from simlab import serving  # noqa: PLC0415 - likewise

    given: dict[str, Any] = {}
    if broker is not None:
        url = _broker_url(broker)
        given.update(broker_host=url.host, broker_port=url.port, broker_tls=url.tls)
        if url.username is not None:
            given["broker_username"] = url.username
        if url.password is not None:
            given["broker_password"] = url.password
    if clock is not None and clock not in {"stream", "wall"}:
        _bad(f"--clock {clock!r}: give stream or wall")
    if mqtt_version is not None and mqtt_version not in {4, 5}:
        _bad(f"--mqtt-version {mqtt_version}: give 5, or 4 for MQTT 3.1.1")
    if run_dir is not None:
        database, root = _of_run(run_dir, database, root)
    flags = {
        "root": root,
        "database": database,
        "client_id": client_id,
        "replica": replica,
        "clock": clock,
        "mqtt_version": mqtt_version,
        "broker_ca": ca,
        "broker_cert": cert,
        "broker_key": key,
    }
    given.update((name, value) for name, value in flags.items() if value is not None)
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        _bad(f"simlab serve: {_said(exc)}")
    try:
        serving.serve(
            settings,
            host=host,
            port=port,
            say=lambda line: typer.echo(line, err=True),
            training=_training() if scenarios else None,
        )
    except serving.ServeInputError as exc:
        _bad(str(exc))
    except serving.StoreOpenError as exc:
        unreachable(str(exc))


def _said(exc: ValidationError) -> str:
    """A settings error as one line, each problem with its field (inputs never shown)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(problems).replace("Value error, ", "")


def _broker_url(broker: str) -> BrokerUrl:
    """`--broker` read, or one line and exit 2."""
    from simulator.transport.url import BrokerUrl  # noqa: PLC0415 - only the MQTT commands need it

    try:
        return BrokerUrl.parse(broker)
    except ValueError as exc:
        _bad(f"--broker: {exc}")


def _of_run(run_dir: Path, database: Path | None, root: str | None) -> tuple[Path, str]:
    """The database and topic root of a run directory (`serve --run`)."""
    from simlab.rundir import RunDir, RunDirError  # noqa: PLC0415 - only `serve --run` needs it

    if database is not None or root is not None:
        _bad("--run: the run directory names the database and the root; leave out --db, --root")
    found = RunDir(run_dir)
    try:
        run = found.read_run()
    except RunDirError as exc:
        _bad(f"--run: {exc}")
    if not found.database.is_file():
        _bad(f"--run: {found.database}: missing; is {run_dir} a run directory?")
    return found.database, str(run.get("root", DEFAULT_ROOT))


def _training() -> TrainingPort:
    """The exercises `--scenarios` turns on: bundled scenarios run under simlab-runs/."""
    from simlab.training_web import ScenarioTraining  # noqa: PLC0415 - only for --scenarios

    typer.echo("training: trainers start exercises at /training (runs in simlab-runs/)", err=True)
    return ScenarioTraining(Path("simlab-runs"))
