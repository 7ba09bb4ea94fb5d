"""3GPP TS 24.301 reject causes IoT devices meet: EMM for attach, ESM for data sessions."""

from __future__ import annotations

import enum

__all__ = ["EmmCause", "EsmCause"]


class EmmCause(enum.IntEnum):
    """Why an attach or tracking area update was rejected."""

    IMSI_UNKNOWN_IN_HSS = 2
    ILLEGAL_UE = 3
    IMEI_NOT_ACCEPTED = 5
    ILLEGAL_ME = 6
    EPS_SERVICES_NOT_ALLOWED = 7
    EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED = 8
    PLMN_NOT_ALLOWED = 11
    TRACKING_AREA_NOT_ALLOWED = 12
    ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA = 13
    EPS_SERVICES_NOT_ALLOWED_IN_THIS_PLMN = 14
    NO_SUITABLE_CELLS_IN_TRACKING_AREA = 15
    NETWORK_FAILURE = 17
    ESM_FAILURE = 19
    CONGESTION = 22
    SERVICE_OPTION_NOT_AUTHORISED_IN_THIS_PLMN = 35


class EsmCause(enum.IntEnum):
    """Why a data session (PDN connection) was rejected."""

    OPERATOR_DETERMINED_BARRING = 8
    INSUFFICIENT_RESOURCES = 26
    MISSING_OR_UNKNOWN_APN = 27
    UNKNOWN_PDN_TYPE = 28
    USER_AUTHENTICATION_FAILED = 29
    REQUEST_REJECTED_BY_GATEWAY = 30
    REQUEST_REJECTED_UNSPECIFIED = 31
    SERVICE_OPTION_NOT_SUBSCRIBED = 33
    NETWORK_FAILURE = 38
    PDN_TYPE_IPV4_ONLY_ALLOWED = 50
