"""The diagnostics service's exceptions: one base, so a caller can catch the service's own.

The hierarchy (each class also derives from the built-in its callers used to
catch, so an `except ValueError` or `except LookupError` keeps working):

* DiagnosticsError
  + SilenceError (ValueError): a maintenance silence with a bad scope or expiry
    [here]
  + UnknownError (LookupError): the device, SIM or swap test asked about was never
    seen [diagnostics.support]
  + MqttError: the broker link failed [diagnostics.mqtt5]
    - ProtocolError: the broker sent something MQTT does not allow
    - RefusedError: the broker refused the connection or the subscription

Errors say what was wrong and where: the message names the offending value.
"""

from __future__ import annotations

__all__ = ["DiagnosticsError", "SilenceError"]


class DiagnosticsError(Exception):
    """Base of every exception the diagnostics service raises on purpose."""


class SilenceError(DiagnosticsError, ValueError):
    """A maintenance silence with a bad scope (dimension, value) or expiry; says which."""
