"""What an incident's staff line counts: its quiet devices, of all the attribute puts in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    from diagnostics.incidents_model import Scope
    from diagnostics.incidents_select import Encoded

__all__ = ["Tally", "group_sizes", "named_quiet"]


@dataclass(frozen=True, slots=True)
class Tally:
    """What a group's staff line counts: its quiet devices, of all the attribute puts in it."""

    sizes: Mapping[tuple[str, str], int]
    named: Mapping[tuple[str, str], set[str]]
    """The quiet devices whose evidence names the group (counted in it or not)."""

    def of(self, scope: Scope, held: set[str]) -> tuple[int, int]:
        """(quiet, devices) of the group: those it holds, and for an outage those naming it.

        A device kept out of the test for retrying too fast on the group's reject is quiet
        with it too.
        """
        key = (scope[1], scope[2])
        quiet = held | self.named.get(key, set()) if scope[0] == "outage" else held
        return len(quiet), self.sizes.get(key, 0)


def named_quiet(
    encoded: Encoded,
    quiet: NDArray[np.bool_],
    names: Sequence[tuple[str, ...]],
    devices: Sequence[str],
) -> dict[tuple[str, str], set[str]]:
    """(dimension, value) -> the quiet devices in that group whose evidence names it."""
    out: dict[tuple[str, str], set[str]] = {}
    for i in np.flatnonzero(quiet).tolist():
        for dimension in names[i]:
            if dimension in encoded and (code := int(encoded[dimension][1][i])) >= 0:
                value = encoded[dimension][0][code]
                out.setdefault((dimension, value), set()).add(devices[i])
    return out


def group_sizes(encoded: Encoded) -> dict[tuple[str, str], int]:
    """(dimension, value) -> how many devices the attribute puts in that group."""
    return {
        (dimension, value): n
        for dimension, (names, codes) in encoded.items()
        for value, n in zip(
            names, np.bincount(codes[codes >= 0], minlength=len(names)).tolist(), strict=True
        )
    }
