"""Carrying the world's output to an MQTT broker: the only part of the simulator that does I/O."""
