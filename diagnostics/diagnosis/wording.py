"""How customer messages are worded: the shapes every language fills in.

Each language is one `Words` (in `wording_en`, `wording_sv`): the frame of a
message (greeting, closing, dates, the healthy and the unsure messages) and one
`Template` per cause. Every piece of wording is a `Text`: a sentence, or a tuple
of alternatives of which the first whose placeholders are all known is said; an
empty alternative leaves the piece out. So a missing fact changes the sentence
("Its battery was running low" instead of "Its battery was at 4%"), and the last
alternative of each piece must need only the placeholders that are always known.

Placeholders (`str.format` fields):

* always known: `who` (the device named the first time, with its SIM card and
  site: only `Words.about` uses it), `Device` / `device` (the device by name,
  capitalised or not), `back_by` (when we will write again) and `checked` (when
  the diagnosis was made);
* when the facts give them: `started`, `resumes`, `last_report`, `cycle_end`
  (times in the customer's zone), `site`, `last4` (the SIM card's last four
  digits), `battery`, `limit`, `apn` (the APN the customer must set), `radio`,
  `radios` (the radio types the SIM card may use), `country`, `imei_new`,
  `imei_locked` (a device identity by its last digits) and `verdict_note`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from protocol.causes import Cause

__all__ = ["CustomerTest", "Template", "Text", "Words"]

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
    write_back: str
    healthy: Template
    down_unknown: Template
    """The device is down and no cause is known yet."""
    no_data: Template
    """Too few reports to judge the device."""
    verdict_notes: Mapping[str, str]
    """A sentence for a healthy verdict that needs explaining (ASLEEP, LATE)."""
    tests: Mapping[str, CustomerTest]
    """The tests we can explain, by kind ("swap", "recharge", "restart")."""
    templates: Mapping[Cause, Template]
    """One template per cause."""
