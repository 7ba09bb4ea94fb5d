"""How the service's own exceptions become HTTP responses, in one place for every router.

A router lets `UnknownError` (never seen: 404), `SilenceError` (a bad scope
or expiry: 422) and `StoreUnavailableError` (the store cannot write now, a
silence or a swap test is not kept: 503) pass; the app answers them with the error's message as the
`detail`, as `HTTPException` would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import status
from fastapi.responses import JSONResponse

from diagnostics.errors import SilenceError, StoreUnavailableError
from diagnostics.support import UnknownError

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from fastapi import Request, Response

__all__ = ["NEVER_SEEN", "UNREADABLE_BODY", "exception_handlers"]

NEVER_SEEN: dict[int | str, dict[str, Any]] = {404: {"description": "Never seen"}}
"""The 404 a route answers for a device, SIM or swap test never seen, for the OpenAPI schema."""
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be read as JSON text (e.g. it is not UTF-8)"}
}
"""The 400 FastAPI answers for a body it cannot parse at all, for the OpenAPI schema."""


def _answer(code: int) -> Callable[[Request, Exception], Coroutine[Any, Any, Response]]:
    async def handler(_request: Request, error: Exception) -> Response:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return handler


exception_handlers: dict[int | type[Exception], Callable[..., Coroutine[Any, Any, Response]]] = {
    UnknownError: _answer(status.HTTP_404_NOT_FOUND),
    SilenceError: _answer(status.HTTP_422_UNPROCESSABLE_CONTENT),
    StoreUnavailableError: _answer(status.HTTP_503_SERVICE_UNAVAILABLE),
}
"""For `FastAPI(exception_handlers=...)`."""
