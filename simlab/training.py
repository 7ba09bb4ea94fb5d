"""Training mode: the trainee reads the story and the service's views, names a cause per device.

After a scenario has run (`simlab.commands.train` runs it and asks the questions),
the trainee sees what support staff would see (`briefing`): the fleet at a
glance, the devices to look at (each with its detection status, when it was last seen
and what its timeline shows lately) and the incidents. Never the service's
diagnosis: that would give the answer away. The trainee names a cause for each
device, or calls it healthy (`parse_answer`, `load_answers`), and is marked
against the scenario's answer key (`mark`), with an explanation per device
(`explain`): the cause's title and fix, the evidence the service found, and
what the service itself concluded.

The devices to look at are every device the service ever judged SUSPECT or
OFFLINE, every device of the answer key, and a few healthy decoys, so that the
list does not give the answer away. Decoys and order come from a keyed hash of
the scenario's seed and each device id: the same scenario shows the same list
in the same order every time, and one more quiet device does not reshuffle
the rest.
"""

from __future__ import annotations

import difflib
import hashlib
import heapq
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import yaml

from diagnostics.diagnosis.causes import CAUSES
from protocol.causes import Cause
from simlab.rundir import RunDir
from simlab.timeline import Event, clock, device_name, is_will, lately, read_timeline

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from pathlib import Path

    from diagnostics.store import StoreReader
    from simlab.scenario import ScenarioSpec

__all__ = [
    "CHOICES",
    "AnswerError",
    "Briefing",
    "DeviceLook",
    "IncidentLook",
    "Mark",
    "Marks",
    "briefing",
    "cause_title",
    "devices_to_look_at",
    "explain",
    "load_answers",
    "mark",
    "parse_answer",
    "prompt_text",
    "service_line",
    "share",
]

CHOICES: Final[tuple[Cause, ...]] = tuple(Cause)
"""The causes a trainee chooses from, numbered from 1 in this order."""
HEALTHY_WORDS: Final = frozenset({"", "ok", "healthy", "none"})
QUIET: Final = ("SUSPECT", "OFFLINE")
STATUSES: Final = ("ONLINE", "LATE", "SUSPECT", "OFFLINE", "ASLEEP", "UNKNOWN")


class AnswerError(ValueError):
    """An answer that names no cause, or an answers file that cannot be used."""


# ---- what the trainee sees ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceLook:
    """A device on the trainee's list: its detection status and its recent timeline."""

    device_id: str
    name: str | None
    """The customer's name for it, from its SIM's inventory record."""
    status: str
    since: float | None
    last_seen: float | None
    """Time of its newest message of its own (telemetry or status; not its last will)."""
    lately: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class IncidentLook:
    """An incident the service opened."""

    id: str
    scope: str
    open: bool
    opened_at: float
    closed_at: float | None
    members: int
    quiet: int


@dataclass(frozen=True, slots=True)
class Briefing:
    """Everything the trainee is shown before answering."""

    scenario: str
    title: str
    story: str
    start: float
    end: float
    fleet: dict[str, int]
    """Devices per current detection status."""
    messages: int
    devices: list[DeviceLook]
    incidents: list[IncidentLook]


def _key(seed: int, purpose: str, device_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}/{purpose}/{device_id}".encode(), digest_size=8).digest()


def devices_to_look_at(
    *,
    quiet: Iterable[str],
    expected: Iterable[str],
    healthy: Iterable[str],
    seed: int,
    decoys: int,
) -> list[str]:
    """Quiet and expected devices with `decoys` healthy ones, in the seed's order (see module)."""
    wanted = set(quiet) | set(expected)
    pool = (d for d in healthy if d not in wanted)
    wanted |= set(heapq.nsmallest(decoys, pool, key=lambda d: _key(seed, "decoy", d)))
    return sorted(wanted, key=lambda d: _key(seed, "order", d))


def briefing(
    *, spec: ScenarioSpec, scenario: str, out: Path, decoys: int, sims: Mapping[str, str]
) -> Briefing:
    """What the trainee sees of the finished run in `out` (its database and run.json).

    Args:
        spec: the scenario as run.
        scenario: its name.
        out: the run directory.
        decoys: how many healthy devices join the list.
        sims: each device's SIM (ICCID) at the end of the run, for devices never heard from.
    """
    directory = RunDir(out)
    run = directory.read_run()
    start = spec.world.start.timestamp()
    with directory.open_database() as store:
        quiet = {v.device_id for v in store.detections() if v.status in QUIET}
        current = {c.device_id: (c.status, c.since) for c in store.current_detections()}
        seen = store.device_ids()
        messages = store.messages_count()
        affected = {a.device for a in spec.answer_key.devices}
        affected |= {t["device_id"] for t in run["truth"]}
        listed = devices_to_look_at(
            quiet=quiet,
            expected=(a.device for a in spec.answer_key.devices),
            healthy=(d for d in seen if d not in affected),
            seed=spec.world.seed,
            decoys=decoys,
        )
        looks = [_look(store, d, current.get(d), sims.get(d)) for d in listed]
    fleet = Counter(v for v, _ in current.values())
    fleet["UNKNOWN"] += len(set(seen) - set(current))
    return Briefing(
        scenario=scenario,
        title=spec.title,
        story=spec.story,
        start=start,
        end=start + float(run["duration_s"]),
        fleet={v: fleet[v] for v in STATUSES if fleet[v]},
        messages=messages,
        devices=looks,
        incidents=[_incident(i) for i in run.get("incidents", [])],
    )


