"""The report's plots: matplotlib figures written as inline SVG.

Three pictures of a run (`simlab.report` lays them out): the fleet's detection statuses
over time with the faults marked, the detection latency of each affected
device, and the causes expected against those diagnosed. Figures are made
with the object API on the Agg canvas (no pyplot, no global state) and saved
as SVG with text kept as text; each SVG's ids get a prefix of its own so that
several can share one page.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import NDArray

    from simlab.report import RunFiles

__all__ = [
    "COLOURS",
    "GRADE_COLOURS",
    "STATUSES",
    "TROUBLE",
    "cause_counts",
    "plot_causes",
    "plot_latency",
    "plot_status",
    "span",
    "utc",
]

STATUSES: Final = ("ONLINE", "ASLEEP", "LATE", "SUSPECT", "OFFLINE", "UNKNOWN")
"""Stacked bottom to top: the healthy statuses first, trouble on top where the eye looks."""
TROUBLE: Final = ("LATE", "SUSPECT", "OFFLINE")
COLOURS: Final = {
    "ONLINE": "#4caf50",
    "ASLEEP": "#64b5f6",
    "LATE": "#fdd835",
    "SUSPECT": "#fb8c00",
    "OFFLINE": "#e53935",
    "UNKNOWN": "#bdbdbd",
}
GRADE_COLOURS: Final = {"first": "#4caf50", "candidate": "#fdd835", "wrong": "#e53935"}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - slow import
    from matplotlib.figure import Figure  # noqa: PLC0415 - likewise

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _svg(figure: Figure, name: str) -> str:
    """The figure as inline SVG: no prolog, no namespaces (HTML knows svg), ids of its own."""
    import matplotlib as mpl  # noqa: PLC0415 - slow import

    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text, count=2)
    text = text.replace('id="', f'id="{name}-').replace('href="#', f'href="#{name}-')
    text = text.replace("url(#", f"url(#{name}-")
    return text.replace("<svg ", f'<svg role="img" aria-label="{name} plot" ', 1)


def _hours(t: float | NDArray[np.float64], start: float) -> Any:  # noqa: ANN401 - float or array
    return (t - start) / 3600.0


def plot_status(files: RunFiles) -> str:
    """Devices per status over time (stacked), the troubled ones below, the faults marked."""
    start, status = files.start, files.status
    figure = _figure(9.5, 5.2)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1.6))
    x = _hours(status.times, start)
    shown = [k for k, name in enumerate(STATUSES) if status.counts[k].any()]
    top.stackplot(
        x,
        *(status.counts[k] for k in shown),
        labels=[STATUSES[k] for k in shown],
        colors=[COLOURS[STATUSES[k]] for k in shown],
        step="post",
        linewidth=0,
    )
    top.set_ylabel("devices")
    top.set_ylim(0, max(1, int(status.counts.sum(axis=0).max())))
    top.set_title("Fleet status over time")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    for name in TROUBLE:
        k = STATUSES.index(name)
        bottom.step(x, status.counts[k], where="post", color=COLOURS[name], label=name, lw=1.6)
    bottom.set_ylabel("devices")
    bottom.set_title("late, suspect and offline devices", fontsize=9, loc="left")
    trouble = max(1, int(status.counts[[STATUSES.index(n) for n in TROUBLE]].max()))
    bottom.set_ylim(0, trouble * 1.15 + 0.5)
    bottom.yaxis.set_major_locator(_whole())
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    bottom.set_xlabel(f"hours since {utc(start)} (UTC)")
    bottom.set_xlim(0, _hours(files.end, start))
    _mark_faults((top, bottom), files)
    return _svg(figure, "status")


def _mark_faults(axes: Sequence[Axes], files: RunFiles) -> None:
    groups: Counter[tuple[str, float, float | None]] = Counter()
    names: dict[tuple[str, float, float | None], str] = {}
    for fault in files.run["truth"]:
        key = (str(fault["cause"]), float(fault["start"]), fault.get("end"))
        groups[key] += 1
        names.setdefault(key, str(fault["device_id"]))
    end = _hours(files.end, files.start)
    for n, (key, count) in enumerate(sorted(groups.items(), key=lambda g: g[0][1])):
        cause, begin, stop = key
        left = begin / 3600
        right = end if stop is None else float(stop) / 3600
        for ax in axes:
            ax.axvspan(left, right, color="#7b1fa2", alpha=0.08, lw=0)
            ax.axvline(left, color="#7b1fa2", ls="--", lw=1)
            if stop is not None:
                ax.axvline(right, color="#7b1fa2", ls=":", lw=1)
        who = names[key] if count == 1 else f"{count} devices"
        until = "" if stop is None else f" to {right:.1f} h"
        axes[0].annotate(
            f"{cause}: {who}, from {left:.1f} h{until}",
            xy=(left, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -14 - 13 * n),
            textcoords="offset points",
            fontsize=8,
            color="#4a148c",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
        )


def plot_latency(files: RunFiles) -> str:
    """Detection latency per affected device, in reporting intervals, coloured by grade."""
    devices = sorted(files.scorecard["devices"], key=lambda d: str(d["device_id"]))
    figure = _figure(9.5, 1.9 + 0.3 * max(1, len(devices)))
    ax = figure.subplots()
    ax.set_title("Detection latency per affected device")
    ax.set_xlabel("reporting intervals from the fault (or the last report) to SUSPECT/OFFLINE")
    if not devices:
        ax.text(0.5, 0.5, "no affected devices in the answer key", ha="center", va="center")
        ax.set_axis_off()
        return _svg(figure, "latency")
    y = np.arange(len(devices))
    values = [d.get("detect_intervals") or 0.0 for d in devices]
    colours = [GRADE_COLOURS.get(str(d.get("grade")), "#9e9e9e") for d in devices]
    ax.barh(y, values, color=colours, height=0.6)
    ax.set_yticks(y, [str(d["device_id"]) for d in devices], fontsize=8)
    ax.invert_yaxis()
    top = max([*values, 1.0])
    ax.set_xlim(0, top * 1.3)
    for row, d in enumerate(devices):
        if d.get("detect_s") is None:
            label = "not detected"
        elif d.get("detect_intervals") is None:
            label = span(float(d["detect_s"]))
        else:
            label = f"{d['detect_intervals']:.1f} ({span(float(d['detect_s']))})"
        ax.text(values[row] + top * 0.01, row, label, va="center", fontsize=8)
    handles = [_patch(colour, f"diagnosis {grade}") for grade, colour in GRADE_COLOURS.items()]
    figure.legend(handles=handles, loc="outside right upper", fontsize=8)
    return _svg(figure, "latency")


def _whole() -> Any:  # noqa: ANN401 - a matplotlib locator
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 - slow import

    return MaxNLocator(integer=True)


def _patch(colour: str, label: str) -> Any:  # noqa: ANN401 - a matplotlib artist
    from matplotlib.patches import Patch  # noqa: PLC0415 - slow import

    return Patch(color=colour, label=label)


def cause_counts(files: RunFiles) -> dict[str, dict[str, int]]:
    """Per cause: expected (answer key), named right, a candidate with its test, named wrongly."""
    counts: dict[str, Counter[str]] = {}
    scored = set()
    for d in files.scorecard["devices"]:
        scored.add(d["device_id"])
        expected, diagnosed, grade = str(d["expected"]), d.get("diagnosed"), d.get("grade")
        counts.setdefault(expected, Counter())["expected"] += 1
        if diagnosed == expected:
            counts[expected]["right"] += 1
        elif grade == "candidate":
            counts[expected]["candidate"] += 1
        if diagnosed is not None and diagnosed != expected:
            counts.setdefault(str(diagnosed), Counter())["wrong"] += 1
    for entry in files.diagnoses:
        cause = (entry.get("diagnosis") or {}).get("cause")
        if entry.get("device_id") not in scored and cause is not None:
            counts.setdefault(str(cause), Counter())["wrong"] += 1
    kinds = ("expected", "right", "candidate", "wrong")
    return {c: {k: counts[c][k] for k in kinds} for c in sorted(counts)}


def plot_causes(files: RunFiles) -> str:
    """For each cause: how many devices the answer key expects, and what the service named."""
    counts = cause_counts(files)
    figure = _figure(9.5, 1.9 + 0.55 * max(1, len(counts)))
    ax = figure.subplots()
    ax.set_title("Causes: expected against diagnosed")
    ax.set_xlabel("devices")
    if not counts:
        ax.text(0.5, 0.5, "no cause expected and none diagnosed", ha="center", va="center")
        ax.set_axis_off()
        return _svg(figure, "causes")
    y = np.arange(len(counts))
    rows = list(counts.values())
    ax.barh(y - 0.2, [r["expected"] for r in rows], height=0.36, color="#90a4ae", label="expected")
    left = np.zeros(len(rows))
    for kind, colour, label in (
        ("right", GRADE_COLOURS["first"], "diagnosed, right"),
        ("candidate", GRADE_COLOURS["candidate"], "a candidate, with its test"),
        ("wrong", GRADE_COLOURS["wrong"], "diagnosed, but not the cause"),
    ):
        widths = np.array([r[kind] for r in rows], dtype=np.float64)
        ax.barh(y + 0.2, widths, left=left, height=0.36, color=colour, label=label)
        left += widths
    ax.set_yticks(y, list(counts), fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(_whole())
    most = max(*(r["expected"] for r in rows), float(left.max()), 1.0)
    ax.set_xlim(0, most * 1.12)
    for row, r in enumerate(rows):
        ax.text(r["expected"] + most * 0.01, row - 0.2, str(r["expected"]), va="center", fontsize=8)
        ax.text(left[row] + most * 0.01, row + 0.2, f"{left[row]:.0f}", va="center", fontsize=8)
    figure.legend(loc="outside right upper", fontsize=8)
    return _svg(figure, "causes")


def utc(t: float) -> str:
    """A moment as a UTC date and time."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


def span(seconds: float) -> str:
    """A length of time in the unit that reads best: 45 s, 41 min, 2.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
