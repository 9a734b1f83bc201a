"""The entrypoints layer of the compliance service."""
