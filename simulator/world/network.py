"""The networks a device roams on, and their answers to attach and data session requests.

The rules are the real ones, checked in the order a core network applies
them. Each refusal names its reason (`core_causes.Refused`) and carries the 3GPP
cause the world's core profile sends for it. The subscription side (state,
limits, IMEI lock) is asked of the platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from protocol.nas import EsmCause
from protocol.sim_state import SimState
from simulator.platform.customer import RadioType
from simulator.world.core_causes import Refused, emm_cause
from simulator.world.radio import COVERAGE_FLOOR_DBM, distance_km, rsrp_at
from simulator.world.spec import CoreProfile

if TYPE_CHECKING:
    import random

    from protocol.identifiers import Imei
    from simulator.platform.customer import CommunicationPlan
    from simulator.platform.platform import Platform
    from simulator.world.spec import CellSpec, OperatorSpec

__all__ = ["Cell", "Network", "Operator", "Refusal"]

_NO_SERVICE: Final = frozenset({SimState.INVENTORY, SimState.DEACTIVATED, SimState.RETIRED})
_EPS_RADIOS: Final = frozenset({RadioType.LTE, RadioType.LTE_M, RadioType.NB_IOT})
"""The radio types of EPS (LTE): a plan with none of them has no EPS subscription."""


@dataclass(slots=True)
class Operator:
    """A network operator and its live condition."""

    spec: OperatorSpec
    up: bool = True
    """Whether its core network serves: a failed core leaves the cells on air and refuses
    every attach with EMM #17 (network failure)."""
    congested: bool = False


