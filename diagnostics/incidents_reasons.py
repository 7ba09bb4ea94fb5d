"""What the network and platform say about each SIM that matters to grouping quiet devices.

A device quiet for a reason of its own is not evidence of an outage. `SimReasons` reads
the network events and inventory records as they arrive and keeps, per SIM, the newest
word on each part of its service: its lifecycle state, a data block, the last attach
reject and the last data-session reject (each cleared by the event that undoes it:
an accepted attach, an opened session, a usable state, an unblock). From these it
names the device's *own explanation* (`explanation`), a `Cause`, classed by `CLASS_OF`
(also a device lost where only a network its plan refused reaches:
`diagnostics.diagnosis.forbidden`):

* `Explains.PLATFORM`: a platform- or plan-side cause (a SIM state, a data block, a SIM
  the network does not know, a plan's refusal). Such a device counts in no statistical
  group at all; devices that share the cause and a platform attribute of their SIM
  record (`PLATFORM_KEYS`: a shared data pool, an account) become a group of that kind
  instead.
* `Explains.DEVICE`: the device's own refusal its software or set-up brings (its APN, its
  credentials, its retries). It counts in no network group (`NETWORK_DIMENSIONS`), but
  still in its firmware and account, where a shared cause of many devices lives.
* `Explains.UNIT`: this one unit's identity or card (an IMEI refused or locked out, a
  SIM damaged), which no version or account brings: in no statistical group at all.
* `Explains.READINGS`: the device's own newest reports (a signal falling out of coverage,
  a battery running down; `diagnostics.incidents_readings`). A group most of whose quiet
  devices are so explained is no outage (devices that leave coverage together are each
  out of coverage, with those whose last reports caught no fall); a few of them in a real
  outage still count in it.

It also keeps what a grouping needs beyond the device's own reports: the IPsec tunnel
a SIM's private APN goes through (from its session events) and the firmware the
device-management server installed (LwM2M object 5: a device that hangs right after
updating never reports the new version), and which dimensions the evidence names
(`names`), read by the tie rule of `diagnostics.incidents_select`: a reject's cause, and
a data session the network closed (an APN's gateway or a tunnel failing closes every
session on it before it refuses new ones, and leaves the SIM registered), until a session
opens again or while the attach is refused (a congested cell's sessions close too).

Pure: no I/O; the service hands it messages in the order it takes them in.
"""

from __future__ import annotations

import enum
import math
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.cause_rules import EMM_CAUSES, ESM_CAUSES, USABLE_STATES
from diagnostics.diagnosis.forbidden import FORBIDDING, ForbiddenWatch
from diagnostics.sim_columns import Columns, Number, Pair, Record, Value
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    DataBlocked,
    Detached,
    FirmwareUpdate,
    SessionClosed,
    SessionOpened,
    SessionRejected,
    SimRecord,
    StateChanged,
    TrackingAreaUpdated,
)
from protocol.sim_state import SimState

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "CLASS_OF",
    "NAMED_BY",
    "NETWORK_DIMENSIONS",
    "PLATFORM_KEYS",
    "RADIO_LOST",
    "Explains",
    "SimReasons",
]


class Explains(enum.StrEnum):
    """How far a device's own explanation takes it out of the statistical groups."""

    PLATFORM = "platform"
    """Out of every statistical group; grouped by a platform attribute with its cause."""
    DEVICE = "device"
    """Out of the network groups only (cell, operator, APN, tunnel)."""
    UNIT = "unit"
    """Out of every statistical group: the unit's own identity or card."""
    READINGS = "readings"
    """Its own newest reports explain it: a group most of whose quiet devices are so is none."""


NETWORK_DIMENSIONS: Final = frozenset({"cell", "operator", "apn", "tunnel"})
"""The dimensions of network outages: a device's own explanation keeps it out of them."""
SESSION_DIMENSIONS: Final = frozenset({"apn", "tunnel"})
"""The network groups that refuse a registered device's data sessions (a gateway, a tunnel)."""

PLATFORM_KEYS: Final = ("pool", "account")
"""SIM-record fields a platform-side cause is shared over, the more specific first.

Each is a field of `SimRecord` (a SIM without one, e.g. on a per-SIM plan, is in no group
of it); another shared platform attribute is one more name here.
"""

CLASS_OF: Final[dict[Cause, Explains]] = {
    Cause.SIM_DEACTIVATED: Explains.PLATFORM,
    Cause.TEST_QUOTA_USED: Explains.PLATFORM,
    Cause.SIM_NOT_PROVISIONED: Explains.PLATFORM,
    Cause.SIM_PURGED: Explains.PLATFORM,
    Cause.DATA_LIMIT_REACHED: Explains.PLATFORM,
    Cause.ROAMING_NOT_ALLOWED: Explains.PLATFORM,
    Cause.RADIO_TYPE_NOT_ALLOWED: Explains.PLATFORM,
    Cause.WRONG_APN: Explains.DEVICE,
    Cause.PRIVATE_APN_CREDENTIALS: Explains.DEVICE,
    Cause.IMEI_BLACKLISTED: Explains.UNIT,
    Cause.IMEI_LOCK_MISMATCH: Explains.UNIT,
    Cause.DAMAGED_SIM: Explains.UNIT,
    Cause.RECONNECT_STORM: Explains.DEVICE,
    Cause.COVERAGE_LOSS: Explains.READINGS,
    Cause.BATTERY_DEPLETED: Explains.READINGS,
}
"""A device's own explanation -> how it is kept out of groups; other causes explain nothing."""

