"""Groups the quiet devices' own evidence rules out, and the widest scope the evidence covers.

Devices that leave coverage together (their own reports show the signal falling), devices
whose sessions their APN rejects, an operator outage of a fleet on one APN, an outage first
seen in one firmware's devices, a core refusing every device (EMM #17 names the operator,
and three such devices are enough): the grouper on plain data, and `OwnReadings` on real
telemetry messages.
"""

import numpy as np

from diagnostics.incidents import Grouper, Reasons, Timing
from diagnostics.incidents_readings import OwnReadings, Returned
from protocol.causes import Cause
from protocol.messages import Telemetry
from tests.test_incident_reasons import fleet

H = 3600.0


def reasons(ids, causes=None, names=None):
    return Reasons([(causes or {}).get(d) for d in ids], [(names or {}).get(d, ()) for d in ids])


def scopes(grouper):
    return sorted((i.dimension, i.value) for i in grouper.open_incidents())


HERD = {"cell": "4410", "operator": "65501", "apn": "veld.iot", "account": "karoo"}


def test_a_convoy_leaving_coverage_is_no_cell_or_firmware_outage():
    # 12 trucks of 40 in one cell drive away: 4 of them showed their signal falling
    ids, attributes = fleet([(12, HERD | {"firmware": "4.1"}), (28, HERD | {"firmware": "4.0"})])
    trucks = ids[:12]
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    causes = dict.fromkeys(trucks[:4], Cause.COVERAGE_LOSS)
    quiet = [d in trucks for d in ids]
    assert grouper.update(H, ids, attributes, quiet, None, reasons(ids, causes)) == ([], [])
    # the same quiet with no word of a fall is a cell outage of its own
    opened, _ = Grouper().update(H, ids, attributes, quiet, None, reasons(ids))
    assert opened


def test_a_convoy_whose_first_left_on_a_good_signal_is_no_outage_by_those_leaving_after():
    # 10 trucks of 40 quiet, none showing a fall; 20 more late behind them, 12 of those
    # on a falling signal: the cell is being left, not off air
    ids, attributes = fleet([(30, HERD | {"firmware": "4.1"}), (10, HERD | {"firmware": "4.0"})])
    first, after = ids[:10], ids[10:30]
    now = 2 * H
    reported = np.array([now - 50 * 60 if d in first else now - 30 * 60 for d in ids])
    late = np.array([now - 1.0 if d in first + after else now + 600.0 for d in ids])
    timing = Timing(reported, late)
    quiet = [d in first for d in ids]
    fading = reasons(ids, dict.fromkeys(after[:12], Cause.COVERAGE_LOSS))
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    assert grouper.update(now, ids, attributes, quiet, None, fading, timing) == ([], [])
    # without those behind them, the first ten alone are an outage of the cell
    alone = Grouper()
    alone.update(0.0, ids, attributes, [False] * len(ids))
    early = Timing(reported, np.array([now - 1.0 if d in first else now + 600.0 for d in ids]))
    opened, _ = alone.update(now, ids, attributes, quiet, None, fading, early)
    assert opened
    assert scopes(alone) == [("cell", "4410")]


def test_an_open_outage_closes_when_its_quiet_devices_come_to_point_elsewhere():
    ids, attributes = fleet([(12, HERD | {"firmware": "4.1"}), (28, HERD | {"firmware": "4.0"})])
    trucks = ids[:12]
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    first = [d in trucks[:8] for d in ids]  # the first to go showed no fall
    (opened,), _ = grouper.update(H, ids, attributes, first, None, reasons(ids))
    causes = dict.fromkeys(trucks[8:], Cause.COVERAGE_LOSS)  # the others did
    quiet = [d in trucks for d in ids]
    assert grouper.update(2 * H, ids, attributes, quiet, None, reasons(ids, causes)) == (
        [],
        [opened],
    )
    assert grouper.incident_of() == {}


