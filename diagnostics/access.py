"""Who may use the API: one bearer token, and whether reads need it too.

Writes (a swap test, a silence, ending one) always need the token. Reads need it
only when the service answers beyond loopback (`Access.public`): `simlab serve`
bound to an address outside 127.0.0.0/8 and ::1, or a deployment that says
`SIMLAB_PUBLIC=true` (a reverse proxy in front of a loopback port).

The token is, in this order of preference (`resolve_access`):

1. `Settings.api_token` (SIMLAB_API_TOKEN);
2. the stripped content of `Settings.api_token_file` (SIMLAB_API_TOKEN_FILE); a
   missing, unreadable or empty file is a `TokenError` naming the file;
3. for a loopback service only: the one kept next to the database, `<database>.token`
   (`token_path`), made with `secrets.token_urlsafe` and mode 0600 when it is not
   there, and read again on a restart (so a client that read it keeps working, and
   two services on one database share it). A public service without a configured
   token is a `TokenError` naming the settings: a token on disk that anyone on the
   network may try is no protection worth having by default.

The token itself is never logged, printed or put in an error: `Access.source` says
where it came from, and that is what a caller shows.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from diagnostics.errors import DiagnosticsError

if TYPE_CHECKING:
    from pathlib import Path

    from diagnostics.settings import Settings

__all__ = [
    "TOKEN_FILE_MODE",
    "TOKEN_SUFFIX",
    "Access",
    "TokenError",
    "is_loopback",
    "new_token",
    "resolve_access",
    "token_path",
]

TOKEN_SUFFIX: Final = ".token"  # noqa: S105 - a file name's suffix, not a password
"""The generated token's file is the database's path with this appended."""
TOKEN_FILE_MODE: Final = 0o600
"""Only the service's own user may read the generated token."""
_TOKEN_BYTES: Final = 32


class TokenError(DiagnosticsError):
    """No API token can be had: its file is missing or empty, or a public service has none."""


@dataclass(frozen=True, slots=True)
class Access:
    """The API's token, whether reads need it too, and where the token came from."""

    token: str = field(repr=False)
    public: bool = False
    """Reads need the token too (the service answers beyond loopback)."""
    source: str = "given"
    """Where the token is, for people: never the token itself."""

    def __post_init__(self) -> None:
        if not self.token:
            raise TokenError("the API token is empty")

    def accepts(self, token: str) -> bool:
        """Whether `token` is the API token (in constant time, whatever the characters)."""
        return secrets.compare_digest(token.encode(), self.token.encode())


def new_token() -> str:
    """A fresh random token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def is_loopback(host: str) -> bool:
    """Whether binding to `host` answers only this machine (127.0.0.0/8, ::1, localhost).

    Any other name, and the wildcard addresses, count as public.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_path(database: Path) -> Path:
    """Where a loopback service keeps its generated token: next to its database."""
    return database.with_name(database.name + TOKEN_SUFFIX)


def resolve_access(settings: Settings) -> Access:
    """The API's access for `settings` (see the module for the order).

    Raises:
        TokenError: the token file is missing, unreadable or empty; or the service is
            public and no token is configured; or the generated token cannot be written.
    """
    public = settings.public
    if settings.api_token is not None:
        token = settings.api_token.get_secret_value().strip()
        if not token:
            raise TokenError("SIMLAB_API_TOKEN (api_token) is empty; give a token or leave it out")
        return Access(token, public, "SIMLAB_API_TOKEN")
    if settings.api_token_file is not None:
        return Access(_read(settings.api_token_file), public, str(settings.api_token_file))
    if public:
        raise TokenError(
            "a service that answers beyond loopback needs an API token: set SIMLAB_API_TOKEN "
            "or SIMLAB_API_TOKEN_FILE (api_token, api_token_file), or bind to 127.0.0.1"
        )
    path = token_path(settings.database)
    return Access(_kept(path), public, str(path))


def _read(path: Path) -> str:
    """The stripped content of a token file the deployment gave."""
    where = f"SIMLAB_API_TOKEN_FILE {path}"
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise TokenError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenError(f"{where}: cannot be read ({exc})") from None
    if not token:
        raise TokenError(f"{where}: the file is empty; put the token in it")
    return token


def _kept(path: Path) -> str:
    """The token kept at `path`, made (mode 0600, never replaced) when it is not there."""
    token = new_token()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, TOKEN_FILE_MODE)
    except FileExistsError:
        return _read_kept(path)
    except OSError as exc:
        raise TokenError(f"{path}: the service's token cannot be written ({exc})") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    return token


def _read_kept(path: Path) -> str:
    """The token a loopback service made before (or another service on the database)."""
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenError(f"{path}: the service's token cannot be read ({exc})") from None
    if not kept:
        raise TokenError(f"{path}: the service's token file is empty; delete it for a new one")
    return kept
