"""A starting scenario file for `simlab scenarios new`: commented, and valid as written.

Without a model to copy, the file is a small world of its own: one customer
(a bundled sample, found by its relative path), one network, a dozen devices
and one fault, with the answer key that fault implies. With one, the copy keeps
the model's text and says where it came from; its relative customer and world
paths still find the bundled files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["copied_from", "starting_file"]

_STARTING: str = """\
# A scenario: a customer's story, the world that plays it out, and the answer key.
# Check it with `simlab scenarios validate {file}`, run it with `simlab run {file}`.
# `simlab scenarios schema` prints the JSON Schema (for editors); `simlab faults`
# lists the faults a world can inject and the cause each one should be diagnosed as.

title: {title}
summary: One sentence on what goes wrong, for `simlab scenarios list`.
# The story is what the customer writes to support; a trainee reads only this.
story: |
  From: a customer
  Subject: one of our devices went quiet

  One of our trackers stopped reporting this morning. The others are fine.
users: [support, trainer]   # who the scenario is for: support, trainer, developer
tags: [example]             # trainers' keywords, shown only with --answers

world:
  start: 2026-03-02T00:00:00Z   # the simulated clock's start (UTC)
  seed: 1                       # the same seed plays out the same world
  # The customer's definition: a path beside this file first, else a bundled one
  # (`simlab files` lists those).
  customer: customers/savanna-trackers.yaml
  operators:
    - {{mcc_mnc: "63902", name: Safaricom, country: KE}}
  cells:
    - {{id: 1101, operator: "63902", lat: -1.45, lon: 35.10, radius_km: 15, radio_types: [LTE-M]}}
  devices:
    - name: collar               # device ids are NAME-0001, NAME-0002, ...
      count: 12
      name_format: "Collar {{n}}"
      first_iccid: "8946200010000000003"   # inside one of the customer's SIM ranges
      first_imei: "356938035643809"
      model: savanna-collar-2
      firmware: 2.4.1
      apn: tracker.savanna                # the APN the customer's plan allows
      site: Maasai Mara
      time_zone: Africa/Nairobi
      lat: -1.50
      lon: 35.18
      spread_km: 10
      battery_mah: 6000
      report_interval: 15m
      report_jitter: 1m
      keepalive: 20m
  faults:
    # What goes wrong, when (from the start) and to whom.
    - {{fault: battery_depleted, at: 6h, devices: [collar-0003]}}

run:
  duration: 18h   # simulated time; `speed: max` (the default) runs it as fast as it can

# What the diagnostics should find: every affected device, its cause and when it began.
answer_key:
  devices:
    - device: collar-0003
      cause: battery_depleted
      start: 6h
      note: The battery drains from 6 h on and the collar goes quiet a few hours later.
"""


def starting_file(name: str) -> str:
    """The text of a new scenario file called `name` (written as NAME.yaml)."""
    title = name.replace("-", " ").replace("_", " ").strip().capitalize() or name
    return _STARTING.format(file=f"{name}.yaml", title=title)


def copied_from(model: Path, name: str) -> str:
    """The text of `model` as a new scenario `name`, with a first line saying where it came from."""
    return (
        f"# {name}.yaml: started from {model.name}. Check it with "
        f"`simlab scenarios validate {name}.yaml`.\n" + model.read_text(encoding="utf-8")
    )
