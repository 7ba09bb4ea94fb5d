"""Query parameters more than one router takes: pages, and the moment and language of diagnoses."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

__all__ = ["At", "BeforeId", "Language", "Limit"]

Limit = Annotated[int, Query(ge=1, le=1000, description="Entries a page holds")]
BeforeId = Annotated[int | None, Query(ge=1, description="The page ends before this entry")]
At = Annotated[
    float | None,
    Query(
        description="Service clock to diagnose at (default: now); earlier moments use "
        "what had arrived by then"
    ),
]
Language = Annotated[Literal["en", "sv"], Query(description="The message's language")]
