"""The word checker: every customer message and staff summary held against the truth.

What a message may say, and what it must (`check` returns both lists):

* **facts** (`message_fact_errors`): a stop moment stated ("stopped reporting
  on …", "stopped sending data on …", "has not sent data since …", "has not
  reached your server since …", "its last report arrived on …") is the last
  report the service had received from the device, to the minute in the
  customer's time zone (never the
  moment it was detected); a device that never reported is not said to have
  stopped at all; "N of M devices of <group>" counts are the real counts (M the
  devices whose newest report or firmware update puts them in the group, N those of
  them quiet: at most the really down, and at least those `simlab.fuzz.counts`
  says the claim owes, the others being struck too recently to be seen, only late
  yet, or quiet for reasons of their own); battery advice only for a device that
  has reported a battery
  level; "the SIM card works" only where the network side showed it (an
  accepted attach or a data session within a day); "connected to the mobile
  network" only while the network's last word on the SIM was not a detach
  or a reject; a swap test already
  registered for the device is not asked for again (in the message, or in the
  staff's next step).
* **missing facts** (`messages_missing_facts`), for a device really down: the
  message names the device; says when it stopped, when it had reported and
  has been silent for two of its intervals since; says what to do when the
  cause is one the customer must act on (`CUSTOMER_ACTS`) and it has lasted
  long enough for the service to see it (a device is told to do something only
  where the evidence points there, and a fault younger than the scoring window
  has left none yet); and says when
  service resumes where the diagnosis knows it.

Times are read back from the message's own words ("2 March 2026 at 06:15
(Africa/Nairobi time)"), not recomputed by the service's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["CUSTOMER_ACTS", "Facts", "Finding", "check", "stated_times"]

MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_TIME: Final = r"(\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4}) at (\d{2}):(\d{2}) \(([^)]+)\)"
STOP_CLAIMS: Final = (
    "stopped reporting on",
    "stopped sending data on",
    "has not sent data since",
    "has not reached your server since",
    "its last report arrived on",
)
"""Phrases that state the moment a device stopped, followed by that moment."""
STOP_WORDS: Final = ("stopped reporting", "stopped sending data")
"""Phrases that say a device stopped (with or without a moment)."""
SIM_WORKS: Final = ("it works normally", "both work normally")
CONNECTED: Final = (
    "is still connected to the mobile network",
    "is connected to the mobile network",
)
"""Phrases that say the network has the device attached now."""
BATTERY_ADVICE: Final = ("recharge or replace the battery", "recharge the battery")
SWAP_ASK: Final = ("swapping sim cards", "cross-swap", "swap test", "swap the sim")
_COUNT: Final = re.compile(r"(\d+) of (\d+) devices of (\w+) ([^\s,]+)")
"""A count in a staff text: "5 of 40 devices of cell 101" (the value ends at a comma)."""
CUSTOMER_ACTS: Final = frozenset(
    {
        "battery_depleted",
        "power_loss",
        "firmware_hang",
        "reconnect_storm",
        "wrong_apn",
        "private_apn_credentials",
        "imei_blacklisted",
        "imei_lock_mismatch",
        "test_quota_used",
        "damaged_sim",
        "broker_unreachable",
        "coverage_loss",
    }
)
"""Causes only the customer can end (their device, its settings, their server, a new SIM)."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the truth and the received stream say about the device a message is about."""

    device_id: str
    name: str | None
    """The device's name on its SIM record, as the message should call it."""
    at: float
    """When the message was written (the diagnosis's moment)."""
    last_report: float | None
    """The newest report the service had received from the device by then."""
    interval_s: float
    battery_reported: bool
    sim_works: bool
    swap_done: bool
    """A swap test had been registered for the device by then."""
    attached: bool | None = None
    """Whether the network last saw the device's SIM attached (None: it never said)."""
    down_cause: str | None = None
    """The true cause when the device is really down at `at` (None: it is fine)."""
    evident: bool = True
    """Whether that fault had lasted long enough by `at` for the service to see it (the
    window `simlab.fuzz.score` scores causes in, `evident`: for a fault told only by the
    device's silence, counted from its last report): before that, no step is owed."""
    resumes: float | None = None
    """When service resumes, where the diagnosis knows it."""
    counts: tuple[tuple[str, str, int, int], ...] = ()
    """(dimension, value, really down, members) of the groups the staff text may count."""
    recent: tuple[tuple[str, str, int], ...] = ()
    """(dimension, value, how many) of each group's really-down devices a count of quiet
    devices may leave out (not owed, `simlab.fuzz.counts`: too young to have been seen, late
    but not yet quiet, or quiet for a reason of its own)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with a message: its class and what exactly."""

    kind: str
    detail: str


