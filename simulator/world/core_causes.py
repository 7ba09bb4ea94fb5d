"""Which EMM cause the core network sends for each reason it refuses an attach, per core profile.

The network finds *why* it refuses (`Refused`: the HSS does not know the subscriber,
the plan leaves out the visited network, ...); *which number* it sends for that is
the core's choice, and cores differ. The two profiles of `CoreProfile`, each one
table here:

* `simple`: one cause per problem, as the names in TS 24.301 annex A read (#2 "IMSI
  unknown in HSS" for a subscriber the HSS does not know, #15 for a radio type the
  plan leaves out, #11 for a network it leaves out).
* `annex-a`: TS 29.272 Annex A (table A.1, S6a error → EMM cause) as Open5GS's MME
  implements it (`emm_cause_from_diameter`, src/mme/mme-s6a-handler.c): Diameter 5001
  user unknown → #8, 5420 unknown EPS subscription → #15, 5421 RAT not allowed → #13,
  5004 roaming not allowed → #11, operator-determined barring of the home network → #14.

Nothing on the wire names the reason: a diagnosis sees only the number, and has to
settle it against the SIM's record (its state, plan, home network).
"""

from __future__ import annotations

import enum
from typing import Final

from protocol.nas import EmmCause
from simulator.world.spec import CoreProfile

__all__ = ["CAUSE_TABLES", "Refused", "emm_cause"]


class Refused(enum.Enum):
    """Why the network refuses an attach (the simulator's own knowledge, never sent)."""

    CONGESTION = "congestion"
    """The cell or operator is congested (sent with T3346)."""
    CORE_FAILURE = "core_failure"
    """The operator's core network fails: it can serve no request (TS 24.301 #17)."""
    UNKNOWN_SUBSCRIBER = "unknown_subscriber"
    """The HSS does not know the IMSI: never provisioned, or purged (Diameter 5001)."""
    IMEI_REFUSED = "imei_refused"
    """The equipment identity register refuses the device: its IMEI is black-listed."""
    IMEI_LOCKED = "imei_locked"
    """The SIM's IMEI lock refuses it in a device with another IMEI."""
    NO_ROAMING_AGREEMENT = "no_roaming_agreement"
    """The visited network takes no SIMs of the SIM's home network."""
    VISITED_NETWORK_NOT_IN_PLAN = "visited_network_not_in_plan"
    """The home HSS refuses roaming on this network: the plan leaves it out (Diameter 5004)."""
    HOME_NETWORK_NOT_IN_PLAN = "home_network_not_in_plan"
    """The plan leaves out even the home network (operator-determined barring)."""
    NO_EPS_SUBSCRIPTION = "no_eps_subscription"
    """The plan allows no LTE radio type at all (Diameter 5420)."""
    RADIO_NOT_IN_PLAN = "radio_not_in_plan"
    """The plan leaves out the radio type the device uses (Diameter 5421)."""
    NO_SERVICE = "no_service"
    """The SIM's state gives no service (deactivated, in inventory, retired)."""


R = Refused
_SHARED: Final[dict[Refused, EmmCause]] = {
    R.CONGESTION: EmmCause.CONGESTION,
    R.CORE_FAILURE: EmmCause.NETWORK_FAILURE,
    R.IMEI_REFUSED: EmmCause.ILLEGAL_ME,
    R.IMEI_LOCKED: EmmCause.ILLEGAL_ME,
    R.NO_ROAMING_AGREEMENT: EmmCause.PLMN_NOT_ALLOWED,
    R.VISITED_NETWORK_NOT_IN_PLAN: EmmCause.PLMN_NOT_ALLOWED,
    R.NO_SERVICE: EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED,
}
CAUSE_TABLES: Final[dict[CoreProfile, dict[Refused, EmmCause]]] = {
    CoreProfile.SIMPLE: _SHARED
    | {
        R.UNKNOWN_SUBSCRIBER: EmmCause.IMSI_UNKNOWN_IN_HSS,
        R.HOME_NETWORK_NOT_IN_PLAN: EmmCause.PLMN_NOT_ALLOWED,
        R.NO_EPS_SUBSCRIPTION: EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA,
        R.RADIO_NOT_IN_PLAN: EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA,
    },
    CoreProfile.ANNEX_A: _SHARED
    | {
        R.UNKNOWN_SUBSCRIBER: EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED,
        R.HOME_NETWORK_NOT_IN_PLAN: EmmCause.EPS_SERVICES_NOT_ALLOWED_IN_THIS_PLMN,
        R.NO_EPS_SUBSCRIPTION: EmmCause.NO_SUITABLE_CELLS_IN_TRACKING_AREA,
        R.RADIO_NOT_IN_PLAN: EmmCause.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA,
    },
}
"""Per core profile, the EMM cause sent for each reason; every table names every reason."""


def emm_cause(profile: CoreProfile, reason: Refused) -> EmmCause:
    """The EMM cause a core of `profile` sends when it refuses an attach for `reason`."""
    return CAUSE_TABLES[profile][reason]
