"""Scenario files: a customer's story, the world behind it, support's actions, the answer key.

A scenario is what support reproduces, QA loads and trainers stage: the story a
trainee reads (the customer's own words, no spoilers), the simulated world that
produces it (written inline, or a world file beside it), how long and how fast
to run it, what support does at given moments (register a SIM swap test, mute
an incident), and the answer key: for every affected device the cause and when
it began, for every incident the group it strikes, and for swap scenarios the
verdict. Devices the answer key does not list are healthy.

A file is checked as a whole before anything runs, like customer and world
files: structure and types, then the world's own parts, then the scenario's
references (`simlab.scenario_checks`). Every problem is reported as
`file:line: field: message` through `SpecError`.
"""

from __future__ import annotations

import difflib
import enum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema

from protocol.causes import Cause
from protocol.sim_state import SimState
from simlab.resources import bundled, resolve
from simlab.yaml_fields import with_field
from simulator.errors import Problem, SpecError
from simulator.platform.onboarding import load_customer
from simulator.platform.units import parse_bytes
from simulator.world.loading import load_world
from simulator.world.spec import Duration, WorldSpec, parse_duration
from simulator.yamlfile import load_model

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import core_schema

__all__ = [
    "ACTION_KINDS",
    "Action",
    "AnswerKey",
    "DeviceAnswer",
    "Dimension",
    "IncidentAnswer",
    "RunSpec",
    "ScenarioSpec",
    "Silence",
    "SilenceAction",
    "SizeSpec",
    "SwapTest",
    "SwapTestAction",
    "SwapVerdict",
    "User",
    "load_scenario",
    "scenario_files",
    "scenario_schema",
    "until_of",
    "world_of",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


Period = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
"""A length of time that cannot be zero: 12h, 90m, 2d."""


def _one_line(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        if "\n" in value:
            raise ValueError("the summary is one line; the story is where the detail goes")
    return value


def _as_text(value: object) -> object:
    """YAML reads `value: 4101` as a number; a cell id is still a name here."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _known_cause(value: object) -> object:
    causes = [c.value for c in Cause]
    if isinstance(value, str) and value not in causes:
        near = difflib.get_close_matches(value, causes, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"unknown cause {value!r}{hint}; `simlab faults` lists the causes")
    return value


OneLine = Annotated[str, BeforeValidator(_one_line), Field(min_length=1)]
Value = Annotated[str, BeforeValidator(_as_text), Field(min_length=1)]
CauseId = Annotated[Cause, BeforeValidator(_known_cause)]


class User(enum.StrEnum):
    """Who a scenario is written for."""

    SUPPORT = "support"
    QA = "qa"
    TRAINER = "trainer"


class Dimension(enum.StrEnum):
    """What the devices of one incident have in common."""

    CELL = "cell"
    OPERATOR = "operator"
    APN = "apn"
    ACCOUNT = "account"
    FIRMWARE = "firmware"


class SwapVerdict(enum.StrEnum):
    """What a SIM swap test shows (diagnosis.md, "SIM swap test")."""

    FOLLOWS_SIM = "follows_sim"
    STAYS_WITH_DEVICE = "stays_with_device"
    BOTH_WORK = "both_work"
    INCONCLUSIVE = "inconclusive"
    IMPOSSIBLE = "impossible"


# ---- run ------------------------------------------------------------------------------------


class SizeSpec(_Model):
    """The device group that `--size N` scales, and its count when no size is given."""

    group: str = Field(min_length=1)
    """A device group of the world; an inline world may leave its count out."""
    default: int = Field(ge=1, le=10_000_000)


class RunSpec(_Model):
    """How long and how fast the scenario runs, and what `--size` scales."""

    duration: Period
    """Simulated time from the world's start, e.g. 12h or 2d."""
    speed: Annotated[float, Field(gt=0)] | Literal["max"] = "max"
    """Simulated seconds per wall second (1, 60, 3600), or max: as fast as the broker takes it."""
    size: SizeSpec | None = None

    @property
    def pace(self) -> float | None:
        """The speed as a number; None for max."""
        return None if self.speed == "max" else float(self.speed)


# ---- actions --------------------------------------------------------------------------------


class SwapTest(_Model):
    """A cross-swap: the SIM of `sim_of` goes into `into`, and the SIM of `into` the other way.

    When the swap cannot be done (the SIM is out of reach), `impossible` says why and `into`
    is left out: the service then says what can be concluded without it.
    """

    sim_of: str = Field(min_length=1)
    into: str | None = Field(default=None, min_length=1)
    impossible: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.into is None) == (self.impossible is None):
            raise ValueError("give either into (the device to swap with) or impossible (why not)")
        return self


class SwapTestAction(_Model):
    """Support registers a SIM swap test with the service; the swap itself is in world.swaps."""

    at: Duration
    swap_test: SwapTest
    note: str | None = None


class Silence(_Model):
    """Mute the alerts of an incident of one group for a while (its detection goes on)."""

    dimension: Dimension
    value: Value
    duration: Period


class SilenceAction(_Model):
    """Support mutes an incident's alerts, as during planned maintenance."""

    at: Duration
    silence: Silence
    note: str | None = None


_TAGS = {"swap_test": "SwapTestAction", "silence": "SilenceAction"}
ACTION_KINDS = tuple(_TAGS)
"""The keys that say what an action does; each action has exactly one."""


def _action_kind(value: object) -> str | None:
    if isinstance(value, dict):
        kinds = [kind for kind in ACTION_KINDS if kind in value]
        return _TAGS[kinds[0]] if len(kinds) == 1 else None
    return type(value).__name__ if isinstance(value, SwapTestAction | SilenceAction) else None


Action = Annotated[
    Annotated[SwapTestAction, Tag("SwapTestAction")]
    | Annotated[SilenceAction, Tag("SilenceAction")],
    Discriminator(
        _action_kind,
        custom_error_type="action_kind",
        custom_error_message=f"an action needs `at` and exactly one of {', '.join(ACTION_KINDS)}",
    ),
]
"""One support action at a simulated moment; more kinds can join the union."""


# ---- answer key -----------------------------------------------------------------------------


class DeviceAnswer(_Model):
    """A device that stops working: the cause a diagnosis should name, and when it began."""

    device: str = Field(min_length=1)
    cause: CauseId
    start: Duration
    """From the world's start: when the fault is injected or the SIM carrying it arrives, or the
    earliest moment a fault that arises by itself (a battery, a walk out of coverage) can begin."""
    note: str | None = None


class IncidentAnswer(_Model):
    """Many devices quiet together for one reason: the group that explains them, and since when."""

    dimension: Dimension
    value: Value
    """The cell id, the operator's MCC-MNC, the APN, the account id or the firmware version."""
    start: Duration
    note: str | None = None


class AnswerKey(_Model):
    """The truth a trainee, or the diagnostics service, is scored against."""

    devices: list[DeviceAnswer] = Field(default_factory=list)
    """Every affected device; devices not listed are healthy."""
    incidents: list[IncidentAnswer] = Field(default_factory=list)
    swap_verdict: SwapVerdict | None = None
    """What the scenario's SIM swap test shows, or `impossible` when none can be made."""


# ---- the scenario ---------------------------------------------------------------------------


def _no_path(value: object) -> object:
    if isinstance(value, str):  # a path that was found has been replaced by its world already
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError, not TypeError, with its line
            f"no world file {value!r} beside this scenario or among the bundled worlds; give the "
            "world itself, or a path relative to this file such as worlds/savanna-collars.yaml"
        )
    return value


