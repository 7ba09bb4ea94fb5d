"""Diagnosis against the truth: every cause of the catalogue, and no fault on healthy devices.

For each cause a seeded world (the fault's victims, healthy background
devices, 1% message loss) runs through the diagnostics service up to the
moment support looks. The diagnosis of every victim must name the injected
cause first, or, where real evidence cannot tell the causes apart, name it
among the candidates together with the test that separates them. Every other
device must get no fault at all. The run ends with a table of all causes
(first / candidate / wrong) in the terminal summary.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pytest

from diagnostics.diagnosis import Case, Seen, Status, diagnose
from diagnostics.diagnosis.causes import CAUSES
from diagnostics.diagnosis.checks import CHECKS
from protocol.causes import Cause
from protocol.messages import AttachAccepted, AttachRejected, SimRecord, StateChanged, Telemetry
from simulator.world.faults import CATALOGUE
from simulator.world.spec import FaultId
from tests.diagnosis_worlds import RESULTS, WORLDS, Looked, look

if TYPE_CHECKING:
    from pathlib import Path

FAULTS = list(CATALOGUE)


@functools.cache
def _looked(fault: FaultId, root: str) -> Looked:
    from pathlib import Path  # noqa: PLC0415

    folder = Path(root) / fault.value
    folder.mkdir(parents=True, exist_ok=True)
    return look(WORLDS[fault], folder)


@pytest.fixture(scope="module")
def looked_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("diagnosis")


def test_every_cause_of_the_catalogue_has_a_world_and_staff_text():
    assert set(WORLDS) == set(FaultId)
    assert {f.cause for f in FaultId} <= set(CAUSES)
    assert set(CAUSES) == set(Cause)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_the_diagnosis_names_the_injected_cause(fault: FaultId, looked_root: Path) -> None:
    looked = _looked(fault, str(looked_root))
    affected = looked.affected()
    assert affected, "the fault must be on when support looks"
    assert {r.cause for r in affected} == {fault.cause}
    grades = []
    for record in affected:
        diagnosis = looked.support.diagnose_device(record.device_id)
        causes = [c.cause for c in diagnosis.candidates]
        if causes and causes[0] is fault.cause:
            grades.append("first")
        elif fault.cause in causes and diagnosis.separating_test:
            grades.append("candidate")
        else:
            grades.append("wrong")
        assert grades[-1] != "wrong", (record.device_id, diagnosis.summary, causes)
        assert diagnosis.fix == CAUSES[diagnosis.cause].fix if diagnosis.cause else True
        assert diagnosis.started is not None
        assert diagnosis.started <= looked.now
        assert [c.name for c in diagnosis.checks] == [
            "sim_state",
            "limits",
            "registration",
            "session",
            "behaviour",
            "power",
            "update",
            "above_ip",
            "incident",
        ]
    worst = "candidate" if "candidate" in grades else "first"
    RESULTS[fault.value] = (worst, len(affected), sorted(set(grades)))


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_no_healthy_device_gets_a_fault(fault: FaultId, looked_root: Path) -> None:
    looked = _looked(fault, str(looked_root))
    affected = {r.device_id for r in looked.affected()}
    healthy = [d for d in looked.devices() if d not in affected]
    assert len(healthy) >= 5
    wrong = {}
    for device_id in healthy:
        diagnosis = looked.support.diagnose_device(device_id)
        if diagnosis.cause is not None or not diagnosis.healthy:
            wrong[device_id] = (diagnosis.detection_status, diagnosis.summary)
    assert wrong == {}


def test_the_table_of_causes_is_complete(looked_root: Path) -> None:
    """Runs last in this module: every cause was graded, none wrong."""
    for fault in FAULTS:
        if fault.value not in RESULTS:
            test_the_diagnosis_names_the_injected_cause(fault, looked_root)
    assert set(RESULTS) == {f.value for f in FAULTS}
    assert all(grade != "wrong" for grade, _, _ in RESULTS.values())
    firsts = sum(grade == "first" for grade, _, _ in RESULTS.values())
    assert firsts >= len(FAULTS) - 3, "only look-alike causes may stay candidates"


# ---- the evidence a diagnosis gives -------------------------------------------------------------


def test_a_decisive_reject_names_its_evidence_by_message_id(looked_root: Path) -> None:
    looked = _looked(FaultId.WRONG_APN, str(looked_root))
    diagnosis = looked.support.diagnose_device("collar-0001")
    session = next(c for c in diagnosis.checks if c.name == "session")
    assert session.status is Status.BROKE
    assert session.decisive
    ids = [e.message_id for e in session.evidence if e.message_id is not None]
    timeline = {m.id: m for m in looked.support.service.store.device_timeline("collar-0001")}
    assert ids
    assert all(timeline[i].kind == "session_reject" for i in ids)
    assert diagnosis.facts["apn_used"] == "iot.savana"
    assert diagnosis.facts["apn_expected"] == "iot.savanna"
    # the checks before it are green: the SIM is fine, the device registers
    colours = {c.name: c.status for c in diagnosis.checks}
    assert colours["sim_state"] is Status.OK
    assert colours["limits"] is Status.OK
    assert colours["registration"] is Status.OK


def test_look_alike_causes_come_with_the_test_that_separates_them(looked_root: Path) -> None:
    for fault in (FaultId.DAMAGED_SIM, FaultId.POWER_LOSS):
        diagnosis = _looked(fault, str(looked_root)).support.diagnose_device("collar-0001")
        assert {c.cause for c in diagnosis.candidates} == {
            Cause.POWER_LOSS,
            Cause.DAMAGED_SIM,
            Cause.COVERAGE_LOSS,  # lost between two reports: the same on the wire
            Cause.RADIO_HARDWARE,  # an antenna broken between two reports: the same too
        }
        assert diagnosis.separating_test is not None
        assert "SIM swap test where the device is" in diagnosis.separating_test
        assert diagnosis.next_step == diagnosis.separating_test


def test_congestion_says_when_the_back_off_ends(looked_root: Path) -> None:
    looked = _looked(FaultId.CONGESTION, str(looked_root))
    diagnosis = looked.support.diagnose_device("collar-0001")
    assert diagnosis.cause is Cause.CONGESTION
    assert diagnosis.resumes is not None
    assert diagnosis.resumes > looked.now
    assert "do not reboot" in (diagnosis.next_step or "")


def test_an_outage_is_one_incident_in_the_diagnosis(looked_root: Path) -> None:
    looked = _looked(FaultId.CELL_OUTAGE, str(looked_root))
    diagnosis = looked.support.diagnose_device("collar-0003")
    incident = next(c for c in diagnosis.checks if c.name == "incident")
    assert incident.status is Status.BROKE
    assert "cell 101" in incident.summary
    assert diagnosis.decided_by == "incident"


def test_looking_back_gives_the_diagnosis_of_that_moment(looked_root: Path) -> None:
    looked = _looked(FaultId.SIM_DEACTIVATED, str(looked_root))
    before = looked.support.diagnose_device("collar-0001", at=looked.now - 3 * 3600 - 600)
    now = looked.support.diagnose_device("collar-0001")
    assert before.cause is None
    assert before.detection_status == "ONLINE"
    assert now.cause is Cause.SIM_DEACTIVATED


def test_a_sim_is_diagnosed_by_its_iccid(looked_root: Path) -> None:
    looked = _looked(FaultId.SIM_NOT_PROVISIONED, str(looked_root))
    iccid = looked.support.device_case("collar-0001").iccid
    assert iccid is not None
    diagnosis = looked.support.diagnose_sim(iccid)
    assert diagnosis.device_id == "collar-0001"
    assert diagnosis.cause is Cause.SIM_NOT_PROVISIONED


# ---- pure cases ---------------------------------------------------------------------------------

T = 1_772_409_600.0
ICCID = "8946200050000000009"


def _record(**overrides: object) -> SimRecord:
    fields: dict[str, object] = {
        "t": T,
        "iccid": ICCID,
        "imsi": "240070000000000",
        "msisdn": None,
        "state": "ACTIVATED",
        "account": "savanna",
        "account_name": "Savanna Trackers AB",
        "communication_plan": "collar",
        "rate_plan": "collar-5mb",
        "apns": ["iot.savanna"],
        "networks": ["63902"],
        "radio_types": ["LTE-M"],
        "imei_lock": False,
        "locked_imei": None,
        "data_blocked": False,
        "device_name": "Giraffe collar 1",
        "site": "Maasai Mara",
        "time_zone": "Africa/Nairobi",
    }
    return SimRecord.model_validate(fields | overrides)


def _report(t: float, **overrides: object) -> Telemetry:
    fields: dict[str, object] = {
        "t": t,
        "device_id": "c-1",
        "iccid": ICCID,
        "imei": "356938030000005",
        "seq": int((t - T) // 900),
        "firmware": "2.4.1",
        "battery": 90.0,
        "supply_mv": None,
        "bearer": "LTE-M",
        "mcc_mnc": "63902",
        "cell_id": 101,
        "rsrp": -80.0,
        "rsrq": -6.0,
        "snr": 10.0,
        "apn": "iot.savanna",
        "ip": "10.0.0.1",
        "uptime_s": 1000,
    }
    return Telemetry.model_validate(fields | overrides)


def _case(*messages: object, verdict: str = "OFFLINE", now: float = T + 6 * 3600) -> Case:
    seen = [Seen(i + 1, m) for i, m in enumerate(messages)]  # type: ignore[arg-type]
    return Case(
        now=now,
        device_id="c-1",
        iccid=ICCID,
        detection_status=verdict,
        record=_record(),
        device=tuple(s for s in seen if isinstance(s.message, Telemetry)),
        network=tuple(s for s in seen if not isinstance(s.message, Telemetry)),
    )


def test_the_checks_run_in_the_order_of_the_guide():
    assert [c.__name__ for c in CHECKS] == [
        "check_sim_state",
        "check_limits",
        "check_registration",
        "check_session",
        "check_behaviour",
        "check_power",
        "check_update",
        "check_above_ip",
        "check_incident",
    ]


def test_a_sim_state_change_outranks_the_rejects_it_causes():
    attach = AttachAccepted(
        t=T, iccid=ICCID, imei="356938030000005", mcc_mnc="63902", cell_id=101, rat="LTE-M"
    )
    change = StateChanged(
        t=T + 3600,
        iccid=ICCID,
        old="ACTIVATED",
        new="DEACTIVATED",
        actor="operator",
        reason="billing: invoice overdue",
    )
    reject = AttachRejected(
        t=T + 3700,
        iccid=ICCID,
        imei="356938030000005",
        mcc_mnc="63902",
        cell_id=101,
        rat="LTE-M",
        emm_cause=8,
    )
    diagnosis = diagnose(_case(_report(T + 600), attach, change, reject))
    assert diagnosis.cause is Cause.SIM_DEACTIVATED
    assert diagnosis.decided_by == "sim_state"
    assert diagnosis.started == T + 3600
    sim = diagnosis.checks[0]
    assert sim.status is Status.BROKE, "it worked before (ACTIVATED), not now"
    assert sim.evidence[0].message_id == 3
    assert diagnosis.facts["state_reason"] == "billing: invoice overdue"


def test_rejects_under_a_purge_since_reverted_are_the_purge_not_an_unknown_subscriber():
    """Purged by a clean-up job at 1 h and refused #8 (an Annex A core), re-provisioned at
    9 h: the SIM is active now, but the network refused it as purged, and after #8 the modem
    holds the SIM invalid, so nothing has come since."""
    attach = AttachAccepted(
        t=T, iccid=ICCID, imei="356938030000005", mcc_mnc="63902", cell_id=101, rat="LTE-M"
    )

    def change(t: float, old: str, new: str) -> StateChanged:
        return StateChanged(t=t, iccid=ICCID, old=old, new=new, actor="operator", reason="job")

    rejects = [
        AttachRejected(
            t=T + 3600 + 60 * k,
            iccid=ICCID,
            imei="356938030000005",
            mcc_mnc="63902",
            cell_id=101,
            rat="LTE-M",
            emm_cause=8,
        )
        for k in range(1, 4)
    ]
    purge = [change(T + 3600, "ACTIVATED", "RETIRED"), change(T + 3600, "RETIRED", "PURGED")]
    back = change(T + 9 * 3600, "PURGED", "ACTIVATED")
    diagnosis = diagnose(_case(_report(T + 600), attach, *purge, *rejects, back, now=T + 10 * 3600))
    assert diagnosis.cause is Cause.SIM_PURGED
    # never purged: the same rejects of an active SIM are a subscriber the network does not know
    unknown = diagnose(_case(_report(T + 600), attach, *rejects, now=T + 10 * 3600))
    assert unknown.cause is Cause.SIM_NOT_PROVISIONED


def test_a_device_never_seen_on_the_network_is_grey_not_green():
    diagnosis = diagnose(_case(verdict="UNKNOWN"))
    registration = next(c for c in diagnosis.checks if c.name == "registration")
    assert registration.status is Status.UNKNOWN
    assert diagnosis.cause is None
    assert diagnosis.summary == "Not enough reports to judge the device yet"


def test_a_reporting_device_with_a_clean_record_is_healthy():
    attach = AttachAccepted(
        t=T, iccid=ICCID, imei="356938030000005", mcc_mnc="63902", cell_id=101, rat="LTE-M"
    )
    reports = [_report(T + k * 900) for k in range(1, 8)]
    diagnosis = diagnose(_case(attach, *reports, verdict="ONLINE", now=T + 7 * 900 + 60))
    assert diagnosis.healthy
    assert diagnosis.cause is None
    assert all(c.status in {Status.OK, Status.UNKNOWN} for c in diagnosis.checks)


def test_a_battery_running_down_before_the_silence_points_at_the_battery():
    attach = AttachAccepted(
        t=T, iccid=ICCID, imei="356938030000005", mcc_mnc="63902", cell_id=101, rat="LTE-M"
    )
    levels = [40.0, 25.0, 12.0, 8.0]
    reports = [
        _report(T + (k + 1) * 900, battery=b, errors=[1] if b < 10 else [])
        for k, b in enumerate(levels)
    ]
    from protocol.messages import Detached  # noqa: PLC0415

    gone = Detached(t=T + 5 * 900 + 3600, iccid=ICCID, reason="implicit")
    diagnosis = diagnose(_case(attach, *reports, gone))
    assert [c.cause for c in diagnosis.candidates] == [
        Cause.BATTERY_DEPLETED,
        Cause.COVERAGE_LOSS,
    ]
    assert diagnosis.separating_test is not None
    assert diagnosis.facts["battery"] == 8.0
    # flat (5% or less) before the silence: the battery alone
    flat = [*reports[:-1], _report(T + 4 * 900, battery=3.0, errors=[1])]
    assert [c.cause for c in diagnose(_case(attach, *flat, gone)).candidates] == [
        Cause.BATTERY_DEPLETED
    ]


def test_a_low_battery_that_barely_falls_does_not_explain_the_silence():
    """8% lost at a tenth of a point an hour lasts for days: its quiet is unexplained."""
    attach = AttachAccepted(
        t=T, iccid=ICCID, imei="356938030000005", mcc_mnc="63902", cell_id=101, rat="LTE-M"
    )
    levels = [8.3, 8.2, 8.2, 8.1]
    reports = [_report(T + (k + 1) * 1800, battery=b, errors=[1]) for k, b in enumerate(levels)]
    from protocol.messages import Detached  # noqa: PLC0415

    gone = Detached(t=T + 5 * 1800 + 3600, iccid=ICCID, reason="implicit")
    diagnosis = diagnose(_case(attach, *reports, gone))
    causes = [c.cause for c in diagnosis.candidates]
    assert Cause.BATTERY_DEPLETED not in causes
    assert causes[0] is Cause.POWER_LOSS
    assert Cause.DAMAGED_SIM in causes
    assert "swap" in (diagnosis.separating_test or "").lower()
    # the same level falling 4 points a report is empty two reports on: the battery
    falling = [
        _report(T + (k + 1) * 1800, battery=b) for k, b in enumerate([20.0, 16.0, 12.0, 8.0])
    ]
    assert diagnose(_case(attach, *falling, gone)).cause is Cause.BATTERY_DEPLETED


def test_a_battery_read_to_a_tenth_of_a_point_still_runs_down_when_its_newest_two_agree():
    """0.3% to 0.1% in an hour and a half, the newest two both 0.1: empty within the hour."""
    from diagnostics.diagnosis.readings import battery_running_down_in  # noqa: PLC0415

    levels = [0.3, 0.2, 0.1, 0.1]
    reports = [_report(T + k * 1800, battery=b) for k, b in enumerate(levels)]
    assert battery_running_down_in(reports)
    # healthy and low: a tenth of a point over the same hour and a half lasts for days
    flat = [_report(T + k * 1800, battery=b) for k, b in enumerate([8.7, 8.6, 8.6, 8.6])]
    assert not battery_running_down_in(flat)
    # a failing cell that pokes the device into an early report: its fall and its rhythm
    early = [
        *(_report(T + k * 1800, battery=b) for k, b in enumerate([14.9, 14.8, 14.8])),
        _report(T + 2 * 1800 + 300, battery=13.7),
    ]
    assert battery_running_down_in(early)


def test_the_apn_to_set_is_the_one_the_device_last_worked_with():
    from protocol.messages import SessionOpened, SessionRejected  # noqa: PLC0415

    attach = AttachAccepted(
        t=T, iccid=ICCID, imei="356938030000005", mcc_mnc="63902", cell_id=101, rat="LTE-M"
    )
    opened = SessionOpened(
        t=T + 1, iccid=ICCID, session_id=1, apn="reefer.frostline", ip="10.0.0.9"
    )
    report = _report(T + 900, apn="reefer.frostline")
    refused = [
        SessionRejected(t=T + 3600 + k * 900, iccid=ICCID, apn="internet", esm_cause=27)
        for k in range(3)
    ]
    case = _case(attach, opened, report, *refused)
    plan = _record(apns=["reefer.frostline", "internet.m2m"])
    diagnosis = diagnose(_with(case, plan))
    assert diagnosis.cause is Cause.WRONG_APN
    assert diagnosis.facts["apn_used"] == "internet"
    assert diagnosis.facts["apn_expected"] == "reefer.frostline", "not the closest spelling"
    # with nothing to go by among two APNs, the message is not told an APN to type
    unknown = _with(_case(attach, *refused), plan)
    assert "apn_expected" not in diagnose(unknown).facts


def _with(case: Case, record: SimRecord) -> Case:
    from dataclasses import replace  # noqa: PLC0415

    return replace(case, record=record)


@pytest.mark.parametrize(
    ("causes", "kind"),
    [
        ((Cause.POWER_LOSS, Cause.DAMAGED_SIM), "swap"),
        ((Cause.FIRMWARE_HANG, Cause.BROKER_UNREACHABLE), "restart"),
        ((Cause.BATTERY_DEPLETED, Cause.COVERAGE_LOSS), "recharge"),
        ((Cause.CELL_OUTAGE, Cause.OPERATOR_OUTAGE), None),
    ],
)
def test_each_separating_test_is_one_the_customer_message_can_explain(causes, kind):
    """The messages read the separating test by its words: a rewording must not lose it."""
    from diagnostics.diagnosis.messages import _test_kind  # noqa: PLC0415
    from diagnostics.diagnosis.model import Candidate  # noqa: PLC0415
    from diagnostics.diagnosis.verdict import _separating_test  # noqa: PLC0415

    text = _separating_test(tuple(Candidate(c, 0.5) for c in causes))
    assert text is not None
    assert _test_kind(text) == kind


def _a_whole_sentence(text: str) -> bool:
    return text[:1].isupper() and text.endswith(".") and len(text.split()) >= 4


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_every_next_step_and_fix_is_a_whole_sentence(fault: FaultId, looked_root: Path) -> None:
    """Staff read these as they are: none may stop mid-sentence ("…the device is")."""
    looked = _looked(fault, str(looked_root))
    for device_id in looked.devices():
        diagnosis = looked.support.diagnose_device(device_id)
        for text in (diagnosis.next_step, diagnosis.separating_test, diagnosis.fix):
            assert text is None or _a_whole_sentence(text), (device_id, text)


@pytest.mark.parametrize("first", list(Cause), ids=str)
def test_every_separating_test_is_a_whole_sentence(first: Cause) -> None:
    from diagnostics.diagnosis.model import Candidate  # noqa: PLC0415
    from diagnostics.diagnosis.verdict import _separating_test  # noqa: PLC0415

    for second in Cause:
        text = _separating_test((Candidate(first, 0.5), Candidate(second, 0.5)))
        assert text is None or _a_whole_sentence(text), text
    assert all(_a_whole_sentence(CAUSES[cause].fix) for cause in Cause)


def test_the_core_refusing_with_17_is_the_operator_and_a_later_attach_ends_that_word():
    def reject(t: float) -> AttachRejected:
        return AttachRejected(
            t=t,
            iccid=ICCID,
            imei="356938030000005",
            mcc_mnc="63902",
            cell_id=101,
            rat="LTE-M",
            emm_cause=17,
        )

    attach = AttachAccepted(
        t=T, iccid=ICCID, imei="356938030000005", mcc_mnc="63902", cell_id=101, rat="LTE-M"
    )
    refused = [reject(T + 3600 + 10 * k) for k in range(5)]
    diagnosis = diagnose(_case(_report(T + 600), attach, *refused))
    assert diagnosis.cause is Cause.OPERATOR_OUTAGE
    assert diagnosis.decided_by == "registration"
    # the core came back and took the device: those rejects say nothing of a later quiet
    back = attach.model_copy(update={"t": T + 4 * 3600})
    later = diagnose(_case(_report(T + 600), attach, *refused, back))
    assert later.cause is not Cause.OPERATOR_OUTAGE
    registration = next(c for c in later.checks if c.name == "registration")
    assert "#17" not in registration.summary


def test_a_silent_device_that_never_reported_is_not_said_to_have_stopped():
    diagnosis = diagnose(_case(verdict="OFFLINE"))
    assert diagnosis.cause is None
    assert diagnosis.started is None
    assert "last_report" not in diagnosis.facts


def test_a_sim_silent_for_days_is_diagnosed_by_what_the_network_said_when_it_stopped(
    tmp_path: Path,
) -> None:
    """A SIM whose device never reported: attached, its session refused #29 (wrong private
    APN credentials), then nothing for three days; asked now, the refusal is its cause."""
    from diagnostics.service import Service  # noqa: PLC0415
    from diagnostics.store import SQLiteStore  # noqa: PLC0415
    from diagnostics.support import Support  # noqa: PLC0415
    from protocol.messages import SessionRejected  # noqa: PLC0415
    from protocol.wire import Topics  # noqa: PLC0415
    from simlab.direct import feed  # noqa: PLC0415
    from simulator.world.sinks import MemorySink  # noqa: PLC0415

    imei = "356938030000005"
    sink = MemorySink()
    sink.write(_record(), "savanna")
    sink.write(
        AttachAccepted(t=T + 60, iccid=ICCID, imei=imei, mcc_mnc="63902", cell_id=101, rat="LTE-M"),
        "savanna",
    )
    refused = SessionRejected(t=T + 61, iccid=ICCID, imei=imei, apn="iot.savanna", esm_cause=29)
    sink.write(refused, "savanna")
    topics = Topics("days/simlab")
    service = Service(store=SQLiteStore(tmp_path / "d.sqlite"), topics=topics)
    feed(service, topics, sink, T + 3 * 86400)
    diagnosis = Support(service).diagnose_sim(ICCID)
    assert diagnosis.cause is Cause.PRIVATE_APN_CREDENTIALS
    service.store.close()
