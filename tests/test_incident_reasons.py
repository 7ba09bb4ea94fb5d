"""Quiet with a reason of its own: explained devices, platform groups, tunnels, the tie rule.

The grouper on plain data (its `Reasons` given per device), and `SimReasons` reading
the network events and records that those reasons come from.
"""

import pytest

from diagnostics.incidents import Grouper, Reasons
from diagnostics.incidents_reasons import SimReasons
from protocol.causes import Cause
from protocol.messages import (
    AttachAccepted,
    AttachRejected,
    DataBlocked,
    Detached,
    FirmwareUpdate,
    SessionClosed,
    SessionOpened,
    SessionRejected,
    SimRecord,
    StateChanged,
)

H = 3600.0


def fleet(groups):
    """Devices as [(count, {dimension: value})]; returns (ids, attributes)."""
    ids, attributes = [], {}
    keys = {k for _, attrs in groups for k in attrs}
    for g, (count, attrs) in enumerate(groups):
        for n in range(count):
            ids.append(f"g{g}-{n:03d}")
            for key in keys:
                attributes.setdefault(key, []).append(attrs.get(key))
    return ids, attributes


def sweep(ids, attributes, down, causes=None, names=None):
    """A healthy sweep, then one with `down` quiet; the incidents open after it."""
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    reasons = Reasons([(causes or {}).get(d) for d in ids], [(names or {}).get(d, ()) for d in ids])
    quiet = [d in down for d in ids]
    grouper.update(H, ids, attributes, quiet, dict.fromkeys(down, H), reasons)
    return grouper.open_incidents()


CELL = {"cell": "7201", "operator": "722310", "apn": "datos.agro", "firmware": "2.8.1"}
OTHERS = {"cell": "7202", "apn": "public", "tunnel": None, "firmware": "1"}
"""Devices that share only the operator and the account with those of `CELL`."""


def test_deactivated_sims_in_a_shared_cell_open_no_cell_outage_but_their_own_group():
    # the account's 8 SIMs in cell 7201 are deactivated; 4 of another account share it fine
    ids, attributes = fleet(
        [
            (8, CELL | {"account": "norte"}),
            (17, CELL | {"cell": "7202", "account": "este"}),
            (4, CELL | {"account": "sur"}),
        ]
    )
    down = {d for d in ids if d.startswith("g0-")}
    before = sweep(ids, attributes, down)
    assert [(i.kind, i.dimension, i.value) for i in before] == [("outage", "cell", "7201")]
    after = sweep(ids, attributes, down, dict.fromkeys(down, Cause.SIM_DEACTIVATED))
    assert [(i.kind, i.dimension, i.value, i.cause) for i in after] == [
        ("platform", "account", "norte", "sim_deactivated")
    ]
    (group,) = after
    assert group.quiet == down
    assert (group.evidence.quiet, group.evidence.devices, group.evidence.p_value) == (8, 8, 0.0)


def test_a_few_sims_of_an_account_with_one_cause_are_no_group_of_it():
    # 8 of the account's 25 SIMs purged: each its own trouble, not the account's
    ids, attributes = fleet(
        [(8, CELL | {"account": "norte"}), (17, CELL | {"cell": "7202", "account": "norte"})]
    )
    down = {d for d in ids if d.startswith("g0-")}
    assert sweep(ids, attributes, down, dict.fromkeys(down, Cause.SIM_PURGED)) == []


def test_a_whole_pool_used_up_is_a_group_of_three():
    ids, attributes = fleet(
        [(3, CELL | {"account": "norte", "pool": "norte/p1"}), (20, CELL | {"cell": "7202"})]
    )
    down = {d for d in ids if d.startswith("g0-")}
    (pool,) = sweep(ids, attributes, down, dict.fromkeys(down, Cause.DATA_LIMIT_REACHED))
    assert (pool.kind, pool.dimension, pool.value, pool.quiet) == (
        "platform",
        "pool",
        "norte/p1",
        down,
    )


def test_a_platform_cause_of_too_few_of_the_account_is_no_group():
    ids, attributes = fleet(
        [(6, CELL | {"account": "norte"}), (30, CELL | {"cell": "7202", "account": "norte"})]
    )
    down = {d for d in ids if d.startswith("g0-")}
    assert sweep(ids, attributes, down, dict.fromkeys(down, Cause.DATA_LIMIT_REACHED)) == []


def test_explained_devices_leave_k_and_n_of_a_real_cell_outage():
    # 10 deactivated and 5 others in one cell; then the cell dies: 5 of 5 unexplained quiet
    ids, attributes = fleet([(10, CELL | {"account": "a"}), (5, CELL | {"account": "b"})])
    explained = {d for d in ids if d.startswith("g0-")}
    causes = dict.fromkeys(explained, Cause.SIM_DEACTIVATED)
    (cell, group) = sorted(sweep(ids, attributes, set(ids), causes), key=lambda i: i.kind)
    assert (cell.kind, cell.dimension, cell.value) == ("outage", "cell", "7201")
    assert cell.quiet == set(ids) - explained
    assert (cell.evidence.quiet, cell.evidence.devices) == (5, 5)
    assert (group.kind, group.value, group.quiet) == ("platform", "a", explained)