_STATE_CAUSES: Final = {
    SimState.INVENTORY.name: Cause.TEST_QUOTA_USED,
    SimState.PURGED.name: Cause.SIM_PURGED,
}
"""A SIM state without service -> the cause it names (any other: a deactivated SIM)."""
NAMED_BY: Final[dict[Cause, tuple[str, ...]]] = {
    Cause.IPSEC_TUNNEL_DOWN: ("tunnel", "apn"),
    Cause.APN_GATEWAY_OUTAGE: ("apn", "tunnel"),
    Cause.CONGESTION: ("cell", "operator"),
    Cause.OPERATOR_OUTAGE: ("operator",),
}
"""A reject's cause -> the dimensions it points at, the one it names most clearly first."""

RADIO_LOST: Final = "radio"
"""What an implicit detach after the device's last report names: the network lost its radio
contact (a device that hangs stays registered; one out of coverage or power does not). Not a
dimension: it agrees with a cell's or an operator's outage and points away from the rest."""
FIRMWARE_NAMED: Final = ("firmware",)
"""What an update the device has not reported since points at."""


class _Sim(Record):
    """A SIM's newest words, a row of `SimReasons`' columns (`diagnostics.sim_columns`)."""

    __slots__ = ()
    state = Pair[str]()
    blocked = Pair[bool]()
    attach = Pair[Cause | None]()
    session = Pair[Cause | None]()
    tunnel = Value[str]()
    firmware = Pair[str]()
    record = Value[tuple[str | None, ...]]()
    """Its newest inventory record's `PLATFORM_KEYS`, in that order."""
    closed = Pair[tuple[str, ...]]()
    """When the network last closed its data session, and the dimensions that points at."""
    lost = Number()
    """When the network last let it go without a word from it (an implicit detach)."""
    registered = Number()
    """When the network last registered it (an accepted attach or tracking area update)."""
    via = Value[tuple[str, int]]()
    """The operator (MCC-MNC) and cell of that registration."""
    timer = Number()
    """The periodic TAU timer (T3412) the network last granted it, seconds."""


def _newer(old: tuple[float, object] | None, t: float) -> bool:
    return old is None or t >= old[0]


def _words(message: BaseModel) -> list[tuple[str, object]]:  # noqa: PLR0911 - one line per kind
    """What a message says about each part of the SIM's service (`_Sim`'s fields)."""
    if isinstance(message, SimRecord):
        return [("state", message.state), ("blocked", message.data_blocked)]
    if isinstance(message, StateChanged):
        return [("state", message.new)]
    if isinstance(message, DataBlocked):
        return [("blocked", message.blocked)]
    if isinstance(message, AttachRejected):
        return [("attach", EMM_CAUSES.get(message.emm_cause))]
    if isinstance(message, AttachAccepted):
        return [("attach", None)]
    if isinstance(message, SessionRejected):
        return [("session", ESM_CAUSES.get(message.esm_cause))]
    if isinstance(message, SessionOpened):
        return [("session", None)]
    if isinstance(message, FirmwareUpdate) and message.result <= 1:
        return [("firmware", message.version)]
    return []


