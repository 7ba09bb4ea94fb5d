"""The word checker fails on deliberately wrong messages and passes on right ones.

Each wrong message differs from a right one in exactly the fact under test: a
stop time that is the detection moment instead of the last report, a stop
stated for a device that never reported, a wrong count in the staff text,
battery advice for a device that never reported a battery level, "the SIM card
works" with nothing from the network, a swap test asked for again; and
messages that leave out what the truth gives them to say, once the fault could
be seen (`simlab.fuzz.score.evident`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from protocol.causes import Cause
from simlab.fuzz.score import evident
from simlab.fuzz.stream import Stream
from simlab.fuzz.words import CUSTOMER_ACTS, Facts, check
from simulator.world.spec import FaultId
from simulator.world.truth import TruthRecord

pytestmark = pytest.mark.unit

LAST = datetime(2026, 3, 2, 6, 12, 40, tzinfo=UTC).timestamp()
"""The device's last report: 09:12 in Nairobi (UTC+3)."""
FACTS = Facts(
    device_id="collar-0001",
    name="Giraffe collar 1",
    at=LAST + 3 * 3600,
    last_report=LAST,
    interval_s=900.0,
    battery_reported=True,
    sim_works=True,
    swap_done=False,
    down_cause="power_loss",
    counts=(("cell", "101", 8, 8),),
)
RIGHT = (
    "Hello,\n\nWe are writing about Giraffe collar 1 (SIM card ending 0018). It stopped "
    "reporting on 2 March 2026 at 09:12 (Africa/Nairobi time). We checked the SIM card: it "
    "works normally.\n\nWhat to do:\n1. Check the power supply of Giraffe collar 1."
)
STEPS = ("Check the power supply of Giraffe collar 1.",)
STAFF = "Quiet with 8 of 8 devices of cell 101 since 2026-03-02 06:20 UTC (incident inc-1)"


def kinds(facts: Facts, body: str, steps=STEPS, staff: str = STAFF) -> tuple[list, list]:
    errors, missing = check(facts, body, steps, staff)
    return [e.kind for e in errors], [m.kind for m in missing]


def test_a_right_message_passes() -> None:
    assert kinds(FACTS, RIGHT) == ([], [])


def test_a_stop_time_that_is_the_detection_moment_fails() -> None:
    detected = RIGHT.replace("at 09:12", "at 09:48")
    assert kinds(FACTS, detected)[0] == ["message: stop time"]


def test_a_last_report_said_to_arrive_at_another_moment_fails() -> None:
    said = "Hello,\n\nIts last report arrived on 2 March 2026 at 09:12 (Africa/Nairobi time)."
    assert kinds(FACTS, said)[0] == []
    assert kinds(FACTS, said.replace("09:12", "09:27"))[0] == ["message: stop time"]


def test_a_device_that_never_reported_is_not_said_to_have_stopped() -> None:
    never = replace(FACTS, last_report=None, down_cause=None)
    assert kinds(never, RIGHT)[0] == ["message: stopped but never reported"]
    assert kinds(never, RIGHT.replace(" on 2 March 2026 at 09:12 (Africa/Nairobi time)", ""))[
        0
    ] == ["message: stopped but never reported"]


def test_a_wrong_count_in_the_staff_text_fails() -> None:
    assert kinds(FACTS, RIGHT, staff=STAFF.replace("8 of 8", "0 of 8"))[0] == ["staff: count"]
    assert kinds(FACTS, RIGHT, staff=STAFF.replace("8 of 8", "8 of 9"))[0] == ["staff: count"]


def test_a_wrong_count_in_the_incident_summary_as_written_fails() -> None:
    # the incident check's own words: the group's value is followed by a comma
    summary = (
        "Quiet with 8 of 8 devices of cell 101, the first detected at 2026-03-02 06:20:00 UTC "
        "(incident inc-000001)"
    )
    assert kinds(FACTS, RIGHT, staff=summary)[0] == []
    wrong = summary.replace("8 of 8", "0 of 8")
    assert kinds(FACTS, RIGHT, staff=wrong)[0] == ["staff: count"]


def test_a_count_may_leave_out_only_devices_struck_too_recently_to_be_seen() -> None:
    # 8 of the cell's 8 devices are down, 6 of them so recently that no report is missed yet
    recent = replace(FACTS, recent=(("cell", "101", 6),))
    for quiet in ("2", "5", "8"):
        assert kinds(recent, RIGHT, staff=STAFF.replace("8 of 8", f"{quiet} of 8"))[0] == []
    assert kinds(recent, RIGHT, staff=STAFF.replace("8 of 8", "1 of 8"))[0] == ["staff: count"]
    assert kinds(FACTS, RIGHT, staff=STAFF.replace("8 of 8", "5 of 8"))[0] == ["staff: count"]