class ScenarioSpec(_Model):
    """A whole scenario: story, world, run settings, support actions and answer key."""

    title: str = Field(min_length=1)
    summary: OneLine
    """One line, for lists."""
    story: str = Field(min_length=1)
    """What the trainee reads: the customer's own words, nothing the customer could not know."""
    users: list[User] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    world: Annotated[WorldSpec, BeforeValidator(_no_path)]
    """The world, or the path of a world file relative to this file (e.g. worlds/x.yaml)."""
    run: RunSpec
    actions: list[Action] = Field(default_factory=list)
    answer_key: AnswerKey


# ---- loading --------------------------------------------------------------------------------


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
            found = _world_file(path, world)
            if found is not None:
                return {**data, "world": _sized(load_world(found), sizing)}
        elif isinstance(world, dict):
            return {**data, "world": _inline_world(world, path, sizing, count_written)}
        return data

    from simlab.scenario_checks import scenario_problems  # noqa: PLC0415 - it needs this module

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


def _world_file(scenario: Path, name: str) -> Path | None:
    beside = scenario.parent / name
    if beside.is_file():
        return beside
    bundled_world = resolve(name, folder="worlds")
    return bundled_world if bundled_world.is_file() else None


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
        world["customer"] = load_customer(path.parent / customer)
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


