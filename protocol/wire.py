"""The wire: topic names, which QoS and retain flag each message takes, encoding and parsing.

Topics live under a root that defaults to `simlab/v1` and is configurable per
run (tests give each run its own, so retained messages never leak between
them)::

    {root}/{account}/device/{device_id}/telemetry   device reports          QoS 0
    {root}/{account}/device/{device_id}/status      status / Last Will      QoS 1, retained
    {root}/{account}/sim/{iccid}/events             network events          QoS 1
    {root}/{account}/sim/{iccid}/record             SIM inventory record    QoS 1, retained
    {root}/clock                                    watermarks              QoS 1

Payloads are JSON with a schema version `v`. `decode` returns a typed message
or raises `WireError`, which names the topic, the field and the reason, and
carries a short `code` that consumers count bad input by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import from_json

from protocol.messages import (
    SCHEMA_VERSION,
    Clock,
    DeviceStatus,
    Message,
    NetworkEvent,
    SimRecord,
    Telemetry,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic_core import ErrorDetails

__all__ = [
    "DEFAULT_ROOT",
    "MAX_PAYLOAD",
    "Delivery",
    "Route",
    "Topics",
    "WireError",
    "decode",
    "decode_any",
    "delivery",
    "delivery_for",
    "encode",
    "matches",
    "subscription_test",
]

DEFAULT_ROOT: Final = "simlab/v1"
ROUTES_KEPT: Final = 100_000
"""Topics a `Topics` remembers having read (after that, each is read again)."""
MAX_PAYLOAD: Final = 64 * 1024
"""Largest payload accepted, in bytes; real reports are a few hundred."""

TopicKind = Literal["telemetry", "status", "events", "record", "clock"]
_LEVEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_ROOT = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
_L = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_REST = re.compile(
    rf"(clock)|({_L})/(?:device/({_L})/(telemetry|status)|sim/({_L})/(events|record))"
)
"""A topic below the root, in one match (each level as `_LEVEL` has it)."""


class WireError(ValueError):
    """A message that could not be read: where (topic, field) and why.

    `code` is one of: topic, too_large, not_json, version, invalid, mismatch.
    """

    def __init__(self, topic: str, field: str, reason: str, code: str) -> None:
        self.topic = topic
        self.field = field
        self.reason = reason
        self.code = code
        super().__init__(f"{topic}: {field}: {reason}" if field else f"{topic}: {reason}")


@dataclass(frozen=True, slots=True)
class Route:
    """What a topic says: the kind of message, the account, and the device or SIM it is about."""

    kind: TopicKind
    account: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a message travels: QoS and retain flag."""

    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic namespace of one run."""

    root: str = DEFAULT_ROOT
    _routes: dict[str, Route] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """Topics read so far (one per device and kind), up to ROUTES_KEPT."""

    def __post_init__(self) -> None:
        if not _ROOT.fullmatch(self.root):
            raise ValueError(
                f"topic root {self.root!r} must be levels of letters, digits, '_', '.', '-' "
                "joined by '/', without wildcards or empty levels",
            )

    def telemetry(self, account: str, device_id: str) -> str:
        """Where a device publishes its reports."""
        return f"{self.root}/{account}/device/{device_id}/telemetry"

    def status(self, account: str, device_id: str) -> str:
        """Where a device's retained status and Last Will go."""
        return f"{self.root}/{account}/device/{device_id}/status"

    def events(self, account: str, iccid: str) -> str:
        """Where the platform publishes a SIM's network events."""
        return f"{self.root}/{account}/sim/{iccid}/events"

    def record(self, account: str, iccid: str) -> str:
        """Where the platform keeps a SIM's retained inventory record."""
        return f"{self.root}/{account}/sim/{iccid}/record"

    def clock(self) -> str:
        """Where watermarks go."""
        return f"{self.root}/clock"

    def everything(self) -> str:
        """The subscription that takes the whole run."""
        return f"{self.root}/#"

    def for_message(self, message: BaseModel, account: str) -> str:
        """The topic a message is published on."""
        if isinstance(message, Telemetry):
            return self.telemetry(account, message.device_id)
        if isinstance(message, DeviceStatus):
            return self.status(account, message.device_id)
        if isinstance(message, SimRecord):
            return self.record(account, message.iccid)
        if isinstance(message, Clock):
            return self.clock()
        return self.events(account, message.iccid)  # type: ignore[attr-defined]

    def route(self, topic: str) -> Route:
        """Read a topic; raises WireError for one outside this namespace."""
        found = self._routes.get(topic)
        if found is None:
            found = self._route(topic)
            if len(self._routes) < ROUTES_KEPT:
                self._routes[topic] = found
        return found

    def _route(self, topic: str) -> Route:
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            raise WireError(topic, "topic", f"outside the namespace {self.root}/#", "topic")
        found = _REST.fullmatch(topic, len(prefix))
        if found is not None:
            clock, account, device, device_leaf, iccid, sim_leaf = found.groups()
            if clock:
                return Route("clock")
            if device:
                return Route(device_leaf, account, device)  # type: ignore[arg-type]
            return Route(sim_leaf, account, iccid)  # type: ignore[arg-type]
        raise WireError(
            topic,
            "topic",
            "expected {account}/device/{id}/telemetry|status, "
            "{account}/sim/{iccid}/events|record or clock",
            "topic",
        )


