"""Unseen worlds: a seeded generator of plausible worlds, run through the service and scored.

The generator (`draw`: one function per dimension in `draw.DIMENSIONS`, the
timeline's faults, swaps and support actions in `timeline`, the data it draws
from in `places`) writes worlds in the scenario format (`draft`), so a failing
world is a scenario file `simlab run` runs as it is. `runner` runs a world
through a real service (directly, or end to end through Mosquitto), `answers`
writes its answer key from its ground truth, `score` holds what the service
said against the truth (causes, alarms, incidents, swap tests), `words` checks
every message and staff summary, `scorecard` sums many worlds, and `campaign`
runs many in worker processes. Imports point one way: places <- draft <-
timeline <- draw; stream, words <- score <- scorecard; runner <- campaign.
"""
