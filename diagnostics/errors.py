"""The diagnostics service's exceptions: one base, so a caller can catch the service's own.

The hierarchy (each class also derives from the built-in its callers used to
catch, so an `except ValueError` or `except LookupError` keeps working):

* DiagnosticsError
  + SilenceError (ValueError): a maintenance silence with a bad scope or expiry
    [here]
  + UnknownError (LookupError): the device, SIM or swap test asked about was never
    seen [diagnostics.support]
  + StoreFileError (RuntimeError): a file the store will not open (newer than the
    code, not a database, not a store) [diagnostics.store.sqlite.schema]
  + WordingError (ValueError): a language file missing or not shaped as its words
    [diagnostics.diagnosis.wording]
  + RetryableError: nothing was done, and the same call may succeed later [here]
    + StoreUnavailableError (RuntimeError): the store cannot write now (locked, an I/O
      error, a full or read-only disk); nothing was committed [diagnostics.store]
  + TokenError: no API token can be had (its file missing or empty, or none for a
    service that answers beyond loopback) [diagnostics.access]

The broker link's errors (`MqttError` and its `ProtocolError`, `RefusedError`)
belong to the MQTT codec in `protocol.mqtt`, which may not import this package;
the ingest catches them and reconnects, so they never reach the API.

Errors say what was wrong and where: the message names the offending value.
"""

from __future__ import annotations

__all__ = ["DiagnosticsError", "RetryableError", "SilenceError", "StoreUnavailableError"]


class DiagnosticsError(Exception):
    """Base of every exception the diagnostics service raises on purpose."""


class SilenceError(DiagnosticsError, ValueError):
    """A maintenance silence with a bad scope (dimension, value) or expiry; says which."""


class RetryableError(DiagnosticsError):
    """Nothing was done, and the same call may succeed later: the caller waits and tries again.

    The ingest keeps such a batch unacknowledged and hands it over again, with back-off.
    """


class StoreUnavailableError(RetryableError, RuntimeError):
    """The store cannot write now (locked, I/O error, disk full or read-only); says why."""
