"""What every model of a customer file shares: no unknown keys, frozen, names of one shape."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Loc", "Model", "Name"]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
"""The name of an account, plan, tunnel or rule: letters, digits, `_`, `.` and `-`."""
Loc = tuple[str | int, ...]
"""The path of a field in the file, e.g. ("sim_ranges", 2, "first_iccid")."""


class Model(BaseModel):
    """The base of every model of the customer file."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
