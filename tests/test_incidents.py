"""The grouper on plain data: the binomial test, thresholds, narrowest scope, silences."""

import math
import random

import pytest

from diagnostics.incidents import Grouper, IncidentSettings, binomial_tail

H = 3600.0


def fleet(cells, *, operator=None, apn="iot.savanna", account="savanna", firmware="1.0"):
    """Devices per cell as {cell: count}; returns (ids, attributes)."""
    ids, cell_of = [], []
    for cell, count in cells.items():
        for n in range(count):
            ids.append(f"d{cell}-{n:04d}")
            cell_of.append(str(cell))
    size = len(ids)
    attributes = {
        "cell": cell_of,
        "operator": [operator(c) if operator else "63902" for c in cell_of],
        "apn": [apn] * size,
        "account": [account] * size,
        "firmware": [firmware] * size,
    }
    return ids, attributes


def quiet_of(ids, down):
    return [d in down for d in ids]


def test_binomial_tail_matches_the_exact_sum():
    def exact(k, n, p):
        return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))

    for k, n, p in [(0, 10, 0.3), (3, 10, 0.3), (5, 20, 0.005), (10, 10, 0.5), (1, 1, 0.2)]:
        assert binomial_tail(k, n, p) == pytest.approx(exact(k, n, p), rel=1e-9)
    assert binomial_tail(11, 10, 0.5) == 0.0
    assert binomial_tail(200, 200, 0.005) < 1e-300 or binomial_tail(200, 200, 0.005) == 0.0
    assert 0.0 < binomial_tail(5, 100, 0.005) < 0.001  # 5 of 100 at 0.5% is an outage
    assert binomial_tail(2, 100, 0.01) > 0.001  # 2 of 100 at 1% is not


def test_a_cell_outage_is_one_cell_incident_not_also_operator_apn_account_firmware():
    ids, attributes = fleet({101: 200, 102: 40})
    down = {d for d in ids if d.startswith("d101-")}
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, quiet_of(ids, set()))
    opened, closed = grouper.update(H, ids, attributes, quiet_of(ids, down), dict.fromkeys(down, H))
    assert closed == []
    assert len(opened) == 1
    incident = grouper.incidents[opened[0]]
    assert (incident.dimension, incident.value) == ("cell", "101")
    assert incident.quiet == down
    assert incident.evidence.quiet == 200
    assert incident.evidence.devices == 200
    assert incident.evidence.p_value < 1e-100
    assert set(grouper.incident_of()) == down
    # still going: the same incident, nothing new
    assert grouper.update(2 * H, ids, attributes, quiet_of(ids, down)) == ([], [])
    # every member recovered, so it closes
    opened, closed = grouper.update(3 * H, ids, attributes, quiet_of(ids, set()))
    assert (opened, closed) == ([], [incident.id])
    assert incident.closed_at == 3 * H
    assert grouper.incident_of() == {}


def test_an_operator_outage_over_two_cells_is_one_operator_incident():
    ids, attributes = fleet({101: 50, 102: 50, 201: 50}, operator=lambda c: c[0])
    down = {d for d in ids if not d.startswith("d201-")}
    grouper = Grouper()
    opened, _ = grouper.update(H, ids, attributes, quiet_of(ids, down))
    assert [(grouper.incidents[i].dimension, grouper.incidents[i].value) for i in opened] == [
        ("operator", "1")
    ]
    assert grouper.incidents[opened[0]].quiet == down


def test_two_cells_down_on_one_operator_among_many_are_two_cell_incidents():
    ids, attributes = fleet(dict.fromkeys(range(100, 120), 30))
    down = {d for d in ids if d.startswith(("d101-", "d102-"))}
    grouper = Grouper()
    opened, _ = grouper.update(H, ids, attributes, quiet_of(ids, down))
    scopes = sorted((grouper.incidents[i].dimension, grouper.incidents[i].value) for i in opened)
    assert scopes == [("cell", "101"), ("cell", "102")]