def test_no_step_is_owed_before_the_fault_could_be_seen() -> None:
    # a quarter hour after its last report: not yet silent for two of its intervals
    early = replace(FACTS, at=LAST + 900)
    asleep = "Hello,\n\nWe are writing about Giraffe collar 1. It reports normally."
    assert kinds(replace(early, evident=False), asleep, steps=())[1] == []
    assert kinds(early, asleep, steps=())[1] == ["missing: what to do"]


H = 3600.0


@pytest.mark.parametrize(
    ("cause", "last_h", "at_h", "seen"),
    [
        # a signal fading from 10:00; the device reported on until 11:30. At 12:55 one hourly
        # report is missing: the service has nothing yet, whatever began at 10:00
        (Cause.COVERAGE_LOSS, 11.5, 12.9, False),
        (Cause.COVERAGE_LOSS, 11.5, 13.3, True),  # quiet for 1.5 intervals and a quarter hour
        (Cause.RADIO_HARDWARE, 11.5, 12.9, False),  # an antenna that kept its cell a while
        (Cause.COVERAGE_LOSS, 9.5, 11.8, True),  # quiet from its start: seen from its start
        (Cause.COVERAGE_LOSS, None, 11.8, True),  # never reported: from its start
        (Cause.POWER_LOSS, 9.5, 11.8, True),
        # told by the wire while the device still reports: from its start
        (Cause.BATTERY_DEPLETED, 12.8, 12.9, True),  # its own battery readings
        (Cause.ROAMING_NOT_ALLOWED, 11.5, 12.9, True),  # the network's refusal
        (Cause.COVERAGE_LOSS, 11.5, 11.7, False),  # too young either way
    ],
)  # fmt: skip
def test_a_fault_told_only_by_silence_is_seen_from_the_last_report_under_it(
    cause: Cause, last_h: float | None, at_h: float, seen: bool
) -> None:
    fault = TruthRecord("collar-0001", None, FaultId(cause.value), cause, start=10 * H)
    last = None if last_h is None else last_h * H
    assert evident(fault, at_h * H, interval_s=H, last_report=last) is seen
    # and the message owes what to do only once it is seen
    facts = replace(FACTS, at=at_h * H, last_report=last, interval_s=H, down_cause=cause.value)
    healthy = "Hello,\n\nWe are writing about Giraffe collar 1. It reports normally."
    missing = kinds(replace(facts, evident=seen), healthy, steps=())[1]
    assert ("missing: what to do" in missing) is (seen and cause.value in CUSTOMER_ACTS)


def test_battery_advice_without_a_battery_level_fails() -> None:
    advice = RIGHT + "\n2. Recharge or replace the battery of Giraffe collar 1."
    assert kinds(FACTS, advice)[0] == []
    assert kinds(replace(FACTS, battery_reported=False), advice)[0] == [
        "message: battery advice without battery"
    ]


def test_the_sim_card_works_only_where_the_network_shows_it() -> None:
    assert kinds(replace(FACTS, sim_works=False), RIGHT)[0] == ["message: SIM works unseen"]


def test_connected_only_while_the_network_has_the_sim_attached() -> None:
    said = RIGHT + " Its SIM card is still connected to the mobile network."
    assert kinds(replace(FACTS, attached=True), said)[0] == []
    assert kinds(replace(FACTS, attached=False), said)[0] == ["message: connected but detached"]


def test_a_swap_test_already_done_is_not_asked_for_again() -> None:
    ask = RIGHT + (
        "\n\nA simple test would help us find the cause: swapping SIM cards between two devices."
    )
    assert kinds(FACTS, ask)[0] == []
    assert kinds(replace(FACTS, swap_done=True), ask)[0] == ["message: repeated swap test"]
    staff = STAFF + " Next: a SIM swap test with a working device."
    assert kinds(replace(FACTS, swap_done=True), RIGHT, staff=staff)[0] == [
        "staff: repeated swap test"
    ]


def test_a_message_that_leaves_out_what_truth_gives_it_misses_facts() -> None:
    nameless = RIGHT.replace("Giraffe collar 1", "your device")
    assert kinds(FACTS, nameless, steps=())[1] == ["missing: the device", "missing: what to do"]
    timeless = RIGHT.replace(" on 2 March 2026 at 09:12 (Africa/Nairobi time)", "")
    assert kinds(FACTS, timeless)[1] == ["missing: when it stopped"]
    back = LAST + 6 * 3600
    assert kinds(replace(FACTS, resumes=back), RIGHT)[1] == ["missing: when service resumes"]
    said = RIGHT + " We expect service back by 2 March 2026 at 15:12 (Africa/Nairobi time)."
    assert kinds(replace(FACTS, resumes=back), said)[1] == []


def test_a_healthy_device_misses_nothing() -> None:
    fine = replace(FACTS, down_cause=None)
    assert kinds(fine, "Hello,\n\nIt reports normally.", steps=())[1] == []


def test_a_group_no_report_tells_is_not_counted_against() -> None:
    # a tunnel or a pool: the received stream cannot say which devices are in it
    assert Stream().members("tunnel", "dc1", LAST) is None
    assert Stream().members("cell", "101", LAST) == set()
