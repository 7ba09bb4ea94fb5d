"""Settling an attach reject against the SIM's record: what the number means for this SIM.

Cores differ in which EMM cause they send for one subscription problem (TS 29.272
Annex A, table A.1, as Open5GS's MME implements it; cause-codes.md, "Same trouble,
different numbers"): an unknown subscriber comes as #2 or #8, an unknown EPS
subscription as #15, a radio type the plan leaves out as #13 or #15, a roaming
refusal as #11, #13 or #14. #8 is also what a deactivated SIM gets. So the number is
read together with what the SIM's record says: its state, whether its plan allows
the network and the radio type of the reject, and whether that network is the SIM's
home network (by its IMSI) or a visited one.

`RULES` is the whole of it, in order; the first rule whose numbers include the
reject's and whose condition holds settles the cause. A reject no rule settles (or
one without a record to read) means what `cause_rules.EMM_CAUSES` says it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.cause_rules import EMM_CAUSES, USABLE_STATES
from protocol.causes import Cause
from protocol.identifiers import Imsi, InvalidIdentifierError
from protocol.identifiers.countries import countries_of
from protocol.nas import EmmCause
from protocol.sim_state import SimState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from protocol.messages import AttachRejected, SimRecord, StateChanged

__all__ = [
    "RULES",
    "Reading",
    "Rule",
    "Settled",
    "network_allowed",
    "read",
    "settle",
    "state_then",
]

_EPS_RADIOS: Final = frozenset({"LTE", "LTE-M", "NB-IoT"})


@dataclass(frozen=True, slots=True)
class Reading:
    """What the SIM's record says about one reject (None: the record cannot say)."""

    usable: bool | None
    """The SIM is in a state that gets service."""
    network_allowed: bool | None
    """The plan allows the network that refused (by MCC-MNC, or by its country)."""
    radio_allowed: bool | None
    """The plan allows the radio type the device used."""
    eps_allowed: bool | None
    """The plan allows some LTE radio type at all."""
    visiting: bool | None
    """The network that refused is not the SIM's home network."""
    purged: bool | None = None
    """The SIM is PURGED: the platform had the network forget it."""
    added_since: float | None = None
    """When the plan came to allow the network, if that was after the reject."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One settling rule: for these numbers, when the record shows this, the cause is that."""

    numbers: frozenset[int]
    holds: Callable[[Reading], bool]
    cause: Cause
    shows: str
    """What the record shows, in staff's words (it goes into the evidence)."""
    source: str


