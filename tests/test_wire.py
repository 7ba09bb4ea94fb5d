"""The wire: topics, delivery, encoding and strict decoding of every message kind.

Real payloads come from a seeded simulated run with a few faults, so that most
network event kinds occur. Every one must survive encode/decode on its own
topic; bad input must come back as a WireError naming topic, field and reason;
and no input at all may make `decode` raise anything else.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.messages import (
    SCHEMA_VERSION,
    AttachAccepted,
    Clock,
    DeviceStatus,
    SimRecord,
    Telemetry,
)
from protocol.wire import (
    DEFAULT_ROOT,
    MAX_PAYLOAD,
    Delivery,
    Route,
    Topics,
    WireError,
    decode,
    decode_any,
    delivery,
    encode,
)
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import collars, world

if TYPE_CHECKING:
    from pydantic import BaseModel

H = 3600.0
ROOT = "test-7f3a/simlab"
TOPICS = Topics(ROOT)

FAULTS = [
    {"fault": "sim_deactivated", "at": 1 * H, "duration": 2 * H, "devices": ["collar-0001"]},
    {
        "fault": "wrong_apn",
        "at": 1 * H,
        "duration": 2 * H,
        "devices": ["collar-0002"],
        "value": "iot.savana",
    },
    {"fault": "data_limit_reached", "at": 1 * H, "duration": 2 * H, "devices": ["collar-0003"]},
    {"fault": "power_loss", "at": 1 * H, "duration": 1 * H, "devices": ["collar-0004"]},
]

REQUIRED_KINDS = {
    "telemetry",
    "status",
    "attach",
    "attach_reject",
    "session_open",
    "session_close",
    "session_reject",
    "state_change",
    "data_blocked",
    "usage",
    "detach",
    "record",
    "clock",
}


@functools.cache
def run() -> tuple[tuple[BaseModel, str | None], ...]:
    """Every (message, account) of a seeded six-hour run of four collars with four faults."""
    sink = MemorySink()
    result = simulate(world(devices=[collars(4)], faults=FAULTS), sink, until=6 * H)
    assert result.error is None
    return tuple(zip(sink.messages, sink.accounts, strict=True))


@functools.cache
def samples() -> tuple[tuple[str, bytes, BaseModel], ...]:
    """(topic, payload, message) for the first few messages of every kind in the run."""
    seen: Counter[str] = Counter()
    out = []
    for message, account in run():
        if seen[message.kind] < 4:
            seen[message.kind] += 1
            out.append((TOPICS.for_message(message, account), encode(message), message))
    return tuple(out)


def one(kind: str) -> tuple[str, dict, BaseModel]:
    """A real message of a kind: its topic, its payload as a dict, the model."""
    topic, payload, message = next(s for s in samples() if s[2].kind == kind)
    return topic, json.loads(payload), message


def dumps(data: object) -> bytes:
    return json.dumps(data).encode()


def refused(topic: str, payload: bytes) -> WireError:
    with pytest.raises(WireError) as info:
        decode(topic, payload, TOPICS)
    return info.value


def expected_route(message: BaseModel, account: str | None) -> Route:
    if isinstance(message, Clock):
        return Route("clock")
    if isinstance(message, Telemetry | DeviceStatus):
        return Route(message.kind, account, message.device_id)
    kind = "record" if isinstance(message, SimRecord) else "events"
    return Route(kind, account, message.iccid)  # type: ignore[attr-defined]


# ---- round trip ---------------------------------------------------------------------------------


def test_the_run_has_every_kind_the_round_trip_needs():
    kinds = Counter(message.kind for message, _ in run())
    assert set(kinds) >= REQUIRED_KINDS, REQUIRED_KINDS - set(kinds)
    # the four collars each have their own SIM and their own topics
    assert len({m.iccid for m, _ in run() if isinstance(m, Telemetry)}) == 4


def test_every_message_of_a_run_round_trips_on_its_own_topic():
    for message, account in run():
        topic = TOPICS.for_message(message, account)
        payload = encode(message)
        assert isinstance(payload, bytes)
        assert len(payload) < MAX_PAYLOAD
        route, decoded = decode(topic, payload, TOPICS)
        assert decoded == message
        assert type(decoded) is type(message)
        assert route == expected_route(message, account)
        assert route == TOPICS.route(topic)
        # clock messages have no account; everything else is the account's
        assert (account is None) == isinstance(message, Clock)


def test_decode_any_reads_every_payload_of_a_run():
    for message, _ in run():
        decoded = decode_any(encode(message))
        assert decoded == message
        assert type(decoded) is type(message)


def test_the_recording_lines_of_a_run_read_back_with_decode_any():
    sink = MemorySink()
    for message, account in run():
        sink.write(message, account)
    lines = sink.jsonl().splitlines()
    assert len(lines) == len(run())
    for line, (message, account) in zip(lines, run(), strict=True):
        record = json.loads(line)
        assert record["topic"] == TOPICS.for_message(message, account).removeprefix(ROOT + "/")
        assert decode_any(dumps(record["payload"])) == message


def test_a_payload_padded_to_exactly_max_payload_is_still_read():
    topic, payload, message = samples()[0]
    padded = payload + b" " * (MAX_PAYLOAD - len(payload))
    assert len(padded) == MAX_PAYLOAD
    assert decode(topic, padded, TOPICS)[1] == message


# ---- topics -------------------------------------------------------------------------------------


def test_each_topic_builder_gives_the_documented_shape():
    assert TOPICS.telemetry("savanna", "d1") == "test-7f3a/simlab/savanna/device/d1/telemetry"
    assert TOPICS.status("savanna", "d1") == "test-7f3a/simlab/savanna/device/d1/status"
    assert TOPICS.events("savanna", "8946") == "test-7f3a/simlab/savanna/sim/8946/events"
    assert TOPICS.record("savanna", "8946") == "test-7f3a/simlab/savanna/sim/8946/record"
    assert TOPICS.clock() == "test-7f3a/simlab/clock"
    assert TOPICS.everything() == "test-7f3a/simlab/#"


def test_the_default_root():
    assert DEFAULT_ROOT == "simlab/v1"
    assert Topics().root == "simlab/v1"
    assert Topics().everything() == "simlab/v1/#"
    assert Topics().clock() == "simlab/v1/clock"


def test_for_message_uses_the_builder_of_each_kind():
    for message, account in run():
        topic = TOPICS.for_message(message, account)
        if isinstance(message, Telemetry):
            assert topic == TOPICS.telemetry(account, message.device_id)
        elif isinstance(message, DeviceStatus):
            assert topic == TOPICS.status(account, message.device_id)
        elif isinstance(message, SimRecord):
            assert topic == TOPICS.record(account, message.iccid)
        elif isinstance(message, Clock):
            assert topic == TOPICS.clock()
        else:
            assert topic == TOPICS.events(account, message.iccid)


def test_route_reads_each_builder_back():
    assert TOPICS.route(TOPICS.telemetry("a", "d1")) == Route("telemetry", "a", "d1")
    assert TOPICS.route(TOPICS.status("a", "d1")) == Route("status", "a", "d1")
    assert TOPICS.route(TOPICS.events("a", "89")) == Route("events", "a", "89")
    assert TOPICS.route(TOPICS.record("a", "89")) == Route("record", "a", "89")
    assert TOPICS.route(TOPICS.clock()) == Route("clock", None, None)


@pytest.mark.parametrize(
    "root",
    [
        "",
        "+",
        "#",
        "simlab/+",
        "simlab/#",
        "simlab/+/v1",
        "sim+lab",
        "simlab//v1",
        "/simlab",
        "simlab/",
        "/",
        "sim lab",
        " simlab",
        "simlab/v1 ",
    ],
)
def test_a_bad_root_is_refused(root):
    with pytest.raises(ValueError, match="topic root"):
        Topics(root)


@pytest.mark.parametrize("root", ["simlab\n", "simlab/v1\n"])
def test_a_root_with_a_trailing_newline_is_refused(root):
    with pytest.raises(ValueError, match="topic root"):
        Topics(root)


@pytest.mark.parametrize(
    "topic",
    [
        # outside the root
        "simlab/v1/savanna/device/d1/telemetry",
        "other/savanna/device/d1/telemetry",
        "test-7f3a/simlabX/savanna/device/d1/telemetry",
        "test-7f3a/simlab",
        "test-7f3a/simlab/",
        "/test-7f3a/simlab/clock",
        "",
        # unknown leaves and scopes
        "test-7f3a/simlab/savanna/device/d1/events",
        "test-7f3a/simlab/savanna/device/d1/record",
        "test-7f3a/simlab/savanna/sim/89/telemetry",
        "test-7f3a/simlab/savanna/sim/89/status",
        "test-7f3a/simlab/savanna/device/d1/Telemetry",
        "test-7f3a/simlab/savanna/gateway/d1/telemetry",
        "test-7f3a/simlab/Clock",
        # wrong depth
        "test-7f3a/simlab/savanna/device/d1",
        "test-7f3a/simlab/savanna/device/d1/telemetry/extra",
        "test-7f3a/simlab/savanna/device/d1/telemetry/",
        "test-7f3a/simlab/savanna/device//telemetry",
        "test-7f3a/simlab//device/d1/telemetry",
        "test-7f3a/simlab/clock/extra",
        "test-7f3a/simlab/savanna/clock",
        # wildcards
        "test-7f3a/simlab/#",
        "test-7f3a/simlab/+/device/d1/telemetry",
        "test-7f3a/simlab/savanna/device/+/telemetry",
        "test-7f3a/simlab/savanna/+/d1/telemetry",
        "test-7f3a/simlab/savanna/device/d1/+",
        "test-7f3a/simlab/savanna/device/#",
        "test-7f3a/simlab/savanna/sim/8#9/events",
        "test-7f3a/simlab/+",
        # other characters a level may not hold
        "test-7f3a/simlab/savanna/device/d 1/telemetry",
        "test-7f3a/simlab/savanna/device/-d1/telemetry",
        "test-7f3a/simlab/clock\n",
    ],
)
def test_route_refuses_topics_outside_the_namespace(topic):
    with pytest.raises(WireError) as info:
        TOPICS.route(topic)
    error = info.value
    assert error.code == "topic"
    assert error.topic == topic
    assert error.field == "topic"
    assert str(error).startswith(topic)


def test_route_says_what_it_expected():
    with pytest.raises(WireError, match=r"outside the namespace test-7f3a/simlab/#"):
        TOPICS.route("simlab/v1/clock")
    with pytest.raises(WireError, match=r"device/\{id\}/telemetry\|status"):
        TOPICS.route(f"{ROOT}/savanna/device/d1/events")


@pytest.mark.parametrize(
    "topic",
    [
        "test-7f3a/simlab/savanna/device/d1\n/telemetry",
        "test-7f3a/simlab/savanna\n/sim/89/events",
    ],
)
def test_route_refuses_a_level_with_a_trailing_newline(topic):
    with pytest.raises(WireError) as info:
        TOPICS.route(topic)
    assert info.value.code == "topic"


def test_decode_checks_the_topic_first():
    topic = f"{ROOT}/savanna/device/d1/events"
    error = refused(topic, b"x" * (MAX_PAYLOAD + 1))
    assert error.code == "topic"
    assert error.topic == topic


# ---- delivery -----------------------------------------------------------------------------------


def test_delivery_of_every_message_of_a_run():
    seen = set()
    for message, _ in run():
        got = delivery(message)
        if isinstance(message, Telemetry):
            assert got == Delivery(0, retain=False)
            assert delivery(message, telemetry_qos=1) == Delivery(1, retain=False)
        elif isinstance(message, DeviceStatus | SimRecord):
            assert got == Delivery(1, retain=True)
            assert delivery(message, telemetry_qos=0) == Delivery(1, retain=True)
        else:  # network events and clock
            assert got == Delivery(1, retain=False)
            assert delivery(message, telemetry_qos=0) == Delivery(1, retain=False)
        seen.add(message.kind)
    assert seen >= REQUIRED_KINDS


def test_delivery_of_a_last_will_and_a_final_clock():
    will = DeviceStatus(t=1.0, device_id="d1", iccid=None, status="offline", will=True)
    assert delivery(will) == Delivery(1, retain=True)
    assert delivery(Clock(t=1.0, final=True)) == Delivery(1, retain=False)
    attach = AttachAccepted(t=1.0, iccid="89", mcc_mnc="63902", cell_id=1, rat="LTE-M")
    assert delivery(attach, telemetry_qos=2) == Delivery(1, retain=False)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_telemetry_takes_the_given_qos(qos):
    _, _, message = one("telemetry")
    assert delivery(message, telemetry_qos=qos) == Delivery(qos, retain=False)


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"{nope", b"", b"{", b'{"v": 1,}', b"\xff\xfe", b"[" * 5000])
def test_malformed_json(payload):
    topic, _, _ = one("telemetry")
    error = refused(topic, payload)
    assert (error.code, error.field) == ("not_json", "payload")
    assert "not JSON" in error.reason
    assert str(error).startswith(f"{topic}: payload: not JSON")


@pytest.mark.parametrize(
    ("payload", "name"),
    [(b"[1, 2]", "list"), (b"3", "int"), (b"2.5", "float"), (b'"x"', "str"), (b"null", "None")],
)
def test_json_that_is_not_an_object(payload, name):
    topic, _, _ = one("status")
    error = refused(topic, payload)
    assert (error.code, error.field) == ("invalid", "payload")
    assert f"expected a JSON object, got {name}" in error.reason


@pytest.mark.parametrize(
    ("kind", "field", "value", "shown"),
    [
        ("telemetry", "rsrp", "strong", "'strong'"),
        ("telemetry", "seq", "first", "'first'"),
        ("telemetry", "errors", "none", "'none'"),
        ("telemetry", "t", [1], "[1]"),
        ("status", "will", "maybe", "'maybe'"),
        ("attach", "cell_id", 1.5, "1.5"),
        ("record", "apns", "iot.savanna", "'iot.savanna'"),
        ("clock", "final", {"yes": 1}, "{'yes': 1}"),
    ],
)
def test_a_wrong_type_names_the_field_and_shows_the_value(kind, field, value, shown):
    topic, data, _ = one(kind)
    error = refused(topic, dumps(data | {field: value}))
    assert (error.code, error.field) == ("invalid", field)
    assert f"(got {shown})" in error.reason
    assert str(error).startswith(f"{topic}: {field}: ")


def test_a_long_offending_value_is_cut_short():
    topic, data, _ = one("telemetry")
    error = refused(topic, dumps(data | {"rsrp": "x" * 1000}))
    assert error.field == "rsrp"
    assert "(got 'xxx" in error.reason
    assert len(error.reason) < 300


def test_several_errors_name_the_first_and_count_the_rest():
    topic, data, _ = one("telemetry")
    error = refused(topic, dumps(data | {"rsrp": "strong", "rsrq": "weak", "snr": "none"}))
    assert error.field == "rsrp"
    assert error.reason.endswith("(and 2 more)")


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("telemetry", "imei"),
        ("telemetry", "t"),
        ("status", "status"),
        ("session_close", "bytes"),
        ("attach_reject", "emm_cause"),
        ("record", "imsi"),
        ("clock", "t"),
    ],
)
def test_a_missing_field_is_named(kind, field):
    topic, data, _ = one(kind)
    del data[field]
    error = refused(topic, dumps(data))
    assert (error.code, error.field) == ("invalid", field)
    assert error.reason == "Field required"


@pytest.mark.parametrize(
    ("v", "shown"), [(2, "2"), (0, "0"), ("1", "'1'"), (None, "None"), ("missing", "None")]
)
def test_an_unknown_schema_version(v, shown):
    topic, data, _ = one("telemetry")
    if v == "missing":
        del data["v"]
    else:
        data["v"] = v
    error = refused(topic, dumps(data))
    assert (error.code, error.field) == ("version", "v")
    assert f"unknown schema version {shown}" in error.reason
    assert f"this reader knows {SCHEMA_VERSION}" in error.reason


def test_the_version_is_checked_before_the_fields():
    topic, _, _ = one("telemetry")
    error = refused(topic, dumps({"v": 2, "whatever": True}))
    assert error.code == "version"


@pytest.mark.parametrize("size", [MAX_PAYLOAD + 1, 10 * MAX_PAYLOAD])
def test_an_oversize_payload_is_refused_before_parsing(size):
    topic, _, _ = one("telemetry")
    # not JSON at all: had it been parsed first, the code would be not_json
    error = refused(topic, b"x" * size)
    assert (error.code, error.field) == ("too_large", "payload")
    assert f"{size} bytes, more than {MAX_PAYLOAD}" in error.reason


def test_an_oversize_valid_payload_is_refused_too():
    topic, payload, _ = samples()[0]
    padded = payload + b" " * (MAX_PAYLOAD + 1 - len(payload))
    assert refused(topic, padded).code == "too_large"


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("telemetry", "device_id"),
        ("status", "device_id"),
        ("attach", "iccid"),
        ("session_reject", "iccid"),
        ("record", "iccid"),
    ],
)
def test_a_payload_about_another_device_or_sim(kind, field):
    topic, data, message = one(kind)
    data[field] = "someone-else"
    error = refused(topic, dumps(data))
    assert (error.code, error.field) == ("mismatch", field)
    assert "'someone-else'" in error.reason
    assert repr(getattr(message, field)) in error.reason


def test_a_payload_on_the_topic_of_another_device():
    _, data, message = one("telemetry")
    topic = TOPICS.telemetry("savanna", "collar-9999")
    error = refused(topic, dumps(data))
    assert (error.code, error.field) == ("mismatch", "device_id")
    assert repr(message.device_id) in error.reason
    assert "'collar-9999'" in error.reason


def test_an_event_with_an_unknown_kind():
    topic, data, _ = one("attach")
    error = refused(topic, dumps(data | {"kind": "teleport"}))
    assert error.code == "invalid"
    assert "'teleport'" in error.reason
    assert "'attach'" in error.reason  # lists the kinds it knows
    assert str(error).startswith(topic)


def test_an_event_without_a_kind():
    topic, data, _ = one("attach")
    del data["kind"]
    error = refused(topic, dumps(data))
    assert error.code == "invalid"
    assert "'kind'" in error.reason


@pytest.mark.parametrize(
    ("payload_kind", "topic_kind"),
    [
        ("telemetry", "status"),
        ("status", "telemetry"),
        ("record", "events"),
        ("attach", "record"),
        ("clock", "events"),
        ("telemetry", "clock"),
    ],
)
def test_a_payload_on_the_topic_of_another_kind(payload_kind, topic_kind):
    _, data, _ = one(payload_kind)
    topic = {
        "telemetry": TOPICS.telemetry("savanna", "d1"),
        "status": TOPICS.status("savanna", "d1"),
        "events": TOPICS.events("savanna", "89"),
        "record": TOPICS.record("savanna", "89"),
        "clock": TOPICS.clock(),
    }[topic_kind]
    error = refused(topic, dumps(data))
    assert error.code == "invalid"


@pytest.mark.parametrize("kind", ["telemetry", "status", "attach", "usage", "record", "clock"])
def test_an_extra_field_is_refused_by_name(kind):
    topic, data, _ = one(kind)
    error = refused(topic, dumps(data | {"colour": "green"}))
    assert (error.code, error.field) == ("invalid", "colour")
    assert "Extra inputs are not permitted" in error.reason
    assert "(got 'green')" in error.reason


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        ("status", {"status": "sleeping"}, "status"),
        ("telemetry", {"clock": 1}, "clock"),
        ("attach", {"usage": 1}, "usage"),
    ],
)
def test_a_field_named_like_a_message_kind_is_still_named(kind, change, field):
    topic, data, _ = one(kind)
    error = refused(topic, dumps(data | change))
    assert (error.code, error.field) == ("invalid", field)


def test_a_status_with_an_unknown_state_is_invalid():
    topic, data, _ = one("status")
    error = refused(topic, dumps(data | {"status": "sleeping"}))
    assert error.code == "invalid"
    assert "'online', 'asleep' or 'offline'" in error.reason
    assert "(got 'sleeping')" in error.reason


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400"])
def test_non_finite_numbers_are_refused(number):
    error = refused(TOPICS.clock(), b'{"v": 1, "t": ' + number + b"}")
    assert error.code in {"not_json", "invalid"}


def test_a_decoded_message_with_a_huge_number_round_trips():
    topic, data, _ = one("telemetry")
    data["rsrp"] = 0.0
    payload = dumps(data).replace(b'"rsrp": 0.0', b'"rsrp": 1e400')
    try:
        _, message = decode(topic, payload, TOPICS)
    except WireError:
        return  # refusing it would be right too
    assert decode(topic, encode(message), TOPICS)[1] == message


def test_str_of_a_wire_error_starts_with_the_topic():
    error = WireError("a/b/c", "rsrp", "bad", "invalid")
    assert str(error) == "a/b/c: rsrp: bad"
    assert (error.topic, error.field, error.reason, error.code) == (
        "a/b/c",
        "rsrp",
        "bad",
        "invalid",
    )
    assert str(WireError("a/b/c", "", "bad", "topic")) == "a/b/c: bad"
    assert isinstance(error, ValueError)


# ---- properties ---------------------------------------------------------------------------------

LEVEL = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,12}\Z")
VALID_TOPICS = st.one_of(
    st.builds(TOPICS.telemetry, LEVEL, LEVEL),
    st.builds(TOPICS.status, LEVEL, LEVEL),
    st.builds(TOPICS.events, LEVEL, LEVEL),
    st.builds(TOPICS.record, LEVEL, LEVEL),
    st.just(TOPICS.clock()),
    st.sampled_from([topic for topic, _, _ in samples()]),
)
ANY_TOPIC = st.one_of(
    st.text(max_size=100),
    VALID_TOPICS,
    VALID_TOPICS.map(lambda t: t + "/x"),
    st.builds(lambda t, s: t + s, st.just(ROOT + "/"), st.text(max_size=60)),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
SAMPLE = st.sampled_from(samples())


@st.composite
def near_miss(draw) -> tuple[str, bytes]:
    """A real payload with some fields replaced, removed or added, on its topic or another."""
    topic, payload, _ = draw(SAMPLE)
    data = json.loads(payload)
    for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=3)):
        if draw(st.booleans()):
            data[key] = draw(JSON)
        else:
            data.pop(key, None)
    data.update(draw(st.dictionaries(st.sampled_from(["v", "t", "kind", "extra"]), JSON)))
    if draw(st.integers(0, 4)) == 0:
        topic = draw(VALID_TOPICS)
    return topic, dumps(data)


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    """A real encoded message with characters dropped, replaced or inserted."""
    topic, payload, _ = draw(SAMPLE)
    text = bytearray(payload)
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["drop", "replace", "insert"]))
        char = draw(st.sampled_from(b'{}[]",:0123456789.-e tfnu\\x\xff'))
        if op == "drop":
            del text[at]
        elif op == "replace":
            text[at] = char
        else:
            text.insert(at, char)
    return topic, bytes(text)


INPUTS = st.one_of(
    st.tuples(ANY_TOPIC, st.binary(max_size=2000)),
    st.tuples(VALID_TOPICS, JSON.map(dumps)),
    st.tuples(ANY_TOPIC, JSON.map(dumps)),
    near_miss(),
    mutated(),
    SAMPLE.map(lambda s: (s[0], s[1])),
)

WIRE_CODES = {"topic", "too_large", "not_json", "version", "invalid", "mismatch"}


def attempt(topic: str, payload: bytes) -> tuple[Route, BaseModel] | WireError:
    """What decode returns, or the WireError it raised; anything else it raises propagates."""
    try:
        return decode(topic, payload, TOPICS)
    except WireError as error:
        return error


def check_error(error: WireError, topic: str) -> None:
    assert error.code in WIRE_CODES
    assert error.topic == topic
    assert str(error).startswith(topic)
    assert error.field
    assert error.reason


@settings(max_examples=300, deadline=None)
@given(topic=st.text(max_size=200), payload=st.binary(max_size=2000))
def test_decode_raises_only_wire_errors_on_arbitrary_bytes(topic, payload):
    result = attempt(topic, payload)
    if isinstance(result, WireError):
        check_error(result, topic)


@settings(max_examples=300, deadline=None)
@given(case=INPUTS)
def test_decode_raises_only_wire_errors_and_what_it_reads_round_trips(case):
    topic, payload = case
    result = attempt(topic, payload)
    if isinstance(result, WireError):
        check_error(result, topic)
        return
    route, message = result
    assert route == TOPICS.route(topic)
    again = encode(message)
    json.loads(again)  # what encode writes is plain JSON
    assert decode(topic, again, TOPICS) == (route, message)
    assert decode_any(again) == message


@pytest.mark.parametrize("kind", ["telemetry", "status", "attach_reject", "record"])
@pytest.mark.parametrize("t", [-1.0, 1e20, 253_402_300_800.0])
def test_a_time_no_calendar_names_is_refused_with_its_field(kind, t):
    topic, data, _ = one(kind)
    error = refused(topic, dumps(data | {"t": t}))
    assert (error.code, error.field) == ("invalid", "t")
    assert str(error).startswith(f"{topic}: t: ")
