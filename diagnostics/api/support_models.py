"""Response and request models of support's endpoints: diagnoses, messages, swap tests."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from diagnostics.api.params import EARLIEST, LATEST
from diagnostics.diagnosis import Diagnosis  # noqa: TC001 - pydantic reads the annotation
from diagnostics.diagnosis.swap import SwapResult, SwapTest  # noqa: TC001

__all__ = [
    "CandidateOut",
    "CheckOut",
    "DiagnosisOut",
    "EvidenceOut",
    "FleetMessageOut",
    "FleetMessagePage",
    "MessageOut",
    "SwapResultOut",
    "SwapTestIn",
    "SwapTestOut",
]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class EvidenceOut(_Out):
    """A piece of evidence: a stored message (its timeline id) and what it shows."""

    t: float
    text: str
    message_id: int | None = Field(description="The message's id in the device's timeline")


class CandidateOut(_Out):
    """A cause the evidence allows."""

    cause: str = Field(description="A cause id of the shared vocabulary")
    likelihood: float


class CheckOut(_Out):
    """One check of the ordered list, with its colour."""

    name: str
    title: str
    status: str = Field(
        description="ok (green), worked_before (yellow), never_worked (red), not_enough_data (grey)"
    )
    summary: str
    evidence: list[EvidenceOut]
    candidates: list[CandidateOut]
    decisive: bool


class DiagnosisOut(_Out):
    """The probable cause with its evidence, the fix and the next step."""

    device_id: str | None
    iccid: str | None
    at: float = Field(description="Service clock the diagnosis was made at")
    verdict: str
    healthy: bool
    cause: str | None = Field(description="The most likely cause id; null when none")
    confidence: float
    candidates: list[CandidateOut]
    decided_by: str | None = Field(description="The check that found the cause")
    summary: str
    fix: str | None
    next_step: str | None
    separating_test: str | None
    started: float | None
    resumes: float | None
    checks: list[CheckOut]
    facts: dict[str, str | float]

    @classmethod
    def of(cls, d: Diagnosis) -> Self:
        """The response for a diagnosis."""
        return cls.model_validate(
            {
                "device_id": d.device_id,
                "iccid": d.iccid,
                "at": d.at,
                "verdict": d.detection_status,
                "healthy": d.healthy,
                "cause": None if d.cause is None else d.cause.value,
                "confidence": d.confidence,
                "candidates": [
                    {"cause": c.cause.value, "likelihood": c.likelihood} for c in d.candidates
                ],
                "decided_by": d.decided_by,
                "summary": d.summary,
                "fix": d.fix,
                "next_step": d.next_step,
                "separating_test": d.separating_test,
                "started": d.started,
                "resumes": d.resumes,
                "checks": [
                    {
                        "name": c.name,
                        "title": c.title,
                        "status": c.status.value,
                        "summary": c.summary,
                        "evidence": c.evidence,
                        "candidates": [
                            {"cause": k.cause.value, "likelihood": k.likelihood}
                            for k in c.candidates
                        ],
                        "decisive": c.decisive,
                    }
                    for c in d.checks
                ],
                "facts": d.facts,
            }
        )


class MessageOut(_Out):
    """A message to the customer, ready to send as is."""

    language: str
    subject: str
    body: str
    steps: list[str]
    cause: str | None


class FleetMessageOut(_Out):
    """One message to a customer about many of their devices with one cause."""

    account: str
    cause: str
    count: int = Field(description="How many devices share the cause")
    device_ids: list[str]
    started: float | None = Field(description="When the earliest of them stopped")
    resumes: float | None = Field(description="When service is back for all, where known")
    language: str
    subject: str
    body: str
    steps: list[str]


class FleetMessagePage(_Out):
    """Fleet messages, the largest group first, beside the per-device messages."""

    items: list[FleetMessageOut]


class SwapTestIn(BaseModel):
    """Register a SIM swap test."""

    model_config = ConfigDict(extra="forbid")

    suspect_device: str = Field(min_length=1, description="The device that has the fault")
    good_device: str | None = Field(
        None, min_length=1, description="A device that works; its SIM goes into the suspect one"
    )
    at: float | None = Field(
        None,
        ge=EARLIEST,
        le=LATEST,
        allow_inf_nan=False,
        description="When the SIMs were swapped (service clock, Unix s from 2000 to 2100); "
        "default: now",
    )
    impossible: str | None = Field(
        None,
        min_length=1,
        description="Why the swap cannot be done (e.g. the SIM is out of reach), if it cannot",
    )


class SwapTestOut(_Out):
    """A registered swap test."""

    id: str
    created: float
    at: float
    suspect_device: str
    suspect_iccid: str | None
    good_device: str | None
    good_iccid: str | None
    impossible: str | None

    @classmethod
    def of(cls, test: SwapTest) -> Self:
        """The response for a test."""
        return cls.model_validate(test)


class SwapResultOut(_Out):
    """A swap test and its verdict now."""

    test: SwapTestOut
    outcome: str = Field(
        description="follows_sim, stays_with_device, both_work, inconclusive, impossible, pending"
    )
    summary: str
    next_step: str | None
    evidence: list[EvidenceOut]
    check_after: float | None
    conclusions: list[str]

    @classmethod
    def of(cls, v: SwapResult) -> Self:
        """The response for a swap test's result."""
        return cls.model_validate(
            {
                "test": SwapTestOut.of(v.test),
                "outcome": v.outcome.value,
                "summary": v.summary,
                "next_step": v.next_step,
                "evidence": v.evidence,
                "check_after": v.check_after,
                "conclusions": list(v.conclusions),
            }
        )