def test_an_operator_outage_of_a_fleet_on_one_apn_is_the_operators_not_the_apns():
    ids, attributes = fleet(
        [(20, HERD | {"firmware": "4.0"}), (25, HERD | {"cell": "4411", "firmware": "4.1"})]
    )
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    grouper.update(H, ids, attributes, [True] * len(ids), None, reasons(ids))
    assert scopes(grouper) == [("operator", "65501")]
    # an APN outage names itself: its devices' sessions are rejected (ESM #38)
    named = dict.fromkeys(ids, ("apn", "tunnel"))
    gateway = Grouper()
    gateway.update(H, ids, attributes, [True] * len(ids), None, reasons(ids, names=named))
    assert scopes(gateway) == [("apn", "veld.iot")]


def test_an_outage_first_seen_in_one_firmwares_devices_becomes_the_operators():
    # the 16 devices of 5.2 report every 15 min and go quiet first; the 49 others follow
    ids, attributes = fleet(
        [
            (16, HERD | {"firmware": "5.2"}),
            (24, HERD | {"firmware": "5.1"}),
            (25, HERD | {"cell": "4411", "firmware": "5.1"}),
        ]
    )
    fast = set(ids[:16])
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    (first,), _ = grouper.update(H, ids, attributes, [d in fast for d in ids], None, reasons(ids))
    assert scopes(grouper) == [("firmware", "5.2")]
    opened, closed = grouper.update(2 * H, ids, attributes, [True] * len(ids), None, reasons(ids))
    assert closed == [first]
    assert scopes(grouper) == [("operator", "65501")]
    (operator,) = opened
    assert grouper.incidents[operator].quiet == set(ids)


def test_devices_their_apn_refuses_form_no_firmware_group():
    # an APN gateway fails for all 300; the 8 of firmware 3.8 that report often go quiet first
    ids, attributes = fleet([(35, HERD | {"firmware": "3.8"}), (265, HERD | {"firmware": "3.9"})])
    early = ids[:8]
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    named = dict.fromkeys(early, ("apn", "tunnel"))
    quiet = [d in early for d in ids]
    assert grouper.update(H, ids, attributes, quiet, None, reasons(ids, names=named)) == ([], [])


def report(t, rsrp, battery=None, cell=4410):
    return Telemetry(
        t=t, device_id="truck-7", iccid="8927000000000000017", imei="356938035643809", seq=1,
        firmware="4.1", battery=battery, supply_mv=None, bearer="LTE-M", mcc_mnc="65501",
        cell_id=cell, rsrp=rsrp, rsrq=-10.0, snr=8.0, apn="veld.iot", ip="10.0.0.7",
        uptime_s=100,
    )  # fmt: skip


def test_own_readings_name_a_falling_signal_or_battery_not_a_weak_one():
    readings = OwnReadings()
    for t, rsrp in [(4, -112.0), (1, -85.0), (3, -101.0), (2, -90.0)]:  # one arrives late
        readings.apply(report(t * H, rsrp))
    assert readings.explanation("truck-7") is Cause.COVERAGE_LOSS
    edge = OwnReadings()  # always at the cell's edge: weak, but nothing fell
    for t in range(6):
        edge.apply(report(t * H, -118.0 + t % 2))
    assert edge.explanation("truck-7") is None
    draining = OwnReadings()  # 10 points an hour, at 10%: empty within the hour
    for t, level in enumerate((40.0, 30.0, 20.0, 10.0)):
        draining.apply(report(t * H, -80.0, battery=level))
    assert draining.explanation("truck-7") is Cause.BATTERY_DEPLETED
    falling = OwnReadings()  # 8 points an hour, but at 37% it had hours left when it stopped
    for t, level in enumerate((60.0, 52.0, 44.0, 37.0)):
        falling.apply(report(t * H, -80.0, battery=level))
    assert falling.explanation("truck-7") is None
    low = OwnReadings()  # low, and losing a tenth of a point an hour: days left
    for t, level in enumerate((8.3, 8.2, 8.2, 8.1)):
        low.apply(report(t * H, -80.0, battery=level))
    assert low.explanation("truck-7") is None
    assert OwnReadings().explanation("truck-7") is None
    kept = OwnReadings()  # only the newest few count: an old fall is no fall now
    for t, rsrp in enumerate((-60.0, -95.0, -95.0, -96.0, -95.0)):
        kept.apply(report(t * H, rsrp))
    assert kept.explanation("truck-7") is None
    bounced = OwnReadings()  # driving off: down 24 dB, the very last reading a little back up
    for t, rsrp in enumerate((-91.4, -95.6, -115.5, -108.6)):
        bounced.apply(report(t * H, rsrp))
    assert bounced.explanation("truck-7") is Cause.COVERAGE_LOSS
    dip = OwnReadings()  # one low reading, and the last back where it was: not leaving
    for t, rsrp in enumerate((-91.0, -93.0, -112.0, -90.0)):
        dip.apply(report(t * H, rsrp))
    assert dip.explanation("truck-7") is None


