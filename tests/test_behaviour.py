"""The behaviour check: TS.34's limits at their edges, firmware before congestion, the words.

Each case is written message by message: a device's attach and session requests,
its detaches and the network's back-off timers, one step under and one step over
each limit of `diagnostics.diagnosis.behaviour`. A device that does not wait out the
network's back-off is a reconnect storm even where the reject was congestion; one
that waits is congestion, and only its message says the devices are not at fault.
"""

from __future__ import annotations

import itertools

import pytest

from diagnostics.diagnosis import Status, diagnose
from diagnostics.diagnosis.behaviour import (
    MAX_REQUESTS_IN_TIMER,
    MAX_REQUESTS_PER_HOUR,
    MAX_RESETS_PER_HOUR,
    conduct,
)
from diagnostics.diagnosis.checks import check_behaviour
from diagnostics.diagnosis.messages import customer_message
from diagnostics.misbehaving import TimerWatch
from protocol.causes import Cause
from protocol.identifiers import iccid_range, imei_range
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    Detached,
    SessionOpened,
    SessionRejected,
)
from simulator.world.simulate import RunResult, simulate
from simulator.world.sinks import MemorySink
from tests.diagnosis_worlds import serve
from tests.test_diagnosis import ICCID, T, _case, _report
from tests.world_fixtures import FIRST_ICCID, FIRST_IMEI, collars, world

IMEI = "356938030000005"
ICCIDS = [str(i) for i in iccid_range(FIRST_ICCID, 20)]
IMEIS = [i.value for i in imei_range(FIRST_IMEI, 20)]
NOW = T + 6 * 3600
HOUR_AGO = NOW - 3600


def attach(t: float, imei: str = IMEI) -> AttachAccepted:
    return AttachAccepted(t=t, iccid=ICCID, imei=imei, mcc_mnc="63902", cell_id=101, rat="LTE-M")


def congested(t: float, backoff: float | None = 900.0, emm_cause: int = 22) -> AttachRejected:
    return AttachRejected(
        t=t,
        iccid=ICCID,
        imei=IMEI,
        mcc_mnc="63902",
        cell_id=101,
        rat="LTE-M",
        emm_cause=emm_cause,
        backoff_s=backoff,
    )


def session(t: float, n: int, apn: str = "iot.savanna") -> SessionOpened:
    return SessionOpened(t=t, iccid=ICCID, imei=IMEI, session_id=n, apn=apn, ip="10.0.0.1")


def reset(t: float, imei: str = IMEI) -> Detached:
    return Detached(t=t, iccid=ICCID, imei=imei, reason="device")


def worked_before() -> tuple[object, ...]:
    """A device that attached, opened a session and reported, hours before the hour measured."""
    return (attach(T), session(T + 5, 1), _report(T + 600))


# ---- requests an hour ---------------------------------------------------------------------------


@pytest.mark.parametrize(("requests", "storm"), [(MAX_REQUESTS_PER_HOUR, False), (31, True)])
def test_requests_an_hour_up_to_the_limit_are_fine_and_one_more_is_a_storm(requests, storm):
    assert MAX_REQUESTS_PER_HOUR == 30
    step = 3500 / requests
    messages = [
        attach(HOUR_AGO + 60 + k * step) if k % 2 == 0 else session(HOUR_AGO + 60 + k * step, k)
        for k in range(requests)
    ]
    case = _case(*worked_before(), *messages, verdict="ONLINE", now=NOW)
    seen = conduct(case)
    assert len(seen.requests) == requests
    assert (seen.resets, seen.in_timer) == ((), ())
    result = check_behaviour(case)
    assert result.decisive is storm
    assert [c.cause for c in result.candidates] == ([Cause.RECONNECT_STORM] if storm else [])
    if storm:
        assert (
            result.summary == "31 attach and session requests in the last hour (TS.34: at most 30)"
        )


def test_requests_before_the_hour_do_not_count():
    old = [attach(HOUR_AGO - 600 + k) for k in range(40)]
    case = _case(*worked_before(), *old, verdict="ONLINE", now=NOW)
    assert conduct(case).requests == ()
    assert check_behaviour(case).status is Status.OK


