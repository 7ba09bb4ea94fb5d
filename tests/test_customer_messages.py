"""Customer messages: every cause in both languages, the writing rules, and golden e-mails.

Every message (each cause, and the healthy, unknown-down, no-data and unsure
variants, in English and Swedish) is held to the rules of "Writing to the
customer": no network jargon or internal numbers, sentences of at most 25 words,
the device's name, the SIM card's last four digits and a time in the customer's
zone, the APN named only where the customer must type it, "SIM card" and never
"subscription", and steps numbered 1..n in the body.

How sentences are counted (`sentences`): the text is cut into lines; a step's
"1. " marker is dropped; each line is cut after ".", "!" or "?" followed by
white space, except after the Swedish abbreviation "kl." ("klockan"). A line
without an end mark (the greeting, the steps heading, the closing) is one
sentence. Words are what `str.split` finds.

Golden messages live in tests/golden/messages/<name>.<language>.txt: the subject
line, a blank line, then the body. After an intended change of wording,
regenerate them and read the diff before committing:

    SIMLAB_UPDATE_GOLDEN=1 pytest tests/test_customer_messages.py
"""

import math
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from diagnostics.diagnosis import messages as messages_module
from diagnostics.diagnosis.messages import (
    LANGUAGES,
    TEMPLATES,
    CustomerMessage,
    customer_message,
    customer_values,
)
from diagnostics.diagnosis.model import Candidate, Diagnosis
from protocol.causes import Cause
from protocol.messages import SimRecord

GOLDEN = Path(__file__).parent / "golden" / "messages"
UPDATE_GOLDEN = os.environ.get("SIMLAB_UPDATE_GOLDEN") == "1"

NAIROBI = ZoneInfo("Africa/Nairobi")
T0 = datetime(2026, 3, 2, 6, 15, tzinfo=NAIROBI).timestamp()
"""When the giraffe's collar went quiet: 2 March 2026, 06:15 in Nairobi."""
H = 3600.0

APN_EXPECTED = "iot.public"
APN_USED = "iot.pub1ic"
APN_OTHER = "tracker.savanna"
NETWORK = "20801"
RSRP = -121.0

MAX_WORDS = 25

# ---- the rules ----------------------------------------------------------------------------------

JARGON = [
    r"\bEMM\b",
    r"\bESM\b",
    r"\bPDP\b",
    r"\bPDN\b",
    r"\bHSS\b",
    r"\bPLMN\b",
    r"\bIMSI\b",
    r"\bMCC\b",
    r"\bMNC\b",
    r"\bT3346\b",
    r"\bT3396\b",
    r"\bRSRP\b",
    r"\bdBm\b",
    r"\bIPsec\b",
    r"\bMQTT\b",
    r"#\s*\d+",  # "#11"
    r"\bcause\s+(?:code\s+)?\d+",
    r"\borsak\s+\d+",
    r"\b\d{5,}\b",  # network codes, whole ICCIDs, IMEIs
    r"\b[a-z]+_[a-z_]+\b",  # ids such as roaming_not_allowed or TEST_READY
    r"\battach\w*",
    r"\bback-?off\b",
    r"\bforbidden\b",
    r"\bprovision\w*",
    r"\bcommunication plan\b",
    r"\bsubscription\w*",
    r"\babonnemang\w*",
    r"\bline\b",
    r"\blinje\w*",
]
"""Words and patterns a customer message never contains (case-insensitive)."""

STATE_NAMES = re.compile(
    r"\b(?:TEST_READY|INVENTORY|ACTIVATION_READY|ACTIVATED|DEACTIVATED|RETIRED|PURGED|TRIAL)\b"
)
"""The platform's state names, as staff see them (case-sensitive)."""

APN_WORD = re.compile(r"\bAPN", re.IGNORECASE)
APN_CAUSES = {Cause.WRONG_APN, Cause.PRIVATE_APN_CREDENTIALS}
"""The messages that may say "APN": where the customer must change an APN setting."""

LOCAL_TIME = {
    "en": re.compile(r"\b\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d \(Africa/Nairobi time\)"),
    "sv": re.compile(r"\b\d{1,2} [a-zåäö]+ \d{4} kl\. \d\d:\d\d \(tidszon Africa/Nairobi\)"),
}
SIM_TERM = {"en": re.compile(r"\bSIM\b(?! cards?\b)"), "sv": re.compile(r"\bSIM\b(?!-kort)")}
"""A SIM card is always called one ("SIM card", "SIM-kort")."""

