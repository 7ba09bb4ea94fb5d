"""Data sizes as people write them in plans ("30 KB", "10 MB", "1.5 GiB") and as bytes."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BeforeValidator, Field

__all__ = ["ByteCount", "format_bytes", "parse_bytes"]

_UNITS: Final = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_bytes(value: object) -> object:
    """Turn "10 MB" (decimal units) or "10 MiB" (binary units) into an int of bytes.

    Ints pass through; anything else is returned unchanged for pydantic to refuse.
    """
    if not isinstance(value, str):
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a data size; write e.g. 30 KB, 10 MB or 1 GiB")
    number, unit = match.groups()
    factor = _UNITS.get(unit.upper() or "B")
    if factor is None:
        units = ", ".join(_UNITS)
        raise ValueError(f"unknown unit {unit!r} in {value!r}; use one of {units}")
    return round(float(number) * factor)


def format_bytes(count: int) -> str:
    """Render a byte count with a decimal unit, as billing shows it."""
    for unit in ("TB", "GB", "MB", "KB"):
        factor = _UNITS[unit]
        if count >= factor:
            return f"{count / factor:.4g} {unit}"
    return f"{count} B"


ByteCount = Annotated[int, BeforeValidator(parse_bytes), Field(ge=0)]
"""A non-negative number of bytes, written as an int or as a size with a unit."""