# ---- modem resets an hour -----------------------------------------------------------------------


@pytest.mark.parametrize(("resets", "storm"), [(MAX_RESETS_PER_HOUR, False), (2, True)])
def test_one_modem_reset_an_hour_is_fine_and_two_are_a_storm(resets, storm):
    messages = []
    for k in range(resets):
        at = HOUR_AGO + 600 + k * 1200
        messages += [reset(at), attach(at + 30), session(at + 35, k + 2)]
    case = _case(*worked_before(), *messages, verdict="ONLINE", now=NOW)
    assert len(conduct(case).resets) == resets
    result = check_behaviour(case)
    assert result.decisive is storm
    if storm:
        assert result.summary == "2 modem resets in the last hour (TS.34: at most 1)"
        assert "latest modem reset" in [e.text for e in result.evidence]
        assert result.evidence[-1].text == (
            "last hour: 4 requests, 2 modem resets, 0 inside a back-off timer"
        )


def test_a_sim_moved_into_another_device_and_back_is_no_modem_reset():
    other = "356938030000013"
    messages = [
        reset(HOUR_AGO + 600),
        attach(HOUR_AGO + 700, imei=other),
        reset(HOUR_AGO + 1800, imei=other),
        attach(HOUR_AGO + 1900),
    ]
    case = _case(*worked_before(), *messages, verdict="ONLINE", now=NOW)
    assert conduct(case).resets == ()
    assert check_behaviour(case).status is Status.OK


# ---- requests inside the network's back-off timer ----------------------------------------------


def _congestion(inside: int, *, now: float = NOW) -> tuple[object, ...]:
    """A reject with a 30-minute T3346 at 5 h, `inside` requests in it, then one after it."""
    start = T + 5 * 3600
    messages: list[object] = [congested(start, backoff=1800.0)]
    messages += [congested(start + 60 * (k + 1), backoff=1800.0) for k in range(inside)]
    messages.append(congested(start + 60 * inside + 1800.0, backoff=1800.0))
    return (*worked_before(), *messages)


@pytest.mark.parametrize(("inside", "storm"), [(MAX_REQUESTS_IN_TIMER, False), (2, True)])
def test_one_request_inside_a_back_off_is_let_pass_and_two_are_a_storm(inside, storm):
    case = _case(*_congestion(inside))
    assert len(conduct(case).in_timer) == inside
    diagnosis = diagnose(case)
    if storm:
        assert diagnosis.cause is Cause.RECONNECT_STORM
        assert diagnosis.decided_by == "behaviour"
        assert diagnosis.checks[2].candidates[0].cause is Cause.CONGESTION, "the reject says so"
        assert diagnosis.summary.endswith(
            "2 requests while the network's back-off timer ran (TS.34: none)"
        )
        assert diagnosis.resumes is None, "no back-off end brings a storming device back"
        assert diagnosis.facts["requests_in_backoff"] == 2
    else:
        assert diagnosis.cause is Cause.CONGESTION
        assert diagnosis.decided_by == "registration"
        assert "requests_in_backoff" not in diagnosis.facts


def test_a_request_as_the_timer_ends_is_after_it():
    start = T + 5 * 3600
    messages = [congested(start), congested(start + 899.5), congested(start + 1700.0)]
    case = _case(*worked_before(), *messages)
    assert [s.message.t for s in conduct(case).in_timer] == [start + 1700.0]


def test_t3396_holds_back_sessions_for_its_own_apn_only():
    start = T + 5 * 3600
    rejected = SessionRejected(
        t=start, iccid=ICCID, imei=IMEI, apn="iot.savanna", esm_cause=26, backoff_s=1200.0
    )
    messages = [
        rejected,
        *(session(start + 60 * (k + 1), k + 2, apn="internet.iot") for k in range(3)),
        session(start + 400, 9),
        session(start + 500, 10),
    ]
    case = _case(*worked_before(), *messages, verdict="ONLINE")
    assert [s.message.t for s in conduct(case).in_timer] == [start + 400, start + 500]


