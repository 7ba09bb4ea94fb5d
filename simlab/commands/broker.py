"""`simlab broker-config`: a mosquitto.conf for a broker of one's own, as the embedded one runs."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["broker_config"]


def broker_config(
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Where the broker listens.")
    ] = 1883,
) -> None:
    """Print a mosquitto.conf with the embedded broker's settings, listening on 127.0.0.1.

    A stock `mosquitto -p 1883` lacks set_tcp_nodelay and limits queues: runs are slower.
    Start Mosquitto with this configuration instead:

    simlab broker-config > simlab-mosquitto.conf && mosquitto -c simlab-mosquitto.conf
    """
    from simlab.broker import mosquitto_config  # noqa: PLC0415 - only this command needs it

    typer.echo(mosquitto_config(port), nl=False)
