"""Which groups of quiet devices are incidents, and which of those explain the others.

The `Grouper` (`diagnostics.incidents`) hands this module the fleet encoded per dimension;
it finds the candidates and keeps the narrowest that explain the quiet devices.

Two kinds of candidate:

* an **outage** (`statistical_candidates`): of a group's n devices k are quiet, far more
  than its normal quiet rate p0 allows (k >= `min_devices`, k / n >= `min_share`, binomial
  tail < `p_value`); `min_named` devices suffice in a network group where the network's own
  word (a reject from its core or gateway) names it for each of them. Devices whose quiet
  has an explanation of their own (`diagnostics.incidents_reasons`) are left out of k and n
  of the groups that explanation rules out, so a deactivated SIM is no evidence of a cell
  outage. A group is no candidate when most of its quiet devices' evidence names other
  dimensions and not its own (devices whose sessions the APN rejects are no firmware group,
  whichever firmware they share), or when `OWN_SHARE` of them are explained by their own
  newest reports (devices that leave coverage together, their signal falling, are no cell
  outage, nor are those of them whose last reports caught no fall). An open outage whose
  quiet devices come to point elsewhere so closes (`points_elsewhere`).
  A firmware group must also be quieter than the devices of other versions in the
  same cells (`diagnostics.incidents_places`): a cell down beside one site's firmware
  is the cell's.
* a **platform** group (`platform_candidates`): a platform attribute (a shared data pool,
  an account) struck as a whole: nearly all its devices (`whole_share`) have the same
  platform- or plan-side cause (a state, a data block, a plan's refusal), and at least
  `platform_min_devices` of them are quiet. The platform said so for each device, so no
  statistics are needed; a few SIMs of an account with one cause are each their own
  trouble, not the account's. Such a group is never a network outage.
  Of groups with the same cause, the narrowest comes first (fewest devices, then the
  order of the attributes: a pool before its account) and takes the devices it holds.

Choosing among outage candidates (`select`), in this order:

1. **The tie rule** (the one place it is said): of candidates that hold the same quiet
   devices (each holds `cover` of the other's), the one the devices' evidence names wins
   (`NAMED_BY`: ESM #30 names the tunnel, then the APN; a congestion reject names the
   cell, then the operator; an update the devices have not reported since names the
   firmware). A dimension a device names first scores 2 for it, any later one 1; the highest
   score wins if it reaches the number of quiet devices (most of them name it). Where
   the evidence does not name an APN, tunnel or account so, a radio dimension
   (`RADIO_DIMENSIONS`) holding the same devices wins over it: those fail with words of
   their own (`SPOKEN_DIMENSIONS`), so silence points at the radio (an operator outage
   of a fleet on one APN and one account is the operator's). Otherwise (e.g. no evidence
   at all: a silent cell beside its firmware) the tie falls to rule 2.
2. Narrowest scope: by group size, then by dimension (`DIMENSIONS`, cell first). A broader
   candidate `cover` of whose quiet devices are those of ONE narrower candidate is dropped
   (the cell explains its operator's quiet devices), and a narrower candidate inside a
   kept broader one is absorbed by it (an operator outage over two cells). A broader
   candidate two or more narrower ones of one dimension span (they hold `cover` of its
   devices: every cell of an operator that serves the fleet is down), none of them the
   echo of a narrower one still (a firmware's devices spread over the cells), is their
   common trouble and is kept, in rule 1 as here, however many of its quiet devices one
   holds; unless one candidate of a dimension before theirs holds its quiet devices (the
   operator's one cell, off air, holds both of its APNs: the cell is their trouble).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeAlias

import numpy as np

from diagnostics.incidents_places import PLACED_DIMENSIONS, beyond_places
from diagnostics.incidents_reasons import (
    CLASS_OF,
    FIRMWARE_NAMED,
    NETWORK_DIMENSIONS,
    RADIO_LOST,
    Explains,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    from numpy.typing import NDArray

    from protocol.causes import Cause

__all__ = [
    "DIMENSIONS",
    "Candidate",
    "Encoded",
    "absorbed",
    "binomial_tail",
    "encode",
    "group_points_elsewhere",
    "platform_candidates",
    "points_elsewhere",
    "select",
    "statistical_candidates",
]

DIMENSIONS: Final = ("cell", "apn", "tunnel", "firmware", "account", "operator")
"""The dimensions devices are grouped by, narrowest first (the order scopes are preferred in)."""

_RANK: Final = {d: i for i, d in enumerate(DIMENSIONS)}

RADIO_DIMENSIONS: Final = frozenset({"cell", "operator"})
"""Where an outage takes devices off the air without a word to them: their quiet is silent."""
OWN_SHARE: Final = 0.25
"""Share of a group's quiet devices explained by their own newest reports that makes it no
outage: a signal does not fall 20 dB by chance, so a quarter of them falling says the group
left coverage, the rest unseen."""
WEAK_WEIGHT: Final = 0.5
"""What a device whose newest report only weakened (`OwnReadings.weakening`: 10 dB, which a
still device's signal does not swing) counts toward `OWN_SHARE`: half a fall. A convoy leaving
a cell it alone was on weakens together; a cell going off air leaves its devices' last reports
as they were."""
SPOKEN_DIMENSIONS: Final = frozenset({"apn", "tunnel", "account"})
"""Where a failure puts its own words on the wire: a gateway or tunnel leaves its devices on
the air and rejects their sessions, an account's SIMs are changed by the platform, which
says so (`platform_candidates`)."""
CORE_DIMENSIONS: Final = frozenset({"apn", "tunnel"})
"""The packet core's groups: an APN's gateway or a tunnel that fails closes the sessions on
it and refuses new ones, so one is a candidate only where the network's word names it for
some of its quiet devices (devices silent on a good signal that left together, all of an
APN's, are no outage of it)."""

Encoded = dict[str, tuple[list[str], "NDArray[np.int64]"]]
Returned: TypeAlias = "Callable[[str, str, Collection[int]], int]"
"""How many devices came back elsewhere from a group, in its quiet rows' passage."""
"""Per dimension: its values, and each device's value as an index into them (-1: none)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A group that may be an incident: its scope, its quiet devices (rows) and its evidence."""

    dimension: str
    value: str
    rows: frozenset[int]
    devices: int
    normal_rate: float
    p_value: float
    kind: str = "outage"
    """`outage` (statistical) or `platform` (a cause the platform named for each device)."""
    cause: str | None = None
    """A platform group's shared cause."""
    named: int = 0
    """How clearly its devices' evidence names its dimension (the tie rule's score)."""

    @property
    def scope(self) -> tuple[str, str, str, str | None]:
        """What identifies the incident it becomes: kind, dimension, value, cause."""
        return (self.kind, self.dimension, self.value, self.cause)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (exact to float precision)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    total = 0.0
    mode = (n + 1) * p
    for i in range(k, n + 1):
        term = math.exp(
            log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        )
        total += term
        if i > mode and term <= total * 1e-17:
            break
    return min(total, 1.0)


def encode(values: Sequence[str | None]) -> tuple[list[str], NDArray[np.int64]] | None:
    """One attribute column as its distinct values and each device's index (None: no values)."""
    distinct = dict.fromkeys(values)  # in order of first appearance
    distinct.pop(None, None)
    if not distinct:
        return None
    table: dict[str | None, int] = {v: i for i, v in enumerate(distinct)}
    table[None] = -1
    codes = np.fromiter(map(table.__getitem__, values), dtype=np.int64, count=len(values))
    return [v for v in distinct if v is not None], codes


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The settings a candidate must pass (a view of `IncidentSettings`)."""

    min_devices: int
    min_named: int
    """Fewer devices suffice in a network group each of whose quiet devices the network's own
    word names it for (a reject from its core, its gateway): that many are no chance."""
    min_share: float
    p_value: float

    def passes(self, k: int, n: int, p: float, *, named: bool = False) -> bool:
        """Whether k quiet of n, with the tail p, are an outage (`named`: each named for it)."""
        least = self.min_named if named else self.min_devices
        return k >= least and k >= self.min_share * n and p < self.p_value


def statistical_candidates(
    encoded: Encoded,
    quiet: NDArray[np.bool_],
    counted: dict[str, NDArray[np.bool_]],
    evidence: tuple[Sequence[tuple[str, ...]], Sequence[float]],
    *,
    normal_rate: Callable[[str, str], float],
    limits: Thresholds,
    late: NDArray[np.bool_] | None = None,
    returned: Returned | None = None,
) -> list[Candidate]:
    """Groups with far more quiet devices than normal; `counted[d]`: devices that count in d.

    `evidence`: per device, the dimensions its evidence names, and whether its own newest
    reports explain its quiet (`Explains.READINGS`); `late`: devices late, quiet or not;
    `returned`: how many came back elsewhere from a radio group (`incidents_readings.came_back`).
    """
    names = evidence[0]
    found: list[Candidate] = []
    for dimension, (values, codes) in encoded.items():
        known = (codes >= 0) & counted[dimension]
        n = np.bincount(codes[known], minlength=len(values))
        k = np.bincount(codes[known & quiet], minlength=len(values))
        least = min(limits.min_named, limits.min_devices)
        for code in np.flatnonzero((k >= least) & (k >= limits.min_share * n)):
            value = values[int(code)]
            p0 = normal_rate(dimension, value)
            p = binomial_tail(int(k[code]), int(n[code]), p0)
            if p < limits.p_value:
                rows = frozenset(np.flatnonzero((codes == code) & known & quiet).tolist())
                going = _going(late, (codes == code) & known & ~quiet)
                back = _back(returned, dimension, value, rows)
                if points_elsewhere(rows, evidence, dimension, going, back):
                    continue
                if dimension in CORE_DIMENSIONS and not any(dimension in names[r] for r in rows):
                    continue  # the packet core says so when it fails: a silent group is not it
                named = _all_named(rows, names, dimension)
                if len(rows) < limits.min_devices and not named:
                    continue
                if dimension in PLACED_DIMENSIONS and "cell" in encoded:
                    group, cells = known & (codes == code), encoded["cell"][1]
                    rows = beyond_places(rows, group, counted["cell"], cells, quiet, limits.p_value)
                    p = binomial_tail(len(rows), int(n[code]), p0)
                    if not limits.passes(len(rows), int(n[code]), p, named=named):
                        continue  # no quieter than other versions in the same cells
                score = sum(_score(names[r], dimension) for r in rows)
                found.append(Candidate(dimension, value, rows, int(n[code]), p0, p, named=score))
    return found


def own_weight(cause: Cause | None, weakening: bool) -> float:
    """What a device's own newest reports count toward `OWN_SHARE` (see `WEAK_WEIGHT`)."""
    if cause is not None and CLASS_OF.get(cause) is Explains.READINGS:
        return 1.0
    return WEAK_WEIGHT if weakening else 0.0


def points_elsewhere(
    rows: Collection[int],
    evidence: tuple[Sequence[tuple[str, ...]], Sequence[float]],
    dimension: str,
    going: Collection[int] = (),
    back: int = 0,
) -> bool:
    """The quiet devices' own evidence points away from this dimension (they are no outage).

    It does when most of them name other dimensions and not this one, or when `OWN_SHARE`
    of them are explained by their own newest reports; of them and of the group's devices
    `going` quiet (late, not quiet yet): a convoy leaving its cell goes quiet one by one,
    those that left first on a good signal, those leaving after them on a falling one; and
    `back` more that came back elsewhere since, each explained (a convoy through a gap).
    Never where the network's refusals name this network dimension for most of them (a
    gateway's beside a convoy gone before: `timing.joined` keeps the convoy out); an update
    not reported since is no such word (a device may be updated after it fell silent).
    """
    names, own = evidence
    if dimension in NETWORK_DIMENSIONS and 2 * sum(dimension in names[r] for r in rows) > len(rows):
        return False  # the network's refusals name it for most of them
    radio = dimension in RADIO_DIMENSIONS  # a device the network lost agrees with its radio
    elsewhere = sum(
        1
        for r in rows
        if names[r] and dimension not in names[r] and not (radio and RADIO_LOST in names[r])
    )
    silent = [*rows, *going]
    explained = sum(own[r] for r in silent) + back
    return 2 * elsewhere > len(rows) or explained >= OWN_SHARE * (len(silent) + back)


def _going(late: NDArray[np.bool_] | None, group: NDArray[np.bool_]) -> list[int]:
    """The rows of `group` that are late (none where lateness is not known)."""
    return [] if late is None else np.flatnonzero(group & late).tolist()


def platform_candidates(
    platform: Encoded,
    quiet: NDArray[np.bool_],
    causes: Sequence[Cause | None],
    *,
    limits: Thresholds,
) -> list[Candidate]:
    """Devices of one platform attribute quiet with one platform-side cause it holds as a whole.

    `causes`: per device, its own explanation; only platform-side ones (`Explains.PLATFORM`)
    count. `limits.min_share` of the attribute's devices must have it,
    quiet yet or not (the platform says it of each SIM at once: a pool used up blocks
    them all), and at least `limits.min_devices` of them be quiet.
    """
    shared = [c if c is not None and CLASS_OF.get(c) is Explains.PLATFORM else None for c in causes]
    cause_values, cause_codes = encode(shared) or ([], np.full(len(causes), -1, np.int64))
    rank = {key: i for i, key in enumerate(platform)}
    found: list[Candidate] = []
    for key, (values, codes) in platform.items():
        n = np.bincount(codes[codes >= 0], minlength=len(values))
        for c, cause in enumerate(cause_values):
            sharing = (codes >= 0) & (cause_codes == c)
            w = np.bincount(codes[sharing], minlength=len(values))
            hit = sharing & quiet
            k = np.bincount(codes[hit], minlength=len(values))
            for code in np.flatnonzero((k >= limits.min_devices) & (w >= limits.min_share * n)):
                rows = frozenset(np.flatnonzero(hit & (codes == code)).tolist())
                value = values[int(code)]
                found.append(Candidate(key, value, rows, int(n[code]), 0.0, 0.0, "platform", cause))
    return sorted(found, key=lambda c: (c.devices, rank[c.dimension], c.value))


def _all_named(rows: Collection[int], names: Sequence[tuple[str, ...]], dimension: str) -> bool:
    """Whether the network's own word names this dimension for every quiet device.

    A network dimension by a reject naming it, a firmware by the device-management server's
    update to it that the device has not reported since (`FIRMWARE_NAMED`).
    """
    spoken = dimension in NETWORK_DIMENSIONS or (dimension,) == FIRMWARE_NAMED
    return spoken and all(dimension in names[r] for r in rows)


def _score(named: tuple[str, ...], dimension: str) -> int:
    if not named or dimension not in named:
        return 0
    return 2 if named[0] == dimension else 1


def select(candidates: list[Candidate], *, cover: float) -> list[Candidate]:
    """The outage candidates that explain the quiet devices, each device in one of them."""

    def width(c: Candidate) -> tuple[int, int, str]:
        return (c.devices, _RANK[c.dimension], c.value)

    def holds(a: Candidate, b: Candidate) -> bool:
        return len(a.rows & b.rows) >= cover * len(b.rows)

    def echo(n: Candidate) -> bool:  # one narrower candidate holds its quiet devices
        return any(width(m) < width(n) and holds(m, n) for m in candidates)

    def placed(c: Candidate, d: str) -> bool:  # one group of a dimension before d holds it
        return any(_RANK[m.dimension] < _RANK[d] and holds(m, c) for m in candidates)

    def spanned(c: Candidate) -> bool:  # every narrower group of one dimension inside it is down
        return any(
            len(inside) >= 2 and sum(n.devices for n in inside) >= cover * c.devices
            for inside in (
                [
                    n
                    for n in candidates
                    if n.dimension == d and width(n) < width(c) and holds(c, n) and not echo(n)
                ]
                for d in DIMENSIONS[: _RANK[c.dimension]]
                if not placed(c, d)
            )
        )

    # 1. the tie rule: of candidates holding the same devices, the one the evidence names;
    # where it names none, the radio, whose outage is silent, over a dimension that speaks.
    def named_over(o: Candidate, c: Candidate) -> bool:
        if not (holds(o, c) and holds(c, o)) or spanned(c):
            return False
        if o.named > c.named and o.named >= len(o.rows):
            return True
        silent = c.named < len(c.rows)
        return silent and o.dimension in RADIO_DIMENSIONS and c.dimension in SPOKEN_DIMENSIONS

    named = [c for c in candidates if not any(named_over(o, c) for o in candidates)]
    ordered = sorted(named, key=width)
    # 2. a broad candidate one narrower candidate explains is that one's echo ...
    broad_kept = [
        c
        for c in ordered
        if spanned(c) or not any(width(n) < width(c) and holds(n, c) for n in ordered)
    ]
    # ... and a narrow candidate inside a kept broader one is part of it.
    return [
        c for c in broad_kept if not any(width(b) > width(c) and holds(b, c) for b in broad_kept)
    ]


def group_points_elsewhere(
    encoded: Encoded,
    scope: tuple[str, str],
    quiet: NDArray[np.bool_],
    counted: Mapping[str, NDArray[np.bool_]],
    evidence: tuple[Sequence[tuple[str, ...]], Sequence[float]],
    late: NDArray[np.bool_] | None = None,
    returned: Returned | None = None,
) -> bool:
    """Whether the quiet devices that count in one group point elsewhere (`points_elsewhere`).

    An open outage whose group's quiet devices come to point elsewhere closes.
    """
    dimension, value = scope
    if dimension not in encoded or value not in encoded[dimension][0]:
        return False
    values, codes = encoded[dimension]
    group = (codes == values.index(value)) & counted[dimension]
    rows = np.flatnonzero(group & quiet).tolist()
    going = _going(late, group & ~quiet)
    back = _back(returned, dimension, value, rows)
    return bool(rows) and points_elsewhere(rows, evidence, dimension, going, back)


def _back(returned: Returned | None, dimension: str, value: str, rows: Collection[int]) -> int:
    """How many came back elsewhere from this radio group in its rows' passage (else 0)."""
    if returned is None or dimension not in RADIO_DIMENSIONS:
        return 0
    return returned(dimension, value, rows)


def absorbed(
    width: tuple[int, str], rows: set[int], kept: list[Candidate], *, cover: float
) -> bool:
    """Whether a wider network outage kept now holds `cover` of an open outage's quiet rows.

    `width`: the open outage's group size and dimension. It was significant first (its
    devices report more often, say); once the wider outage of the network is, they are
    its devices, as `select` says of candidates. Only the network's (`NETWORK_DIMENSIONS`):
    a trouble of the network explains the quiet of any firmware or account on it, while
    a firmware group that outgrows an APN's is no wider trouble of that APN's devices.
    """
    size, dimension = width
    return bool(rows) and any(
        c.kind == "outage"
        and c.dimension in NETWORK_DIMENSIONS
        and (c.devices, _RANK[c.dimension]) > (size, _RANK[dimension])
        and len(rows & c.rows) >= cover * len(rows)
        for c in kept
    )