def test_one_cell_off_air_is_the_cell_not_its_operator_though_two_apns_span_it():
    ids, attributes = fleet({100: 120})  # the operator's only cell that serves the fleet
    attributes["apn"] = ["iot.a" if n % 2 else "iot.b" for n in range(len(ids))]
    grouper = Grouper()
    opened, _ = grouper.update(H, ids, attributes, quiet_of(ids, set(ids)))
    assert [(grouper.incidents[i].dimension, grouper.incidents[i].value) for i in opened] == [
        ("cell", "100")
    ]


def test_thresholds_min_devices_and_min_share():
    ids, attributes = fleet({101: 10, 102: 100})
    grouper = Grouper()
    four = {f"d101-{n:04d}" for n in range(4)}
    assert grouper.update(H, ids, attributes, quiet_of(ids, four)) == ([], [])
    # 19 of 100 is below 20%, 20 of 100 is not
    nineteen = {f"d102-{n:04d}" for n in range(19)}
    assert Grouper().update(H, ids, attributes, quiet_of(ids, nineteen)) == ([], [])
    twenty = {f"d102-{n:04d}" for n in range(20)}
    opened, _ = Grouper().update(H, ids, attributes, quiet_of(ids, twenty))
    assert len(opened) == 1
    # settings are configurable
    strict = Grouper(IncidentSettings(min_devices=30))
    assert strict.update(H, ids, attributes, quiet_of(ids, twenty)) == ([], [])


def test_the_binomial_test_uses_the_groups_learned_normal_rate():
    ids, attributes = fleet({101: 20})
    flaky = {f"d101-{n:04d}" for n in range(6)}  # 30% of the cell is always quiet
    grouper = Grouper()
    first, _ = grouper.update(0.0, ids, attributes, quiet_of(ids, flaky))
    assert len(first) == 1, "with the 0.5% prior, 6 of 20 is an outage"
    learner = Grouper(IncidentSettings(baseline_tau=H))
    for step in range(1, 30):
        # learned while no incident explains them: half the cell quiet, then recovering
        half = {f"d101-{n:04d}" for n in range(4)}
        learner.update(step * H, ids, attributes, quiet_of(ids, half))
    assert learner.normal_rate("cell", "101") == pytest.approx(0.2, rel=0.05)
    assert learner.update(31 * H, ids, attributes, quiet_of(ids, flaky)) == ([], [])


def test_a_random_scatter_of_failures_gives_no_incident():
    rng = random.Random(3)
    ids, attributes = fleet(dict.fromkeys(range(100, 150), 40))
    grouper = Grouper()
    for step in range(48):
        down = {d for d in ids if rng.random() < 0.01}
        assert grouper.update(step * H, ids, attributes, quiet_of(ids, down)) == ([], [])
    assert grouper.incidents == {}


def test_a_silence_mutes_an_incident_until_it_expires_but_detection_goes_on():
    ids, attributes = fleet({101: 20, 102: 20})
    down = {d for d in ids if d.startswith("d101-")}
    grouper = Grouper()
    silence = grouper.silence("cell", "101", now=0.0, until=2 * H, reason="tower work")
    opened, _ = grouper.update(H, ids, attributes, quiet_of(ids, down))
    incident = grouper.incidents[opened[0]]
    assert incident.muted
    assert incident.silence_id == silence.id
    grouper.update(3 * H, ids, attributes, quiet_of(ids, down))
    assert incident.open
    assert not incident.muted, "the silence expired"
    with pytest.raises(ValueError, match="dimension"):
        grouper.silence("planet", "earth", now=0.0, until=H)
    with pytest.raises(ValueError, match="expire"):
        grouper.silence("cell", "101", now=H, until=H)


def test_an_incident_grows_with_late_members_and_devices_without_attributes_are_ignored():
    ids, attributes = fleet({101: 20, 102: 20})
    attributes["cell"][-1] = None
    first = {f"d101-{n:04d}" for n in range(10)}
    grouper = Grouper()
    (incident_id,), _ = grouper.update(H, ids, attributes, quiet_of(ids, first))
    everyone = {d for d in ids if d.startswith("d101-")}
    assert grouper.update(2 * H, ids, attributes, quiet_of(ids, everyone)) == ([], [])
    assert grouper.incidents[incident_id].quiet == everyone
