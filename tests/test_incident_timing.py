"""A group heard from since its quiet devices fell silent is no outage: their silence is theirs."""

import numpy as np
import pytest

from diagnostics.incidents import Grouper, Reasons, Timing
from diagnostics.incidents_timing import joined, together
from protocol.causes import Cause

pytestmark = pytest.mark.unit

M = 60.0
INTERVAL = 30 * M


def one_cell_fleet(count):
    """`count` devices on cell 100, the operator's only cell here."""
    ids = [f"d{n:04d}" for n in range(count)]
    attributes = {
        "cell": ["100"] * count,
        "operator": ["24001"] * count,
        "apn": ["iot.a"] * count,
        "account": ["acme"] * count,
        "firmware": ["1.0"] * count,
    }
    return ids, attributes


def timing(ids, reported):
    """Each device's last report (`reported`, by id) and the moment it is late (1.5 intervals)."""
    last = np.array([reported[d] for d in ids], np.float64)
    return Timing(last, last + 1.5 * INTERVAL + 3 * M)


def opened_scopes(grouper, opened):
    return sorted((grouper.incidents[i].dimension, grouper.incidents[i].value) for i in opened)


def test_devices_silent_on_a_cell_its_other_devices_report_through_are_no_outage():
    ids, attributes = one_cell_fleet(40)
    broken = set(ids[:9])  # their radios broke at 0; the rest report on, every 30 minutes
    now = 60 * M
    reported = {d: (-5 * M if d in broken else now - 10 * M) for d in ids}
    quiet = [d in broken for d in ids]
    grouper = Grouper()
    assert grouper.update(now, ids, attributes, quiet, timing=timing(ids, reported)) == ([], [])
    # the same silence, the cell's other devices not heard since (late, not quiet yet): off air
    reported = {d: (-5 * M if d in broken else -1 * M) for d in ids}
    grouper = Grouper()
    opened, _ = grouper.update(now, ids, attributes, quiet, timing=timing(ids, reported))
    assert opened_scopes(grouper, opened) == [("cell", "100")]


def test_a_sleeping_cell_heard_through_tracking_area_updates_after_its_quiet_were_let_go():
    """Sleepers report every 10 h and update their tracking area every 3 h: the network's word.

    Nine fall silent at 0 (their batteries fail) and are let go at 3 h; by then the cell's
    other devices have updated through it, so the cell was up: no outage, though none of
    them has reported since and the nine are not late by their reports for hours yet.
    """
    h = 60 * M
    ids, attributes = one_cell_fleet(26)
    attributes |= {"firmware": [None] * 26, "account": [None] * 26}  # the network's groups only
    gone = set(ids[:9])
    now = 3.5 * h
    last = np.array([-2 * h] * len(ids), np.float64)
    late = last + 15 * h
    lost = np.array([3 * h if d in gone else np.nan for d in ids])
    updated = np.array([-1 * h if d in gone else 3.2 * h for d in ids])
    quiet = [d in gone for d in ids]
    heard = Timing(last, late, contact=updated, lost=lost)
    assert Grouper().update(now, ids, attributes, quiet, timing=heard) == ([], [])
    # without the updates (the cell's others last heard before the nine went): off air
    before = Timing(last, late, contact=np.where(np.isnan(lost), -1.5 * h, -1 * h), lost=lost)
    grouper = Grouper()
    opened, _ = grouper.update(now, ids, attributes, quiet, timing=before)
    assert opened_scopes(grouper, opened) == [("cell", "100")]
    # nor do the updates prove it up before the nine were let go, their reports not late yet
    unheard = Timing(last, late, contact=updated)
    grouper = Grouper()
    opened, _ = grouper.update(now, ids, attributes, quiet, timing=unheard)
    assert opened_scopes(grouper, opened) == [("cell", "100")]


def test_a_cell_the_network_names_stays_an_outage_however_its_other_devices_report():
    ids, attributes = one_cell_fleet(40)
    rejected = set(ids[:9])  # a congestion reject names the cell for each of them
    now = 60 * M
    reported = {d: (-5 * M if d in rejected else now - 10 * M) for d in ids}
    names = [("cell", "operator") if d in rejected else () for d in ids]
    reasons = Reasons([None] * len(ids), names)
    quiet = [d in rejected for d in ids]
    grouper = Grouper()
    opened, _ = grouper.update(
        now, ids, attributes, quiet, reasons=reasons, timing=timing(ids, reported)
    )
    assert opened_scopes(grouper, opened) == [("cell", "100")]


def test_a_firmware_group_falling_silent_one_by_one_stays_a_candidate_when_others_report():
    ids, attributes = one_cell_fleet(40)
    attributes["cell"] = [str(100 + n % 4) for n in range(40)]  # spread over four cells
    hung = set(ids[:12])
    now = 30 * 60 * M
    # one every two hours: each hangs long after the one before was late
    reported = {d: (n * 120 * M if d in hung else now - 5 * M) for n, d in enumerate(ids)}
    rows = [i for i, d in enumerate(ids) if d in hung]
    assert not together(rows, timing(ids, reported))
    grouper = Grouper()
    quiet = [d in hung for d in ids]
    opened, _ = grouper.update(now, ids, attributes, quiet, timing=timing(ids, reported))
    assert opened_scopes(grouper, opened) == [("firmware", "1.0")]
    # the same twelve silent from one moment while the version's others report on: theirs
    reported = {d: (0.0 if d in hung else now - 5 * M) for d in ids}
    assert together(rows, timing(ids, reported))
    grouper = Grouper()
    assert grouper.update(now, ids, attributes, quiet, timing=timing(ids, reported)) == ([], [])