def test_a_device_that_hammers_while_refused_for_its_sim_is_diagnosed_by_the_sim():
    """Only a wait the network asks for gives way to the behaviour: a permanent reject does not."""
    start = T + 5 * 3600
    refused = [congested(start + k * 10, backoff=None, emm_cause=2) for k in range(200)]
    diagnosis = diagnose(_case(*worked_before(), *refused))
    assert diagnosis.cause is Cause.SIM_NOT_PROVISIONED
    behaviour = next(c for c in diagnosis.checks if c.name == "behaviour")
    assert behaviour.candidates[0].cause is Cause.RECONNECT_STORM


def _failed_core(waits: list[float]) -> list[AttachRejected]:
    """Attaches a failed core refuses with EMM #17 (no back-off of its own), `waits` apart."""
    times = itertools.accumulate(waits, initial=HOUR_AGO + 30)
    return [congested(t, backoff=None, emm_cause=17) for t in times]


@pytest.mark.parametrize(
    ("waits", "cause"),
    [
        ([10.0] * 4 + [720.0], Cause.OPERATOR_OUTAGE),  # T3411 four times, then T3402
        ([60.0], Cause.RECONNECT_STORM),  # a tight loop: neither T3411's count nor T3402
    ],
    ids=["waits", "hammers"],
)
def test_a_device_that_skips_the_standards_waits_after_a_failed_core_is_a_storm(waits, cause):
    """#17 asks no back-off of its own, but TS 24.301's waits after it keep a device in TS.34."""
    refused = _failed_core((waits * 80)[: len(waits) * (3500 // int(sum(waits)))])
    diagnosis = diagnose(_case(*worked_before(), *refused))
    assert diagnosis.cause is cause
    registration = next(c for c in diagnosis.checks if c.name == "registration")
    assert registration.candidates[0].cause is Cause.OPERATOR_OUTAGE


def test_re_registering_at_the_edge_of_coverage_is_not_a_storm():
    weak = [_report(HOUR_AGO + 60 + k * 300, rsrp=-120.0) for k in range(10)]
    flaps = [attach(HOUR_AGO + 100 + k * 100) for k in range(35)]
    case = _case(*worked_before(), *weak, *flaps, verdict="ONLINE")
    result = check_behaviour(case)
    assert result.status is Status.OK
    assert result.summary.startswith("35 attach and session requests in the last hour")


# ---- the words ----------------------------------------------------------------------------------


def _polite() -> tuple[object, ...]:
    start = T + 5 * 3600
    return (*worked_before(), congested(start), congested(start + 950), congested(start + 1900))


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_device_that_waits_is_told_the_network_is_busy(language):
    diagnosis = diagnose(_case(*_polite()))
    assert diagnosis.cause is Cause.CONGESTION
    body = customer_message(diagnosis, language).body
    fault_free = {"en": "not a fault in your devices", "sv": "inte ett fel i era enheter"}
    assert fault_free[language] in body


def test_a_device_that_does_not_wait_is_told_its_software_is_at_fault():
    diagnosis = diagnose(_case(*_congestion(5)))
    assert diagnosis.cause is Cause.RECONNECT_STORM
    english = customer_message(diagnosis, "en")
    swedish = customer_message(diagnosis, "sv")
    assert "not a fault in your devices" not in english.body
    assert "inte ett fel i era enheter" not in swedish.body
    assert english.subject == "Giraffe collar 1 reconnects too often"
    assert "It has not stayed connected since 2 March 2026 at 03:10 (Africa/Nairobi time)." in (
        english.body
    )
    assert "In the last hour it tried to connect 7 times." in english.body
    assert (
        "The mobile network had asked it to wait, yet it tried 5 times before the wait was over."
        in english.body
    )
    assert "restarted its radio" not in english.body, "no modem reset was seen"
    assert "Mobilnätet hade bett den vänta, men den försökte 5 gånger innan väntan var över." in (
        swedish.body
    )
    assert english.steps[-1] == "Let the device restart its radio at most once an hour."


def test_a_reboot_loop_is_told_how_often_it_restarted_its_radio():
    messages = []
    for k in range(6):
        at = HOUR_AGO + 300 + k * 500
        messages += [reset(at), attach(at + 30), session(at + 35, k + 2)]
    diagnosis = diagnose(_case(*worked_before(), *messages, verdict="ONLINE"))
    assert diagnosis.cause is Cause.RECONNECT_STORM
    body = customer_message(diagnosis, "en").body
    assert "In the last hour it tried to connect 12 times. It also restarted its radio 6 times" in (
        body
    )
    assert "while the mobile network had asked it to wait" not in body


# ---- the simulator produces it ------------------------------------------------------------------


def _storm_world(storm_at: str) -> tuple[RunResult, MemorySink]:
    """Four collars on a cell congested from 2 h to 3 h 30; collar 1's firmware stops waiting."""
    spec = world(
        devices=[collars(4)],
        faults=[
            {"fault": "congestion", "at": "2h", "duration": "90m", "cell": 101},
            {
                "fault": "reconnect_storm",
                "at": storm_at,
                "duration": "3h",
                "value": "tight_loop",
                "devices": ["collar-0001"],
            },
            {
                "fault": "reconnect_storm",
                "at": "1h",
                "value": "reboot_on_failure",
                "devices": ["collar-0002"],
            },
        ],
    )
    sink = MemorySink()
    result = simulate(spec, sink, until=5 * 3600)
    assert result.error is None
    return result, sink


def _inside_t3346(sink: MemorySink, iccid: str) -> int:
    rejects = [m for m in sink.messages if isinstance(m, AttachRejected) and m.iccid == iccid]
    return sum(b.t < a.t + a.backoff_s - 1 for a, b in itertools.pairwise(rejects) if a.backoff_s)


@pytest.mark.parametrize("storm_at", ["1h", "150m"], ids=["before", "during"])
def test_a_firmware_that_ignores_the_back_off_hammers_a_congested_cell(storm_at):
    result, sink = _storm_world(storm_at)
    assert result.world is not None
    sims = {d.id: d.sim for d in result.world.devices}
    inside = {d: _inside_t3346(sink, sims[d]) for d in sims}
    assert inside["collar-0001"] > 100, "a retry every few seconds for the rest of the congestion"
    assert inside["collar-0002"] > 30, "a reboot on every reject forgets T3346 each time"
    assert inside["collar-0003"] == inside["collar-0004"] == 0, "TS.34 firmware waits"
    truth = {(r.device_id, r.cause.value) for r in result.truth}
    assert ("collar-0001", "reconnect_storm") in truth
    assert ("collar-0002", "reconnect_storm") in truth
    assert ("collar-0002", "congestion") not in truth, "its firmware did not wait: no victim"
    victim = ("collar-0001", "congestion") in truth
    assert victim is (storm_at == "150m"), "a victim of the congestion until its firmware changed"
    assert {("collar-0003", "congestion"), ("collar-0004", "congestion")} <= truth


def test_a_firmware_that_ignores_the_back_off_is_a_storm_from_the_first_back_off_it_ignores():
    result, sink = _storm_world("150m")
    assert result.world is not None
    sims = {d.id: d.sim for d in result.world.devices}
    t0 = result.world.output.start_ts

    def first(kind: type, device: str, after: float) -> int:
        return round(
            next(
                m.t - t0
                for m in sink.messages
                if isinstance(m, kind) and m.iccid == sims[device] and m.t - t0 > after
            )
        )

    changed = 150 * 60.0  # collar 1's firmware stops waiting, inside a T3346 back-off
    storm = first(AttachRejected, "collar-0001", changed)
    assert storm > changed + 60, "it was still waiting out T3346 when its firmware changed"
    truth = sorted((r.device_id, r.fault.value, round(r.start), round(r.end)) for r in result.truth)
    assert truth == [
        ("collar-0001", "congestion", 7200, storm),  # waiting out T3346 when its firmware changed
        ("collar-0001", "reconnect_storm", storm, first(AttachAccepted, "collar-0001", 12600)),
        # installed at 1 h, harmless until the congestion at 2 h
        ("collar-0002", "reconnect_storm", 7200, first(AttachAccepted, "collar-0002", 12600)),
        ("collar-0003", "congestion", 7200, 12600),
        ("collar-0004", "congestion", 7200, 12600),
    ]


def test_a_reconnect_storm_names_a_behaviour_that_misbehaves():
    spec = world(
        devices=[collars(2)],
        faults=[
            {"fault": "reconnect_storm", "at": "1h", "value": "ts34", "devices": ["collar-0001"]}
        ],
    )
    result = simulate(spec, MemorySink(), until=2 * 3600)
    assert result.error is not None
    assert "reconnect_storm: value 'ts34' is not one of tight_loop, reboot_on_failure" in (
        result.error
    )


# ---- the service: no victim of the congestion ---------------------------------------------------


def test_a_device_storming_a_gateway_that_refuses_it_is_still_that_outage_s_victim(tmp_path):
    """The same collars on an APN whose gateway fails at 2 h: refused sessions, no back-off
    of the attach to keep; the rogues' storm is no reason of their own against the APN."""
    rogues = collars(
        3, name="rogue", lon=34.80, first_iccid=ICCIDS[10], first_imei=IMEIS[10], retry="tight_loop"
    )
    spec = world(
        devices=[collars(6, lon=34.80), rogues],
        faults=[{"fault": "apn_gateway_outage", "at": "2h", "apn": "iot.savanna"}],
    )
    support, truth, _ = serve(spec, 5 * 3600, tmp_path)
    assert {r.cause for r in truth} == {Cause.APN_GATEWAY_OUTAGE}
    (incident,) = support.service.grouper.open_incidents()
    assert (incident.dimension, incident.value) == ("apn", "iot.savanna")
    everyone = {f"collar-{n:04d}" for n in range(1, 7)} | {f"rogue-{n:04d}" for n in range(1, 4)}
    assert incident.quiet == everyone


def test_a_device_that_does_not_wait_is_left_out_of_the_congestion_incident(tmp_path):
    """Six collars that wait and three that do not, on cell 101 congested from 2 h."""
    rogues = collars(
        3, name="rogue", lon=34.80, first_iccid=ICCIDS[10], first_imei=IMEIS[10], retry="tight_loop"
    )
    spec = world(
        devices=[collars(6, lon=34.80), rogues],
        faults=[{"fault": "congestion", "at": "2h", "cell": 101}],
    )
    support, truth, _ = serve(spec, 4 * 3600, tmp_path)
    (incident,) = support.service.grouper.open_incidents()
    assert (incident.dimension, incident.value) == ("cell", "101")
    polite = {f"collar-{n:04d}" for n in range(1, 7)}
    storming = {f"rogue-{n:04d}" for n in range(1, 4)}
    assert incident.quiet == polite, "the rogues are quiet by their own firmware"
    assert {r.device_id: r.cause for r in truth} == dict.fromkeys(polite, Cause.CONGESTION) | (
        dict.fromkeys(storming, Cause.RECONNECT_STORM)
    )
    for device_id in sorted(polite | storming):
        diagnosis = support.diagnose_device(device_id)
        body = customer_message(diagnosis, "en").body
        if device_id in storming:
            assert (diagnosis.cause, diagnosis.decided_by) == (Cause.RECONNECT_STORM, "behaviour")
            assert "not a fault in your devices" not in body
        else:
            assert (diagnosis.cause, diagnosis.decided_by) == (Cause.CONGESTION, "registration")
            assert "not a fault in your devices" in body


@pytest.mark.parametrize(("inside", "ignoring"), [(MAX_REQUESTS_IN_TIMER, False), (2, True)])
def test_the_service_watch_uses_the_diagnosis_limit(inside, ignoring):
    watch = TimerWatch()
    start = T + 5 * 3600
    for k in range(inside + 1):
        watch.apply("c-1", congested(start + 60 * k, backoff=1800.0))
    assert watch.misbehaving(start + 600) == ({"c-1"} if ignoring else set())
    assert watch.misbehaving(start + 60 * inside + 3601) == set(), "an hour later it is forgotten"
