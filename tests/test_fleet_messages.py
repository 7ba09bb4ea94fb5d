"""One message for many: a customer's devices that share one cause, told in one e-mail."""

import pytest

from diagnostics.diagnosis.fleet import NAMES_LISTED, fleet_messages
from protocol.causes import Cause
from simlab.resources import bundled
from simlab.rundir import messages_markdown
from simlab.scenario import load_scenario
from simlab.scenario.checks import scenario_problems
from simlab.scoring import ExpectedDevice, ExpectedFleetMessage, ExpectedIncident, score
from tests.test_customer_messages import (
    FACTS,
    T0,
    H,
    diagnosis,
    jargon,
    long_sentences,
    sim_record,
)


def collar(n, cause=Cause.SIM_DEACTIVATED, *, account="savanna-kenya", started=T0, **kw):
    record = sim_record(
        iccid=f"89462000100000{n:04d}0", account=account, device_name=f"Giraffe collar {n}"
    )
    kw.setdefault("facts", FACTS | {"last_report": started + n * 60 - 0.5 * H})
    return diagnosis(
        cause, device_id=f"collar-{n:04d}", record=record, started=started + n * 60, **kw
    )


@pytest.mark.parametrize("language", ["en", "sv"])
def test_many_devices_with_one_cause_get_one_message_naming_them_and_counting_right(language):
    many = [collar(n) for n in range(1, 13)]
    others = [collar(n, Cause.BATTERY_DEPLETED) for n in (20, 21)]
    (message,) = fleet_messages([*many, *others], language)
    assert (message.account, message.cause, message.count) == (
        "savanna-kenya",
        "sim_deactivated",
        12,
    )
    assert message.device_ids == tuple(f"collar-{n:04d}" for n in range(1, 13))
    assert message.started == T0 + 60 - 0.5 * H, "the earliest of their last reports"
    assert message.subject.startswith("12 ")
    listed = [f"- Giraffe collar {n}" for n in range(1, NAMES_LISTED + 1)]
    lines = message.body.splitlines()
    first = lines.index(listed[0])
    assert lines[first : first + NAMES_LISTED] == listed
    assert lines[first + NAMES_LISTED] == ("- and 2 more" if language == "en" else "- och 2 till")
    assert "Giraffe collar 11" not in message.body
    assert " 12 " in message.body
    assert "05:46" in message.body, "from the earliest of them, in their zone"
    assert jargon(message.body) == []
    assert long_sentences(message.body) == []
    assert "ending 0010" not in message.body, "no single SIM card's digits"
    assert "slutar på" not in message.body


def test_the_steps_are_the_causes_once_and_service_resumes_when_all_do():
    many = [collar(n, Cause.DATA_LIMIT_REACHED, resumes=T0 + n * H) for n in range(1, 5)]
    (message,) = fleet_messages(many)
    assert message.resumes == T0 + 4 * H
    assert message.steps
    assert all("Giraffe collar" not in step for step in message.steps)
    assert message.body.count(message.steps[0]) == 1
    unknown = [*many, collar(9, Cause.DATA_LIMIT_REACHED, resumes=None)]
    assert fleet_messages(unknown)[0].resumes is None


def test_few_devices_other_accounts_and_unsure_diagnoses_get_no_fleet_message():
    assert fleet_messages([collar(1), collar(2)]) == []
    split = [collar(1), collar(2), collar(3, account="savanna-sweden"), collar(4, account="x")]
    assert fleet_messages(split) == []
    unsure = [
        collar(n, candidates=((Cause.SIM_DEACTIVATED, 0.6), (Cause.DAMAGED_SIM, 0.4)))
        for n in range(1, 6)
    ]
    assert fleet_messages(unsure) == []


def test_messages_md_puts_the_fleet_message_before_the_devices():
    (message,) = fleet_messages([collar(n) for n in range(1, 4)])
    fleet = [
        {
            "account": message.account,
            "cause": message.cause.value,
            "count": message.count,
            "device_ids": list(message.device_ids),
            "language": "en",
            "subject": message.subject,
            "body": message.body,
        }
    ]
    diagnoses = [{"device_id": "collar-0001", "diagnosis": {"cause": "sim_deactivated"}}]
    text = messages_markdown("Run", diagnoses, fleet)
    assert text.index("## Fleet message (en): 3 devices of savanna-kenya, sim_deactivated") < (
        text.index("## collar-0001")
    )
    assert "- **Devices**: collar-0001, collar-0002, collar-0003" in text
    assert "No device needed a diagnosis." in messages_markdown("Run", [], fleet)


