"""What a device's firmware does after a failure: how long it waits, and when it resets.

The modem follows TS 24.301 §5.5.1.2: a reject that forbids a network or a tracking
area puts it on a list (`selection`) and the device looks for another cell at once;
#3, #5, #6, #7 and #8 make the SIM invalid until a switch-off; any other failure
counts an attach attempt and retries after T3411 (10 s), and after the fifth
attempt waits T3402 (12 min) before the next round.

Well-behaved firmware follows GSMA TS.34 on top: it obeys the network's back-off
timers (T3346, T3396), backs off exponentially with jitter up to an hour after
session failures, resets the modem at most once an hour to clear the networks the
modem refuses (#14; the SIM's forbidden-network list stays: only the operator over
the air, or a manual selection, clears it), leaves forbidden tracking areas to their
periodic deletion, and after a permanent reject waits about an hour before one more
reset. Misbehaving firmware (`RetryBehaviour`, the device's `retry`: its group's, or a
reconnect-storm fault's) retries in a tight loop or reboots on every failure,
forgetting the timers each time: the storms operators see in congestion.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from protocol.nas import EmmCause
from simulator.world import selection
from simulator.world.mobility import HOUR
from simulator.world.spec import RetryBehaviour

if TYPE_CHECKING:
    from collections.abc import Generator

    import simpy

    from simulator.world.device import Device
    from simulator.world.network import Cell, Refusal

__all__ = [
    "MAX_ATTACH_ATTEMPTS",
    "REBOOT_WAIT_S",
    "T3402_S",
    "T3411_S",
    "TIGHT_LOOP_WAIT_S",
    "after_attach_reject",
    "after_scan",
    "after_session_reject",
    "retry_delay",
]

T3411_S: Final = 10.0
"""TS 24.301 T3411: the wait before the next attach attempt after a failure."""
T3402_S: Final = 720.0
"""TS 24.301 T3402 (its default): the wait after the fifth failed attempt in a row."""
MAX_ATTACH_ATTEMPTS: Final = 5
TIGHT_LOOP_WAIT_S: Final = (5.0, 15.0)
"""A tight-looping firmware's wait before it tries again, drawn uniformly in this range."""
REBOOT_WAIT_S: Final = (30.0, 90.0)
"""A firmware that reboots on every failure waits so long (uniformly) before it tries again."""
PERMANENT_CAUSES: Final = frozenset(
    {
        EmmCause.ILLEGAL_UE,
        EmmCause.IMEI_NOT_ACCEPTED,
        EmmCause.ILLEGAL_ME,
        EmmCause.EPS_SERVICES_NOT_ALLOWED,
        EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED,
    },
)


def after_scan(device: Device, now: float) -> float:
    """The wait after a network scan found no cell the device may use."""
    if device.retry is RetryBehaviour.TS34:
        if device.nas.gprs_forbidden and now - device.last_reset >= HOUR:
            device.reboot(now)  # at most one modem reset an hour clears the refused networks
            return device.rng.uniform(30, 60)
        return device.rng.uniform(300, 600)  # forbidden areas: the list is deleted in 12-24 h
    if device.nas.holds_lists():
        device.reboot(now)
    return device.rng.uniform(10, 30)


def after_attach_reject(device: Device, now: float, cell: Cell, refusal: Refusal) -> float:
    """The wait after the network refused to register the device on `cell`."""
    cause = refusal.cause
    if selection.note_reject(device, cell, cause, now):
        return device.rng.uniform(5, 15)  # look for another cell or network
    if refusal.backoff is not None:
        if device.retry is not RetryBehaviour.TS34:
            device.world.observer.ignored_backoff(device)
            device.reboot(now)  # misbehaving firmware resets the modem, which forgets T3346
            return retry_delay(device, now)
        device.t3346 = now + refusal.backoff
    if cause in PERMANENT_CAUSES:
        return _after_permanent_reject(device, now)
    if refusal.backoff is not None:
        return retry_delay(device, now, floor=refusal.backoff)
    if device.retry is RetryBehaviour.TS34:
        return _next_attempt(device)
    device.world.observer.ignored_backoff(device)  # it waits neither T3411 nor T3402
    return retry_delay(device, now)


def _next_attempt(device: Device) -> float:
    """T3411 after each failed attempt, T3402 after the fifth in a row (TS 24.301 §5.5.1.2.6)."""
    device.nas.attempts += 1
    if device.nas.attempts < MAX_ATTACH_ATTEMPTS:
        return T3411_S
    device.nas.attempts = 0
    return T3402_S


def after_session_reject(device: Device, now: float, refusal: Refusal) -> float:
    """The wait after the network refused a data session (TS.34 firmware obeys T3396)."""
    if refusal.backoff is not None and device.retry is RetryBehaviour.TS34:
        device.t3396 = now + refusal.backoff
        return retry_delay(device, now, floor=refusal.backoff)
    return retry_delay(device, now)


def _after_permanent_reject(device: Device, now: float) -> float:
    if device.retry is RetryBehaviour.TS34:
        device.crash_at = math.inf
        device.env.process(_reset_later(device, device.rng.uniform(0.9, 1.1) * HOUR))
        return math.inf
    device.reboot(now)
    return retry_delay(device, now)


def _reset_later(device: Device, delay: float) -> Generator[simpy.Event, object, None]:
    boot = device.boot
    yield device.env.timeout(delay)
    if device.boot == boot and device.powered and not device.hung and device.cell is None:
        device.restart()


def retry_delay(device: Device, now: float, floor: float = 0.0) -> float:
    """How long the firmware waits before trying again after a failure."""
    behaviour = device.retry
    if behaviour is RetryBehaviour.TS34:
        device.failures += 1
        wait = min(60.0 * 2.0 ** (device.failures - 1), HOUR) * device.rng.uniform(0.5, 1.5)
        return max(wait, floor)
    if behaviour is RetryBehaviour.REBOOT_ON_FAILURE:
        if device.cell is not None:
            device.reboot(now)
        return device.rng.uniform(*REBOOT_WAIT_S)
    return device.rng.uniform(*TIGHT_LOOP_WAIT_S)