_STEP_MARK = re.compile(r"^\d+\.\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\bkl\.)\s+")


def sentences(text):
    """The sentences of a message, as the module docstring defines them."""
    found = []
    for line in text.splitlines():
        stripped = _STEP_MARK.sub("", line.strip())
        found += [s for s in _SENTENCE_END.split(stripped) if s]
    return found


def jargon(text):
    found = [m.group() for p in JARGON for m in re.finditer(p, text, re.IGNORECASE)]
    return found + STATE_NAMES.findall(text)


def long_sentences(text):
    return [s for s in sentences(text) if len(s.split()) > MAX_WORDS]


def numbered(body):
    return [(int(m[1]), m[2]) for m in re.finditer(r"^(\d+)\. (.+)$", body, re.MULTILINE)]


# ---- building diagnoses -------------------------------------------------------------------------


def sim_record(**changes):
    fields = {
        "t": T0 - 30 * 86400,
        "iccid": "8946200010000000072",
        "imsi": "240070000000069",
        "msisdn": None,
        "state": "ACTIVATED",
        "account": "savanna-kenya",
        "account_name": "Savanna Trackers Kenya",
        "communication_plan": "collar-roaming",
        "rate_plan": "collar-5mb",
        "apns": [APN_OTHER, APN_EXPECTED],
        "networks": ["63902", "64005", "UG"],
        "radio_types": ["LTE-M", "NB-IoT"],
        "imei_lock": False,
        "locked_imei": None,
        "data_blocked": False,
        "device_name": "Giraffe collar 7",
        "site": "Maasai Mara",
        "time_zone": "Africa/Nairobi",
    }
    return SimRecord(**(fields | changes))


FACTS = {
    "last_report": T0 - 0.5 * H,
    "battery_reported": T0 - 0.5 * H,
    "sim_worked": T0 - 3 * H,
    "battery": 4.0,
    "rsrp": RSRP,
    "apn_used": APN_USED,
    "apn_expected": APN_EXPECTED,
    "network": NETWORK,
    "country": "FR",
    "radio": "NB-IoT",
    "radio_allowed": "LTE-M",
    "state": "DEACTIVATED",
    "state_reason": "unpaid invoice",
    "limit_mb": 5.0,
    "cycle_end": T0 + 20 * 86400,
    "backoff_until": T0 + 2 * H,
    "imei_new": "356938035643817",
    "imei_locked": "356938035643809",
}
"""Every fact the checks may report, as they would for the giraffe's collar."""

HIDDEN = [APN_USED, NETWORK, "121", "DEACTIVATED", "unpaid invoice", "356938035643817"]
"""Facts a message uses but never shows as they are."""


def diagnosis(
    cause,
    *,
    candidates=None,
    confidence=0.9,
    verdict="OFFLINE",
    facts=None,
    record=None,
    separating_test=None,
    started=T0,
    resumes=None,
    at=T0 + 4 * H + 5 * 60,
    device_id="collar-0007",
    no_record=False,
):
    if candidates is None:
        candidates = () if cause is None else ((cause, confidence),)
    if record is None and not no_record:
        record = sim_record()
    return Diagnosis(
        device_id=device_id,
        iccid=record.iccid if record else None,
        at=at,
        detection_status=verdict,
        cause=cause,
        confidence=confidence,
        candidates=tuple(Candidate(c, p) for c, p in candidates),
        decided_by=None if cause is None else "registration",
        summary="",
        fix=None,
        next_step=None,
        separating_test=separating_test,
        checks=(),
        started=started,
        resumes=resumes,
        facts=dict(FACTS if facts is None else facts),
        record=record,
    )


