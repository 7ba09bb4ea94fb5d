"""The JSON Schema of scenario files, as people write them, for editors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic.json_schema import GenerateJsonSchema

from protocol.sim_state import SimState
from simlab.scenario.model import ScenarioSpec, as_text, state_by_name
from simulator.platform.units import parse_bytes
from simulator.world.spec import parse_duration

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import core_schema

__all__ = ["scenario_schema"]

_DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhd]?\s*$"},
        {"type": "string", "pattern": r"^(\s*\d+(\.\d+)?\s*[dhms])+\s*$"},
    ],
    "description": "seconds, or with units: 90s, 15m, 36h, 2d, 2h10m, 1d2h, 45m30s",
}
_BYTES_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[A-Za-z]*\s*$"},
    ],
    "description": "bytes, or with a unit: 30 KB, 5 MB, 1 GiB",
}


class _FileSchema(GenerateJsonSchema):
    """The schema of the file as people write it: durations, data sizes and states as text."""

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        function = schema["function"]["function"]
        if function is parse_duration:
            return dict(_DURATION_SCHEMA)
        if function is parse_bytes:
            return dict(_BYTES_SCHEMA)
        if function is state_by_name:
            return {"type": "string", "enum": [v.name for v in SimState]}
        if function is as_text:
            return {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}]}
        return super().function_before_schema(schema)

    def encode_default(self, dft: Any) -> Any:  # noqa: ANN401 - any default a field may have
        if isinstance(dft, SimState):
            return dft.name
        return super().encode_default(dft)

    def literal_schema(self, schema: core_schema.LiteralSchema) -> JsonSchemaValue:
        expected = schema["expected"]
        if expected and all(isinstance(v, SimState) for v in expected):
            return {"type": "string", "enum": [v.name for v in expected]}
        return super().literal_schema(schema)

    def enum_schema(self, schema: core_schema.EnumSchema) -> JsonSchemaValue:
        if schema["cls"] is SimState:
            return {"type": "string", "enum": [s.name for s in SimState], "title": "SimState"}
        return super().enum_schema(schema)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (draft 2020-12), for editors."""
    schema = ScenarioSpec.model_json_schema(schema_generator=_FileSchema)
    defs = schema["$defs"]
    path = {"type": "string", "description": "a file path, relative to this file"}
    schema["properties"]["world"] = {
        "anyOf": [{"$ref": "#/$defs/WorldSpec"}, path],
        "description": ScenarioSpec.model_fields["world"].description,
    }
    customer = defs["WorldSpec"]["properties"]["customer"]
    defs["WorldSpec"]["properties"]["customer"] = {"anyOf": [customer, path]}
    group = defs["DeviceGroupSpec"]
    group["required"] = [f for f in group["required"] if f != "count"]
    group["properties"]["count"]["description"] = "required, except for the group run.size names"
    _drop_constraints(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "simlab scenario",
    }


def _drop_constraints(node: object) -> None:
    """Remove pydantic's own constraint names (gt, ge) left beside a replaced duration schema."""
    if isinstance(node, dict):
        if "anyOf" in node:
            for name in ("gt", "ge", "lt", "le"):
                node.pop(name, None)
        for value in node.values():
            _drop_constraints(value)
    elif isinstance(node, list):
        for value in node:
            _drop_constraints(value)