def test_a_device_refusal_keeps_a_device_out_of_network_groups_but_not_its_firmware():
    # a firmware writes a wrong APN on 8 of 20 devices of one cell: a firmware group, no cell
    ids, attributes = fleet(
        [(8, CELL | {"firmware": "2.9.0", "account": "a"}), (12, CELL | {"account": "a"})]
    )
    down = {d for d in ids if d.startswith("g0-")}
    incidents = sweep(ids, attributes, down, dict.fromkeys(down, Cause.WRONG_APN))
    assert [(i.kind, i.dimension, i.value) for i in incidents] == [("outage", "firmware", "2.9.0")]


@pytest.mark.parametrize(
    ("named", "expected"),
    [
        (("tunnel", "apn"), ("tunnel", "dc-1")),  # ESM #30: the tunnel, then the APN
        (("cell", "operator"), ("cell", "7201")),  # a congestion reject: the cell
        (("firmware",), ("firmware", "2.8.1")),  # an update not reported since
        ((), ("cell", "7201")),  # no word at all: the narrowest scope, the cell first
    ],
)
def test_the_tie_between_dimensions_holding_the_same_devices_goes_to_the_named_one(named, expected):
    attrs = CELL | {"tunnel": "dc-1", "account": "a"}
    ids, attributes = fleet([(12, attrs), (6, attrs | OTHERS)])
    down = {d for d in ids if d.startswith("g0-")}
    incidents = sweep(ids, attributes, down, names=dict.fromkeys(down, named))
    assert [(i.dimension, i.value) for i in incidents] == [expected]


def test_congestion_on_every_cell_of_an_operator_is_the_operators_outage():
    # nearly all on one cell, a few on the operator's other; the rejects name each cell
    attrs = CELL | {"tunnel": "dc-1", "account": "a"}
    ids, attributes = fleet([(40, attrs), (4, attrs | OTHERS)])
    down = set(ids)
    incidents = sweep(ids, attributes, down, names=dict.fromkeys(down, ("cell", "operator")))
    assert [(i.dimension, i.value, len(i.quiet)) for i in incidents] == [("operator", "722310", 44)]


def test_a_few_devices_naming_a_dimension_do_not_tip_the_tie():
    attrs = CELL | {"tunnel": "dc-1", "account": "a"}
    ids, attributes = fleet([(12, attrs), (6, attrs | OTHERS)])
    down = {d for d in ids if d.startswith("g0-")}
    incidents = sweep(ids, attributes, down, names={ids[0]: ("tunnel",), ids[1]: ("tunnel",)})
    assert [(i.dimension, i.value) for i in incidents] == [("cell", "7201")]


# ---- SimReasons: from the stream --------------------------------------------------------------

ICCID = "8954310071000000006"


def record(t, *, state="ACTIVATED", blocked=False, account="riego-norte"):
    return SimRecord(
        t=t, iccid=ICCID, imsi="722310071000000", msisdn=None, state=state, account=account,
        account_name="Pampa Riego Norte", communication_plan="pivot-ar", rate_plan="pivot-5mb",
        apns=["datos.agro"], networks=["AR"], radio_types=["LTE-M"], imei_lock=False,
        locked_imei=None, data_blocked=blocked, device_name=None, site=None, time_zone=None,
    )  # fmt: skip


def reasons_of(*messages):
    reasons = SimReasons()
    for message in messages:
        reasons.apply(message)
    return reasons


def test_the_state_and_the_block_explain_until_undone():
    deactivated = StateChanged(
        t=10, iccid=ICCID, old="ACTIVATED", new="DEACTIVATED", actor="operator", reason="billing"
    )
    assert reasons_of(record(0), deactivated).explanation(ICCID) is Cause.SIM_DEACTIVATED
    back = StateChanged(
        t=20, iccid=ICCID, old="DEACTIVATED", new="ACTIVATED", actor="operator", reason="paid"
    )
    assert reasons_of(record(0), deactivated, back).explanation(ICCID) is None
    assert reasons_of(record(0), back, deactivated).explanation(ICCID) is None, "newest wins"
    assert reasons_of(record(0, state="INVENTORY")).explanation(ICCID) is Cause.TEST_QUOTA_USED
    blocked = DataBlocked(t=5, iccid=ICCID, blocked=True, reason="cap")
    assert reasons_of(record(0), blocked).explanation(ICCID) is Cause.DATA_LIMIT_REACHED
    assert reasons_of(record(0), blocked, record(9)).explanation(ICCID) is None
    assert reasons_of(record(0)).record(ICCID, "account") == "riego-norte"


