"""The API's bearer token, checked for every route by one dependency (`authorize`).

A write (any method but GET, HEAD and OPTIONS: a swap test, a silence, ending
one) needs `Authorization: Bearer <token>`. A read needs it only when the
service is public (`diagnostics.access.Access.public`: bound beyond loopback);
that holds for /health and /metrics too, so a load balancer or Prometheus on
this machine reads a loopback service freely, and one elsewhere sends the token.

A missing or wrong token is 401 with the reason as `detail` and the challenge
`WWW-Authenticate: Bearer` (RFC 6750; `error="invalid_token"` for a wrong one).
An app whose `app.state.access` was never set refuses everything: no token, no way in.
The token is compared in constant time and never appears in an answer or a log.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from diagnostics.access import Access  # noqa: TC001 - read at run time from app.state

__all__ = ["READS", "Credentials", "authorize"]

READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""The methods that change nothing: they need the token only from a public service."""

_BEARER: Final = HTTPBearer(
    auto_error=False,
    description="The API token: always for writes, for reads too when the service is public",
)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)]
"""The request's bearer token, if it sent one."""


def authorize(request: Request, credentials: Credentials) -> None:
    """Let the request through, or refuse it with 401 and the reason (see the module)."""
    access: Access | None = getattr(request.app.state, "access", None)
    if access is not None and not access.public and request.method in READS:
        return
    if access is None:
        raise _refused("this service has no API token configured, so it takes no requests")
    if credentials is None:
        raise _refused(
            f"{request.method} {request.url.path} needs the API token: "
            "send the header Authorization: Bearer <token>"
        )
    if not access.accepts(credentials.credentials):
        raise _refused(
            f"{request.method} {request.url.path}: the bearer token sent is not this "
            "service's API token",
            error="invalid_token",
        )


def _refused(reason: str, error: str | None = None) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": challenge}
    )
