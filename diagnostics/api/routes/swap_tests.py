"""SIM swap tests: register one, list them, and read a test's result so far.

A device or test never seen raises `UnknownError`, which the app answers with 404
(`diagnostics.api.errors`).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from diagnostics.api.body_limit import TOO_LARGE
from diagnostics.api.deps import SupportDep  # noqa: TC001 - FastAPI reads the annotation
from diagnostics.api.errors import NEVER_SEEN, UNREADABLE_BODY
from diagnostics.api.params import At  # noqa: TC001 - FastAPI reads it
from diagnostics.api.support_models import SwapResultOut, SwapTestIn, SwapTestOut

__all__ = ["router"]

router = APIRouter(prefix="/api/swap-tests", tags=["swap tests"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        **UNREADABLE_BODY,
        **TOO_LARGE,
        404: {"description": "A device named has never been seen"},
        422: {"description": "A bad body, with the reason"},
    },
)
def create_swap_test(body: SwapTestIn, support: SupportDep) -> SwapTestOut:
    """Register a SIM swap test: the suspect device's SIM into the good one, and back."""
    if body.good_device is not None and body.good_device == body.suspect_device:
        raise HTTPException(422, "good_device: must differ from suspect_device")
    test = support.register_swap(
        suspect_device=body.suspect_device,
        good_device=body.good_device,
        at=body.at,
        impossible=body.impossible,
    )
    return SwapTestOut.of(test)


@router.get("")
def swap_tests(support: SupportDep) -> list[SwapTestOut]:
    """Every registered swap test, oldest first."""
    return [SwapTestOut.of(t) for t in support.swap_tests()]


@router.get("/{test_id}", responses=NEVER_SEEN)
def swap_test(test_id: str, support: SupportDep, at: At = None) -> SwapResultOut:
    """The test and its verdict now (or at `at`)."""
    return SwapResultOut.of(support.swap_result(test_id, at=at))