def test_own_readings_name_a_signal_swinging_along_the_edge_and_ending_weak():
    along = OwnReadings()  # carried along a foreign cell's edge: swings of 20-30 dB, then gone
    for t, rsrp in enumerate((-124.0, -113.0, -94.0, -119.0)):
        along.apply(report(t * H, rsrp))
    assert along.explanation("truck-7") is Cause.COVERAGE_LOSS
    back = OwnReadings()  # the same swing, but it ends where a stationary device would be
    for t, rsrp in enumerate((-124.0, -113.0, -94.0, -100.0)):
        back.apply(report(t * H, rsrp))
    assert back.explanation("truck-7") is None
    still = OwnReadings()  # at the edge and staying there: weak, swinging by a few dB
    for t, rsrp in enumerate((-116.0, -121.0, -117.0, -123.0)):
        still.apply(report(t * H, rsrp))
    assert still.explanation("truck-7") is None


def test_own_readings_name_a_device_that_fled_a_fading_cell_for_one_heard_at_the_edge():
    def readings(first, then):
        own = OwnReadings()
        for t, (cell, rsrp) in enumerate([*((4410, r) for r in first), *((4411, r) for r in then)]):
            own.apply(report(t * H, rsrp, cell=cell))
        return own.explanation("truck-7")

    # faded 17 dB to the floor on its cell, then a few dB more on the next: driving off
    fled = readings((-114.5, -119.6, -126.3, -131.9), (-122.6, -126.9, -129.2, -130.2, -131.3))
    assert fled is Cause.COVERAGE_LOSS
    # at the edge of both cells, swinging by a few dB: a still device between them
    assert readings((-121.0, -118.0, -122.0, -120.0), (-122.0, -121.0, -123.0, -122.0)) is None
    # it faded, but the next cell is heard well: it found coverage again
    assert readings((-114.5, -119.6, -126.3, -131.9), (-122.6, -98.0, -99.0, -100.0)) is None
    # faded to the floor, but the next cell was heard well for a while: the flight ended there
    heard = (-97.0, -98.0, -96.0, -97.0, -116.0, -117.0, -116.5, -117.5)
    assert readings((-104.0, -110.0, -125.0), heard) is None


def test_a_core_refusing_every_device_names_the_operator_over_its_one_cell():
    # a fleet on one cell of its operator: the cell and the operator hold the same devices
    ids, attributes = fleet([(12, HERD | {"firmware": "4.0"})])
    silent = Grouper()
    silent.update(H, ids, attributes, [True] * len(ids), None, reasons(ids))
    assert scopes(silent) == [("cell", "4410")]  # off air without a word: the narrowest
    refused = dict.fromkeys(ids, ("operator",))  # attach rejects with #17 from the core
    core = Grouper()
    core.update(H, ids, attributes, [True] * len(ids), None, reasons(ids, names=refused))
    assert scopes(core) == [("operator", "65501")]


def test_three_devices_the_core_refuses_are_an_incident_three_silent_ones_are_not():
    ids, attributes = fleet([(3, HERD | {"cell": "4411"}), (1, HERD)])
    quiet = [True] * len(ids)
    silent = Grouper()
    assert silent.update(H, ids, attributes, quiet, None, reasons(ids)) == ([], [])
    refused = dict.fromkeys(ids, ("operator",))
    core = Grouper()
    (opened,), _ = core.update(H, ids, attributes, quiet, None, reasons(ids, names=refused))
    assert scopes(core) == [("operator", "65501")]
    assert core.incidents[opened].quiet == set(ids)
    # the network's word for only some of them is not enough below `min_devices`
    some = dict.fromkeys(ids[:3], ("operator",))
    assert Grouper().update(H, ids, attributes, quiet, None, reasons(ids, names=some)) == ([], [])


