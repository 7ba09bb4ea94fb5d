"""A world's devices by id, found from the groups' id formats without listing them.

A world may hold a million devices, so an id is matched against each group's
`id_format` instead of against a list. The class was called `Fleet`; it holds no
devices and no state, only the world's id formats, so it is `DeviceIds` now.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.world.spec import DeviceGroupSpec, WorldSpec

__all__ = ["DeviceIds"]


class DeviceIds:
    """A world's devices by id, found without listing them (a world may hold a million)."""

    def __init__(self, world: WorldSpec) -> None:
        self.world = world
        self._groups = [(group, _id_pattern(group)) for group in world.devices]

    def find(self, device_id: str) -> tuple[DeviceGroupSpec, int] | None:
        """The device's group and its number in the group, or None when there is no such device."""
        for group, pattern in self._groups:
            match = pattern.fullmatch(device_id)
            if match is None:
                continue
            n = int(match.group(1)) if match.groups() else 1
            if 1 <= n <= group.count and _device_id(group, n) == device_id:
                return group, n
        return None

    def describe(self) -> str:
        """The ids there are, group by group: `collar-0001…collar-0040`."""
        spans = []
        for group in self.world.devices:
            first, last = _device_id(group, 1), _device_id(group, group.count)
            spans.append(first if group.count == 1 else f"{first}…{last}")
        return ", ".join(spans)


def _device_id(group: DeviceGroupSpec, n: int) -> str:
    return group.id_format.format(group=group.name, n=n)


def _id_pattern(group: DeviceGroupSpec) -> re.Pattern[str]:
    """A pattern for the group's ids, capturing the number `{n}` fills in."""
    parts: list[str] = []
    numbered = False
    for literal, field, spec, _ in string.Formatter().parse(group.id_format):
        parts.append(re.escape(literal))
        if field == "group":
            parts.append(re.escape(format(group.name, spec or "")))
        elif field == "n":
            parts.append(r"\d+" if numbered else r"\s*(\d+)")
            numbered = True
        elif field is not None:
            return re.compile(r"(?!)")  # world_problems reports the format itself
    return re.compile("".join(parts))
