"""The staff's line for a device quiet in an incident: the count it states, and what it counts.

"Quiet with K of N devices of cell 101": N is every device the group held at the case's
moment (its attribute puts it there, whatever its state), K the devices of it quiet in the
incident then. For an outage, quiet is the
detector's SUSPECT or OFFLINE (silent past `suspect_after` of their report intervals):
devices of the group that are only late are not in K yet and join as they pass it, and
devices quiet for a reason of their own (a SIM state, a data block, a reject of their
own, a reading that explains them) are left out. For a platform group, K holds the
devices the platform refused with the group's cause. The line says so, so that staff
read the count as what it is (and `simlab.fuzz.counts` holds the count to exactly that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnostics.diagnosis.readings import when

if TYPE_CHECKING:
    from diagnostics.diagnosis.model import IncidentRef

__all__ = ["incident_summary"]


def incident_summary(incident: IncidentRef) -> str:
    """The incident check's summary (see the module)."""
    counted = (
        f"counted: those the platform refused with its cause ({incident.cause})"
        if incident.kind == "platform"
        else "counted: those silent past their SUSPECT threshold; late ones join as they "
        "pass it, and those quiet for a reason of their own are left out"
    )
    return (
        f"Quiet with {incident.quiet} of {incident.members} devices of {incident.dimension} "
        f"{incident.value}, the first detected at {when(incident.started_at)} "
        f"(incident {incident.id}); {counted}"
    )
