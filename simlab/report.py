"""`simlab report`: a run directory drawn as one self-contained HTML page.

From what a run leaves behind (`run.json`, `scorecard.json`, `diagnoses.json`
and the service's `diagnostics.sqlite`) the page draws three plots: the fleet's
detection statuses over time with the faults marked, how long the service took to notice
each affected device, and the causes expected against those diagnosed. Below
them: the scorecard, the incidents, and every diagnosis with its customer
messages, fix, next step and evidence (`simlab.report_html`), after the
scenario's story. The plots are SVG drawn by matplotlib and written inline; the
page holds no script and fetches nothing, so it opens offline and travels as
one file. Times are hours since the run's start and UTC, except where a
customer is concerned: a diagnosis gives the customer's time zone.

Errors:

    ReportError   the run directory, or a file in it, is missing or broken
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from simlab.report_html import diagnosis_html, escape, table, when
from simlab.report_plots import STATUSES, plot_causes, plot_latency, plot_status, span, utc
from simlab.rundir import RUN, RunDir, RunDirError, detection_histories, open_database

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from numpy.typing import NDArray

__all__ = [
    "FleetStatus",
    "ReportError",
    "RunFiles",
    "fleet_status",
    "load_run",
    "render",
    "write_report",
]

MAX_POINTS: Final = 3000
"""The status plot keeps at most this many instants (more are sampled on a regular grid)."""


class ReportError(Exception):
    """The run directory, or one of its files, is missing or cannot be read."""


# ---- reading the run directory --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FleetStatus:
    """Devices per status over time: counts[k][j] devices had STATUSES[k] from times[j] on."""

    times: NDArray[np.float64]
    """Unix seconds, ascending; the first is the run's start."""
    counts: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class RunFiles:
    """A run directory, read."""

    directory: Path
    run: dict[str, Any]
    scorecard: dict[str, Any]
    diagnoses: list[dict[str, Any]]
    status: FleetStatus

    @property
    def start(self) -> float:
        """The run's start, Unix seconds."""
        return datetime.fromisoformat(self.run["start"]).timestamp()

    @property
    def end(self) -> float:
        """The run's end, Unix seconds."""
        return self.start + float(self.run["duration_s"])


def load_run(directory: Path) -> RunFiles:
    """Read and check a run directory.

    Raises:
        ReportError: naming the missing or broken file.
    """
    if not directory.is_dir():
        raise ReportError(f"{directory}: no such run directory")
    files = RunDir(directory)
    try:
        run = files.read_run()
        scorecard = files.read_scorecard()
        diagnoses = files.read_diagnoses()
    except RunDirError as exc:
        raise ReportError(str(exc)) from None
    try:
        start = datetime.fromisoformat(str(run["start"])).timestamp()
        end = start + float(run["duration_s"])
    except ValueError as exc:
        raise ReportError(f"{directory / RUN}: bad start or duration_s: {exc}") from None
    files.settle_database()
    status = fleet_status(files.database, start=start, end=end)
    return RunFiles(directory, run, scorecard, diagnoses, status)


def fleet_status(database: Path, *, start: float, end: float) -> FleetStatus:
    """Devices per detection status over time, from the detection histories in the database.

    Every device the service knows counts as UNKNOWN until its first detection change.

    Raises:
        ReportError: the database is missing or is not the service's.
    """
    try:
        with open_database(database) as store:
            histories = detection_histories(store)
    except RunDirError as exc:
        raise ReportError(str(exc)) from None
    rows = [(device, t, v) for device, changes in histories.items() for t, v in changes]
    unknown = STATUSES.index("UNKNOWN")
    counts0 = np.zeros(len(STATUSES), dtype=np.int64)
    counts0[unknown] = len(histories)
    if not rows:
        return FleetStatus(np.array([start, end]), np.stack([counts0, counts0], axis=1))
    index = {name: k for k, name in enumerate(STATUSES)}
    ids = np.array([row[0] for row in rows])
    t = np.array([row[1] for row in rows], dtype=np.float64)
    now = np.array([index.get(row[2], unknown) for row in rows], dtype=np.int64)
    before = np.empty_like(now)
    before[0] = unknown
    before[1:] = now[:-1]
    before[np.r_[True, ids[1:] != ids[:-1]]] = unknown  # each device starts UNKNOWN
    times = np.unique(np.r_[start, t, end])
    at = np.searchsorted(times, t)
    delta = np.zeros((len(STATUSES), len(times)), dtype=np.int64)
    np.add.at(delta, (now, at), 1)
    np.add.at(delta, (before, at), -1)
    counts = counts0[:, None] + np.cumsum(delta, axis=1)
    if len(times) > MAX_POINTS:
        grid = np.linspace(times[0], times[-1], MAX_POINTS)
        counts = counts[:, np.searchsorted(times, grid, side="right") - 1]
        times = grid
    return FleetStatus(times, counts)


