"""What people do to SIMs and devices on the timeline, beside the faults.

The operator may put a SIM on another communication plan (audited, a new record
follows) or clear the SIM's forbidden-network list over the air (an OTA update
of EF_FPLMN, which the platform does not audit); someone at the device may
select a network by hand, which the device tries once, whatever the lists say.
Each reaches the SIM in the device named at the moment it happens, and the
device looks at its world again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.platform.lifecycle import Actor
from simulator.world.faults.kind import sim_of
from simulator.world.spec import InterventionId

if TYPE_CHECKING:
    from collections.abc import Generator

    import simpy

    from simulator.world.spec import InterventionSpec
    from simulator.world.world import World

__all__ = ["intervene", "intervention_process"]


def intervene(world: World, spec: InterventionSpec) -> None:
    """Do `spec` now, on each of its devices."""
    for device_id in spec.devices:
        device = world.by_id[device_id]
        iccid = sim_of(device)
        match spec.action:
            case InterventionId.CHANGE_PLAN:
                _change_plan(world, iccid, spec.value)
            case InterventionId.CLEAR_FORBIDDEN_NETWORKS:
                world.sim_files.clear(iccid)
            case InterventionId.SELECT_NETWORK:
                device.nas.manual = spec.value
        device.poke()


def _change_plan(world: World, iccid: str, plan: str | None) -> None:
    assert plan is not None  # world_problems insists on a known plan
    world.platform.change_communication_plan(
        iccid,
        plan,
        actor=Actor.OPERATOR,
        reason=f"communication plan changed to {plan}",
        now=world.env.now,
    )
    world.output.flush_platform()


def intervention_process(
    world: World, spec: InterventionSpec
) -> Generator[simpy.Event, object, None]:
    """A SimPy process that performs an intervention at its time."""
    yield world.env.timeout(spec.at)
    intervene(world, spec)