def test_rejects_explain_until_an_accept_and_name_what_they_point_at():
    imei = AttachRejected(t=5, iccid=ICCID, mcc_mnc="722310", cell_id=1, rat="LTE-M", emm_cause=6)
    accepted = AttachAccepted(t=6, iccid=ICCID, mcc_mnc="722310", cell_id=1, rat="LTE-M")
    assert reasons_of(imei).explanation(ICCID) is Cause.IMEI_BLACKLISTED
    assert reasons_of(imei, accepted).explanation(ICCID) is None
    busy = AttachRejected(t=5, iccid=ICCID, mcc_mnc="722310", cell_id=1, rat="LTE-M", emm_cause=22)
    assert reasons_of(busy).explanation(ICCID) is None, "congestion is the network's"
    assert reasons_of(busy).names(ICCID, last_report=0) == ("cell", "operator")
    gateway = SessionRejected(t=5, iccid=ICCID, apn="reefer.x", esm_cause=30, tunnel="dc-1")
    said = reasons_of(gateway)
    assert (said.explanation(ICCID), said.names(ICCID, last_report=0)) == (None, ("tunnel", "apn"))
    assert said.tunnel(ICCID) == "dc-1"
    opened = SessionOpened(t=6, iccid=ICCID, session_id=1, apn="datos.agro", ip="10.0.0.1")
    wrong = SessionRejected(t=5, iccid=ICCID, apn="internet", esm_cause=27)
    assert reasons_of(wrong).explanation(ICCID) is Cause.WRONG_APN
    assert reasons_of(wrong, opened).explanation(ICCID) is None


def test_the_firmware_comes_from_an_update_the_device_has_not_reported_since():
    update = FirmwareUpdate(t=100, iccid=ICCID, version="3.3.0", state="updating")
    said = reasons_of(update)
    assert said.firmware(ICCID, reported="3.2.0", at=90) == "3.3.0"
    assert said.names(ICCID, last_report=90) == ("firmware",)
    assert said.firmware(ICCID, reported="3.2.0", at=110) == "3.2.0", "a newer report wins"
    assert said.names(ICCID, last_report=110) == ()
    assert said.firmware(ICCID, reported=None, at=None) == "3.3.0", "never reported at all"
    failed = FirmwareUpdate(t=100, iccid=ICCID, version="3.3.0", state="idle", result=8)
    assert reasons_of(failed).firmware(ICCID, reported="3.2.0", at=90) == "3.2.0"
    assert SimReasons().firmware(None, reported="1", at=None) == "1"


def test_a_member_explained_later_leaves_the_open_outage():
    ids, attributes = fleet(
        [(30, CELL | {"account": "a"}), (40, CELL | {"cell": "7202", "account": "a"})]
    )
    down = {d for d in ids if d.startswith("g0-")}
    grouper = Grouper()
    grouper.update(0.0, ids, attributes, [False] * len(ids))
    quiet = [d in down for d in ids]
    (opened,), _ = grouper.update(H, ids, attributes, quiet, dict.fromkeys(down, H))
    later = {ids[0]: Cause.IMEI_BLACKLISTED}
    reasons = Reasons([later.get(d) for d in ids], [()] * len(ids))
    grouper.update(2 * H, ids, attributes, quiet, dict.fromkeys(down, H), reasons)
    incident = grouper.incidents[opened]
    assert incident.open
    assert incident.quiet == down - {ids[0]}
    assert (incident.evidence.quiet, incident.evidence.devices) == (29, 29)


def test_a_pool_used_up_is_one_pool_group_not_also_its_accounts():
    pooled = CELL | {"account": "utrecht", "pool": "utrecht/dock-pool"}
    ids, attributes = fleet([(9, pooled), (3, CELL | {"account": "utrecht", "pool": None})])
    down = {d for d in ids if d.startswith("g0-")}
    incidents = sweep(ids, attributes, down, dict.fromkeys(down, Cause.DATA_LIMIT_REACHED))
    assert [(i.kind, i.dimension, i.value, i.cause) for i in incidents] == [
        ("platform", "pool", "utrecht/dock-pool", "data_limit_reached")
    ]
    assert incidents[0].quiet == down


