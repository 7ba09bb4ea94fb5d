"""`decode`'s one-pass path accepts exactly what its step-by-step checks accept.

`decode` validates the common payload (`{"v":1,...` with one `v`) with pydantic's JSON
validator in one pass and falls back to the checks that name the first problem. Here
every payload, good or bad, must get the same answer as from those checks alone.
"""

import json

import pytest

from protocol.messages import Clock, Telemetry
from protocol.wire import Topics, WireError, _check_ids, _validate, decode, encode

TOPICS = Topics("paths/simlab")
REPORT = Telemetry(
    t=1_772_409_600.5,
    device_id="m-1",
    iccid="8946200050000000009",
    imei="356938030000005",
    seq=3,
    firmware="1.0.0",
    battery=88.0,
    supply_mv=None,
    bearer="LTE-M",
    mcc_mnc="63902",
    cell_id=101,
    rsrp=-80.0,
    rsrq=-6.0,
    snr=10.0,
    apn="iot",
    ip="10.0.0.1",
    uptime_s=60,
)
TELEMETRY = TOPICS.telemetry("acme", "m-1")
CLOCK = TOPICS.clock()
GOOD = encode(REPORT)
TICK = encode(Clock(t=1_772_409_600.0))


def reference(topic, payload):
    """What the step-by-step checks say: the message, or the error's (code, field, reason)."""
    route = TOPICS.route(topic)
    try:
        message = _validate(topic, payload, route)
        _check_ids(topic, route, message)
    except WireError as error:
        return (error.code, error.field, error.reason)
    return message


def answer(topic, payload):
    try:
        return decode(topic, payload, TOPICS)[1]
    except WireError as error:
        return (error.code, error.field, error.reason)


CASES = [
    (TELEMETRY, GOOD),
    (CLOCK, TICK),
    (CLOCK, TICK.replace(b'"v":1', b'"v":1.0')),
    (CLOCK, TICK.replace(b'"v":1', b'"v":true')),
    (CLOCK, TICK.replace(b'"v":1', b'"v":1e0')),
    (CLOCK, TICK.replace(b'"v":1', b'"v":"1"')),
    (CLOCK, TICK.replace(b'"v":1', b'"v":2')),
    (CLOCK, TICK.replace(b'"v":1,', b'"v":1,"v":true,')),
    (CLOCK, TICK.replace(b'"v":1,', b'"v":true,"v":1,')),
    (CLOCK, TICK.replace(b'"v":1,', b'"v":1,"v":2,')),
    (CLOCK, TICK.replace(b"1772409600.0", b"NaN")),
    (CLOCK, TICK.replace(b"1772409600.0", b"Infinity")),
    (CLOCK, TICK.replace(b"1772409600.0", b'"yesterday"')),
    (CLOCK, TICK[:-1] + b',"extra":1}'),
    (CLOCK, TICK + b" "),
    (CLOCK, b"[" + TICK + b"]"),
    (CLOCK, b"not json"),
    (TELEMETRY, GOOD.replace(b'"seq":3', b'"seq":3.0')),
    (TELEMETRY, GOOD.replace(b'"seq":3', b'"seq":3.5')),
    (TELEMETRY, GOOD.replace(b'"seq":3', b'"seq":"3"')),
    (TELEMETRY, GOOD.replace(b'"battery":88.0', b'"battery":null')),
    (TELEMETRY, GOOD.replace(b'"errors":[]', b'"errors":[1,"2"]')),
    (TELEMETRY, GOOD.replace(b'"device_id":"m-1"', b'"device_id":"m-2"')),
    (TELEMETRY, GOOD.replace(b'"kind":"telemetry"', b'"kind":"status"')),
    (TELEMETRY, GOOD.replace(b'"apn":"iot"', b'"apn":"\\u00e9t\\u00e9 \\"v\\""')),
    (TELEMETRY, json.dumps(json.loads(GOOD), indent=1).encode()),
]


@pytest.mark.parametrize(("topic", "payload"), CASES)
def test_decode_answers_as_the_step_by_step_checks_do(topic, payload):
    assert answer(topic, payload) == reference(topic, payload)


def test_the_cases_take_both_paths_and_both_outcomes():
    outcomes = [isinstance(reference(t, p), tuple) for t, p in CASES]
    assert any(outcomes), "some are refused"
    assert not all(outcomes), "some are accepted"
    assert GOOD.startswith(b'{"v":1,'), "the encoder's payloads take the one-pass path"
