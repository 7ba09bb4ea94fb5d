"""The cause vocabulary: one id per reason a device can stop working.

Every simulator fault declares the cause it should be diagnosed as, and every
diagnosis names causes from this list; that is what makes scoring exact. Only
ids live here: what a cause means to staff and customers belongs to the
diagnostics service, how it comes about to the simulator.
"""

from __future__ import annotations

import enum

__all__ = ["Cause"]


class Cause(enum.StrEnum):
    """Why a device is not working, as support staff would name it."""

    # device
    BATTERY_DEPLETED = "battery_depleted"
    POWER_LOSS = "power_loss"
    FIRMWARE_HANG = "firmware_hang"
    RECONNECT_STORM = "reconnect_storm"
    WRONG_APN = "wrong_apn"
    IMEI_BLACKLISTED = "imei_blacklisted"
    # SIM and subscription
    DAMAGED_SIM = "damaged_sim"
    SIM_DEACTIVATED = "sim_deactivated"
    SIM_NOT_PROVISIONED = "sim_not_provisioned"
    TEST_QUOTA_USED = "test_quota_used"
    DATA_LIMIT_REACHED = "data_limit_reached"
    IMEI_LOCK_MISMATCH = "imei_lock_mismatch"
    ROAMING_NOT_ALLOWED = "roaming_not_allowed"
    RADIO_TYPE_NOT_ALLOWED = "radio_type_not_allowed"
    PRIVATE_APN_CREDENTIALS = "private_apn_credentials"
    # network
    COVERAGE_LOSS = "coverage_loss"
    CELL_OUTAGE = "cell_outage"
    OPERATOR_OUTAGE = "operator_outage"
    APN_GATEWAY_OUTAGE = "apn_gateway_outage"
    CONGESTION = "congestion"
    IPSEC_TUNNEL_DOWN = "ipsec_tunnel_down"
    # above IP
    BROKER_UNREACHABLE = "broker_unreachable"
    # added later, kept last so that every cause keeps its number (training answers use it)
    RADIO_HARDWARE = "radio_hardware"
    """Device: its radio or antenna is broken."""
    SIM_PURGED = "sim_purged"
    """SIM: purged from the network (an operator's mistake, say)."""
