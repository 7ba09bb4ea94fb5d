"""The simulated world: a connectivity platform, SIMs, devices and networks.

The model does no I/O. It is driven by SimPy and writes what happens to a
sink; the platform side keeps bulk SIM state in numpy columns so a customer
with a million SIMs fits comfortably in memory.
"""
