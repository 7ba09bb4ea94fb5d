"""Every message about a device that is down says what to do next, whatever its certainty.

A sure cause has its template's steps; an unsure one without a test the customer can
run gets what the customer can look at for each candidate (each cause's `look`) and a
reply; a quiet device with no cause yet gets the first checks on site; a late one what
to check if it stays silent. None asks for a test already done, or speaks of a battery
the device never reported.
"""

from __future__ import annotations

import pytest

from diagnostics.diagnosis.messages import LANGUAGES, customer_message
from protocol.causes import Cause
from simlab.fuzz.words import BATTERY_ADVICE, STOP_WORDS, SWAP_ASK
from tests.test_customer_messages import FACTS, T0, H, diagnosis

pytestmark = pytest.mark.unit

COVERAGE_OR_POWER = ((Cause.COVERAGE_LOSS, 0.6), (Cause.POWER_LOSS, 0.4))


def unsure(candidates, **kwargs):
    return diagnosis(candidates[0][0], candidates=candidates, confidence=0.6, **kwargs)


def test_an_unsure_message_without_a_customer_test_says_what_to_look_at_for_each_cause():
    m = customer_message(unsure(COVERAGE_OR_POWER))
    assert m.steps == (
        (
            "Tell us whether Giraffe collar 7 may have moved, and if you can reach it, check "
            "that its antenna is undamaged and not covered."
        ),
        "Check that Giraffe collar 7 has power: cables, plug and fuse.",
        "Reply to this e-mail with what you find, and we will tell you what we see.",
    )
    assert "You do not need to do anything yet." not in m.body
    assert len(customer_message(unsure(COVERAGE_OR_POWER), "sv").steps) == 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_down_message_has_steps(language):
    pairs = [(a, b) for a in Cause for b in Cause if a is not b]
    customer_side = {Cause.POWER_LOSS, Cause.COVERAGE_LOSS, Cause.FIRMWARE_HANG}
    for a, b in pairs:
        if {a, b} & customer_side:
            assert customer_message(unsure(((a, 0.6), (b, 0.4))), language).steps, (a, b)
    unknown = diagnosis(None, verdict="OFFLINE", confidence=0.0)
    assert len(customer_message(unknown, language).steps) == 3


def test_a_look_speaks_of_the_battery_only_where_the_device_reported_one():
    battery_or_coverage = ((Cause.BATTERY_DEPLETED, 0.6), (Cause.COVERAGE_LOSS, 0.4))
    with_level = customer_message(unsure(battery_or_coverage)).body.lower()
    assert "check the battery of giraffe collar 7, and recharge or replace it" in with_level
    facts = {k: v for k, v in FACTS.items() if k not in {"battery", "battery_reported"}}
    without = customer_message(unsure(battery_or_coverage, facts=facts))
    assert "Check the power supply of Giraffe collar 7." in without.steps
    assert not any(a in without.body.lower() for a in (*BATTERY_ADVICE, "battery of"))


def test_a_registered_swap_test_is_not_asked_for_again_in_the_looks():
    facts = FACTS | {"swap_registered": T0 + H}
    d = unsure(
        ((Cause.DAMAGED_SIM, 0.6), (Cause.POWER_LOSS, 0.4)),
        facts=facts,
        separating_test="Run a SIM swap test: the suspect SIM into a device that works",
    )
    m = customer_message(d)
    assert m.steps[-1].startswith("Reply to this e-mail")
    assert not any(ask in m.body.lower() for ask in SWAP_ASK)


def test_a_late_device_is_told_what_to_check_if_it_stays_silent():
    late = customer_message(diagnosis(None, verdict="LATE", confidence=1.0, started=None))
    assert late.steps == (
        (
            "If Giraffe collar 7 has not reported by 2 March 2026 at 14:30 (Africa/Nairobi "
            "time), check that it has power."
        ),
    )
    online = diagnosis(None, verdict="ONLINE", confidence=1.0, started=None)
    assert customer_message(online).steps == ()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_purged_sim_of_a_device_that_never_reported_is_not_said_to_have_stopped(language):
    facts = {k: v for k, v in FACTS.items() if k != "last_report"}
    body = customer_message(diagnosis(Cause.SIM_PURGED, facts=facts), language).body.lower()
    assert not any(word in body for word in (*STOP_WORDS, "stopped", "slutat"))