class SimReasons:
    """Per SIM, the newest word of the network and the platform that groups depend on."""

    def __init__(self) -> None:
        self._sims = Columns(_Sim)
        self._forbidden: dict[str, ForbiddenWatch] = {}
        """SIMs refused by a network that forbids itself (`diagnostics.diagnosis.forbidden`)."""

    def apply(self, message: BaseModel) -> None:
        """Take one network event or inventory record into account (others are ignored)."""
        iccid: str | None = getattr(message, "iccid", None)
        if iccid is None:
            return
        t: float = message.t  # type: ignore[attr-defined]
        sim = self._sims.add(iccid)
        if isinstance(message, SimRecord):
            sim.record = tuple(getattr(message, key) for key in PLATFORM_KEYS)
        if isinstance(message, SessionOpened | SessionClosed | SessionRejected):
            sim.tunnel = message.tunnel or sim.tunnel
        if isinstance(message, AttachAccepted | TrackingAreaUpdated):
            sim.timer = message.t3412_s or sim.timer
            if sim.registered is None or t >= sim.registered:
                sim.registered, sim.via = t, (message.mcc_mnc, message.cell_id)
        if isinstance(message, Detached) and message.reason == "implicit":
            sim.lost = t if sim.lost is None else max(t, sim.lost)
        if isinstance(message, SessionClosed) and message.reason == "network":
            through = ("tunnel", "apn") if message.tunnel else ("apn",)
            sim.closed = (t, through) if _newer(sim.closed, t) else sim.closed
        for part, word in _words(message):
            if _newer(getattr(sim, part), t):
                setattr(sim, part, (t, word))
        self._watch(iccid, message)

    def _watch(self, iccid: str, message: BaseModel) -> None:
        """Follow a SIM's registrations once a network refused it as forbidden."""
        watch = self._forbidden.get(iccid)
        if (
            watch is None
            and isinstance(message, AttachRejected)
            and message.emm_cause in FORBIDDING
        ):
            watch = self._forbidden[iccid] = ForbiddenWatch()
        if watch is not None:
            watch.apply(message)

    def explanation(self, iccid: str | None) -> Cause | None:
        """The cause the SIM's own evidence names outright, if it has one that `CLASS_OF` holds.

        The SIM's state first, then a data block, then the newest refusals.
        """
        sim = self._sims.get(iccid)
        if sim is None:
            return None
        if sim.state is not None and sim.state[1] not in USABLE_STATES:
            return _STATE_CAUSES.get(sim.state[1], Cause.SIM_DEACTIVATED)
        if sim.blocked is not None and sim.blocked[1]:
            return Cause.DATA_LIMIT_REACHED
        for word in (sim.attach, sim.session):
            if word is not None and word[1] in CLASS_OF:
                return word[1]
        watch = self._forbidden.get(iccid) if iccid is not None else None
        if watch is not None and watch.refusal() is not None:
            return Cause.ROAMING_NOT_ALLOWED  # lost where only a network it may not use reaches
        return None

    def names(self, iccid: str | None, *, last_report: float | None) -> tuple[str, ...]:
        """The dimensions the SIM's evidence points at, most clearly named first."""
        sim = self._sims.get(iccid)
        if sim is None:
            return ()
        named: tuple[str, ...] = ()
        if sim.firmware is not None and (last_report is None or sim.firmware[0] > last_report):
            named += FIRMWARE_NAMED
        for word in (sim.session, sim.attach):
            if word is not None and word[1] is not None:
                named += NAMED_BY.get(word[1], ())
        closed = sim.closed  # a gateway's or tunnel's failure leaves the SIM registered
        refused = sim.attach is not None and sim.attach[1] is not None
        if (
            closed is not None
            and not refused
            and (sim.session is None or closed[0] > sim.session[0])
        ):
            named += tuple(d for d in closed[1] if d not in named)
        if not math.isnan(self.let_go(iccid, last_report=last_report)):
            named += (RADIO_LOST,)
        return named

    def timer(self, iccid: str | None) -> float | None:
        """The T3412 the network last granted the SIM (None: it never said)."""
        sim = self._sims.get(iccid)
        return sim.timer if sim is not None else None

    def contact(self, iccid: str | None, *, operator: str | None, cell: int | None) -> float:
        """When the network last registered the SIM, where that was in this operator's cell.

        nan where it never did, or its newest registration was elsewhere.
        """
        sim = self._sims.get(iccid)
        if sim is None or sim.registered is None or sim.via != (operator, cell):
            return math.nan
        return sim.registered

    def let_go(self, iccid: str | None, *, last_report: float | None) -> float:
        """When the network let the SIM go without a word from it since it last heard of it.

        An implicit detach after its newest report and registration: silent past its
        reachable timer. nan: it did not.
        """
        sim = self._sims.get(iccid)
        if sim is None or sim.lost is None:
            return math.nan
        since = [t for t in (last_report, sim.registered) if t is not None]
        return sim.lost if sim.lost > max(since, default=-math.inf) else math.nan

    def tunnel(self, iccid: str | None) -> str | None:
        """The IPsec tunnel the SIM's private APN sessions go through, as its sessions showed."""
        sim = self._sims.get(iccid)
        return sim.tunnel if sim is not None else None

    def firmware(self, iccid: str | None, *, reported: str | None, at: float | None) -> str | None:
        """The device's firmware: the newer of its own report (`reported` at `at`) and an update."""
        sim = self._sims.get(iccid)
        update = sim.firmware if sim is not None else None
        if update is not None and (at is None or update[0] > at):
            return update[1]
        return reported

    def record(self, iccid: str | None, key: str) -> str | None:
        """A platform attribute (`PLATFORM_KEYS`) from the SIM's newest inventory record."""
        sim = self._sims.get(iccid)
        record = sim.record if sim is not None else None
        if record is None or key not in PLATFORM_KEYS:
            return None
        return record[PLATFORM_KEYS.index(key)]

    def knows(self, iccid: str) -> bool:
        """Whether the network or the platform has said anything of the SIM."""
        return iccid in self._sims
