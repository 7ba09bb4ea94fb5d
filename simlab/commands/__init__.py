"""The command layer: one module per command group, the `simlab` app assembled in `app`.

`customers` (onboard), `stream` (protocol schema, simulate, replay, serve),
`run`, `train`, `report`, `scenarios`, `reference` (faults, files) and
`broker` (broker-config) each hold one group's commands and how they show
their results; `exits` is how a command ends on bad input. Each command
imports what it runs inside itself, so `simlab --help` loads none of it.
`simlab = "simlab.commands:main"` is the console script.
"""

from simlab.commands.app import app, main

__all__ = ["app", "main"]
