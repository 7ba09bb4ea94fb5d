"""What a world is made of, as data: the schema scenario files are written in.

Times are offsets from the world's start, written as seconds or with a unit
("90s", "15m", "36h", "2d"). Positions are latitude/longitude in degrees.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from protocol.causes import Cause
from protocol.identifiers import Iccid, Imei
from simulator.platform.billing import pool_name
from simulator.platform.customer import CustomerFile, RadioType, cross_check

__all__ = [
    "CellSpec",
    "CoreProfile",
    "DeviceGroupSpec",
    "Duration",
    "FaultId",
    "FaultRateSpec",
    "FaultSpec",
    "InterventionId",
    "InterventionSpec",
    "MobilitySpec",
    "MoveSpec",
    "OperatorSpec",
    "RetryBehaviour",
    "SwapSpec",
    "Waypoint",
    "WorldSpec",
    "parse_duration",
    "pools",
    "world_problems",
]

_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(rf"^\s*({_NUMBER})\s*([smhd]?)\s*$")
_PART = re.compile(rf"\s*({_NUMBER})\s*([dhms])")
_UNIT = {"d": 86_400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}
_ORDER = "dhms"


def parse_duration(value: object) -> object:
    """Read a duration such as 90s, 15m, 36h, 2d, or as simlab prints them (2h10m, 1d2h, 45m30s).

    Numbers are seconds already. Parts of a compound duration go from days down to seconds,
    each unit at most once.
    """
    if not isinstance(value, str):
        return value
    match = _DURATION.match(value)
    if match is not None:
        number, unit = match.groups()
        return float(number) * _UNIT[unit]
    seconds, at, last = 0.0, 0, -1
    for part in _PART.finditer(value):
        order = _ORDER.index(part.group(2))
        if part.start() != at or order <= last:
            raise _not_a_duration(value)
        seconds += float(part.group(1)) * _UNIT[part.group(2)]
        at, last = part.end(), order
    if at == 0 or value[at:].strip():
        raise _not_a_duration(value)
    return seconds


def _not_a_duration(value: str) -> ValueError:
    return ValueError(f"{value!r} is not a duration; write e.g. 90s, 15m, 36h or 2d")


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
MccMnc = Annotated[str, Field(pattern=r"^\d{5,6}$")]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OperatorSpec(_Model):
    """A mobile network operator."""

    mcc_mnc: MccMnc
    name: str
    country: Country
    roaming_partners: list[MccMnc] | None = None
    """Home networks whose SIMs may roam here; None = every network (a hub agreement)."""
    psm_max_t3412: Duration | None = None
    """The longest periodic TAU timer (T3412) it grants a PSM device; None: what is asked."""


class CellSpec(_Model):
    """A cell: where it is, how strong it is at its centre, what radios it offers."""

    id: int = Field(ge=1)
    operator: MccMnc
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(default=5.0, gt=0)
    """Distance at which the signal has fallen by 35 dB from the centre."""
    rsrp_dbm: float = Field(default=-75.0, le=-30, ge=-140)
    radio_types: list[RadioType] = Field(min_length=1)


class Waypoint(_Model):
    """Where a moving device is at a time; it moves in a straight line between waypoints."""

    at: Duration
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class MobilitySpec(_Model):
    """How a device moves: along waypoints, or a seeded random walk around its home."""

    waypoints: list[Waypoint] = Field(default_factory=list)
    walk_km_per_day: float = Field(default=0.0, ge=0)
    walk_radius_km: float = Field(default=10.0, gt=0)


class RetryBehaviour(enum.StrEnum):
    """How a device's firmware retries after a failure."""

    TS34 = "ts34"
    """GSMA TS.34: randomised exponential back-off, network timers obeyed, ≤ 1 reset an hour."""
    TIGHT_LOOP = "tight_loop"
    """Retries every few seconds, resetting the modem to get past forbidden networks."""
    REBOOT_ON_FAILURE = "reboot_on_failure"
    """Reboots the device after every failure."""


