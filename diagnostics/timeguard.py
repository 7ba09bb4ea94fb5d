"""Time one message cannot poison: which stamps the service believes, and how far.

The service clock is what every judgement reads ("is this device late?"), so
it moves only by an accepted source: watermarks on the run's clock topic in
stream mode, the wall clock in wall mode. One forged watermark in the year
3000 would otherwise mark the whole fleet OFFLINE for good, and one telemetry
stamped in the future would keep its device ONLINE until that day. Bounds,
each a setting (`TimeBounds`), each refusal a dead letter with its own code:

    clock_jump   a watermark more than `clock_jump_s` past the previous accepted one.
                 Only the jump is bounded: a silent or sleeping fleet still moves the
                 clock, watermark by watermark. The first watermark a service meets on
                 an empty store is taken as it is: there is nothing to hold it against
                 (the wall clock is no measure of a simulated run, stamped in any year).
    ahead        a message stamped more than `ahead_s` past the service clock.
    behind       a message stamped more than `behind_s` before it (retained messages
                 and SIM records are state, not events: their stamp may be old).

A message ahead of the clock by less than `ahead_s` but more than `skew_s` is
taken, and stored as it came, but the detector and the device's facts read it
as stamped `skew_s` past the clock (`TimeGuard.skewed` counts them): one
device's clock glitch can then hold its verdict for `skew_s` at most, not for
as long as its clock is wrong. In a simulated stream a message is ahead of the
watermark by one watermark interval (a minute) at most, far inside `skew_s`.

Before the first watermark (and in wall mode before the first tick) there is
no clock to hold a stamp against; only the protocol's own range applies
(1970 to the year 9999, `protocol.messages`). On a restart the clock is
recomputed from the stored watermarks through the same bounds
(`TimeGuard.replayed_clock`), so a clock the bounds would refuse is never
taken up again, whatever an older service wrote.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from protocol.messages import SimRecord
from protocol.wire import WireError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from pydantic import BaseModel

__all__ = ["ArrivalClock", "TimeBounds", "TimeGuard"]

DAY_S: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class TimeBounds:
    """How far a stamp may be from the service clock (seconds; see the module)."""

    clock_jump_s: float = DAY_S
    ahead_s: float = DAY_S
    behind_s: float = 30 * DAY_S
    skew_s: float = 3_600.0

    def __post_init__(self) -> None:
        for name in ("clock_jump_s", "ahead_s", "behind_s", "skew_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if self.skew_s > self.ahead_s:
            raise ValueError(f"skew_s ({self.skew_s:g}) must not exceed ahead_s ({self.ahead_s:g})")


@dataclass(frozen=True, slots=True)
class ArrivalClock:
    """The service clock each stored message arrived at, rebuilt from the stored watermarks."""

    ids: list[int]
    """The watermarks' message ids, ascending."""
    clocks: list[float]
    """The clock after each of them."""

    @property
    def last(self) -> float | None:
        """The clock after the last stored watermark (None: there is none)."""
        return self.clocks[-1] if self.clocks else None

    def at(self, message_id: int) -> float | None:
        """The clock when the message stored as `message_id` arrived."""
        before = bisect_left(self.ids, message_id)
        return self.clocks[before - 1] if before else None


class TimeGuard:
    """Holds each stamp against the service clock (the service calls it under its lock)."""

    def __init__(self, bounds: TimeBounds | None = None) -> None:
        self.bounds = bounds or TimeBounds()
        self.skewed = 0
        """Messages read as stamped `skew_s` past the clock (see the module)."""

    def watermark(self, topic: str, t: float, clock: float | None) -> WireError | None:
        """Why the watermark `t` cannot move `clock`, or None when it may."""
        jump = self.bounds.clock_jump_s
        if clock is None or t <= clock + jump:
            return None
        return WireError(
            topic,
            "t",
            f"watermark {_iso(t)} is {t - clock:.0f} s past the service clock ({_iso(clock)}); "
            f"a watermark may move the clock {jump:g} s at most",
            "clock_jump",
        )

    def stamp(
        self, topic: str, message: BaseModel, clock: float | None, *, retained: bool
    ) -> tuple[WireError | None, BaseModel]:
        """The error refusing `message` (or None), and the message as the service reads it."""
        t: float = message.t  # type: ignore[attr-defined]
        bounds = self.bounds
        if clock is not None:
            if t > clock + bounds.ahead_s:
                return self._refused(topic, t, clock, "ahead", bounds.ahead_s), message
            state = retained or isinstance(message, SimRecord)
            if not state and t < clock - bounds.behind_s:
                return self._refused(topic, t, clock, "behind", bounds.behind_s), message
            if t > clock + bounds.skew_s:
                self.skewed += 1
                message = message.model_copy(update={"t": clock + bounds.skew_s})
        return None, message

    def replayed(self, message: BaseModel, clock: float | None) -> BaseModel | None:
        """A stored message as a restart reads it, against the clock it arrived at.

        None if it is stamped too far ahead of it (an older service took it), else read as
        `stamp` read it; old stamps stay, since they were believed when they came.
        """
        t: float = message.t  # type: ignore[attr-defined]
        if clock is None or t <= clock + self.bounds.skew_s:
            return message
        if t > clock + self.bounds.ahead_s:
            return None
        self.skewed += 1
        return message.model_copy(update={"t": clock + self.bounds.skew_s})

    def taken_up(
        self,
        stored: float | None,
        watermarks: Callable[[], Iterable[tuple[int, float]]],
        *,
        wall: bool,
    ) -> ArrivalClock:
        """The clock a restart takes up, from the `stored` one and the stored `watermarks`.

        In stream mode, what the watermarks justify (`replayed_clock`); in wall mode the
        stored tick, never past the wall clock, as the clock every stored message is read at.
        """
        if not wall:
            return self.replayed_clock(watermarks())
        if stored is None:
            return ArrivalClock([], [])
        return ArrivalClock([0], [min(stored, time.time())])

    def replayed_clock(self, watermarks: Iterable[tuple[int, float]]) -> ArrivalClock:
        """The clock the stored watermarks (id, t, in arrival order) justify, message by message."""
        ids: list[int] = []
        clocks: list[float] = []
        clock: float | None = None
        jump = self.bounds.clock_jump_s
        for message_id, t in watermarks:
            if clock is None or clock < t <= clock + jump:
                clock = t
            ids.append(message_id)
            clocks.append(clock)
        return ArrivalClock(ids, clocks)

    @staticmethod
    def _refused(topic: str, t: float, clock: float, code: str, bound: float) -> WireError:
        side = "past" if code == "ahead" else "before"
        return WireError(
            topic,
            "t",
            f"stamped {_iso(t)}, {abs(t - clock):.0f} s {side} the service clock "
            f"({_iso(clock)}); at most {bound:g} s {side} it is believed",
            code,
        )


def _iso(t: float) -> str:
    """`t` as an ISO 8601 UTC time (the protocol keeps stamps within a calendar's range)."""
    try:
        return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{t:g}"
