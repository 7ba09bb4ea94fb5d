"""Broker addresses as users write them: mqtt://[user:password@]host[:port], mqtts:// for TLS.

The password is shown nowhere: not by `str`, nor `repr`, nor the errors of `parse`
(which name the URL with `***` in its place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

__all__ = ["BrokerUrl"]


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """Where a broker listens and how to log in."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """Read a broker URL; a bad one raises ValueError saying what is wrong with it."""
        shown = _hidden(url)
        if "://" not in url:
            raise ValueError(
                f"broker URL {shown!r}: no scheme; write mqtt://{shown} (mqtts:// for TLS)"
            )
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"}:
            raise ValueError(
                f"broker URL {shown!r}: scheme must be mqtt:// or mqtts://, not {parts.scheme!r}"
            )
        if not parts.hostname:
            raise ValueError(f"broker URL {shown!r}: no host")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise ValueError(
                f"broker URL {shown!r}: only scheme, credentials, host and port are allowed"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError(
                f"broker URL {shown!r}: the port must be a number from 1 to 65535"
            ) from None
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        who = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{who}{self.host}:{self.port}"


_PASSWORD = re.compile(r"^((?:[^:/?#]*://)?[^:@/?#]*):[^/?#]*@")
"""The password of a URL: from the user name's colon to the netloc's last @ (as urlsplit)."""


def _hidden(url: str) -> str:
    """`url` with its password, if any, as `***`."""
    return _PASSWORD.sub(r"\1:***@", url)
