"""Devices that went quiet together on a cell, some of them seeing their signal fall first.

A convoy carried out of coverage goes quiet within one reporting interval; those whose
last reports came while it left saw their signal fall. A member whose own last report
showed nothing (or a fast fall, like a broken antenna's) is diagnosed by what they saw.
"""

from __future__ import annotations

import pytest

from diagnostics.diagnosis import diagnose
from diagnostics.diagnosis.model import CellPeers
from diagnostics.peers import cell_peers
from diagnostics.service import DeviceFacts
from protocol.causes import Cause
from tests.test_radio_and_purge import FINE, _quiet_case

pytestmark = pytest.mark.unit

GONE = CellPeers(cell=7, reporting=5, rsrp=-78.0, quiet_with=20, quiet_fading=5)


def test_a_quiet_the_device_cannot_explain_is_the_coverage_its_peers_left() -> None:
    alone = diagnose(_quiet_case([-76, -77, -78], 900.0, FINE))
    assert alone.cause is Cause.POWER_LOSS
    assert {c.cause for c in alone.candidates} >= {Cause.DAMAGED_SIM, Cause.COVERAGE_LOSS}
    assert "where the device is" in (alone.separating_test or "")
    together = diagnose(_quiet_case([-76, -77, -78], 900.0, GONE))
    assert [c.cause for c in together.candidates] == [Cause.COVERAGE_LOSS, Cause.POWER_LOSS]
    texts = [e.text for c in together.checks for e in c.evidence]
    assert (
        "20 other devices on cell 7 went quiet with it; 5 of them saw their signal fall away first"
        in texts
    )


def test_a_step_shared_with_peers_leaving_is_coverage_not_the_radio() -> None:
    stepped = diagnose(_quiet_case([-76, -77, -112, -116], 900.0, GONE))
    assert stepped.cause is Cause.COVERAGE_LOSS


def test_peers_quiet_together_without_a_fall_are_no_evidence_of_coverage() -> None:
    cut = CellPeers(cell=7, reporting=5, rsrp=-78.0, quiet_with=20, quiet_fading=1)
    assert diagnose(_quiet_case([-76, -77, -78], 900.0, cut)).cause is Cause.POWER_LOSS


def test_an_antenna_step_an_hour_before_the_last_report_is_still_the_radio() -> None:
    levels = [-76, -77, -112, -114, -117, -119, -121, -123]  # it kept its cell for 1 h 30 min
    assert diagnose(_quiet_case(levels, 900.0, FINE)).cause is Cause.RADIO_HARDWARE
    back = [-76, -77, -112, -80, -81, -82]  # the signal came back: no broken antenna
    assert diagnose(_quiet_case(back, 900.0, FINE)).cause is not Cause.RADIO_HARDWARE


def test_the_devices_quiet_with_it_are_overdue_and_within_an_interval_of_its_last_report() -> None:
    me = DeviceFacts("d1", operator="24001", cell=7, last_report=1000.0, rsrp=-80.0)
    others = [
        DeviceFacts("d2", operator="24001", cell=7, last_report=700.0, rsrp=-118.0),
        DeviceFacts("d3", operator="24001", cell=7, last_report=1500.0, rsrp=-81.0),
        DeviceFacts("d4", operator="24001", cell=7, last_report=0.0, rsrp=-80.0),  # long before
        DeviceFacts("d5", operator="24001", cell=7, last_report=1200.0, rsrp=-79.0),  # reports
        DeviceFacts("d6", operator="24001", cell=8, last_report=1000.0, rsrp=-120.0),  # other cell
    ]
    quiet = {"d1": 900.0, "d2": 900.0, "d3": 600.0, "d4": 600.0, "d6": 900.0}
    peers = cell_peers([me, *others], me, quiet=quiet, fading={"d2", "d6"})
    assert peers == CellPeers(7, 2, -80.0, quiet_with=2, quiet_fading=1)
