"""Scenarios: the file format, the checks across a whole scenario, and reading a file.

`model` holds the pydantic models of the format (import its parts from there);
`devices` and `possible` say which devices a world holds and what can happen to
each; `checks` finds the problems across a scenario's parts (and, after a run,
between ground truth and the answer key); `loading` reads a file, sizes it and
resolves its bundled customer and world files (`yaml_fields` names the field of
a YAML syntax error); `schema` gives editors the JSON Schema. Imports point one
way: model <- devices <- possible <- checks <- loading.
"""

from simlab.scenario.checks import format_span, scenario_problems, start_slack, truth_problems
from simlab.scenario.devices import DeviceIds
from simlab.scenario.loading import device_count, load_scenario, scenario_files, until_of, world_of
from simlab.scenario.model import ScenarioSpec, SilenceAction, SwapOutcome, SwapTestAction
from simlab.scenario.possible import possible_causes
from simlab.scenario.schema import scenario_schema

__all__ = [
    "DeviceIds",
    "ScenarioSpec",
    "SilenceAction",
    "SwapOutcome",
    "SwapTestAction",
    "device_count",
    "format_span",
    "load_scenario",
    "possible_causes",
    "scenario_files",
    "scenario_problems",
    "scenario_schema",
    "start_slack",
    "truth_problems",
    "until_of",
    "world_of",
]
