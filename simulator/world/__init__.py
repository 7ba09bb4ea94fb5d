"""The simulated world: networks, devices, faults and SIM swaps, run by SimPy."""
