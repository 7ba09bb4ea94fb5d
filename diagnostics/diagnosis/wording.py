"""How customer messages are worded: the shapes every language fills in, and their loader.

Each language is one `Words`: the frame of a message (greeting, closing, dates,
the healthy and the unsure messages) and one `Template` per cause. `load_words`
reads it once from the language's data file, `languages/<language>.yaml` in this
package: its keys are the field names here (`or` for `or_`), templates are keyed
by cause id, a list stands for a tuple, and a `shared` key only holds YAML anchors
for sentences several templates use. Every piece of wording is a `Text`: a sentence, or a tuple
of alternatives of which the first whose placeholders are all known is said; an
empty alternative leaves the piece out. So a missing fact changes the sentence
("Its battery was running low" instead of "Its battery was at 4%"), and the last
alternative of each piece must need only the placeholders that are always known.

Placeholders (`str.format` fields):

* always known: `who` (the device named the first time, with its SIM card and
  site: only `Words.about` uses it), `Device` / `device` (the device by name,
  capitalised or not), `back_by` (when we will write again) and `checked` (when
  the diagnosis was made);
* in a fleet message (`Words.fleet_*`): `count`, `more` and `what`;
* when the facts give them: `started`, `resumes`, `last_report`, `cycle_end`,
  `network_added` (when the plan came to allow a network that had refused the
  SIM) (times in the customer's zone), `site`, `last4` (the SIM card's last four
  digits), `battery`, `limit`, `apn` (the APN the customer must set), `radio`,
  `radios` (the radio types the SIM card may use), `country`, `imei_new`,
  `imei_locked` (a device identity by its last digits), `status_note`,
  `state_reason` (the reason the platform gave for a state change, as given),
  `pool_limit`, `pool_sims` and `pool_others` (a shared data pool used up: its
  size, how many SIM cards share it, how many besides this one);
* gates, said as nothing, known only where the evidence shows what the sentence
  claims: `if_battery` (the device has reported a battery level: the words may
  speak of its battery), `if_sim_works` (the network accepted the SIM in this
  device lately: the words may say the SIM card works), `if_attached` (the network's
  last word on the SIM is an accepted attach: the words may say it is connected to the
  mobile network), `if_overdue` (a healthy device whose next report is overdue: the words
  say since when it has sent nothing rather than that it reports normally), and in a
  fleet message
  `if_all_reported` / `if_some_reported` (every device, or only some, have ever
  reported: `last_report` is the earliest of their last reports).

The moment a device stopped is always `last_report`, the newest report the service
had received from it; never `started`, which may be when the trouble was detected or
explained. A device that never reported has no `last_report`, and is not said to have
stopped.
"""

from __future__ import annotations

import dataclasses
import functools
import string
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from importlib import resources
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from diagnostics.errors import DiagnosticsError
from protocol.causes import Cause

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "CustomerTest",
    "Template",
    "Text",
    "WordingError",
    "Words",
    "load_words",
    "look_steps",
    "parse_words",
    "say",
    "sentences",
    "steps_block",
]

Text = str | tuple[str, ...]
"""A sentence, or alternatives: the first whose placeholders are all known; "" leaves it out."""


@dataclass(frozen=True, slots=True)
class Template:
    """The wording of one message, each piece a `Text`, in the order the message says them."""

    subject: Text
    saw: tuple[Text, ...] = ()
    """What we saw, after the opening sentence: observations only, never the conclusion."""
    did: tuple[Text, ...] = ()
    """What we did or will do, and when we will be back."""
    steps: tuple[Text, ...] = ()
    """What the customer should do, one step each."""
    resumes: tuple[Text, ...] = ()
    """When and how service comes back."""
    opening: Text | None = None
    """What happened, after `Words.about`; None for the language's "It stopped reporting on ..."."""
    what: Text = ""
    """The cause as a noun phrase, for an unsure message: "The most likely cause is ..."."""
    check: Text = ""
    """What we check when the cause is a candidate: "We will check ..."."""
    look: Text = ""
    """What the customer can look at or do that tells whether this cause is it (a step of an
    unsure message that names it); "" where only the network or the platform can tell."""


@dataclass(frozen=True, slots=True)
class CustomerTest:
    """A test the customer can run to tell candidate causes apart (a SIM swap, a restart)."""

    intro: Text
    steps: tuple[Text, ...]
    if_locked: Text = ""
    """A first step when the SIM card is locked to its device (the test needs it unlocked)."""