# ---- the page -------------------------------------------------------------------------------

_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #212121;
       padding: 0 1em; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.n { text-align: right; }
.meta { color: #616161; } .plot svg { max-width: 100%; height: auto; }
.ok { color: #2e7d32; font-weight: bold; } .bad { color: #c62828; font-weight: bold; }
.grade-first { background: #e8f5e9; } .grade-candidate { background: #fffde7; }
.grade-wrong { background: #ffebee; }
.status-ok { background: #e8f5e9; } .status-worked_before { background: #fffde7; }
.status-never_worked { background: #ffebee; } .status-not_enough_data { background: #f5f5f5; }
.diagnosis { border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1em; margin: 1em 0; }
.diagnosis td { white-space: pre-line; }
.message { white-space: pre-wrap; background: #fafafa; border-left: 3px solid #90a4ae;
           padding: 0.5em 1em; font-family: inherit; }
"""


def _share(value: object) -> str:
    return "" if value is None else f"{float(str(value)):.0%}"


def _scorecard(files: RunFiles) -> str:
    card = files.scorecard
    passed = card.get("passed")
    headline = (
        '<p class="ok">The answer key is met.</p>'
        if passed
        else '<p class="bad">The answer key is not met.</p>'
    )
    p50, p99 = card.get("detect_p50_s"), card.get("detect_p99_s")
    i50, i99 = card.get("detect_p50_intervals"), card.get("detect_p99_intervals")
    summary = [
        ("diagnosis accuracy (first or candidate)", _share(card.get("diagnosis_accuracy"))),
        ("named first", _share(card.get("diagnosis_first"))),
        ("detection p50", "" if p50 is None else f"{span(p50)} ({i50 or 0:.1f} intervals)"),
        ("detection p99", "" if p99 is None else f"{span(p99)} ({i99 or 0:.1f} intervals)"),
        ("false alarms", ", ".join(card.get("false_alarms") or []) or "none"),
        ("healthy devices", card.get("healthy_devices")),
        ("incidents found", _share(card.get("incidents_found")) or "none expected"),
        ("spurious incidents", ", ".join(card.get("spurious_incidents") or []) or "none"),
    ]
    if card.get("swap_expected") is not None:
        summary.append(
            ("SIM swap test", f"expected {card['swap_expected']}, saw {card.get('swap_outcome')}")
        )
    devices = card["devices"]
    rows = [
        (
            d["device_id"],
            d["expected"],
            d.get("diagnosed") or "nothing",
            d.get("grade"),
            "not detected" if d.get("detect_s") is None else span(float(d["detect_s"])),
            d.get("detect_intervals"),
        )
        for d in devices
    ]
    return (
        headline
        + table(("measure", "value"), summary)
        + table(
            ("device", "expected cause", "diagnosed", "grade", "detected after", "intervals"),
            rows,
            (f"grade-{d.get('grade')}" for d in devices),
        )
    )


def _scope(incident: dict[str, Any]) -> str:
    """An incident's group, and for a platform group the cause its devices share."""
    scope = f"{incident.get('dimension')} {incident.get('value')}"
    if incident.get("kind") == "platform":
        return f"{scope} (platform: {incident.get('cause')}, not a network outage)"
    return scope


def _incidents(files: RunFiles) -> str:
    start = files.start
    found = files.run.get("incidents") or []
    parts = []
    if found:
        parts.append(
            table(
                ("scope", "state", "opened", "closed", "devices", "quiet", "muted"),
                (
                    (
                        _scope(i),
                        "open" if i.get("open") else "closed",
                        when(i.get("opened_at"), start),
                        when(i.get("closed_at"), start),
                        i.get("members"),
                        i.get("quiet"),
                        "yes" if i.get("muted") else "no",
                    )
                    for i in found
                ),
            )
        )
    else:
        parts.append("<p>The service opened no incident.</p>")
    expected = files.scorecard.get("incidents") or []
    if expected:
        parts.append("<p>The answer key's incidents:</p>")
        parts.append(
            table(
                ("scope", "found", "opened after"),
                (
                    (
                        f"{i['dimension']} {i['value']}",
                        "yes" if i.get("found") else "no",
                        "" if i.get("delay_s") is None else span(float(i["delay_s"])),
                    )
                    for i in expected
                ),
                ("grade-first" if i.get("found") else "grade-wrong" for i in expected),
            )
        )
    swaps = files.run.get("swap_tests") or []
    if swaps:
        parts.append("<h3>SIM swap tests</h3>")
        parts.append(
            table(
                ("suspect device", "good device", "registered", "outcome", "what it showed"),
                (
                    (
                        (t.get("test") or {}).get("suspect_device"),
                        (t.get("test") or {}).get("good_device"),
                        when((t.get("test") or {}).get("at"), start),
                        t.get("outcome"),
                        t.get("summary"),
                    )
                    for t in swaps
                ),
            )
        )
    return "".join(parts)


def _story(run: Mapping[str, Any]) -> str:
    """The scenario's summary and the customer's story, as run.json keeps them."""
    summary, story = run.get("summary"), run.get("story")
    parts = [f"<p>{escape(str(summary))}</p>"] if summary else []
    if story:
        parts += ["<h2>Story</h2>", f'<pre class="message story">{escape(str(story))}</pre>']
    return "".join(parts)


def render(files: RunFiles) -> str:
    """The whole page."""
    run = files.run
    start = files.start
    title = str(run.get("title") or run.get("scenario") or files.directory.name)
    meta = (
        f"Scenario {run.get('scenario')}, seed {run.get('seed')}: "
        f"{utc(start)} to {utc(files.end)} UTC ({float(run['duration_s']) / 3600:g} h), "
        f"{int(run.get('messages') or 0):,} messages, speed {run.get('speed')}, "
        f"{float(run.get('wall_s') or 0):.1f} s wall clock. "
        "Times are in hours since the start and on the clock: UTC, except in a diagnosis, "
        "which gives the customer's time zone."
    )
    diagnoses = "".join(diagnosis_html(e, start) for e in files.diagnoses) or (
        "<p>No device needed a diagnosis.</p>"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}: simlab report</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            f'<p class="meta">{escape(meta)}</p>',
            _story(run),
            "<h2>Fleet status</h2>",
            f'<div class="plot">{plot_status(files)}</div>',
            "<h2>Detection latency</h2>",
            f'<div class="plot">{plot_latency(files)}</div>',
            "<h2>Causes</h2>",
            f'<div class="plot">{plot_causes(files)}</div>',
            "<h2>Scorecard</h2>",
            _scorecard(files),
            "<h2>Incidents and swap tests</h2>",
            _incidents(files),
            "<h2>Diagnoses and customer messages</h2>",
            diagnoses,
            "</body></html>",
            "",
        ]
    )


def write_report(directory: Path, output: Path | None = None) -> Path:
    """Write the page for `directory` to `output` (default: report.html in it); returns the path.

    Raises:
        ReportError: naming the missing or broken file of the run directory.
    """
    files = load_run(directory)
    target = output or directory / "report.html"
    try:
        target.write_text(render(files), encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{target}: cannot write the report: {exc.strerror}") from None
    return target
