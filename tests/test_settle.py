"""One EMM number, several causes: the SIM record settles which (`diagnostics.diagnosis.settle`).

Each row is a reject as a core sends it and the SIM record it is read against;
the same number lands on different causes, and the same cause comes from
different numbers, as TS 29.272 Annex A and the TS 24.301 names disagree.
"""

from __future__ import annotations

import pytest

from diagnostics.diagnosis.settle import RULES, settle
from protocol.causes import Cause
from protocol.messages import AttachRejected, SimRecord

T = 1_780_000_000.0
HOME, VISITED, UNKNOWN_MCC = "24007", "29341", "99901"


def _record(**changes) -> SimRecord:
    fields = {
        "t": T - 86400,
        "iccid": "8946200058000000002",
        "imsi": "240070058000000",
        "msisdn": None,
        "state": "ACTIVATED",
        "account": "kranjska",
        "account_name": "Kranjska Hive Network z.o.o.",
        "communication_plan": "apiary-si",
        "rate_plan": "scale-1mb",
        "apns": ["hives.kranjska"],
        "networks": ["SI", HOME],
        "radio_types": ["LTE-M"],
        "imei_lock": False,
        "locked_imei": None,
        "data_blocked": False,
        "device_name": "Lipnica scale 1",
        "site": None,
        "time_zone": None,
    }
    return SimRecord(**(fields | changes))


def _reject(cause: int, network: str = VISITED, rat: str = "LTE-M") -> AttachRejected:
    return AttachRejected(
        t=T, iccid="8946200058000000002", imei=None, mcc_mnc=network, cell_id=1, rat=rat,
        emm_cause=cause,
    )  # fmt: skip


C = Cause
CASES = [
    # number, network, radio, record changes, plan changed after the reject → cause
    (8, VISITED, "LTE-M", {}, False, C.SIM_NOT_PROVISIONED),  # Annex A: 5001 user unknown
    (8, VISITED, "LTE-M", {"state": "DEACTIVATED"}, False, C.SIM_DEACTIVATED),
    (2, VISITED, "LTE-M", {}, False, C.SIM_NOT_PROVISIONED),
    (2, VISITED, "LTE-M", {"state": "RETIRED"}, False, C.SIM_DEACTIVATED),
    (13, VISITED, "NB-IoT", {}, False, C.RADIO_TYPE_NOT_ALLOWED),  # Annex A: 5421 RAT
    (15, VISITED, "NB-IoT", {}, False, C.RADIO_TYPE_NOT_ALLOWED),
    (15, VISITED, "LTE-M", {}, False, C.SIM_NOT_PROVISIONED),  # Annex A: 5420 no EPS data
    (15, "21901", "LTE-M", {}, False, C.ROAMING_NOT_ALLOWED),
    (11, "21901", "LTE-M", {}, False, C.ROAMING_NOT_ALLOWED),
    (11, "21901", "LTE-M", {"networks": ["SI", "HR"]}, True, C.ROAMING_NOT_ALLOWED),
    (11, VISITED, "LTE-M", {}, False, C.ROAMING_NOT_ALLOWED),  # allowed, yet no agreement
    (14, HOME, "LTE-M", {"networks": ["SI"]}, False, C.ROAMING_NOT_ALLOWED),
    (13, UNKNOWN_MCC, "LTE-M", {}, False, C.ROAMING_NOT_ALLOWED),  # no rule: the number
    (3, VISITED, "LTE-M", {}, False, C.DAMAGED_SIM),  # authentication failed
]


@pytest.mark.parametrize(("number", "network", "rat", "changes", "later", "cause"), CASES)
def test_the_record_settles_the_number(number, network, rat, changes, later, cause):
    plan_changes = [T + 60] if later else []
    record = _record(**changes)
    found = settle(_reject(number, network, rat), record, record.state, plan_changes)
    assert found is not None
    assert found.cause is cause


def test_without_a_record_the_number_means_what_its_name_says():
    assert settle(_reject(8), None, None).cause is Cause.SIM_DEACTIVATED
    assert settle(_reject(13), None, None).cause is Cause.ROAMING_NOT_ALLOWED
    assert settle(_reject(17), None, None).cause is Cause.OPERATOR_OUTAGE  # the core failed
    assert settle(_reject(19), None, None) is None


def test_a_plan_that_allows_the_network_only_later_names_the_sims_list():
    record = _record(networks=["SI", "HR"])
    found = settle(_reject(11, "21901"), record, "ACTIVATED", [T - 60, T + 600])
    assert found is not None
    assert found.rule is not None
    assert "forbidden-network list" in found.rule.shows


def test_every_rule_has_its_source():
    assert all(rule.source and rule.shows and rule.numbers for rule in RULES)