@dataclass(frozen=True, slots=True)
class Words:
    """Everything one language says: the frame of a message and every cause's template."""

    greeting: str
    closing: str
    steps_heading: str
    nothing_to_do: str
    """Said in place of steps when the customer need not act."""
    nothing_yet: str
    """Said in place of steps while we are still finding out."""
    months: tuple[str, ...]
    time: str
    """A moment, from `day`, `month`, `year`, `hm` (hours:minutes) and `zone`."""
    zone: str
    """How a time names the customer's zone, from `zone`."""
    utc: str
    """How a time names UTC, used when the customer's zone is unknown."""
    or_: str
    percent: str
    decimal: str
    your_device: Text
    """A device without a name, from `id` when there is one."""
    sim: str
    site: str
    imei: str
    countries: Mapping[str, str]
    """ISO country code → the country's name as it stands in a sentence."""
    about: str
    """The first sentence of every message: which device, SIM card and site, from `who`."""
    down: Text
    """The second sentence of a message about a device that stopped reporting."""
    unwell: Text
    """The second sentence of an unsure message about a device that still reports."""
    unsure_subject_down: str
    unsure_subject_unwell: str
    likely: str
    """The most likely cause, from `what`."""
    also: str
    """The other candidates, from `what`."""
    check_first: str
    check_more: str
    look_reply: str
    """The last step after the candidates' looks: tell us what you found."""
    write_back: str
    healthy: Template
    down_unknown: Template
    """The device is down and no cause is known yet."""
    no_data: Template
    """Too few reports to judge the device."""
    status_notes: Mapping[str, str]
    """A sentence for a healthy detection status that needs explaining (ASLEEP, LATE)."""
    tests: Mapping[str, CustomerTest]
    """The tests we can explain, by kind ("swap", "recharge", "restart")."""
    templates: Mapping[Cause, Template]
    reporting: Mapping[Cause, Template]
    """A cause's template for a device that still reports (a battery failing before it runs
    out), said in place of the cause's own where there is one."""
    deactivated_by: Mapping[str, Template]
    """A deactivated SIM's template by who deactivated it (the audit trail's actor), said in
    place of the cause's own when the platform names the actor."""
    """One template per cause."""
    fleet_subject: str
    """A fleet message's subject (many devices, one cause), from `count` and `what`."""
    fleet_about: str
    """Its first sentence: how many devices (`count`)."""
    fleet_down: Text
    """That they stopped reporting (from the earliest `started`)."""
    fleet_cause: str
    """The one cause they share, from `what`."""
    fleet_did: str
    """After the cause's own `did`: that it holds for all of them."""
    fleet_listed: str
    """The line before the devices' names."""
    fleet_each: str
    """What `device` says in the cause's steps and resumes ("each device")."""
    fleet_more: str
    """The last line of a long list of names: how many `more`."""


# ---- saying a piece ------------------------------------------------------------------------------


@functools.cache
def _placeholders(text: str) -> frozenset[str]:
    """The placeholders a sentence uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def say(text: Text, values: Mapping[str, str]) -> str:
    """The first alternative whose placeholders are all known, filled in ("" leaves it out)."""
    alternatives = (text,) if isinstance(text, str) else text
    for alternative in alternatives:
        if _placeholders(alternative) <= values.keys():
            return alternative.format_map(values)
    raise LookupError(f"no wording fits the known facts {sorted(values)}: {alternatives!r}")


def steps_block(steps: tuple[str, ...], words: Words, idle: str) -> str:
    """A message's steps: numbered under the heading when several, else the one (or `idle`)."""
    if len(steps) > 1:
        numbered = (f"{n}. {step}" for n, step in enumerate(steps, start=1))
        return "\n".join((words.steps_heading, *numbered))
    return steps[0] if steps else idle


def look_steps(
    templates: Sequence[Template], words: Words, values: Mapping[str, str]
) -> tuple[str, ...]:
    """Each candidate's look (the most likely first, each said once), then the reply to send."""
    looks = tuple(dict.fromkeys(sentences(tuple(t.look for t in templates), values)))
    return (*looks, words.look_reply) if looks else ()


def sentences(texts: tuple[Text, ...], values: Mapping[str, str]) -> tuple[str, ...]:
    """Each piece said (see `say`), the pieces that are left out dropped."""
    said = (say(text, values) for text in texts)
    return tuple(sentence for sentence in said if sentence)


# ---- the language files ------------------------------------------------------------------------


class WordingError(DiagnosticsError, ValueError):
    """A language file is missing, or not shaped as `Words` (the message says where)."""


