"""Faults of the network: a cell off air, an operator's core failing, a congested cell or operator.

They strike every device on the cell or operator when they begin; when they end,
every device without a cell looks again. A cell off air leaves its devices
without a word (the core detaches them implicitly later). A failed core leaves its
cells on air: it drops every registration at once (a network detach) and answers
every attach with EMM #17 (network failure) while it lasts, so its devices retry
by T3411/T3402 on the wire, however short the failure. Congestion asks devices to wait (T3346).
Every device either drops is a victim from that moment, asleep or not; one whose
firmware does not wait is a victim no more but a reconnect storm of its own (GSMA
TS.34) from the first wait it skips (`TruthObserver.ignored_backoff`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.errors import SimulatorError
from simulator.world.faults.kind import FaultKind, sim_of
from simulator.world.spec import FaultId

if TYPE_CHECKING:
    from simulator.world.device import Device
    from simulator.world.network import Cell
    from simulator.world.spec import FaultSpec
    from simulator.world.world import World

__all__ = ["NETWORK_FAULTS"]


def _cell_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    _cell(world, spec).up = False
    for d in devices:
        d.poke()


def _cell_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    _cell(world, spec).up = True
    _wake_all(world)


def _operator_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    world.network.operators[_operator(spec)].up = False
    _detach_all(world, devices)


def _operator_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    world.network.operators[_operator(spec)].up = True
    _wake_all(world)


def _congestion_on(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    _congested(world, spec, on=True)
    _detach_all(world, devices)


def _detach_all(world: World, devices: list[Device]) -> None:
    """The network drops every device's registration; those that will not wait storm (TS.34)."""
    for d in devices:
        world.core.network_detach(sim_of(d))


def _congestion_off(world: World, spec: FaultSpec, devices: list[Device]) -> None:
    _congested(world, spec, on=False)


def _congested(world: World, spec: FaultSpec, *, on: bool) -> None:
    if spec.cell is not None:
        world.network.cell(spec.cell).congested = on
    else:
        world.network.operators[_operator(spec)].congested = on


def _cell(world: World, spec: FaultSpec) -> Cell:
    if spec.cell is None:
        raise SimulatorError(f"{spec.fault.value}: say which cell")
    return world.network.cell(spec.cell)


def _operator(spec: FaultSpec) -> str:
    if spec.operator is None:
        raise SimulatorError(f"{spec.fault.value}: say which operator")
    return spec.operator


def _wake_all(world: World) -> None:
    for d in world.devices:
        if d.cell is None:
            d.poke()


F = FaultId
NETWORK_FAULTS = (
    FaultKind(F.CELL_OUTAGE, "cell", "a cell goes off air", _cell_on, _cell_off),
    FaultKind(
        F.OPERATOR_OUTAGE,
        "operator",
        "an operator's core network fails: cells on air, attaches get EMM #17",
        _operator_on,
        _operator_off,
    ),
    FaultKind(
        F.CONGESTION,
        "cell",
        "a cell or operator is congested: attaches get EMM #22 with T3346",
        _congestion_on,
        _congestion_off,
    ),
)
"""The radio network's faults, in the catalogue's order."""
