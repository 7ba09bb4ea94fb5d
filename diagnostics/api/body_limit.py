"""A cap on request bodies: pure ASGI middleware in front of the app (`BodyLimit`).

A request whose Content-Length is over the cap is answered 413 at once: the app
never runs and the body is never read. A body without one (chunked) is counted
as the app reads it, and the chunk that passes the cap ends the reading with
`BodyTooLarge`. That is an `HTTPException`, so FastAPI's own body reading lets it
through (any other error there becomes a 400) and the app answers it; should it
come out of the app before anything was answered, the middleware answers it.
Either way the answer is JSON with the reason as `detail`, naming the cap, and
says `Connection: close`: the rest of the body is not worth reading.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, status

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TOO_LARGE", "BodyLimit", "BodyTooLarge"]

TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"description": "The request body is larger than the service takes (max_body_bytes)"}
}
"""The 413 a route with a body answers, for the OpenAPI schema."""


class BodyTooLarge(HTTPException):
    """A request body over the cap (413), with the cap in the reason."""

    def __init__(self, max_bytes: int, *, declared: int | None = None) -> None:
        size = f"of {declared} bytes " if declared is not None else ""
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the request body {size}is larger than the {max_bytes} bytes this service takes",
            headers={"Connection": "close"},
        )


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, reading no more than the cap."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 for a body over the cap, else let the app answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _answer(send, BodyTooLarge(self.max_bytes, declared=declared))
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def noted(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, noted)
        except BodyTooLarge as refused:
            if started:
                raise
            await _answer(send, refused)


def _content_length(scope: Scope) -> int | None:
    """The declared body size (None: not declared; the server refuses a malformed one)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


async def _answer(send: Send, refused: BodyTooLarge) -> None:
    body = json.dumps({"detail": refused.detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": refused.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
