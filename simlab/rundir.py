"""A run directory: what one run of a scenario leaves behind, and how each part is read.

`simlab run` (and `simlab train`) write it; `simlab report` and training read it:

    recording.jsonl     the stream the world published, for `simlab replay`
    diagnostics.sqlite  the service's database (read through the store, read-only)
    scorecard.json      the diagnostics held against the answer key
    diagnoses.json      each expected or alarmed device's diagnosis and customer messages
    messages.md         the same diagnoses and messages to read: staff summary, then the
                        customer messages, per device (markdown)
    run.json            what was run, how fast, on which broker, and the ground truth

A run stopped before its end (Ctrl-C) leaves run.json with `"partial": true`,
what it was doing (`stage`) and how far the world got (`reached_s`), beside
what it wrote so far; it has no scorecard, and reading it as a finished run
says so.

Errors:

    RunDirError   a file of the run directory is missing or broken (the message names it)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from diagnostics.store import SQLiteStore, StoreFileError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from diagnostics.store import SQLiteReader, StoreReader

__all__ = [
    "DATABASE",
    "FILES",
    "MESSAGES",
    "RECORDING",
    "RunDir",
    "RunDirError",
    "detection_histories",
    "messages_markdown",
    "open_database",
]

RECORDING: Final = "recording.jsonl"
DATABASE: Final = "diagnostics.sqlite"
SCORECARD: Final = "scorecard.json"
DIAGNOSES: Final = "diagnoses.json"
RUN: Final = "run.json"
MESSAGES: Final = "messages.md"
FILES: Final = (RUN, SCORECARD, DIAGNOSES, DATABASE)
"""What a finished run directory must hold to be read (the recording may be elsewhere)."""


class RunDirError(Exception):
    """A file of the run directory is missing, or cannot be read."""


@dataclass(frozen=True, slots=True)
class RunDir:
    """The files of the run directory `path`."""

    path: Path

    @property
    def recording(self) -> Path:
        """Where the recording goes unless the run is told otherwise."""
        return self.path / RECORDING

    @property
    def database(self) -> Path:
        """The service's database."""
        return self.path / DATABASE

    @property
    def messages(self) -> Path:
        """Every diagnosis and customer message of the run, to read (markdown)."""
        return self.path / MESSAGES

    def fresh_database(self) -> Path:
        """Make the directory and remove a database of an earlier run in it (with its WAL)."""
        self.path.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            (self.path / f"{DATABASE}{suffix}").unlink(missing_ok=True)
        return self.database

    def settle_database(self) -> None:
        """Leave a finished run's database as one file: no `-wal`/`-shm` beside it."""
        SQLiteStore.settle(self.database)

    def write_results(
        self, *, scorecard: dict[str, Any], diagnoses: list[dict[str, Any]], run: dict[str, Any]
    ) -> None:
        """Write the scorecard, the diagnoses, run.json and messages.md."""
        for name, data in ((SCORECARD, scorecard), (DIAGNOSES, diagnoses), (RUN, run)):
            (self.path / name).write_text(json.dumps(data, indent=2) + "\n")
        title = str(run.get("title") or run.get("scenario") or self.path.name)
        fleet = run.get("fleet_messages") or []
        self.messages.write_text(messages_markdown(title, diagnoses, fleet), encoding="utf-8")

    def write_partial(self, run: dict[str, Any]) -> None:
        """Write run.json of a run stopped before its end (`run` says `"partial": true`)."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / RUN).write_text(json.dumps(run, indent=2) + "\n")

    def read_run(self) -> dict[str, Any]:
        """run.json of a finished run, with its start, duration_s and truth."""
        path = self.path / RUN
        found: dict[str, Any] = _json(path, dict)
        if found.get("partial"):
            raise RunDirError(
                f"{path}: a run stopped at {found.get('reached_s', 0):.0f} s of "
                f"{found.get('duration_s', 0):.0f} s simulated; run the scenario again"
            )
        _require(path, found, ("start", "duration_s", "truth"))
        return found

    def read_scorecard(self) -> dict[str, Any]:
        """scorecard.json, with its devices."""
        found: dict[str, Any] = _json(self.path / SCORECARD, dict, ("devices",))
        return found

    def read_diagnoses(self) -> list[dict[str, Any]]:
        """diagnoses.json."""
        found: list[dict[str, Any]] = _json(self.path / DIAGNOSES, list)
        return found

    def open_database(self) -> SQLiteReader:
        """The service's database, opened read-only (see `open_database`)."""
        return open_database(self.database)


