"""One entry point for a run: `simulate(spec, sink, until=...) -> RunResult`."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from protocol.messages import Clock
from simulator.world.faults import CATALOGUE, draw, schedule
from simulator.world.interventions import intervention_process
from simulator.world.rollout import rollout_process
from simulator.world.spec_problems import world_problems
from simulator.world.swaps import move_process, swap_process
from simulator.world.world import World
from simulator.yamlfile import format_loc

if TYPE_CHECKING:
    from simulator.world.shard import Shard
    from simulator.world.sinks import Sink
    from simulator.world.spec import WorldSpec
    from simulator.world.truth import TruthRecord

__all__ = ["RunResult", "simulate"]


@dataclass(slots=True)
class RunResult:
    """What a run produced besides its messages."""

    until: float
    messages: int
    lost: int
    events: int
    wall_s: float
    truth: list[TruthRecord] = field(default_factory=list)
    error: str | None = None
    """The traceback of an exception that ended the run early, kept rather than lost."""
    world: World | None = None


def _start(world: World, until: float, clock_every: float) -> None:
    """The world's processes: the timeline's, the bulk engine's cohorts and the clock."""
    env, spec = world.env, world.spec
    for fault in spec.faults:
        env.process(schedule(world, fault, CATALOGUE[fault.fault]))
    for rate in spec.fault_rates:
        env.process(draw(world, rate, CATALOGUE[rate.fault]))
    for swap in spec.swaps:
        env.process(swap_process(world, swap))
    for moved in spec.moves:
        env.process(move_process(world, moved))
    for step in spec.interventions:
        env.process(intervention_process(world, step))
    for rollout in spec.rollouts:
        env.process(rollout_process(world, rollout))
    for cohort in world.cohorts:
        env.process(cohort.run(until))
    env.process(world.clock(clock_every))


def simulate(
    spec: WorldSpec,
    sink: Sink,
    *,
    until: float,
    clock_every: float = 60.0,
    shard: Shard | None = None,
) -> RunResult:
    """Build the world of `spec`, run it `until` simulated seconds, writing its output to `sink`.

    The same spec and seed give the same messages in the same order, byte for byte. A spec
    whose parts do not fit together (an unknown device in the timeline, SIMs not onboarded)
    runs nothing; `RunResult.error` lists its problems, one line each. `shard`: run all of
    the world, send only that shard's devices' and SIMs' messages (`simulator.world.shard`).
    """
    began = time.perf_counter()
    problems = world_problems(spec)
    if problems:
        listed = "\n".join(f"{format_loc(loc)}: {message}" for loc, message in problems)
        return RunResult(until=until, messages=0, lost=0, events=0, wall_s=0.0, error=listed)
    world = World(spec, sink, shard)
    env = world.env
    events = 0
    error: str | None = None
    try:
        world.output.publish_records()
        _start(world, until, clock_every)
        while env.peek() < until:
            env.step()
            events += 1
        env.run(until=until)
        world.output.emit(Clock(t=world.output.ts(until), final=True))
    except Exception:  # noqa: BLE001 - the result records it; a run never loses its cause
        error = traceback.format_exc()
    return RunResult(
        until=until,
        messages=world.output.messages,
        lost=world.output.lost,
        events=events,
        wall_s=time.perf_counter() - began,
        truth=list(world.truth.records),
        error=error,
        world=world,
    )
