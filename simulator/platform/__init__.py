"""The connectivity platform's side of the world: accounts, plans, SIMs, lifecycle, audit."""
