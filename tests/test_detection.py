"""Offline detection on plain data: verdicts, reasons, learned intervals, hysteresis, evidence."""

import numpy as np
import pytest

from diagnostics.detection import DetectionStatus, Detector, DetectorSettings, Reason

T0 = 1_772_409_600.0
MIN = 60.0


def fleet(interval=15 * MIN, reports=6):
    d = Detector(capacity=2)
    row = d.row("meter-1")
    d.announce(row, interval)
    for i in range(reports):
        d.report(row, T0 + i * interval)
    return d, row, T0 + (reports - 1) * interval


def judge(d, row, now):
    d.sweep(now)
    return d.status(row)


@pytest.mark.parametrize(
    ("silence_intervals", "verdict"),
    [
        (1.0, DetectionStatus.ONLINE),
        (1.9, DetectionStatus.LATE),
        (2.9, DetectionStatus.SUSPECT),
        (4.4, DetectionStatus.SUSPECT),
        (4.9, DetectionStatus.OFFLINE),
    ],
)
def test_silence_is_measured_in_the_devices_own_interval(silence_intervals, verdict):
    for interval in (5 * MIN, 60 * MIN):
        d, row, last = fleet(interval)
        assert judge(d, row, last + silence_intervals * interval)[0] is verdict


def test_the_interval_is_learned_from_the_median_gap_not_the_announcement():
    d = Detector()
    row = d.row("tracker")
    d.announce(row, 60 * MIN)
    for i in range(8):
        d.report(row, T0 + i * 5 * MIN + (40 if i % 3 == 0 else 0))
    assert d.column("interval")[row] == pytest.approx(5 * MIN, abs=45)
    last = float(d.column("last_seen")[row])
    assert judge(d, row, last + 30 * MIN)[0] is DetectionStatus.OFFLINE


def test_one_lost_report_is_only_late_and_does_not_teach_a_longer_interval():
    d, row, last = fleet()
    d.report(row, last + 2 * 15 * MIN)  # the one in between was lost
    assert d.column("interval")[row] == pytest.approx(15 * MIN)
    assert judge(d, row, last + 2 * 15 * MIN + 10)[0] is DetectionStatus.ONLINE


def test_an_offline_device_needs_a_second_on_time_report_to_be_online():
    d, row, last = fleet()
    back = last + 10 * 15 * MIN
    assert judge(d, row, back - 1)[0] is DetectionStatus.OFFLINE
    d.report(row, back)
    assert judge(d, row, back + 1) == (DetectionStatus.LATE, Reason.RECOVERING)
    d.report(row, back + 15 * MIN)
    assert judge(d, row, back + 15 * MIN + 1) == (DetectionStatus.ONLINE, Reason.REPORTING)
    assert d.column("interval")[row] == pytest.approx(15 * MIN), "the outage is not a gap to learn"


def test_a_planned_sleep_is_asleep_never_offline():
    d, row, last = fleet()
    d.asleep(row, last + 15 * MIN, until=last + 15 * MIN + 6 * 3600)
    for hours in (1, 3, 5.9):
        assert judge(d, row, last + 15 * MIN + hours * 3600) == (
            DetectionStatus.ASLEEP,
            Reason.SLEEPING,
        )
    wake = last + 15 * MIN + 6 * 3600  # the report was due at wake, one interval after "last"
    assert judge(d, row, wake + 1 * 15 * MIN)[0] is DetectionStatus.LATE
    assert judge(d, row, wake + 6 * 15 * MIN)[0] is DetectionStatus.OFFLINE


def test_a_psm_device_is_judged_in_units_of_its_sleep():
    d = Detector()
    row = d.row("water-1")
    sleep = 6 * 3600
    for i in range(5):
        d.asleep(row, T0 + i * sleep, until=T0 + (i + 1) * sleep)
    assert d.column("interval")[row] == pytest.approx(sleep)
    last_wake = T0 + 5 * sleep
    assert judge(d, row, last_wake + 1.0 * sleep)[0] is DetectionStatus.LATE
    assert judge(d, row, last_wake + 3.0 * sleep)[0] is DetectionStatus.SUSPECT
    assert judge(d, row, last_wake + 4.0 * sleep)[0] is DetectionStatus.OFFLINE


def test_a_last_will_makes_the_device_suspect_at_once():
    d, row, last = fleet()
    d.will(row, last + 60)
    assert judge(d, row, last + 61) == (DetectionStatus.SUSPECT, Reason.CONNECTION_LOST)
    d.report(row, last + 15 * MIN)
    assert judge(d, row, last + 15 * MIN + 1) == (DetectionStatus.ONLINE, Reason.REPORTING)


def test_network_evidence_changes_verdict_and_reason():
    d, row, last = fleet()
    silent = last + 6 * 15 * MIN
    assert judge(d, row, silent) == (DetectionStatus.OFFLINE, Reason.SILENT)
    d.network(row, silent - 60, alive=True)  # attached and opened a session, but no reports
    assert judge(d, row, silent) == (DetectionStatus.SUSPECT, Reason.NETWORK_ONLY)
    d.network(row, silent + 60, lost=True)  # then the network detached it
    assert judge(d, row, silent + 120) == (DetectionStatus.OFFLINE, Reason.NETWORK_LOST)
    d2, row2, last2 = fleet()
    d2.network(row2, last2 + 20 * MIN, rejected=True)
    assert judge(d2, row2, last2 + 3 * 15 * MIN) == (DetectionStatus.SUSPECT, Reason.REJECTED)


