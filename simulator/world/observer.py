"""The truth observer: faults that arise by themselves, written down as they arise.

Injected faults write their own ground truth (see `faults`). Others happen without
anyone injecting them: a battery runs out, a collar walks out of coverage, a test
quota is used up, the network refuses a device set up wrong. The observer hears of
these from the devices and the world and keeps the truth log straight: an injected
fault explains whatever the device meets, and a fault that arose by itself is over
once the device reports again, as is a network outage for a device that reports through
another cell or network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from protocol.nas import EsmCause
from simulator.world.core_causes import Refused
from simulator.world.spec import FaultId
from simulator.world.truth import TruthLog, TruthRecord

if TYPE_CHECKING:
    import simpy

    from simulator.world.device import Device
    from simulator.world.selection import Barred

__all__ = ["CUT_OFF", "ESM_FAULTS", "REFUSED_FAULTS", "TruthObserver"]

REFUSED_FAULTS: Final[dict[Refused, FaultId]] = {
    Refused.UNKNOWN_SUBSCRIBER: FaultId.SIM_NOT_PROVISIONED,
    Refused.NO_EPS_SUBSCRIPTION: FaultId.RADIO_TYPE_NOT_ALLOWED,
    Refused.RADIO_NOT_IN_PLAN: FaultId.RADIO_TYPE_NOT_ALLOWED,
    Refused.IMEI_LOCKED: FaultId.IMEI_LOCK_MISMATCH,
}
"""Why an attach was refused → the fault, whatever caused it (a device set up wrong, say).

Read by the reason, not by the EMM cause: the number depends on the core's profile."""
ESM_FAULTS: Final[dict[int, FaultId]] = {
    EsmCause.MISSING_OR_UNKNOWN_APN: FaultId.WRONG_APN,
    EsmCause.USER_AUTHENTICATION_FAILED: FaultId.PRIVATE_APN_CREDENTIALS,
    EsmCause.REQUEST_REJECTED_BY_GATEWAY: FaultId.IPSEC_TUNNEL_DOWN,
}
"""Session rejects that name their fault whatever caused them (#30: a device that reaches
a tunnel already down, its credentials put right meanwhile, say)."""
CUT_OFF: Final = frozenset({FaultId.CELL_OUTAGE, FaultId.OPERATOR_OUTAGE, FaultId.CONGESTION})
"""Injected faults that take a device's network away: once it reports (through another
cell or network: a congested one refuses it) it is served, and the fault is over for it."""
WAITED_OUT: Final = frozenset({FaultId.CONGESTION, FaultId.OPERATOR_OUTAGE})
"""The network faults whose rejects a device must wait out (`TruthObserver.ignored_backoff`)."""


class TruthObserver:
    """Writes the ground truth of faults nobody injected into the world's truth log."""

    def __init__(self, env: simpy.Environment, truth: TruthLog) -> None:
        self.env = env
        self.truth = truth

    def battery_empty(self, device: Device) -> None:
        """The device's battery ran out."""
        self.emergent(device, FaultId.BATTERY_DEPLETED)

    def no_network(self, device: Device, *, barred: Barred) -> None:
        """The device hears no network it may use; `barred`: what its lists forbid it.

        Networks on its lists refused it (#11, #14): it is off networks its plan does not
        allow, however long ago they refused it. Areas on its list: the refusal that put
        them there wrote its own truth. Hearing no network at all after a refusal changes
        nothing the network or the device says (the refusal stands, and nothing follows it
        on the wire either way): the refusal stays the cause until the device reports again.
        """
        if barred == "area" or (barred is None and self._refused_already(device)):
            return
        fault = FaultId.COVERAGE_LOSS if barred is None else FaultId.ROAMING_NOT_ALLOWED
        self.emergent(device, fault)

    def refused(
        self, device: Device, *, attach: Refused | None = None, esm: int | None = None
    ) -> None:
        """The network refused an attach or a session; a refusal naming one fault is truth."""
        fault = REFUSED_FAULTS.get(attach) if attach is not None else ESM_FAULTS.get(esm or 0)
        if fault is not None:
            self.emergent(device, fault)

    def _refused_already(self, device: Device) -> bool:
        """A refusal that arose by itself is the device's open fault."""
        refusals = {*REFUSED_FAULTS.values(), *ESM_FAULTS.values(), FaultId.ROAMING_NOT_ALLOWED}
        open_now = [self.truth.record_of(device.id, f) for f in self.truth.open_faults(device.id)]
        return any(not r.injected and r.fault in refusals for r in open_now)

    def ignored_backoff(self, device: Device) -> None:
        """The device's firmware retries without the wait it was owed after a reject.

        That is the back-off the network asked (T3346 with a congestion reject) or the
        standard's after a failure (T3411, then T3402: the core's #17). From this moment it
        is a reconnect storm of its own (GSMA TS.34), no longer a victim of the network
        fault that refused it; once it reports again it is over.
        """
        for fault in WAITED_OUT:
            self.truth.close(device.id, fault, self.env.now)
        self.emergent(device, FaultId.RECONNECT_STORM)

    def reported(self, device: Device) -> None:
        """The device reported: faults that arose by themselves are over, and so is `CUT_OFF`."""
        for fault in self.truth.open_faults(device.id):
            if fault in CUT_OFF or not self.truth.record_of(device.id, fault).injected:
                self.truth.close(device.id, fault, self.env.now)

    def emergent(self, device: Device, fault: FaultId) -> None:
        """A fault that arose by itself, unless an injected one explains what the device meets."""
        truth = self.truth
        open_now = [truth.record_of(device.id, f) for f in truth.open_faults(device.id)]
        if any(r.injected for r in open_now):
            return
        for record in open_now:
            if record.fault is not fault:
                truth.close(device.id, record.fault, self.env.now)  # the cause has changed
        truth.open(
            TruthRecord(device.id, device.sim, fault, fault.cause, self.env.now, injected=False),
        )
