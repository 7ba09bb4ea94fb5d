"""Identifiers as pydantic field types that travel as their text form.

Each type validates from its text (separators allowed in MSISDNs), serialises
back to that text, and documents itself in JSON schema with a pattern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic_core import core_schema

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

__all__ = ["LuhnNumber", "TextIdentifier"]


class TextIdentifier:
    """Mixin making an identifier a pydantic field type that travels as its text form."""

    __slots__ = ()
    _KIND: ClassVar[str]
    _PATTERN: ClassVar[str]
    _DESCRIPTION: ClassVar[str]

    @classmethod
    def _from_text(cls, text: str) -> TextIdentifier:
        raise NotImplementedError

    @classmethod
    def _validate(cls, value: object) -> TextIdentifier:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls._from_text(value)
        kind, got = cls._KIND, type(value).__name__
        raise ValueError(f"invalid {kind}: expected a string or {cls.__name__}, got {got}")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: type[Any], _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": cls._PATTERN, "description": cls._DESCRIPTION}


class LuhnNumber(TextIdentifier):
    """An identifier held as its digits, `value`, the last of them a Luhn check digit."""

    __slots__ = ()
    value: str

    @property
    def body(self) -> str:
        """The digits before the check digit."""
        return self.value[:-1]

    @property
    def check_digit(self) -> int:
        """The Luhn check digit (the last digit)."""
        return int(self.value[-1])

    def __str__(self) -> str:
        return self.value
