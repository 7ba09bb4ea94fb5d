"""The wire contract shared by the simulator and the diagnostics service.

It holds the vocabulary both sides speak: identifiers (ICCID, IMSI, IMEI,
MSISDN), SIM lifecycle states, and (as the project grows) topic names, payload
models and cause ids. It imports nothing but the standard library and pydantic,
so a consumer of real devices can use it without the simulator.
"""
