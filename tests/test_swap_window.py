"""A swap test is judged within its wait, and a plan refusal in the suspect device clears it."""

from __future__ import annotations

import pytest

from diagnostics.diagnosis import Seen
from diagnostics.diagnosis.swap import MIN_WAIT_S, Pairing, SwapOutcome, SwapTest, compare
from protocol.messages import AttachRejected, Telemetry

pytestmark = pytest.mark.unit

AT = 1_780_000_000.0
TEST = SwapTest("t1", AT, AT, "pump-1", "8947000000000000013", "pump-2", "8947000000000000021")


def report(t: float, device: str, iccid: str) -> Seen:
    return Seen(1, Telemetry(
        t=t, device_id=device, iccid=iccid, imei="356938035643809", seq=1, firmware="2.0",
        battery=None, supply_mv=None, bearer="LTE-M", mcc_mnc="24201", cell_id=17, rsrp=-90.0,
        rsrq=-10.0, snr=8.0, apn="iot.fjord", ip="10.0.0.9", uptime_s=100,
    ))  # fmt: skip


def reject(t: float, iccid: str, cause: int) -> Seen:
    return Seen(2, AttachRejected(
        t=t, iccid=iccid, imei="356938035643809", mcc_mnc="24201", cell_id=17, rat="LTE-M",
        emm_cause=cause,
    ))  # fmt: skip


def pairings(suspect_in_good: list[Seen], good_in_suspect: list[Seen]) -> dict[str, Pairing]:
    def one(device: str, iccid: str, seen: list[Seen]) -> Pairing:
        reports = tuple(s for s in seen if isinstance(s.message, Telemetry))
        rejects = tuple(s for s in seen if isinstance(s.message, AttachRejected))
        return Pairing(device, iccid, reports, rejects, 600.0)

    return {
        "suspect_sim_in_good": one("pump-2", "8947000000000000013", suspect_in_good),
        "good_sim_in_suspect": one("pump-1", "8947000000000000021", good_in_suspect),
    }


def test_a_pairing_that_works_only_once_repaired_failed_the_test() -> None:
    late = AT + MIN_WAIT_S + 5 * 3600  # the suspect device was repaired hours later
    both = pairings(
        [report(AT + 300, "pump-2", "8947000000000000013")],
        [report(late, "pump-1", "8947000000000000021")],
    )
    result = compare(TEST, late + 600, **both)
    assert result.outcome is SwapOutcome.STAYS_WITH_DEVICE


def test_a_good_sim_refused_for_its_plan_in_the_suspect_device_leaves_the_sim_at_fault() -> None:
    both = pairings(
        [reject(AT + 300, "8947000000000000013", 2)],  # the suspect SIM: unknown subscriber
        [reject(AT + 300, "8947000000000000021", 11)],  # the good SIM: network not in its plan
    )
    assert compare(TEST, AT + 2 * MIN_WAIT_S, **both).outcome is SwapOutcome.FOLLOWS_SIM
    identity = pairings(
        [reject(AT + 300, "8947000000000000013", 2)],
        [reject(AT + 300, "8947000000000000021", 6)],  # the device's own IMEI refused
    )
    assert compare(TEST, AT + 2 * MIN_WAIT_S, **identity).outcome is SwapOutcome.INCONCLUSIVE