def test_a_convoy_whose_last_reports_weakened_together_is_no_cell_outage():
    # 6 trucks alone on a cell: one fell 20 dB, four weakened by 10-19 dB, one held
    ids, attributes = fleet([(6, HERD | {"firmware": "4.1"})])
    quiet = [True] * len(ids)
    causes = {ids[0]: Cause.COVERAGE_LOSS}
    weakened = [d in ids[1:5] for d in ids]
    left = Reasons([causes.get(d) for d in ids], [()] * len(ids), weakened)
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    assert grouper.update(H, ids, attributes, quiet, None, left) == ([], [])
    # one fall and no weakening: a quarter is not reached, the cell went off air
    still = Reasons([causes.get(d) for d in ids], [()] * len(ids), [False] * len(ids))
    opened, _ = Grouper().update(H, ids, attributes, quiet, None, still)
    assert opened


def test_own_readings_say_a_newest_report_weakened_by_ten_db_not_a_still_swing():
    carried = OwnReadings()
    for t, rsrp in enumerate((-70.0, -69.0, -70.0, -82.0)):
        carried.apply(report(t * H, rsrp))
    assert carried.weakening("truck-7")
    assert carried.explanation("truck-7") is None  # alone, 12 dB explains nothing
    still = OwnReadings()
    for t, rsrp in enumerate((-90.0, -87.0, -92.0, -94.0)):
        still.apply(report(t * H, rsrp))
    assert not still.weakening("truck-7")
    few = OwnReadings()
    for t, rsrp in enumerate((-70.0, -85.0)):
        few.apply(report(t * H, rsrp))
    assert not few.weakening("truck-7")


def test_a_convoy_through_a_gap_some_of_it_back_on_another_cell_is_no_cell_outage():
    # 10 trucks alone on cell 4410 went quiet on a steady signal; 6 that left it with them
    # are back on cell 4420 after a silence past their lateness: they were out of coverage
    ids, attributes = fleet([(10, HERD), (6, HERD | {"cell": "4420"})])
    stuck, back = ids[:10], ids[10:]
    now = 2 * H
    reported = np.array([now - 50 * 60 if d in stuck else now - 5 * 60 for d in ids])
    timing = Timing(reported, reported + 22.5 * 60)
    quiet = [d in stuck for d in ids]

    def sweep(left):
        returned = [Returned("4410", None, left) if d in back else None for d in ids]
        told = Reasons([None] * len(ids), [()] * len(ids), [False] * len(ids), returned)
        grouper = Grouper()
        grouper.update(0.0, ids, attributes, [False] * len(ids))
        return grouper.update(now, ids, attributes, quiet, None, told, timing)

    assert sweep(left=now - 55 * 60) == ([], [])
    # back from a passage hours before these fell silent: the cell went off air since
    opened, _ = sweep(left=now - 5 * H)
    assert opened


def test_own_readings_say_where_a_device_came_back_from_after_a_silence():
    def readings(*cells_at):
        found = OwnReadings()
        for t, cell, network in cells_at:
            found.apply(
                report(t * 600.0, -90.0).model_copy(update={"cell_id": cell, "mcc_mnc": network})
            )
        return found.returned("truck-7")

    # every 10 min on 4410, then 40 min silent, then on 4420 of another network
    assert readings(
        (0, 4410, "65501"), (1, 4410, "65501"), (2, 4410, "65501"), (6, 4420, "65510")
    ) == Returned("4410", "65501", 1200.0)
    # the same operator: it came back through it (the operator was up)
    assert readings(
        (0, 4410, "65501"), (1, 4410, "65501"), (2, 4410, "65501"), (6, 4420, "65501")
    ) == Returned("4410", None, 1200.0)
    # a handover on its schedule is no silence; a silence back on the same cell is no move
    assert readings((0, 4410, "65501"), (1, 4410, "65501"), (2, 4420, "65501")) is None
    assert readings((0, 4410, "65501"), (1, 4410, "65501"), (5, 4410, "65501")) is None
