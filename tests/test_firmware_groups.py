"""Firmware groups: quiet beyond the place, devices that break TS.34, silence after an update."""

import math

import pytest

from diagnostics.diagnosis.model import Case, Seen, Status
from diagnostics.diagnosis.update import check_update
from diagnostics.incidents import Grouper, Reasons
from diagnostics.incidents_places import stratified_tail
from diagnostics.misbehaving import TimerWatch
from protocol.causes import Cause
from protocol.messages import AttachAccepted, Detached, FirmwareUpdate, Telemetry

H = 3600.0
T = 1_775_000_000.0
ICCID, IMEI = "8946200000000000011", "350008901000011"


def site_fleet(sites):
    """Devices per (cell, firmware) as {(cell, firmware): count}; returns (ids, attributes)."""
    ids, cells, versions = [], [], []
    for (cell, firmware), count in sites.items():
        for n in range(count):
            ids.append(f"d{cell}-{firmware}-{n:03d}")
            cells.append(cell)
            versions.append(firmware)
    size = len(ids)
    attributes = {
        "cell": cells,
        "operator": ["63902"] * size,
        "apn": ["iot.lakeside"] * size,
        "account": ["lakeside"] * size,
        "firmware": versions,
    }
    return ids, attributes


def opened(grouper):
    return sorted((i.dimension, i.value) for i in grouper.open_incidents())


def test_the_stratified_tail_is_the_exact_sum_of_one_draw_per_place():
    # one place: Fisher's exact tail; 5 quiet of 10, all 5 among the group's 8
    assert stratified_tail([(8, 2, 5)], 5) == pytest.approx(math.comb(8, 5) / math.comb(10, 5))
    # a place with no other device decides nothing; none anywhere: nothing to compare
    assert stratified_tail([(8, 2, 5), (4, 0, 4)], 9) == pytest.approx(56 / 252)
    assert stratified_tail([(8, 0, 5)], 5) is None
    assert stratified_tail([(20, 20, 10)], 0) == pytest.approx(1.0)


def test_a_cell_down_beside_one_sites_firmware_is_the_cells_incident():
    # eight meters of 4.0 and two of 3.1 share cell 100; five of the eight go quiet first
    ids, attributes = site_fleet({("100", "4.0"): 8, ("100", "3.1"): 2, ("101", "3.1"): 30})
    quiet = [d.startswith("d100-4.0-00") and int(d[-1]) < 5 for d in ids]
    grouper = Grouper()
    grouper.update(10 * H, ids, attributes, quiet)
    assert opened(grouper) == [("cell", "100")]


def test_a_firmware_quiet_beyond_other_versions_in_its_cells_is_the_firmwares():
    ids, attributes = site_fleet(
        {("100", "4.0"): 10, ("100", "3.1"): 20, ("101", "4.0"): 10, ("101", "3.1"): 20}
    )
    quiet = ["-4.0-" in d for d in ids]
    grouper = Grouper()
    grouper.update(10 * H, ids, attributes, quiet)
    assert opened(grouper) == [("firmware", "4.0")]


def test_three_devices_updated_to_a_version_and_refused_since_are_that_versions_incident():
    """An update that writes a wrong APN into three lift monitors of seven: each refused,
    none reporting since it; the server named the version for each, so three suffice."""
    ids, attributes = site_fleet({("100", "1.5.7+ota"): 3, ("100", "3.3.1"): 4})
    struck = ["+ota" in d for d in ids]
    causes = [Cause.WRONG_APN if x else None for x in struck]
    reasons = Reasons(causes, [("firmware",) if x else () for x in struck])
    grouper = Grouper()
    grouper.update(10 * H, ids, attributes, struck, reasons=reasons)
    assert opened(grouper) == [("firmware", "1.5.7+ota")]
    # the same three without the server's word: three quiet are too few to be a pattern
    grouper = Grouper()
    grouper.update(10 * H, ids, attributes, struck, reasons=Reasons(causes, [()] * len(ids)))
    assert opened(grouper) == []


