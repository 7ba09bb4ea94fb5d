"""Scoring a generated world against its ground truth, strictly: causes, alarms, incidents, words.

Per affected device (a truth record the service had a fair chance to see: it
lasted, by the moment support looked, at least `EVIDENCE` report intervals
plus a quarter hour; one told only by the device's silence, since its last
report: `evident`), the cause the service named first must be the truth
(`cause_first`); `cause_right` also takes the truth named as a candidate
beside the cause named first, only for a pair of `protocol.inseparable` and
with that pair's separating test proposed. A false alarm is an OFFLINE change
of a device with no fault then (nor in the `RECOVERY` after one ended). Incidents are
scored by `simlab.fuzz.score_incidents`.
Every message and staff summary the service wrote goes through `simlab.fuzz.words`.
Each failure is counted under a short class name ("wrong cause: congestion
for reconnect_storm", "psm false offline", "message: stop time").
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from protocol.causes import Cause
from protocol.inseparable import separable_by
from simlab.fuzz.counts import group_faults, owed
from simlab.fuzz.score_incidents import absolute_truth as _abs
from simlab.fuzz.score_incidents import score_incidents as _incidents
from simlab.fuzz.words import Facts, check
from simulator.world.spec import parse_duration

if TYPE_CHECKING:
    from collections.abc import Collection

    from simlab.fuzz.draft import Draft
    from simlab.fuzz.runner import Observed
    from simlab.fuzz.stream import Stream
    from simulator.world.truth import TruthRecord

__all__ = [
    "EVIDENCE",
    "RECOVERY",
    "SAMPLE",
    "TOLD_BY_SILENCE",
    "WorldCard",
    "evident",
    "sample",
    "score_world",
]

EVIDENCE: Final = 1.5
"""Report intervals (plus `EVIDENCE_SLACK_S`) a fault must have lasted to be scored."""
EVIDENCE_SLACK_S: Final = 900.0
RECOVERY: Final = 2.0
"""Report intervals (plus an hour) after a fault's end in which OFFLINE is still its own."""
LOOK_BEFORE_END_S: Final = 300.0
SILENT_FAULTS: Final = frozenset(
    {
        Cause.COVERAGE_LOSS,
        Cause.POWER_LOSS,
        Cause.BATTERY_DEPLETED,
        Cause.RADIO_HARDWARE,
    }
)
"""Faults that put nothing on the wire but the device's silence (see `_down_at`).

Not a firmware hang: the device-management server tells of the update that hangs it."""
TOLD_BY_SILENCE: Final = SILENT_FAULTS - {Cause.BATTERY_DEPLETED}
"""Faults the service can tell only once the device has gone quiet under them (`evident`).

The device may report on for a while after one begins (a signal fading over three hours, a
broken antenna keeping its cell for up to an hour), and those reports are a working device's:
until it goes quiet, the wire shows nothing of the fault. A failing battery is told from its
own readings while the device still reports (`diagnostics.diagnosis.battery`)."""
QUIET_BEFORE_S: Final = 5400.0
"""A device still trying tries within this (GSMA TS.34's back-off cap of an hour, with its
jitter): one that made no attempt and got no answer that long before a new fault began had
stopped already, and the new fault's silence shows nothing. One still trying shows it by
its attempts stopping (an operator going off air under a device refused its sessions), and
an answer a moment before the fault's record opens is its word (a refusal abroad)."""
SAMPLE: Final = 40
"""At most this many affected devices of a world are diagnosed and scored (a seeded sample),
and as many of its alarmed devices: a fleet of thousands costs no more."""
SAMPLE_HEALTHY: Final = 8
"""Devices with no fault and no alarm whose messages are checked too."""


