"""Load a YAML definition file into a pydantic model, naming file, line and field on every error.

Users write customer and scenario files by hand; when one is wrong they need
all its problems at once, each pointing at the line to fix. The YAML node tree
keeps line numbers, pydantic keeps field paths; this module joins the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from simulator.errors import Problem, SpecError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pydantic_core import ErrorDetails

__all__ = ["format_loc", "load_model", "parse_model"]

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]


def load_model(
    path: str | Path,
    model: type[M],
    *,
    checks: Callable[[M], Sequence[tuple[Loc, str]]] | None = None,
    prepare: Callable[[dict[str, object]], dict[str, object]] | None = None,
) -> M:
    """Read `path` and validate it as `model`, then run `checks` on the result.

    Raises:
        SpecError: listing every problem found, each with file, line and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(
            [Problem(str(path), None, "", f"cannot read the file: {exc.strerror}")]
        ) from exc
    return parse_model(text, model, filename=str(path), checks=checks, prepare=prepare)


def parse_model(
    text: str,
    model: type[M],
    *,
    filename: str = "<string>",
    checks: Callable[[M], Sequence[tuple[Loc, str]]] | None = None,
    prepare: Callable[[dict[str, object]], dict[str, object]] | None = None,
) -> M:
    """Validate YAML `text` as `model`; see `load_model`.

    `prepare` may replace parts of the data before validation (a file named by another).
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_problem(filename, exc)]) from exc
    repeated = _repeated_keys(filename, root, ())
    if repeated:
        raise SpecError(repeated)
    if not isinstance(data, dict):
        raise SpecError([Problem(filename, 1, "", "expected a mapping of fields at the top level")])
    if prepare is not None:
        data = prepare(data)
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_problem(filename, root, err) for err in exc.errors()]) from exc
    if checks is not None:
        found = [_locate(filename, root, loc, message) for loc, message in checks(result)]
        if found:
            raise SpecError(found)
    return result


def format_loc(loc: Sequence[str | int]) -> str:
    """('sim_ranges', 3, 'count') → 'sim_ranges[3].count'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _yaml_problem(filename: str, exc: yaml.YAMLError) -> Problem:
    """Where the YAML parser gave up; an unclosed bracket is reported where it was opened."""
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    if context is not None and problem is not None and context.line != problem.line:
        reason = f"{getattr(exc, 'context', '')}, {reason} on line {problem.line + 1}"
    mark = context or problem
    return Problem(
        filename, None if mark is None else mark.line + 1, "", f"not valid YAML: {reason}"
    )


def _repeated_keys(filename: str, node: yaml.Node | None, path: Loc) -> list[Problem]:
    """A key given twice in one mapping: YAML keeps the last silently, so say so."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            line = key.start_mark.line + 1
            if name in seen:
                where = format_loc((*path, name))
                message = f"given twice (lines {seen[name]} and {line}); keep one"
                problems.append(Problem(filename, line, where, message))
            seen[name] = line
            problems += _repeated_keys(filename, value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _repeated_keys(filename, item, (*path, i))
    return problems


def _problem(filename: str, root: yaml.Node | None, err: ErrorDetails) -> Problem:
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    kind = err["type"]
    if kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "required field is missing"
    elif kind not in {"value_error", "assertion_error"} and not isinstance(
        err.get("input"), dict | list
    ):
        message = f"{message} (got {err.get('input')!r})"
    return _locate(filename, root, tuple(err["loc"]), message)


def _locate(filename: str, root: yaml.Node | None, loc: Loc, message: str) -> Problem:
    """Follow `loc` down the YAML node tree; skip parts that are not in the data (union tags)."""
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    path: list[str | int] = []
    for i, part in enumerate(loc):
        child = _child(node, part)
        if child is None:
            if i == len(loc) - 1:
                path.append(part)
            continue
        key_node, node = child
        line = (key_node or node).start_mark.line + 1
        path.append(part)
    return Problem(filename, line, format_loc(path), message)


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in reversed(node.value):  # the last of repeated keys is the one used
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return None, node.value[part]
    return None
