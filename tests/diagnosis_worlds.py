"""A world for every cause of the catalogue, run through the diagnostics service.

Each world has the fault's victims and healthy background devices, 1% message
loss on the devices' side, and is fed to a real `Service` (SQLite file, the
same decode and detection as over MQTT) up to the moment support looks at it:
shortly before the fault ends, as when a customer calls while it is still on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simlab.direct import serve
from simulator.world.spec import FaultId
from tests.test_faults import AT, trial_customer
from tests.world_fixtures import START, collars, world

if TYPE_CHECKING:
    from pathlib import Path

    from diagnostics.support import Support
    from simulator.world.spec import WorldSpec
    from simulator.world.truth import TruthRecord

RESULTS: dict[str, tuple[str, int, list[str]]] = {}
"""Cause -> (worst grade, victims, grades seen): the table the test run prints at its end."""
H = 3600.0
T0 = START.timestamp()
LOSS = 0.01
VICTIM = "collar-0001"


def _iccid(n: int) -> str:
    from protocol.identifiers import iccid_range  # noqa: PLC0415
    from tests.world_fixtures import FIRST_ICCID  # noqa: PLC0415

    return str(list(iccid_range(FIRST_ICCID, n + 1))[n])


def _imei(n: int) -> str:
    from protocol.identifiers import imei_range  # noqa: PLC0415
    from tests.world_fixtures import FIRST_IMEI  # noqa: PLC0415

    return str(list(imei_range(FIRST_IMEI, n + 1))[n])


def herd(count: int, first: int, **overrides: Any) -> dict:
    """`count` healthy zebra collars with SIMs and IMEIs from number `first` on."""
    group = {
        "name": "herd",
        "name_format": "Zebra collar {n}",
        "first_iccid": _iccid(first),
        "first_imei": _imei(first),
        "lon": 35.35,
    }
    return collars(count, **(group | overrides))


@dataclass(frozen=True)
class CauseWorld:
    """One cause's world: where the fault strikes and when support looks."""

    fault: FaultId
    target: dict[str, Any]
    devices: tuple[dict, ...]
    duration: float = 3 * H
    look_after: float | None = None
    """Support looks this long after the fault starts (default: 5 minutes before it ends)."""
    customer: dict | None = None
    tail: float = 0.0

    @property
    def look(self) -> float:
        """Seconds after the world's start when support diagnoses."""
        return AT + (self.look_after if self.look_after is not None else self.duration - 300)

    def spec(self, loss: float = LOSS) -> WorldSpec:
        fault = {"fault": self.fault.value, "at": AT, "duration": self.duration, **self.target}
        return world(
            devices=[copy.deepcopy(d) for d in self.devices],
            faults=[fault],
            customer=self.customer,
            message_loss=loss,
            seed=11,
        )


ONE = {"devices": [VICTIM]}
DEVICE_WORLD = (collars(6), herd(6, 10))
"""Six collars (the first is the victim) and six healthy zebra collars on another cell."""
TWO_CELLS = (
    collars(4, lon=34.95),
    collars(
        4,
        lon=35.35,
        name="calf",
        first_iccid=_iccid(4),
        first_imei=_imei(4),
        name_format="Calf collar {n}",
    ),
    herd(6, 10, lat=-2.50, lon=35.0),
)

WORLDS: dict[FaultId, CauseWorld] = {
    w.fault: w
    for w in (
        CauseWorld(FaultId.BATTERY_DEPLETED, ONE, DEVICE_WORLD, duration=6 * H),
        CauseWorld(FaultId.POWER_LOSS, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.COVERAGE_LOSS, ONE, DEVICE_WORLD, duration=5 * H),
        CauseWorld(FaultId.RADIO_HARDWARE, ONE, DEVICE_WORLD),
        CauseWorld(
            FaultId.CELL_OUTAGE,
            {"cell": 101},
            (collars(8, lon=34.90), herd(6, 10)),
        ),
        CauseWorld(FaultId.OPERATOR_OUTAGE, {"operator": "63902"}, TWO_CELLS),
        CauseWorld(
            FaultId.APN_GATEWAY_OUTAGE,
            {"apn": "iot.savanna"},
            (collars(8), herd(6, 10, apn="internet.iot")),
        ),
        CauseWorld(
            FaultId.CONGESTION,
            {"cell": 101},
            (collars(8, lon=34.90), herd(6, 10)),
            look_after=1.5 * H,
        ),
        CauseWorld(FaultId.SIM_DEACTIVATED, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.SIM_NOT_PROVISIONED, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.SIM_PURGED, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.TEST_QUOTA_USED, ONE, DEVICE_WORLD, customer=trial_customer()),
        CauseWorld(FaultId.DATA_LIMIT_REACHED, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.ROAMING_NOT_ALLOWED, ONE | {"operator": "20801"}, DEVICE_WORLD),
        CauseWorld(FaultId.RADIO_TYPE_NOT_ALLOWED, ONE | {"value": "NB-IoT"}, DEVICE_WORLD),
        CauseWorld(FaultId.WRONG_APN, ONE | {"value": "iot.savana"}, DEVICE_WORLD),
        CauseWorld(FaultId.PRIVATE_APN_CREDENTIALS, ONE, DEVICE_WORLD),
        CauseWorld(
            FaultId.IPSEC_TUNNEL_DOWN,
            {"tunnel": "hq"},
            (collars(8), herd(6, 10, apn="internet.iot")),
        ),
        CauseWorld(FaultId.IMEI_LOCK_MISMATCH, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.IMEI_BLACKLISTED, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.DAMAGED_SIM, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.FIRMWARE_HANG, ONE, DEVICE_WORLD),
        CauseWorld(FaultId.RECONNECT_STORM, ONE, DEVICE_WORLD, duration=2 * H),
        CauseWorld(FaultId.BROKER_UNREACHABLE, ONE, DEVICE_WORLD),
    )
}


@dataclass
class Looked:
    """A world run up to support's look, with the service that saw it."""

    world: CauseWorld
    support: Support
    truth: list[TruthRecord]
    now: float
    messages: list = field(default_factory=list)

    def affected(self) -> list[TruthRecord]:
        """Truth records on at the moment support looks."""
        return [
            r for r in self.truth if r.start <= self.now and (r.end is None or r.end > self.now)
        ]

    def devices(self) -> list[str]:
        """Every device the service has seen."""
        return sorted(self.support.service.detector.ids)


def look(cause_world: CauseWorld, path: Path, *, loss: float = LOSS) -> Looked:
    """Simulate the world past support's look, feed the service up to it."""
    support, truth, messages = serve(cause_world.spec(loss), cause_world.look, path)
    return Looked(cause_world, support, truth, T0 + cause_world.look, messages)
