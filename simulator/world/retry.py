"""What a device's firmware does after a failure: how long it waits, and when it resets.

Well-behaved firmware follows GSMA TS.34: it obeys the network's back-off timers
(T3346, T3396), backs off exponentially with jitter up to an hour, resets the
modem at most once an hour to clear its forbidden networks, and after a
permanent reject waits about an hour before one more reset. Misbehaving firmware
(`RetryBehaviour`, the device's `retry`: its group's, or a reconnect-storm fault's)
retries in a tight loop or reboots on every failure, forgetting the timers each
time: the storms operators see in congestion.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from protocol.nas import EmmCause
from simulator.world.mobility import HOUR
from simulator.world.spec import RetryBehaviour

if TYPE_CHECKING:
    from collections.abc import Generator

    import simpy

    from simulator.world.device import Device
    from simulator.world.network import Cell, Refusal

__all__ = ["after_attach_reject", "after_scan", "after_session_reject", "retry_delay"]

FORBIDDEN_CAUSES: Final = frozenset(
    {EmmCause.PLMN_NOT_ALLOWED, EmmCause.ROAMING_NOT_ALLOWED_IN_THIS_TRACKING_AREA},
)
PERMANENT_CAUSES: Final = frozenset(
    {
        EmmCause.IMSI_UNKNOWN_IN_HSS,
        EmmCause.ILLEGAL_UE,
        EmmCause.IMEI_NOT_ACCEPTED,
        EmmCause.ILLEGAL_ME,
        EmmCause.EPS_SERVICES_NOT_ALLOWED,
        EmmCause.EPS_AND_NON_EPS_SERVICES_NOT_ALLOWED,
    },
)


def after_scan(device: Device, now: float) -> float:
    """The wait after a network scan found no cell the device may use."""
    ts34 = device.retry is RetryBehaviour.TS34
    if device.forbidden and now - device.last_reset >= HOUR and ts34:
        device.reboot(now)  # at most one modem reset an hour clears the forbidden list
        return device.rng.uniform(30, 60)
    if ts34:
        return device.rng.uniform(300, 600)
    if device.forbidden:
        device.reboot(now)
    return device.rng.uniform(10, 30)


def after_attach_reject(device: Device, now: float, cell: Cell, refusal: Refusal) -> float:
    """The wait after the network refused to register the device on `cell`."""
    cause = refusal.cause
    if cause in FORBIDDEN_CAUSES:
        device.forbidden.add(cell.mcc_mnc)
        return device.rng.uniform(5, 15)
    if refusal.backoff is not None:
        if device.retry is not RetryBehaviour.TS34:
            device.reboot(now)  # misbehaving firmware resets the modem, which forgets T3346
            return retry_delay(device, now)
        device.t3346 = now + refusal.backoff
    if cause in PERMANENT_CAUSES:
        return _after_permanent_reject(device, now)
    return retry_delay(device, now, floor=refusal.backoff or 0.0)


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
        return device.rng.uniform(30, 90)
    return device.rng.uniform(5, 15)
