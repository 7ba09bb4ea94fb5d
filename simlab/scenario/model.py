"""The scenario file format: a customer's story, the world behind it, support's actions, the key.

A scenario is what support reproduces, QA loads and trainers stage: the story a
trainee reads (the customer's own words, no spoilers), the simulated world that
produces it (written inline, or a world file beside it), how long and how fast
to run it, what support does at given moments (register a SIM swap test, mute
an incident), and the answer key: for every affected device the cause and when
it began, for every incident the group it strikes, for swap scenarios what
the swap test shows, and the fleet messages staff should get. Devices the
answer key does not list are healthy.

These models check each field on its own; the checks across the whole scenario
are in `simlab.scenario.checks`, and reading a file in `simlab.scenario.loading`.
"""

from __future__ import annotations

import difflib
import enum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from protocol.causes import Cause
from protocol.sim_state import SimState
from simulator.world.spec import Duration, WorldSpec, parse_duration

__all__ = [
    "ACTION_KINDS",
    "Action",
    "AnswerKey",
    "DeviceAnswer",
    "Dimension",
    "FleetMessageAnswer",
    "IncidentAnswer",
    "RunSpec",
    "ScenarioSpec",
    "Silence",
    "SilenceAction",
    "SizeSpec",
    "SwapOutcome",
    "SwapTest",
    "SwapTestAction",
    "User",
    "as_text",
    "state_by_name",
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


def as_text(value: object) -> object:
    """YAML reads `value: 4101` as a number; a cell id is still a name here."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _known_cause(value: object) -> object:
    causes = [c.value for c in Cause]
    if isinstance(value, str) and value not in causes:
        near = difflib.get_close_matches(value, causes, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"unknown cause {value!r}{hint}; `simlab faults` lists the causes")
    return value


def state_by_name(value: object) -> object:
    """A SIM state as the file writes it: by its name (DEACTIVATED, PURGED)."""
    return SimState.parse(value) if isinstance(value, str) else value


OneLine = Annotated[str, BeforeValidator(_one_line), Field(min_length=1)]
Value = Annotated[str, BeforeValidator(as_text), Field(min_length=1)]
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
    TUNNEL = "tunnel"
    POOL = "pool"
    ACCOUNT = "account"
    FIRMWARE = "firmware"


class SwapOutcome(enum.StrEnum):
    """What a SIM swap test shows: where the fault lives, or why the test says nothing."""

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
    sim_state: Annotated[SimState, BeforeValidator(state_by_name)] | None = None
    """The state the service should show for the device's SIM when support looks, if it matters
    (DEACTIVATED, PURGED, INVENTORY)."""
    note: str | None = None


class IncidentAnswer(_Model):
    """Many devices quiet together for one reason: the group that explains them, and since when."""

    dimension: Dimension
    value: Value
    """The cell id, the operator's MCC-MNC, the APN, the tunnel, the shared data pool
    (`account/rate plan`), the account id or the firmware version."""
    start: Duration
    kind: Literal["outage", "platform"] | None = None
    """What it must be: an `outage` (more quiet than chance allows) or a `platform` group (a
    platform-side cause the devices share, such as SIMs deactivated); None: either."""
    note: str | None = None


class FleetMessageAnswer(_Model):
    """One message for many: the devices of one account that share a cause, told at once."""

    account: Value
    """The account the devices' SIMs belong to."""
    cause: CauseId
    count: int = Field(ge=2)
    """How many devices the message names: each one of the answer key's with this cause."""
    note: str | None = None


class AnswerKey(_Model):
    """The truth a trainee, or the diagnostics service, is scored against."""

    devices: list[DeviceAnswer] = Field(default_factory=list)
    """Every affected device; devices not listed are healthy."""
    incidents: list[IncidentAnswer] = Field(default_factory=list)
    swap_verdict: SwapOutcome | None = None
    """What the scenario's SIM swap test shows, or `impossible` when none can be made."""
    fleet_messages: list[FleetMessageAnswer] = Field(default_factory=list)
    """The fleet messages staff should get beside the per-device ones (one per account and
    cause); a key that lists none does not judge them."""


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
