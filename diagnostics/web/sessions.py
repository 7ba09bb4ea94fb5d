"""Signing in to the console: the API token once, then a session cookie; a CSRF token per form.

Staff sign in with the service's API token (`/signin`); the service answers with a session
cookie (`COOKIE`: random, HttpOnly, SameSite=Strict, Secure when the service is public),
which stands for the token until it expires (`SESSION_S`) or they sign out. Every form
that changes something carries the session's CSRF token, and a write whose token does
not match is refused, so another site cannot post a form in a signed-in browser's name.
Sessions live in memory (a restart signs everyone out), at most `MAX_SESSIONS` at once,
the oldest dropped first.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from fastapi import Request

__all__ = ["COOKIE", "MAX_SESSIONS", "SESSION_S", "Session", "Sessions", "session_of"]

COOKIE: Final = "simlab_console"
SESSION_S: Final = 12 * 3600.0
"""A session lasts a working day."""
MAX_SESSIONS: Final = 10_000


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: its CSRF token and when it expires (monotonic seconds)."""

    csrf: str
    expires: float

    def allows(self, csrf: str | None) -> bool:
        """Whether a form's `csrf` is this session's (in constant time)."""
        return csrf is not None and secrets.compare_digest(csrf.encode(), self.csrf.encode())


class Sessions:
    """The signed-in browsers, by their cookie's value."""

    def __init__(self, *, lasts: float = SESSION_S, most: int = MAX_SESSIONS) -> None:
        self._lasts, self._most = lasts, most
        self._open: OrderedDict[str, Session] = OrderedDict()

    def open(self) -> tuple[str, Session]:
        """A new session: its cookie value and itself."""
        key = secrets.token_urlsafe(32)
        session = Session(secrets.token_urlsafe(32), time.monotonic() + self._lasts)
        self._open[key] = session
        while len(self._open) > self._most:
            self._open.popitem(last=False)
        return key, session

    def get(self, key: str | None) -> Session | None:
        """The session of a cookie's value, while it lasts (None: none, or expired)."""
        session = self._open.get(key or "")
        if session is None:
            return None
        if session.expires <= time.monotonic():
            del self._open[key or ""]
            return None
        return session

    def close(self, key: str | None) -> None:
        """Sign the browser of this cookie out."""
        self._open.pop(key or "", None)


def session_of(request: Request) -> Session | None:
    """The request's signed-in session, if its cookie names one."""
    sessions: Sessions | None = getattr(request.app.state, "sessions", None)
    if sessions is None:
        return None
    return sessions.get(request.cookies.get(COOKIE))