class DeviceGroupSpec(_Model):
    """A batch of identical devices, each with one SIM of a consecutive range."""

    name: str = Field(min_length=1)
    count: int = Field(ge=1, le=10_000_000)
    id_format: str = "{group}-{n:04d}"
    """Device id; `{group}` and `{n}` (1-based) are filled in."""
    name_format: str = "{group} {n}"
    """The customer's name for the device, as shown on the platform."""
    first_iccid: Iccid
    first_imei: Imei
    model: str = "generic-lte-m"
    firmware: str = "1.0.0"
    radio: RadioType = RadioType.LTE_M
    apn: str
    apn_credentials_ok: bool = True
    site: str | None = None
    time_zone: str = "UTC"
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    spread_km: float = Field(default=0.0, ge=0)
    """Devices are placed at random within this distance of (lat, lon)."""
    mobility: MobilitySpec | None = None
    battery_mah: float | None = Field(default=None, gt=0)
    """None: mains powered."""
    battery_pct: float = Field(default=100.0, gt=0, le=100)
    """The battery's level when the run starts (battery-powered devices only)."""
    report_interval: Duration = 900.0
    report_jitter: Duration = 60.0
    report_bytes: int = Field(default=400, ge=1)
    psm: bool = False
    """Sleep (PSM/eDRX) between reports instead of staying connected."""
    keepalive: Duration = 1200.0
    retry: RetryBehaviour = RetryBehaviour.TS34


class FaultId(enum.StrEnum):
    """The simulator's fault catalogue; each declares the cause it should be diagnosed as."""

    BATTERY_DEPLETED = "battery_depleted"
    POWER_LOSS = "power_loss"
    COVERAGE_LOSS = "coverage_loss"
    CELL_OUTAGE = "cell_outage"
    OPERATOR_OUTAGE = "operator_outage"
    APN_GATEWAY_OUTAGE = "apn_gateway_outage"
    CONGESTION = "congestion"
    SIM_DEACTIVATED = "sim_deactivated"
    SIM_NOT_PROVISIONED = "sim_not_provisioned"
    TEST_QUOTA_USED = "test_quota_used"
    DATA_LIMIT_REACHED = "data_limit_reached"
    ROAMING_NOT_ALLOWED = "roaming_not_allowed"
    RADIO_TYPE_NOT_ALLOWED = "radio_type_not_allowed"
    WRONG_APN = "wrong_apn"
    PRIVATE_APN_CREDENTIALS = "private_apn_credentials"
    IPSEC_TUNNEL_DOWN = "ipsec_tunnel_down"
    IMEI_LOCK_MISMATCH = "imei_lock_mismatch"
    IMEI_BLACKLISTED = "imei_blacklisted"
    DAMAGED_SIM = "damaged_sim"
    FIRMWARE_HANG = "firmware_hang"
    RECONNECT_STORM = "reconnect_storm"
    BROKER_UNREACHABLE = "broker_unreachable"

    @property
    def cause(self) -> Cause:
        """The cause a diagnosis should name for this fault (the ids coincide by design)."""
        return Cause(self.value)


class FaultSpec(_Model):
    """One fault on the timeline: what, when, for how long, and where."""

    fault: FaultId
    at: Duration
    duration: Duration | None = None
    """None: lasts until the end of the run (or until something the timeline does fixes it)."""
    devices: list[str] | None = None
    """Device ids, for faults of a device or its SIM."""
    cell: int | None = None
    operator: MccMnc | None = None
    apn: str | None = None
    tunnel: str | None = None
    pool: str | None = None
    """A shared data pool (`account/rate plan`), for faults of the SIMs in it."""
    value: str | None = None
    """Fault-specific: the wrong APN, the unallowed radio type, the country moved to."""


class FaultRateSpec(_Model):
    """Faults drawn at random, `per_device_day` a device and day on average, `duration` long."""

    fault: FaultId
    per_device_day: float = Field(gt=0, le=100)
    duration: Duration | None = None
    group: str | None = None
    """Only devices of this group (None: every device)."""


class SwapSpec(_Model):
    """A SIM swap: the SIMs of two devices are exchanged (a cross-swap test), or one SIM moves."""

    at: Duration
    device: str
    """The device whose SIM is taken out."""
    into: str
    """The device it goes into; that device's SIM (if any) goes the other way."""
    back_at: Duration | None = None
    """When the SIMs are put back, if they are."""


