"""A world spec whose parts do not fit together is refused with the path of each bad field."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlab.scenario import format_span
from simulator.world.simulate import simulate
from simulator.world.sinks import MemorySink
from simulator.world.spec import WorldSpec, parse_duration
from simulator.world.spec_problems import world_problems
from tests.world_fixtures import CUSTOMER, collars, world


def problems(**kwargs):
    return [(loc, message) for loc, message in world_problems(world(**kwargs))]


def test_a_fitting_world_has_no_problems():
    assert problems() == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90.0), ("15m", 900.0), ("36h", 129_600.0), ("2d", 172_800.0), ("7", 7.0)],
)
def test_durations_read_as_seconds(text, seconds):
    assert parse_duration(text) == seconds


def test_a_bad_duration_names_the_forms_it_takes():
    with pytest.raises(ValueError, match=r"write e\.g\. 90s, 15m, 36h or 2d"):
        parse_duration("soon")


def test_devices_whose_sims_were_not_onboarded():
    assert problems(devices=[collars(count=25)]) == [
        (
            ("devices", 0, "first_iccid"),
            "25 SIMs from 8946200050000000009 are not all in sim_ranges",
        ),
    ]


def test_device_ids_must_be_unique_and_fit_in_a_topic():
    assert problems(devices=[collars(id_format="collar {n}")])[0] == (
        ("devices", 0, "id_format"),
        "device id 'collar 1' must be letters, digits, '_.-'",
    )
    assert problems(devices=[collars(id_format="collar")]) == [
        (("devices", 0, "id_format"), "device id 'collar' is used twice"),
    ]


def test_timeline_names_only_what_exists():
    found = problems(
        faults=[
            {"fault": "power_loss", "at": "1h", "devices": ["collar-0001", "collar-0009"]},
            {"fault": "cell_outage", "at": "1h", "cell": 999},
            {"fault": "operator_outage", "at": "1h", "operator": "99999"},
            {"fault": "apn_gateway_outage", "at": "1h", "apn": "no.such.apn"},
            {"fault": "ipsec_tunnel_down", "at": "1h", "tunnel": "nowhere"},
        ],
        swaps=[{"at": "1h", "device": "collar-0001", "into": "collar-0077"}],
        fault_rates=[{"fault": "power_loss", "per_device_day": 1, "group": "meters"}],
    )
    assert found == [
        (("faults", 0, "devices", 1), "power_loss: unknown device 'collar-0009'"),
        (("faults", 1, "cell"), "cell_outage: unknown cell 999"),
        (("faults", 2, "operator"), "operator_outage: unknown operator '99999'"),
        (("faults", 3, "apn"), "apn_gateway_outage: unknown apn 'no.such.apn'"),
        (("faults", 4, "tunnel"), "ipsec_tunnel_down: unknown tunnel 'nowhere'"),
        (("swaps", 0, "into"), "unknown device 'collar-0077'"),
        (("fault_rates", 0, "group"), "unknown device group 'meters'"),
    ]


def test_cells_need_a_known_operator_and_their_own_id():
    spec = world().model_dump()
    spec["cells"].append({**spec["cells"][0], "operator": "99999"})
    assert world_problems(WorldSpec.model_validate(spec)) == [
        (("cells", 4, "operator"), "unknown operator '99999'"),
        (("cells", 4, "id"), "cell 101 is defined twice"),
    ]


def test_customer_problems_are_reported_under_customer():
    customer = copy.deepcopy(CUSTOMER)
    customer["sim_ranges"][0]["rate_plan"] = "gold"
    [(loc, message)] = problems(customer=customer)
    assert loc == ("customer", "sim_ranges", 0, "rate_plan")
    assert message.startswith("unknown rate plan 'gold'")


def test_simulate_runs_nothing_and_lists_the_problems():
    sink = MemorySink()
    spec = world(faults=[{"fault": "power_loss", "at": "1h", "devices": ["collar-0042"]}])
    result = simulate(spec, sink, until=3600)
    assert result.error == "faults[0].devices[0]: power_loss: unknown device 'collar-0042'"
    assert sink.messages == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2h10m", 7800.0), ("1d2h", 93_600.0), ("45m30s", 2730.0), ("1h 30m 15s", 5415.0)],
)
def test_durations_read_as_simlab_prints_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2m1h", "1h1h", "1h x", "h", "1h-5m"])
def test_a_compound_duration_goes_from_days_down_each_unit_once(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=400 * 86_400))
def test_what_simlab_prints_reads_back_as_the_same_seconds(seconds):
    assert parse_duration(format_span(seconds)) == seconds
