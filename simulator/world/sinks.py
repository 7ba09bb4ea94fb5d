"""Where the model's output goes. The model only calls `write`; sinks decide what to do with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Protocol

from protocol.messages import Clock
from protocol.wire import Topics, encode
from simulator.world.batch import Batch, BatchSink

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["JsonlSink", "MemorySink", "Sink", "TeeSink", "relative_topic"]

_RELATIVE = Topics("_")


class Sink(Protocol):
    """Receives every message the world emits, in order, with the account it belongs to."""

    def write(self, message: BaseModel, account: str | None) -> None:
        """Take one message (account is None only for clock messages)."""


def relative_topic(message: BaseModel, account: str | None) -> str:
    """The message's topic below the root, e.g. `acme/device/d1/telemetry` or `clock`."""
    if isinstance(message, Clock):
        return "clock"
    return _RELATIVE.for_message(message, account or "")[2:]


class MemorySink:
    """Keeps every message in a list: for tests and small runs."""

    def __init__(self) -> None:
        self.messages: list[BaseModel] = []
        self.accounts: list[str | None] = []

    def write(self, message: BaseModel, account: str | None) -> None:
        """Keep the message."""
        self.messages.append(message)
        self.accounts.append(account)

    def jsonl(self) -> bytes:
        """The stream as a recording would hold it (see JsonlSink)."""
        return b"".join(
            _line(message, account)
            for message, account in zip(self.messages, self.accounts, strict=True)
        )


def _line(message: BaseModel, account: str | None) -> bytes:
    topic = relative_topic(message, account)
    return b'{"topic":"' + topic.encode() + b'","payload":' + encode(message) + b"}\n"


class JsonlSink:
    """Records a run as JSON lines: `{"topic": <below the root>, "payload": {...}}` each.

    A recording can be replayed to any broker under any root (`simlab replay`).
    """

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.count = 0

    def write(self, message: BaseModel, account: str | None) -> None:
        """Append one line."""
        self.out.write(_line(message, account))
        self.count += 1


class TeeSink:
    """Hands every message to several sinks, in order (e.g. a broker and a recording)."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def write(self, message: BaseModel, account: str | None) -> None:
        """Pass the message on to each sink."""
        for sink in self.sinks:
            sink.write(message, account)

    def write_batch(self, batch: Batch) -> None:
        """Pass a cohort's window on: as columns to the sinks that take them, else one by one."""
        single = [s for s in self.sinks if not isinstance(s, BatchSink)]
        for sink in self.sinks:
            if isinstance(sink, BatchSink):
                sink.write_batch(batch)
        if single:
            for message, account in batch.messages():
                for sink in single:
                    sink.write(message, account)
