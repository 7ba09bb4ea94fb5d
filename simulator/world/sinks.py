"""Where the model's output goes. The model only calls `write`; sinks decide what to do with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["MemorySink", "Sink"]


class Sink(Protocol):
    """Receives every message the world emits, in order."""

    def write(self, message: BaseModel) -> None:
        """Take one message."""


class MemorySink:
    """Keeps every message in a list: for tests and small runs."""

    def __init__(self) -> None:
        self.messages: list[BaseModel] = []

    def write(self, message: BaseModel) -> None:
        """Keep the message."""
        self.messages.append(message)

    def jsonl(self) -> bytes:
        """The stream as JSON lines, as it would be recorded."""
        return b"".join(m.model_dump_json().encode() + b"\n" for m in self.messages)
