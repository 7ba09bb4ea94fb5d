"""The QoS 1 messages handed to paho and not yet known acknowledged, by connection."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

__all__ = ["Inflight"]


class Inflight:
    """QoS 1 messages in publish order, each with the client (connection) that sent it.

    Acknowledgements are counted in order from the front (`settle`): a watermark waits
    for all before it, so the order, not the exact moment, is what matters.
    """

    def __init__(self) -> None:
        self._out: deque[tuple[int, mqtt.MQTTMessageInfo]] = deque()

    def __len__(self) -> int:
        return len(self._out)

    def add(self, client: mqtt.Client, info: mqtt.MQTTMessageInfo) -> None:
        """A QoS 1 message `client` has just been given."""
        self._out.append((id(client), info))

    def settle(self) -> int:
        """Drop the acknowledged messages at the front; returns how many that was."""
        out = self._out
        acked = 0
        while out and out[0][1].is_published():
            out.popleft()
            acked += 1
        return acked

    def outstanding(self, client: mqtt.Client) -> bool:
        """Whether any message `client` sent is still unacknowledged."""
        key = id(client)
        return any(k == key and not info.is_published() for k, info in self._out)

    def forget(self, client: mqtt.Client) -> tuple[int, int]:
        """Drop `client`'s messages (its connection closed): (acknowledged, unacknowledged)."""
        key = id(client)
        mine = [info for k, info in self._out if k == key]
        if not mine:
            return 0, 0
        self._out = deque(entry for entry in self._out if entry[0] != key)
        acked = sum(info.is_published() for info in mine)
        return acked, len(mine) - acked