CASES = {str(cause): diagnosis(cause) for cause in Cause} | {
    "healthy": diagnosis(None, verdict="ONLINE", confidence=1.0, started=None),
    "asleep": diagnosis(None, verdict="ASLEEP", confidence=1.0, started=None, facts={}),
    "late": diagnosis(None, verdict="LATE", confidence=1.0, started=None),
    "unknown-down": diagnosis(None, verdict="OFFLINE", confidence=0.0),
    "no-data": diagnosis(None, verdict="UNKNOWN", confidence=0.0, started=None),
    "unsure-battery-coverage": diagnosis(
        Cause.BATTERY_DEPLETED,
        candidates=((Cause.BATTERY_DEPLETED, 0.8), (Cause.COVERAGE_LOSS, 0.2)),
        confidence=0.8,
    ),
    "unsure-swap": diagnosis(
        Cause.DAMAGED_SIM,
        candidates=(
            (Cause.DAMAGED_SIM, 0.5),
            (Cause.POWER_LOSS, 0.3),
            (Cause.FIRMWARE_HANG, 0.2),
        ),
        confidence=0.5,
        separating_test="SIM swap test: the SIM into a known-good device and back",
        record=sim_record(imei_lock=True, locked_imei="356938035643809"),
    ),
    "unsure-wrong-apn": diagnosis(
        Cause.WRONG_APN,
        candidates=((Cause.WRONG_APN, 0.6), (Cause.APN_GATEWAY_OUTAGE, 0.4)),
        confidence=0.6,
    ),
    "unsure-still-reporting": diagnosis(
        Cause.RECONNECT_STORM,
        candidates=((Cause.RECONNECT_STORM, 0.6),),
        confidence=0.6,
        verdict="ONLINE",
        separating_test="power-cycle the device and watch its sessions",
    ),
}
"""Every kind of message, with the full facts of the giraffe's collar."""

MESSAGES = [(name, language) for name in CASES for language in LANGUAGES]


def message(name, language):
    return customer_message(CASES[name], language)


def text_of(m):
    return f"{m.subject}\n{m.body}"


# ---- the splitter -------------------------------------------------------------------------------


def test_sentences_splits_lines_steps_and_sentence_ends():
    text = "Hello,\n\nA b. C d!\n\nWhat to do:\n1. One two.\n2. Three? Four.\n\nKind regards,\nOps"
    assert sentences(text) == [
        "Hello,",
        "A b.",
        "C d!",
        "What to do:",
        "One two.",
        "Three?",
        "Four.",
        "Kind regards,",
        "Ops",
    ]


def test_sentences_keeps_abbreviations_dotted_names_and_decimals_whole():
    assert sentences("Den tystnade den 2 mars 2026 kl. 06:15 (UTC). Sedan inget.") == [
        "Den tystnade den 2 mars 2026 kl. 06:15 (UTC).",
        "Sedan inget.",
    ]
    assert sentences("Set the APN to exactly: iot.public") == ["Set the APN to exactly: iot.public"]
    assert sentences("The limit is 5.5 MB. Data is blocked.") == [
        "The limit is 5.5 MB.",
        "Data is blocked.",
    ]


def test_the_rules_catch_what_they_are_for():
    assert jargon("Attach reject EMM #11 on PLMN 20801, cause 11, TEST_READY, IPsec.")
    assert jargon("Your subscription was DEACTIVATED.")
    assert not jargon("Giraffe collar 7 (SIM card ending 0072) stopped on 2 March 2026.")
    assert long_sentences(" ".join(["word"] * 26) + ".")
    assert not long_sentences(" ".join(["word"] * 25) + ".")


# ---- every message, both languages --------------------------------------------------------------


def test_every_cause_has_a_template_in_every_language():
    assert tuple(TEMPLATES) == LANGUAGES
    for language in LANGUAGES:
        assert set(TEMPLATES[language]) == set(Cause), language
        for cause, template in TEMPLATES[language].items():
            assert template.what, (language, cause)
            assert template.check, (language, cause)


@pytest.mark.parametrize(("name", "language"), MESSAGES)
def test_no_jargon_and_no_internal_values(name, language):
    text = text_of(message(name, language))
    assert jargon(text) == []
    for hidden in HIDDEN:
        assert hidden not in text


@pytest.mark.parametrize(("name", "language"), MESSAGES)
def test_sentences_have_at_most_25_words(name, language):
    m = message(name, language)
    assert long_sentences(m.subject) == []
    assert long_sentences(m.body) == []


@pytest.mark.parametrize(("name", "language"), MESSAGES)
def test_the_customers_terms(name, language):
    m = message(name, language)
    assert "Giraffe collar 7" in m.subject
    assert "Giraffe collar 7" in m.body
    assert "0072" in m.body
    assert "Maasai Mara" in m.body
    assert LOCAL_TIME[language].search(m.body), m.body
    assert SIM_TERM[language].findall(text_of(m)) == []


