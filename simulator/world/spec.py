"""What a world is made of, as data: the schema scenario files are written in.

Times are offsets from the world's start, written as seconds or with a unit
("90s", "15m", "36h", "2d"). Positions are latitude/longitude in degrees.
"""

from __future__ import annotations

import enum
import functools
import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from protocol.causes import Cause
from protocol.identifiers import Iccid, Imei
from simulator.platform.customer import CustomerFile, RadioType

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
    "RolloutSpec",
    "SwapSpec",
    "Waypoint",
    "WorldSpec",
    "parse_duration",
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
    engine: Literal["auto", "process", "bulk"] = "auto"
    """How the group runs: a SimPy process per device, numpy columns (`bulk`), or `auto`:
    columns for a group of 5,000 or more whose devices the bulk engine can follow."""


class FaultId(enum.StrEnum):
    """The simulator's fault catalogue; each declares the cause it should be diagnosed as."""

    BATTERY_DEPLETED = "battery_depleted"
    POWER_LOSS = "power_loss"
    COVERAGE_LOSS = "coverage_loss"
    RADIO_HARDWARE = "radio_hardware"
    CELL_OUTAGE = "cell_outage"
    OPERATOR_OUTAGE = "operator_outage"
    APN_GATEWAY_OUTAGE = "apn_gateway_outage"
    CONGESTION = "congestion"
    SIM_DEACTIVATED = "sim_deactivated"
    SIM_NOT_PROVISIONED = "sim_not_provisioned"
    SIM_PURGED = "sim_purged"
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
    account: str | None = None
    """An account of the customer, for platform faults of every SIM in it and the accounts
    under it (an overdue invoice, a data block)."""
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


class RolloutSpec(_Model):
    """A firmware rollout: a version installed over the air, and what it changes on the devices.

    Which devices: those named, or of a group, or on a version (`from_version`), or all of
    them; of these, `share` (drawn with the world's seed). What it changes: nothing but the
    version, or one of the device faults (`fault`, with its `value`: the APN it writes).
    """

    at: Duration
    version: str = Field(min_length=1)
    devices: list[str] | None = None
    group: str | None = None
    from_version: str | None = None
    share: float = Field(default=1.0, gt=0, le=1)
    fault: FaultId | None = None
    """The device fault the new version brings (firmware_hang, reconnect_storm, wrong_apn ...)."""
    value: str | None = None
    """Fault-specific, as in a fault: the APN the new version writes."""
    duration: Duration | None = None
    """How long until the fault is fixed (a rollback to the old version); None: not in the run."""


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
    rollouts: list[RolloutSpec] = Field(default_factory=list)
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


def device_ids(group: DeviceGroupSpec) -> tuple[str, ...]:
    """Every device id of `group`, in order (those of the last few groups asked are kept)."""
    return _device_ids(group.id_format, group.name, group.count)


@functools.lru_cache(maxsize=4)
def _device_ids(id_format: str, name: str, count: int) -> tuple[str, ...]:
    return tuple(id_format.format(group=name, n=n) for n in range(1, count + 1))
