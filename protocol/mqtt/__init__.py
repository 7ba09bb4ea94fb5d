"""MQTT itself, below the wire contract: the packet codec and the reconnect back-off.

Both sides speak MQTT with these: the diagnostics ingest reads its subscription
with `protocol.mqtt.codec`, the simulator's publisher writes QoS 0 packets with
it, and both wait between reconnects by `protocol.mqtt.backoff`.
"""

__all__: list[str] = []