E = EmmCause
_SUBSCRIPTION: Final = frozenset({E.IMSI_UNKNOWN_IN_HSS, E.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED})
_WHERE: Final = frozenset(
    {
        E.PLMN_NOT_ALLOWED,
        E.TRACKING_AREA_NOT_ALLOWED,
        E.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA,
        E.EPS_SERVICES_NOT_ALLOWED_IN_THIS_PLMN,
        E.SERVICE_OPTION_NOT_AUTHORISED_IN_THIS_PLMN,
    }
)
_RADIO: Final = frozenset({E.EPS_SERVICES_NOT_ALLOWED, E.NO_SUITABLE_CELLS_IN_TRACKING_AREA})
_ANY: Final = _SUBSCRIPTION | _WHERE | _RADIO

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        _ANY,
        lambda r: r.purged is True,
        Cause.SIM_PURGED,
        "the SIM is PURGED, so the network has forgotten it",
        "TS 29.272 Annex A 5001 user unknown: #8 (Open5GS); #2 by the TS 24.301 name",
    ),
    Rule(
        _ANY,
        lambda r: r.usable is False,
        Cause.SIM_DEACTIVATED,
        "the SIM is in a state without service",
        "TS 29.272 Annex A: a subscriber barred from service gets #8 (or a mobility cause)",
    ),
    Rule(
        _WHERE | _RADIO,
        lambda r: r.network_allowed is False,
        Cause.ROAMING_NOT_ALLOWED,
        "the plan does not allow this network",
        "TS 29.272 Annex A 5004 roaming not allowed: #11, or #14 for the home network",
    ),
    Rule(
        _WHERE | _RADIO,
        lambda r: r.radio_allowed is False,
        Cause.RADIO_TYPE_NOT_ALLOWED,
        "the plan does not allow this radio type",
        "TS 29.272 Annex A 5421 RAT not allowed: #13 (Open5GS), #15 by the TS 24.301 name",
    ),
    Rule(
        _SUBSCRIPTION,
        lambda r: r.usable is True,
        Cause.SIM_NOT_PROVISIONED,
        "the SIM is active, so the network does not know it",
        "TS 29.272 Annex A 5001 user unknown: #8 (Open5GS); #2 by the TS 24.301 name",
    ),
    Rule(
        _RADIO,
        lambda r: r.eps_allowed is True and r.radio_allowed is True and r.usable is True,
        Cause.SIM_NOT_PROVISIONED,
        "the plan allows the network and the radio type, so the EPS subscription is missing",
        "TS 29.272 Annex A 5420 unknown EPS subscription: #15",
    ),
    Rule(
        frozenset({E.PLMN_NOT_ALLOWED}),
        lambda r: r.network_allowed is True and r.added_since is not None,
        Cause.ROAMING_NOT_ALLOWED,
        "the plan allows the network only since it refused the SIM, which keeps it on its "
        "forbidden-network list until that is cleared over the air",
        "TS 24.301 #11 and TS 31.102 EF_FPLMN: the network stays forbidden on the SIM",
    ),
    Rule(
        _WHERE,
        lambda r: r.visiting is True and r.network_allowed is True,
        Cause.ROAMING_NOT_ALLOWED,
        "the plan allows the network, yet it refuses SIMs of the home network",
        "TS 24.301 #11-#14: the visited network has no roaming agreement for the SIM",
    ),
)
"""The settling rules, in order: the first that holds names the cause."""


@dataclass(frozen=True, slots=True)
class Settled:
    """The cause a reject names for this SIM, and the rule that settled it (if one did)."""

    cause: Cause
    rule: Rule | None = None


def settle(
    reject: AttachRejected,
    record: SimRecord | None,
    state: str | None,
    plan_changes: Sequence[float] = (),
) -> Settled | None:
    """The cause `reject` names for the SIM of `record` in `state`; None: it names none.

    `plan_changes`: when the SIM's communication plan changed, oldest first.
    """
    if record is not None:
        reading = read(reject, record, state, plan_changes)
        for rule in RULES:
            if reject.emm_cause in rule.numbers and rule.holds(reading):
                return Settled(rule.cause, rule)
    cause = EMM_CAUSES.get(reject.emm_cause)
    return None if cause is None else Settled(cause)


def state_then(t: float, changes: Sequence[StateChanged], now: str | None) -> str | None:
    """The SIM's state at `t`, by its state changes (oldest first) and its state `now`.

    A reject is read against the state the SIM was in when the network sent it: a SIM
    purged and re-provisioned since was refused as purged, though active now.
    """
    before = [c.new for c in changes if c.t <= t]
    if before:
        return before[-1]
    return changes[0].old if changes else now


def read(
    reject: AttachRejected, record: SimRecord, state: str | None, plan_changes: Sequence[float]
) -> Reading:
    """What `record` (and the SIM's `state` now, its plan's changes) says about `reject`."""
    allowed = network_allowed(reject.mcc_mnc, record)
    try:
        home: str | None = Imsi.parse(record.imsi).plmn
    except InvalidIdentifierError:
        home = None
    later = [t for t in plan_changes if t > reject.t]
    return Reading(
        usable=None if state is None else state in USABLE_STATES,
        purged=None if state is None else state == SimState.PURGED.name,
        network_allowed=allowed,
        radio_allowed=reject.rat in record.radio_types,
        eps_allowed=bool(_EPS_RADIOS.intersection(record.radio_types)),
        visiting=None if home is None else reject.mcc_mnc != home,
        added_since=later[0] if later and allowed else None,
    )


def network_allowed(network: str, record: SimRecord) -> bool | None:
    """Whether the SIM's plan allows `network` (by MCC-MNC or its country); None: cannot say."""
    countries = countries_of(network)
    if network in record.networks or any(c in record.networks for c in countries):
        return True
    return False if countries else None
