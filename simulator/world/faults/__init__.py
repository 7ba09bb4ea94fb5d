"""The fault catalogue: how each fault is put into the world and taken out again.

A fault changes the world the way the real thing would (a battery drains, a
cell goes off air, a SIM is deactivated by billing, a firmware update writes
the wrong APN) and nothing else: it shows only through the evidence devices
and the platform emit. Each fault declares its cause in `protocol.causes`
(`FaultId.cause`), and its injection writes ground truth for every device it
reaches. The faults live by where they strike: the device (`device`), the SIM
and its subscription (`sim`), the radio network (`network`), the packet core
(`apn`); `injection` puts them into a run.
"""

from __future__ import annotations

from typing import Final

from simulator.world.faults.apn import APN_FAULTS
from simulator.world.faults.device import DEVICE_FAULTS
from simulator.world.faults.injection import affected, draw, inject, schedule
from simulator.world.faults.kind import FaultKind, Scope
from simulator.world.faults.network import NETWORK_FAULTS
from simulator.world.faults.sim import SIM_FAULTS
from simulator.world.spec import FaultId

__all__ = ["CATALOGUE", "FaultKind", "Scope", "affected", "draw", "inject", "schedule"]

_KINDS = {k.id: k for k in (*DEVICE_FAULTS, *SIM_FAULTS, *NETWORK_FAULTS, *APN_FAULTS)}
CATALOGUE: Final = {fault: _KINDS[fault] for fault in FaultId}
"""Every fault the simulator can inject, by id, in the order `FaultId` lists them."""
