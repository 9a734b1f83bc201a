"""The adapters layer of the compliance service."""