_SKIPPED: Final = "shared"
"""The key of a language file that only holds YAML anchors for the rest to use."""
_RENAMED: Final = {"or": "or_"}
"""Keys of a language file that are not Python field names."""
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it: the same data, parsed several times faster."""


@functools.cache
def load_words(language: str) -> Words:
    """The wording of `language`, read once from `languages/<language>.yaml`.

    Raises:
        WordingError: If there is no such file, or it is not shaped as `Words`.
    """
    where = f"languages/{language}.yaml"
    try:
        text = resources.files(__package__).joinpath(where).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WordingError(f"no language file {where}") from None
    return parse_words(text, where=where)


def parse_words(text: str, *, where: str = "<wording>") -> Words:
    """A language file's text as `Words`.

    Raises:
        WordingError: If a key is missing, unknown or of the wrong kind (or the YAML is bad).
    """
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, in C where there is one
    except yaml.YAMLError as exc:
        raise WordingError(f"{where}: {exc}") from None
    fields = _fields(Words, data, where)
    fields.pop(_SKIPPED, None)
    for key, value in fields.items():
        at = f"{where}: {key}"
        if key in {"healthy", "down_unknown", "no_data"}:
            fields[key] = _template(value, at)
        elif key in {"templates", "reporting"}:
            fields[key] = {_cause(c, at): _template(v, f"{at}.{c}") for c, v in _items(value, at)}
        elif key == "deactivated_by":
            fields[key] = {str(k): _template(v, f"{at}.{k}") for k, v in _items(value, at)}
        elif key == "tests":
            fields[key] = {str(k): _customer_test(v, f"{at}.{k}") for k, v in _items(value, at)}
        elif key in {"countries", "status_notes"}:
            fields[key] = {str(k): _string(v, f"{at}.{k}") for k, v in _items(value, at)}
        elif key == "months":
            fields[key] = tuple(_string(month, at) for month in _list(value, at))
        elif key in {"your_device", "down", "unwell", "fleet_down"}:
            fields[key] = _text(value, at)
        else:
            fields[key] = _string(value, at)
    return Words(**fields)


def _template(data: object, where: str) -> Template:
    fields = _fields(Template, data, where)
    for key, value in fields.items():
        texts = key in {"saw", "did", "steps", "resumes"}
        fields[key] = _texts(value, f"{where}.{key}") if texts else _text(value, f"{where}.{key}")
    return Template(**fields)


def _customer_test(data: object, where: str) -> CustomerTest:
    fields = _fields(CustomerTest, data, where)
    for key, value in fields.items():
        many = key == "steps"
        fields[key] = _texts(value, f"{where}.{key}") if many else _text(value, f"{where}.{key}")
    return CustomerTest(**fields)


def _fields(shape: type, data: object, where: str) -> dict[str, Any]:
    """A mapping's keys as `shape`'s field names; a key unknown or missing is an error."""
    found = {_RENAMED.get(str(k), str(k)): v for k, v in _mapping(data, where).items()}
    known = {f.name for f in dataclasses.fields(shape)} | ({_SKIPPED} if shape is Words else set())
    unknown = sorted(set(found) - known)
    if unknown:
        raise WordingError(f"{where}: unknown keys {unknown}")
    required = {
        f.name
        for f in dataclasses.fields(shape)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing = sorted(required - set(found))
    if missing:
        raise WordingError(f"{where}: missing keys {missing}")
    return found


def _mapping(data: object, where: str) -> dict[object, object]:
    if not isinstance(data, dict):
        raise WordingError(f"{where}: expected a mapping, got {type(data).__name__}")
    return data


def _items(data: object, where: str) -> list[tuple[object, object]]:
    return list(_mapping(data, where).items())


def _list(data: object, where: str) -> list[object]:
    if not isinstance(data, list):
        raise WordingError(f"{where}: expected a list, got {data!r}")
    return data


def _cause(data: object, where: str) -> Cause:
    try:
        return Cause(str(data))
    except ValueError:
        raise WordingError(f"{where}: {data!r} is not a cause id") from None


def _string(data: object, where: str) -> str:
    if not isinstance(data, str):
        raise WordingError(f"{where}: expected a string, got {data!r}")
    return data


def _text(data: object, where: str) -> Text:
    """A sentence, or a list of alternative sentences."""
    if isinstance(data, list):
        return tuple(_string(item, where) for item in data)
    return _string(data, where)


def _texts(data: object, where: str) -> tuple[Text, ...]:
    """A list of pieces, each a `Text`."""
    return tuple(_text(item, where) for item in _list(data, where))


def customer_zone(name: str | None, words: Words) -> tuple[tzinfo, str]:
    """The customer's time zone and how a time names it; UTC, and so named, when unknown."""
    if name and name not in {"UTC", "Etc/UTC"}:
        try:
            return ZoneInfo(name), words.zone.format(zone=name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC, words.utc


def moment(t: float, zone: tzinfo, zone_name: str, words: Words) -> str | None:
    """A time as "2 March 2026 at 06:15 (Africa/Nairobi time)", in `customer_zone`'s terms.

    None for a time no calendar can name (past year 9999, before year 1, not finite),
    which a message then leaves unsaid rather than failing.
    """
    try:
        local = datetime.fromtimestamp(t, zone)
    except (OverflowError, OSError, ValueError):
        return None
    return words.time.format(
        day=local.day,
        month=words.months[local.month - 1],
        year=local.year,
        hm=f"{local:%H:%M}",
        zone=zone_name,
    )
