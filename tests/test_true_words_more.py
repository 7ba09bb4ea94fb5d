"""True words, more: counts at the moment looked at, connected only while attached, overdue.

* an incident's summary counts the devices of its group quiet at the moment support
  looks, of the devices its group counted then (not every device it ever held, nor
  the incident as it is now);
* "connected to the mobile network" only while the network's last word on the SIM is
  an accepted attach (no detach or rejected attach since);
* a device whose next report is overdue (LATE) is not said to report normally: the
  message says since when it has sent nothing;
* a message whose opening names the trouble (a data limit, a busy network, a device
  that reconnects too often) still says when the last report arrived.
"""

from __future__ import annotations

import copy
import re

import pytest

from diagnostics.diagnosis import diagnose
from diagnostics.diagnosis.messages import customer_message
from diagnostics.incidents import Grouper
from diagnostics.store import SQLiteStore
from protocol.causes import Cause
from protocol.identifiers import iccid_range, imei_range
from protocol.messages import AttachRejected
from simlab.direct import serve
from simlab.fuzz.words import stated_times
from tests.test_customer_messages import CASES
from tests.test_store import row
from tests.test_true_words import SIM, attached, case_at, detached, report, utc
from tests.world_fixtures import CUSTOMER, FIRST_ICCID, FIRST_IMEI, START, collars, world

H = 3600.0
T0 = START.timestamp()
COUNT = re.compile(r"Quiet with (\d+) of (\d+) devices of cell 101,")


# ---- counts at the moment looked at -----------------------------------------------------------


def test_a_look_back_counts_the_group_as_it_was_then(tmp_path):
    # 12 collars on cell 101, 6 on cell 102; cell 101 is down from 2 h to 5 h; the service
    # is asked at 7 h, after the incident closed, about 4 h
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["count"] = 18
    first_iccid = str(list(iccid_range(FIRST_ICCID, 13))[-1])
    first_imei = str(list(imei_range(FIRST_IMEI, 13))[-1])
    herd = collars(6, name="herd", lon=35.40, first_iccid=first_iccid, first_imei=first_imei)
    spec = world(
        customer=customer,
        devices=[collars(12, lon=34.80), herd],
        faults=[{"fault": "cell_outage", "at": "2h", "cell": 101, "duration": "3h"}],
    )
    support, _, _ = serve(spec, 7 * H, tmp_path)
    (incident,) = support.service.grouper.incidents.values()
    assert (incident.dimension, incident.value, incident.open) == ("cell", "101", False)
    diagnosis = support.diagnose_device("collar-0001", at=T0 + 4 * H)
    assert diagnosis.cause is Cause.CELL_OUTAGE
    summaries = [diagnosis.summary, *(c.summary for c in diagnosis.checks)]
    counts = {m.groups() for s in summaries for m in COUNT.finditer(s)}
    assert counts == {("12", "12")}, summaries


def test_an_incidents_counts_are_its_groups_at_each_moment():
    grouper = Grouper()
    devices = [f"d{n}" for n in range(20)]
    cells = {"cell": ["101"] * 20}
    for t, quiet in ((100.0, 8), (200.0, 12), (300.0, 12), (400.0, 6)):
        grouper.update(t, devices, cells, [n < quiet for n in range(20)])
    (incident,) = grouper.incidents.values()
    assert [incident.counts_at(t) for t in (100.0, 150.0, 200.0, 350.0, 400.0)] == [
        (8, 20),
        (8, 20),
        (12, 20),
        (12, 20),
        (6, 20),
    ]
    assert len(incident.members) == 12, "every device it ever held: not what it counts"


# ---- connected to the mobile network -----------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    with SQLiteStore(tmp_path / "diagnostics.db") as opened:
        yield opened


def rejected(t: float):
    return row(
        AttachRejected(
            t=T0 + t, iccid=SIM, imei=None, mcc_mnc="24001", cell_id=4711, rat="LTE-M", emm_cause=15
        )
    )


def test_the_network_has_the_sim_attached_only_until_a_detach_or_a_reject(store):
    reports = [report(n * 900.0) for n in range(4)]
    assert diagnose(case_at(store, [*reports, attached(-H)], 3 * H)).facts["attached"] == T0 - H
    assert "attached" not in diagnose(case_at(store, [detached(2 * H)], 3 * H)).facts
    again = diagnose(case_at(store, [attached(2.5 * H)], 3 * H))
    assert again.facts["attached"] == T0 + 2.5 * H
    assert "attached" not in diagnose(case_at(store, [rejected(2.7 * H)], 3 * H)).facts


def test_a_hung_device_is_said_connected_only_while_the_network_has_it_attached():
    for cause, phrase in (
        (Cause.FIRMWARE_HANG, "connected to the mobile network"),
        (Cause.BROKER_UNREACHABLE, "connected to the mobile network"),
    ):
        case = CASES[str(cause)]
        assert "attached" not in case.facts
        for language, said in (("en", phrase), ("sv", "ansluten")):
            assert said not in customer_message(case, language).body
        known = case.__class__(**{**_fields(case), "facts": {**case.facts, "attached": T0}})
        assert phrase in customer_message(known).body
        assert "anslut" in customer_message(known, "sv").body


def _fields(case):
    return {name: getattr(case, name) for name in case.__dataclass_fields__}


# ---- overdue -------------------------------------------------------------------------------------


def test_a_late_device_is_not_said_to_report_normally(store):
    reports = [report(n * 900.0) for n in range(4)]
    late = diagnose(case_at(store, reports, 3600.0, status="LATE"))
    assert late.cause is None
    body = customer_message(late).body
    assert "reports normally" not in body
    assert f"It has not sent data since {utc(2700.0)}." in body
    assert "a little late" in customer_message(late).subject
    sv = customer_message(late, "sv").body
    assert "rapporterar normalt" not in sv
    online = customer_message(diagnose(case_at(store, [], 3600.0, status="ONLINE"))).body
    assert "It reports normally." in online


# ---- when it stopped, where the opening says something else -------------------------------------


def test_messages_that_open_with_the_trouble_say_when_the_last_report_arrived():
    for cause in (Cause.DATA_LIMIT_REACHED, Cause.CONGESTION, Cause.RECONNECT_STORM):
        case = CASES[str(cause)]
        last = float(case.facts["last_report"])
        body = customer_message(case).body
        assert stated_times(body, "its last report arrived on") == [last - last % 60], cause
        assert "Den senaste rapporten kom den" in customer_message(case, "sv").body
