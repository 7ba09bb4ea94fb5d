"""A SIM never heard from while its cohort was is down: its case is OFFLINE, with candidates.

A damaged SIM in a device that had not booted yet makes no attach attempt at all: the
service holds its inventory record and nothing else. Once the SIMs put into service
with it have started up, and as long again has passed, support looking the SIM up gets
a down device with its candidates and the test beside the device; before that, and
for a SIM whose cohort is as quiet as it, nothing is said.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from diagnostics.diagnosis import diagnose
from diagnostics.diagnosis.messages import customer_message
from diagnostics.unheard import FirstHeard
from protocol.causes import Cause
from protocol.messages import AttachAccepted, SimRecord
from simlab.direct import serve
from tests.test_diagnosis import _record as sim_record
from tests.world_fixtures import FIRST_ICCID, START, collars, world

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

T0 = START.timestamp()


def _record(iccid: str, account: str = "acme") -> SimRecord:
    return sim_record(t=T0, iccid=iccid, account=account)


def _attach(iccid: str, t: float) -> AttachAccepted:
    return AttachAccepted(t=T0 + t, iccid=iccid, mcc_mnc="63902", cell_id=1, rat="LTE-M")


def test_an_unheard_sim_is_down_only_past_twice_its_cohorts_start_up() -> None:
    heard = FirstHeard()
    for n in range(5):
        heard.apply(_record(f"89{n}"))
    heard.apply(_record("899", account="other"))
    for n, t in ((1, 100.0), (2, 200.0), (3, 600.0)):
        heard.apply(_attach(f"89{n}", t))
    assert heard.unheard_since("890", T0 + 1199) is None  # start-up took 600 s
    assert heard.unheard_since("890", T0 + 1201) == T0
    assert heard.unheard_since("891", T0 + 5000) is None  # heard from
    assert heard.unheard_since("899", T0 + 5000) is None  # its cohort is as quiet as it
    heard.apply(_record("895"))
    heard.apply(_record("896"))
    heard.apply(_record("897"))
    assert heard.unheard_since("890", T0 + 5000) is None  # only 3 of 8 heard from


def test_a_sim_damaged_before_its_device_booted_is_a_down_device(tmp_path: Path) -> None:
    spec = world(
        devices=[collars(4)],
        faults=[{"fault": "damaged_sim", "at": 0, "devices": ["collar-0001"]}],
    )
    support, truth, _ = serve(spec, 3 * 3600.0, tmp_path)
    assert [r.cause for r in truth] == [Cause.DAMAGED_SIM]
    case = support.sim_case(str(FIRST_ICCID))
    assert case.detection_status == "OFFLINE"
    diagnosis = diagnose(case)
    assert [c.cause for c in diagnosis.candidates] == [
        Cause.DAMAGED_SIM,
        Cause.POWER_LOSS,
        Cause.COVERAGE_LOSS,
    ]
    assert "SIM swap test where the device is" in (diagnosis.separating_test or "")
    body = customer_message(diagnosis, "en").body
    assert "We have not received any report from it yet." in body
    assert "stopped reporting on" not in body
    assert "What to do:" in body
