"""Which cause a network's word names: the EMM and ESM reject causes, incidents, SIM states.

A reject cause is the network saying outright why it refused a device (3GPP TS 24.301,
annex A for EMM and annex B for ESM causes). These tables map the codes IoT devices
meet (`protocol.nas`) to the causes of `protocol.causes`; the checks read a case's
rejects through them. The tables hold the rules only: which reject counts, and how
often, is the checks' business.
"""

from __future__ import annotations

from typing import Final

from protocol.causes import Cause
from protocol.nas import EmmCause, EsmCause
from protocol.sim_state import SimState

__all__ = [
    "EMM_CAUSES",
    "ESM_CAUSES",
    "IMEI_REFUSALS",
    "INCIDENT_CAUSES",
    "USABLE_STATES",
]

USABLE_STATES: Final = frozenset(
    {SimState.ACTIVATED.name, SimState.TEST_READY.name, SimState.ACTIVATION_READY.name}
)
"""States in which a SIM gets service."""

_MOBILITY_REJECTS: Final = {
    EmmCause.PLMN_NOT_ALLOWED,
    EmmCause.TRACKING_AREA_NOT_ALLOWED,
    EmmCause.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA,
    EmmCause.EPS_SERVICES_NOT_ALLOWED_IN_THIS_PLMN,
    EmmCause.SERVICE_OPTION_NOT_AUTHORISED_IN_THIS_PLMN,
}
IMEI_REFUSALS: Final = frozenset({EmmCause.ILLEGAL_ME, EmmCause.IMEI_NOT_ACCEPTED})
"""Attach rejects for the device identity: a blacklisted IMEI, or an IMEI lock."""
EMM_CAUSES: Final[dict[int, Cause]] = {
    EmmCause.IMSI_UNKNOWN_IN_HSS: Cause.SIM_NOT_PROVISIONED,
    EmmCause.ILLEGAL_UE: Cause.DAMAGED_SIM,  # authentication failed: a damaged or cloned SIM
    EmmCause.EPS_SERVICES_NOT_ALLOWED: Cause.SIM_NOT_PROVISIONED,
    EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED: Cause.SIM_DEACTIVATED,
    EmmCause.IMEI_NOT_ACCEPTED: Cause.IMEI_BLACKLISTED,
    EmmCause.ILLEGAL_ME: Cause.IMEI_BLACKLISTED,
    EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA: Cause.RADIO_TYPE_NOT_ALLOWED,
    EmmCause.CONGESTION: Cause.CONGESTION,
    EmmCause.NETWORK_FAILURE: Cause.OPERATOR_OUTAGE,  # the core itself cannot serve the request
    **dict.fromkeys(_MOBILITY_REJECTS, Cause.ROAMING_NOT_ALLOWED),
}
"""EMM cause -> the cause it names by its number alone; #19 names none by itself.

#17 (network failure) is the MME saying it cannot serve the request (TS 24.301): the
operator's core, whichever cell the device asked on.

Several numbers mean different things on different cores: `settle` reads them against
the SIM's record first, and falls back to this table."""
ESM_CAUSES: Final[dict[int, Cause]] = {
    EsmCause.OPERATOR_DETERMINED_BARRING: Cause.DATA_LIMIT_REACHED,
    EsmCause.INSUFFICIENT_RESOURCES: Cause.CONGESTION,
    EsmCause.MISSING_OR_UNKNOWN_APN: Cause.WRONG_APN,
    EsmCause.SERVICE_OPTION_NOT_SUBSCRIBED: Cause.WRONG_APN,
    EsmCause.USER_AUTHENTICATION_FAILED: Cause.PRIVATE_APN_CREDENTIALS,
    EsmCause.REQUEST_REJECTED_BY_GATEWAY: Cause.IPSEC_TUNNEL_DOWN,
    EsmCause.NETWORK_FAILURE: Cause.APN_GATEWAY_OUTAGE,
}
"""ESM cause -> the cause it names."""
INCIDENT_CAUSES: Final[dict[str, tuple[Cause, ...]]] = {
    "cell": (Cause.CELL_OUTAGE, Cause.OPERATOR_OUTAGE),
    "operator": (Cause.OPERATOR_OUTAGE, Cause.CELL_OUTAGE),
    "apn": (Cause.APN_GATEWAY_OUTAGE, Cause.IPSEC_TUNNEL_DOWN),
    "tunnel": (Cause.IPSEC_TUNNEL_DOWN, Cause.APN_GATEWAY_OUTAGE),
    "account": (Cause.SIM_DEACTIVATED, Cause.DATA_LIMIT_REACHED),
    "firmware": (Cause.FIRMWARE_HANG, Cause.WRONG_APN, Cause.RECONNECT_STORM),
}
"""An incident's dimension -> the causes many devices quiet together in it point to."""