@dataclass(slots=True)
class Cell:
    """A cell and its live condition."""

    spec: CellSpec
    operator: Operator
    up: bool = True
    congested: bool = False

    @property
    def id(self) -> int:
        """The cell id."""
        return self.spec.id

    @property
    def mcc_mnc(self) -> str:
        """The operator's MCC-MNC."""
        return self.spec.operator

    def serving(self) -> bool:
        """Whether the cell is on air (its operator's core may still refuse every attach)."""
        return self.up

    def signal(self, lat: float, lon: float) -> float:
        """RSRP in dBm at a position, before device-side losses."""
        d = distance_km(self.spec.lat, self.spec.lon, lat, lon)
        return rsrp_at(self.spec.rsrp_dbm, self.spec.radius_km, d)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A reject: the 3GPP cause and the back-off timer sent with it (seconds), if any."""

    cause: int
    backoff: float | None = None
    reason: Refused | None = None
    """Why an attach was refused (the simulator's knowledge; the wire carries only `cause`)."""


@dataclass(slots=True)
class Network:
    """All operators and cells, the core's condition, and the platform behind them."""

    platform: Platform
    operators: dict[str, Operator]
    cells: list[Cell]
    unprovisioned: set[str] = field(default_factory=set)
    """ICCIDs the home HSS does not know."""
    blacklisted: set[str] = field(default_factory=set)
    """IMEIs on the equipment identity register's black list."""
    gateways_down: set[str] = field(default_factory=set)
    """APNs (lower case) whose gateway is out."""
    tunnels_down: set[str] = field(default_factory=set)
    apns: frozenset[str] = frozenset()
    """Every APN some communication plan on the platform offers (lower case)."""
    core: CoreProfile = CoreProfile.SIMPLE
    """Which cause table the core answers attaches with."""

    @classmethod
    def build(
        cls,
        platform: Platform,
        operators: list[OperatorSpec],
        cells: list[CellSpec],
        core: CoreProfile = CoreProfile.SIMPLE,
    ) -> Network:
        """Live networks from their specs, answering with the cause table of `core`."""
        ops = {o.mcc_mnc: Operator(o) for o in operators}
        apns = frozenset(a.name.lower() for plan in platform.comm_plans for a in plan.apns)
        cells_ = [Cell(c, ops[c.operator]) for c in cells]
        return cls(platform, ops, cells_, apns=apns, core=core)

    def cell(self, cell_id: int) -> Cell:
        """A cell by id."""
        return next(c for c in self.cells if c.id == cell_id)

    def audible(
        self,
        lat: float,
        lon: float,
        radio: RadioType,
        loss_db: float,
    ) -> list[tuple[Cell, float]]:
        """Cells a device hears well enough to register on, strongest first, with their signal."""
        floor = COVERAGE_FLOOR_DBM[radio]
        heard = []
        for cell in self.cells:
            if not cell.serving() or radio not in cell.spec.radio_types:
                continue
            rsrp = cell.signal(lat, lon) - loss_db
            if rsrp >= floor:
                heard.append((cell, rsrp))
        heard.sort(key=lambda pair: (-pair[1], pair[0].id))
        return heard

    def plan_of(self, iccid: str) -> CommunicationPlan:
        """The SIM's communication plan."""
        row = self.platform.row(iccid)
        return self.platform.comm_plans[int(self.platform.sims["comm_plan"][row])]

    def attach(
        self,
        *,
        iccid: str,
        imsi_plmn: str,
        imei: Imei,
        cell: Cell,
        radio: RadioType,
        now: float,
        rng: random.Random,
    ) -> Refusal | None:
        """The network's answer to an attach; None = accepted."""
        if not cell.operator.up:
            return self._refuse(Refused.CORE_FAILURE)
        if cell.congested or cell.operator.congested:
            return self._refuse(Refused.CONGESTION, backoff=rng.uniform(900, 1800))
        reason = self._subscription(iccid, imsi_plmn, imei, cell, radio)
        if reason is None and self.platform.attach(iccid, imei, now=now) is not None:
            reason = Refused.IMEI_LOCKED
        return None if reason is None else self._refuse(reason)

    def _subscription(  # noqa: PLR0911 - one return per rule, in the network's order
        self, iccid: str, imsi_plmn: str, imei: Imei, cell: Cell, radio: RadioType
    ) -> Refused | None:
        """Why the core refuses the SIM on `cell` by its subscription, if it does."""
        state = self.platform.state(iccid)
        if iccid in self.unprovisioned or state is SimState.PURGED:
            return Refused.UNKNOWN_SUBSCRIBER
        if imei.value in self.blacklisted:
            return Refused.IMEI_REFUSED
        partners = cell.operator.spec.roaming_partners
        visiting = cell.mcc_mnc != imsi_plmn
        if visiting and partners is not None and imsi_plmn not in partners:
            return Refused.NO_ROAMING_AGREEMENT
        plan = self.plan_of(iccid)
        if not _network_allowed(plan, cell):
            if visiting:
                return Refused.VISITED_NETWORK_NOT_IN_PLAN
            return Refused.HOME_NETWORK_NOT_IN_PLAN
        if not _EPS_RADIOS.intersection(plan.radio_types):
            return Refused.NO_EPS_SUBSCRIPTION
        if radio not in plan.radio_types:
            return Refused.RADIO_NOT_IN_PLAN
        if state in _NO_SERVICE:
            return Refused.NO_SERVICE
        return None

    def _refuse(self, reason: Refused, backoff: float | None = None) -> Refusal:
        return Refusal(emm_cause(self.core, reason), backoff, reason)

    def open_session(
        self,
        *,
        iccid: str,
        apn: str,
        credentials_ok: bool,
        now: float,
        rng: random.Random,
    ) -> Refusal | None:
        """The network's answer to a data session request; None = accepted."""
        cause = self._refused_before_tunnel(iccid, apn.lower(), credentials_ok=credentials_ok)
        if cause is EsmCause.MISSING_OR_UNKNOWN_APN:
            return Refusal(cause, backoff=rng.uniform(600, 1200))
        if cause is not None:
            return Refusal(cause)
        tunnel = self.apn_tunnel(iccid, apn)
        if tunnel is not None and tunnel in self.tunnels_down:
            return Refusal(EsmCause.REQUEST_REJECTED_BY_GATEWAY)
        refused = self.platform.open_session(iccid, now=now)
        if refused is not None:
            return Refusal(EsmCause.OPERATOR_DETERMINED_BARRING)
        return None

    def reaches_tunnel(self, iccid: str, apn: str, *, credentials_ok: bool) -> bool:
        """Whether a session request on `apn` gets as far as its tunnel: no rule before refuses.

        A request the network refuses before (wrong credentials, a barred SIM, an APN not in
        the plan) meets the same reject whether the tunnel is up or down.
        """
        return (
            self.apn_tunnel(iccid, apn) is not None
            and self._refused_before_tunnel(iccid, apn.lower(), credentials_ok=credentials_ok)
            is None
        )

    def _refused_before_tunnel(
        self, iccid: str, wanted: str, *, credentials_ok: bool
    ) -> EsmCause | None:
        """The ESM cause of the first rule before the tunnel that refuses the request."""
        if wanted in self.gateways_down:
            return EsmCause.NETWORK_FAILURE
        if wanted not in self.apns:
            return EsmCause.MISSING_OR_UNKNOWN_APN
        plan = self.plan_of(iccid)
        entry = next((a for a in plan.apns if a.name.lower() == wanted), None)
        if entry is None:
            return EsmCause.SERVICE_OPTION_NOT_SUBSCRIBED
        if self.platform.state(iccid) in _NO_SERVICE or self.platform.data_blocked(iccid):
            return EsmCause.OPERATOR_DETERMINED_BARRING
        if entry.private and not credentials_ok:
            return EsmCause.USER_AUTHENTICATION_FAILED
        return None

    def apn_tunnel(self, iccid: str, apn: str) -> str | None:
        """The tunnel behind `apn` in the SIM's plan, if it is private."""
        return plan_tunnel(self.plan_of(iccid), apn)


def plan_tunnel(plan: CommunicationPlan, apn: str) -> str | None:
    """The tunnel behind `apn` in a communication plan, if it is private."""
    entry = next((a for a in plan.apns if a.name.lower() == apn.lower()), None)
    return None if entry is None else entry.tunnel


def _network_allowed(plan: CommunicationPlan, cell: Cell) -> bool:
    country = cell.operator.spec.country
    return any(rule.mcc_mnc == cell.mcc_mnc or rule.country == country for rule in plan.networks)