class MoveSpec(_Model):
    """A SIM moved into another device for good: replacement hardware, say (`swaps` exchange)."""

    at: Duration
    device: str
    """The device whose SIM is taken out; it is left without one."""
    into: str
    """The device it goes into; that device's own SIM, if any, is taken out and kept aside."""


class CoreProfile(enum.StrEnum):
    """Which EMM causes the core network sends for a subscription problem (`core_causes`)."""

    SIMPLE = "simple"
    """One cause per problem, as the TS 24.301 names read: #2 for an unknown subscriber."""
    ANNEX_A = "annex-a"
    """TS 29.272 Annex A as Open5GS's MME maps the HSS's answers: #8 for an unknown subscriber."""


class InterventionId(enum.StrEnum):
    """What people do to a SIM or a device on the timeline."""

    CHANGE_PLAN = "change_plan"
    """The operator puts the SIM on another communication plan (`value`: its name)."""
    CLEAR_FORBIDDEN_NETWORKS = "clear_forbidden_networks"
    """The operator clears the SIM's forbidden-network list (EF_FPLMN) over the air."""
    SELECT_NETWORK = "select_network"
    """Someone at the device selects a network by hand, once (`value`: its MCC-MNC)."""


class InterventionSpec(_Model):
    """One intervention on the timeline: what, when, on which devices' SIMs."""

    at: Duration
    action: InterventionId
    devices: list[str] = Field(min_length=1)
    value: str | None = None


class WorldSpec(_Model):
    """A whole world: the customer, the networks, the devices and the timeline."""

    start: datetime
    seed: int = 1
    customer: CustomerFile
    operators: list[OperatorSpec] = Field(min_length=1)
    cells: list[CellSpec] = Field(min_length=1)
    devices: list[DeviceGroupSpec] = Field(min_length=1)
    faults: list[FaultSpec] = Field(default_factory=list)
    swaps: list[SwapSpec] = Field(default_factory=list)
    moves: list[MoveSpec] = Field(default_factory=list)
    interventions: list[InterventionSpec] = Field(default_factory=list)
    fault_rates: list[FaultRateSpec] = Field(default_factory=list)
    message_loss: float = Field(default=0.0, ge=0, lt=1)
    """Share of device messages lost on the way (radio, broker), drawn per message."""
    core: CoreProfile = CoreProfile.SIMPLE
    """Which cause table the core network answers with."""

    @model_validator(mode="after")
    def _start_is_aware(self) -> WorldSpec:
        if self.start.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-03-01T00:00:00Z")
        return self


Kind = Literal["device", "cell", "operator", "apn", "tunnel"]


_TOPIC_LEVEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
Loc = tuple[str | int, ...]


def world_problems(spec: WorldSpec) -> list[tuple[Loc, str]]:
    """Problems across the world's parts, each with the path of the field it concerns."""
    problems: list[tuple[Loc, str]] = [
        (("customer", *loc), msg) for loc, msg in cross_check(spec.customer)
    ]
    problems += _network_problems(spec)
    ids = _device_problems(spec, problems)
    problems += _timeline_problems(spec, ids)
    return problems


def _network_problems(spec: WorldSpec) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    operators = {o.mcc_mnc for o in spec.operators}
    seen: set[int] = set()
    for i, cell in enumerate(spec.cells):
        if cell.operator not in operators:
            problems.append((("cells", i, "operator"), f"unknown operator {cell.operator!r}"))
        if cell.id in seen:
            problems.append((("cells", i, "id"), f"cell {cell.id} is defined twice"))
        seen.add(cell.id)
    return problems


def _device_problems(spec: WorldSpec, problems: list[tuple[Loc, str]]) -> dict[str, str]:
    """Check device groups; returns every device id with its group name."""
    spans = [
        (r.first_iccid.body_int, r.first_iccid.body_int + r.count - 1)
        for r in spec.customer.sim_ranges
    ]
    ids: dict[str, str] = {}
    for i, group in enumerate(spec.devices):
        first = group.first_iccid.body_int
        last = first + group.count - 1
        if not _covered(spans, first, last):
            problems.append(
                (
                    ("devices", i, "first_iccid"),
                    f"{group.count} SIMs from {group.first_iccid} are not all in sim_ranges",
                ),
            )
        for n in (1, group.count):
            try:
                device_id = group.id_format.format(group=group.name, n=n)
                group.name_format.format(group=group.name, n=n)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append((("devices", i, "id_format"), f"cannot be filled in: {exc}"))
                return ids
            if not _TOPIC_LEVEL.match(device_id):
                problems.append(
                    (
                        ("devices", i, "id_format"),
                        f"device id {device_id!r} must be letters, digits, '_.-'",
                    ),
                )
        for n in range(1, group.count + 1):
            device_id = group.id_format.format(group=group.name, n=n)
            if device_id in ids:
                problems.append(
                    (("devices", i, "id_format"), f"device id {device_id!r} is used twice")
                )
                break
            ids[device_id] = group.name
    return ids