# ---- JSON Schema ----------------------------------------------------------------------------

_DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhd]?\s*$"},
    ],
    "description": "seconds, or with a unit: 90s, 15m, 36h, 2d",
}
_BYTES_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[A-Za-z]*\s*$"},
    ],
    "description": "bytes, or with a unit: 30 KB, 5 MB, 1 GiB",
}


class _FileSchema(GenerateJsonSchema):
    """The schema of the file as people write it: durations, data sizes and states as text."""

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        function = schema["function"]["function"]
        if function is parse_duration:
            return dict(_DURATION_SCHEMA)
        if function is parse_bytes:
            return dict(_BYTES_SCHEMA)
        if function is _as_text:
            return {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}]}
        return super().function_before_schema(schema)

    def encode_default(self, dft: Any) -> Any:  # noqa: ANN401 - any default a field may have
        if isinstance(dft, SimState):
            return dft.name
        return super().encode_default(dft)

    def literal_schema(self, schema: core_schema.LiteralSchema) -> JsonSchemaValue:
        expected = schema["expected"]
        if expected and all(isinstance(v, SimState) for v in expected):
            return {"type": "string", "enum": [v.name for v in expected]}
        return super().literal_schema(schema)

    def enum_schema(self, schema: core_schema.EnumSchema) -> JsonSchemaValue:
        if schema["cls"] is SimState:
            return {"type": "string", "enum": [s.name for s in SimState], "title": "SimState"}
        return super().enum_schema(schema)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (draft 2020-12), for editors."""
    schema = ScenarioSpec.model_json_schema(schema_generator=_FileSchema)
    defs = schema["$defs"]
    path = {"type": "string", "description": "a file path, relative to this file"}
    schema["properties"]["world"] = {
        "anyOf": [{"$ref": "#/$defs/WorldSpec"}, path],
        "description": ScenarioSpec.model_fields["world"].description,
    }
    customer = defs["WorldSpec"]["properties"]["customer"]
    defs["WorldSpec"]["properties"]["customer"] = {"anyOf": [customer, path]}
    group = defs["DeviceGroupSpec"]
    group["required"] = [f for f in group["required"] if f != "count"]
    group["properties"]["count"]["description"] = "required, except for the group run.size names"
    _drop_constraints(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "simlab scenario",
    }


def _drop_constraints(node: object) -> None:
    """Remove pydantic's own constraint names (gt, ge) left beside a replaced duration schema."""
    if isinstance(node, dict):
        if "anyOf" in node:
            for name in ("gt", "ge", "lt", "le"):
                node.pop(name, None)
        for value in node.values():
            _drop_constraints(value)
    elif isinstance(node, list):
        for value in node:
            _drop_constraints(value)