def sample(
    draft: Draft, truth: list[TruthRecord], histories: dict[str, list[tuple[float, str]]]
) -> set[str]:
    """The devices of a world that are diagnosed and scored (see `SAMPLE`)."""
    rng = random.Random(f"simlab-fuzz/sample/{draft.seed}")
    affected = sorted({r.device_id for r in truth})
    alarmed = sorted(
        d for d, h in histories.items() if d not in affected and any(s == "OFFLINE" for _, s in h)
    )
    rest = sorted(set(draft.devices()) - set(affected) - set(alarmed))
    chosen: set[str] = set()
    for devices, most in ((affected, SAMPLE), (alarmed, SAMPLE), (rest, SAMPLE_HEALTHY)):
        chosen |= set(devices if len(devices) <= most else rng.sample(devices, most))
    return chosen


@dataclass(slots=True)
class WorldCard:
    """One world's figures and its failures by class."""

    seed: int
    devices: int = 0
    device_days: float = 0.0
    affected: int = 0
    too_recent: int = 0
    unsampled: int = 0
    """Affected devices left out of the sample."""
    cause_first: int = 0
    cause_right: int = 0
    false_alarms: int = 0
    spurious_incidents: int = 0
    missed_incidents: int = 0
    swap_tests: int = 0
    swap_right: int = 0
    messages: int = 0
    fact_errors: int = 0
    missing_facts: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    """One example (device or group) per failure class."""

    @property
    def failed(self) -> bool:
        """Whether anything went wrong in this world."""
        return bool(self.failures)

    def fail(self, kind: str, example: str) -> None:
        """Count one failure of class `kind`."""
        self.failures[kind] += 1
        self.examples.setdefault(kind, example)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for JSON (classes sorted)."""
        data = {k: getattr(self, k) for k in self.__slots__ if k not in {"failures", "examples"}}
        data["device_days"] = round(self.device_days, 3)
        data["failures"] = dict(sorted(self.failures.items()))
        data["examples"] = dict(sorted(self.examples.items()))
        return data


def _interval(observed: Observed, device_id: str) -> float:
    for g in observed.draft.groups:
        if g.has(device_id):
            return float(parse_duration(g.spec["report_interval"]))  # type: ignore[arg-type]
    return 900.0


def _psm(observed: Observed, device_id: str) -> bool:
    return any(g.has(device_id) and g.spec.get("psm") for g in observed.draft.groups)


def _evident(observed: Observed, record: TruthRecord, at: float) -> bool:
    last_report = observed.stream.last_report(record.device_id, at)
    interval_s = _interval(observed, record.device_id)
    return evident(record, at, interval_s=interval_s, last_report=last_report)


def evident(
    record: TruthRecord, at: float, *, interval_s: float, last_report: float | None
) -> bool:
    """Whether the fault had lasted long enough by `at` to be seen (see `EVIDENCE`).

    Counted from its start; for a fault told only by silence (`TOLD_BY_SILENCE`), from the
    device's last report (`last_report`, the newest received by `at`; None: it never
    reported) where that came later: before it, the device still reported.
    """
    since = record.start
    if record.cause in TOLD_BY_SILENCE and last_report is not None:
        since = max(since, last_report)
    return at - since >= EVIDENCE * interval_s + EVIDENCE_SLACK_S


def _down_at(
    truth: list[TruthRecord],
    device_id: str,
    t: float,
    stream: Stream | None = None,
    sims: Collection[str] = (),
) -> TruthRecord | None:
    """The device's trouble at `t`: of its records open then, the newest the wire can show.

    A fault that begins while the device is silent under an earlier one (still open, or
    ending just then; no report of the device between their starts) changes nothing on the
    wire where its whole effect is the device's silence (`SILENT_FAULTS`), or where nothing
    from `QUIET_BEFORE_S` before its start on could tell of it (`Stream.quiet`: a storm of a
    device whose forbidden list had long stopped it trying): the earlier one is what the
    evidence shows, and what is scored. One the network or the platform speaks of (a SIM
    deactivated, a refusal) is the newest word whenever it comes. `sims`: the SIMs the
    device held (`_sims`), whose network events are its words too. With no `stream`: the
    newest record open at `t`.
    """
    mine = [r for r in truth if r.device_id == device_id]
    shown = max(
        (r for r in mine if r.start <= t and (r.end is None or r.end > t)),
        key=lambda r: r.start,
        default=None,
    )
    if stream is None:
        return shown
    keys = (device_id, stream.sim_of(device_id, t), stream.status_sims.get(device_id), *sims)
    while shown is not None and (
        shown.cause in SILENT_FAULTS or stream.quiet(keys, shown.start - QUIET_BEFORE_S, t)
    ):
        last = stream.last_report(device_id, shown.start)
        under = [
            r
            for r in mine
            if r.start < shown.start
            and (r.end is None or r.end >= shown.start)
            and (last is None or last <= r.start)
        ]
        if not under:
            break
        shown = max(under, key=lambda r: r.start)
    return shown


def _sims(observed: Observed, device_id: str) -> set[str]:
    """Every SIM the world put in the device: its own, and those of the devices it swapped with."""
    world = observed.result.world
    own = world.device_sims() if world is not None else {}
    mates = {device_id} | {
        other
        for swap in observed.draft.swaps
        if device_id in (pair := {swap["device"], swap["into"]})
        for other in pair
    }
    return {own[d] for d in mates if d in own}


def score_world(observed: Observed) -> WorldCard:
    """The card of one world (see the module)."""
    draft = observed.draft
    end = observed.t0 + observed.until
    card = WorldCard(seed=draft.seed, devices=len(draft.devices()))
    card.device_days = card.devices * observed.until / 86_400
    truth = _abs(observed)
    chosen = sample(draft, truth, observed.histories)
    observed.diagnoses = [d for d in observed.diagnoses if d["device_id"] in chosen]
    by_device = {d["device_id"]: d for d in observed.diagnoses}
    card.unsampled = len({r.device_id for r in truth} - chosen)
    _causes(observed, card, truth, by_device, end, chosen)
    _alarms(observed, card, truth)
    _incidents(observed, card)
    _swaps(observed, card)
    _words(observed, card, truth)
    return card


def _causes(
    observed: Observed,
    card: WorldCard,
    truth: list[TruthRecord],
    by_device: dict[str, dict[str, Any]],
    end: float,
    chosen: set[str],
) -> None:
    last = {r.device_id: r for r in truth}  # the record support looks at, as collect does
    for device_id, record in sorted(last.items()):
        if device_id not in chosen:
            continue  # not in the sample
        look = end
        if record.end is not None and record.end < end:
            look = max(record.start, record.end - LOOK_BEFORE_END_S)
        if not _evident(observed, record, min(look, record.end or look)):
            card.too_recent += 1
            continue
        card.affected += 1
        at = min(look, record.end or look)
        shown = _down_at(truth, device_id, at, observed.stream, _sims(observed, device_id))
        expected = (shown or record).cause.value
        body = by_device.get(device_id, {}).get("diagnosis") or {}
        named = body.get("cause")
        candidates = [c["cause"] for c in body.get("candidates", [])]
        test = body.get("separating_test") or ""
        if named == expected:
            card.cause_first += 1
            card.cause_right += 1
            continue
        pair = separable_by(named, expected) if named else None
        if pair is not None and expected in candidates and pair.lower() in test.lower():
            card.cause_right += 1
            continue
        kind = f"wrong cause: {named} for {expected}" if named else f"no cause for {expected}"
        card.fail(kind, device_id)


def _alarms(observed: Observed, card: WorldCard, truth: list[TruthRecord]) -> None:
    for device_id, history in sorted(observed.histories.items()):
        grace = RECOVERY * _interval(observed, device_id) + 3600
        spans = [
            (r.start, None if r.end is None else r.end + grace)
            for r in truth
            if r.device_id == device_id
        ]
        for t, status in history:
            if status != "OFFLINE":
                continue
            if any(a <= t and (b is None or t <= b) for a, b in spans):
                continue
            card.false_alarms += 1
            card.fail(
                "psm false offline" if _psm(observed, device_id) else "false offline", device_id
            )


def _swaps(observed: Observed, card: WorldCard) -> None:
    expected = observed.draft.swap_verdict
    if expected is None:
        return
    card.swap_tests += 1
    outcome = observed.swap_tests[-1].get("outcome") if observed.swap_tests else None
    if outcome == expected:
        card.swap_right += 1
    else:
        card.fail(f"swap verdict: {outcome} for {expected}", str(observed.draft.seed))


def _swap_done(observed: Observed, device_id: str, at: float) -> bool:
    """Whether the device's SIM swap test had been done (the SIMs swapped) by `at`."""
    tested = {
        name
        for action in observed.draft.actions
        if (test := action.get("swap_test"))
        for name in (test.get("sim_of"), test.get("into"))
    }
    return device_id in tested and any(
        observed.t0 + float(parse_duration(swap["at"])) <= at  # type: ignore[arg-type]
        and device_id in {swap["device"], swap["into"]}
        for swap in observed.draft.swaps
    )


