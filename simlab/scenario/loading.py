"""Reading a scenario file: sizing it, finding its world and customer files, checking it whole.

A file is checked as a whole before anything runs, like customer and world
files: structure and types (`simlab.scenario.model`), then the world's own
parts, then the scenario's references (`simlab.scenario.checks`). Every problem
is reported as `file:line: field: message` through `SpecError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simlab.resources import bundled, referenced, resolve
from simlab.scenario.checks import scenario_problems
from simlab.scenario.model import ScenarioSpec
from simlab.scenario.yaml_fields import with_field
from simulator.errors import Problem, SpecError
from simulator.platform.onboarding import load_customer
from simulator.world.loading import load_world
from simulator.yamlfile import load_model

if TYPE_CHECKING:
    from pathlib import Path

    from simulator.world.spec import WorldSpec

__all__ = ["device_count", "load_scenario", "scenario_files", "until_of", "world_of"]


def load_scenario(path: str | Path, size: int | None = None) -> ScenarioSpec:
    """Validate a scenario file (a path, or a bundled scenario's name) as a whole.

    `size` scales the device group named by the file's `run.size` (its `default` otherwise).

    Raises:
        SpecError: listing every problem found, each as file, line, field and message.
    """
    path = resolve(str(path), folder="")
    if size is not None and size < 1:
        raise SpecError([Problem(str(path), None, "run.size", f"--size {size}: give 1 or more")])
    count_written: list[tuple[int, int]] = []
    inline: list[bool] = []

    def prepare(data: dict[str, object]) -> dict[str, object]:
        sizing = _sizing(data, size)
        world = data.get("world")
        inline.append(isinstance(world, dict))
        if isinstance(world, str):
            found = _reference(path, world, field="world", folder="worlds")
            return {**data, "world": _sized(load_world(found), sizing)}
        if isinstance(world, dict):
            return {**data, "world": _inline_world(world, path, sizing, count_written)}
        return data

    def checks(spec: ScenarioSpec) -> list[tuple[tuple[str | int, ...], str]]:
        found = scenario_problems(spec, inline=all(inline))
        if size is not None and spec.run.size is None:
            found.append((("run",), f"--size {size}: this scenario declares no run.size to scale"))
        if spec.run.size is not None:
            default = spec.run.size.default
            found += [
                (
                    ("world", "devices", i, "count"),
                    f"run.size sets this group's count (default {default:,}); leave count out",
                )
                for i, written in count_written
                if written != default
            ]
        return found

    try:
        return load_model(path, ScenarioSpec, checks=checks, prepare=prepare)
    except SpecError as exc:
        raise SpecError([with_field(problem, path) for problem in exc.problems]) from None


def _sizing(data: dict[str, object], size: int | None) -> tuple[str, int] | None:
    """(group, count) that run.size asks for, read from the raw data; None if it is unusable."""
    run = data.get("run")
    declared = run.get("size") if isinstance(run, dict) else None
    if not isinstance(declared, dict) or not isinstance(declared.get("group"), str):
        return None
    count = size if size is not None else declared.get("default")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return None  # validation says what is wrong with the default
    return declared["group"], count


def _reference(scenario: Path, name: str, *, field: str, folder: str) -> Path:
    """The world or customer file `name` the scenario names at `field` (see `referenced`).

    Raises:
        SpecError: there is none; the problem names the scenario's line and where it looked.
    """
    found, looked = referenced(scenario, name, folder=folder)
    if found is not None:
        return found
    key = field.rpartition(".")[2]
    beside, *elsewhere = looked
    among = f" or among the bundled files ({', '.join(map(str, elsewhere))})" if elsewhere else ""
    message = f"no {key} file {name!r} beside this scenario ({beside}){among}"
    raise SpecError([Problem(str(scenario), _line_of(scenario, key, name), field, message)])


def _line_of(path: Path, key: str, value: str) -> int | None:
    """The line where `key: value` is written in the file, if it can be found."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for n, line in enumerate(lines, 1):
        written = line.strip().removeprefix("- ")
        if written.startswith(f"{key}:") and value in written:
            return n
    return None


def _sized(world: WorldSpec, sizing: tuple[str, int] | None) -> WorldSpec:
    if sizing is None:
        return world
    group, count = sizing
    devices = [
        g.model_copy(update={"count": count}) if g.name == group else g for g in world.devices
    ]
    return world.model_copy(update={"devices": devices})


def _inline_world(
    world: dict[Any, Any],
    path: Path,
    sizing: tuple[str, int] | None,
    count_written: list[tuple[int, int]],
) -> dict[Any, Any]:
    world = dict(world)
    customer = world.get("customer")
    if isinstance(customer, str):
        found = _reference(path, customer, field="world.customer", folder="customers")
        world["customer"] = load_customer(found)
    devices = world.get("devices")
    if sizing is not None and isinstance(devices, list):
        group, count = sizing
        named = [e.get("name") for e in devices if isinstance(e, dict)]
        sized = []
        for i, entry in enumerate(devices):
            if not isinstance(entry, dict):
                pass
            elif entry.get("name") == group:
                if isinstance(entry.get("count"), int):
                    count_written.append((i, entry["count"]))
                entry = {**entry, "count": count}  # noqa: PLW2901 - the sized copy replaces it
            elif group not in named and "count" not in entry:
                # run.size names no group here: say that, rather than "count is missing"
                entry = {**entry, "count": count}  # noqa: PLW2901 - likewise
            sized.append(entry)
        world["devices"] = sized
    return world


def world_of(spec: ScenarioSpec, size: int | None = None) -> WorldSpec:
    """The scenario's world, ready for `simulate`; `size` rescales the group run.size names.

    Raises:
        ValueError: a size for a scenario that declares no run.size, or a size below 1.
    """
    if size is None:
        return spec.world
    if spec.run.size is None:
        raise ValueError(f"scenario {spec.title!r} declares no run.size to scale")
    if size < 1:
        raise ValueError(f"size {size}: give 1 or more")
    return _sized(spec.world, (spec.run.size.group, size))


def until_of(spec: ScenarioSpec) -> float:
    """How long to run the world, in simulated seconds: `simulate(world, sink, until=...)`."""
    return spec.run.duration


def scenario_files() -> list[Path]:
    """The bundled scenarios (`scenarios/*.yaml`), by name."""
    return sorted(bundled().glob("*.yaml"))


def device_count(spec: ScenarioSpec) -> int:
    """Devices the scenario's world simulates (at its own size)."""
    return sum(group.count for group in spec.world.devices)