def test_a_group_counts_every_device_the_attribute_puts_in_it_even_those_explained():
    # 20 devices of cell 7201: 12 go quiet with the cell, 3 more are quiet because their
    # SIMs were deactivated; the staff line says "12 of 20", not "12 of 17"
    ids, attributes = fleet(
        [
            (12, CELL | {"account": "norte"}),
            (3, CELL | {"account": "sur"}),
            (5, CELL | {"account": "este"}),
            (30, CELL | {"cell": "7202", "account": "oeste"}),
        ]
    )
    cell = {d for d in ids if d[:3] in ("g0-", "g1-")}
    explained = {d for d in ids if d.startswith("g1-")}
    incident, sur = sweep(ids, attributes, cell, dict.fromkeys(explained, Cause.SIM_DEACTIVATED))
    assert (incident.dimension, incident.value) == ("cell", "7201")
    assert (sur.kind, sur.value, sur.counts_at(H)) == ("platform", "sur", (3, 3))
    assert incident.evidence.devices == 17  # the test's n leaves the explained ones out
    assert incident.counts_at(H) == (12, 20)


def test_devices_kept_out_for_retrying_too_fast_on_the_groups_reject_are_quiet_with_it():
    # 12 of 20 on the APN rejected by its gateway; 4 more, whose firmware retries too fast
    # on the same reject, are kept out of the test but are quiet with the APN all the same
    ids, attributes = fleet([(12, CELL | {"account": "norte"}), (4, CELL), (4, CELL)])
    down = {d for d in ids if not d.startswith("g2-")}
    storm = {d for d in ids if d.startswith("g1-")}
    names = dict.fromkeys(down, ("apn", "tunnel"))
    (incident,) = sweep(ids, attributes, down, dict.fromkeys(storm, Cause.RECONNECT_STORM), names)
    assert (incident.dimension, incident.evidence.quiet, incident.evidence.devices) == (
        "apn",
        12,
        16,
    )
    assert incident.counts_at(H) == (16, 20)


def test_a_session_the_network_closed_names_its_apn_or_tunnel_until_one_opens_again():
    opened = SessionOpened(t=1, iccid=ICCID, session_id=1, apn="datos.agro", ip="10.0.0.1")
    closed = SessionClosed(
        t=5, iccid=ICCID, session_id=1, apn="datos.agro", bytes=10, reason="network"
    )
    by_device = closed.model_copy(update={"reason": "device"})
    tunnelled = closed.model_copy(update={"tunnel": "dc1"})
    again = opened.model_copy(update={"t": 9, "session_id": 2})
    assert reasons_of(opened, closed).names(ICCID, last_report=0) == ("apn",)
    assert reasons_of(opened, tunnelled).names(ICCID, last_report=0) == ("tunnel", "apn")
    assert reasons_of(opened, by_device).names(ICCID, last_report=0) == ()
    assert reasons_of(opened, closed, again).names(ICCID, last_report=0) == ()
    assert reasons_of(opened, closed).explanation(ICCID) is None  # a group's word, no own
    congested = AttachRejected(
        t=6, iccid=ICCID, mcc_mnc="722310", cell_id=7201, rat="LTE-M", emm_cause=22
    )
    assert reasons_of(opened, closed, congested).names(ICCID, last_report=0) == (
        "cell",
        "operator",
    )  # refused on the air: its session closed with the cell, not by the gateway


def test_an_apns_devices_gone_quiet_without_a_word_of_the_core_are_no_apn_outage():
    # 12 devices, all of their APN's, silent over two cells among 80 others of their account
    apn = {"apn": "internet.m2m", "account": "b"}
    ids, attributes = fleet(
        [
            (6, CELL | apn),
            (6, CELL | apn | {"cell": "7202"}),
            (40, CELL | {"account": "b"}),
            (40, CELL | {"account": "b", "cell": "7202"}),
        ]
    )
    down = {d for d in ids if d[:3] in ("g0-", "g1-")}
    assert sweep(ids, attributes, down) == []  # left together on a good signal: no outage
    named = dict.fromkeys(sorted(down)[:3], ("apn",))  # the gateway closed 3 of their sessions
    (incident,) = sweep(ids, attributes, down, names=named)
    assert (incident.dimension, incident.value) == ("apn", "internet.m2m")


def test_an_implicit_detach_after_the_last_report_names_the_radio_lost_until_attached():
    accepted = AttachAccepted(
        t=1, iccid=ICCID, mcc_mnc="722310", cell_id=7201, rat="LTE-M", t3412_s=3240.0
    )
    detached = Detached(t=80, iccid=ICCID, reason="implicit")
    by_device = Detached(t=80, iccid=ICCID, reason="device")
    again = accepted.model_copy(update={"t": 90})
    assert reasons_of(accepted, detached).names(ICCID, last_report=20) == ("radio",)
    assert reasons_of(accepted, detached).names(ICCID, last_report=85) == ()  # heard since
    assert reasons_of(accepted, by_device).names(ICCID, last_report=20) == ()
    assert reasons_of(accepted, detached, again).names(ICCID, last_report=20) == ()
    assert reasons_of(accepted, again, detached).names(ICCID, last_report=20) == ()  # any order
    assert reasons_of(accepted).timer(ICCID) == 3240.0
    assert SimReasons().timer(ICCID) is None