def _look(
    store: StoreReader, device_id: str, current: tuple[str, float] | None, sim: str | None
) -> DeviceLook:
    timeline = read_timeline(store, device_id, sim)
    iccid = next((e.iccid for e in reversed(timeline) if e.iccid), sim)
    own = [e.t for e in timeline if e.device_id == device_id and not is_will(e)]
    status, since = current if current is not None else ("UNKNOWN", None)
    return DeviceLook(
        device_id=device_id,
        name=device_name(store, iccid),
        status=status,
        since=since,
        last_seen=max(own) if own else None,
        lately=tuple(lately(timeline)),
    )


def _incident(found: Mapping[str, Any]) -> IncidentLook:
    return IncidentLook(
        id=str(found["id"]),
        scope=f"{found['dimension']} {found['value']}",
        open=bool(found["open"]),
        opened_at=float(found["opened_at"]),
        closed_at=None if found.get("closed_at") is None else float(found["closed_at"]),
        members=int(found["members"]),
        quiet=int(found["quiet"]),
    )


# ---- answers --------------------------------------------------------------------------------


def parse_answer(text: str | int | None) -> Cause | None:
    """A trainee's answer: a number of `CHOICES`, a cause id, or ok (or nothing) for healthy.

    Raises:
        AnswerError: naming what was given and what would do.
    """
    given = "" if text is None else str(text).strip().lower()
    if given in HEALTHY_WORDS:
        return None
    if given.isdigit():
        number = int(given)
        if 1 <= number <= len(CHOICES):
            return CHOICES[number - 1]
        raise AnswerError(f"{given}: there is no cause {number}; give 1 to {len(CHOICES)}")
    try:
        return Cause(given)
    except ValueError:
        pass
    hint = _did_you_mean(given, [c.value for c in CHOICES])
    raise AnswerError(
        f"{given!r} is not a cause{hint}: give a number from 1 to {len(CHOICES)}, a cause id "
        "such as battery_depleted, or ok for healthy"
    )