def open_database(path: Path) -> SQLiteReader:
    """A service's database, opened read-only for its reads.

    Raises:
        RunDirError: it is missing, or it is not a diagnostics store this code reads.
    """
    if not path.is_file():
        raise RunDirError(f"{path}: missing; a run directory holds {', '.join(FILES)}")
    try:
        return SQLiteStore.open_readonly(path)
    except StoreFileError as exc:
        raise RunDirError(f"{path}: not the service's database ({exc})") from None


def messages_markdown(
    title: str, diagnoses: Iterable[dict[str, Any]], fleet: Iterable[dict[str, Any]] = ()
) -> str:
    """The diagnoses of diagnoses.json to read (messages.md).

    First the fleet messages (one per customer account and cause many devices share:
    which devices, how many), then per device: the staff summary, fix and next step, then
    each customer message in full.
    """
    out = [f"# {title}: diagnoses and customer messages", ""]
    for message in fleet:
        devices = ", ".join(message["device_ids"])
        count, account, cause = message["count"], message["account"], message["cause"]
        out += [
            f"## Fleet message ({message['language']}): {count} devices of {account}, {cause}",
            "",
            f"- **Devices**: {devices}",
            "",
            f"### To the customer ({message['language']}): {message['subject']}",
            "",
        ]
        out += [f"> {line}".rstrip() for line in str(message["body"]).splitlines()]
        out.append("")
    head = len(out)
    for entry in diagnoses:
        d = entry.get("diagnosis") or {}
        out += [f"## {entry.get('device_id')}: {d.get('cause') or 'no cause found'}", ""]
        staff = [
            ("Status", d.get("verdict")),
            ("Summary", d.get("summary")),
            ("Fix", d.get("fix")),
            ("Next step", d.get("next_step")),
            (
                "Also possible",
                ", ".join(c["cause"] for c in (d.get("candidates") or [])[1:]) or None,
            ),
        ]
        out += [f"- **{label}**: {text}" for label, text in staff if text]
        for language, message in (entry.get("messages") or {}).items():
            if not isinstance(message, dict):
                continue
            out += ["", f"### To the customer ({language}): {message.get('subject')}", ""]
            out += [f"> {line}".rstrip() for line in str(message.get("body")).splitlines()]
        out.append("")
    if len(out) == head:
        out += ["No device needed a diagnosis.", ""]
    return "\n".join(out)


def detection_histories(store: StoreReader) -> dict[str, list[tuple[float, str]]]:
    """Every device's detection changes as (t, status), oldest first, by device id.

    A device the service heard from but never judged has an empty history.
    """
    found: dict[str, list[tuple[float, str]]] = {}
    for change in store.detections():
        found.setdefault(change.device_id, []).append((change.t, change.status))
    for device_id in store.device_ids():
        found.setdefault(device_id, [])
    return found


def _json(path: Path, kind: type, keys: Iterable[str] = ()) -> Any:  # noqa: ANN401 - JSON
    if not path.is_file():
        raise RunDirError(f"{path}: missing; a run directory holds {', '.join(FILES)}")
    try:
        data: Any = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path}: broken JSON at line {exc.lineno}: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: cannot read it: {exc}") from None
    if not isinstance(data, kind):
        raise RunDirError(f"{path}: expected a JSON {kind.__name__}, found {type(data).__name__}")
    _require(path, data, keys)
    return data


def _require(path: Path, data: object, keys: Iterable[str]) -> None:
    missing = [k for k in keys if isinstance(data, dict) and k not in data]
    if missing:
        raise RunDirError(f"{path}: no {', '.join(missing)}; is it from a run directory?")
