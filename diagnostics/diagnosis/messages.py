"""Customer messages: a diagnosis told to the customer, in English or Swedish, ready to send.

The rules are the Operations team's own ("Writing to the customer"): say what
we saw in the customer's terms (the device's name, the SIM card by its last
digits, the site, times in the customer's time zone), what we did or will do
and when we will be back, what the customer should do (numbered steps when
there are several), and when service resumes. Short sentences, one word for one
thing ("SIM card", never "subscription"), no network jargon, no blame, no guess.

Which message a diagnosis gets:

* a cause, one candidate and confidence of at least `CONFIDENT`: that cause's
  template;
* several candidates or less confidence: the unsure message. It names the most
  likely cause and the others, says what we will check for each and by when we
  will write again, and explains the separating test when it is one a customer
  can run (a SIM swap, a recharge, a restart: recognised by its words, see
  `_TESTS_BY_WORD`) and not said to be impossible; without such a test, its steps
  are what the customer can look at for each candidate (each cause's `look`: the
  power supply, the antenna, a setting) and to tell us what they found, so an
  unsure message too says what to do next;
* no cause: the healthy message (ONLINE, LATE, ASLEEP; a late one says what to
  check if it stays silent), "we are looking into it" (SUSPECT, OFFLINE: with the
  first checks on site), or "not enough reports yet" (UNKNOWN).

The wording itself is data, one file per language (`languages/en.yaml`,
`languages/sv.yaml`, shaped and loaded by `wording`); this module turns the
diagnosis's facts into the customer's terms and puts the sentences together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.wording import (
    customer_zone,
    load_words,
    look_steps,
    moment,
    say,
    sentences,
    steps_block,
)
from protocol.causes import Cause
from protocol.identifiers.countries import countries_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from diagnostics.diagnosis.model import Diagnosis
    from diagnostics.diagnosis.wording import Template, Words

__all__ = [
    "CONFIDENT",
    "FOLLOW_UP_S",
    "LANGUAGES",
    "MAX_OTHERS",
    "TEMPLATES",
    "CustomerMessage",
    "customer_message",
    "customer_values",
    "template_for",
]

LANGUAGES: Final = ("en", "sv")
"""The languages messages are written in."""

CONFIDENT: Final = 0.7
"""Below this confidence (or with several candidates) the message says what we will check."""

FOLLOW_UP_S: Final = 4 * 3600.0
"""How long after the diagnosis we promise to write again."""

MAX_OTHERS: Final = 2
"""How many candidates besides the most likely one an unsure message names."""

_QUARTER_HOUR: Final = 900.0
_DOWN_STATUSES: Final = frozenset({"SUSPECT", "OFFLINE"})
_HEALTHY_STATUSES: Final = frozenset({"ONLINE", "LATE", "ASLEEP"})
_OVERDUE_STATUSES: Final = frozenset({"LATE"})
"""Healthy statuses whose next report is overdue: the message says since when it is silent."""

_WORDS: Final[Mapping[str, Words]] = {language: load_words(language) for language in LANGUAGES}

TEMPLATES: Final[Mapping[str, Mapping[Cause, Template]]] = {
    language: words.templates for language, words in _WORDS.items()
}
"""Per language, every cause's template."""

_TESTS_BY_WORD: Final = (
    ("swap", "swap"),
    ("battery", "recharge"),
    ("power-cycle", "restart"),
    ("power cycle", "restart"),
    ("restart", "restart"),
    ("reboot", "restart"),
)
"""Words in a diagnosis's `separating_test` → the test explained to the customer."""
_NOT_POSSIBLE: Final = ("impossible", "not possible", "cannot", "out of reach")
_COUNTS: Final = (
    ("requests", "requests_last_hour"),
    ("in_backoff", "requests_in_backoff"),
    ("resets", "resets_last_hour"),
)
"""Placeholders that are counts → the facts they are read from (a device's behaviour)."""
_GATES: Final = (
    ("if_battery", "battery_reported"),
    ("if_sim_works", "sim_worked"),
    ("if_attached", "attached"),
)
"""Placeholders that only gate a claim (said as nothing) → the evidence fact they need."""


