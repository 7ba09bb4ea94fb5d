"""Random draws keyed by device and event, the same one at a time and a million at a time.

A device's draws on its way online and while it reports (where it stands, when it
first wakes, each report's noise and jitter, whether the radio loses a message) are
not taken from a generator in turn: each is a hash of the device and the event
(SplitMix64: the device's key, from the world's seed, its group and its number,
salted by the kind of draw, stepped by the draw's counter, e.g. the report's number).
So a device does the same thing whichever engine runs it (one SimPy process, or
`bulk`'s numpy columns) and in whichever shard, whatever order devices are visited in.

Every function here has a scalar form (Python ints and floats, for one device) and a
vector form (numpy arrays, for a cohort) that give the same bits: only integer
arithmetic modulo 2**64, multiplication by powers of two and a table lookup with one
multiply-add (`report`), which IEEE 754 computes the same in both. The normal draw is
the inverse of the normal CDF tabulated at 4,096 points and interpolated linearly:
within 0.001 standard deviations of it in the body, and bounded at ±3.67 (a tail that
rare does not matter to a report's noise in dB).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from enum import IntEnum
from statistics import NormalDist
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "Draw",
    "device_key",
    "device_keys",
    "group_key",
    "report",
    "reports",
    "uniform",
    "uniforms",
]

_MASK: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_M1: Final = 0xBF58476D1CE4E5B9
_M2: Final = 0x94D049BB133111EB
_UNIT: Final = 2.0**-53
_HALF_UNIT: Final = 2.0**-32
_LOW: Final = (1 << 32) - 1
_TABLE_BITS: Final = 12
_TABLE_SIZE: Final = 1 << _TABLE_BITS

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]


class Draw(IntEnum):
    """The kinds of keyed draw: each has its own stream, indexed by its counter."""

    PLACE_RADIUS = 1
    """Where in its group's spread a device stands: how far out (counter 0)."""
    PLACE_ANGLE = 2
    """... and in which direction (counter 0)."""
    FIRST_WAKE = 3
    """When a device first wakes after power-on, by its boot (counter: the boot)."""
    REPORT = 4
    """A report's signal noise and the jitter on the wait after it, one 32-bit half each
    (counter: the report's sequence number; see `halves`)."""
    LOSS = 5
    """Whether the radio or the broker loses a device's message (counter: its message)."""


@functools.cache
def group_key(seed: int, group: str) -> int:
    """A group's key: a hash of the world's seed and the group's name (stable across runs)."""
    digest = hashlib.blake2b(f"{seed}/{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mixes(z: U64) -> U64:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def device_key(group: int, n: int) -> int:
    """The key of device `n` (its number in its group, from 1) of the group keyed `group`."""
    return _mix((group + n * _GOLDEN) & _MASK)


def device_keys(group: int, n: npt.NDArray[np.int64]) -> U64:
    """`device_key` for many devices of one group at once."""
    with np.errstate(over="ignore"):
        return _mixes(np.uint64(group) + n.astype(np.uint64) * np.uint64(_GOLDEN))


def _salt(draw: Draw) -> int:
    return _mix(int(draw) * _GOLDEN & _MASK)


_SALTS: Final = {draw: _salt(draw) for draw in Draw}


def _bits(device: int, draw: Draw, counter: int) -> int:
    """SplitMix64's output for step `counter` of the stream of `device` salted by `draw`."""
    return _mix(((device ^ _SALTS[draw]) + counter * _GOLDEN) & _MASK)


def _bits_many(device: U64, draw: Draw, counter: npt.NDArray[np.int64] | int) -> U64:
    c = np.asarray(counter).astype(np.uint64)
    return _mixes((device ^ np.uint64(_SALTS[draw])) + c * np.uint64(_GOLDEN))


def uniform(device: int, draw: Draw, counter: int = 0) -> float:
    """A uniform draw in [0, 1) for one device's event."""
    return (_bits(device, draw, counter) >> 11) * _UNIT


def uniforms(device: U64, draw: Draw, counter: npt.NDArray[np.int64] | int = 0) -> F64:
    """`uniform` for many devices (or events) at once: the same bits, element by element."""
    with np.errstate(over="ignore"):
        bits = _bits_many(device, draw, counter)
    return (bits >> np.uint64(11)).astype(np.float64) * _UNIT


def report(device: int, seq: int) -> tuple[float, float]:
    """Report `seq`'s draws: a standard normal (its noise) and a uniform in [0, 1) (its jitter).

    One hash gives both, 32 bits each: the high half picks the normal quantile, the low
    half is the uniform.
    """
    bits = _bits(device, Draw.REPORT, seq)
    step = (bits >> 32) + _HALF_STEP
    i = step >> _STEP_BITS
    w = (step & _STEP_MASK) * _STEP_UNIT
    return _KNOTS[i] + w * _SLOPES[i], (bits & _LOW) * _HALF_UNIT


def reports(device: U64, seq: npt.NDArray[np.int64] | int) -> tuple[F64, F64]:
    """`report` for many devices (or reports) at once: the same bits, element by element."""
    with np.errstate(over="ignore"):
        bits = _bits_many(device, Draw.REPORT, seq)
    step = (bits >> np.uint64(32)) + np.uint64(_HALF_STEP)
    i = (step >> np.uint64(_STEP_BITS)).astype(np.intp)
    w = (step & np.uint64(_STEP_MASK)).astype(np.float64) * _STEP_UNIT
    noise = _KNOT_ARRAY.take(i) + w * _SLOPE_ARRAY.take(i)
    return noise, (bits & np.uint64(_LOW)).astype(np.float64) * _HALF_UNIT


def jitters(device: U64, seq: npt.NDArray[np.int64] | int) -> F64:
    """The jitter of `reports` alone: a shard draws it for devices whose reports it leaves."""
    with np.errstate(over="ignore"):
        bits = _bits_many(device, Draw.REPORT, seq)
    return (bits & np.uint64(_LOW)).astype(np.float64) * _HALF_UNIT


_STEP_BITS: Final = 32 - _TABLE_BITS
_STEP_MASK: Final = (1 << _STEP_BITS) - 1
_STEP_UNIT: Final = 2.0**-_STEP_BITS
_HALF_STEP: Final = 1 << (_STEP_BITS - 1)
_QUANTILES: Final = [NormalDist().inv_cdf((i + 0.5) / _TABLE_SIZE) for i in range(_TABLE_SIZE)]
_KNOTS: Final = [_QUANTILES[0], *_QUANTILES, _QUANTILES[-1]]
"""The quantiles at the table's points, with a flat knot at either end (the bounds)."""
_SLOPES: Final = [high - low for low, high in itertools.pairwise(_KNOTS)] + [0.0]
_KNOT_ARRAY: Final = np.array(_KNOTS, dtype=np.float64)
_SLOPE_ARRAY: Final = np.array(_SLOPES, dtype=np.float64)
