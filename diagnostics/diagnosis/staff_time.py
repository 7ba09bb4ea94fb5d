"""A time as staff read it in a diagnosis: UTC, to the second, whatever the number.

The API gives every time as a number too; the text is for reading. A time no
calendar names (before the year 1, past 9999, not finite: a battery that would
last forever, a stored time from a broken source) is written as its Unix seconds
instead of a date, so the diagnosis that cites it still answers rather than failing.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["when"]


def when(t: float) -> str:
    """`t` (Unix s) as "2026-03-02 06:15:00 UTC", or as "t=1e+300 (...)" past any calendar."""
    try:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"t={t:g} (Unix s, no calendar date)"
