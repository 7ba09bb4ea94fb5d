"""Diagnoses: a device's or SIM's checks and probable cause, and the customer's message.

A device or SIM never seen raises `UnknownError`, which the app answers with 404
(`diagnostics.api.errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from diagnostics.api.deps import SupportDep  # noqa: TC001 - FastAPI reads the annotation
from diagnostics.api.errors import NEVER_SEEN
from diagnostics.api.params import At, Language  # noqa: TC001 - FastAPI reads them
from diagnostics.api.support_models import (
    DiagnosisOut,
    FleetMessageOut,
    FleetMessagePage,
    MessageOut,
)
from diagnostics.diagnosis import customer_message
from diagnostics.diagnosis.fleet import fleet_messages

if TYPE_CHECKING:
    from diagnostics.diagnosis import Diagnosis

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["diagnosis"])


@router.get("/devices/{device_id}/diagnosis", responses=NEVER_SEEN)
def device_diagnosis(device_id: str, support: SupportDep, at: At = None) -> DiagnosisOut:
    """The device's checks in order, the probable cause, its evidence, the fix, the next step."""
    return DiagnosisOut.of(support.diagnose_device(device_id, at=at))


@router.get("/sims/{iccid}/diagnosis", responses=NEVER_SEEN)
def sim_diagnosis(iccid: str, support: SupportDep, at: At = None) -> DiagnosisOut:
    """The SIM's diagnosis (through the device that last reported with it, if any)."""
    return DiagnosisOut.of(support.diagnose_sim(iccid, at=at))


@router.get("/devices/{device_id}/message", responses=NEVER_SEEN)
def device_message(
    device_id: str, support: SupportDep, lang: Language = "en", at: At = None
) -> MessageOut:
    """The message to send the customer about the device, in their language, as is."""
    return _message(support.diagnose_device(device_id, at=at), lang)


@router.get("/sims/{iccid}/message", responses=NEVER_SEEN)
def sim_message(
    iccid: str, support: SupportDep, lang: Language = "en", at: At = None
) -> MessageOut:
    """The message to send the customer about the SIM."""
    return _message(support.diagnose_sim(iccid, at=at), lang)


@router.get("/fleet/messages")
def fleet_message_page(
    support: SupportDep, lang: Language = "en", at: At = None, account: str | None = None
) -> FleetMessagePage:
    """One message per customer account and cause that many down devices share.

    Beside the per-device messages: which devices, how many, one set of steps, and when
    service resumes where known. `account` keeps one customer's.
    """
    found = fleet_messages(support.diagnose_down(account=account, at=at), lang)
    return FleetMessagePage(items=[FleetMessageOut.model_validate(m) for m in found])


def _message(diagnosis: Diagnosis, lang: str) -> MessageOut:
    message = customer_message(diagnosis, lang)
    return MessageOut(
        language=message.language,
        subject=message.subject,
        body=message.body,
        steps=list(message.steps),
        cause=None if diagnosis.cause is None else diagnosis.cause.value,
    )
