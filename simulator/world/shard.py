"""Shards: one world split by device among several runs, each sending only its own devices.

Every shard builds the same world and runs all of it, the whole fault timeline,
every device's schedule and every SIM's data on the platform, so what couples
devices (a pooled plan's shared allowance, a congested cell, a rule over an
account) comes out the same in each; it only sends the messages of its own
devices and of their SIMs. A device belongs to shard `key % count`, its key the
one its draws are keyed by (`keyed.device_key`: the seed, its group, its
number), so the split is the same in every run and in either engine, and the
shards together send exactly the unsharded stream of each device and SIM. The
clock's watermarks go out from every shard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Shard"]

_FORM: Final = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0-based): the devices whose key is `index` modulo `count`."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: need 0 ≤ k < n, n ≥ 1")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Read `k/n` (shard k of n, 0-based), as `--shard` takes it."""
        match = _FORM.match(text)
        if match is None:
            raise ValueError(f"shard {text!r}: expected k/n, e.g. 0/2")
        return cls(int(match[1]), int(match[2]))

    def owns(self, key: int) -> bool:
        """Whether the device with this key is this shard's."""
        return key % self.count == self.index

    def owned(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
        """Which of the devices with these keys are this shard's."""
        mine: npt.NDArray[np.bool_] = keys % np.uint64(self.count) == np.uint64(self.index)
        return mine
