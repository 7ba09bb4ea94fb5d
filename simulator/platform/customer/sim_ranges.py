"""SIM ranges: consecutive ICCIDs, IMSIs and MSISDNs delivered to an account in one state."""

from __future__ import annotations

from pydantic import Field, field_validator

from protocol.identifiers import Iccid, Imsi, Msisdn
from protocol.sim_state import SimState
from simulator.platform.customer.base import Model, Name

__all__ = ["SimRange"]


class SimRange(Model):
    """A block of consecutive SIMs delivered to one account on one pair of plans."""

    first_iccid: Iccid
    count: int = Field(ge=1, le=100_000_000)
    account: Name
    communication_plan: Name
    rate_plan: Name
    first_imsi: Imsi
    first_msisdn: Msisdn | None = None
    state: SimState = SimState.TEST_READY
    imei_lock: bool = False

    @field_validator("state", mode="before")
    @classmethod
    def _state_by_name(cls, value: object) -> object:
        return SimState.parse(value) if isinstance(value, str) else value

    @field_validator("state")
    @classmethod
    def _deliverable(cls, value: SimState) -> SimState:
        if value not in _DELIVERABLE:
            names = ", ".join(s.name for s in _DELIVERABLE)
            raise ValueError(f"SIMs are delivered in one of {names}, not {value.name}")
        return value


_DELIVERABLE = (
    SimState.TEST_READY,
    SimState.INVENTORY,
    SimState.ACTIVATION_READY,
    SimState.ACTIVATED,
)