def _words(observed: Observed, card: WorldCard, truth: list[TruthRecord]) -> None:
    stream = observed.stream
    intervals = {
        d: float(parse_duration(g.spec["report_interval"]))  # type: ignore[arg-type]
        for g in observed.draft.groups
        for d in g.ids
    }
    for entry in observed.diagnoses:
        device_id = entry["device_id"]
        body = entry["diagnosis"]
        message = entry["messages"].get("en", {})
        if "error" in message:
            card.fail("service error: message", device_id)
            continue
        card.messages += 1
        at = float(body["at"])
        # a diagnosis that names no SIM is still about the one the device reports with
        iccid = body.get("iccid") or stream.sim_of(device_id, at)
        record = stream.records.get(iccid or "")
        down = _down_at(truth, device_id, at, stream, _sims(observed, device_id))
        resumes = body.get("resumes") or body["facts"].get("backoff_until")
        counts, recent = [], []
        for incident in observed.incidents:
            scope = (incident["dimension"], str(incident["value"]))
            members = stream.members(*scope, at)
            if members is None:
                continue  # no report tells this dimension: nothing to hold the count to
            faults = [f for m in members if (f := _down_at(truth, m, at)) is not None]
            counts.append((*scope, len(faults), len(members)))
            struck_by = group_faults(observed.draft, *scope)
            rhythm = {
                f.device_id: stream.rhythm(f.device_id, at, intervals.get(f.device_id, 900.0))
                for f in faults
            }
            owing = [
                owed(
                    f,
                    at=at,
                    last_report=stream.silent_since(f.device_id, at, rhythm[f.device_id]),
                    interval_s=rhythm[f.device_id],
                    struck_by=struck_by,
                    # from its start: `owed` holds the device's silence itself
                    evident=evident(
                        f, at, interval_s=intervals.get(f.device_id, 900.0), last_report=None
                    ),
                    counted_cause=incident.get("cause")
                    if incident.get("kind") == "platform"
                    else None,
                )
                for f in faults
            ]
            recent.append((*scope, owing.count(False)))
        facts = Facts(
            device_id=device_id,
            name=record.device_name if record else None,
            at=at,
            last_report=stream.last_report(device_id, at),
            interval_s=_interval(observed, device_id),
            battery_reported=stream.reported_battery(device_id, at),
            sim_works=stream.sim_works(iccid, at),
            attached=stream.attached(iccid, at),
            swap_done=_swap_done(observed, device_id, at),
            down_cause=None if down is None else down.cause.value,
            evident=down is not None and _evident(observed, down, at),
            resumes=float(resumes) if isinstance(resumes, int | float) else None,
            counts=tuple(counts),
            recent=tuple(recent),
        )
        staff = " ".join(
            [body.get("summary") or "", body.get("next_step") or "", body.get("fix") or ""]
            + [c.get("summary") or "" for c in body.get("checks", [])]
        )
        errors, missing = check(facts, message["body"], tuple(message.get("steps", ())), staff)
        card.fact_errors += len(errors)
        card.missing_facts += len(missing)
        for finding in (*errors, *missing):
            card.fail(finding.kind, finding.detail)
