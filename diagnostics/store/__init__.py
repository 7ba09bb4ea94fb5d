"""The diagnostics store: what the service received, what it derived, what it said.

Idea: the ingest acknowledges a QoS 1 message to the broker only after it is
committed here, so the unit of work is the batch. `write_batch` puts a batch's
accepted messages (raw JSON bytes as received, with the few fields the API
queries by), its dead letters, the detection changes of the sweep and the
service clock's watermark in ONE transaction; the latest inventory record per
SIM, the latest retained status per device and the device-to-SIM map are
derived from the messages inside that same transaction. Everything else the
service knows (the detector's state) lives in memory and is rebuilt on start
from `replay`, which yields the stored evidence in (t, id) order.

- `records`: what goes in (`Accepted`, `DeadLetter`, `DetectionChange`) and comes out.
- `interface`: `Store` (what the service codes against) and `StoreReader` (its reads,
  all a finished run's tools need).
- `sqlite`: both on one SQLite file (`SQLiteStore`; `SQLiteStore.open_readonly` for
  the reads of an existing file). PostgreSQL would follow beside it.
"""

from diagnostics.store.interface import Store, StoreReader
from diagnostics.store.records import (
    Accepted,
    CurrentDetection,
    DeadLetter,
    DetectionChange,
    StoredDeadLetter,
    StoredDetection,
    StoredMessage,
    StoredRecord,
    StoredStatus,
    Summary,
    accepted,
    dead_letter,
)
from diagnostics.store.sqlite import SCHEMA_VERSION, SQLiteReader, SQLiteStore, StoreFileError

__all__ = [
    "SCHEMA_VERSION",
    "Accepted",
    "CurrentDetection",
    "DeadLetter",
    "DetectionChange",
    "SQLiteReader",
    "SQLiteStore",
    "Store",
    "StoreFileError",
    "StoreReader",
    "StoredDeadLetter",
    "StoredDetection",
    "StoredMessage",
    "StoredRecord",
    "StoredStatus",
    "Summary",
    "accepted",
    "dead_letter",
]