def _covered(spans: list[tuple[int, int]], first: int, last: int) -> bool:
    """Whether the ranges `spans` hold every number from `first` to `last`."""
    reach = first - 1
    for lo, hi in sorted(spans):
        if lo > reach + 1:
            if lo <= last:
                return False
            break
        reach = max(reach, hi)
    return reach >= last


def pools(customer: CustomerFile) -> set[str]:
    """The customer's shared data pools (`account/rate plan`): accounts' SIMs on pooled plans."""
    pooled = {r.name for r in customer.rate_plans if r.pooled}
    return {pool_name(r.account, r.rate_plan) for r in customer.sim_ranges if r.rate_plan in pooled}


def _timeline_problems(spec: WorldSpec, ids: dict[str, str]) -> list[tuple[Loc, str]]:
    problems = _fault_problems(spec, ids)
    changes: list[tuple[str, int, SwapSpec | MoveSpec]] = [
        ("swaps", i, c) for i, c in enumerate(spec.swaps)
    ]
    changes += [("moves", i, c) for i, c in enumerate(spec.moves)]
    for kind, i, change in changes:
        for field in ("device", "into"):
            name = getattr(change, field)
            if name not in ids:
                problems.append(((kind, i, field), f"unknown device {name!r}"))
        if change.device == change.into:
            problems.append(((kind, i, "into"), "a SIM moves between two devices"))
    problems += _intervention_problems(spec, ids)
    groups = {g.name for g in spec.devices}
    for i, rate in enumerate(spec.fault_rates):
        if rate.group is not None and rate.group not in groups:
            problems.append((("fault_rates", i, "group"), f"unknown device group {rate.group!r}"))
    return problems


def _intervention_problems(spec: WorldSpec, ids: dict[str, str]) -> list[tuple[Loc, str]]:
    plans = {p.name for p in spec.customer.communication_plans}
    operators = {o.mcc_mnc for o in spec.operators}
    needs = {InterventionId.CHANGE_PLAN: plans, InterventionId.SELECT_NETWORK: operators}
    problems: list[tuple[Loc, str]] = []
    for i, step in enumerate(spec.interventions):
        action = step.action.value
        problems += [
            (("interventions", i, "devices", j), f"{action}: unknown device {device!r}")
            for j, device in enumerate(step.devices)
            if device not in ids
        ]
        known = needs.get(step.action)
        if known is not None and step.value not in known:
            problems.append(
                (("interventions", i, "value"), f"{action}: unknown value {step.value!r}")
            )
    return problems


def _fault_problems(spec: WorldSpec, ids: dict[str, str]) -> list[tuple[Loc, str]]:
    known: dict[str, set[int] | set[str]] = {
        "cell": {c.id for c in spec.cells},
        "operator": {o.mcc_mnc for o in spec.operators},
        "apn": {a.name.lower() for p in spec.customer.communication_plans for a in p.apns},
        "tunnel": {t.name for t in spec.customer.tunnels},
        "pool": pools(spec.customer),
    }
    problems: list[tuple[Loc, str]] = []
    for i, fault in enumerate(spec.faults):
        problems += [
            (("faults", i, "devices", j), f"{fault.fault.value}: unknown device {device!r}")
            for j, device in enumerate(fault.devices or [])
            if device not in ids
        ]
        for field, names in known.items():
            value = getattr(fault, field)
            if value is not None and (value.lower() if field == "apn" else value) not in names:
                problems.append(
                    (("faults", i, field), f"{fault.fault.value}: unknown {field} {value!r}")
                )
    return problems
