"""simlab: a SIM lifecycle simulator and device diagnostics service for cellular IoT operations.

This package is the command line and the orchestration around the simulator
(`simulator`) and the diagnostics service (`diagnostics`).
"""

__version__ = "0.1.0"
