"""The command layer: one module per command group, the `simlab` app assembled in `app`.

`customers` (onboard), `stream` (protocol schema, simulate, replay, serve),
`run`, `train`, `report`, `scenarios` and `reference` (faults, files) each
hold one group's commands and how they show their results; `exits` is how a
command ends on bad input. `simlab = "simlab.commands:main"` is the console script.
"""

from simlab.commands.app import app, main

__all__ = ["app", "main"]