def test_sweep_returns_only_what_changed_and_counts_verdicts():
    d = Detector(capacity=1)
    for i in range(5):  # grows past its capacity
        row = d.row(f"m-{i}")
        for k in range(4):
            d.report(row, T0 + k * 15 * MIN)
    last = T0 + 3 * 15 * MIN
    assert list(d.sweep(last + 10)) == [0, 1, 2, 3, 4]
    assert list(d.sweep(last + 20)) == []
    d.report(d.row("m-2"), last + 15 * MIN)
    changed = d.sweep(last + 2 * 15 * MIN)
    assert sorted(d.ids[i] for i in changed) == ["m-0", "m-1", "m-3", "m-4"]
    assert d.counts()["LATE"] == 4
    assert d.counts()["ONLINE"] == 1


def test_a_device_never_heard_from_is_unknown():
    d = Detector()
    row = d.row("silent-from-birth")
    assert judge(d, row, T0) == (DetectionStatus.UNKNOWN, Reason.NONE)


def test_duplicate_and_out_of_order_reports_change_nothing():
    d, row, last = fleet()
    before = {name: d.column(name).copy() for name in ("last_seen", "interval", "gap_count")}
    d.report(row, last)
    d.report(row, last - 100)
    for name, column in before.items():
        np.testing.assert_array_equal(d.column(name), column)


def test_thresholds_are_settings():
    d = Detector(DetectorSettings(offline_after=3.0, tolerance=0.0))
    row = d.row("m")
    for k in range(4):
        d.report(row, T0 + k * 100)
    assert judge(d, row, T0 + 300 + 3.2 * 100)[0] is DetectionStatus.OFFLINE


def test_an_unannounced_hourly_meter_learns_its_interval_while_judged_by_the_default():
    d = Detector()
    row = d.row("hourly")
    for i in range(8):
        d.report(row, T0 + i * 3600)
        d.sweep(
            T0 + i * 3600 + 3590
        )  # swept between reports: SUSPECT against the 15-minute default
    assert d.column("interval")[row] == pytest.approx(3600)
    last = T0 + 7 * 3600
    assert judge(d, row, last + 1.2 * 3600)[0] is DetectionStatus.ONLINE
    assert judge(d, row, last + 5 * 3600)[0] is DetectionStatus.OFFLINE


def test_a_two_hourly_meter_learns_from_its_first_gap():
    d = Detector()
    row = d.row("two-hourly")
    d.report(row, T0)
    d.report(row, T0 + 7200)
    assert d.column("interval")[row] == pytest.approx(7200)


def shown(d, row, start, end, step=MIN):
    """Every status a 60 s sweep shows from `start` to `end`."""
    return {judge(d, row, t)[0] for t in np.arange(start, end, step)}


def test_a_reconnect_storm_does_not_teach_its_reconnects_as_the_interval():
    d, row, last = fleet(30 * MIN, reports=17)
    t = last
    for _ in range(40):  # two hours of reconnecting every three minutes, a report each time
        t += 3 * MIN
        d.will(row, t)  # the broker sends the old Will at the takeover
        d.online(row, t)
        d.report(row, t)
        d.sweep(t)
    assert d.column("interval")[row] == pytest.approx(30 * MIN)
    seen = set()
    for k in range(1, 9):  # then on its schedule again
        seen |= shown(d, row, t + (k - 1) * 30 * MIN, t + k * 30 * MIN)
        d.report(row, t + k * 30 * MIN)
    assert DetectionStatus.OFFLINE not in seen
    assert DetectionStatus.SUSPECT not in seen


def test_a_device_back_on_a_longer_rhythm_relearns_it_from_two_agreeing_gaps():
    d, row, t = fleet(5 * MIN, reports=17)  # its interval learned as five minutes
    offline = []
    for k in range(1, 11):  # from now on every half hour (-10% to +20%), with no Will
        gap = 30 * MIN * (1.2 if k % 2 else 0.9)
        if DetectionStatus.OFFLINE in shown(d, row, t, t + gap):
            offline.append(k)
        t += gap
        d.report(row, t)
    assert offline == [1, 2, 3]  # gone, back, and again gone before the rhythm is clear
    assert d.column("interval")[row] == pytest.approx(30 * MIN, rel=0.25)
    assert judge(d, row, t + 1)[0] is DetectionStatus.ONLINE
    assert judge(d, row, t + 5 * 36 * MIN)[0] is DetectionStatus.OFFLINE, "and a death is seen"


def test_one_long_gap_after_a_return_does_not_become_the_interval():
    d, row, last = fleet(15 * MIN, reports=17)
    back = last + 10 * 3600
    d.sweep(back - 1)
    d.report(row, back)
    d.sweep(back + 3 * 3600 - 1)
    d.report(row, back + 3 * 3600)  # back once more, after another three hours
    assert d.column("interval")[row] == pytest.approx(15 * MIN)
    assert judge(d, row, back + 3 * 3600 + 5 * 15 * MIN)[0] is DetectionStatus.OFFLINE


def test_silence_by_the_guessed_interval_is_settled_only_past_the_fleets_slowest_rhythm():
    # "old" has shown an hourly rhythm; "new" reported once: SUSPECT by the 15-minute default
    d = Detector()
    old, new, gone = d.row("old"), d.row("new"), d.row("gone")
    for t in (0.0, 3600.0, 7200.0):
        d.report(old, t)
    d.report(new, 7200.0)
    d.report(gone, 7200.0)
    d.will(gone, 7300.0)
    d.sweep(7200.0 + 2400.0)
    assert d.status(new)[0] is DetectionStatus.SUSPECT
    assert d.settled(7200.0 + 2400.0).tolist() == [True, False, True]  # the Will says so
    # 2.5 of the fleet's slowest rhythm (an hour) and its slack on, the silence is settled
    assert not d.settled(7200.0 + 2.5 * 3600 + 360).tolist()[new]
    assert d.settled(7200.0 + 2.5 * 3600 + 361).tolist()[new]