@dataclass(frozen=True, slots=True)
class CustomerMessage:
    """An e-mail to the customer about one diagnosis."""

    language: str
    subject: str
    body: str
    """The whole text, ready to send as is: greeting, paragraphs, numbered steps, closing."""
    steps: tuple[str, ...]
    """What the customer should do, in order (also in `body`)."""


# ---- building a message -------------------------------------------------------------------------


def customer_message(
    diagnosis: Diagnosis, language: str = "en", *, signature: str = "Operations team"
) -> CustomerMessage:
    """Write the e-mail to the customer about `diagnosis`, in `language`.

    Raises:
        ValueError: If `language` is not one of `LANGUAGES`.
    """
    words = _words(language)
    values = _values(diagnosis, words)
    draft = _draft(diagnosis, words, values)
    return CustomerMessage(
        language=language,
        subject=draft.subject,
        body=_body(draft, words, signature),
        steps=draft.steps,
    )


@dataclass(frozen=True, slots=True)
class _Draft:
    """A message's sentences, piece by piece, before the frame is put round them."""

    subject: str
    saw: tuple[str, ...]
    did: tuple[str, ...]
    steps: tuple[str, ...]
    resumes: tuple[str, ...]
    idle: str
    """What to say when there are no steps."""
    test: str = ""
    """The test the steps are, when they are one."""


def _draft(diagnosis: Diagnosis, words: Words, values: Mapping[str, str]) -> _Draft:
    cause = diagnosis.cause
    if cause is None:
        if diagnosis.detection_status in _DOWN_STATUSES:
            return _from_template(words.down_unknown, words, values, words.nothing_yet)
        if diagnosis.detection_status in _HEALTHY_STATUSES:
            return _from_template(words.healthy, words, values, words.nothing_to_do)
        return _from_template(words.no_data, words, values, words.nothing_yet)
    if len(diagnosis.candidates) > 1 or diagnosis.confidence < CONFIDENT:
        return _unsure(diagnosis, cause, words, values)
    return _from_template(template_for(diagnosis, cause, words), words, values, words.nothing_to_do)


def template_for(diagnosis: Diagnosis, cause: Cause, words: Words) -> Template:
    """The cause's template, or its variant where one fits.

    A device that still reports gets the cause's `reporting` template, if it has one; a
    deactivated SIM the one for who deactivated it, if known.
    """
    if diagnosis.detection_status not in _DOWN_STATUSES and cause in words.reporting:
        return words.reporting[cause]
    actor = _text(diagnosis.facts, "state_actor")
    if cause is Cause.SIM_DEACTIVATED and actor is not None and actor in words.deactivated_by:
        return words.deactivated_by[actor]
    return words.templates[cause]


def _from_template(
    template: Template, words: Words, values: Mapping[str, str], idle: str
) -> _Draft:
    opening = words.down if template.opening is None else template.opening
    return _Draft(
        subject=say(template.subject, values),
        saw=sentences((words.about, opening, *template.saw), values),
        did=sentences(template.did, values),
        steps=sentences(template.steps, values),
        resumes=sentences(template.resumes, values),
        idle=idle,
    )


