"""What each cause means to support staff: its name, the fix, and where the fault lives.

One table, keyed by the shared cause ids of `protocol.causes`; the checks decide
which cause the evidence points to, this table says what to do about it. To add a
cause: add its id to `protocol.causes.Cause`, a row here, the rule that finds it
(`cause_rules.py` for a reject cause, else a check in `checks.py`), and its customer
wording in each language file under `languages/` (a test insists on all four).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from protocol.causes import Cause

__all__ = ["CAUSES", "CauseInfo", "Lives"]


class Lives(enum.StrEnum):
    """Where a fault lives, which is what a SIM swap test tells apart."""

    SIM = "sim"
    """The SIM card or its subscription: the fault follows the SIM into another device."""
    DEVICE = "device"
    """The hardware, its firmware or its settings: the fault stays with the device."""
    NETWORK = "network"
    """A network, a gateway or a tunnel: a swap changes nothing."""
    ABOVE_IP = "above_ip"
    """The customer's side beyond the mobile network (broker, credentials)."""


@dataclass(frozen=True, slots=True)
class CauseInfo:
    """What support staff read about a cause."""

    cause: Cause
    title: str
    lives: Lives
    fix: str
    """What staff do about it."""


C = Cause
L = Lives
_ROWS: Final = (
    CauseInfo(
        C.BATTERY_DEPLETED,
        "Battery depleted",
        L.DEVICE,
        "The battery ran down before the device went quiet. Ask the customer to recharge or "
        "replace it; if it drained in days, look for what keeps the device awake.",
    ),
    CauseInfo(
        C.POWER_LOSS,
        "Power lost",
        L.DEVICE,
        "The device stopped at once with a healthy battery and signal. Ask the customer to check "
        "its power supply and to power-cycle it.",
    ),
    CauseInfo(
        C.FIRMWARE_HANG,
        "Firmware hung",
        L.DEVICE,
        "The SIM is still registered with a data session open, but the device sends nothing. "
        "Ask the customer to power-cycle the device and to report the firmware version.",
    ),
    CauseInfo(
        C.RECONNECT_STORM,
        "Reconnect loop",
        L.DEVICE,
        "The device reconnects many times an hour, or retries while the network asks it to "
        "wait. The firmware needs a randomised back-off that obeys the network's back-off "
        "timers and at most one modem reset an hour; send the customer the reconnect guidelines.",
    ),
    CauseInfo(
        C.WRONG_APN,
        "Wrong APN on the device",
        L.DEVICE,
        "The device asks for an APN the network does not know. Give the customer the right APN "
        "and ask them to set it on the device.",
    ),
    CauseInfo(
        C.IMEI_BLACKLISTED,
        "Device identity refused",
        L.DEVICE,
        "The network refuses this device's IMEI. Confirm the IMEI with the customer and ask the "
        "network operator why it is barred; a replacement device works meanwhile.",
    ),
    CauseInfo(
        C.RADIO_HARDWARE,
        "Radio or antenna broken",
        L.DEVICE,
        "The device's own signal fell far below what other devices on its cell report, all at "
        "once, and then no attach reached the network: its radio or antenna is broken, and "
        "its SIM is fine. Ask the customer to check the antenna and its cable, or to replace "
        "the device; the SIM works in another device.",
    ),
    CauseInfo(
        C.DAMAGED_SIM,
        "SIM card damaged",
        L.SIM,
        "The device is powered but the SIM no longer registers. Send a replacement SIM and move "
        "the subscription to it.",
    ),
    CauseInfo(
        C.SIM_DEACTIVATED,
        "SIM not active",
        L.SIM,
        "The SIM is not in a state that allows service. Restore it to ACTIVATED, or explain "
        "why it was changed (the audit trail names who did it and why).",
    ),
    CauseInfo(
        C.SIM_NOT_PROVISIONED,
        "SIM not provisioned on the network",
        L.SIM,
        "The home network does not know the SIM (attach reject #2, or #8 from a core that "
        "follows TS 29.272 Annex A, while the SIM is active). Re-provision the SIM range on the "
        "network and ask the customer to restart the device.",
    ),
    CauseInfo(
        C.SIM_PURGED,
        "SIM purged",
        L.SIM,
        "The SIM was purged (the audit trail names who and when), so the network no longer "
        "knows it. If that was a mistake, re-provision it (operator only: PURGED -> ACTIVATED) "
        "and tell the customer; the device registers again by itself within about an hour, or "
        "at once after a restart.",
    ),
    CauseInfo(
        C.TEST_QUOTA_USED,
        "Test quota used up",
        L.SIM,
        "The SIM used its test allowance and left TEST_READY. Activate it (billing starts) "
        "once the customer confirms the device is ready for service.",
    ),
    CauseInfo(
        C.DATA_LIMIT_REACHED,
        "Data limit reached",
        L.SIM,
        "The SIM reached its rate plan's data limit for the cycle and data is blocked. Raise "
        "the limit or override it, or tell the customer when the next cycle begins.",
    ),
    CauseInfo(
        C.IMEI_LOCK_MISMATCH,
        "IMEI lock mismatch",
        L.SIM,
        "The SIM is locked to another device's IMEI. Once the customer confirms they moved the "
        "SIM on purpose, update the allowed IMEI (or lift the lock).",
    ),
    CauseInfo(
        C.ROAMING_NOT_ALLOWED,
        "Network not in the plan",
        L.SIM,
        "The device is on a network its communication plan does not allow. Add that network "
        "if the rate plan covers it, then clear the SIM's forbidden-network list (EF_FPLMN) "
        "over the air: the list lives on the SIM, so no reset, power cycle or swap clears it, "
        "and the device does not try the network again until it is cleared. Someone at the "
        "device can instead select the network manually once.",
    ),
    CauseInfo(
        C.RADIO_TYPE_NOT_ALLOWED,
        "Radio type not allowed",
        L.DEVICE,
        "The device uses a radio type its plan does not allow there (#15, or #13 from a core "
        "that follows TS 29.272 Annex A). Allow that radio type in the communication plan, or "
        "have the device use an allowed one. The reject forbids the tracking area: the device "
        "tries it again after a power cycle, or when its list is deleted within 12-24 h.",
    ),
    CauseInfo(
        C.PRIVATE_APN_CREDENTIALS,
        "Private APN credentials refused",
        L.DEVICE,
        "The private APN refuses the device's username or password. Check the credentials "
        "configured on the device against the APN's settings with the customer.",
    ),
    CauseInfo(
        C.COVERAGE_LOSS,
        "Coverage lost",
        L.NETWORK,
        "The signal weakened until the device lost the network. Check coverage where the "
        "device is; ask the customer whether it moved or whether its antenna is damaged.",
    ),
    CauseInfo(
        C.CELL_OUTAGE,
        "Cell outage",
        L.NETWORK,
        "Every device on one cell went quiet together. Report the cell to the network "
        "operator; the devices return on their own when it is back.",
    ),
    CauseInfo(
        C.OPERATOR_OUTAGE,
        "Network operator outage",
        L.NETWORK,
        "Every device on one operator went quiet together. Open a ticket with the operator; "
        "devices that can see another allowed network may move to it.",
    ),
    CauseInfo(
        C.APN_GATEWAY_OUTAGE,
        "APN gateway outage",
        L.NETWORK,
        "Data sessions on one APN are refused with a network failure. Escalate to the core "
        "network team; devices retry on their own.",
    ),
    CauseInfo(
        C.CONGESTION,
        "Network congestion",
        L.NETWORK,
        "The network asks devices to wait (congestion back-off). Do not ask for reboots: they "
        "make it worse. Service resumes when the back-off ends.",
    ),
    CauseInfo(
        C.IPSEC_TUNNEL_DOWN,
        "Private APN tunnel down",
        L.NETWORK,
        "The gateway refuses sessions on the customer's private APN: its IPsec tunnel is down. "
        "Check the tunnel with the customer's network team.",
    ),
    CauseInfo(
        C.BROKER_UNREACHABLE,
        "Customer's server unreachable",
        L.ABOVE_IP,
        "The SIM is registered and data flows, but nothing reaches the customer's platform. "
        "The problem is above the mobile network: ask the customer to check their broker, DNS, "
        "credentials and certificates.",
    ),
)
CAUSES: Final[dict[Cause, CauseInfo]] = {row.cause: row for row in _ROWS}
"""Every cause of the vocabulary, with what staff read about it."""
