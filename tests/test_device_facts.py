"""Each device's latest facts in columns: the newest report and status rule, peers, filters."""

import numpy as np

from diagnostics.detection import Detector
from diagnostics.device_facts import FactsTable
from diagnostics.service_state import DeviceFacts
from protocol.messages import DeviceStatus, Telemetry


def _report(t, device="d1", cell=7, battery=None, account_imei="35000"):
    return Telemetry(
        t=t, device_id=device, iccid="8946", imei=account_imei, seq=1, firmware="2.1",
        battery=battery, supply_mv=None, bearer="LTE-M", mcc_mnc="24001", cell_id=cell,
        rsrp=-90.0, rsrq=-9.0, snr=8.0, apn="iot", ip="10.0.0.1", uptime_s=1,
    )  # fmt: skip


def _table():
    detector = Detector()
    return detector, FactsTable(detector)


def test_the_newest_report_and_status_set_the_facts_and_an_older_one_nothing():
    detector, facts = _table()
    detector.row("d1")
    facts.report(_report(100.0, battery=80.0), "acct-1")
    facts.report(_report(50.0, cell=9), "acct-2")  # older: not even its account
    facts.status(DeviceStatus(t=60.0, device_id="d1", iccid=None, status="asleep"), None)
    assert facts["d1"] == DeviceFacts(
        "d1", account="acct-1", imei="35000", operator="24001", cell=7, apn="iot",
        last_report=100.0, battery=80.0, rsrp=-90.0, firmware="2.1", status="asleep",
        status_t=60.0,
    )  # fmt: skip
    assert "d2" not in facts
    assert facts.get("d2") is None
    assert len(facts) == 1


def test_a_device_heard_only_by_its_status_has_no_cell_and_is_on_no_filtered_page():
    detector, facts = _table()
    detector.row("d1")
    facts.status(DeviceStatus(t=60.0, device_id="d1", iccid=None, status="online"), "a")
    assert facts["d1"].cell is None
    assert facts["d1"].battery is None
    rows = np.arange(1)
    assert facts.matching(rows, account="a").tolist() == [0]
    assert facts.matching(rows, cell=0).tolist() == []


def test_a_device_moves_between_its_cells_peers_and_filters_find_it_where_it_is():
    detector, facts = _table()
    for device in ("d1", "d2"):
        detector.row(device)
        facts.report(_report(100.0, device=device), "a")
    facts.report(_report(200.0, device="d2", cell=8), None)  # no account: it keeps its own
    assert facts.by_cell == {("24001", 7): {"d1"}, ("24001", 8): {"d2"}}
    rows = np.arange(2)
    assert facts.matching(rows, cell=8, account="a").tolist() == [1]
    assert facts.matching(rows, operator="24001").tolist() == [0, 1]
    assert facts.matching(rows, account="never").tolist() == []
