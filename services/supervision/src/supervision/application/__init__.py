"""Use cases of the supervision service: load, decide, append."""