_QOS1: Final = Delivery(1, retain=False)
_RETAINED: Final = Delivery(1, retain=True)


def delivery(message: BaseModel, *, telemetry_qos: int = 0) -> Delivery:
    """QoS and retain flag for a message: telemetry QoS 0 by default, the rest QoS 1."""
    if isinstance(message, Telemetry):
        return Delivery(telemetry_qos, retain=False)
    if isinstance(message, DeviceStatus | SimRecord):
        return _RETAINED
    return _QOS1


def matches(subscription: str, topic: str) -> bool:
    """Whether `topic` falls under the MQTT `subscription` filter (with + and # wildcards).

    Consumers check what they receive: a broker that pushes other clients' retained
    messages (amqtt does) must not slip foreign data in.
    """
    want, have = subscription.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or (level not in {"+", have[i]}):
            return False
    return len(want) == len(have)


def subscription_test(subscription: str) -> Callable[[str], bool]:
    """`matches` for one filter: a prefix test for the usual `root/#`, fast on every message."""
    base = subscription.removesuffix("/#")
    if base != subscription and "+" not in base and "#" not in base:
        prefix = base + "/"
        return lambda topic: topic.startswith(prefix) or topic == base
    return partial(matches, subscription)


def delivery_for(route: Route, *, telemetry_qos: int = 0) -> Delivery:
    """QoS and retain flag by topic, for payloads carried without their model (replays)."""
    if route.kind == "telemetry":
        return Delivery(telemetry_qos, retain=False)
    if route.kind in {"status", "record"}:
        return _RETAINED
    return _QOS1


def encode(message: BaseModel) -> bytes:
    """The JSON payload of a message."""
    return message.model_dump_json().encode()


_BY_TOPIC: Final[dict[str, TypeAdapter[Any]]] = {
    "telemetry": TypeAdapter(Telemetry),
    "status": TypeAdapter(DeviceStatus),
    "events": TypeAdapter(NetworkEvent),
    "record": TypeAdapter(SimRecord),
    "clock": TypeAdapter(Clock),
}
_ANY: Final[TypeAdapter[Any]] = TypeAdapter(Message)


def decode(topic: str, payload: bytes, topics: Topics) -> tuple[Route, BaseModel]:
    """Parse one received message; raises WireError naming topic, field and reason."""
    route = topics.route(topic)
    if len(payload) > MAX_PAYLOAD:
        raise WireError(
            topic, "payload", f"{len(payload)} bytes, more than {MAX_PAYLOAD}", "too_large"
        )
    message = None
    if payload.startswith(_VERSION_FIRST) and payload.count(b'"v"') == 1:
        # The common case in one pass: `v` is the integer 1 and the only `v`, so what
        # validate_json accepts is exactly what the checks below accept.
        try:
            message = _BY_TOPIC[route.kind].validate_json(payload)
        except ValidationError:
            message = None
    if message is None:
        message = _validate(topic, payload, route)
    _check_ids(topic, route, message)
    return route, message


_VERSION_FIRST: Final = b'{"v":%d,' % SCHEMA_VERSION


def _validate(topic: str, payload: bytes, route: Route) -> BaseModel:
    """The payload's message, or the WireError that says what is wrong first."""
    try:
        data = from_json(payload, allow_inf_nan=False)
    except ValueError as exc:
        raise WireError(topic, "payload", f"not JSON: {exc}", "not_json") from None
    if not isinstance(data, dict):
        raise WireError(
            topic, "payload", f"expected a JSON object, got {type(data).__name__}", "invalid"
        )
    version = data.get("v")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise WireError(
            topic,
            "v",
            f"unknown schema version {version!r}; this reader knows {SCHEMA_VERSION}",
            "version",
        )
    try:
        message: BaseModel = _BY_TOPIC[route.kind].validate_python(data)
    except ValidationError as exc:
        raise WireError(
            topic, *_first_error(exc.errors(), union=route.kind == "events"), "invalid"
        ) from None
    return message


def _first_error(errors: list[ErrorDetails], *, union: bool) -> tuple[str, str]:
    """The first problem's field path and reason (a union's kind level left out of the path)."""
    err = errors[0]
    parts = list(err["loc"])
    if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        parts = ["kind"]
    elif union and parts:
        parts = parts[1:]  # the first level names the event kind being validated
    loc = [str(p) for p in parts]
    reason = err["msg"]
    if err["type"] not in {"missing", "union_tag_invalid"} and "input" in err:
        reason = f"{reason} (got {err['input']!r:.80})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ".".join(loc) or "payload", reason + more


def _check_ids(topic: str, route: Route, message: BaseModel) -> None:
    if route.key is None:
        return
    if isinstance(message, SimRecord) and message.account != route.account:
        reason = f"{message.account!r} does not match the topic's {route.account!r}"
        raise WireError(topic, "account", reason, "mismatch")
    field = "device_id" if route.kind in {"telemetry", "status"} else "iccid"
    value = getattr(message, field)
    if value != route.key:
        raise WireError(
            topic, field, f"{value!r} does not match the topic's {route.key!r}", "mismatch"
        )


def decode_any(payload: bytes) -> BaseModel:
    """Parse a payload whose topic is not known (a recording line): any message kind."""
    return _ANY.validate_json(payload)  # type: ignore[no-any-return]
