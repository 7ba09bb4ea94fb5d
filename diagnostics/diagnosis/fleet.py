"""One message for many: the devices of one customer that share one cause, told once.

When a SIM account is deactivated or a shared plan runs out, forty devices have one
cause and one fix; forty e-mails saying the same thing help nobody. `fleet_messages`
takes diagnoses, keeps the confident ones with a cause (those whose own message is
the cause's template), groups them by the customer's account and cause, and for every
group of at least `FLEET_MIN_DEVICES` writes one message beside the per-device ones:
how many devices (the real count), since when, the cause, what we do, which devices
(by the customer's names, one a line, the first `NAMES_LISTED` of them and how many
more), one set of steps and when service resumes, where every device of the group
knows it (the latest of their times: service is back for all of them only then).

The cause's own template gives what we do, the steps and the resumption, with `device`
worded for all of them ("each device"), or the template every device's own message uses
where they share one (SIMs deactivated by billing: billing's steps); facts of single
devices (a battery level, a SIM card's last digits) are left out, so each piece falls back
to its wording without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from diagnostics.diagnosis.messages import CONFIDENT, customer_values, template_for
from diagnostics.diagnosis.wording import load_words, say, sentences, steps_block

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diagnostics.diagnosis.model import Diagnosis
    from diagnostics.diagnosis.wording import Template, Words
    from protocol.causes import Cause

__all__ = ["FLEET_MIN_DEVICES", "NAMES_LISTED", "FleetMessage", "fleet_messages"]

FLEET_MIN_DEVICES: Final = 3
"""Devices of one customer with one cause that get a fleet message."""
NAMES_LISTED: Final = 10
"""Devices named in a fleet message; the rest are counted."""
_OWN_FACTS: Final = frozenset(
    {
        "who",
        "last4",
        "battery",
        "last_report",
        "imei_new",
        "imei_locked",
        "status_note",
        "if_battery",
        "if_sim_works",
        "if_attached",
    }
)
"""Placeholders that speak of one device, left out of a fleet message."""


@dataclass(frozen=True, slots=True)
class FleetMessage:
    """One e-mail to a customer about many devices with one cause."""

    account: str
    cause: Cause
    device_ids: tuple[str, ...]
    """Every device of the group, by id."""
    count: int
    started: float | None
    """When the earliest of them stopped: the earliest of their last reports (None: none
    of them ever reported)."""
    resumes: float | None
    """When service is back for all of them, where each knows it."""
    language: str
    subject: str
    body: str
    steps: tuple[str, ...]


def fleet_messages(
    diagnoses: Sequence[Diagnosis],
    language: str = "en",
    *,
    min_devices: int = FLEET_MIN_DEVICES,
    signature: str = "Operations team",
) -> list[FleetMessage]:
    """A message per account and cause shared by at least `min_devices` confident diagnoses."""
    groups: dict[tuple[str, Cause], list[Diagnosis]] = {}
    for d in diagnoses:
        sure = len(d.candidates) == 1 and d.confidence >= CONFIDENT
        if d.cause is None or d.record is None or not sure:
            continue
        groups.setdefault((d.record.account, d.cause), []).append(d)
    found = [
        _message(account, cause, members, language, signature)
        for (account, cause), members in sorted(groups.items())
        if len(members) >= min_devices
    ]
    return sorted(found, key=lambda m: (-m.count, m.account, m.cause))


def _shared_template(members: list[Diagnosis], cause: Cause, words: Words) -> Template:
    """The template each member's own message uses, if they share one; else the cause's own.

    A SIM deactivated by billing is told so, with billing's steps, in its own message; the
    fleet message says the same where it holds for every device of the group.
    """
    chosen = [template_for(d, cause, words) for d in members]
    if all(t is chosen[0] for t in chosen):
        return chosen[0]
    return words.templates[cause]


def _number(value: str | float | None) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _message(
    account: str, cause: Cause, members: list[Diagnosis], language: str, signature: str
) -> FleetMessage:
    words = load_words(language)
    members = sorted(members, key=lambda d: d.device_id or d.iccid or "")
    each = [customer_values(d, language) for d in members]
    stops = [_number(d.facts.get("last_report")) for d in members]
    reported = [i for i, t in enumerate(stops) if t is not None]
    first = min(reported, key=lambda i: stops[i] or 0.0, default=0)
    started = stops[first]
    times = [d.resumes for d in members]
    resumes = None if None in times else max(t for t in times if t is not None)
    latest = max(range(len(members)), key=lambda i: members[i].resumes or float("-inf"))
    values = {k: v for k, v in each[first].items() if k not in _OWN_FACTS}
    values.pop("resumes", None)
    gates = (
        "if_battery",
        "if_sim_works",
        "if_attached",
    )  # a claim for all holds only if it holds for each
    values |= {g: "" for g in gates if all(g in v for v in each)}
    if reported:  # the earliest of their last reports, and whether each of them ever reported
        values["last_report"] = each[first]["last_report"]
        values["if_all_reported" if len(reported) == len(members) else "if_some_reported"] = ""
    if resumes is not None and "resumes" in each[latest]:
        values["resumes"] = each[latest]["resumes"]
    if any(v.get("site") != values.get("site") for v in each):
        values.pop("site", None)
    names = [v["device"] for v in each]
    listed = [f"- {name}" for name in names[:NAMES_LISTED]]
    if len(names) > NAMES_LISTED:
        listed.append(f"- {words.fleet_more.format(more=len(names) - NAMES_LISTED)}")
    template = _shared_template(members, cause, words)
    values |= {
        "device": words.fleet_each,
        "Device": words.fleet_each[:1].upper() + words.fleet_each[1:],
        "count": str(len(members)),
    }
    values["what"] = say(template.what, values)
    saw = sentences((words.fleet_about, words.fleet_down, words.fleet_cause), values)
    did = sentences((*template.did, words.fleet_did), values)
    steps = sentences(template.steps, values)
    blocks = (
        words.greeting,
        " ".join(saw),
        " ".join(did),
        "\n".join((say(words.fleet_listed, values), *listed)),
        steps_block(steps, words, words.nothing_to_do),
        " ".join(sentences(template.resumes, values)),
        f"{words.closing}\n{signature}",
    )
    return FleetMessage(
        account=account,
        cause=cause,
        device_ids=tuple(d.device_id or d.iccid or "" for d in members),
        count=len(members),
        started=started,
        resumes=resumes,
        language=language,
        subject=say(words.fleet_subject, values),
        body="\n\n".join(block for block in blocks if block),
        steps=steps,
    )
