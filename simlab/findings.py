"""After the world has run: what the service found, asked through its API, and scored.

The scorer reads each device's detection history from the service's database, asks
the API for the diagnoses (of every device in a small fleet; else of the expected,
affected and alarmed ones), each at a moment its fault is still on, with the
customer messages in the run's languages, then the incidents, the swap tests and the
fleet messages,
and holds all of it against the ground truth and the answer key (`simlab.scoring`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from simlab.rundir import detection_histories, open_database
from simlab.scoring import (
    DeviceView,
    ExpectedDevice,
    ExpectedFleetMessage,
    ExpectedIncident,
    Scorecard,
    TruthSpan,
    score,
)

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from simlab.scenario import ScenarioSpec
    from simulator.world.simulate import RunResult

__all__ = ["DIAGNOSE_ALL_UP_TO", "LOOK_BEFORE_END_S", "Findings", "collect", "fleet_at_end"]

LOOK_BEFORE_END_S: Final = 300.0
"""A fault that ends before the run is diagnosed this long before its end (still on)."""
DIAGNOSE_ALL_UP_TO: Final = 500
"""Fleets up to this size have every device diagnosed; larger ones only the expected and
alarmed devices (the rest are checked for alarms in the detection history)."""


@dataclass(slots=True)
class Findings:
    """What the service said about the run, and how it scored."""

    scorecard: Scorecard
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    swap_tests: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    fleet: dict[str, int] = field(default_factory=dict)
    """Devices per detection status at the end of the run, as the service shows them."""
    fleet_messages: list[dict[str, Any]] = field(default_factory=list)
    """One message per account and cause that many devices share, per language."""


def collect(  # noqa: PLR0913 - keyword-only: each is one part of the finished run
    client: httpx.Client,
    *,
    spec: ScenarioSpec,
    database: Path,
    result: RunResult,
    t0: float,
    until: float,
    swap_ids: list[str],
    languages: tuple[str, ...],
    only: set[str] | None = None,
) -> Findings:
    """Ask the service about the run that ended at `t0` + `until` and score it (see module).

    With `only`, only those devices are diagnosed (a sample of a large fleet).
    """
    end = t0 + until
    truth = [
        TruthSpan(r.device_id, r.cause.value, t0 + r.start, None if r.end is None else t0 + r.end)
        for r in result.truth
    ]
    expected = [
        ExpectedDevice(
            d.device,
            str(d.cause),
            t0 + d.start,
            None if d.sim_state is None else d.sim_state.name,
        )
        for d in spec.answer_key.devices
    ]
    with open_database(database) as store:
        history = detection_histories(store)
    devices = sorted(history)
    ever_quiet = {d for d, h in history.items() if any(v == "OFFLINE" for _, v in h)}
    wanted = {e.device_id for e in expected} | {t.device_id for t in truth} | ever_quiet
    if len(devices) <= DIAGNOSE_ALL_UP_TO:
        wanted |= set(devices)
    if only is not None:
        wanted &= only
    looks = {t.device_id: _look(t, end) for t in truth}
    world = result.world
    sims = world.device_sims() if world is not None else {}
    views: dict[str, DeviceView] = {}
    diagnoses: list[dict[str, Any]] = []
    for device_id in sorted(wanted):
        at = looks.get(device_id, end)
        path = f"/api/devices/{device_id}"
        answer = client.get(f"{path}/diagnosis", params={"at": at})
        if answer.status_code == 404 and device_id in sims:
            # the device never reported: support looks the SIM up instead
            path = f"/api/sims/{sims[device_id]}"
            answer = client.get(f"{path}/diagnosis", params={"at": at})
        if answer.status_code == 404:  # never seen at all: nothing to diagnose
            views[device_id] = DeviceView(device_id, 0.0, tuple(history.get(device_id, ())), None)
            continue
        answer.raise_for_status()
        body = answer.json()
        detail = client.get(f"/api/devices/{device_id}")
        shown = detail.json() if detail.status_code == 200 else {}
        interval = float(shown.get("announced_interval_s") or shown.get("interval_s") or 0.0)
        views[device_id] = DeviceView(
            device_id,
            interval,
            tuple(history.get(device_id, ())),
            body["cause"],
            tuple(c["cause"] for c in body["candidates"]),
            body["separating_test"],
            body["started"],
            at,
            body["facts"].get("last_report"),
            body["facts"].get("state"),
        )
        if body["cause"] is not None or device_id in looks or device_id in ever_quiet:
            messages = {lang: _message(client, path, at, lang) for lang in languages}
            record = shown.get("record") or {}
            diagnoses.append(
                {
                    "device_id": device_id,
                    "time_zone": record.get("time_zone"),  # the customer's, for the report
                    "diagnosis": body,
                    "messages": messages,
                }
            )
    for device_id in devices:  # devices not diagnosed still count for alarms
        views.setdefault(
            device_id, DeviceView(device_id, 0.0, tuple(history.get(device_id, ())), None)
        )
    incidents = client.get("/api/incidents").json()["items"]
    looked = sorted({looks.get(d["device_id"], end) for d in diagnoses if d["diagnosis"]["cause"]})
    swaps = [client.get(f"/api/swap-tests/{i}", params={"at": end}).json() for i in swap_ids]
    key = spec.answer_key
    fleet_messages = _fleet_messages(client, looked, languages)
    card = score(
        expected=expected,
        expected_incidents=[
            ExpectedIncident(i.dimension.value, str(i.value), t0 + i.start, i.kind)
            for i in key.incidents
        ],
        truth=truth,
        views=views,
        incidents=[(i["dimension"], i["value"], i["opened_at"], i["kind"]) for i in incidents],
        swap_expected=None if key.swap_verdict is None else key.swap_verdict.value,
        swap_outcome=swaps[-1]["outcome"] if swaps else None,
        fleet_expected=[
            ExpectedFleetMessage(m.account, m.cause.value, m.count) for m in key.fleet_messages
        ],
        fleet_shown=fleet_messages,
    )
    return Findings(
        scorecard=card,
        diagnoses=diagnoses,
        swap_tests=swaps,
        incidents=incidents,
        fleet=fleet_at_end(history),
        fleet_messages=fleet_messages,
    )


def _fleet_messages(
    client: httpx.Client, moments: list[float], languages: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The fleet messages at the moments support looked, the largest of each account and cause."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for at in moments:
        for lang in languages:
            page = client.get("/api/fleet/messages", params={"at": at, "lang": lang})
            page.raise_for_status()
            for message in page.json()["items"]:
                key = (message["account"], message["cause"], lang)
                if key not in found or message["count"] > found[key]["count"]:
                    found[key] = message
    return [found[k] for k in sorted(found)]


def _message(client: httpx.Client, path: str, at: float, lang: str) -> dict[str, Any]:
    """The customer message, or what went wrong asking for it (the service failed to write it)."""
    answer = client.get(f"{path}/message", params={"at": at, "lang": lang})
    if answer.status_code != 200:
        return {"error": answer.status_code, "detail": answer.text[:500]}
    body: dict[str, Any] = answer.json()
    return body


def fleet_at_end(history: dict[str, list[tuple[float, str]]]) -> dict[str, int]:
    """Devices per last detection status, OFFLINE always among them; never judged is UNKNOWN."""
    counts: dict[str, int] = {"OFFLINE": 0}
    for changes in history.values():
        status = changes[-1][1] if changes else "UNKNOWN"
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _look(truth: TruthSpan, end: float) -> float:
    """When support looks at a device: while its fault is still on."""
    if truth.end is not None and truth.end < end:
        return max(truth.start, truth.end - LOOK_BEFORE_END_S)
    return end
