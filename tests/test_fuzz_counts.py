"""The staff count's claim, held exactly: which really-down devices "Quiet with K of N" owes.

The incident check counts the devices quiet in the incident (silent past their SUSPECT
threshold), leaving out those only late and those quiet for a reason of their own;
`simlab.fuzz.counts` says which devices the count must hold, and `simlab.fuzz.stream`
which devices are in a firmware group (an update the device-management server told of
puts a device in its new version's group though no report says so yet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from diagnostics.diagnosis.incident_said import incident_summary
from diagnostics.diagnosis.model import IncidentRef
from protocol.causes import Cause
from protocol.messages import (
    AttachRejected,
    Detached,
    DeviceStatus,
    FirmwareUpdate,
    StateChanged,
    Telemetry,
)
from simlab.fuzz.counts import owed
from simlab.fuzz.stream import Stream
from simlab.fuzz.words import _COUNT
from simulator.world.spec import FaultId
from simulator.world.truth import TruthRecord

if TYPE_CHECKING:
    from pydantic import BaseModel

pytestmark = pytest.mark.unit

H = 3600.0
HUNG = TruthRecord("d1", None, FaultId.FIRMWARE_HANG, Cause.FIRMWARE_HANG, start=10 * H)


def owes(fault: TruthRecord, silent_h: float, struck_by=frozenset({"firmware_hang"})) -> bool:
    at = 14 * H
    return owed(
        fault,
        at=at,
        last_report=at - silent_h * H,
        interval_s=H,
        struck_by=struck_by,
        evident=at - fault.start >= 1.5 * H + 900,
    )


def test_a_device_silent_past_its_suspect_threshold_is_owed_and_a_late_one_is_not():
    assert owes(HUNG, 2.8)  # 2.5 intervals + 6 min slack + the sweep's margin: quiet
    assert not owes(HUNG, 2.3)  # late, not yet quiet: it joins the count later


def test_a_device_down_for_a_reason_of_its_own_may_be_left_out():
    flat = TruthRecord("d2", None, FaultId.BATTERY_DEPLETED, Cause.BATTERY_DEPLETED, 10 * H)
    assert not owes(flat, 3.5)
    assert owes(flat, 3.5, struck_by=frozenset())  # no fault drawn for the group: any is its


def test_a_platform_group_owes_only_the_devices_refused_with_its_cause():
    refused = TruthRecord(
        "d4", None, FaultId.ROAMING_NOT_ALLOWED, Cause.ROAMING_NOT_ALLOWED, 10 * H
    )
    unpowered = TruthRecord("d5", None, FaultId.POWER_LOSS, Cause.POWER_LOSS, 10 * H)
    at = 14 * H

    def platform_owes(fault: TruthRecord) -> bool:
        return owed(
            fault,
            at=at,
            last_report=at - 3.5 * H,
            interval_s=H,
            struck_by=frozenset(),
            evident=True,
            counted_cause="roaming_not_allowed",
        )

    assert platform_owes(refused)
    assert not platform_owes(unpowered)  # never refused: "those the platform refused" holds it not


def test_a_fault_too_young_to_be_seen_is_not_owed():
    young = TruthRecord("d3", None, FaultId.FIRMWARE_HANG, Cause.FIRMWARE_HANG, 13.5 * H)
    assert not owes(young, 3.5)


def report(t: float, firmware: str) -> Telemetry:
    return Telemetry(
        t=t, device_id="d1", iccid="8927000000000000017", imei="356938035643809", seq=1,
        firmware=firmware, battery=None, supply_mv=None, bearer="LTE-M", mcc_mnc="65501",
        cell_id=4410, rsrp=-80.0, rsrq=-10.0, snr=8.0, apn="veld.iot", ip="10.0.0.7",
        uptime_s=100,
    )  # fmt: skip


def update(t: float, result: int) -> FirmwareUpdate:
    return FirmwareUpdate(
        t=t, iccid="8927000000000000017", version="5.3.0", state="updating", result=result
    )


def test_a_firmware_update_told_of_after_the_last_report_moves_the_device_to_its_group():
    stream = Stream.of([report(H, "5.2.7"), update(2 * H, 0)], [None, None])
    assert stream.members("firmware", "5.2.7", 1.5 * H) == {"d1"}
    assert stream.members("firmware", "5.3.0", 3 * H) == {"d1"}
    assert stream.members("firmware", "5.2.7", 3 * H) == set()
    failed = Stream.of([report(H, "5.2.7"), update(2 * H, 4)], [None, None])
    assert failed.members("firmware", "5.2.7", 3 * H) == {"d1"}  # a failed update: still old
    again = Stream.of([report(H, "5.2.7"), update(2 * H, 1), report(3 * H, "5.2.7")], [None] * 3)
    assert again.members("firmware", "5.2.7", 4 * H) == {"d1"}  # its newest report says so


def test_a_device_heard_of_only_by_its_status_is_in_its_account_and_updated_version():
    status = DeviceStatus(t=H, device_id="d2", iccid="8927000000000000017", status="online")
    stream = Stream.of([status, update(2 * H, 1)], ["veld", None])
    assert stream.members("account", "veld", 0.5 * H) == set()  # not heard of yet
    assert stream.members("account", "veld", 1.5 * H) == {"d2"}
    assert stream.members("firmware", "5.3.0", 1.5 * H) == set()
    assert stream.members("firmware", "5.3.0", 3 * H) == {"d2"}
    assert stream.members("cell", "4410", 3 * H) == set()  # no report tells its cell


def test_the_incident_line_states_what_its_count_counts():
    outage = IncidentRef("inc-000002", "firmware", "5.3.0", 10 * H, quiet=170, members=494)
    line = incident_summary(outage)
    assert _COUNT.findall(line) == [("170", "494", "firmware", "5.3.0")]
    assert "silent past their SUSPECT threshold" in line
    assert "quiet for a reason of their own are left out" in line
    platform = IncidentRef(
        "inc-000003", "account", "acme-2", 10 * H, 67, 70, "platform", "roaming_not_allowed"
    )
    assert "refused with its cause (roaming_not_allowed)" in incident_summary(platform)


def test_a_devices_rhythm_is_the_median_of_its_received_gaps_never_shorter_than_drawn():
    # a PSM device drawn at 6 h that wakes, reports and sleeps: 6 h 15 min between reports,
    # one report lost (a 12 h 30 min gap); the detector measures its silence by 6 h 15 min
    times = [n * 6.25 * H for n in (0, 1, 2, 4, 5, 6)]
    stream = Stream.of([report(t, "5.2.7") for t in times], [None] * len(times))
    assert stream.rhythm("d1", 40 * H, 6 * H) == 6.25 * H
    assert stream.rhythm("d1", 40 * H, 8 * H) == 8 * H  # drawn longer: the drawn one
    assert stream.rhythm("d1", 1 * H, 6 * H) == 6 * H  # one report: no gap to learn from


def _fault(cause: Cause, start: float, end: float | None = None) -> TruthRecord:
    return TruthRecord("d1", None, FaultId(cause.value), cause, start * H, end and end * H)


COVERAGE, DEACTIVATED = Cause.COVERAGE_LOSS, Cause.SIM_DEACTIVATED
ROAMING, STORM = Cause.ROAMING_NOT_ALLOWED, Cause.RECONNECT_STORM


def _told(kind: str, h: float) -> BaseModel:
    sim = {"t": h * H, "iccid": "8927000000000000017"}
    if kind == "deactivated":
        return StateChanged(**sim, old="ACTIVATED", new="DEACTIVATED", actor="billing", reason="")
    if kind == "implicit":
        return Detached(**sim, reason="implicit")
    return AttachRejected(**sim, mcc_mnc="26201", cell_id=900, rat="NB-IoT", emm_cause=11)


@pytest.mark.parametrize(
    ("records", "reported", "shown", "told"),
    [
        # out of coverage while refused and silent: the wire still shows the refusal
        ([(Cause.ROAMING_NOT_ALLOWED, 4), (Cause.COVERAGE_LOSS, 9)], [1, 2, 3], 0, []),
        # the refusal ended just as coverage went: the same
        ([(Cause.ROAMING_NOT_ALLOWED, 4, 9), (Cause.COVERAGE_LOSS, 9)], [1, 2, 3], 0, []),
        # it reported after the refusal began: the newer fault is what changed the wire
        ([(Cause.ROAMING_NOT_ALLOWED, 4), (Cause.COVERAGE_LOSS, 9)], [1, 5, 8], 1, []),
        # the platform speaks whenever it acts: a SIM deactivated is its newest word
        ([(COVERAGE, 4), (DEACTIVATED, 9)], [1, 2, 3], 1, [("deactivated", 9)]),
        # the earlier one long over: the newer stands alone
        ([(Cause.ROAMING_NOT_ALLOWED, 2, 3), (Cause.POWER_LOSS, 9)], [1], 1, []),
        # a storm that never tries (the forbidden list stops it): the refusal is still shown
        ([(ROAMING, 4), (STORM, 8)], [1, 2, 3], 0, [("reject", 4)]),
        # the network letting the silent device go tells nothing of the storm
        ([(ROAMING, 4), (STORM, 8)], [1, 2, 3], 0, [("implicit", 9)]),
        # a storm that tries is on the wire
        ([(ROAMING, 4), (STORM, 8)], [1, 2, 3], 1, [("reject", 8.5)]),
    ],
)  # fmt: skip
def test_a_fault_that_adds_only_silence_to_a_silence_is_not_what_is_scored(
    records, reported, shown, told
):
    from simlab.fuzz.score import _down_at  # noqa: PLC0415 - the scorer's own rule

    truth = [_fault(*r) for r in records]
    said: list[BaseModel] = [report(h * H, "5.2.0") for h in reported]
    said += [_told(kind, h) for kind, h in told]
    stream = Stream.of(said, ["veld"] * len(said))
    assert _down_at(truth, "d1", 10 * H, stream) is truth[shown]
    assert _down_at(truth, "d1", 10 * H) is max(
        (r for r in truth if r.end is None or r.end > 10 * H), key=lambda r: r.start
    )


def test_a_fault_is_on_the_wire_by_the_sim_of_a_device_that_never_reported():
    from simlab.fuzz.score import _down_at  # noqa: PLC0415 - the scorer's own rule

    # refused its sessions from the start, never reported; the core then refuses its attaches
    truth = [_fault(Cause.PRIVATE_APN_CREDENTIALS, 0.1), _fault(Cause.OPERATOR_OUTAGE, 8)]
    said = [_told("reject", 8.5)]
    stream = Stream.of(said, [None])
    assert _down_at(truth, "d1", 10 * H, stream, {"8927000000000000017"}) is truth[1]
    assert _down_at(truth, "d1", 10 * H, stream) is truth[0]  # its SIM unknown: nothing said
    # still trying just before the new fault: its attempts stopping shows the new fault
    trying = Stream.of([_told("reject", 7.9)], [None])
    assert _down_at(truth, "d1", 10 * H, trying, {"8927000000000000017"}) is truth[1]