def stated_times(text: str, phrase: str) -> list[float | None]:
    """The moments stated after `phrase` in `text` (None where no moment follows it)."""
    found: list[float | None] = []
    for match in re.finditer(re.escape(phrase), text, flags=re.IGNORECASE):
        rest = text[match.end() :].lstrip()
        moment = re.match(_TIME, rest)
        found.append(None if moment is None else _parse(moment))
    return found


def _parse(match: re.Match[str]) -> float:
    day, month, year, hour, minute, zone = match.groups()
    name = zone.removesuffix(" time")
    tz = ZoneInfo("UTC" if name == "UTC" else name)
    local = datetime(
        int(year), MONTHS.index(month) + 1, int(day), int(hour), int(minute), tzinfo=tz
    )
    return local.timestamp()


def _minute(t: float) -> float:
    return t - t % 60


def check(
    facts: Facts, body: str, steps: tuple[str, ...] = (), staff: str = ""
) -> tuple[list[Finding], list[Finding]]:
    """The fact errors and the missing facts of one message.

    `body` and `steps` are the customer's message; `staff` is the text beside it (summary,
    next step, check summaries).
    """
    errors = _stop_errors(facts, body)
    low = body.lower()
    if any(a in low for a in BATTERY_ADVICE) and not facts.battery_reported:
        errors.append(Finding("message: battery advice without battery", facts.device_id))
    if any(w in low for w in SIM_WORKS) and not facts.sim_works:
        errors.append(Finding("message: SIM works unseen", facts.device_id))
    if facts.attached is False and any(w in low for w in CONNECTED):
        errors.append(Finding("message: connected but detached", facts.device_id))
    if facts.swap_done and any(w in low for w in SWAP_ASK):
        errors.append(Finding("message: repeated swap test", facts.device_id))
    if facts.swap_done and any(w in staff.lower() for w in SWAP_ASK[2:]):
        errors.append(Finding("staff: repeated swap test", facts.device_id))
    errors += _count_errors(facts, staff)
    return errors, _missing(facts, body, steps)


def _stop_errors(facts: Facts, body: str) -> list[Finding]:
    errors = []
    if facts.last_report is None:
        if any(w in body.lower() for w in STOP_WORDS):
            errors.append(Finding("message: stopped but never reported", facts.device_id))
        return errors
    for phrase in STOP_CLAIMS:
        for t in stated_times(body, phrase):
            if t is not None and t != _minute(facts.last_report):
                late = (t - facts.last_report) / 60
                errors.append(Finding("message: stop time", f"{facts.device_id} {late:+.0f} min"))
    return errors


def _count_errors(facts: Facts, staff: str) -> list[Finding]:
    real = {(d, v): (down, members) for d, v, down, members in facts.counts}
    young = {(d, v): n for d, v, n in facts.recent}
    errors = []
    for quiet, members, dimension, value in _COUNT.findall(staff):
        truth = real.get((dimension, value))
        if truth is None:
            continue
        down, group = truth
        seen = down - young.get((dimension, value), 0)
        if not (seen <= int(quiet) <= down and int(members) == group):
            said = f"{quiet} of {members}, really {truth[0]} of {truth[1]}"
            errors.append(Finding("staff: count", f"{facts.device_id} {dimension} {value}: {said}"))
    return errors


def _missing(facts: Facts, body: str, steps: tuple[str, ...]) -> list[Finding]:
    if facts.down_cause is None:
        return []
    missing = []
    if facts.device_id not in body and (facts.name is None or facts.name not in body):
        missing.append(Finding("missing: the device", facts.device_id))
    silent = facts.last_report is not None and facts.at - facts.last_report > 2 * facts.interval_s
    stated = [t for p in STOP_CLAIMS for t in stated_times(body, p) if t is not None]
    if silent and not stated:
        missing.append(Finding("missing: when it stopped", facts.device_id))
    if facts.down_cause in CUSTOMER_ACTS and facts.evident and not steps:
        missing.append(Finding("missing: what to do", f"{facts.device_id} {facts.down_cause}"))
    if facts.resumes is not None:
        times = [_parse(m) for m in re.finditer(_TIME, body)]
        if _minute(facts.resumes) not in times:
            missing.append(Finding("missing: when service resumes", facts.device_id))
    return missing
