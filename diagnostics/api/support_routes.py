"""Support's endpoints: a diagnosis of a device or SIM, its customer message, swap tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from diagnostics.api.deps import get_service
from diagnostics.api.support_models import (
    DiagnosisOut,
    MessageOut,
    SwapTestIn,
    SwapTestOut,
    SwapVerdictOut,
)
from diagnostics.support import Support, UnknownError

if TYPE_CHECKING:
    from diagnostics.diagnosis import Diagnosis

__all__ = ["support_router"]


def get_support(request: Request) -> Support:
    """Support's view of the app's service."""
    return Support(get_service(request))


SupportDep = Annotated[Support, Depends(get_support)]
At = Annotated[
    float | None,
    Query(
        description="Service clock to diagnose at (default: now); earlier moments use "
        "what had arrived by then"
    ),
]
Language = Annotated[Literal["en", "sv"], Query(description="The message's language")]
_UNKNOWN: dict[int | str, dict[str, Any]] = {404: {"description": "Never seen"}}

support_router = APIRouter(tags=["diagnosis"])


def _message(diagnosis: Diagnosis, lang: str) -> MessageOut:
    from diagnostics.diagnosis.messages import customer_message  # noqa: PLC0415

    message = customer_message(diagnosis, lang)
    return MessageOut(
        language=message.language,
        subject=message.subject,
        body=message.body,
        steps=list(message.steps),
        cause=None if diagnosis.cause is None else diagnosis.cause.value,
    )


def _not_found(error: UnknownError) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error))


@support_router.get("/api/devices/{device_id}/diagnosis", responses=_UNKNOWN)
def device_diagnosis(device_id: str, support: SupportDep, at: At = None) -> DiagnosisOut:
    """The device's checks in order, the probable cause, its evidence, the fix, the next step."""
    try:
        return DiagnosisOut.of(support.diagnose_device(device_id, at=at))
    except UnknownError as error:
        raise _not_found(error) from None


@support_router.get("/api/sims/{iccid}/diagnosis", responses=_UNKNOWN)
def sim_diagnosis(iccid: str, support: SupportDep, at: At = None) -> DiagnosisOut:
    """The SIM's diagnosis (through the device that last reported with it, if any)."""
    try:
        return DiagnosisOut.of(support.diagnose_sim(iccid, at=at))
    except UnknownError as error:
        raise _not_found(error) from None


@support_router.get("/api/devices/{device_id}/message", responses=_UNKNOWN)
def device_message(
    device_id: str, support: SupportDep, lang: Language = "en", at: At = None
) -> MessageOut:
    """The message to send the customer about the device, in their language, as is."""
    try:
        diagnosis = support.diagnose_device(device_id, at=at)
    except UnknownError as error:
        raise _not_found(error) from None
    return _message(diagnosis, lang)


@support_router.get("/api/sims/{iccid}/message", responses=_UNKNOWN)
def sim_message(
    iccid: str, support: SupportDep, lang: Language = "en", at: At = None
) -> MessageOut:
    """The message to send the customer about the SIM."""
    try:
        diagnosis = support.diagnose_sim(iccid, at=at)
    except UnknownError as error:
        raise _not_found(error) from None
    return _message(diagnosis, lang)


@support_router.post(
    "/api/swap-tests",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "A device named has never been seen"}},
)
def create_swap_test(body: SwapTestIn, support: SupportDep) -> SwapTestOut:
    """Register a SIM swap test: the suspect device's SIM into the good one, and back."""
    if body.good_device is not None and body.good_device == body.suspect_device:
        raise HTTPException(422, "good_device: must differ from suspect_device")
    try:
        test = support.register_swap(
            suspect_device=body.suspect_device,
            good_device=body.good_device,
            at=body.at,
            impossible=body.impossible,
        )
    except UnknownError as error:
        raise _not_found(error) from None
    return SwapTestOut.of(test)


@support_router.get("/api/swap-tests")
def swap_tests(support: SupportDep) -> list[SwapTestOut]:
    """Every registered swap test, oldest first."""
    return [SwapTestOut.of(t) for t in support.swap_tests()]


@support_router.get("/api/swap-tests/{test_id}", responses=_UNKNOWN)
def swap_test(test_id: str, support: SupportDep, at: At = None) -> SwapVerdictOut:
    """The test and its verdict now (or at `at`)."""
    try:
        return SwapVerdictOut.of(support.swap_verdict(test_id, at=at))
    except UnknownError as error:
        raise _not_found(error) from None
