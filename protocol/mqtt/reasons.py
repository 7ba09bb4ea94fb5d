"""What a broker's refusing CONNACK means, in words: the reason codes of MQTT 5 and 3.1.1.

`codec.parse_connack` gives a 3.1.1 return code as 0x80 + the code, so a
code alone is ambiguous (0x84 is "unsupported protocol version" on MQTT 5,
"bad user name or password" on 3.1.1): each name here takes the version.
A refused login (0x86 or 0x87 on MQTT 5, return code 4 or 5 on 3.1.1) is
said as one: "the broker refused the login: reason code 0x87 (not authorized)".
"""

from __future__ import annotations

from typing import Final

from protocol.mqtt.codec import REASON_STRING, V5, V311, ConnAck, RefusedError

__all__ = ["LOGIN_REFUSED", "connack_reason", "connack_refusal"]

_CONNACK_REASONS_V5: Final = {
    0x80: "unspecified error",
    0x81: "malformed packet",
    0x82: "protocol error",
    0x83: "implementation specific error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x8C: "bad authentication method",
    0x95: "packet too large",
    0x97: "quota exceeded",
    0x9C: "use another server",
    0x9D: "server moved",
    0x9F: "connection rate exceeded",
}
_CONNACK_REASONS_V311: Final = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


def connack_reason(code: int, version: int = 5) -> str:
    """What a refusing CONNACK's code means ("bad user name or password"), "" if unknown.

    `code` as `parse_connack` gives it: on 3.1.1, 0x80 + the return code (4 and 5 are
    the credentials' refusals there, 0x86 and 0x87 on MQTT 5).
    """
    if version != V5:
        return _CONNACK_REASONS_V311.get(code - 0x80, "")
    return _CONNACK_REASONS_V5.get(code, "")


LOGIN_REFUSED: Final = {V5: frozenset({0x86, 0x87}), V311: frozenset({0x84, 0x85})}
"""The CONNACK codes of a refused login: bad user name or password, not authorized."""


def connack_refusal(ack: ConnAck, version: int = 5) -> RefusedError:
    """The error of a refusing CONNACK: a refused login, or connection, and the reason why."""
    said = ack.props.get(REASON_STRING)
    reason = connack_reason(ack.code, version) or str(said or "")
    login = ack.code in LOGIN_REFUSED.get(version, frozenset())
    what = "the broker refused the login" if login else "the broker refused the connection"
    return RefusedError(what, ack.code, reason)