def test_devices_quiet_hours_before_an_outage_are_not_of_it_unless_the_network_names_them():
    # 30 of 40 devices fell silent at 0 with the cell; 4 had been silent since 6 hours before
    # (their own trouble), and 2 of those the network's word names for the cell
    ids, attributes = one_cell_fleet(40)
    down, before = set(ids[:30]), set(ids[30:34])
    named_before = set(ids[32:34])
    now = 40 * M  # the 6 others reported last at -20 minutes, not since the cell went off air
    reported = {d: -10 * M if d in down else -6 * 3600.0 if d in before else -20 * M for d in ids}
    names = [("cell",) if d in named_before else () for d in ids]
    quiet = [d in down | before for d in ids]
    grouper = Grouper()
    opened, _ = grouper.update(
        now,
        ids,
        attributes,
        quiet,
        reasons=Reasons([None] * 40, names),
        timing=timing(ids, reported),
    )
    (incident,) = (grouper.incidents[i] for i in opened)
    assert (incident.dimension, incident.quiet) == ("cell", down | named_before)
    assert incident.counts_at(now) == (32, 40)


def test_devices_that_fell_silent_one_by_one_all_stay_in_their_group():
    # a firmware leak: each hangs at its own moment, no moment holds most of them
    ids, _ = one_cell_fleet(40)
    hung = ids[:12]
    now = 30 * 3600.0
    reported = {d: (n * 2 * 3600.0 if d in hung else now - M) for n, d in enumerate(ids)}
    rows = range(12)
    assert joined(rows, [], timing(ids, reported)) == frozenset(rows)


def test_the_moment_of_an_outage_the_network_names_is_that_of_the_devices_it_names():
    # 3 devices refused by the gateway just now; 4 others quiet since hours before, more of
    # them than the refused: the outage's moment is the refused ones', the 4 are not of it
    ids, _ = one_cell_fleet(7)
    reported = {d: (-10 * M if n < 3 else -6 * 3600.0) for n, d in enumerate(ids)}
    assert joined(range(7), [0, 1, 2], timing(ids, reported)) == frozenset({0, 1, 2})


def test_a_silent_firmware_group_waits_for_the_network_to_say_whether_it_lost_them():
    # the 12 devices of firmware 2.0 silent at once on a cell whose 36 others report on
    ids = [f"d{n:04d}" for n in range(48)]
    attributes = {
        "cell": ["100"] * 48,
        "operator": ["24001"] * 48,
        "apn": ["iot.a"] * 48,
        "account": ["acme"] * 48,
        "firmware": ["2.0"] * 12 + ["1.0"] * 36,
    }
    silent = set(ids[:12])
    quiet = [d in silent for d in ids]

    def sweep(now, names=(), cause=None):
        last = np.array([-10 * M if d in silent else now - M for d in ids])
        reach = last + INTERVAL + 3240.0 + 240.0
        grouper = Grouper()
        grouper.update(0.0, ids, attributes, [False] * 48)
        causes = [cause if d in silent else None for d in ids]
        reasons = Reasons(causes, [names if d in silent else () for d in ids])
        timing = Timing(last, last + 1.5 * INTERVAL, reach)
        opened, _ = grouper.update(now, ids, attributes, quiet, reasons=reasons, timing=timing)
        return opened_scopes(grouper, opened)

    assert sweep(45 * M) == []  # within their reachable timers: not yet
    assert sweep(83 * M) == []  # five minutes past the estimate: the network may yet say so
    assert sweep(90 * M) == [("firmware", "2.0")]
    assert sweep(2 * 3600.0) == [("firmware", "2.0")]  # still registered after: a hang
    assert sweep(2 * 3600.0, ("radio",)) == []  # the network let them go: they left
    # rebooting in a loop, the network hears them all the while: nothing to wait for
    assert sweep(45 * M, cause=Cause.RECONNECT_STORM) == [("firmware", "2.0")]


def test_a_gateways_refusals_stand_beside_a_convoy_gone_from_the_same_apn_before():
    """Forty devices of one APN left coverage at 0 on falling signals; at 2 h the APN's
    gateway fails and refuses the other sixty: the network names the APN for most of the
    quiet, so the APN is an outage of the sixty, the convoy left out."""
    h = 60 * M
    ids, attributes = one_cell_fleet(100)
    attributes |= {"cell": ["100"] * 60 + ["101"] * 40, "firmware": [None] * 100}
    convoy, refused = set(ids[60:]), set(ids[:60])
    now = 3 * h
    last = np.array([-5 * M if d in convoy else 2 * h - 5 * M for d in ids])
    quiet = [True] * 100
    names = [("apn", "tunnel") if d in refused else ("radio",) for d in ids]
    causes = [Cause.COVERAGE_LOSS if d in convoy else None for d in ids]
    grouper = Grouper()
    timing = Timing(last, last + 1.5 * INTERVAL + 3 * M)
    opened, _ = grouper.update(
        now, ids, attributes, quiet, reasons=Reasons(causes, names), timing=timing
    )
    (incident,) = (grouper.incidents[i] for i in opened)
    assert (incident.dimension, incident.value) == ("apn", "iot.a")
    assert incident.quiet == refused