@pytest.mark.parametrize(("name", "language"), MESSAGES)
def test_the_apn_is_named_only_where_the_customer_must_set_it(name, language):
    d = CASES[name]
    text = text_of(message(name, language))
    certain = len(d.candidates) == 1 and d.confidence >= messages_module.CONFIDENT
    assert APN_USED not in text
    assert APN_OTHER not in text
    if d.cause is Cause.WRONG_APN and certain:
        assert re.search(rf"(?<![\w.]){re.escape(APN_EXPECTED)}$", text, re.MULTILINE)
    else:
        assert APN_EXPECTED not in text
    if d.cause not in APN_CAUSES:
        assert not APN_WORD.search(text)


@pytest.mark.parametrize(("name", "language"), MESSAGES)
def test_steps_are_numbered_one_to_n_in_the_body(name, language):
    m = message(name, language)
    if len(m.steps) > 1:
        assert numbered(m.body) == list(enumerate(m.steps, start=1))
    else:
        assert numbered(m.body) == []
        for step in m.steps:
            assert f"\n\n{step}\n\n" in m.body


@pytest.mark.parametrize(("name", "language"), MESSAGES)
def test_greeting_first_signature_last(name, language):
    m = customer_message(CASES[name], language, signature="Savanna support desk")
    assert isinstance(m, CustomerMessage)
    assert m.language == language
    assert m.body.startswith({"en": "Hello,\n\n", "sv": "Hej,\n\n"}[language])
    assert m.body.endswith("\nSavanna support desk")
    assert "\n\n\n" not in m.body
    assert all(line == line.strip() for line in m.body.splitlines())


@pytest.mark.parametrize("name", list(CASES))
def test_both_languages_give_the_same_steps_and_paragraphs(name):
    en, sv = (message(name, language) for language in LANGUAGES)
    assert len(en.steps) == len(sv.steps)
    assert en.body.count("\n\n") == sv.body.count("\n\n")


@pytest.mark.parametrize("cause", list(Cause))
@pytest.mark.parametrize("language", LANGUAGES)
def test_without_a_record_or_facts_the_message_still_follows_the_rules(cause, language):
    d = diagnosis(cause, no_record=True, facts={}, started=None)
    m = customer_message(d, language)
    assert jargon(text_of(m)) == []
    assert long_sentences(text_of(m)) == []
    assert {"en": "your device collar-0007", "sv": "er enhet collar-0007"}[language] in (
        text_of(m).lower()
    )
    assert "(UTC)" in m.body or not re.search(r"\d\d:\d\d", m.body)


# ---- what each kind of message says -------------------------------------------------------------


def test_unknown_language_names_itself_and_the_supported_ones():
    with pytest.raises(ValueError, match=r"'fi'.*en, sv"):
        customer_message(CASES["healthy"], "fi")


def test_times_are_in_the_customers_zone_with_the_zone_named():
    en = message(str(Cause.SIM_DEACTIVATED), "en")
    sv = message(str(Cause.SIM_DEACTIVATED), "sv")
    # the stop moment is the last report (half an hour before the trouble was found)
    assert "on 2 March 2026 at 05:45 (Africa/Nairobi time)" in en.body
    assert "den 2 mars 2026 kl. 05:45 (tidszon Africa/Nairobi)" in sv.body


@pytest.mark.parametrize("zone", [None, "Mars/Olympus_Mons", "UTC"])
def test_an_unknown_zone_falls_back_to_utc_and_says_so(zone):
    d = diagnosis(Cause.SIM_DEACTIVATED, record=sim_record(time_zone=zone))
    assert "on 2 March 2026 at 02:45 (UTC)" in customer_message(d).body


def test_the_network_is_described_by_its_country():
    facts = FACTS | {"country": ""}
    d = diagnosis(Cause.ROAMING_NOT_ALLOWED, facts=facts)
    assert "a mobile network in France" in customer_message(d, "en").body
    assert "ett mobilnät i Frankrike" in customer_message(d, "sv").body
    unknown = diagnosis(Cause.ROAMING_NOT_ALLOWED, facts=facts | {"network": "99901"})
    body = customer_message(unknown, "en").body
    assert "France" not in body
    assert "It tried to connect through a mobile network it found." in body


