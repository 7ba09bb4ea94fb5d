"""A battery failing while the device still reports: the power check and its message."""

from __future__ import annotations

import pytest

from diagnostics.diagnosis import Case, Seen, customer_message, diagnose
from diagnostics.diagnosis.battery import drain
from protocol.causes import Cause
from protocol.messages import Telemetry

pytestmark = pytest.mark.unit

T = 1_780_000_000.0
H = 3600.0


def report(t: float, battery: float) -> Telemetry:
    return Telemetry(
        t=t, device_id="buoy-3", iccid="8947000000000000013", imei="356938035643809", seq=1,
        firmware="2.0", battery=battery, supply_mv=None, bearer="LTE-M", mcc_mnc="24201",
        cell_id=17, rsrp=-90.0, rsrq=-10.0, snr=8.0, apn="iot.fjord", ip="10.0.0.9",
        uptime_s=100,
    )  # fmt: skip


def case(levels: list[float], *, status: str = "ONLINE") -> Case:
    reports = [Seen(i + 1, report(T + i * H / 2, level)) for i, level in enumerate(levels)]
    return Case(
        now=reports[-1].t + 60, device_id="buoy-3", iccid=None, detection_status=status,
        device=tuple(reports),
    )  # fmt: skip


def test_a_battery_falling_fast_is_named_while_the_device_reports() -> None:
    healthy, failing = [90.0, 89.9, 89.9, 89.8], [90.0, 89.9, 77.0, 64.0, 51.0]
    assert drain(case(healthy)) is None
    seen = drain(case(failing))
    assert seen is not None
    assert (seen.before.t, seen.first.t) == (T + H / 2, T + H)  # the fall began after 89.9 %
    assert seen.per_hour == pytest.approx((89.9 - 51.0) / 1.5)
    diagnosis = diagnose(case(failing))
    assert diagnosis.cause is Cause.BATTERY_DEPLETED
    assert diagnosis.decided_by == "power"
    assert diagnosis.started == T + H
    message = customer_message(diagnosis)
    assert "stopped" not in message.body
    assert "run down much faster than usual" in message.body
    assert message.steps[0].startswith("Replace the battery")
    assert diagnose(case(healthy)).cause is None


def test_a_device_already_down_is_left_to_the_registration_check() -> None:
    down = diagnose(case([90.0, 89.9, 77.0, 64.0, 51.0], status="OFFLINE"))
    power = next(c for c in down.checks if c.name == "power")
    assert power.candidates == ()
