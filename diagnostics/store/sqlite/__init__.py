"""The diagnostics store on one SQLite file, with the standard library's `sqlite3`.

- `schema`: the table layout, its version (`PRAGMA user_version`) and the migrations.
- `writer`: a batch written in one transaction, each message once.
- `reader`: the reads (`SQLiteReader`), also on their own over an existing file.
- `store`: `SQLiteStore`, the writer and the readers together; durability and threading.

Tables are STRICT, so a value of the wrong type fails the whole batch rather
than being stored. `messages` keeps every accepted message once; its indexes
serve the API: a device's messages by time, a SIM's network events and records
by time (partial: SIM-scoped rows only, so telemetry does not pay for it), and
time alone (replay, recent messages). Messages per kind are counters kept in
the same transaction; devices, SIMs and which device reported with which SIM
are key tables filled by INSERT OR IGNORE; so neither the summary nor the
timeline's SIM lookup scans `messages`.
"""

from diagnostics.store.sqlite.reader import SQLiteReader
from diagnostics.store.sqlite.schema import SCHEMA_VERSION, StoreFileError
from diagnostics.store.sqlite.store import SQLiteStore, Synchronous

__all__ = ["SCHEMA_VERSION", "SQLiteReader", "SQLiteStore", "StoreFileError", "Synchronous"]
