"""Query parameters more than one router takes, and the bounds every number the API takes shares.

A moment the API is given (a diagnosis's `at`, a swap test's `at`, a silence's
`until`) is Unix seconds from `EARLIEST` (2000-01-01) to `LATEST` (2100-01-01) and
finite: no NaN, no 1970-era 0 from an unset field, no year 3000 from milliseconds
taken for seconds. A silence lasts more than nothing and at most `MAX_SILENCE_S`
(90 days). Ids and counts fit SQLite's integers (`MAX_ID`). Anything else is 422
with the parameter named, before the service sees it.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from fastapi import Query

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_ID",
    "MAX_SILENCE_S",
    "At",
    "BeforeId",
    "Language",
    "Limit",
]

EARLIEST: Final = 946_684_800.0
"""2000-01-01T00:00:00Z: the earliest moment the API takes, Unix seconds."""
LATEST: Final = 4_102_444_800.0
"""2100-01-01T00:00:00Z: the latest moment the API takes, Unix seconds."""
MAX_SILENCE_S: Final = 90 * 86_400.0
"""The longest maintenance silence: 90 days."""
MAX_ID: Final = 2**63 - 1
"""The largest id or count the API takes: SQLite's largest integer."""

Limit = Annotated[int, Query(ge=1, le=1000, description="Entries a page holds")]
BeforeId = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="The page ends before this entry")
]
At = Annotated[
    float | None,
    Query(
        ge=EARLIEST,
        le=LATEST,
        allow_inf_nan=False,
        description="Service clock to diagnose at, Unix s from 2000 to 2100 (default: now); "
        "earlier moments use what had arrived by then",
    ),
]
Language = Annotated[Literal["en", "sv"], Query(description="The message's language")]
