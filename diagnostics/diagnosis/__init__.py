"""Diagnosis: ordered checks with evidence, SIM swap comparison and customer messages.

Pure code: plain data in (`Case`, `SwapTest`), plain data out (`Diagnosis`,
`SwapResult`). `diagnostics.cases` builds the cases from the store; the API shows the
results.
"""

from diagnostics.diagnosis.checks import CHECKS
from diagnostics.diagnosis.messages import LANGUAGES, CustomerMessage, customer_message
from diagnostics.diagnosis.model import (
    Candidate,
    Case,
    CheckResult,
    Diagnosis,
    Evidence,
    IncidentRef,
    Seen,
    Status,
)
from diagnostics.diagnosis.verdict import diagnose

__all__ = [
    "CHECKS",
    "LANGUAGES",
    "Candidate",
    "Case",
    "CheckResult",
    "CustomerMessage",
    "Diagnosis",
    "Evidence",
    "IncidentRef",
    "Seen",
    "Status",
    "customer_message",
    "diagnose",
]
