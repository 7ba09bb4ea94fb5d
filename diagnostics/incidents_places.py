"""Whether a group's quiet is its own or that of the places its devices are in.

A fleet's devices of one firmware often sit together (one site's meters, one batch),
so a cell going down silences mostly devices of one version, and the firmware's group
looks as significant as the cell's. A firmware's trouble is the firmware's only when
its devices are quiet beyond the devices of other versions in the same cells: the
test conditions on the place (`beyond_places`), the exact stratified test of a 2x2
table per cell (the sum of one hypergeometric draw per cell, as Mantel and Haenszel
compare). Where no cell holds a device of another version, the place tells nothing
apart and the group's own test stands. Devices in trouble by their own evidence (a
reboot loop, a wrong APN) are the group's whatever their place.

Pure: numbers in, a probability out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["PLACED_DIMENSIONS", "beyond_places", "stratified_tail"]

PLACED_DIMENSIONS: Final = frozenset({"firmware"})
"""Dimensions whose devices share places by chance of deployment: tested against the place."""


def _hypergeometric(population: int, successes: int, draws: int) -> NDArray[np.float64]:
    """P(X = x) for x = 0 .. draws, X the successes among `draws` of `population`."""
    pmf = np.zeros(draws + 1)
    log_all = math.lgamma(population + 1) - math.lgamma(draws + 1)
    log_all -= math.lgamma(population - draws + 1)
    failures = population - successes
    for x in range(max(0, draws - failures), min(draws, successes) + 1):
        pmf[x] = math.exp(
            math.lgamma(successes + 1)
            - math.lgamma(x + 1)
            - math.lgamma(successes - x + 1)
            + math.lgamma(failures + 1)
            - math.lgamma(draws - x + 1)
            - math.lgamma(failures - draws + x + 1)
            - log_all
        )
    return pmf


def stratified_tail(strata: list[tuple[int, int, int]], observed: int) -> float | None:
    """P(sum of the group's quiet >= `observed`) given each place's quiet, or None.

    Each stratum is (the group's devices, other devices, quiet devices of both) of one
    place. None where no stratum has another device: the place cannot tell them apart.
    """
    if not any(others for _, others, _ in strata):
        return None
    total = np.ones(1)
    for own, others, quiet in strata:
        total = np.convolve(total, _hypergeometric(own + others, own, quiet))
    return float(min(total[observed:].sum(), 1.0))


def beyond_places(
    rows: frozenset[int],
    group: NDArray[np.bool_],
    placeable: NDArray[np.bool_],
    places: NDArray[np.int64],
    quiet: NDArray[np.bool_],
    p_value: float,
) -> frozenset[int]:
    """The group's quiet `rows` that stand beyond the places its devices are in.

    `group` marks the devices counted in the group, `placeable` those a trouble of their
    place could silence (no explanation of their own), `places` each device's place (-1:
    unknown, a place of its own). The placeable quiet devices of the group stand when they
    are quieter than the placeable devices of other values in the same places (the
    stratified tail below `p_value`, or no such other device at all); the rest always do.
    """
    own, others = group & placeable, ~group & placeable
    strata = []
    for place in np.unique(places[own]).tolist():
        here = places == place
        mine, rest = own & here, others & here
        strata.append((int(mine.sum()), int(rest.sum()), int(((mine | rest) & quiet).sum())))
    tail = stratified_tail(strata, int((own & quiet).sum()))
    if tail is None or tail < p_value:
        return rows
    return frozenset(r for r in rows if not placeable[r])