def test_devices_refused_for_their_own_identity_make_no_group_of_their_version():
    """Six of a version's seven units black-listed by IMEI: their quiet is each unit's own,
    which no version brings; six refused their APN, which a version writes, are its."""
    ids, attributes = site_fleet({("100", "5.5.7"): 7, ("100", "3.3.1"): 30})
    refused = [d.startswith("d100-5.5.7-") and int(d[-3:]) < 6 for d in ids]
    for cause, scopes in ((Cause.IMEI_BLACKLISTED, []), (Cause.WRONG_APN, [("firmware", "5.5.7")])):
        reasons = Reasons([cause if x else None for x in refused], [()] * len(ids))
        grouper = Grouper()
        grouper.update(10 * H, ids, attributes, refused, reasons=reasons)
        assert opened(grouper) == scopes, cause


def test_devices_updated_after_their_batteries_ran_out_are_no_incident_of_the_version():
    """Fifty-five bikes whose batteries ran out, then all updated over the air to 3.1.0: the
    update names the version for each, their own last reports explain them all."""
    ids, attributes = site_fleet({("100", "3.1.0"): 55, ("101", "2.0"): 30})
    flat = ["-3.1.0-" in d for d in ids]
    causes = [Cause.BATTERY_DEPLETED if x else None for x in flat]
    reasons = Reasons(causes, [("firmware",) if x else () for x in flat])
    grouper = Grouper()
    grouper.update(10 * H, ids, attributes, flat, reasons=reasons)
    assert opened(grouper) == []


def test_devices_in_a_reboot_loop_are_their_firmwares_though_their_cell_holds_only_them():
    # 4.0 alone in cell 102 and two of it in cell 104 beside thirty of 3.1; each reboots
    ids, attributes = site_fleet({("102", "4.0"): 8, ("104", "4.0"): 2, ("104", "3.1"): 30})
    looping = ["-4.0-" in d for d in ids]
    reasons = Reasons([Cause.RECONNECT_STORM if x else None for x in looping], [()] * len(ids))
    grouper = Grouper()
    grouper.update(10 * H, ids, attributes, looping, reasons=reasons)
    assert opened(grouper) == [("firmware", "4.0")]


def test_the_watch_counts_modem_resets_per_hour_as_the_diagnosis_does():
    watch = TimerWatch()

    def reset(t):
        watch.apply("c-1", Detached(t=t, iccid=ICCID, imei=IMEI, reason="device"))
        watch.apply(
            "c-1",
            AttachAccepted(
                t=t + 20, iccid=ICCID, imei=IMEI, mcc_mnc="63902", cell_id=101, rat="LTE-M"
            ),
        )

    reset(T)
    assert watch.misbehaving(T + 60) == set(), "one reset an hour is allowed"
    reset(T + 600)
    assert watch.misbehaving(T + 660) == {"c-1"}
    assert watch.misbehaving(T + 600 + H + 60) == set(), "an hour later it is forgotten"


def _report(t, seq):
    return Telemetry(
        t=t,
        device_id="m-1",
        iccid=ICCID,
        imei=IMEI,
        seq=seq,
        firmware="5.2.7",
        battery=None,
        supply_mv=None,
        bearer="LTE-M",
        mcc_mnc="63902",
        cell_id=101,
        rsrp=-80.0,
        rsrq=-9.0,
        snr=12.0,
        apn="iot.lakeside",
        ip="10.0.0.11",
        uptime_s=600,
    )


def _case(now, *, reported_since_update=False):
    update = FirmwareUpdate(t=T, iccid=ICCID, imei=IMEI, version="5.3.0", state="updating")
    device = [Seen(1, _report(T - 1800, 1))]
    if reported_since_update:
        device.append(Seen(3, _report(T + 300, 2)))
    return Case(
        now=now,
        device_id="m-1",
        iccid=ICCID,
        detection_status="LATE",
        interval_s=H,
        device=tuple(device),
        network=(Seen(2, update),),
    )


def test_a_device_silent_since_its_update_for_longer_than_its_schedule_hung():
    hung = check_update(_case(T + 1.6 * H))
    assert (hung.status, hung.decisive) == (Status.BROKE, True)
    assert [c.cause for c in hung.candidates] == [Cause.FIRMWARE_HANG]
    assert check_update(_case(T + 1.4 * H)).status is Status.UNKNOWN, "not due yet"
    back = check_update(_case(T + 1.6 * H, reported_since_update=True))
    assert back.status is Status.OK
