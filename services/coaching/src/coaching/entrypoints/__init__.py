"""The entrypoints layer of the coaching service."""
