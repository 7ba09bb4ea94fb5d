"""Signing in and out of the console (`diagnostics.web.sessions`), and who may see its pages.

`console_access` lets a page through for a signed-in browser (its writes still need the
form's CSRF token, which each write checks) and otherwise asks what the API asks
(`diagnostics.api.auth.authorize`: reads free on loopback); a browser a public service
refuses is sent to `/signin` instead of an error it cannot act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from diagnostics.api.auth import READS, Credentials, authorize
from diagnostics.web.render import page
from diagnostics.web.sessions import COOKIE, SESSION_S, Sessions, session_of

if TYPE_CHECKING:
    from diagnostics.access import Access

__all__ = ["console_access", "signin_router"]

signin_router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def console_access(request: Request, credentials: Credentials) -> None:
    """A signed-in browser, or what the API lets through (see the module)."""
    if session_of(request) is not None:
        return
    if credentials is None and request.method in READS and _public(request):
        target = quote(request.url.path, safe="/")
        raise HTTPException(
            status.HTTP_303_SEE_OTHER, headers={"Location": f"/signin?next={target}"}
        )
    authorize(request, credentials)


def _public(request: Request) -> bool:
    access: Access | None = getattr(request.app.state, "access", None)
    return access is None or access.public


def _local(target: str) -> str:
    """`target` where it is a path of this service; the overview otherwise."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@signin_router.get("/signin")
def signin_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query's name
    """The sign-in form: the service's API token, once."""
    return page(request, "signin.html", target=_local(next), problem=None)


@signin_router.post("/signin", response_model=None)
def signin(
    request: Request,
    token: Annotated[str, Form(max_length=512)],
    next: Annotated[str, Form(max_length=2048)] = "/",  # noqa: A002 - the form's name
) -> HTMLResponse | RedirectResponse:
    """Check the token; a session cookie and the page asked for, or the form again."""
    access: Access | None = getattr(request.app.state, "access", None)
    if access is None or not access.accepts(token.strip()):
        problem = "That is not this service's API token."
        return page(request, "signin.html", 401, target=_local(next), problem=problem)
    sessions: Sessions = request.app.state.sessions
    key, _ = sessions.open()
    answer = RedirectResponse(_local(next), status.HTTP_303_SEE_OTHER)
    answer.set_cookie(
        COOKIE,
        key,
        max_age=int(SESSION_S),
        httponly=True,
        samesite="strict",
        secure=access.public,
        path="/",
    )
    return answer


@signin_router.post("/signout")
def signout(request: Request) -> RedirectResponse:
    """End the browser's session."""
    sessions: Sessions | None = getattr(request.app.state, "sessions", None)
    if sessions is not None:
        sessions.close(request.cookies.get(COOKIE))
    answer = RedirectResponse("/signin", status.HTTP_303_SEE_OTHER)
    answer.delete_cookie(COOKIE, path="/")
    return answer
