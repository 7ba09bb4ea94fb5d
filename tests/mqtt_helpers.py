"""An independent MQTT subscriber for tests: plain paho-mqtt, nothing of simlab's transport."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int
    at: float


@dataclass
class Subscriber:
    host: str
    port: int
    topic: str
    qos: int = 1
    client_id: str = field(default_factory=lambda: f"test-sub-{uuid.uuid4().hex[:8]}")
    persistent: bool = False
    messages: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=not self.persistent,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()

    def _on_connect(self, client, userdata, flags, reason, props):
        client.subscribe(self.topic, qos=self.qos)

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self.messages.append(
                Received(msg.topic, msg.payload, msg.retain, msg.qos, time.monotonic())
            )

    def start(self) -> Subscriber:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        assert self._subscribed.wait(10), "subscription not acknowledged"
        return self

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate(self.messages):
                    return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
