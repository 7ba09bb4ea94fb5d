"""The diagnostics service: it listens to devices and the platform over MQTT and explains.

It imports `protocol` only, never `simulator`, so it works unchanged on a real
fleet and a real connectivity platform.
"""