def _unsure(diagnosis: Diagnosis, cause: Cause, words: Words, values: Mapping[str, str]) -> _Draft:
    """The candidates, what we will check for each and when we will be back, and the test."""
    causes = [c.cause for c in diagnosis.candidates if c.cause is not cause][:MAX_OTHERS]
    top = words.templates[cause]
    others = [words.templates[c] for c in causes]
    down = diagnosis.detection_status in _DOWN_STATUSES
    likely = words.likely.format(what=say(top.what, values))
    saw = [say(words.about, values), say(words.down if down else words.unwell, values), likely]
    saw += sentences(top.saw, values)
    if others:
        what = _either([say(t.what, values) for t in others], words)
        saw.append(words.also.format(what=what))
    did = [words.check_first.format(check=say(top.check, values))]
    did += [words.check_more.format(check=say(t.check, values)) for t in others]
    did.append(say(words.write_back, values))
    steps: tuple[str, ...] = ()
    intro = ""
    kind = _test_kind(diagnosis.separating_test)
    if kind == "swap" and "swap_registered" in diagnosis.facts:
        kind = None  # registered already: underway, or it cannot be done
    test = words.tests.get(kind or "")
    if test is not None:
        intro = say(test.intro, values)
        locked = diagnosis.record is not None and diagnosis.record.imei_lock
        first = (test.if_locked,) if locked else ()
        steps = sentences((*first, *test.steps), values)
    if not steps and not _impossible(diagnosis.separating_test):
        steps = look_steps((top, *others), words, values)  # what the customer can see of each
    subject = words.unsure_subject_down if down else words.unsure_subject_unwell
    return _Draft(
        subject=say(subject, values),
        saw=tuple(saw),
        did=tuple(did),
        steps=steps,
        resumes=(),
        idle=words.nothing_yet,
        test=intro,
    )


def _test_kind(separating_test: str | None) -> str | None:
    """The customer test a diagnosis's separating test names, if it is one we can explain."""
    if separating_test is None or _impossible(separating_test):
        return None
    text = separating_test.lower()
    return next((kind for word, kind in _TESTS_BY_WORD if word in text), None)


def _impossible(separating_test: str | None) -> bool:
    """Whether the separating test is said to be out of the customer's reach."""
    text = (separating_test or "").lower()
    return any(word in text for word in _NOT_POSSIBLE)


def _body(draft: _Draft, words: Words, signature: str) -> str:
    blocks = [words.greeting, " ".join(draft.saw), " ".join(draft.did), draft.test]
    blocks.append(steps_block(draft.steps, words, draft.idle))
    blocks += [" ".join(draft.resumes), f"{words.closing}\n{signature}"]
    return "\n\n".join(block for block in blocks if block)


# ---- the facts, in the customer's terms ---------------------------------------------------------


def customer_values(diagnosis: Diagnosis, language: str) -> dict[str, str]:
    """Every placeholder the diagnosis's facts allow, worded for the customer in `language`."""
    return _values(diagnosis, _words(language))


def _words(language: str) -> Words:
    words = _WORDS.get(language)
    if words is None:
        raise ValueError(
            f"no customer messages in language {language!r}; supported: {', '.join(LANGUAGES)}"
        )
    return words


def _values(diagnosis: Diagnosis, words: Words) -> dict[str, str]:
    """Every placeholder the facts allow, worded for the customer."""
    record = diagnosis.record
    facts = diagnosis.facts
    zone, zone_name = customer_zone(record.time_zone if record else None, words)
    resumes = diagnosis.resumes
    if resumes is None:
        resumes = _number(facts, "backoff_until")
    times = {
        "checked": diagnosis.at,
        "back_by": math.ceil((diagnosis.at + FOLLOW_UP_S) / _QUARTER_HOUR) * _QUARTER_HOUR,
        "started": diagnosis.started,
        "resumes": resumes,
        "last_report": _number(facts, "last_report"),
        "cycle_end": _number(facts, "cycle_end"),
        "network_added": _number(facts, "network_added"),
    }
    said = {key: moment(t, zone, zone_name, words) for key, t in times.items() if t is not None}
    values = {key: text for key, text in said.items() if text is not None}
    values.update(_device_values(diagnosis, words))
    values.update(_fact_values(diagnosis, words))
    counts = {key: _number(diagnosis.facts, fact) for key, fact in _COUNTS}
    values.update({key: str(round(n)) for key, n in counts.items() if n is not None})
    values.update({gate: "" for gate, fact in _GATES if _number(facts, fact) is not None})
    note = words.status_notes.get(diagnosis.detection_status)
    if note:
        values["status_note"] = note
    if diagnosis.detection_status in _OVERDUE_STATUSES:
        values["if_overdue"] = ""
    return values