def test_an_unsure_diagnosis_says_what_we_check_and_when_we_write_again():
    m = message("unsure-battery-coverage", "en")
    assert "The most likely cause is a flat battery." in m.body
    assert "It could also be weak mobile coverage where the device is." in m.body
    assert "We will also check the mobile coverage around Maasai Mara." in m.body
    assert "We will write to you again by 2 March 2026 at 14:30 (Africa/Nairobi time)." in m.body
    assert m.steps == (
        "Check the battery of Giraffe collar 7, and recharge or replace it if it is low.",
        (
            "Tell us whether Giraffe collar 7 may have moved, and if you can reach it, check that "
            "its antenna is undamaged and not covered."
        ),
        "Reply to this e-mail with what you find, and we will tell you what we see.",
    )
    assert "You do not need to do anything yet." not in m.body


def test_a_swap_test_is_explained_in_the_customers_terms():
    m = message("unsure-swap", "en")
    assert "swapping SIM cards between two devices" in m.body
    assert m.steps[0].startswith("Before you start")  # the SIM card is locked to its device
    assert "Put the SIM card ending 0072 in the working device" in m.steps[2]
    assert len(m.steps) == 5


def test_an_impossible_swap_asks_the_customer_for_nothing():
    d = diagnosis(
        Cause.DAMAGED_SIM,
        candidates=((Cause.DAMAGED_SIM, 0.5), (Cause.FIRMWARE_HANG, 0.5)),
        confidence=0.5,
        separating_test="A SIM swap test is impossible: the SIM is out of reach.",
    )
    for language in LANGUAGES:
        assert customer_message(d, language).steps == ()


def test_a_healthy_device_gets_its_last_report_time():
    m = message("healthy", "en")
    assert m.subject == "Giraffe collar 7 is reporting normally"
    assert "Its last report arrived on 2 March 2026 at 05:45 (Africa/Nairobi time)." in m.body
    assert m.steps == ()


def test_a_data_limit_says_the_day_service_resumes():
    m = message(str(Cause.DATA_LIMIT_REACHED), "en")
    assert "The limit is 5 MB for this billing period" in m.body
    assert "on 22 March 2026 at 06:15 (Africa/Nairobi time)" in m.body
    assert "5 MB" in message(str(Cause.DATA_LIMIT_REACHED), "sv").body


def test_device_identities_show_only_their_last_digits():
    m = message(str(Cause.IMEI_LOCK_MISMATCH), "en")
    assert "identity number (IMEI) ending 3817" in m.body
    assert "identity number (IMEI) ending 3809" in m.body


def test_congestion_gives_the_end_of_the_wait():
    d = diagnosis(Cause.CONGESTION, resumes=T0 + 3 * H)
    assert (
        "The wait ends on 2 March 2026 at 09:15 (Africa/Nairobi time)" in customer_message(d).body
    )


# ---- golden messages ----------------------------------------------------------------------------


def giraffe(cause, candidates, confidence, separating_test=None, **facts):
    return diagnosis(
        cause,
        candidates=candidates,
        confidence=confidence,
        separating_test=separating_test,
        facts={"last_report": T0 - 0.5 * H, "battery_reported": T0 - 0.5 * H}
        | {"sim_worked": T0 - 3 * H}
        | facts,
        record=sim_record(imei_lock=True, locked_imei="356938035643809"),
    )


LOOK_AT_THE_DEVICE = (
    "Ask the customer to look at the device: a recharged battery brings it back; if it "
    "has power, it is out of coverage where it is"
)
"""The separating test staff read when a battery and coverage are both candidates."""

PARIS = ZoneInfo("Europe/Paris")
OTTER_LOST = datetime(2026, 4, 14, 9, 40, tzinfo=PARIS).timestamp()

GOLDEN_CASES = {
    # The lost giraffe: the collar's battery was falling, but it may have walked out of coverage.
    "lost-giraffe": giraffe(
        Cause.BATTERY_DEPLETED,
        ((Cause.BATTERY_DEPLETED, 0.8), (Cause.COVERAGE_LOSS, 0.2)),
        0.8,
        separating_test=LOOK_AT_THE_DEVICE,
        battery=4.0,
        rsrp=-97.0,
    ),
    # The same collar, when its signal faded while its battery was fine.
    "lost-giraffe-coverage": giraffe(
        Cause.COVERAGE_LOSS, ((Cause.COVERAGE_LOSS, 0.85),), 0.85, battery=71.0, rsrp=-121.0
    ),
    # The sea otter in France: refused by a French network its plan does not include.
    # No swap test is possible (the otter cannot be caught), and none is needed.
    "sea-otter": diagnosis(
        Cause.ROAMING_NOT_ALLOWED,
        candidates=((Cause.ROAMING_NOT_ALLOWED, 0.95),),
        confidence=0.95,
        started=OTTER_LOST,
        at=OTTER_LOST + 2 * H + 10 * 60,
        device_id="otter-0003",
        facts={"network": NETWORK, "radio": "LTE-M", "last_report": OTTER_LOST - 0.25 * H},
        record=sim_record(
            iccid="8946200010000004245",
            imsi="240070000004245",
            account="marine-tags",
            account_name="Coastal Wildlife Trust",
            communication_plan="tags-nordic",
            rate_plan="tags-2mb",
            apns=[APN_EXPECTED],
            networks=["24001", "24201", "23801"],
            radio_types=["LTE-M"],
            device_name="Otter tag 3",
            site="Baie de Somme",
            time_zone="Europe/Paris",
        ),
    ),
}