def load_answers(path: Path, devices: Collection[str] | None = None) -> dict[str, Cause | None]:
    """A YAML or JSON file mapping device id to cause (a number, an id, or ok for healthy).

    `devices`, when given, are the run's devices: an answer about any other is refused.

    Raises:
        AnswerError: the file is missing, unreadable or not a mapping; or, one line each,
            every answer that names no cause or a device the run does not have.
    """
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise AnswerError(f"{path}: cannot read the answers: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise AnswerError(f"{path}: not YAML or JSON: {exc}") from None
    if data is None:  # an empty file: every device healthy
        data = {}
    if not isinstance(data, dict):
        raise AnswerError(f"{path}: give a mapping of device id to cause, e.g. collar-0007: ok")
    answers: dict[str, Cause | None] = {}
    problems: list[str] = []
    for device, given in data.items():
        if devices is not None and str(device) not in devices:
            hint = _did_you_mean(str(device), devices)
            problems.append(f"{path}: {device}: no such device in this run{hint}")
        if not isinstance(given, str | int | None) or isinstance(given, bool):
            problems.append(f"{path}: {device}: give a cause id, a number or ok")
            continue
        try:
            answers[str(device)] = parse_answer(given)
        except AnswerError as exc:
            problems.append(f"{path}: {device}: {exc}")
    if problems:
        raise AnswerError("\n".join(problems))
    return answers


def prompt_text(look: DeviceLook) -> str:
    """The question asked about one device."""
    name = f" ({look.name})" if look.name else ""
    return f"{look.device_id}{name}: cause number or id, ok if healthy"


# ---- marking --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    """One device: the trainee's answer against the answer key, and what the service said."""

    device_id: str
    answer: Cause | None
    truth: Cause | None
    """The answer key's cause; None: healthy."""
    service: Cause | None
    """The cause the service named first; None: it found nothing wrong."""
    evidence: str | None = None
    """The service's summary of its evidence."""
    details: tuple[str, ...] = ()
    """The evidence of the check that decided it."""
    confidence: float | None = None
    also: tuple[Cause, ...] = ()
    """The other causes the service considered."""

    @property
    def right(self) -> bool:
        """The trainee named the answer key's cause (or healthy for a healthy device)."""
        return self.answer == self.truth


@dataclass(frozen=True, slots=True)
class Marks:
    """The trainee's score, device by device, beside the service's own."""

    marks: list[Mark]
    service: str
    """The service's scorecard in one line."""

    @property
    def right(self) -> int:
        """Devices the trainee got right."""
        return sum(m.right for m in self.marks)

    @property
    def service_right(self) -> int:
        """Devices of the same list the service got right (its first cause)."""
        return sum(m.service == m.truth for m in self.marks)

    def total(self) -> str:
        """E.g. "4 of 5 right, 80%"."""
        return share(self.right, len(self.marks))


def share(right: int, total: int) -> str:
    """E.g. "4 of 5 right, 80%"."""
    percent = round(100 * right / total) if total else 100
    return f"{right} of {total} right, {percent}%"


def mark(
    *,
    answers: Mapping[str, Cause | None],
    spec: ScenarioSpec,
    diagnoses: Sequence[Mapping[str, Any]],
    scorecard: Mapping[str, Any],
) -> Marks:
    """Mark each answered device against the answer key (devices it does not list are healthy)."""
    key = {a.device: Cause(a.cause) for a in spec.answer_key.devices}
    said = {d["device_id"]: d["diagnosis"] for d in diagnoses}
    marks = []
    for device_id, answer in answers.items():
        found = said.get(device_id)
        service = Cause(found["cause"]) if found and found.get("cause") else None
        marks.append(
            Mark(
                device_id=device_id,
                answer=answer,
                truth=key.get(device_id),
                service=service,
                evidence=found.get("summary") if found else None,
                details=_details(found) if found else (),
                confidence=found.get("confidence") if found else None,
                also=tuple(
                    Cause(c["cause"])
                    for c in (found.get("candidates") or [] if found else [])
                    if c["cause"] != service
                ),
            )
        )
    return Marks(marks, service_line(scorecard))


def _details(found: Mapping[str, Any]) -> tuple[str, ...]:
    decided = found.get("decided_by")
    for check in found.get("checks") or []:
        if check.get("name") == decided:
            return tuple(
                f"{clock(e['t'])} {e['text']}" if e.get("t") else str(e["text"])
                for e in check.get("evidence") or []
            )
    return ()


def service_line(card: Mapping[str, Any]) -> str:
    """The service's scorecard in one line."""
    devices = card.get("devices") or []
    good = sum(d["grade"] != "wrong" for d in devices)
    parts = [f"causes {share(good, len(devices))}"]
    p50 = card.get("detect_p50_intervals")
    if p50 is not None:
        parts.append(f"detected after {p50:.1f} reporting intervals (p50)")
    alarms = len(card.get("false_alarms") or [])
    parts.append(f"{alarms} false alarm{'s' if alarms != 1 else ''}")
    incidents = card.get("incidents") or []
    if incidents:
        found = sum(bool(i["found"]) for i in incidents)
        parts.append(f"{found} of {len(incidents)} incidents found")
    parts.append("answer key met" if card.get("passed") else "answer key NOT met")
    return ", ".join(parts)


def cause_title(cause: Cause | None) -> str:
    """A cause as the trainee reads it: its id and title, or healthy."""
    return "healthy" if cause is None else f"{cause.value} ({CAUSES[cause].title})"


def explain(m: Mark) -> list[str]:
    """Why the right answer is right: the cause's fix, the evidence, what the service said."""
    lines = []
    if m.truth is None:
        lines.append("Healthy: nothing was wrong with this device and nothing needed doing.")
    else:
        info = CAUSES[m.truth]
        lines.append(f"{info.title}: {info.fix}")
    if m.evidence:
        lines.append(f"Evidence: {m.evidence}")
        lines.extend(f"  · {detail}" for detail in m.details)
    if m.service is None:
        lines.append("The service found nothing wrong with it.")
    else:
        sure = f", {m.confidence:.0%} sure" if m.confidence is not None else ""
        also = f"; it also considered {', '.join(c.value for c in m.also)}" if m.also else ""
        lines.append(f"The service said: {cause_title(m.service)}{sure}{also}.")
    return lines


def _did_you_mean(given: str, known: Iterable[str]) -> str:
    """` (did you mean X?)` for the closest of `known`, or nothing when none is close."""
    near = difflib.get_close_matches(given, list(known), n=1)
    return f" (did you mean {near[0]}?)" if near else ""
