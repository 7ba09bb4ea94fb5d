"""Each pair of the inseparable table puts the same messages on the wire in the same world.

The shape of the wire (`simlab.fuzz.wire_shape`) is the device's and its SIM's
messages from the fault on, without identifiers and timings; for a pair of
`protocol.inseparable` it is the same for both faults, with and without a
battery reported. A pair that is not in the table differs.
"""

from __future__ import annotations

import pytest

from protocol.causes import Cause
from protocol.inseparable import INSEPARABLE, Inseparable, separable_by
from simlab.fuzz.wire_shape import shape
from simulator.world import keyed
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from tests.world_fixtures import START, collars, world

pytestmark = pytest.mark.unit

AT = 6 * 3600.0
LOOK = 4 * 3600.0
DEVICE = "collar-0001"
SEED = 5
SPARSE = {"report_interval": "6h", "report_jitter": "0s", "psm": True}
"""Collars that sleep longer than coverage takes to fade (3 h)."""
SPARSE_S = 6 * 3600.0
REPORTING = {
    frozenset({Cause.POWER_LOSS, Cause.COVERAGE_LOSS}): SPARSE,
    frozenset({Cause.POWER_LOSS, Cause.RADIO_HARDWARE}): SPARSE,
}
"""The devices a pair holds for, where it does not hold for every device."""


def fault_at(reporting: dict | None) -> float:
    """When the fault strikes: for sparse collars, a minute after the victim's second report.

    Its next report is then a whole sleep away, after coverage has faded: what makes the
    pair inseparable for them. The victim's first report is at its first wake (see `keyed`).
    """
    if reporting is not SPARSE:
        return AT
    key = keyed.device_key(keyed.group_key(SEED, "collar"), 1)
    return keyed.uniform(key, keyed.Draw.FIRST_WAKE) * SPARSE_S + SPARSE_S + 60.0


def wire(
    fault: str, battery: float | None, reporting: dict | None = None, look: float = LOOK
) -> list[tuple[object, ...]]:
    at = fault_at(reporting)
    spec = world(
        devices=[collars(4, battery_mah=battery, **(reporting or {}))],
        faults=[{"fault": fault, "at": at, "devices": [DEVICE]}],
        seed=SEED,
    )
    sink = MemorySink()
    result = simulate(spec, sink, until=at + look)
    assert result.error is None, result.error
    iccid = next(m.iccid for m in sink.messages if getattr(m, "device_id", None) == DEVICE)
    t0 = START.timestamp()
    return shape(sink.messages, device_id=DEVICE, iccid=iccid, since=t0 + at, until=t0 + at + look)


def _look(pair: Inseparable) -> float:
    """Long enough for the network to detach a device of the pair's reporting implicitly."""
    return 2 * LOOK + 6 * 3600.0 if pair.causes in REPORTING else LOOK


@pytest.mark.parametrize("battery", [None, 6000.0], ids=["mains", "battery"])
@pytest.mark.parametrize("pair", INSEPARABLE, ids=lambda p: "-".join(sorted(p.causes)))
def test_both_faults_put_the_same_messages_on_the_wire(pair, battery) -> None:
    first, other = sorted(pair.causes)
    reporting, look = REPORTING.get(pair.causes), _look(pair)
    seen = wire(first.value, battery, reporting, look)
    assert seen, "the fault leaves the device's messages empty: nothing was compared"
    assert seen == wire(other.value, battery, reporting, look)


def test_a_pair_outside_the_table_differs_on_the_wire() -> None:
    assert separable_by("power_loss", "firmware_hang") is None
    assert wire("power_loss", None) != wire("firmware_hang", None)


def test_a_device_that_reports_often_shows_a_coverage_fade_that_a_power_cut_has_not() -> None:
    assert wire("coverage_loss", None) != wire("power_loss", None)  # 15 min reports, 3 h fade


def test_the_table_names_each_pair_once_with_its_test() -> None:
    assert separable_by("damaged_sim", "power_loss") == "swap"
    assert separable_by("coverage_loss", "power_loss") == "swap"
    assert separable_by("radio_hardware", "power_loss") == "shows power"
    assert len({p.causes for p in INSEPARABLE}) == len(INSEPARABLE)


def test_a_device_that_reports_often_shows_the_step_of_a_broken_antenna() -> None:
    assert wire("radio_hardware", None) != wire("power_loss", None)  # 15 min reports, 1 h step