def scored(key, found):
    """The scorecard of an answer key's incidents against the service's."""
    return score(expected=[], expected_incidents=key, truth=[], views={}, incidents=found)


def test_an_incident_of_another_kind_than_the_key_names_is_missed_and_spurious():
    key = [ExpectedIncident("account", "riego-norte", 0.0, "platform")]
    right = scored(key, [("account", "riego-norte", 5.0, "platform")])
    assert right.incidents[0].found
    assert right.spurious_incidents == []
    wrong = scored(key, [("account", "riego-norte", 5.0, "outage")])
    assert not wrong.incidents[0].found
    assert wrong.spurious_incidents == ["account (outage)=riego-norte"]
    either = scored([ExpectedIncident("cell", "7201", 0.0)], [("cell", "7201", 5.0, "outage")])
    assert either.incidents[0].found


def _deactivated_by(actor, n):
    facts = FACTS | {"last_report": T0 + n * 60 - 0.5 * H, "state_actor": actor}
    return collar(n, facts=facts)


def test_sims_deactivated_by_billing_get_billings_steps_once_for_all():
    (message,) = fleet_messages([_deactivated_by("billing", n) for n in range(1, 5)])
    assert message.subject == "4 of your devices: a SIM card deactivated by our billing department"
    assert message.steps == (
        (
            "Settle the payment our billing department asks for, or contact them if you believe "
            "it is already paid."
        ),
    )
    assert "You do not need to do anything." not in message.body
    mixed = [*(_deactivated_by("billing", n) for n in range(1, 4)), _deactivated_by("customer", 4)]
    (generic,) = fleet_messages(mixed)
    assert generic.subject == "4 of your devices: an inactive SIM card", "not billing's for all"
    assert "billing" not in generic.body


def _fleet_card(shown):
    expected = [ExpectedDevice(f"collar-{n:04d}", "sim_deactivated", 0.0) for n in (1, 2, 3)]
    return score(
        expected=expected,
        expected_incidents=[],
        truth=[],
        views={},
        incidents=[],
        fleet_expected=[ExpectedFleetMessage("savanna-kenya", "sim_deactivated", 3)],
        fleet_shown=shown,
    ).fleet_messages


def _shown(count, devices, account="savanna-kenya"):
    return {"account": account, "cause": "sim_deactivated", "count": count, "device_ids": devices}


def test_the_key_holds_a_fleet_message_to_its_count_and_devices():
    three = [f"collar-{n:04d}" for n in (1, 2, 3)]
    assert [m.found for m in _fleet_card([_shown(3, three), _shown(3, three)])] == [True]
    assert [m.found for m in _fleet_card([_shown(3, three), _shown(2, three[:2])])] == [False]
    assert [m.found for m in _fleet_card([_shown(3, [*three[:2], "collar-0009"])])] == [False]
    assert [m.found for m in _fleet_card([_shown(3, three, account="x")])] == [False]
    (missing,) = _fleet_card([])
    assert (missing.found, missing.shown, missing.count) == (False, (), 3)


def test_the_key_of_a_fleet_message_names_an_account_and_no_more_devices_than_its_cause():
    path = bundled() / "vending-franchise-cut-off.yaml"
    spec = load_scenario(path)
    wanted = [(m.account, m.cause.value, m.count) for m in spec.answer_key.fleet_messages]
    assert wanted == [("kafebox-thessaloniki", "sim_deactivated", 9)]
    (message,) = spec.answer_key.fleet_messages
    wrong = [message.model_copy(update={"count": 10, "account": "kafebox-patra"})]
    key = spec.answer_key.model_copy(update={"fleet_messages": wrong})
    problems = scenario_problems(spec.model_copy(update={"answer_key": key}))
    assert problems == [
        (
            ("answer_key", "fleet_messages", 0, "account"),
            (
                "unknown account 'kafebox-patra' in this world (known: kafebox, kafebox-attiki, "
                "kafebox-thessaloniki)"
            ),
        ),
        (
            ("answer_key", "fleet_messages", 0, "count"),
            "names 10 devices with sim_deactivated, but answer_key.devices lists 9",
        ),
    ]
