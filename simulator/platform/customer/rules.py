"""Automation rules as the customer writes them: trigger, condition, action."""

from __future__ import annotations

import enum

from pydantic import Field, field_validator, model_validator

from protocol.sim_state import SimState
from simulator.platform.customer.base import Model, Name

__all__ = ["AutomationRule", "ChangeRatePlan", "ChangeState", "Notify", "Trigger"]


class Trigger(enum.StrEnum):
    """Events an automation rule reacts to."""

    USAGE_THRESHOLD = "usage_threshold"
    DATA_LIMIT_REACHED = "data_limit_reached"
    NO_CONNECTION = "no_connection"
    IMEI_CHANGED = "imei_changed"
    TOO_MANY_SESSIONS = "too_many_sessions"


class ChangeState(Model):
    """Action: move the SIM to another lifecycle state."""

    change_state: SimState

    @field_validator("change_state", mode="before")
    @classmethod
    def _state_by_name(cls, value: object) -> object:
        return SimState.parse(value) if isinstance(value, str) else value


class ChangeRatePlan(Model):
    """Action: put the SIM on another rate plan."""

    change_rate_plan: Name


class Notify(Model):
    """Action: send a notification to the account."""

    notify: str = Field(min_length=1)


_TRIGGER_PARAMETER = {
    Trigger.USAGE_THRESHOLD: "percent",
    Trigger.NO_CONNECTION: "hours",
    Trigger.TOO_MANY_SESSIONS: "sessions",
}


class AutomationRule(Model):
    """Trigger → condition → action, as the platform's rules engine runs them."""

    name: Name
    trigger: Trigger
    percent: float | None = Field(default=None, gt=0, le=1000)
    """usage_threshold: share of the allowance that fires the rule."""
    hours: float | None = Field(default=None, gt=0)
    """no_connection: hours without a connection that fire the rule."""
    sessions: int | None = Field(default=None, ge=1)
    """too_many_sessions: sessions in 24 h that fire the rule."""
    states: list[SimState] | None = None
    """Condition: the rule applies only to SIMs in these states (None = any)."""
    accounts: list[Name] | None = None
    """Condition: the rule applies only to SIMs of these accounts or their sub-accounts."""
    action: ChangeState | ChangeRatePlan | Notify

    @field_validator("states", mode="before")
    @classmethod
    def _states_by_name(cls, value: object) -> object:
        if isinstance(value, list):
            return [SimState.parse(v) if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _parameter(self) -> AutomationRule:
        needed = _TRIGGER_PARAMETER.get(self.trigger)
        for param in _TRIGGER_PARAMETER.values():
            given = getattr(self, param) is not None
            if param == needed and not given:
                raise ValueError(f"trigger {self.trigger.value} needs {param}")
            if param != needed and given:
                raise ValueError(f"{param} does not apply to trigger {self.trigger.value}")
        return self