def golden_text(m):
    return f"Subject: {m.subject}\n\n{m.body}\n"


GOLDEN_FILES = [(name, language) for name in GOLDEN_CASES for language in LANGUAGES]


@pytest.mark.parametrize(("name", "language"), GOLDEN_FILES)
def test_golden_message(name, language):
    path = GOLDEN / f"{name}.{language}.txt"
    text = golden_text(customer_message(GOLDEN_CASES[name], language))
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with SIMLAB_UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "language"), GOLDEN_FILES)
def test_golden_files_follow_the_rules(name, language):
    text = (GOLDEN / f"{name}.{language}.txt").read_text(encoding="utf-8")
    assert jargon(text) == []
    assert long_sentences(text) == []
    assert SIM_TERM[language].findall(text) == []
    assert not APN_WORD.search(text)


def test_the_sea_otter_is_asked_for_nothing_it_cannot_do():
    for language in LANGUAGES:
        m = customer_message(GOLDEN_CASES["sea-otter"], language)
        assert m.steps == ()
        assert "Otter tag 3" in m.body
        assert "4245" in m.body
    en = customer_message(GOLDEN_CASES["sea-otter"], "en").body
    assert "a mobile network in France" in en
    assert "You do not need to do anything." in en
    # the list of refused networks lives on the SIM card: no promise that it comes back alone
    assert "connects again once we have cleared the list" in en
    assert "within about an hour" not in en
    assert "(Europe/Paris time)" in en


@pytest.mark.parametrize(
    ("separating_test", "first_step"),
    [
        ("Run a SIM swap test: the suspect SIM into a device that works", "Switch off"),
        ("Ask the customer to look at the device: a recharged battery brings it back", "Recharge"),
        ("Ask the customer to power-cycle the device: a hung device comes back", "Switch"),
        # a test only staff can run: the steps are what the customer can look at for each cause
        ("Compare with devices on the operator's other cells", "If Giraffe collar 7 has power"),
        ("A SIM swap test is impossible: the SIM is out of reach", None),
    ],
)
def test_separating_tests_become_steps_the_customer_can_take(separating_test, first_step):
    d = diagnosis(
        Cause.FIRMWARE_HANG,
        candidates=((Cause.FIRMWARE_HANG, 0.6), (Cause.BROKER_UNREACHABLE, 0.4)),
        confidence=0.6,
        separating_test=separating_test,
    )
    m = customer_message(d)
    if first_step is None:
        assert m.steps == ()
    else:
        assert m.steps[0].startswith(first_step)
        assert customer_message(d, "sv").steps


@pytest.mark.parametrize("t", [1e300, -1e300, 253402300800.0])
def test_a_time_no_calendar_can_name_is_left_unsaid(t):
    d = diagnosis(Cause.POWER_LOSS, started=None, facts=FACTS | {"last_report": t})
    body = customer_message(d, "en").body
    assert body.startswith("Hello,")
    assert not re.search(r"\b(?:1969|1970|10000)\b", body)
    assert customer_values(d, "en").get("last_report") is None
    named = diagnosis(Cause.POWER_LOSS, started=None, facts=FACTS | {"last_report": T0})
    assert "2 March 2026" in customer_values(named, "en")["last_report"]


@pytest.mark.parametrize("field", ["at", "started", "resumes"])
@pytest.mark.parametrize("t", [math.inf, -math.inf, math.nan])
def test_a_diagnosis_refuses_a_time_that_is_not_finite(field, t):
    with pytest.raises(ValueError, match=rf"Diagnosis\.{field} must be a finite time"):
        diagnosis(Cause.POWER_LOSS, **{field: t})
