"""Name the field of a YAML syntax problem, which the parser reports by line only.

A file that is not valid YAML has no node tree to follow, so the field is
read from the text itself: the keys and list items above the line, by their
indentation, as block-style YAML (the style of simlab's files) writes them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from simulator.yamlfile import format_loc

if TYPE_CHECKING:
    from pathlib import Path

    from simulator.errors import Problem

__all__ = ["field_at", "with_field"]


def with_field(problem: Problem, path: Path) -> Problem:
    """A YAML syntax problem names only a line; name the field written there as well."""
    if problem.field or problem.line is None or problem.file != str(path):
        return problem
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return problem
    return replace(problem, field=field_at(text, problem.line))


_KEY = re.compile(r"""^(?:"([^"]+)"|'([^']+)'|([^\s#'"{\[][^:#]*?))\s*:(?:\s+(.*))?$""")


def field_at(text: str, line: int) -> str:
    """The path of the field written on `line` of block-style YAML, from indentation alone."""
    path: list[tuple[int, str | int]] = []  # (column, key or list index)
    block: int | None = None  # the column of a `key: |` whose text lines are skipped
    for raw in text.splitlines()[:line]:
        body = raw.lstrip(" ")
        column = len(raw) - len(body)
        if block is not None and (not body.strip() or column > block):
            continue
        block = None
        if not body.strip() or body.startswith("#"):
            continue
        while body.startswith("- "):
            while path and path[-1][0] > column:
                path.pop()
            if path and path[-1][0] == column and isinstance(path[-1][1], int):
                path[-1] = (column, path[-1][1] + 1)
            else:
                path.append((column, 0))
            rest = body[2:].lstrip(" ")
            column += len(body) - len(rest)
            body = rest
        match = _KEY.match(body.rstrip())
        if match is None:
            continue
        while path and path[-1][0] >= column:
            path.pop()
        key = next(group for group in match.groups()[:3] if group is not None)
        path.append((column, key.strip()))
        if (match.group(4) or "").startswith(("|", ">")):
            block = column
    return format_loc([part for _, part in path])