def _device_values(diagnosis: Diagnosis, words: Words) -> dict[str, str]:
    """The device by name, and its first mention with its SIM card and site."""
    record = diagnosis.record
    name = record.device_name if record else None
    ids = {"id": diagnosis.device_id} if diagnosis.device_id else {}
    device = name or say(words.your_device, ids)
    capital = name or device[:1].upper() + device[1:]
    values = {"device": device, "Device": capital}
    details = []
    iccid = record.iccid if record else diagnosis.iccid
    if iccid:
        values["last4"] = _last4(iccid)
        details.append(words.sim.format(last4=values["last4"]))
    if record and record.site:
        values["site"] = record.site
        details.append(words.site.format(site=record.site))
    suffix = f" ({', '.join(details)})" if details else ""
    values["who"] = device + suffix
    return values


def _fact_values(diagnosis: Diagnosis, words: Words) -> dict[str, str]:
    """Battery, limit, APN, radio, country and device identities, as the templates name them."""
    facts = diagnosis.facts
    record = diagnosis.record
    values: dict[str, str] = {}
    battery = _number(facts, "battery")
    if battery is not None:
        values["battery"] = words.percent.format(n=round(battery))
    limit = _number(facts, "limit_mb")
    if limit is not None:
        values["limit"] = f"{limit:g}".replace(".", words.decimal) + " MB"
    apn = _text(facts, "apn_expected")
    if apn is None and record is not None and len(record.apns) == 1:
        apn = record.apns[0]
    if apn:
        values["apn"] = apn
    radio = _text(facts, "radio")
    if radio:
        values["radio"] = radio
    allowed = _text(facts, "radio_allowed")
    radios = (
        [r.strip() for r in allowed.split(",")]
        if allowed
        else list(record.radio_types if record else ())
    )
    radios = [r for r in radios if r and r != radio]
    if radios:
        values["radios"] = _either(radios, words)
    values.update(_platform_values(facts, words))
    country = _country(facts, words)
    if country:
        values["country"] = country
    for key in ("imei_new", "imei_locked"):
        imei = _text(facts, key)
        if imei:
            values[key] = words.imei.format(last4=_last4(imei))
    return values


def _platform_values(facts: Mapping[str, str | float], words: Words) -> dict[str, str]:
    """The reason the platform gave for a state change, and a used-up pool's size and SIMs."""
    values: dict[str, str] = {}
    reason = _text(facts, "state_reason")
    if reason:
        values["state_reason"] = reason
    if _text(facts, "pool") is None:
        return values
    limit = _number(facts, "pool_limit_mb")
    if limit is not None:
        values["pool_limit"] = f"{limit:g}".replace(".", words.decimal) + " MB"
    sims = _number(facts, "pool_sims")
    if sims is not None and sims >= 1:
        values["pool_sims"] = f"{sims:.0f}"
        values["pool_others"] = f"{sims - 1:.0f}"
    return values


def _either(items: list[str], words: Words) -> str:
    """The items as a choice: "A", "A or B", "A, B or C"."""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {words.or_} {items[-1]}"


def _country(facts: Mapping[str, str | float], words: Words) -> str | None:
    """The name of the country whose network the device tried, when we know it."""
    iso = _text(facts, "country")
    network = _text(facts, "network")
    if iso is None and network is not None:
        iso = next(iter(countries_of(network)), None)
    return words.countries.get(iso.upper()) if iso else None


def _last4(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[-4:]


def _number(facts: Mapping[str, str | float], key: str) -> float | None:
    value = facts.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _text(facts: Mapping[str, str | float], key: str) -> str | None:
    value = facts.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None
