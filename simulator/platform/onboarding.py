"""Reading a customer definition file: structure, then the whole file's consistency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.platform.customer import CustomerFile, cross_check
from simulator.yamlfile import load_model, parse_model

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["load_customer", "parse_customer"]


def load_customer(path: str | Path) -> CustomerFile:
    """Validate a customer file as a whole; SpecError lists every problem by file, line, field."""
    return load_model(path, CustomerFile, checks=cross_check)


def parse_customer(text: str, *, filename: str = "<string>") -> CustomerFile:
    """As `load_customer`, from text."""
    return parse_model(text, CustomerFile, filename=filename, checks=cross_check)
