"""Scenario files and sample customer definitions shipped with simlab (data only)."""
