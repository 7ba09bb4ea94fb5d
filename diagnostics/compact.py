"""Tables of keys to sets of strings, compact when most keys have one value.

A million devices each with one IMEI, one SIM and one name of its own would cost a set
each (216 bytes empty) in a plain `dict[str, set[str]]`. A `Many` table holds a key's
single value as itself and makes a set only when a second one comes; `values` reads
either as a collection. Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = ["Many", "add", "discard", "values"]

Many: TypeAlias = dict[str, str | set[str]]
"""A key's values: one held alone, a set once there are two."""


def add(table: Many, key: str, value: str) -> None:
    """Add `value` to what the table holds for `key`."""
    found = table.get(key)
    if found is None:
        table[key] = value
    elif isinstance(found, str):
        if found != value:
            table[key] = {found, value}
    else:
        found.add(value)


def discard(table: Many, key: str, value: str) -> None:
    """Take `value` from what the table holds for `key` (a key left with none stays, empty)."""
    found = table.get(key)
    if found is None:
        return
    if isinstance(found, str):
        if found == value:
            table[key] = set()
    else:
        found.discard(value)


def values(table: Many, key: str) -> Collection[str]:
    """What the table holds for `key` (empty: nothing)."""
    found = table.get(key)
    if found is None:
        return ()
    return (found,) if isinstance(found, str) else found
